//===- TestChunkRewrite.cpp - drive the chunk rewrite from attributes -----===//

#include "autochunk/Passes/ChunkRewrite.h"
#include "autochunk/Passes/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace autochunk {
#define GEN_PASS_DEF_TESTCHUNKREWRITEPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

struct TestChunkRewritePass
    : public autochunk::impl::TestChunkRewritePassBase<TestChunkRewritePass> {
  using TestChunkRewritePassBase::TestChunkRewritePassBase;

  void runOnOperation() override {
    llvm::MapVector<int64_t, ChunkRegion> regions;
    WalkResult walk = getOperation().walk([&](Operation *op) -> WalkResult {
      auto id = op->getAttrOfType<IntegerAttr>("test.chunk_region");
      auto recomputeIn =
          op->getAttrOfType<IntegerAttr>("test.recompute_in_region");
      if (!id && !recomputeIn)
        return WalkResult::advance();
      auto resultDims = op->getAttrOfType<DenseI64ArrayAttr>("test.chunk_dims");
      auto operandDims =
          op->getAttrOfType<DenseI64ArrayAttr>("test.operand_chunk_dims");
      if (!resultDims ||
          resultDims.size() != static_cast<int64_t>(op->getNumResults()) ||
          !operandDims ||
          operandDims.size() != static_cast<int64_t>(op->getNumOperands()))
        return op->emitError("needs test.chunk_dims (one per result) and "
                             "test.operand_chunk_dims (one per operand)");
      ChunkRegion &region = regions[id ? id.getInt() : recomputeIn.getInt()];
      if (id)
        region.ops.push_back(op);
      else
        region.recomputedOps.push_back(op);
      region.chunkSize = chunkSize;
      for (auto [result, dim] :
           llvm::zip_equal(op->getResults(), resultDims.asArrayRef())) {
        region.chunkDims[result] = dim;
        region.extent =
            cast<RankedTensorType>(result.getType()).getDimSize(dim);
      }
      for (auto [operand, dim] :
           llvm::zip_equal(op->getOperands(), operandDims.asArrayRef())) {
        if (dim < 0)
          continue;
        auto [it, inserted] = region.chunkDims.try_emplace(operand, dim);
        if (!inserted && it->second != dim)
          return op->emitError("an operand is chunked along two dimensions");
      }
      for (StringRef name : {"test.chunk_region", "test.recompute_in_region",
                             "test.chunk_dims", "test.operand_chunk_dims"})
        op->removeAttr(name);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    for (auto &[id, region] : regions)
      if (failed(rewriteChunkRegion(rewriter, region)))
        return signalPassFailure();
  }
};

} // namespace
