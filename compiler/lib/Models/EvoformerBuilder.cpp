//===- EvoformerBuilder.cpp - AlphaFold2 Evoformer blocks in the graph dialect
//-===//
//
// One function per sub-algorithm of the AF2 supplement (Algorithms 7-15), in
// the order Algorithm 6 applies them, with OpenFold's weight names.
//
//===----------------------------------------------------------------------===//

#include "ModelEmitter.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "llvm/ADT/Twine.h"

#include <cmath>

using namespace mlir;
using namespace autochunk::graph;

namespace autochunk::models {

namespace {
constexpr double kLayerNormEpsilon = 1e-5;

/// Emits Evoformer blocks with the sizes of one EvoformerOptions.
class EvoformerEmitter {
public:
  EvoformerEmitter(ModelEmitter &emitter, const EvoformerOptions &options)
      : emitter(emitter), options(options) {}

  /// Algorithm 6, one block: updates (m, z) in place.
  void emitBlock(const std::string &scope, Value &msa, Value &pair);

private:
  Value layerNorm(const Twine &scope, Value x) {
    return emitter.layerNorm(scope, x, kLayerNormEpsilon);
  }

  /// The gated multi-head attention core of Algorithms 7, 8 and 13 over the
  /// second-to-last axis of `x [batch, tokens, channels]`; `bias`, when
  /// given, is `[heads, tokens, tokens]` and is added to the logits.
  Value emitGatedAttention(const std::string &scope, Value x, int64_t heads,
                           int64_t headDim, Value bias);
  Value emitMsaRowAttentionWithPairBias(const std::string &scope, Value msa,
                                        Value pair);
  Value emitMsaColumnAttention(const std::string &scope, Value msa);
  /// Algorithms 9 and 15.
  Value emitTransition(const std::string &scope, Value x);
  Value emitOuterProductMean(const std::string &scope, Value msa);
  /// Algorithms 11 (outgoing) and 12 (incoming).
  Value emitTriangleMultiplication(const std::string &scope, Value pair,
                                   bool outgoing);
  Value emitTriangleAttentionStartingNode(const std::string &scope, Value pair);
  Value emitTriangleAttentionEndingNode(const std::string &scope, Value pair);

  ModelEmitter &emitter;
  const EvoformerOptions &options;
};
} // namespace

Value EvoformerEmitter::emitGatedAttention(const std::string &scope, Value x,
                                           int64_t heads, int64_t headDim,
                                           Value bias) {
  OpBuilder &builder = emitter.getBuilder();
  int64_t channels = shapeOf(x).back();
  int64_t width = heads * headDim;

  Value q = emitter.linear(scope + ".linear_q", x, width, /*withBias=*/false);
  q = emitter.splitHeads(scope + ".q", q, heads);
  q = emitter.scale(scope + ".q", q,
                    1.0 / std::sqrt(static_cast<double>(headDim)));
  Value k = emitter.splitHeads(
      scope + ".k",
      emitter.linear(scope + ".linear_k", x, width, /*withBias=*/false), heads);
  Value v = emitter.splitHeads(
      scope + ".v",
      emitter.linear(scope + ".linear_v", x, width, /*withBias=*/false), heads);

  Value logits = MatmulOp::create(builder, emitter.loc(scope + ".logits"), q, k,
                                  /*transpose_a=*/false,
                                  /*transpose_b=*/true);
  if (bias)
    logits = emitter.add(scope + ".logits", logits, bias);
  Value weights = SoftmaxOp::create(builder, emitter.loc(scope + ".softmax"),
                                    logits, shapeOf(logits).size() - 1);
  Value context =
      MatmulOp::create(builder, emitter.loc(scope + ".context"), weights, v);
  context = emitter.mergeHeads(scope + ".context", context);

  Value gate = emitter.sigmoid(
      scope + ".gate",
      emitter.linear(scope + ".linear_g", x, width, /*withBias=*/true));
  context = emitter.mul(scope + ".gate", context, gate);
  return emitter.linear(scope + ".linear_o", context, channels,
                        /*withBias=*/true);
}

/// Projects the normalized pair to one logit bias per head, `[h, r, r]`.
static Value emitPairBias(ModelEmitter &emitter, const std::string &scope,
                          Value normedPair, int64_t heads) {
  Value bias = emitter.linear(scope, normedPair, heads, /*withBias=*/false);
  return emitter.transpose(scope, bias, {2, 0, 1});
}

// Algorithm 7.
Value EvoformerEmitter::emitMsaRowAttentionWithPairBias(
    const std::string &scope, Value msa, Value pair) {
  Value normedMsa = layerNorm(scope + ".layer_norm_m", msa);
  Value normedPair = layerNorm(scope + ".layer_norm_z", pair);
  Value bias =
      emitPairBias(emitter, scope + ".linear_z", normedPair, options.msaHeads);
  return emitGatedAttention(scope, normedMsa, options.msaHeads,
                            options.msaHeadDim, bias);
}

// Algorithm 8: row attention's core over the sequence axis, written as
// attention on the transposed MSA (as OpenFold does).
Value EvoformerEmitter::emitMsaColumnAttention(const std::string &scope,
                                               Value msa) {
  Value normed = layerNorm(scope + ".layer_norm_m", msa);
  Value columns = emitter.transpose(scope + ".transpose", normed, {1, 0, 2});
  Value attended = emitGatedAttention(scope, columns, options.msaHeads,
                                      options.msaHeadDim, /*bias=*/Value());
  return emitter.transpose(scope + ".transpose", attended, {1, 0, 2});
}

Value EvoformerEmitter::emitTransition(const std::string &scope, Value x) {
  int64_t channels = shapeOf(x).back();
  Value normed = layerNorm(scope + ".layer_norm", x);
  Value expanded =
      emitter.linear(scope + ".linear_1", normed,
                     options.transitionFactor * channels, /*withBias=*/true);
  expanded = emitter.relu(scope + ".relu", expanded);
  return emitter.linear(scope + ".linear_2", expanded, channels,
                        /*withBias=*/true);
}

// Algorithm 10.
Value EvoformerEmitter::emitOuterProductMean(const std::string &scope,
                                             Value msa) {
  int64_t hidden = options.outerProductHidden;
  Value normed = layerNorm(scope + ".layer_norm", msa);
  Value a = emitter.linear(scope + ".linear_1", normed, hidden,
                           /*withBias=*/true);
  Value b = emitter.linear(scope + ".linear_2", normed, hidden,
                           /*withBias=*/true);
  Value outer =
      EinsumOp::create(emitter.getBuilder(), emitter.loc(scope + ".outer"),
                       "sic,sjd->ijcd", ValueRange{a, b});
  outer = emitter.scale(scope + ".mean", outer,
                        1.0 / static_cast<double>(options.nSeq));
  outer = emitter.reshape(scope + ".flatten", outer,
                          {options.nRes, options.nRes, hidden * hidden});
  return emitter.linear(scope + ".linear_out", outer, options.cZ,
                        /*withBias=*/true);
}

// Algorithms 11 and 12.
Value EvoformerEmitter::emitTriangleMultiplication(const std::string &scope,
                                                   Value pair, bool outgoing) {
  int64_t hidden = options.triangleMulHidden;
  Value normed = layerNorm(scope + ".layer_norm_in", pair);
  auto gatedProjection = [&](StringRef side) -> Value {
    std::string prefix = scope + ".linear_" + side.str();
    Value projection = emitter.linear(prefix + "_p", normed, hidden,
                                      /*withBias=*/true);
    Value gate = emitter.sigmoid(
        prefix + "_g",
        emitter.linear(prefix + "_g", normed, hidden, /*withBias=*/true));
    return emitter.mul(scope + "." + side.str(), projection, gate);
  };
  Value a = gatedProjection("a");
  Value b = gatedProjection("b");
  Value gate =
      emitter.sigmoid(scope + ".linear_g",
                      emitter.linear(scope + ".linear_g", normed, options.cZ,
                                     /*withBias=*/true));
  Value combined = EinsumOp::create(
      emitter.getBuilder(), emitter.loc(scope + ".einsum"),
      outgoing ? "ikc,jkc->ijc" : "kic,kjc->ijc", ValueRange{a, b});
  combined = layerNorm(scope + ".layer_norm_out", combined);
  combined = emitter.linear(scope + ".linear_z", combined, options.cZ,
                            /*withBias=*/true);
  return emitter.mul(scope + ".gate", combined, gate);
}

// Algorithm 13.
Value EvoformerEmitter::emitTriangleAttentionStartingNode(
    const std::string &scope, Value pair) {
  Value normed = layerNorm(scope + ".layer_norm", pair);
  Value bias =
      emitPairBias(emitter, scope + ".linear", normed, options.pairHeads);
  return emitGatedAttention(scope, normed, options.pairHeads,
                            options.pairHeadDim, bias);
}

// Algorithm 14: Algorithm 13 on the transposed pair, with its own weights.
Value EvoformerEmitter::emitTriangleAttentionEndingNode(
    const std::string &scope, Value pair) {
  Value transposed = emitter.transpose(scope + ".transpose", pair, {1, 0, 2});
  Value attended = emitTriangleAttentionStartingNode(scope, transposed);
  return emitter.transpose(scope + ".transpose", attended, {1, 0, 2});
}

void EvoformerEmitter::emitBlock(const std::string &scope, Value &msa,
                                 Value &pair) {
  auto residual = [&](const std::string &name, Value &stream, Value update) {
    stream = emitter.add(scope + "." + name + ".residual", stream, update);
  };
  residual("msa_att_row", msa,
           emitMsaRowAttentionWithPairBias(scope + ".msa_att_row", msa, pair));
  residual("msa_att_col", msa,
           emitMsaColumnAttention(scope + ".msa_att_col", msa));
  residual("msa_transition", msa,
           emitTransition(scope + ".msa_transition", msa));
  residual("outer_product_mean", pair,
           emitOuterProductMean(scope + ".outer_product_mean", msa));
  residual("tri_mul_out", pair,
           emitTriangleMultiplication(scope + ".tri_mul_out", pair,
                                      /*outgoing=*/true));
  residual("tri_mul_in", pair,
           emitTriangleMultiplication(scope + ".tri_mul_in", pair,
                                      /*outgoing=*/false));
  residual("tri_att_start", pair,
           emitTriangleAttentionStartingNode(scope + ".tri_att_start", pair));
  residual("tri_att_end", pair,
           emitTriangleAttentionEndingNode(scope + ".tri_att_end", pair));
  residual("pair_transition", pair,
           emitTransition(scope + ".pair_transition", pair));
}

std::optional<std::string> validate(const EvoformerOptions &options) {
  if (auto error = checkPositiveSizes(
          {{"--n-seq", options.nSeq},
           {"--n-res", options.nRes},
           {"--c-m", options.cM},
           {"--c-z", options.cZ},
           {"--blocks", options.blocks},
           {"msaHeads", options.msaHeads},
           {"msaHeadDim", options.msaHeadDim},
           {"pairHeads", options.pairHeads},
           {"pairHeadDim", options.pairHeadDim},
           {"outerProductHidden", options.outerProductHidden},
           {"triangleMulHidden", options.triangleMulHidden},
           {"transitionFactor", options.transitionFactor}}))
    return error;
  int64_t s = options.nSeq, r = options.nRes, c = options.outerProductHidden;
  // Attention widths first: the products below reuse them.
  if (auto error = checkTensorSizes({{options.msaHeads, options.msaHeadDim},
                                     {options.pairHeads, options.pairHeadDim},
                                     {c, c},
                                     {options.transitionFactor, options.cM},
                                     {options.transitionFactor, options.cZ}}))
    return error;
  return checkTensorSizes(
      {{s, options.msaHeads, r, r},
       {r, options.msaHeads, s, s},
       {r, options.pairHeads, r, r},
       {s, r, options.msaHeads * options.msaHeadDim},
       {r, r, options.pairHeads * options.pairHeadDim},
       {r, r, c * c},
       {options.cZ, c * c},
       {s, r, options.transitionFactor * options.cM},
       {r, r, options.transitionFactor * options.cZ},
       {r, r, options.triangleMulHidden},
       {options.transitionFactor * options.cM, options.cM},
       {options.transitionFactor * options.cZ, options.cZ}});
}

FailureOr<OwningOpRef<ModuleOp>> buildEvoformer(MLIRContext &context,
                                                const EvoformerOptions &options,
                                                std::string &error) {
  if (std::optional<std::string> invalid = validate(options)) {
    error = *invalid;
    return failure();
  }
  ModelEmitter emitter(context, "evoformer", options.dtype);
  Value msa = emitter.addInput("msa", {options.nSeq, options.nRes, options.cM});
  Value pair =
      emitter.addInput("pair", {options.nRes, options.nRes, options.cZ});
  EvoformerEmitter evoformer(emitter, options);
  for (int64_t block = 0; block < options.blocks; ++block)
    evoformer.emitBlock("blocks." + std::to_string(block), msa, pair);
  return emitter.finish({{msa, "msa_out"}, {pair, "pair_out"}}, error);
}

} // namespace autochunk::models
