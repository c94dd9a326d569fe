//===- KernelDialect.cpp - runtime kernel calls ---------------------------===//
//
// kernel.call: verification, memory effects on memrefs, and bufferization in
// destination-passing style.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Kernel/KernelDialect.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace autochunk::kernel;

#include "autochunk/Dialect/Kernel/KernelOpsDialect.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "autochunk/Dialect/Kernel/KernelOps.cpp.inc"
      >();
}

/// The unit attribute marking a call whose every output element depends only
/// on the input elements at the same index, so an output may share an input's
/// buffer.
static constexpr llvm::StringLiteral kElementwiseAttrName = "elementwise";

LogicalResult CallOp::verify() {
  if (getKernel().empty())
    return emitOpError("needs a kernel name");
  bool tensorOutputs = false, memrefOutputs = false;
  for (Value output : getOutputs()) {
    tensorOutputs |= isa<RankedTensorType>(output.getType());
    memrefOutputs |= isa<MemRefType>(output.getType());
  }
  if (tensorOutputs && memrefOutputs)
    return emitOpError("outputs must be all tensors or all memrefs");
  for (Value input : getInputs()) {
    Type type = input.getType();
    if (!isa<RankedTensorType, MemRefType, IndexType, FloatType>(type))
      return emitOpError("inputs must be ranked tensors, memrefs, floats or "
                         "index values, but got ")
             << type;
    if ((tensorOutputs && isa<MemRefType>(type)) ||
        (memrefOutputs && isa<RankedTensorType>(type)))
      return emitOpError("mixes tensor and memref operands");
  }
  return success();
}

void CallOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // On tensors the op is pure; on memrefs it reads ins and writes outs.
  for (OpOperand &operand : getInputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  for (OpOperand &operand : getOutputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
}

bool CallOp::bufferizesToMemoryRead(OpOperand &operand,
                                    const AnalysisState &state) {
  // Kernels overwrite every element of their outputs without reading them.
  return !isDpsInit(&operand);
}

bool CallOp::bufferizesToMemoryWrite(OpOperand &operand,
                                     const AnalysisState &state) {
  return isDpsInit(&operand);
}

AliasingValueList CallOp::getAliasingValues(OpOperand &operand,
                                            const AnalysisState &state) {
  if (isDpsInit(&operand))
    return {{getTiedOpResult(&operand), BufferRelation::Equivalent}};
  return {};
}

bool CallOp::bufferizesToElementwiseAccess(const AnalysisState &state,
                                           ArrayRef<OpOperand *> operands) {
  return (*this)->hasAttr(kElementwiseAttrName);
}

LogicalResult CallOp::bufferize(RewriterBase &rewriter,
                                const BufferizationOptions &options,
                                BufferizationState &state) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(*this);
  auto toBuffers = [&](OperandRange values,
                       SmallVectorImpl<Value> &buffers) -> LogicalResult {
    for (Value value : values) {
      if (!isa<TensorType>(value.getType())) {
        buffers.push_back(value);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    return success();
  };
  SmallVector<Value> inputs, outputs;
  if (failed(toBuffers(getInputs(), inputs)) ||
      failed(toBuffers(getOutputs(), outputs)))
    return failure();
  auto bufferized =
      CallOp::create(rewriter, getLoc(), TypeRange{}, getKernelAttr(), inputs,
                     outputs, getParamsAttr());
  // Keep discardable attributes (elementwise, chunk-plan annotations).
  for (NamedAttribute attribute : (*this)->getDiscardableAttrs())
    bufferized->setAttr(attribute.getName(), attribute.getValue());
  replaceOpWithBufferizedValues(rewriter, *this, outputs);
  return success();
}

#define GET_OP_CLASSES
#include "autochunk/Dialect/Kernel/KernelOps.cpp.inc"
