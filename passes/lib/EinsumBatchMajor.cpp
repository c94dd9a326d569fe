//===- EinsumBatchMajor.cpp - batch labels outermost in two-operand einsums
//===//
//
// A two-operand einsum whose batch labels (in both operands and the result)
// are the innermost dimension of an operand or of the result, such as a
// triangle multiplication's "ikc,jkc->ijc", becomes transposes to and from a
// batch-major einsum ("cik,cjk->cij"). The runtime would otherwise copy such
// an operand batch-major on every call, and a chunk loop calls it once per
// chunk while the operand it reads whole does not change: as explicit ops,
// the transposes of unchunked operands run once, before the loop, and the
// chunked ones chunk by chunk. The values computed do not change (a transpose
// moves bits; the GEMM's order of summation is the same).
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace autochunk {
#define GEN_PASS_DEF_EINSUMBATCHMAJORPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// `labels` with the batch labels (in `batch` order) first, the others after
/// in their order.
std::string batchFirst(StringRef labels, StringRef batch) {
  std::string reordered;
  for (char label : batch)
    if (labels.contains(label))
      reordered.push_back(label);
  for (char label : labels)
    if (!batch.contains(label))
      reordered.push_back(label);
  return reordered;
}

/// The permutation (result dim i = input dim permutation[i]) from subscript
/// `from` to `to`.
SmallVector<int64_t> permutationTo(StringRef from, StringRef to) {
  SmallVector<int64_t> permutation;
  for (char label : to)
    permutation.push_back(static_cast<int64_t>(from.find(label)));
  return permutation;
}

Value transposeTo(PatternRewriter &rewriter, Location loc, Value value,
                  StringRef from, StringRef to) {
  if (from == to)
    return value;
  SmallVector<int64_t> permutation = permutationTo(from, to);
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t source : permutation)
    shape.push_back(type.getDimSize(source));
  return graph::TransposeOp::create(
      rewriter, loc, RankedTensorType::get(shape, type.getElementType()), value,
      rewriter.getDenseI64ArrayAttr(permutation));
}

struct BatchMajorEinsum : OpRewritePattern<graph::EinsumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(graph::EinsumOp einsum,
                                PatternRewriter &rewriter) const override {
    if (einsum.getInputs().size() != 2)
      return failure();
    std::string error;
    std::optional<graph::EinsumEquation> equation =
        graph::EinsumEquation::parse(einsum.getEquation(), error);
    if (!equation)
      return failure();
    StringRef lhs = equation->inputs[0], rhs = equation->inputs[1],
              out = equation->output;
    std::string batch;
    for (char label : out)
      if (lhs.contains(label) && rhs.contains(label))
        batch.push_back(label);
    if (batch.empty())
      return failure();
    auto innermostIsBatch = [&](StringRef labels) {
      return !labels.empty() && StringRef(batch).contains(labels.back());
    };
    if (!innermostIsBatch(lhs) && !innermostIsBatch(rhs) &&
        !innermostIsBatch(out))
      return failure();

    std::string newLhs = batchFirst(lhs, batch),
                newRhs = batchFirst(rhs, batch),
                newOut = batchFirst(out, batch);
    Location loc = einsum.getLoc();
    Value a = transposeTo(rewriter, loc, einsum.getInputs()[0], lhs, newLhs);
    Value b = transposeTo(rewriter, loc, einsum.getInputs()[1], rhs, newRhs);
    auto resultType = cast<RankedTensorType>(einsum.getType());
    SmallVector<int64_t> newShape;
    for (char label : newOut)
      newShape.push_back(resultType.getDimSize(out.find(label)));
    std::string newEquation = newLhs + "," + newRhs + "->" + newOut;
    Value product = graph::EinsumOp::create(
        rewriter, loc,
        RankedTensorType::get(newShape, resultType.getElementType()),
        rewriter.getStringAttr(newEquation), ValueRange{a, b});
    rewriter.replaceOp(einsum,
                       transposeTo(rewriter, loc, product, newOut, out));
    return success();
  }
};

struct EinsumBatchMajorPass
    : public autochunk::impl::EinsumBatchMajorPassBase<EinsumBatchMajorPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<BatchMajorEinsum>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
