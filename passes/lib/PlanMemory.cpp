//===- PlanMemory.cpp - rewrite allocations into one arena ----------------===//
//
// Applies the memory plan (MemoryPlan.h) to a bufferized function, and a
// test pass that prints the plan for FileCheck.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/MemoryPlan.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/raw_ostream.h"

namespace autochunk {
#define GEN_PASS_DEF_PLANMEMORYPASS
#define GEN_PASS_DEF_TESTPRINTMEMORYPLANPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

struct PlanMemoryPass
    : public autochunk::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using PlanMemoryPassBase::PlanMemoryPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    for (Type type : func.getResultTypes())
      if (!isa<MemRefType>(type)) {
        func.emitOpError("must be bufferized before memory planning, but "
                         "returns ")
            << type;
        return signalPassFailure();
      }
    prepareOutputsForPlanning(func);
    FailureOr<MemoryPlan> plan = planMemory(func, alignment);
    if (failed(plan))
      return signalPassFailure();

    MLIRContext *context = &getContext();
    Builder b(context);
    auto arenaType = MemRefType::get({std::max<int64_t>(plan->arenaBytes, 1)},
                                     IntegerType::get(context, 8));
    unsigned arenaIndex = func.getNumArguments();
    if (failed(func.insertArgument(arenaIndex, arenaType,
                                   b.getDictionaryAttr(b.getNamedAttr(
                                       "autochunk.arena", b.getUnitAttr())),
                                   func.getLoc()))) {
      func.emitOpError("cannot add the arena argument");
      return signalPassFailure();
    }
    Value arena = func.getArgument(arenaIndex);

    for (PlannedBuffer &buffer : plan->buffers) {
      OpBuilder builder(buffer.alloc);
      Value offset = arith::ConstantIndexOp::create(
          builder, buffer.alloc.getLoc(), buffer.offset);
      auto view = memref::ViewOp::create(builder, buffer.alloc.getLoc(),
                                         buffer.alloc.getType(), arena, offset,
                                         ValueRange{});
      buffer.alloc.replaceAllUsesWith(view.getResult());
    }

    // Outputs stay in the arena; the caller reads them at these offsets.
    auto returnOp = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    SmallVector<Attribute> outputs;
    for (auto [index, value] : llvm::enumerate(returnOp.getOperands())) {
      auto view = value.getDefiningOp<memref::ViewOp>();
      auto offset =
          view.getByteShift().getDefiningOp<arith::ConstantIndexOp>().value();
      SmallVector<NamedAttribute> fields{
          b.getNamedAttr("offset", b.getI64IntegerAttr(offset)),
          b.getNamedAttr("type", TypeAttr::get(value.getType()))};
      if (DictionaryAttr attrs = func.getResultAttrDict(index))
        if (Attribute name = attrs.get("graph.name"))
          fields.push_back(b.getNamedAttr("name", name));
      outputs.push_back(b.getDictionaryAttr(fields));
    }
    for (PlannedBuffer &buffer : plan->buffers)
      buffer.alloc.erase();
    returnOp->setOperands({});
    (void)func.eraseResults(llvm::BitVector(func.getNumResults(), true));
    func->setAttr("autochunk.outputs", b.getArrayAttr(outputs));
    func->setAttr("autochunk.arena_bytes",
                  b.getI64IntegerAttr(plan->arenaBytes));
  }
};

struct TestPrintMemoryPlanPass
    : public autochunk::impl::TestPrintMemoryPlanPassBase<
          TestPrintMemoryPlanPass> {
  using TestPrintMemoryPlanPassBase::TestPrintMemoryPlanPassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    FailureOr<MemoryPlan> plan = planMemory(func, alignment);
    if (failed(plan))
      return signalPassFailure();
    llvm::raw_ostream &os = llvm::outs();
    os << "memory plan for @" << func.getSymName() << "\n";
    for (PlannedBuffer &buffer : plan->buffers) {
      os << "  buffer " << buffer.alloc.getType() << ": " << buffer.bytes
         << " bytes at offset " << buffer.offset << ", live ["
         << buffer.firstUse << ", " << buffer.lastUse << "]";
      if (buffer.isOutput)
        os << " output";
      os << "\n";
    }
    os << "  arena: " << plan->arenaBytes << " bytes\n";
    os.flush();
    markAllAnalysesPreserved();
  }
};

} // namespace
