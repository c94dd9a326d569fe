//===- TestPrintChunkCandidates.cpp - print AutoChunk's candidates --------===//
//
// A test pass: the candidate regions the search forms around each peak, for
// FileCheck.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace autochunk {
#define GEN_PASS_DEF_TESTPRINTCHUNKCANDIDATESPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

struct TestPrintChunkCandidatesPass
    : autochunk::impl::TestPrintChunkCandidatesPassBase<
          TestPrintChunkCandidatesPass> {
  using TestPrintChunkCandidatesPassBase::TestPrintChunkCandidatesPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    raw_ostream &os = llvm::outs();
    DenseMap<Operation *, unsigned> index;
    for (Operation &op : func.getBody().front())
      index[&op] = index.size();
    auto describe = [&](Operation *op) {
      std::string text;
      llvm::raw_string_ostream stream(text);
      stream << index.lookup(op) << ":" << op->getName().getStringRef();
      return text;
    };

    Liveness liveness = computeLiveness(func);
    ChunkSearch search(func, *getTarget("cpu"));
    os << "function @" << func.getSymName() << ": peak "
       << search.unchunkedPeak() << " bytes at "
       << (search.unchunkedPeakOp() ? describe(search.unchunkedPeakOp())
                                    : std::string("none"))
       << " (liveness of the IR: " << liveness.peakBytes << ")\n";
    for (auto [peakIndex, peak] : llvm::enumerate(search.explorePeaks(peaks))) {
      os << "  peak " << peakIndex << ": " << peak.peakBytes << " bytes at "
         << (peak.peakOp ? describe(peak.peakOp) : std::string("a loop"))
         << ", " << peak.candidates.size() << " candidates\n";
      for (const ChunkCandidate &candidate : peak.candidates) {
        os << "    candidate: seed " << describe(candidate.seed.getDefiningOp())
           << " dim " << candidate.seedDim << " extent "
           << candidate.region.extent << " ops [";
        llvm::interleaveComma(candidate.region.ops, os,
                              [&](Operation *op) { os << describe(op); });
        os << "] loop-base " << candidate.loopBaseBytes << " per-row "
           << candidate.bodyBytesPerRow << " min-peak "
           << candidate.minPeakBytes << "\n";
      }
    }
  }
};

} // namespace
