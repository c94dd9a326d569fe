//===- chunk-opt.cpp - the AutoChunk optimizer driver ---------------------===//
//
// mlir-opt with the graph dialect, the upstream dialects the AutoChunk
// pipeline uses, and every AutoChunk pass and pipeline.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  autochunk::registerAutoChunkPasses();

  mlir::DialectRegistry registry;
  registry.insert<autochunk::graph::GraphDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "AutoChunk optimizer driver\n", registry));
}
