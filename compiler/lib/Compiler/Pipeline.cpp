//===- Pipeline.cpp - the phases of chunk-compile and their contracts -----===//

#include "autochunk/Compiler/Compiler.h"

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/MemoryEstimate.h"
#include "autochunk/Passes/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace autochunk;

std::optional<Phase> autochunk::parsePhase(StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("graph", Phase::Graph)
      .Case("kernels", Phase::Kernels)
      .Case("bufferized", Phase::Bufferized)
      .Case("planned", Phase::Planned)
      .Case("calls", Phase::Calls)
      .Case("llvm", Phase::LLVM)
      .Default(std::nullopt);
}

StringRef autochunk::phaseName(Phase phase) {
  switch (phase) {
  case Phase::Graph:
    return "graph";
  case Phase::Kernels:
    return "kernels";
  case Phase::Bufferized:
    return "bufferized";
  case Phase::Planned:
    return "planned";
  case Phase::Calls:
    return "calls";
  case Phase::LLVM:
    return "llvm";
  }
  llvm_unreachable("unknown phase");
}

std::optional<EmitKind> autochunk::parseEmitKind(StringRef name) {
  return llvm::StringSwitch<std::optional<EmitKind>>(name)
      .Case("mlir", EmitKind::MLIR)
      .Case("llvm", EmitKind::LLVMIR)
      .Case("obj", EmitKind::Object)
      .Case("exe", EmitKind::Executable)
      .Case("lib", EmitKind::Library)
      .Default(std::nullopt);
}

int64_t ModelTensor::numElements() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

int64_t ModelTensor::bytes() const {
  return numElements() * (dtype == "f32" ? 4 : 2);
}

//===----------------------------------------------------------------------===//
// The model interface
//===----------------------------------------------------------------------===//

/// Names become file names (`<name>.npy`) and C string literals.
static bool isSafeName(StringRef name) {
  return !name.empty() && name != "." && name != ".." &&
         llvm::all_of(name, [](char c) {
           return llvm::isAlnum(c) || c == '.' || c == '_' || c == '-';
         });
}

static FailureOr<ModelTensor> describeTensor(Location loc, Type type,
                                             DictionaryAttr attrs,
                                             std::string fallbackName,
                                             ModelTensor::Role role) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return emitError(loc) << "model arguments and results must be statically "
                             "shaped tensors, but got "
                          << type;
  ModelTensor result;
  Type element = tensor.getElementType();
  if (element.isF32())
    result.dtype = "f32";
  else if (element.isF16())
    result.dtype = "f16";
  else if (element.isBF16())
    result.dtype = "bf16";
  else
    return emitError(loc) << "unsupported element type " << element;
  if (tensor.getRank() > 8)
    return emitError(loc) << "the runtime supports rank at most 8, but got "
                          << type;
  result.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  result.role = role;
  result.name = std::move(fallbackName);
  if (attrs) {
    if (auto name = attrs.getAs<StringAttr>(graph::GraphDialect::kNameAttrName))
      result.name = name.getValue().str();
    if (role != ModelTensor::Role::Output)
      if (auto roleAttr =
              attrs.getAs<StringAttr>(graph::GraphDialect::kRoleAttrName))
        result.role = roleAttr.getValue() == "weight"
                          ? ModelTensor::Role::Weight
                          : ModelTensor::Role::Input;
  }
  if (!isSafeName(result.name))
    return emitError(loc) << "tensor name '" << result.name
                          << "' may only hold letters, digits, '.', '_' and "
                             "'-' (it names a file)";
  return result;
}

OwningOpRef<ModuleOp> autochunk::readModelFile(StringRef path,
                                               MLIRContext &context,
                                               llvm::SourceMgr &sourceMgr,
                                               std::string &error) {
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(path, &error);
  if (!file)
    return nullptr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module || failed(verify(*module)))
    return nullptr;
  return module;
}

FailureOr<func::FuncOp> autochunk::findModelFunction(ModuleOp module) {
  func::FuncOp entry;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal() || func.isPrivate())
      continue;
    if (entry)
      return emitError(func.getLoc())
             << "expected one public function (the model), but found @"
             << entry.getSymName() << " and @" << func.getSymName();
    entry = func;
  }
  if (!entry)
    return emitError(module.getLoc())
           << "expected a public function with a body (the model)";
  return entry;
}

FailureOr<ModelInterface> autochunk::extractModelInterface(ModuleOp module) {
  FailureOr<func::FuncOp> entry = findModelFunction(module);
  if (failed(entry))
    return failure();
  func::FuncOp func = *entry;
  ModelInterface interface;
  interface.functionName = func.getSymName().str();
  llvm::StringSet<> names;
  for (unsigned index = 0; index < func.getNumArguments(); ++index) {
    FailureOr<ModelTensor> tensor = describeTensor(
        func.getArgument(index).getLoc(), func.getArgumentTypes()[index],
        func.getArgAttrDict(index), "arg" + std::to_string(index),
        ModelTensor::Role::Input);
    if (failed(tensor))
      return failure();
    interface.arguments.push_back(*tensor);
  }
  if (func.getNumResults() == 0)
    return emitError(func.getLoc()) << "the model returns nothing";
  for (unsigned index = 0; index < func.getNumResults(); ++index) {
    FailureOr<ModelTensor> tensor = describeTensor(
        func.getLoc(), func.getResultTypes()[index],
        func.getResultAttrDict(index), "output" + std::to_string(index),
        ModelTensor::Role::Output);
    if (failed(tensor))
      return failure();
    interface.outputs.push_back(*tensor);
  }
  for (const ModelTensor &tensor :
       llvm::concat<const ModelTensor>(interface.arguments, interface.outputs))
    if (!names.insert(tensor.name).second)
      return emitError(func.getLoc())
             << "two model tensors are named '" << tensor.name << "'";
  return interface;
}

//===----------------------------------------------------------------------===//
// Phases and contracts
//===----------------------------------------------------------------------===//

/// The pass pipeline that takes the module from the phase before `phase` to
/// `phase`: canonicalization for the graph, then the shared lowering steps.
static std::string phasePipeline(Phase phase, const CompileOptions &options) {
  static_assert(static_cast<int>(Phase::LLVM) - 1 ==
                    static_cast<int>(LoweringStep::LLVM),
                "every phase after graph is one lowering step");
  if (phase == Phase::Graph)
    return getGraphPreparationPipeline(options.fuseAttention);
  return getLoweringPipeline(
             static_cast<LoweringStep>(static_cast<int>(phase) - 1))
      .str();
}

/// Fails loudly, naming the first op that breaks the phase's contract.
static LogicalResult checkContract(ModuleOp module, Phase phase) {
  auto violation = [&](Operation *op, const Twine &what) {
    op->emitError() << "contract of phase '" << phaseName(phase)
                    << "' broken: " << what;
    return WalkResult::interrupt();
  };
  WalkResult result = module.walk([&](Operation *op) -> WalkResult {
    if (isa<ModuleOp>(op))
      return WalkResult::advance();
    switch (phase) {
    case Phase::Graph:
      // Chunk loops bring scf loops, tensor slices and index arithmetic.
      if (!isa<graph::GraphDialect, func::FuncDialect, scf::SCFDialect>(
              op->getDialect()) &&
          !isa<tensor::EmptyOp, tensor::ExtractSliceOp, tensor::InsertSliceOp,
               arith::ConstantIndexOp, arith::AddIOp>(op))
        return violation(op, "only graph ops, func ops and chunk loops may "
                             "appear");
      break;
    case Phase::Kernels:
      if (isa<graph::GraphDialect>(op->getDialect()))
        return violation(op, "a graph op was not lowered");
      break;
    case Phase::Bufferized:
      for (Type type :
           llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
        if (isa<TensorType>(type))
          return violation(op, "a tensor value was not bufferized");
      break;
    case Phase::Planned:
      if (isa<memref::AllocOp, memref::AllocaOp>(op))
        return violation(op, "a buffer is not in the arena");
      if (auto func = dyn_cast<func::FuncOp>(op); func && !func.isExternal())
        if (!func->hasAttr("autochunk.arena_bytes"))
          return violation(op, "the function has no memory plan");
      break;
    case Phase::Calls:
      if (isa<kernel::CallOp>(op))
        return violation(op, "a kernel call was not lowered");
      break;
    case Phase::LLVM:
      if (!isa<LLVM::LLVMDialect>(op->getDialect()))
        return violation(op, "only LLVM dialect ops may remain");
      break;
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// Reads the plan that autochunk-plan-memory recorded on the entry function.
static LogicalResult readPlan(ModuleOp module, ModelInterface &interface) {
  auto func = module.lookupSymbol<func::FuncOp>(interface.functionName);
  auto arena = func ? func->getAttrOfType<IntegerAttr>("autochunk.arena_bytes")
                    : IntegerAttr();
  auto outputs =
      func ? func->getAttrOfType<ArrayAttr>("autochunk.outputs") : ArrayAttr();
  if (!arena || !outputs || outputs.size() != interface.outputs.size())
    return emitError(module.getLoc())
           << "the memory plan of @" << interface.functionName
           << " is missing or does not match its outputs";
  interface.arenaBytes = arena.getInt();
  for (auto [tensor, attr] : llvm::zip_equal(interface.outputs, outputs))
    tensor.arenaOffset =
        cast<DictionaryAttr>(attr).getAs<IntegerAttr>("offset").getInt();
  // The generated C wrapper calls this function through its C interface.
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  return success();
}

/// Drops the graph- and plan-level attributes from the LLVM functions: LLVM
/// IR has no place for them (the model interface already holds them).
static void stripNonLLVMAttributes(ModuleOp module) {
  auto isLLVM = [](NamedAttribute attribute) {
    return attribute.getName().getValue().starts_with("llvm.");
  };
  module.walk([&](LLVM::LLVMFuncOp func) {
    for (unsigned index = 0; index < func.getNumArguments(); ++index) {
      SmallVector<NamedAttribute> kept;
      DictionaryAttr attrs = func.getArgAttrDict(index);
      if (!attrs)
        continue;
      for (NamedAttribute attribute : attrs)
        if (isLLVM(attribute))
          kept.push_back(attribute);
      func.setArgAttrs(index, kept);
    }
    for (StringRef name : {"autochunk.arena_bytes", "autochunk.outputs"})
      func->removeAttr(name);
  });
}

/// The AutoChunk pass asked for at most `budgetBytes`, run at the end of the
/// graph phase.
static std::string chunkPipeline(int64_t budgetBytes, StringRef target) {
  return "func.func(autochunk-chunk{memory-budget=" +
         std::to_string(budgetBytes) + " target=" + target.str() + "})";
}

/// The planned arena of the entry function as it is now (the exact
/// estimate: the lowering and planner run on a copy).
static FailureOr<int64_t> plannedArenaBytes(ModuleOp module,
                                            StringRef functionName) {
  auto func = module.lookupSymbol<func::FuncOp>(functionName);
  if (!func)
    return failure();
  FailureOr<MemoryEstimate> estimate = estimateMemory(func);
  if (failed(estimate))
    return failure();
  return estimate->arenaBytes;
}

/// Runs the AutoChunk pass so that the planned arena meets the budget. The
/// search predicts memory with its own fast model; the exact estimate (the
/// planner itself) checks the result, and when alignment or fragmentation
/// put the arena over the budget, the search runs again on the unchunked
/// graph, asked for proportionally less, a few times at most.
/// The cost model's predicted slowdown of the plan AutoChunk recorded on the
/// model function (1 when nothing was chunked).
static double predictedSlowdown(ModuleOp module, StringRef functionName) {
  auto func = module.lookupSymbol<func::FuncOp>(functionName);
  auto slowdown =
      func ? func->getAttrOfType<FloatAttr>("autochunk.predicted_slowdown")
           : FloatAttr();
  return slowdown ? slowdown.getValueAsDouble() : 1.0;
}

static LogicalResult chunkWithinBudget(ModuleOp module,
                                       const CompileOptions &options,
                                       ModelInterface &interface) {
  constexpr int kAttempts = 8;
  // Once the first plan misses, plans for several smaller requests are
  // compared: the search's choice does not change monotonically with the
  // request (an Evoformer block asked for 3% less chunked one region in
  // rows of 5, predicted 1.26x; asked for 5% less, 1.03x).
  constexpr int kFittingPlansCompared = 3;
  // Diagnostics point at the model function (the module may have no
  // location of its own).
  Location loc = module.getLoc();
  if (auto func = module.lookupSymbol<func::FuncOp>(interface.functionName))
    loc = func.getLoc();
  OwningOpRef<ModuleOp> unchunked = module.clone();
  OwningOpRef<ModuleOp> best;
  double bestSlowdown = 0;
  int fitting = 0;
  int64_t asked = interface.budgetBytes;
  int64_t lastPlanned = 0;
  auto keepBest = [&]() {
    if (best)
      module.getBodyRegion().takeBody(best->getBodyRegion());
    return success();
  };
  for (int attempt = 1;; ++attempt) {
    PassManager chunk(module->getName());
    if (failed(parsePassPipeline(chunkPipeline(asked, options.target), chunk)))
      return failure();
    if (failed(chunk.run(module))) {
      if (best)
        return keepBest();
      if (attempt > 1)
        emitError(loc)
            << "the budget is " << interface.budgetBytes
            << " bytes; the best plan for it needs a " << lastPlanned
            << "-byte arena once the planner packs its buffers, and asking "
               "the search for "
            << asked << " bytes to make room failed";
      return failure();
    }
    FailureOr<int64_t> planned =
        plannedArenaBytes(module, interface.functionName);
    if (failed(planned))
      return failure();
    if (*planned <= interface.budgetBytes) {
      if (attempt == 1)
        return success();
      double slowdown = predictedSlowdown(module, interface.functionName);
      if (!best || slowdown < bestSlowdown) {
        best = module.clone();
        bestSlowdown = slowdown;
      }
      if (++fitting == kFittingPlansCompared || attempt == kAttempts)
        return keepBest();
    } else {
      lastPlanned = *planned;
    }
    if (attempt == kAttempts) {
      if (best)
        return keepBest();
      return emitError(loc) << "the chunked graph needs " << *planned
                            << " activation bytes, over the budget of "
                            << interface.budgetBytes << " bytes, after "
                            << kAttempts << " attempts";
    }
    // Ask for less, by the factor the last plan missed by (or, once a plan
    // fit, by the first miss's), and start over from the unchunked graph.
    // The packing gap does not shrink in proportion: ask for at least the
    // whole overshoot less as well, twice as much on every attempt, since a
    // search asked for a little less can return the same plan (its fast
    // model can miss the rewrite's arena by more than the overshoot).
    int64_t missed = std::max<int64_t>(*planned, lastPlanned);
    int64_t overshoot = (missed - interface.budgetBytes) << (attempt - 1);
    asked = std::min(static_cast<int64_t>(static_cast<double>(asked) *
                                          interface.budgetBytes / missed),
                     asked - overshoot) -
            64;
    if (asked < 1) {
      if (best)
        return keepBest();
      return emitError(loc)
             << "the chunked graph needs " << *planned
             << " activation bytes, over the budget of "
             << interface.budgetBytes
             << " bytes, and the budget is too small to ask the search for "
                "less";
    }
    OwningOpRef<ModuleOp> fresh = unchunked->clone();
    module.getBodyRegion().takeBody(fresh->getBodyRegion());
  }
}

LogicalResult autochunk::runPipeline(ModuleOp module,
                                     const CompileOptions &options,
                                     ModelInterface &interface) {
  for (int index = 0; index <= static_cast<int>(options.compileTo); ++index) {
    Phase phase = static_cast<Phase>(index);
    PassManager pm(module->getName());
    if (failed(parsePassPipeline(phasePipeline(phase, options), pm)))
      return emitError(module.getLoc())
             << "internal error: bad pipeline for phase '" << phaseName(phase)
             << "'";
    if (failed(pm.run(module)))
      return failure();
    if (phase == Phase::Graph && !options.memoryBudget.empty()) {
      FailureOr<int64_t> unchunked =
          plannedArenaBytes(module, interface.functionName);
      if (failed(unchunked))
        return failure();
      interface.unchunkedArenaBytes = *unchunked;
      std::string error;
      FailureOr<int64_t> budget =
          parseMemoryBudget(options.memoryBudget, *unchunked, &error);
      if (failed(budget))
        return emitError(module.getLoc()) << error;
      interface.budgetBytes = *budget;
      if (failed(chunkWithinBudget(module, options, interface)))
        return failure();
      auto func = module.lookupSymbol<func::FuncOp>(interface.functionName);
      interface.plan = func->getAttrOfType<ArrayAttr>("autochunk.plan");
      interface.chunked = interface.plan && !interface.plan.empty();
      interface.predictedSlowdown =
          predictedSlowdown(module, interface.functionName);
    }
    if (failed(checkContract(module, phase)))
      return failure();
    if (phase == Phase::Planned) {
      if (failed(readPlan(module, interface)))
        return failure();
      // The search plans with its own fast model; the planner has the last
      // word, and a plan over budget is an error, not a surprise at run time.
      if (interface.budgetBytes > 0 &&
          interface.arenaBytes > interface.budgetBytes)
        return emitError(module.getLoc())
               << "the chunked graph needs " << interface.arenaBytes
               << " activation bytes, over the budget of "
               << interface.budgetBytes << " bytes";
    }
  }
  if (options.compileTo == Phase::LLVM)
    stripNonLLVMAttributes(module);
  return success();
}
