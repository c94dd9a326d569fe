//===- ModelBuilders.h - graph-dialect builders for reference models -*- C++
//-*-===//
//
// Builds the inference graphs AutoChunk is measured on (a GPT-2 style decoder
// stack, a ViT-B/16 style image classifier and an AlphaFold2 Evoformer stack)
// as one `func.func` in the graph dialect, from a few size options.
//
// Every builder emits a module holding one function whose arguments are the
// model inputs followed by EVERY weight. Each argument carries `graph.name` (a
// stable dotted name such as "blocks.0.attn.qkv.weight") and `graph.role`
// ("input" or "weight"); each result carries `graph.name`. Linear weights use
// PyTorch's `nn.Linear` layout `[out, in]`. Ops carry a NameLoc naming the
// model part they belong to (e.g. "blocks.0.attn.softmax"), so diagnostics and
// chunk plans can say where they are.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_MODELS_MODELBUILDERS_H
#define AUTOCHUNK_MODELS_MODELBUILDERS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
class MLIRContext;
class Type;
} // namespace mlir

namespace autochunk::models {

/// The one element type every tensor of a built model has.
enum class DType { F32, F16, BF16 };

/// Parses "f32", "f16" or "bf16".
std::optional<DType> parseDType(llvm::StringRef text);
/// The spelling parseDType accepts.
llvm::StringRef toString(DType dtype);
/// The MLIR element type of `dtype`.
mlir::Type getElementType(mlir::MLIRContext &context, DType dtype);

/// A GPT-2 style decoder stack: input `x [batch, seq, hidden]`, `layers`
/// pre-LN blocks (x + attn(ln_1(x)), then x + mlp(ln_2(x))) and a final layer
/// norm `ln_f`. There is no token/position embedding and no LM head: the graph
/// maps hidden states to hidden states, which is where activation memory
/// peaks. Attention uses one fused `qkv` linear (q, k, v in that order along
/// its output), the MLP a 4x expansion with tanh-approximated GELU, and layer
/// norms use eps 1e-5. Weight names: "blocks.{i}.ln_1", "blocks.{i}.attn.qkv",
/// "blocks.{i}.attn.proj", "blocks.{i}.ln_2", "blocks.{i}.mlp.fc",
/// "blocks.{i}.mlp.proj", "ln_f" (each with ".weight" and ".bias"); note
/// that Hugging Face's GPT-2 stores its Conv1D weights as [in, out], so a
/// loader transposes them. The function is `@gpt`; its result is
/// "hidden_states". Defaults are GPT-2 small.
struct GptOptions {
  int64_t batch = 1;
  int64_t seq = 1024;
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t layers = 12;
  /// Masks attention logits above the diagonal (a decoder) when true.
  bool causal = false;
  DType dtype = DType::F32;
};

/// A ViT image classifier in the style of ViT-B/16 ("An Image is Worth 16x16
/// Words"): input `image [batch, 3, image, image]`; patch embedding written as
/// reshape/transpose/reshape into `[batch, N, 3*patch*patch]` patches (each in
/// (channel, row, column) order, so `patch_embed.proj.weight [hidden,
/// 3*patch*patch]` is the stride-`patch` convolution's weight flattened) and a
/// linear with bias; a prepended `cls_token [1, 1, hidden]`; `pos_embed [1,
/// N+1, hidden]`; `layers` pre-LN encoder blocks (non-causal attention, 4x MLP
/// with exact GELU, LN eps 1e-6); a final LN "norm"; and a "head" linear on the
/// class token. Names follow timm ("blocks.{i}.norm1", "blocks.{i}.attn.qkv",
/// "blocks.{i}.attn.proj", "blocks.{i}.norm2", "blocks.{i}.mlp.fc1",
/// "blocks.{i}.mlp.fc2", "norm", "head"). The function is `@vit`; its result is
/// "logits" `[batch, classes]`. Defaults are ViT-B/16 at 384x384 (577 tokens).
struct VitOptions {
  int64_t batch = 1;
  int64_t image = 384;
  int64_t patch = 16;
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t layers = 12;
  int64_t classes = 1000;
  DType dtype = DType::F32;
};

/// A stack of AlphaFold2 Evoformer blocks in inference mode, following
/// Algorithm 6 of the AF2 supplement and its sub-algorithms 7-15 in order:
///   m += MSARowAttentionWithPairBias(m, z); m += MSAColumnAttention(m);
///   m += MSATransition(m); z += OuterProductMean(m);
///   z += TriangleMultiplicationOutgoing(z);
///   z += TriangleMultiplicationIncoming(z);
///   z += TriangleAttentionStartingNode(z);
///   z += TriangleAttentionEndingNode(z); z += PairTransition(z).
/// Inputs are `msa [n_seq, n_res, c_m]` and `pair [n_res, n_res, c_z]`, with no
/// batch dimension and no masks: every position is valid (masks would only
/// add a bias of 0). Dropout is the identity in inference. The ending-node
/// triangle attention is the starting-node one on the transposed pair, with
/// its own weights. Names follow OpenFold ("blocks.{i}.msa_att_row.linear_q",
/// "blocks.{i}.tri_mul_out.linear_a_p", ...) without OpenFold's "mha."
/// level. The function is `@evoformer`; its results are "msa_out" and
/// "pair_out". Layer norms use eps 1e-5; attention scales q by 1/sqrt(head
/// dim).
struct EvoformerOptions {
  int64_t nSeq = 128;
  int64_t nRes = 256;
  int64_t cM = 256;
  int64_t cZ = 128;
  int64_t blocks = 1;
  /// MSA row and column attention: heads x head dim.
  int64_t msaHeads = 8;
  int64_t msaHeadDim = 32;
  /// Triangle attention: heads x head dim.
  int64_t pairHeads = 4;
  int64_t pairHeadDim = 32;
  /// Outer product mean projection width.
  int64_t outerProductHidden = 32;
  /// Triangle multiplication projection width.
  int64_t triangleMulHidden = 128;
  /// MSA and pair transition expansion factor.
  int64_t transitionFactor = 4;
  DType dtype = DType::F32;
};

/// Checks the options; on failure returns a readable reason (naming the
/// offending option as the command-line flag, e.g. "--heads"), on success
/// std::nullopt.
std::optional<std::string> validate(const GptOptions &options);
std::optional<std::string> validate(const VitOptions &options);
std::optional<std::string> validate(const EvoformerOptions &options);

/// Builds the model into a new module. On bad options, or if the built module
/// fails to verify (a builder bug), returns failure and sets `error`; the
/// returned module has passed mlir::verify. Loads the graph and func dialects
/// into `context`.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildGpt(mlir::MLIRContext &context, const GptOptions &options,
         std::string &error);
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildVit(mlir::MLIRContext &context, const VitOptions &options,
         std::string &error);
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildEvoformer(mlir::MLIRContext &context, const EvoformerOptions &options,
               std::string &error);

} // namespace autochunk::models

#endif // AUTOCHUNK_MODELS_MODELBUILDERS_H
