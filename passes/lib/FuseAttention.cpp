//===- FuseAttention.cpp - attention chains become one graph.attention ----===//
//
// `matmul(softmax(add?(causal_mask?(scale?(matmul(q, k^T))), bias?)), v)`
// becomes one `graph.attention`. It runs before AutoChunk so the search, the
// cost model and the memory planner see attention as the runtime computes
// it: with online softmax, never storing the [..., M, N] logits. On long
// sequences those logits are most of an unfused block's peak, and without
// them a chunk loop over queries only has to slice q and the output.
//
// Only single-use chains fuse: an intermediate someone else reads (the
// attention weights returned as an output) must exist in memory anyway.
// The fused op is not bit for bit the unfused chain (the runtime keeps the
// logits in f32 registers and sums the products in another order); chunked
// and unchunked programs still agree bit for bit, as both fuse.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace autochunk {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// The widest head (D) the runtime's CUDA ac_attention takes.
constexpr int64_t kMaxFusedHeadDim = 128;

/// The op defining `value` when it is an `OpTy` whose result only `user`
/// reads.
template <typename OpTy> OpTy singleUseProducer(Value value) {
  auto producer = value.getDefiningOp<OpTy>();
  if (!producer || !producer->getResult(0).hasOneUse())
    return nullptr;
  return producer;
}

struct FuseAttentionChain : OpRewritePattern<graph::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(graph::MatmulOp context,
                                PatternRewriter &rewriter) const override {
    if (context.getTransposeA() || context.getTransposeB())
      return failure();
    auto softmax = singleUseProducer<graph::SoftmaxOp>(context.getLhs());
    if (!softmax || static_cast<int64_t>(softmax.getAxis()) !=
                        softmax.getType().getRank() - 1)
      return failure();

    // Walk the logits back to the first matmul: add?(mask?(scale?(.))).
    Value logits = softmax.getInput();
    Value bias;
    if (auto add = singleUseProducer<graph::AddOp>(logits)) {
      // The operand of the logits' own type carries the chain; the other
      // is the bias, which must broadcast to it (the op's verifier checks).
      Value lhs = add.getLhs(), rhs = add.getRhs();
      bool lhsCarries = lhs.getType() == add.getType();
      bool rhsCarries = rhs.getType() == add.getType();
      // Prefer the operand a matching chain ends in when both qualify.
      auto startsChain = [](Value value) {
        return value.getDefiningOp<graph::CausalMaskOp>() ||
               value.getDefiningOp<graph::ScaleOp>() ||
               value.getDefiningOp<graph::MatmulOp>();
      };
      if (lhsCarries && (!rhsCarries || startsChain(lhs))) {
        logits = lhs;
        bias = rhs;
      } else if (rhsCarries) {
        logits = rhs;
        bias = lhs;
      } else {
        return failure();
      }
      if (!logits.hasOneUse())
        return failure();
    }
    graph::CausalMaskOp mask;
    if ((mask = singleUseProducer<graph::CausalMaskOp>(logits))) {
      // A mask already placed in a chunk keeps its own offsets.
      if (mask.getRowOffset() || mask.getColOffset())
        return failure();
      logits = mask.getInput();
    }
    double scale = 1.0;
    if (auto scaleOp = singleUseProducer<graph::ScaleOp>(logits)) {
      scale = scaleOp.getFactor().convertToDouble();
      logits = scaleOp.getInput();
    }
    auto scores = singleUseProducer<graph::MatmulOp>(logits);
    if (!scores || scores.getTransposeA() || !scores.getTransposeB())
      return failure();

    // graph.attention takes no broadcasting between q, k and v: each must
    // have the logits' leading dimensions.
    Value query = scores.getLhs(), key = scores.getRhs(),
          value = context.getRhs();
    auto leading = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getShape().drop_back(2);
    };
    ArrayRef<int64_t> logitsLeading = leading(softmax.getResult());
    if (leading(query) != logitsLeading || leading(key) != logitsLeading ||
        leading(value) != logitsLeading)
      return failure();
    if (bias && cast<RankedTensorType>(bias.getType()).getRank() >
                    softmax.getType().getRank())
      return failure();
    // The CUDA kernel keeps a query row's D values in registers, up to
    // kMaxFusedHeadDim; wider heads stay unfused on every device, so the CPU
    // and the CUDA executables of one graph compute the same ops.
    if (cast<RankedTensorType>(query.getType()).getShape().back() >
        kMaxFusedHeadDim)
      return failure();

    Location loc = rewriter.getFusedLoc(
        {context.getLoc(), softmax.getLoc(), scores.getLoc()});
    auto attention = graph::AttentionOp::create(
        rewriter, loc, context.getType(), query, key, value, bias,
        /*row_offset=*/Value(), rewriter.getF64FloatAttr(scale),
        mask ? rewriter.getUnitAttr() : UnitAttr(),
        rewriter.getI64IntegerAttr(mask ? mask.getDiagonal() : 0));
    rewriter.replaceOp(context, attention.getResult());
    return success();
  }
};

struct FuseAttentionPass
    : public autochunk::impl::FuseAttentionPassBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionChain>(&getContext());
    // The absorbed ops are pure and lose their only user: the driver erases
    // them as dead.
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
