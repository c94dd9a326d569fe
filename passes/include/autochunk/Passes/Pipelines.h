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

#include "llvm/ADT/StringRef.h"

namespace autochunk {

/// The lowering steps after the graph phase, in order.
enum class LoweringStep { Kernels, Bufferize, Plan, Calls, LLVM };

/// The textual pipeline (module-level) of one step.
llvm::StringRef getLoweringPipeline(LoweringStep step);

/// Registers `autochunk-lower-to-plan` (graph to memory plan) and
/// `autochunk-lower-to-llvm` (graph to the LLVM dialect).
void registerAutoChunkPipelines();

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_PIPELINES_H
