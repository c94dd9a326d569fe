//===- Registration.h - everything an AutoChunk tool registers --*- C++ -*-===//
//
// One place that lists the dialects, external models and passes the AutoChunk
// pipeline needs, shared by chunk-opt, chunk-compile and the tests.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_REGISTRATION_H
#define AUTOCHUNK_PASSES_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace autochunk {

/// The graph and kernel dialects, the upstream dialects the lowering passes
/// produce, and their bufferization and LLVM-conversion external models.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Every AutoChunk pass and the upstream passes the pipeline runs.
void registerAllPasses();

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_REGISTRATION_H
