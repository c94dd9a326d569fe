//===- CostModel.h - predicted time of graph ops and chunk loops -*- C++
//-*-===//
//
// AutoChunk's time model: every graph op costs FLOPs and bytes moved, run
// against a target's peak rates (a roofline: max(flops / peak, bytes /
// bandwidth)) plus a fixed overhead per kernel call. A chunked region runs
// its ops once per chunk on chunk-sized data, so small chunks pay call and
// iteration overhead, and an operand read whole by every chunk (the keys of
// attention) is moved once per chunk.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_COSTMODEL_H
#define AUTOCHUNK_PASSES_COSTMODEL_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <string>

namespace autochunk {

/// What the time model knows of a machine.
struct Target {
  std::string name;
  double peakFlops = 0;         ///< FLOP/s
  double bandwidth = 0;         ///< bytes/s
  double callOverhead = 0;      ///< seconds per kernel call
  double iterationOverhead = 0; ///< seconds per chunk-loop iteration
  /// Passes over its operands a contraction makes before computing (the
  /// CPU runtime packs both GEMM operands into panels on every call: 2, a
  /// read and a write; cuBLAS reads operands in place: 0). This is what a
  /// chunk loop pays again per chunk for an operand it reads whole.
  double packPasses = 0;
};

/// The built-in targets: "cpu" (two cores, fp32) and "h100" (fp32 without
/// TF32); std::nullopt for any other name.
std::optional<Target> getTarget(llvm::StringRef name);

/// The work of one op run once.
struct OpCost {
  double flops = 0;
  double bytes = 0;
  int64_t calls = 0;
  /// Operand bytes a contraction packs before computing (Target::packPasses).
  double packBytes = 0;
};

/// The work of `op` on whole tensors: contractions (matmul, linear, einsum)
/// two FLOPs per multiply-add; elementwise ops one FLOP per result element,
/// softmax 4 and layer_norm 6 per element, reductions one per input element,
/// attention 2(D + E) + 4 per logit it never stores (half of them causal);
/// bytes are every tensor operand read once and every result written once.
/// Views (reshape, slice) and constants cost nothing and make no call; a
/// concat is one copy per input. A linalg structured op costs one FLOP per
/// body op (the yield aside) at every point of its iteration domain (a
/// matmul 2MNK, a fill nothing), linalg.softmax 4 per element, and one call.
/// Ops of other dialects (tensor.empty, slices) cost nothing.
OpCost estimateOpCost(mlir::Operation *op);

/// The work of `op` on one chunk that is `fraction` of the extent: FLOPs and
/// results scale by `fraction`, and so do operands marked in
/// `operandSliced`; the other operands are read whole.
OpCost estimateChunkOpCost(mlir::Operation *op,
                           llvm::ArrayRef<bool> operandSliced, double fraction);

/// Roofline time of `cost` on `target`, plus its calls' overhead.
double predictSeconds(const OpCost &cost, const Target &target);

/// Time of `ops` run unchunked.
double predictSeconds(llvm::ArrayRef<mlir::Operation *> ops,
                      const Target &target);

/// Time of the chunk loop over `ops` (a region in block order; `chunkDims`
/// holds every chunked value, as in ChunkRegion): ceil(extent / chunkSize)
/// chunks, the last one possibly smaller, each running every op on its
/// chunk, copying each region output's chunk into the full result (one call
/// and twice the chunk's bytes) and paying the iteration overhead.
/// `recomputedOps` (ops outside the region whose chunk every iteration
/// recomputes) add their chunk's cost and no copy.
double
predictChunkedSeconds(llvm::ArrayRef<mlir::Operation *> ops,
                      const llvm::DenseMap<mlir::Value, int64_t> &chunkDims,
                      int64_t extent, int64_t chunkSize, const Target &target,
                      llvm::ArrayRef<mlir::Operation *> recomputedOps = {});

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_COSTMODEL_H
