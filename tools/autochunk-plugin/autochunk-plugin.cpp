//===- autochunk-plugin.cpp - AutoChunk as an mlir-opt plugin -------------===//
//
// Loaded into the stock mlir-opt with --load-dialect-plugin (the graph and
// kernel dialects, dimension-flow models) and --load-pass-plugin (every
// AutoChunk pass and named pipeline). Linked against the shared libMLIR, as
// mlir-opt is, so upstream registrations happen once.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowLinalg.h"
#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"
#include "autochunk/Passes/Pipelines.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AutoChunkDialects", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            registry->insert<autochunk::graph::GraphDialect,
                             autochunk::kernel::KernelDialect>();
            autochunk::graph::registerDimensionFlowExternalModels(*registry);
            autochunk::registerLinalgDimensionFlowExternalModels(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "AutoChunkPasses", LLVM_VERSION_STRING,
          []() {
            autochunk::registerAutoChunkPasses();
            autochunk::registerAutoChunkPipelines();
          }};
}
