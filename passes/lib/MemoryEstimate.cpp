//===- MemoryEstimate.cpp - run the planner on a copy ---------------------===//

#include "autochunk/Passes/MemoryEstimate.h"

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/MemoryPlan.h"
#include "autochunk/Passes/Pipelines.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace autochunk;

/// The prefix of the location names that tie the copy's ops to the
/// original's.
static constexpr llvm::StringLiteral kOriginPrefix = "autochunk.origin.";

/// The index of the original op `loc` was tagged with, if any.
static std::optional<size_t> originOf(Location loc) {
  std::optional<size_t> origin;
  loc->walk([&](Location nested) {
    if (auto name = dyn_cast<NameLoc>(nested)) {
      StringRef text = name.getName().getValue();
      size_t index;
      if (text.consume_front(kOriginPrefix) && !text.getAsInteger(10, index)) {
        origin = index;
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  return origin;
}

/// True for the ops whose operands' and results' memory the timeline shows
/// (not the scalar body of a linalg op).
static bool isTimelineOp(Operation *op) {
  return !op->hasTrait<OpTrait::IsTerminator>() && !isa<func::FuncOp>(op) &&
         !isa_and_nonnull<linalg::LinalgOp>(op->getParentOp());
}

/// The ops of the lowered function that touch planned buffers: kernel calls,
/// copies, and linalg ops on buffers (linalg input bufferizes to them).
static bool touchesBuffers(Operation *op) {
  return isa<kernel::CallOp, memref::CopyOp, linalg::LinalgOp,
             linalg::SoftmaxOp>(op);
}

FailureOr<MemoryEstimate> autochunk::estimateMemory(func::FuncOp func) {
  MLIRContext *context = func.getContext();
  MemoryEstimate estimate;
  for (auto [index, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      continue;
    int64_t bytes = tensor.getNumElements() *
                    static_cast<int64_t>(
                        llvm::divideCeil(tensor.getElementTypeBitWidth(), 8));
    auto role = func.getArgAttrOfType<StringAttr>(
        index, graph::GraphDialect::kRoleAttrName);
    (role && role.getValue() == "weight" ? estimate.weightBytes
                                         : estimate.inputBytes) += bytes;
  }

  // The copy's ops carry the pre-order index of their original in a name
  // location, which the lowering keeps on what it creates from them.
  SmallVector<Operation *> originals;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isTimelineOp(op))
      originals.push_back(op);
  });
  OwningOpRef<ModuleOp> module = ModuleOp::create(func.getLoc());
  auto copy = cast<func::FuncOp>(func->clone());
  module->push_back(copy);
  size_t next = 0;
  copy.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (!isTimelineOp(op))
      return;
    op->setLoc(NameLoc::get(
        StringAttr::get(context, kOriginPrefix + std::to_string(next++)),
        op->getLoc()));
  });

  // The same steps as chunk-compile up to its memory plan.
  PassManager pm(context, ModuleOp::getOperationName());
  pm.addPass(createLinalgBufferizationModelsPass());
  std::string pipeline = "canonicalize";
  for (LoweringStep step : {LoweringStep::Kernels, LoweringStep::Bufferize})
    pipeline += "," + getLoweringPipeline(step).str();
  if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(*module)))
    return failure();
  func::FuncOp lowered = *module->getOps<func::FuncOp>().begin();
  prepareOutputsForPlanning(lowered);
  FailureOr<MemoryPlan> plan = planMemory(lowered);
  if (failed(plan))
    return failure();
  estimate.arenaBytes = plan->arenaBytes;

  // Live bytes at each position of the lowered function (numbered as the
  // planner numbers them), gathered per original op.
  DenseMap<Operation *, int64_t> position;
  int64_t counter = 0;
  lowered.walk<WalkOrder::PreOrder>(
      [&](Operation *op) { position[op] = counter++; });
  SmallVector<int64_t> liveAtOrigin(originals.size(), -1);
  lowered.walk([&](Operation *op) {
    if (!touchesBuffers(op))
      return;
    std::optional<size_t> origin = originOf(op->getLoc());
    if (!origin || *origin >= originals.size())
      return;
    int64_t at = position[op], live = 0;
    for (const PlannedBuffer &buffer : plan->buffers)
      if (buffer.firstUse <= at && at <= buffer.lastUse)
        live += buffer.bytes;
    liveAtOrigin[*origin] = std::max(liveAtOrigin[*origin], live);
  });
  int64_t previous = 0;
  for (auto [op, live] : llvm::zip_equal(originals, liveAtOrigin)) {
    if (live < 0)
      live = previous;
    previous = live;
    estimate.timeline.push_back({op, live});
    if (live > estimate.peakLiveBytes) {
      estimate.peakLiveBytes = live;
      estimate.peakOp = op;
    }
  }
  return estimate;
}
