//===- KernelDialect.h - runtime kernel calls -------------------*- C++ -*-===//
//
// The kernel dialect and its one op, kernel.call.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIALECT_KERNEL_KERNELDIALECT_H
#define AUTOCHUNK_DIALECT_KERNEL_KERNELDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "autochunk/Dialect/Kernel/KernelOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "autochunk/Dialect/Kernel/KernelOps.h.inc"

#endif // AUTOCHUNK_DIALECT_KERNEL_KERNELDIALECT_H
