//===- main.cpp - an out-of-tree program built on an installed AutoChunk --===//
//
// Registers AutoChunk's dialects and passes, parses a small graph-dialect
// function, runs buildAutoChunkPipeline up to the memory plan and prints the
// planned arena size and the number of chunk loops:
//   autochunk-consumer relu|attention [memory-budget]
//
//===----------------------------------------------------------------------===//

#include "autochunk/Passes/Pipelines.h"
#include "autochunk/Passes/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace {

// One elementwise op: its only buffer is the 4x8xf32 result (128 bytes).
const char *const kReluSource = R"mlir(
func.func @relu(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"})
    -> (tensor<4x8xf32> {graph.name = "y"}) {
  %y = graph.relu %x : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
)mlir";

// Causal attention whose 2x10x10 scores dominate the activation peak, so a
// budget below it makes AutoChunk chunk them.
const char *const kAttentionSource = R"mlir(
func.func @attention(%q: tensor<2x10x4xf32> {graph.name = "q", graph.role = "input"},
                     %k: tensor<2x10x4xf32> {graph.name = "k", graph.role = "input"},
                     %v: tensor<2x10x4xf32> {graph.name = "v", graph.role = "input"})
    -> (tensor<2x10x4xf32> {graph.name = "o"}) {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
)mlir";

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    llvm::errs() << "usage: " << argv[0] << " relu|attention [memory-budget]\n";
    return 2;
  }
  const char *source = nullptr;
  if (std::strcmp(argv[1], "relu") == 0)
    source = kReluSource;
  else if (std::strcmp(argv[1], "attention") == 0)
    source = kAttentionSource;
  if (!source) {
    llvm::errs() << "error: unknown function '" << argv[1]
                 << "': expected relu or attention\n";
    return 2;
  }

  mlir::DialectRegistry registry;
  autochunk::registerAllDialects(registry);
  autochunk::registerAllPasses();
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module) {
    llvm::errs() << "error: the embedded function does not parse\n";
    return 1;
  }

  mlir::PassManager pm(&context);
  autochunk::AutoChunkPipelineOptions options;
  if (argc == 3)
    options.memoryBudget = argv[2];
  options.lowerToLLVM = false;
  // Unfused, so the scores exist and a budget below the peak can be met.
  options.fuseAttention = false;
  autochunk::buildAutoChunkPipeline(pm, options);
  if (mlir::failed(pm.run(*module))) {
    llvm::errs() << "error: the AutoChunk pipeline failed\n";
    return 1;
  }

  int exitCode = 0;
  module->walk([&](mlir::func::FuncOp func) {
    auto arenaBytes =
        func->getAttrOfType<mlir::IntegerAttr>("autochunk.arena_bytes");
    if (!arenaBytes) {
      llvm::errs() << "error: @" << func.getSymName()
                   << " has no autochunk.arena_bytes attribute\n";
      exitCode = 1;
      return;
    }
    unsigned chunkLoops = 0;
    func.walk([&](mlir::scf::ForOp) { ++chunkLoops; });
    llvm::outs() << "@" << func.getSymName()
                 << " arena_bytes=" << arenaBytes.getInt()
                 << " chunk_loops=" << chunkLoops << "\n";
  });
  return exitCode;
}
