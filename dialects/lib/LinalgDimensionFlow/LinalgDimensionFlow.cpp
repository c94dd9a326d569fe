//===- LinalgDimensionFlow.cpp - dimension flow of upstream linalg ops ----===//
//
// DimensionFlowOpInterface external models for linalg: structured ops from
// their indexing maps and iterator types, linalg.softmax by hand.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowLinalg.h"
#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace autochunk;

namespace {

/// A structured op runs a loop nest; chunking a result dimension means
/// chunking the loop it is indexed by. That is a 1:1 slice of every operand
/// dimension indexed by exactly that loop, and of nothing else, as long as
/// the loop is parallel, no operand indexes by a compound expression of it
/// (a convolution's `oh + kh`), and the body does not read its position
/// (linalg.index).
template <typename OpTy>
struct LinalgStructuredDimensionFlowModel
    : public DimensionFlowOpInterface::ExternalModel<
          LinalgStructuredDimensionFlowModel<OpTy>, OpTy> {
  FailureOr<DimensionFlow> computeDimensionFlow(Operation *op) const {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    // Buffer semantics have no results to chunk.
    if (!linalgOp.hasPureTensorSemantics())
      return failure();
    SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
    SmallVector<utils::IteratorType> iterators =
        linalgOp.getIteratorTypesArray();
    unsigned numLoops = iterators.size();
    if (maps.size() != op->getNumOperands())
      return failure();

    // Per loop: the operand dimensions indexed by exactly that loop.
    SmallVector<SmallVector<OperandDim, 2>> pureUses(numLoops);
    // Loops a result dimension cannot follow 1:1.
    llvm::SmallBitVector notSliceable(numLoops);
    op->walk([&](linalg::IndexOp index) {
      if (index.getDim() < numLoops)
        notSliceable.set(index.getDim());
    });
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = maps[operand.getOperandNumber()];
      if (map.getNumDims() != numLoops)
        return failure();
      for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
        if (auto dimExpr = dyn_cast<AffineDimExpr>(expr)) {
          pureUses[dimExpr.getPosition()].push_back(
              {operand.getOperandNumber(), static_cast<int64_t>(dim)});
          continue;
        }
        expr.walk([&](AffineExpr sub) {
          if (auto dimExpr = dyn_cast<AffineDimExpr>(sub))
            notSliceable.set(dimExpr.getPosition());
        });
      }
    }

    DimensionFlow flow;
    for (unsigned loop = 0; loop < numLoops; ++loop)
      if (iterators[loop] == utils::IteratorType::reduction)
        llvm::append_range(flow.reduced, pureUses[loop]);
    for (OpResult result : op->getResults()) {
      AffineMap map = linalgOp.getMatchingIndexingMap(
          linalgOp.getDpsInitOperand(result.getResultNumber()));
      auto &dims = flow.results.emplace_back();
      for (AffineExpr expr : map.getResults()) {
        auto dimExpr = dyn_cast<AffineDimExpr>(expr);
        if (!dimExpr || notSliceable.test(dimExpr.getPosition()) ||
            iterators[dimExpr.getPosition()] != utils::IteratorType::parallel) {
          dims.push_back(ResultDimFlow::opaque());
          continue;
        }
        dims.push_back(ResultDimFlow::flows(pureUses[dimExpr.getPosition()]));
      }
    }
    return flow;
  }
};

/// linalg.softmax normalizes along `dimension` (mixed); every other result
/// dimension flows from the input and the init alike.
struct SoftmaxDimensionFlowModel
    : public DimensionFlowOpInterface::ExternalModel<SoftmaxDimensionFlowModel,
                                                     linalg::SoftmaxOp> {
  FailureOr<DimensionFlow> computeDimensionFlow(Operation *op) const {
    auto softmax = cast<linalg::SoftmaxOp>(op);
    if (op->getNumResults() != 1)
      return failure();
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type ||
        softmax.getDimension() >= static_cast<uint64_t>(type.getRank()))
      return failure();
    DimensionFlow flow;
    auto &dims = flow.results.emplace_back();
    for (int64_t dim = 0; dim < type.getRank(); ++dim) {
      if (static_cast<uint64_t>(dim) == softmax.getDimension())
        dims.push_back(ResultDimFlow::mixed());
      else
        dims.push_back(ResultDimFlow::flows({{0, dim}, {1, dim}}));
    }
    return flow;
  }
};

template <typename... OpTys> void attachStructuredModels(MLIRContext *context) {
  (OpTys::template attachInterface<LinalgStructuredDimensionFlowModel<OpTys>>(
       *context),
   ...);
}

} // namespace

void autochunk::registerLinalgDimensionFlowExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, linalg::LinalgDialect *) {
    attachStructuredModels<
#define GET_OP_LIST
#include "mlir/Dialect/Linalg/IR/LinalgStructuredOps.cpp.inc"
        >(context);
    linalg::SoftmaxOp::attachInterface<SoftmaxDimensionFlowModel>(*context);
  });
}
