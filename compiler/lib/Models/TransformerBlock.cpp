//===- TransformerBlock.cpp - the pre-LN block GPT and ViT share ----------===//
//
// Emits attention and MLP with the op sequence the chunk search sees in real
// GPT-2 and ViT graphs: a fused qkv projection sliced three ways, per-head
// matmuls, and the softmax on the last axis.
//
//===----------------------------------------------------------------------===//

#include "TransformerBlock.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include <cmath>

using namespace mlir;
using namespace autochunk::graph;

namespace autochunk::models {

Value emitSelfAttention(ModelEmitter &emitter, const Twine &scope, Value x,
                        int64_t heads, bool causal) {
  OpBuilder &builder = emitter.getBuilder();
  int64_t hidden = shapeOf(x).back();
  int64_t headDim = hidden / heads;

  Value qkv = emitter.linear(scope + ".qkv", x, 3 * hidden, /*withBias=*/true);
  Value q = emitter.splitHeads(
      scope + ".q", emitter.sliceLast(scope + ".q", qkv, 0, hidden), heads);
  Value k = emitter.splitHeads(
      scope + ".k", emitter.sliceLast(scope + ".k", qkv, hidden, hidden),
      heads);
  Value v = emitter.splitHeads(
      scope + ".v", emitter.sliceLast(scope + ".v", qkv, 2 * hidden, hidden),
      heads);

  Value scores = MatmulOp::create(builder, emitter.loc(scope + ".scores"), q, k,
                                  /*transpose_a=*/false, /*transpose_b=*/true);
  scores = emitter.scale(scope + ".scores", scores,
                         1.0 / std::sqrt(static_cast<double>(headDim)));
  if (causal)
    scores = CausalMaskOp::create(builder, emitter.loc(scope + ".causal_mask"),
                                  scores, /*row_offset=*/Value(),
                                  /*col_offset=*/Value());
  Value probabilities =
      SoftmaxOp::create(builder, emitter.loc(scope + ".softmax"), scores,
                        shapeOf(scores).size() - 1);
  Value context = MatmulOp::create(builder, emitter.loc(scope + ".context"),
                                   probabilities, v);
  Value merged = emitter.mergeHeads(scope + ".context", context);
  return emitter.linear(scope + ".proj", merged, hidden, /*withBias=*/true);
}

Value emitPreLnTransformerBlock(ModelEmitter &emitter, const Twine &scope,
                                Value x, const TransformerBlockConfig &config) {
  std::string prefix = scope.str();
  int64_t hidden = shapeOf(x).back();

  Value normed = emitter.layerNorm(prefix + "." + config.norm1, x,
                                   config.layerNormEpsilon);
  Value attention = emitSelfAttention(emitter, prefix + ".attn", normed,
                                      config.heads, config.causal);
  x = emitter.add(prefix + ".attn.residual", x, attention);

  normed = emitter.layerNorm(prefix + "." + config.norm2, x,
                             config.layerNormEpsilon);
  Value expanded = emitter.linear(prefix + "." + config.mlpIn, normed,
                                  4 * hidden, /*withBias=*/true);
  Value activated =
      GeluOp::create(emitter.getBuilder(), emitter.loc(prefix + ".mlp.gelu"),
                     expanded, config.geluApproximation);
  Value projected = emitter.linear(prefix + "." + config.mlpOut, activated,
                                   hidden, /*withBias=*/true);
  return emitter.add(prefix + ".mlp.residual", x, projected);
}

} // namespace autochunk::models
