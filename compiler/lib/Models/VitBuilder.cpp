//===- VitBuilder.cpp - a ViT-B/16 style classifier in the graph dialect --===//
//
// image -> patch embedding (as reshape/transpose/linear) -> [cls] + position
// embedding -> L pre-LN encoder blocks -> norm -> head on the class token.
//
//===----------------------------------------------------------------------===//

#include "ModelEmitter.h"
#include "TransformerBlock.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace autochunk::graph;

namespace autochunk::models {

std::optional<std::string> validate(const VitOptions &options) {
  if (auto error = checkPositiveSizes({{"--batch", options.batch},
                                       {"--image", options.image},
                                       {"--patch", options.patch},
                                       {"--hidden", options.hidden},
                                       {"--heads", options.heads},
                                       {"--layers", options.layers},
                                       {"--classes", options.classes}}))
    return error;
  if (options.image % options.patch != 0)
    return ("--image (" + Twine(options.image) +
            ") must be divisible by --patch (" + Twine(options.patch) + ")")
        .str();
  if (options.hidden % options.heads != 0)
    return ("--hidden (" + Twine(options.hidden) +
            ") must be divisible by --heads (" + Twine(options.heads) + ")")
        .str();
  int64_t b = options.batch, d = options.hidden, p = options.patch;
  // The image itself first: its size bounds every patch count below.
  if (auto error = checkTensorSizes({{b, 3, options.image, options.image}}))
    return error;
  int64_t grid = options.image / p;
  int64_t tokens = grid * grid + 1;
  return checkTensorSizes({{b, options.heads, tokens, tokens},
                           {b, tokens, 4 * d},
                           {4 * d, d},
                           {d, 3 * p * p},
                           {options.classes, d}});
}

FailureOr<OwningOpRef<ModuleOp>>
buildVit(MLIRContext &context, const VitOptions &options, std::string &error) {
  if (std::optional<std::string> invalid = validate(options)) {
    error = *invalid;
    return failure();
  }
  ModelEmitter emitter(context, "vit", options.dtype);
  OpBuilder &builder = emitter.getBuilder();
  int64_t b = options.batch, d = options.hidden, p = options.patch;
  int64_t grid = options.image / p;
  int64_t patches = grid * grid;

  Value image = emitter.addInput("image", {b, 3, options.image, options.image});
  // The stride-p convolution as a matmul: cut [b, c, gy*p, gx*p] into
  // [b, gy, gx, c, py, px] so each patch flattens in the conv weight's
  // (channel, row, column) order.
  Value x =
      emitter.reshape("patch_embed.patchify", image, {b, 3, grid, p, grid, p});
  x = emitter.transpose("patch_embed.patchify", x, {0, 2, 4, 1, 3, 5});
  x = emitter.reshape("patch_embed.patchify", x, {b, patches, 3 * p * p});
  x = emitter.linear("patch_embed.proj", x, d, /*withBias=*/true);

  Value cls = emitter.addWeight("cls_token", {1, 1, d});
  if (b > 1)
    cls = BroadcastOp::create(builder, emitter.loc("cls_token"),
                              emitter.tensorType({b, 1, d}), cls);
  x = ConcatOp::create(builder, emitter.loc("cls_token"), ValueRange{cls, x},
                       /*axis=*/1);
  Value position = emitter.addWeight("pos_embed", {1, patches + 1, d});
  x = emitter.add("pos_embed", x, position);

  TransformerBlockConfig config;
  config.heads = options.heads;
  config.causal = false;
  config.layerNormEpsilon = 1e-6;
  config.geluApproximation = "none";
  config.norm1 = "norm1";
  config.norm2 = "norm2";
  config.mlpIn = "mlp.fc1";
  config.mlpOut = "mlp.fc2";
  for (int64_t layer = 0; layer < options.layers; ++layer)
    x = emitPreLnTransformerBlock(emitter, "blocks." + Twine(layer), x, config);
  x = emitter.layerNorm("norm", x, 1e-6);

  Value clsToken =
      SliceOp::create(builder, emitter.loc("head.cls"), x,
                      ArrayRef<int64_t>{0, 0, 0}, ArrayRef<int64_t>{b, 1, d},
                      /*strides=*/nullptr);
  clsToken = emitter.reshape("head.cls", clsToken, {b, d});
  Value logits =
      emitter.linear("head", clsToken, options.classes, /*withBias=*/true);
  return emitter.finish({{logits, "logits"}}, error);
}

} // namespace autochunk::models
