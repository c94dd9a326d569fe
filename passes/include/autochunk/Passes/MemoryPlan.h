//===- MemoryPlan.h - one arena for every intermediate buffer ---*- C++ -*-===//
//
// The static memory planner: after bufferization every intermediate buffer
// is a memref.alloc with a static shape; the plan gives each one an offset
// into a single arena from its liveness interval, so buffers whose lifetimes
// do not overlap share bytes. A buffer allocated inside a loop body lives
// within one iteration and the next iteration reuses its bytes; a buffer
// from outside the loop that the body uses lives through the whole loop.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_MEMORYPLAN_H
#define AUTOCHUNK_PASSES_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace autochunk {

/// One intermediate buffer and where the plan puts it.
struct PlannedBuffer {
  mlir::memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t offset = 0;
  /// Positions, in a pre-order walk of the function, of the allocation and of
  /// the last op that touches the buffer or any view of it.
  int64_t firstUse = 0;
  int64_t lastUse = 0;
  bool isOutput = false;
};

struct MemoryPlan {
  llvm::SmallVector<PlannedBuffer> buffers;
  /// The arena size: the largest offset + size (offsets are aligned; the
  /// size is not padded).
  int64_t arenaBytes = 0;
  int64_t alignment = 0;
};

/// Makes every value `func` returns the direct result of a memref.alloc of
/// its own (a copy is inserted for a view, an argument, a constant or a
/// buffer returned twice), so that each output is one arena buffer the
/// caller can read. Run before planMemory.
void prepareOutputsForPlanning(mlir::func::FuncOp func);

/// Plans every memref.alloc of `func`. Fails (with a diagnostic) on an
/// allocation whose size is not static.
mlir::FailureOr<MemoryPlan> planMemory(mlir::func::FuncOp func,
                                       int64_t alignment = 64);

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_MEMORYPLAN_H
