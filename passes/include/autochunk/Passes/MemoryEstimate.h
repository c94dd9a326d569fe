//===- MemoryEstimate.h - the exact activation memory of a graph -*- C++
//-*-===//
//
// What the executable compiled from a graph will allocate, and when: the
// estimate runs the real lowering (kernel calls, one-shot bufferization, the
// memory planner) on a copy of the function, so it predicts the planned arena
// exactly by construction — the analysis and the planner share one liveness
// model, the planner's. Each planned buffer is traced back to the graph op
// whose lowering created it, which gives a timeline of live bytes per graph
// op.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_MEMORYESTIMATE_H
#define AUTOCHUNK_PASSES_MEMORYESTIMATE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace autochunk {

struct MemoryEstimate {
  /// The planned arena: the activation bytes the executable allocates.
  int64_t arenaBytes = 0;
  /// Bytes of the function's arguments, by graph.role (inputs and weights
  /// are not activations; they are reported apart).
  int64_t inputBytes = 0;
  int64_t weightBytes = 0;

  /// Live activation bytes while each op of the function's body runs (an op
  /// in a chunk loop: the largest over its chunks), in body order. Ops that
  /// lower to no kernel (views, constants) carry the bytes live at the
  /// previous op.
  struct OpLiveBytes {
    mlir::Operation *op;
    int64_t liveBytes;
  };
  llvm::SmallVector<OpLiveBytes> timeline;
  /// The largest timeline entry, and the op where it happens. The arena can
  /// exceed it when no offset assignment packs the buffers perfectly.
  int64_t peakLiveBytes = 0;
  mlir::Operation *peakOp = nullptr;
};

/// Estimates `func` (graph ops or linalg on tensors, possibly with chunk
/// loops; linalg ops stay linalg ops on buffers after bufferization, with a
/// memref.alloc per tensor.empty, which the planner places like any other
/// buffer). Fails, with diagnostics, when the function cannot be lowered.
mlir::FailureOr<MemoryEstimate> estimateMemory(mlir::func::FuncOp func);

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_MEMORYESTIMATE_H
