//===- Compiler.h - the chunk-compile pipeline ------------------*- C++ -*-===//
//
// From a graph-dialect module to an executable or shared library: the phases
// (each reachable with --compile-to and ending in a contract check), the
// model's interface (what the generated C entry point takes and returns), and
// emission of LLVM IR, objects, executables and libraries.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_COMPILER_COMPILER_H
#define AUTOCHUNK_COMPILER_COMPILER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include "llvm/Support/SourceMgr.h"

#include <optional>
#include <string>
#include <vector>

namespace autochunk {

/// The phases of the pipeline, in order. Each ends in a contract check.
enum class Phase {
  Graph,      ///< verified and canonicalized graph ops on tensors
  Kernels,    ///< kernel.call ops and upstream tensor views
  Bufferized, ///< memrefs, after one-shot bufferization
  Planned,    ///< every intermediate buffer a view into one arena
  Calls,      ///< runtime calls and host control flow
  LLVM,       ///< the LLVM dialect
};

std::optional<Phase> parsePhase(llvm::StringRef name);
llvm::StringRef phaseName(Phase phase);

enum class EmitKind { MLIR, LLVMIR, Object, Executable, Library };

std::optional<EmitKind> parseEmitKind(llvm::StringRef name);

/// One argument or output of a compiled model.
struct ModelTensor {
  std::string name;
  std::string dtype; ///< "f32", "f16" or "bf16"
  enum class Role { Input, Weight, Output } role = Role::Input;
  llvm::SmallVector<int64_t> shape;
  int64_t arenaOffset = -1; ///< outputs only: where they live in the arena

  int64_t numElements() const;
  int64_t bytes() const;
};

/// What the generated C entry point takes and returns.
struct ModelInterface {
  std::string functionName;
  /// "cpu" or "cuda": which runtime the artifact links and runs on.
  std::string device = "cpu";
  std::vector<ModelTensor> arguments; ///< inputs and weights, in call order
  std::vector<ModelTensor> outputs;
  int64_t arenaBytes = 0;
  /// The planned arena of the graph without chunking (set when chunking ran).
  int64_t unchunkedArenaBytes = 0;
  /// The budget in bytes, when one was given.
  int64_t budgetBytes = 0;
  bool chunked = false;
  /// The plan the AutoChunk pass recorded (`autochunk.plan`), if any.
  mlir::ArrayAttr plan;
  /// The cost model's time of the chunked graph over the unchunked one
  /// (`autochunk.predicted_slowdown`; 1 when nothing was chunked).
  double predictedSlowdown = 1.0;
};

struct CompileOptions {
  Phase compileTo = Phase::LLVM;
  EmitKind emit = EmitKind::Executable;
  std::string device = "cpu";
  /// The activation budget (`--memory-budget`): chunking runs when it is set.
  std::string memoryBudget;
  /// The cost model's target for the chunk search: "cpu" or "h100".
  std::string target = "cpu";
  /// Fuse attention chains into graph.attention before chunking.
  bool fuseAttention = true;
};

/// Opens, parses and verifies the module at `path` (`-` for stdin) in
/// `context`. Diagnostics go to the context's handler (a
/// SourceMgrDiagnosticHandler on `sourceMgr` gives them file:line:col);
/// returns null on failure, with `error` set when the file cannot be opened.
mlir::OwningOpRef<mlir::ModuleOp> readModelFile(llvm::StringRef path,
                                                mlir::MLIRContext &context,
                                                llvm::SourceMgr &sourceMgr,
                                                std::string &error);

/// The model's entry: the one public function with a body; a diagnostic
/// and failure when there is none or more than one.
mlir::FailureOr<mlir::func::FuncOp> findModelFunction(mlir::ModuleOp module);

/// Reads the model's interface off its graph-level entry function (the one
/// public function with a body), checking names and types; emits a
/// diagnostic and fails on anything the runtime cannot take.
mlir::FailureOr<ModelInterface> extractModelInterface(mlir::ModuleOp module);

/// Runs the phases up to `options.compileTo`, checking each phase's
/// contract; fills in the arena size and output offsets once planned.
mlir::LogicalResult runPipeline(mlir::ModuleOp module,
                                const CompileOptions &options,
                                ModelInterface &interface);

/// Writes `module` (in the LLVM dialect) as LLVM IR, an object file, an
/// executable linked with the runtime, or a shared library with a generated
/// header next to it (`<output minus extension>.h`). Output files appear
/// whole or not at all. Errors are reported through `error`.
mlir::LogicalResult emitArtifact(mlir::ModuleOp module,
                                 const ModelInterface &interface, EmitKind kind,
                                 llvm::StringRef outputPath,
                                 std::string &error);

/// The C source that defines the model ABI (runtime model_abi.h) for
/// `interface`, and with `forLibrary` the `<prefix>_run` entry point too.
std::string generateModelWrapper(const ModelInterface &interface,
                                 bool forLibrary);

/// The header declaring a shared library's `<prefix>_run` entry point.
std::string generateLibraryHeader(const ModelInterface &interface);

/// The chunk plan as JSON: model, budget, planned bytes with and without
/// chunking, and the regions the AutoChunk pass chose.
std::string planToJson(const ModelInterface &interface);

} // namespace autochunk

#endif // AUTOCHUNK_COMPILER_COMPILER_H
