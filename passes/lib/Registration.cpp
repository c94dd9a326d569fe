//===- Registration.cpp - everything an AutoChunk tool registers ----------===//

#include "autochunk/Passes/Registration.h"

#include "autochunk/Dialect/Graph/DimensionFlowLinalg.h"
#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"
#include "autochunk/Passes/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Transforms/Passes.h"

void autochunk::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<
      graph::GraphDialect, kernel::KernelDialect, mlir::arith::ArithDialect,
      mlir::bufferization::BufferizationDialect, mlir::cf::ControlFlowDialect,
      mlir::func::FuncDialect, mlir::LLVM::LLVMDialect,
      mlir::linalg::LinalgDialect, mlir::memref::MemRefDialect,
      mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  mlir::scf::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
  // Up front, so that no pass adds them to a running, multi-threaded
  // context (the lowering's no-op LinalgBufferizationModelsPass stays for
  // tools that register only part of this).
  registerLinalgBufferizationModels(registry);
  graph::registerDimensionFlowExternalModels(registry);
  registerLinalgDimensionFlowExternalModels(registry);
}

void autochunk::registerAllPasses() {
  mlir::registerTransformsPasses();
  mlir::bufferization::registerBufferizationPasses();
  mlir::memref::registerMemRefPasses();
  mlir::registerArithToLLVMConversionPass();
  mlir::registerConvertControlFlowToLLVMPass();
  mlir::registerConvertFuncToLLVMPass();
  mlir::registerConvertIndexToLLVMPass();
  mlir::registerFinalizeMemRefToLLVMConversionPass();
  mlir::registerLowerAffinePass();
  mlir::registerReconcileUnrealizedCastsPass();
  mlir::registerSCFToControlFlowPass();
  registerAutoChunkPasses();
  registerAutoChunkPipelines();
}
