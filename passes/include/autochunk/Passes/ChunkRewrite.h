//===- ChunkRewrite.h - rewrite a region into a loop over chunks -*- C++
//-*-===//
//
// The mechanics of AutoChunk's rewrite: given a region of graph ops and, for
// every value it produces or slices, the dimension it is chunked along, build
// an scf.for over chunks whose body computes one chunk of every region output
// from tensor.extract_slice'd inputs and writes it with tensor.insert_slice
// into the full result. Each region op is cloned once per iteration, in
// order (a region is a DAG: a producer shared by two consumers is computed
// once per chunk, not once per use). Shapes stay static: a chunk size that
// does not divide the extent gets one more copy of the body for the
// remainder, after the loop.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_CHUNKREWRITE_H
#define AUTOCHUNK_PASSES_CHUNKREWRITE_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace autochunk {

struct ChunkRegion {
  /// The ops to chunk, all in one block, in block order.
  llvm::SmallVector<mlir::Operation *> ops;
  /// The chunked dimension of every result of `ops`, and of every region
  /// input that is sliced; inputs without an entry are used whole.
  llvm::DenseMap<mlir::Value, int64_t> chunkDims;
  /// The extent of the chunked dimension (the same for every chunked value).
  int64_t extent = 0;
  int64_t chunkSize = 0;
  /// Ops before the region whose results the region reads sliced, and whose
  /// chunk is recomputed at the top of every iteration from their own sliced
  /// operands instead (a layer norm of a residual that other ops also need
  /// whole: its full result then dies before the loop). The originals stay
  /// for their other users. In block order; their results and sliced
  /// operands need entries in `chunkDims`.
  llvm::SmallVector<mlir::Operation *> recomputedOps;
};

/// Whether the loop over `region` may write `output` into the buffer of the
/// region input `input` (chunk by chunk, where each chunk of `input` is read
/// before the same chunk of `output` is written): same type and chunk
/// dimension, `input` is a fresh buffer (no argument, constant or view) and
/// nothing outside the region reads it at or after `insertionPoint`, also
/// through a view of it (a reshape, an earlier chunk loop's slices, a loop
/// that starts from it): a view may exist before the loop when all its
/// readers run before it and none is in the region. The rewrite then makes
/// `input` the loop's initial value, so bufferization reuses its buffer; the
/// search models the same rule.
bool mayWriteOutputInPlace(const ChunkRegion &region, mlir::Value output,
                           mlir::Value input, mlir::Operation *insertionPoint);

/// What the rewrite built.
struct ChunkLoop {
  mlir::scf::ForOp loop; ///< null when the chunk size covers the extent
  int64_t numChunks = 0; ///< including the remainder chunk
};

/// Rewrites `region` into a loop over chunks, replacing the region's outputs
/// (results used outside it) and erasing its ops. An output that may be
/// written in place (mayWriteOutputInPlace) takes over the buffer of one
/// such input. Fails without changing the
/// IR, with a diagnostic, when the region is not well formed (a chunked value
/// whose dimension has another extent, an op using a region result from
/// outside before the loop could run, ...).
mlir::FailureOr<ChunkLoop> rewriteChunkRegion(mlir::RewriterBase &rewriter,
                                              const ChunkRegion &region);

/// The order to rewrite several regions in: consumers before producers, so
/// every value a region slices still exists when it is rewritten (the
/// rewrite replaces a region's outputs with its loop's results).
llvm::SmallVector<size_t>
chunkRewriteOrder(llvm::ArrayRef<ChunkRegion> regions);

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_CHUNKREWRITE_H
