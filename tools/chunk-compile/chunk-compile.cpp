//===- chunk-compile.cpp - compile a model graph to a native artifact -----===//
//
// chunk-compile model.mlir -o model [--emit=mlir|llvm|obj|exe|lib]
//   [--compile-to=graph|kernels|bufferized|planned|calls|llvm]
//   [--device=cpu|cuda] [--memory-budget=SIZE] [--no-chunk]
//   [--plan-out=plan.json]
//
//===----------------------------------------------------------------------===//

#include "autochunk/Compiler/Compiler.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/Registration.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace autochunk;

namespace cl = llvm::cl;

static cl::OptionCategory category("chunk-compile options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                       cl::value_desc("path"), cl::Required,
                                       cl::cat(category));
static cl::opt<std::string>
    emitKind("emit",
             cl::desc("What to write: mlir, llvm (LLVM IR), obj, exe "
                      "(default) or lib (a shared library and its header)"),
             cl::init(""), cl::cat(category));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after a phase: graph, kernels, bufferized, planned, "
             "calls or llvm (implies --emit=mlir unless --emit is given)"),
    cl::init(""), cl::cat(category));
static cl::opt<std::string> device("device",
                                   cl::desc("Target device: cpu or cuda"),
                                   cl::init("cpu"), cl::cat(category));
static cl::opt<std::string>
    memoryBudget("memory-budget",
                 cl::desc("Activation memory budget: bytes, with a KiB, "
                          "MiB or GiB suffix, or a fraction of the unchunked "
                          "peak such as 0.1x"),
                 cl::init(""), cl::cat(category));
static cl::opt<std::string>
    target("target",
           cl::desc("The cost model's target for chunking: cpu or h100"),
           cl::init("cpu"), cl::cat(category));
static cl::opt<bool> fuseAttention(
    "fuse-attention",
    cl::desc("Fuse attention chains into one kernel that never stores the "
             "logits (default on)"),
    cl::init(true), cl::cat(category));
static cl::opt<bool> noChunk("no-chunk", cl::desc("Compile without chunking"),
                             cl::init(false), cl::cat(category));
static cl::opt<std::string> planOut("plan-out",
                                    cl::desc("Write the plan as JSON here"),
                                    cl::init(""), cl::cat(category));

static int fail(const Twine &message) {
  llvm::errs() << "chunk-compile: error: " << message << "\n";
  return 1;
}

static LogicalResult writePlanJson(const ModelInterface &interface,
                                   StringRef path, std::string &error) {
  auto file = openOutputFile(path, &error);
  if (!file)
    return failure();
  file->os() << planToJson(interface);
  file->keep();
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "AutoChunk compiler: a model graph to an "
                              "executable or shared library\n");

  std::optional<Phase> phase = Phase::LLVM;
  if (!compileTo.empty() && !(phase = parsePhase(compileTo)))
    return fail("unknown phase '" + compileTo +
                "' (expected graph, kernels, bufferized, planned, calls or "
                "llvm)");
  std::optional<EmitKind> emit =
      compileTo.empty() ? EmitKind::Executable : EmitKind::MLIR;
  if (!emitKind.empty() && !(emit = parseEmitKind(emitKind)))
    return fail("unknown --emit kind '" + emitKind +
                "' (expected mlir, llvm, obj, exe or lib)");
  if (*emit != EmitKind::MLIR && *phase != Phase::LLVM)
    return fail("--emit=" + emitKind +
                " needs the whole pipeline; drop "
                "--compile-to or use --emit=mlir");
  if (device != "cpu" && device != "cuda")
    return fail("unknown device '" + device + "' (expected cpu or cuda)");
  // The syntax is checked now (against a large stand-in peak, so any
  // positive fraction passes); a fraction ("0.1x") is resolved against the
  // unchunked peak once it is known.
  std::string budgetError;
  if (!memoryBudget.empty() &&
      failed(parseMemoryBudget(memoryBudget, /*unchunkedPeak=*/int64_t(1) << 40,
                               &budgetError)))
    return fail("cannot read the memory budget '" + memoryBudget + "': " +
                budgetError + " (examples: 2GiB, 500MiB, 123456, 0.1x)");
  if (target != "cpu" && target != "h100")
    return fail("unknown target '" + target + "' (expected cpu or h100)");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllPasses();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names its location; printing the whole op (a function of
  // thousands of lines) under it helps nobody.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string errorMessage;
  OwningOpRef<ModuleOp> module =
      readModelFile(inputPath, context, sourceMgr, errorMessage);
  if (!module)
    return errorMessage.empty() ? 1 : fail(errorMessage);

  FailureOr<ModelInterface> interface = extractModelInterface(*module);
  if (failed(interface))
    return 1;
  interface->device = device;
  CompileOptions options;
  options.compileTo = *phase;
  options.emit = *emit;
  options.device = device;
  if (!noChunk)
    options.memoryBudget = memoryBudget;
  options.target = target;
  options.fuseAttention = fuseAttention;
  if (failed(runPipeline(*module, options, *interface)))
    return 1;

  std::string error;
  if (*emit == EmitKind::MLIR) {
    auto output = openOutputFile(outputPath, &errorMessage);
    if (!output)
      return fail(errorMessage);
    module->print(output->os());
    output->keep();
  } else if (failed(
                 emitArtifact(*module, *interface, *emit, outputPath, error))) {
    return fail(error);
  }
  if (!planOut.empty() && failed(writePlanJson(*interface, planOut, error)))
    return fail(error);
  // On stderr when the artifact itself goes to stdout.
  if (*phase >= Phase::Planned) {
    llvm::raw_ostream &os = outputPath == "-" ? llvm::errs() : llvm::outs();
    os << "planned activation bytes: " << interface->arenaBytes;
    if (interface->unchunkedArenaBytes > 0)
      os << " (unchunked: " << interface->unchunkedArenaBytes
         << ", budget: " << interface->budgetBytes << ", "
         << (interface->plan ? interface->plan.size() : 0)
         << " chunk region(s), predicted "
         << llvm::format("%.2f", interface->predictedSlowdown)
         << "x the unchunked time)";
    os << "\n";
  }
  // Near the smallest peak AutoChunk reaches, the search meets a budget at
  // any cost (chunks of a few rows); say so rather than leave it to a
  // surprise at run time.
  if (interface->chunked && interface->predictedSlowdown > 2.0)
    llvm::errs() << "chunk-compile: warning: the cost model (target " << target
                 << ") predicts this plan "
                 << llvm::format("%.1f", interface->predictedSlowdown)
                 << "x slower than unchunked: the budget is close to the "
                    "smallest activation peak AutoChunk reaches, and a "
                    "slightly larger one may chunk far less finely\n";
  return 0;
}
