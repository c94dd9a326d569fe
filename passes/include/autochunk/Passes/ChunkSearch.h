//===- ChunkSearch.h - AutoChunk's liveness, region search and plan -*- C++
//-*-===//
//
// The heart of AutoChunk: a liveness model of graph-level IR (the search's
// memory estimate), the search for chunk regions around each activation
// peak, and the selection of a plan (regions, dims, chunk sizes) that meets
// a memory budget at the least predicted time (CostModel.h).
//
// The memory model, which the compiled executable follows: every
// intermediate and output tensor is a buffer in one arena; function
// arguments and constants are not counted; graph.reshape and graph.slice are
// views of their input (tensor.extract_slice, insert_slice and scf.for
// results alias their source, destination and init); an elementwise op whose
// operand has the result's type, was produced by a kernel (a graph op other
// than a view, constant or concat) and has no other user computes in place;
// a buffer lives from its producing op to its last use (a returned one to the
// end), and a buffer used inside a loop it was not created in lives through
// the whole loop.
//
// Linalg-on-tensors input follows the same model through destination-passing
// style: a static tensor.empty is a fresh buffer, and a linalg op (or
// linalg.softmax) writes its result into its init's buffer when it is the
// init's only reader (what one-shot bufferization does), so empty -> fill ->
// matmul is one buffer. Regions take the empty destinations and fills in
// with their writers (each clone gets the chunk's type); a linalg loop that
// is a reduction never becomes the chunk dimension (dimension flow).
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_CHUNKSEARCH_H
#define AUTOCHUNK_PASSES_CHUNKSEARCH_H

#include "autochunk/Passes/ChunkRewrite.h"
#include "autochunk/Passes/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <memory>
#include <string>
#include <vector>

namespace autochunk {

/// Bytes of a statically shaped ranked tensor type; 0 for any other type.
int64_t staticTensorBytes(mlir::Type type);

/// Live activation bytes over a function, ops numbered in pre-order.
struct Liveness {
  llvm::SmallVector<mlir::Operation *> ops;
  /// Bytes live while each op of `ops` runs.
  llvm::SmallVector<int64_t> liveBytes;
  int64_t peakBytes = 0;
  mlir::Operation *peakOp = nullptr;
};

/// The liveness of `func` under the memory model above: graph ops, and the
/// scf.for / tensor.empty / extract_slice / insert_slice the chunk rewrite
/// makes. Ops of other dialects with tensor results get a fresh buffer.
Liveness computeLiveness(mlir::func::FuncOp func);

/// Parses a memory budget: bytes ("123456"), binary units ("512KiB",
/// "512MiB", "2GiB"), decimal units ("2GB", "500MB", "64KB") or a fraction
/// of the unchunked activation peak ("0.3x"). Failure, with the reason in
/// `error` (when given), for anything else or a budget that is not positive.
mlir::FailureOr<int64_t> parseMemoryBudget(llvm::StringRef text,
                                           int64_t unchunkedPeak,
                                           std::string *error = nullptr);

/// A region the search proposes (its chunk size not yet chosen).
struct ChunkCandidate {
  ChunkRegion region;
  /// The value the region was grown from and its chunked dimension.
  mlir::Value seed;
  int64_t seedDim = 0;
  /// With this region alone chunked: the bytes live outside the loop's body
  /// while it runs, and the body's bytes per unit of chunk size; the loop's
  /// peak is `loopBaseBytes + chunkSize * bodyBytesPerRow`.
  int64_t loopBaseBytes = 0;
  int64_t bodyBytesPerRow = 0;
  /// The function's peak with this region alone chunked at chunk size 1.
  int64_t minPeakBytes = 0;
};

/// Candidates around one peak.
struct PeakCandidates {
  int64_t peakBytes = 0;
  mlir::Operation *peakOp = nullptr; ///< a graph op, or null at a chunk loop
  std::vector<ChunkCandidate> candidates;
};

/// One chosen region of a plan.
struct PlannedRegion {
  ChunkRegion region; ///< with its chunk size
  int64_t seedDim = 0;
  /// The largest live bytes at the region's ops before chunking, and at its
  /// loop after.
  int64_t bytesBefore = 0;
  int64_t bytesAfter = 0;
  /// Predicted time of the region's ops unchunked and as a chunk loop.
  double secondsBefore = 0;
  double secondsAfter = 0;
};

struct ChunkPlan {
  std::vector<PlannedRegion> regions;
  int64_t peakBefore = 0, peakAfter = 0;
  double secondsBefore = 0, secondsAfter = 0;
};

struct SearchOptions {
  /// Plans kept per step; 1 is plain greedy (lowest peak first).
  unsigned beamWidth = 4;
  /// The largest live buffers at a peak that seed regions.
  unsigned seedsPerPeak = 4;
  /// A region grows through a value only while it holds at least this
  /// fraction of the seed's bytes; one candidate per fraction.
  llvm::SmallVector<double, 3> growthFractions = {0.5, 0.125, 1.0 / 64};
  /// At most this many ops per region.
  unsigned maxRegionOps = 64;
  /// Sub-regions (intervals with a small boundary) derived from each grown
  /// region; 0 keeps only the grown regions.
  unsigned maxTrimmedPerRegion = 3;
  /// Whether a region may displace a chosen region it partly overlaps: the
  /// displaced region keeps its ops before and after the new one as two
  /// regions, the ops in between run unchunked again; such a step must
  /// lower the peak.
  bool displaceRegions = true;
  /// Whether each seed also grows through its users before its producers
  /// (a second candidate per growth fraction).
  bool forwardFirstGrowth = true;
};

/// The search over one function's top-level graph ops. The function must not
/// change while the search lives.
class ChunkSearch {
public:
  ChunkSearch(mlir::func::FuncOp func, const Target &target,
              SearchOptions options = {});
  ~ChunkSearch();
  ChunkSearch(const ChunkSearch &) = delete;
  ChunkSearch &operator=(const ChunkSearch &) = delete;

  /// The unchunked function's activation peak, where it is and its time.
  int64_t unchunkedPeak() const;
  mlir::Operation *unchunkedPeakOp() const;
  double unchunkedSeconds() const;

  /// Candidates around up to `numPeaks` peaks: the unchunked peak, then the
  /// peak left after chunking the previous peak's lowest-peak candidate at
  /// chunk size 1.
  std::vector<PeakCandidates> explorePeaks(unsigned numPeaks);

  /// A plan whose predicted peak is at most `budget` bytes at the least
  /// predicted time found by a beam search, going peak by peak. Failure when
  /// no plan reaches the budget; `smallestPeak` then holds the lowest peak
  /// reached.
  mlir::FailureOr<ChunkPlan> select(int64_t budget, int64_t &smallestPeak);

private:
  /// One beam search with the current settings (select varies them).
  mlir::FailureOr<ChunkPlan> selectOnce(int64_t budget, int64_t &smallestPeak);

public:
private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_CHUNKSEARCH_H
