//===- Pipelines.h - the AutoChunk lowering pipelines -----------*- C++ -*-===//
//
// The pass pipelines that take a graph to its memory plan and on to the LLVM
// dialect, in steps. chunk-compile runs them phase by phase, the memory
// estimate runs them on a copy, and they are registered as named pipelines
// for chunk-opt and for other tools' pipeline strings.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_PIPELINES_H
#define AUTOCHUNK_PASSES_PIPELINES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include "llvm/ADT/StringRef.h"

namespace autochunk {

/// The lowering steps after the graph phase, in order.
enum class LoweringStep { Kernels, Bufferize, Plan, Calls, LLVM };

/// The textual pipeline (module-level) of one step.
llvm::StringRef getLoweringPipeline(LoweringStep step);

/// The graph-level preparation before AutoChunk (module-level):
/// canonicalization, batch-major einsums and, with `fuseAttention`, fused
/// attention. chunk-compile's graph phase, `autochunk-pipeline` and
/// chunk-plan-dump run the same one, so they plan the same graph.
std::string getGraphPreparationPipeline(bool fuseAttention);

/// The bufferization models linalg-on-tensors input needs (linalg ops and
/// linalg.softmax on buffers), which a tool registering only what graph
/// input needs lacks. Stock mlir-opt registers them itself.
void registerLinalgBufferizationModels(mlir::DialectRegistry &registry);

/// A pass that does nothing but declare the models above as dependent
/// dialects: a pass manager running it appends them to the context before
/// any pass runs (so a pipeline can bufferize linalg whatever tool runs it).
std::unique_ptr<mlir::Pass> createLinalgBufferizationModelsPass();

/// Options of the whole AutoChunk pipeline.
struct AutoChunkPipelineOptions
    : public mlir::PassPipelineOptions<AutoChunkPipelineOptions> {
  Option<std::string> memoryBudget{
      *this, "memory-budget",
      llvm::cl::desc("Activation budget (bytes, KiB/MiB/GiB, or a fraction "
                     "of the unchunked peak such as 0.1x); no chunking when "
                     "empty"),
      llvm::cl::init("")};
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("Cost-model target: cpu or h100"),
                             llvm::cl::init("cpu")};
  Option<bool> fuseAttention{
      *this, "fuse-attention",
      llvm::cl::desc("Fuse attention chains into graph.attention first (the "
                     "logits are never stored)"),
      llvm::cl::init(true)};
  Option<bool> lowerToLLVM{
      *this, "lower-to-llvm",
      llvm::cl::desc("Lower to the LLVM dialect (else stop at the memory "
                     "plan)"),
      llvm::cl::init(true)};
};

/// Canonicalization, the AutoChunk pass (when a budget is given) and the
/// lowering steps: what chunk-compile runs, as one pipeline for other tools.
/// It takes graph input, linalg-on-tensors input or a mix; linalg ops stay
/// linalg ops on buffers in the arena, so lower-to-llvm=true needs a
/// linalg-to-loops step the caller adds (use lower-to-llvm=false).
void buildAutoChunkPipeline(mlir::OpPassManager &pm,
                            const AutoChunkPipelineOptions &options);

/// Registers `autochunk-pipeline` (buildAutoChunkPipeline),
/// `autochunk-lower-to-plan` (graph to memory plan) and
/// `autochunk-lower-to-llvm` (graph to the LLVM dialect).
void registerAutoChunkPipelines();

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_PIPELINES_H
