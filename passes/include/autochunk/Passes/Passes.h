//===- Passes.h - AutoChunk passes ------------------------------*- C++ -*-===//
//
// Declarations and registration of every AutoChunk pass.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_PASSES_H
#define AUTOCHUNK_PASSES_PASSES_H

#include "autochunk/Dialect/Kernel/KernelDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace autochunk {

#define GEN_PASS_DECL
#include "autochunk/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "autochunk/Passes/Passes.h.inc"

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_PASSES_H
