//===- GraphSummary.cpp - print what the pipeline knows of a graph --------===//
//
// A reporting pass: sizes of inputs, weights and outputs, op counts,
// contraction FLOPs and a naive liveness peak per function. The main job
// prints it for the bundled models; lit tests FileCheck it.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/CostModel.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace autochunk {
#define GEN_PASS_DEF_GRAPHSUMMARYPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// "123456 bytes (120.56 KiB)": exact for FileCheck, readable for people.
std::string formatBytes(int64_t bytes) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << bytes << " bytes";
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  double scaled = static_cast<double>(bytes);
  int unit = -1;
  while (scaled >= 1024.0 && unit < 3) {
    scaled /= 1024.0;
    ++unit;
  }
  if (unit >= 0)
    os << " (" << llvm::format("%.2f", scaled) << " " << units[unit] << ")";
  return text;
}

struct ArgumentGroup {
  int64_t count = 0;
  int64_t bytes = 0;
  int64_t elements = 0;
};

/// The name a function argument or result is known by.
std::string nameOf(DictionaryAttr attrs, StringRef fallback) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(graph::GraphDialect::kNameAttrName))
      return name.getValue().str();
  return fallback.str();
}

void summarize(func::FuncOp func, raw_ostream &os) {
  os << "function @" << func.getSymName() << "\n";
  if (func.isExternal()) {
    os << "  (declaration only)\n";
    return;
  }
  Block &body = func.getBody().front();

  ArgumentGroup inputs, weights;
  SmallVector<std::string> inputLines;
  for (BlockArgument argument : body.getArguments()) {
    DictionaryAttr attrs = func.getArgAttrDict(argument.getArgNumber());
    auto role =
        attrs ? attrs.getAs<StringAttr>(graph::GraphDialect::kRoleAttrName)
              : StringAttr();
    bool isWeight = role && role.getValue() == "weight";
    ArgumentGroup &group = isWeight ? weights : inputs;
    ++group.count;
    group.bytes += staticTensorBytes(argument.getType());
    if (auto tensor = dyn_cast<RankedTensorType>(argument.getType()))
      group.elements += tensor.getNumElements();
    if (!isWeight) {
      std::string line;
      llvm::raw_string_ostream lineOs(line);
      lineOs << "    "
             << nameOf(attrs, "arg" + std::to_string(argument.getArgNumber()))
             << ": " << argument.getType();
      inputLines.push_back(line);
    }
  }
  os << "  inputs: " << inputs.count << ", " << formatBytes(inputs.bytes)
     << "\n";
  for (const std::string &line : inputLines)
    os << line << "\n";
  os << "  weights: " << weights.count << ", " << weights.elements
     << " parameters, " << formatBytes(weights.bytes) << "\n";

  Operation *terminator = body.getTerminator();
  int64_t outputBytes = 0;
  for (Value result : terminator->getOperands())
    outputBytes += staticTensorBytes(result.getType());
  os << "  outputs: " << terminator->getNumOperands() << ", "
     << formatBytes(outputBytes) << "\n";
  for (auto [index, result] : llvm::enumerate(terminator->getOperands()))
    os << "    "
       << nameOf(func.getResultAttrDict(index),
                 "result" + std::to_string(index))
       << ": " << result.getType() << "\n";

  // Op counts, in first-seen order for a stable listing.
  llvm::MapVector<StringRef, int64_t> opCounts;
  int64_t numOps = 0;
  double flops = 0, bytesMoved = 0;
  func.walk([&](Operation *op) {
    if (op == func || op == terminator)
      return;
    ++numOps;
    ++opCounts[op->getName().getStringRef()];
    OpCost cost = estimateOpCost(op);
    flops += cost.flops;
    bytesMoved += cost.bytes;
  });
  os << "  ops: " << numOps << "\n";
  for (auto [name, count] : opCounts)
    os << "    " << name << ": " << count << "\n";
  // The cost model's counts: what the chunk search's time predictions use.
  os << "  flops: " << static_cast<int64_t>(flops)
     << "\n  bytes moved: " << static_cast<int64_t>(bytesMoved) << "\n";

  int64_t intermediateBytes = 0, intermediateCount = 0;
  for (Operation &op : body.without_terminator())
    for (Value result : op.getResults()) {
      intermediateBytes += staticTensorBytes(result.getType());
      ++intermediateCount;
    }
  os << "  intermediate values: " << intermediateCount << ", "
     << formatBytes(intermediateBytes) << " in all\n";
  // The chunk search's liveness model (views, in-place elementwise ops); the
  // exact arena is autochunk-test-print-memory-estimate's.
  Liveness liveness = computeLiveness(func);
  os << "  activation peak: " << formatBytes(liveness.peakBytes);
  if (liveness.peakOp)
    os << " at " << liveness.peakOp->getName() << " "
       << liveness.peakOp->getLoc();
  os << "\n";
}

struct GraphSummaryPass
    : public autochunk::impl::GraphSummaryPassBase<GraphSummaryPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      summarize(func, llvm::outs());
    llvm::outs().flush();
    markAllAnalysesPreserved();
  }
};

} // namespace
