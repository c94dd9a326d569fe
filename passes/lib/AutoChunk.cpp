//===- AutoChunk.cpp - the autochunk-chunk pass ---------------------------===//
//
// Search, selection and rewrite of each function to meet a memory budget;
// the plan is recorded on the function and its loops.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/DenseSet.h"

namespace autochunk {
#define GEN_PASS_DEF_AUTOCHUNKPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// Warns at every top-level op of `func` that computes an activation the
/// search cannot see through (no dimension flow: a custom op, a func.call)
/// while more than `budget` bytes are live at it: a chunk region stops at
/// such an op, so what is live there stays whole. Returns how many.
unsigned warnAtBarriersOverBudget(func::FuncOp func, int64_t budget) {
  Liveness liveness = computeLiveness(func);
  unsigned count = 0;
  for (auto [op, live] : llvm::zip_equal(liveness.ops, liveness.liveBytes)) {
    if (op->getParentOp() != func.getOperation() || live <= budget ||
        op->hasTrait<OpTrait::IsTerminator>() ||
        op->hasTrait<OpTrait::ConstantLike>())
      continue;
    // The search takes a static tensor.empty in with its writer.
    if (auto empty = dyn_cast<tensor::EmptyOp>(op);
        empty && empty.getType().hasStaticShape())
      continue;
    if (llvm::none_of(op->getResultTypes(),
                      [](Type type) { return isa<RankedTensorType>(type); }))
      continue;
    std::string whyNot;
    if (succeeded(getDimensionFlow(op, &whyNot)))
      continue;
    op->emitWarning() << "'" << op->getName()
                      << "' has no dimension flow: it stops chunk regions ("
                      << whyNot << "); " << live
                      << " bytes are live at it, over the budget of " << budget
                      << " bytes";
    ++count;
  }
  return count;
}

struct AutoChunkPass : autochunk::impl::AutoChunkPassBase<AutoChunkPass> {
  using AutoChunkPassBase::AutoChunkPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (memoryBudget.empty() || func.isExternal())
      return;
    std::optional<Target> target = getTarget(targetName);
    if (!target) {
      func.emitError() << "unknown AutoChunk target '" << targetName
                       << "' (expected cpu or h100)";
      return signalPassFailure();
    }
    SearchOptions options;
    options.beamWidth = beamWidth;
    ChunkSearch search(func, *target, options);
    std::string error;
    FailureOr<int64_t> budget =
        parseMemoryBudget(memoryBudget, search.unchunkedPeak(), &error);
    if (failed(budget)) {
      func.emitError() << error;
      return signalPassFailure();
    }
    int64_t smallestPeak = 0;
    FailureOr<ChunkPlan> plan = search.select(*budget, smallestPeak);
    if (failed(plan)) {
      unsigned barriers = warnAtBarriersOverBudget(func, *budget);
      InFlightDiagnostic error = func.emitError();
      error << "cannot meet the budget of " << *budget
            << " bytes: the smallest activation peak AutoChunk reaches is "
            << smallestPeak << " bytes";
      if (barriers)
        error << "; " << barriers << (barriers == 1 ? " op" : " ops")
              << " without dimension flow, where more than the budget is "
                 "live, stop chunk regions";
      return signalPassFailure();
    }

    Builder builder(&getContext());
    SmallVector<scf::ForOp> loops(plan->regions.size());
    IRRewriter rewriter(&getContext());
    SmallVector<ChunkRegion> regions;
    for (const PlannedRegion &planned : plan->regions)
      regions.push_back(planned.region);
    for (size_t index : chunkRewriteOrder(regions)) {
      FailureOr<ChunkLoop> loop =
          rewriteChunkRegion(rewriter, plan->regions[index].region);
      if (failed(loop))
        return signalPassFailure();
      loops[index] = loop->loop;
      if (loop->loop)
        loop->loop->setAttr("autochunk.region",
                            builder.getI64IntegerAttr(index));
    }

    SmallVector<Attribute> entries;
    for (auto [index, planned] : llvm::enumerate(plan->regions)) {
      double slowdown = planned.secondsBefore > 0
                            ? planned.secondsAfter / planned.secondsBefore
                            : 1.0;
      NamedAttribute fields[] = {
          builder.getNamedAttr("region", builder.getI64IntegerAttr(index)),
          builder.getNamedAttr(
              "ops", builder.getI64IntegerAttr(planned.region.ops.size())),
          builder.getNamedAttr(
              "recomputed_ops",
              builder.getI64IntegerAttr(planned.region.recomputedOps.size())),
          builder.getNamedAttr("dim",
                               builder.getI64IntegerAttr(planned.seedDim)),
          builder.getNamedAttr(
              "extent", builder.getI64IntegerAttr(planned.region.extent)),
          builder.getNamedAttr("chunk_size", builder.getI64IntegerAttr(
                                                 planned.region.chunkSize)),
          builder.getNamedAttr("bytes_before",
                               builder.getI64IntegerAttr(planned.bytesBefore)),
          builder.getNamedAttr("bytes_after",
                               builder.getI64IntegerAttr(planned.bytesAfter)),
          builder.getNamedAttr("slowdown", builder.getF64FloatAttr(slowdown)),
      };
      entries.push_back(builder.getDictionaryAttr(fields));
    }
    func->setAttr("autochunk.plan", builder.getArrayAttr(entries));
    func->setAttr("autochunk.peak_before",
                  builder.getI64IntegerAttr(plan->peakBefore));
    func->setAttr("autochunk.peak_after",
                  builder.getI64IntegerAttr(plan->peakAfter));
    func->setAttr(
        "autochunk.predicted_slowdown",
        builder.getF64FloatAttr(plan->secondsBefore > 0
                                    ? plan->secondsAfter / plan->secondsBefore
                                    : 1.0));

    // The search's plan evaluation and the liveness of the rewritten IR are
    // two routes to one model: they must agree.
    Liveness rewritten = computeLiveness(func);
    if (rewritten.peakBytes != plan->peakAfter)
      func.emitWarning() << "AutoChunk predicted an activation peak of "
                         << plan->peakAfter
                         << " bytes, the rewritten function has "
                         << rewritten.peakBytes;
  }
};

} // namespace
