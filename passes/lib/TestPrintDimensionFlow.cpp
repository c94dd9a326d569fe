//===- TestPrintDimensionFlow.cpp - print dimension flow for FileCheck ----===//
//
// A test-only pass: prints what DimensionFlowOpInterface says of every op
// with a tensor result, so lit tests can check each op's rule.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/Support/raw_ostream.h"

namespace autochunk {
#define GEN_PASS_DEF_TESTPRINTDIMENSIONFLOWPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

void printOperandDims(llvm::raw_ostream &os, ArrayRef<OperandDim> dims) {
  llvm::interleaveComma(dims, os, [&](OperandDim dim) {
    os << "op" << dim.operand << ".d" << dim.dim;
  });
}

void printFlow(llvm::raw_ostream &os, Operation *op) {
  StringRef name = op->getName().getStringRef();
  std::string whyNot;
  FailureOr<DimensionFlow> flow = getDimensionFlow(op, &whyNot);
  if (failed(flow)) {
    os << name << " barrier: " << whyNot << "\n";
    return;
  }
  for (auto [index, dims] : llvm::enumerate(flow->results)) {
    os << name << " result " << index << ":";
    if (dims.empty())
      os << " (no dims)";
    for (auto [dim, dimFlow] : llvm::enumerate(dims)) {
      os << (dim == 0 ? " d" : ", d") << dim;
      switch (dimFlow.kind) {
      case ResultDimKind::Flows:
        os << " <- {";
        printOperandDims(os, dimFlow.sources);
        os << "}";
        break;
      case ResultDimKind::Mixed:
        os << " mixed";
        break;
      case ResultDimKind::Opaque:
        os << " opaque";
        break;
      }
    }
    os << "\n";
  }
  os << name << " reduced: ";
  if (flow->reduced.empty())
    os << "none";
  printOperandDims(os, flow->reduced);
  os << "\n";
}

struct TestPrintDimensionFlowPass
    : public autochunk::impl::TestPrintDimensionFlowPassBase<
          TestPrintDimensionFlowPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    llvm::raw_ostream &os = llvm::outs();
    os << "dimension flow of @" << function.getSymName() << "\n";
    // Scalar ops (the bodies of linalg ops) hold nothing to chunk.
    function.walk([&](Operation *op) {
      if (llvm::any_of(op->getResultTypes(), llvm::IsaPred<RankedTensorType>))
        printFlow(os, op);
    });
    os.flush();
    markAllAnalysesPreserved();
  }
};

} // namespace
