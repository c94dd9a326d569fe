//===- GraphOps.h - ops of the AutoChunk graph dialect ----------*- C++ -*-===//
//
// Declares the graph ops and the shape rules they share with later passes
// (broadcasting, einsum equations), so that dimension flow and the memory
// analyses read shapes the same way the verifiers do.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIALECT_GRAPH_GRAPHOPS_H
#define AUTOCHUNK_DIALECT_GRAPH_GRAPHOPS_H

#include "autochunk/Dialect/Graph/GraphDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <string>

namespace autochunk::graph {

/// A parsed einsum equation such as "sic,sjd->ijcd": one label string per
/// operand and one for the result. Labels are lowercase letters.
struct EinsumEquation {
  llvm::SmallVector<std::string, 2> inputs;
  std::string output;

  /// Parses `text`; on failure returns std::nullopt and says why in `error`.
  /// Checks only the equation's own form (explicit "->", letters, no label
  /// repeated within one subscript list, every output label used by an input).
  static std::optional<EinsumEquation> parse(llvm::StringRef text,
                                             std::string &error);

  /// Labels that appear in an input but not in the output (summed over).
  std::string reducedLabels() const;
};

/// Numpy broadcasting of two static shapes; std::nullopt when incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

} // namespace autochunk::graph

#define GET_OP_CLASSES
#include "autochunk/Dialect/Graph/GraphOps.h.inc"

#endif // AUTOCHUNK_DIALECT_GRAPH_GRAPHOPS_H
