//===- FuseAttention.cpp - attention chains become one graph.attention ----===//
//
// `matmul(softmax(add?(causal_mask?(scale?(matmul(q, k^T))), bias?)), v)`
// becomes one `graph.attention`. It runs before AutoChunk so the search, the
// cost model and the memory planner see attention as the runtime computes
// it: with online softmax, never storing the [..., M, N] logits. On long
// sequences those logits are most of an unfused block's peak, and without
// them a chunk loop over queries only has to slice q and the output.
//
// Only single-use chains inside one block fuse (matchSoftmaxChain, shared
// with the lowering's scale_mask_softmax): an intermediate someone else
// reads (the attention weights returned as an output) must exist in memory
// anyway.
// The fused op is not bit for bit the unfused chain (the runtime keeps the
// logits in f32 registers and sums the products in another order); chunked
// and unchunked programs still agree bit for bit, as both fuse.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Passes/Passes.h"

#include "SoftmaxChain.h"

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

struct FuseAttentionChain : OpRewritePattern<graph::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(graph::MatmulOp context,
                                PatternRewriter &rewriter) const override {
    if (context.getTransposeA() || context.getTransposeB())
      return failure();
    auto softmax =
        singleUseProducer<graph::SoftmaxOp>(context.getLhs(), context);
    if (!softmax)
      return failure();
    // The logits' way from the first matmul: add?(mask?(scale?(.))).
    std::optional<SoftmaxChain> chain = matchSoftmaxChain(softmax);
    if (!chain)
      return failure();
    graph::CausalMaskOp mask = chain->mask;
    // A mask already placed in a chunk keeps its own offsets.
    if (mask && (mask.getRowOffset() || mask.getColOffset()))
      return failure();
    double scale =
        chain->scale ? chain->scale.getFactor().convertToDouble() : 1.0;
    // The bias must broadcast to the logits (the add's verifier checked).
    Value bias = chain->bias ? chain->bias->get() : Value();
    Operation *scoresUser = chain->absorbed.empty() ? softmax.getOperation()
                                                    : chain->absorbed.back();
    auto scores =
        singleUseProducer<graph::MatmulOp>(chain->input->get(), scoresUser);
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
