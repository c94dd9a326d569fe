//===- TransformerBlock.h - the pre-LN block GPT and ViT share --*- C++ -*-===//
//
// GPT-2 and ViT use the same pre-LN encoder/decoder block and differ only in
// weight names, GELU flavour, layer-norm epsilon and causal masking.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_LIB_MODELS_TRANSFORMERBLOCK_H
#define AUTOCHUNK_LIB_MODELS_TRANSFORMERBLOCK_H

#include "ModelEmitter.h"

namespace autochunk::models {

/// How one pre-LN transformer block is spelled in a model family.
struct TransformerBlockConfig {
  int64_t heads = 1;
  bool causal = false;
  double layerNormEpsilon = 1e-5;
  /// "tanh" (GPT-2) or "none" (ViT).
  llvm::StringRef geluApproximation = "none";
  /// Weight scopes below the block's scope.
  llvm::StringRef norm1 = "ln_1";
  llvm::StringRef norm2 = "ln_2";
  llvm::StringRef mlpIn = "mlp.fc";
  llvm::StringRef mlpOut = "mlp.proj";
};

/// Multi-head self-attention of `x [batch, tokens, hidden]` with one fused
/// "<scope>.qkv" linear and a "<scope>.proj" output linear; logits are scaled
/// by 1/sqrt(head dim) after Q K^T.
mlir::Value emitSelfAttention(ModelEmitter &emitter, const llvm::Twine &scope,
                              mlir::Value x, int64_t heads, bool causal);

/// x + attn(norm1(x)), then x + mlp(norm2(x)) with a 4x GELU MLP.
mlir::Value emitPreLnTransformerBlock(ModelEmitter &emitter,
                                      const llvm::Twine &scope, mlir::Value x,
                                      const TransformerBlockConfig &config);

} // namespace autochunk::models

#endif // AUTOCHUNK_LIB_MODELS_TRANSFORMERBLOCK_H
