//===- TestPrintMemoryEstimate.cpp - print the memory estimate ------------===//

#include "autochunk/Passes/MemoryEstimate.h"
#include "autochunk/Passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace autochunk {
#define GEN_PASS_DEF_TESTPRINTMEMORYESTIMATEPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

struct TestPrintMemoryEstimatePass
    : public autochunk::impl::TestPrintMemoryEstimatePassBase<
          TestPrintMemoryEstimatePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    FailureOr<MemoryEstimate> estimate = estimateMemory(func);
    if (failed(estimate))
      return signalPassFailure();
    llvm::raw_ostream &os = llvm::outs();
    os << "memory estimate for @" << func.getSymName() << "\n"
       << "  inputs: " << estimate->inputBytes << " bytes\n"
       << "  weights: " << estimate->weightBytes << " bytes\n";
    for (const MemoryEstimate::OpLiveBytes &entry : estimate->timeline)
      os << "  " << entry.op->getName() << " " << entry.op->getLoc() << ": "
         << entry.liveBytes << " live\n";
    os << "  peak: " << estimate->peakLiveBytes << " bytes live at ";
    if (estimate->peakOp)
      os << estimate->peakOp->getName() << " " << estimate->peakOp->getLoc();
    else
      os << "no op";
    os << "\n  arena: " << estimate->arenaBytes << " bytes\n";
    os.flush();
    markAllAnalysesPreserved();
  }
};

} // namespace
