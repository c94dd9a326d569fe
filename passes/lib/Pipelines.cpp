//===- Pipelines.cpp - the AutoChunk lowering pipelines -------------------===//

#include "autochunk/Passes/Pipelines.h"

#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace autochunk;

StringRef autochunk::getLoweringPipeline(LoweringStep step) {
  switch (step) {
  case LoweringStep::Kernels:
    return "func.func(autochunk-lower-graph-to-kernels),canonicalize";
  case LoweringStep::Bufferize:
    // Empty-tensor elimination lets the last op of a chunk write straight
    // into its slice of the full result; the canonicalizations afterwards
    // drop the self-copies of insert_slice into a buffer the chunk already
    // wrote in place, and loop-carried buffers that are only passed through.
    return "eliminate-empty-tensors,"
           "one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map},"
           "canonicalize,cse,canonicalize";
  case LoweringStep::Plan:
    return "func.func(autochunk-plan-memory),canonicalize";
  case LoweringStep::Calls:
    return "autochunk-lower-kernels-to-calls";
  case LoweringStep::LLVM:
    return "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
           "finalize-memref-to-llvm,convert-arith-to-llvm,"
           "convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,"
           "reconcile-unrealized-casts";
  }
  llvm_unreachable("unknown lowering step");
}

void autochunk::registerLinalgBufferizationModels(DialectRegistry &registry) {
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
}

namespace {
/// See createLinalgBufferizationModelsPass.
struct LinalgBufferizationModelsPass
    : public PassWrapper<LinalgBufferizationModelsPass,
                         OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LinalgBufferizationModelsPass)

  StringRef getArgument() const final {
    return "autochunk-linalg-bufferization-models";
  }
  StringRef getDescription() const final {
    return "Makes the linalg bufferization models available (no-op)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registerLinalgBufferizationModels(registry);
  }
  void runOnOperation() override { markAllAnalysesPreserved(); }
};
} // namespace

std::unique_ptr<Pass> autochunk::createLinalgBufferizationModelsPass() {
  return std::make_unique<LinalgBufferizationModelsPass>();
}

/// Appends the steps from Kernels through `last` to `pm`. The step strings
/// are constants that the lit tests exercise, so a parse failure is a bug.
static void addLoweringSteps(OpPassManager &pm, LoweringStep last) {
  pm.addPass(createLinalgBufferizationModelsPass());
  for (int step = 0; step <= static_cast<int>(last); ++step)
    if (failed(parsePassPipeline(
            getLoweringPipeline(static_cast<LoweringStep>(step)), pm,
            llvm::errs())))
      llvm::report_fatal_error("an AutoChunk lowering step does not parse");
}

std::string autochunk::getGraphPreparationPipeline(bool fuseAttention) {
  // Attention fuses after canonicalization has folded scales and identity
  // ops out of its chains.
  std::string pipeline = "canonicalize,func.func(autochunk-einsum-batch-major";
  if (fuseAttention)
    pipeline += ",autochunk-fuse-attention";
  return pipeline + ")";
}

void autochunk::buildAutoChunkPipeline(
    OpPassManager &pm, const AutoChunkPipelineOptions &options) {
  std::string pipeline = getGraphPreparationPipeline(options.fuseAttention);
  if (!options.memoryBudget.empty())
    pipeline +=
        ",func.func(autochunk-chunk{memory-budget=" + options.memoryBudget +
        " target=" + options.target + "})";
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("the AutoChunk pipeline does not parse");
  addLoweringSteps(pm, options.lowerToLLVM ? LoweringStep::LLVM
                                           : LoweringStep::Plan);
}

void autochunk::registerAutoChunkPipelines() {
  PassPipelineRegistration<AutoChunkPipelineOptions>(
      "autochunk-pipeline",
      "AutoChunk under a memory budget, then the lowering to the memory plan "
      "or to the LLVM dialect",
      buildAutoChunkPipeline);
  PassPipelineRegistration<>(
      "autochunk-lower-to-plan",
      "Lowers graph ops to kernel calls, bufferizes and plans the arena",
      [](OpPassManager &pm) { addLoweringSteps(pm, LoweringStep::Plan); });
  PassPipelineRegistration<>(
      "autochunk-lower-to-llvm",
      "Lowers graph ops all the way to the LLVM dialect (runtime calls)",
      [](OpPassManager &pm) { addLoweringSteps(pm, LoweringStep::LLVM); });
}
