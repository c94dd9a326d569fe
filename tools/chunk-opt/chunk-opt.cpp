//===- chunk-opt.cpp - the AutoChunk optimizer driver ---------------------===//
//
// mlir-opt with the graph and kernel dialects, the upstream dialects and
// passes the AutoChunk pipeline uses, and every AutoChunk pass and pipeline.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"
#include "autochunk/Passes/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  autochunk::registerAllDialects(registry);
  autochunk::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "AutoChunk optimizer driver\n", registry));
}
