//===- DimensionFlowOpInterface.cpp - checks and chunk propagation --------===//
//
// The generated interface, the consistency check of a reported flow, and the
// closure that turns "chunk this value along this dim" into a slicing of
// every operand and result of one op.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace autochunk;

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.cpp.inc"

static RankedTensorType rankedTensorOf(Value value) {
  return dyn_cast<RankedTensorType>(value.getType());
}

static LogicalResult fail(std::string *error, const Twine &message) {
  if (error)
    *error = message.str();
  return failure();
}

static std::string format(OperandDim operandDim) {
  return ("operand #" + Twine(operandDim.operand) + " dim " +
          Twine(operandDim.dim))
      .str();
}

/// Checks that `operandDim` names a dimension of a ranked tensor operand.
static LogicalResult checkOperandDim(Operation *op, OperandDim operandDim,
                                     std::string *error) {
  if (operandDim.operand >= op->getNumOperands())
    return fail(error, "names " + format(operandDim) + " but the op has " +
                           Twine(op->getNumOperands()) + " operands");
  RankedTensorType type = rankedTensorOf(op->getOperand(operandDim.operand));
  if (!type)
    return fail(error, "names " + format(operandDim) +
                           ", which is not a ranked tensor");
  if (operandDim.dim < 0 || operandDim.dim >= type.getRank())
    return fail(error, "names " + format(operandDim) + " of a rank-" +
                           Twine(type.getRank()) + " operand");
  return success();
}

LogicalResult autochunk::verifyDimensionFlow(Operation *op,
                                             const DimensionFlow &flow,
                                             std::string *error) {
  if (flow.results.size() != op->getNumResults())
    return fail(error, "describes " + Twine(flow.results.size()) +
                           " results but the op has " +
                           Twine(op->getNumResults()));
  for (auto [index, dims] : llvm::enumerate(flow.results)) {
    RankedTensorType type = rankedTensorOf(op->getResult(index));
    if (!type) {
      if (!dims.empty())
        return fail(error, "describes dimensions of result #" + Twine(index) +
                               ", which is not a ranked tensor");
      continue;
    }
    if (static_cast<int64_t>(dims.size()) != type.getRank())
      return fail(error, "describes " + Twine(dims.size()) +
                             " dimensions of result #" + Twine(index) +
                             " of rank " + Twine(type.getRank()));
    for (auto [dim, dimFlow] : llvm::enumerate(dims)) {
      if (dimFlow.kind != ResultDimKind::Flows && !dimFlow.sources.empty())
        return fail(error, "lists sources of result #" + Twine(index) +
                               " dim " + Twine(dim) + ", which does not flow");
      for (auto [position, source] : llvm::enumerate(dimFlow.sources)) {
        if (failed(checkOperandDim(op, source, error)))
          return failure();
        int64_t extent = rankedTensorOf(op->getOperand(source.operand))
                             .getDimSize(source.dim);
        int64_t resultExtent = type.getDimSize(dim);
        if (!ShapedType::isDynamic(extent) &&
            !ShapedType::isDynamic(resultExtent) && extent != resultExtent)
          return fail(error, "says result #" + Twine(index) + " dim " +
                                 Twine(dim) + " (size " + Twine(resultExtent) +
                                 ") flows from " + format(source) + " (size " +
                                 Twine(extent) + ")");
        if (llvm::is_contained(ArrayRef(dimFlow.sources).take_front(position),
                               source))
          return fail(error, "lists " + format(source) + " twice for result #" +
                                 Twine(index) + " dim " + Twine(dim));
        if (flow.isReduced(source))
          return fail(error, "says " + format(source) +
                                 " is both reduced and a source");
      }
    }
  }
  for (auto [position, reduced] : llvm::enumerate(flow.reduced)) {
    if (failed(checkOperandDim(op, reduced, error)))
      return failure();
    if (llvm::is_contained(ArrayRef(flow.reduced).take_front(position),
                           reduced))
      return fail(error, "lists reduced " + format(reduced) + " twice");
  }
  return success();
}

FailureOr<DimensionFlow> autochunk::getDimensionFlow(Operation *op,
                                                     std::string *whyNot) {
  auto flowOp = dyn_cast<DimensionFlowOpInterface>(op);
  if (!flowOp)
    return fail(whyNot, "does not implement DimensionFlowOpInterface");
  FailureOr<DimensionFlow> flow = flowOp.computeDimensionFlow();
  if (failed(flow))
    return fail(whyNot, "cannot describe its dimension flow");
  std::string error;
  if (failed(verifyDimensionFlow(op, *flow, &error)))
    return fail(whyNot, "reports an inconsistent dimension flow: it " + error);
  return flow;
}

namespace {
/// One value of the op being chunked, and the dimension to slice it along.
struct SlicedDim {
  bool isResult;
  unsigned index;
  int64_t dim;
};
} // namespace

/// Slices every operand and result that must be sliced once `seed` is, until
/// nothing changes; failure on anything that makes the chunking illegal.
static FailureOr<OpChunking> closeChunking(Operation *op, SlicedDim seed) {
  FailureOr<DimensionFlow> flow = getDimensionFlow(op);
  if (failed(flow))
    return failure();
  OpChunking chunking;
  chunking.operandDims.resize(op->getNumOperands());
  chunking.resultDims.resize(op->getNumResults());

  SmallVector<SlicedDim> worklist;
  // Records that a value is sliced along `dim`; a value sliced along two
  // dimensions cannot be one chunk of a one-dimensional loop.
  auto slice = [&](SlicedDim sliced) -> LogicalResult {
    std::optional<int64_t> &known = sliced.isResult
                                        ? chunking.resultDims[sliced.index]
                                        : chunking.operandDims[sliced.index];
    if (known)
      return success(*known == sliced.dim);
    known = sliced.dim;
    worklist.push_back(sliced);
    return success();
  };
  if (failed(slice(seed)))
    return failure();

  while (!worklist.empty()) {
    SlicedDim sliced = worklist.pop_back_val();
    if (sliced.isResult) {
      const ResultDimFlow &dimFlow = flow->results[sliced.index][sliced.dim];
      if (dimFlow.kind != ResultDimKind::Flows)
        return failure();
      for (OperandDim source : dimFlow.sources)
        if (failed(slice({false, source.operand, source.dim})))
          return failure();
      continue;
    }
    OperandDim operandDim{sliced.index, sliced.dim};
    if (flow->isReduced(operandDim))
      return failure();
    for (auto [result, dims] : llvm::enumerate(flow->results))
      for (auto [dim, dimFlow] : llvm::enumerate(dims))
        if (llvm::is_contained(dimFlow.sources, operandDim) &&
            failed(slice({true, static_cast<unsigned>(result),
                          static_cast<int64_t>(dim)})))
          return failure();
  }
  // Every result is computed from the sliced operands, so every result is a
  // chunk: one left whole would need the whole operands.
  for (auto [result, dim] : llvm::enumerate(chunking.resultDims))
    if (!dim && rankedTensorOf(op->getResult(result)))
      return failure();
  if (!llvm::any_of(chunking.resultDims,
                    [](std::optional<int64_t> dim) { return dim.has_value(); }))
    return failure();
  return chunking;
}

FailureOr<OpChunking>
autochunk::chunkAlongResultDim(Operation *op, unsigned result, int64_t dim) {
  if (result >= op->getNumResults())
    return failure();
  RankedTensorType type = rankedTensorOf(op->getResult(result));
  if (!type || dim < 0 || dim >= type.getRank())
    return failure();
  return closeChunking(op, {true, result, dim});
}

FailureOr<OpChunking>
autochunk::chunkAlongOperandDim(Operation *op, unsigned operand, int64_t dim) {
  if (operand >= op->getNumOperands())
    return failure();
  RankedTensorType type = rankedTensorOf(op->getOperand(operand));
  if (!type || dim < 0 || dim >= type.getRank())
    return failure();
  return closeChunking(op, {false, operand, dim});
}

FailureOr<SmallVector<std::optional<int64_t>>>
autochunk::propagateChunkDimToOperands(Operation *op, unsigned result,
                                       int64_t dim) {
  FailureOr<OpChunking> chunking = chunkAlongResultDim(op, result, dim);
  if (failed(chunking))
    return failure();
  return chunking->operandDims;
}

FailureOr<SmallVector<std::optional<int64_t>>>
autochunk::propagateChunkDimToResults(Operation *op, unsigned operand,
                                      int64_t dim) {
  FailureOr<OpChunking> chunking = chunkAlongOperandDim(op, operand, dim);
  if (failed(chunking))
    return failure();
  return chunking->resultDims;
}
