//===- DimensionFlowOpInterface.h - how dims flow through ops ---*- C++ -*-===//
//
// The dimension-flow op interface (see DimensionFlowOpInterface.td for its
// contract), the data it returns, and the chunk propagation built on it.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWOPINTERFACE_H
#define AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWOPINTERFACE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Support/LLVM.h"

#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace autochunk {

/// One dimension of one operand of an op.
struct OperandDim {
  unsigned operand = 0;
  int64_t dim = 0;

  friend bool operator==(const OperandDim &a, const OperandDim &b) {
    return a.operand == b.operand && a.dim == b.dim;
  }
  friend bool operator!=(const OperandDim &a, const OperandDim &b) {
    return !(a == b);
  }
};

/// How chunking along a result dimension relates to the operands.
enum class ResultDimKind {
  /// Slicing the result slices the listed source dimensions the same way.
  Flows,
  /// Each element depends on all operand elements along the dimension.
  Mixed,
  /// No 1:1 correspondence with an operand dimension.
  Opaque,
};

/// What one result dimension derives from.
struct ResultDimFlow {
  ResultDimKind kind = ResultDimKind::Opaque;
  /// The operand dimensions the result dimension flows 1:1 from (only for
  /// `Flows`; empty when the op produces any slice from whole operands).
  llvm::SmallVector<OperandDim, 2> sources;

  static ResultDimFlow flows(llvm::ArrayRef<OperandDim> sources = {}) {
    return {ResultDimKind::Flows,
            llvm::SmallVector<OperandDim, 2>(sources.begin(), sources.end())};
  }
  static ResultDimFlow mixed() { return {ResultDimKind::Mixed, {}}; }
  static ResultDimFlow opaque() { return {ResultDimKind::Opaque, {}}; }
};

/// The dimension flow of one op: per result, per dimension, where it comes
/// from; and the operand dimensions the op reduces.
struct DimensionFlow {
  llvm::SmallVector<llvm::SmallVector<ResultDimFlow, 4>, 1> results;
  llvm::SmallVector<OperandDim, 2> reduced;

  bool isReduced(OperandDim operandDim) const {
    return llvm::is_contained(reduced, operandDim);
  }
};

/// The dimension every operand and result of one op is sliced along when the
/// op runs on chunks; std::nullopt means passed (or produced) whole.
struct OpChunking {
  llvm::SmallVector<std::optional<int64_t>> operandDims;
  llvm::SmallVector<std::optional<int64_t>> resultDims;
};

/// Checks `flow` against `op`'s types: one entry per result dimension, every
/// source a valid dimension of a ranked tensor operand with the result
/// dimension's extent, no source listed twice or also reduced. On failure
/// says why in `error` (when given).
mlir::LogicalResult verifyDimensionFlow(mlir::Operation *op,
                                        const DimensionFlow &flow,
                                        std::string *error = nullptr);

/// The dimension flow of `op`, checked with verifyDimensionFlow; failure
/// (with the reason in `whyNot`, when given) for a barrier: an op without
/// the interface, or whose model fails or returns an inconsistent flow.
mlir::FailureOr<DimensionFlow> getDimensionFlow(mlir::Operation *op,
                                                std::string *whyNot = nullptr);

/// How `op` runs on chunks when its result `result` is sliced along `dim`:
/// the closure described in DimensionFlowOpInterface.td. Failure when `op`
/// is a barrier or the closure reaches a mixed or opaque result dimension,
/// a reduced operand dimension, two dimensions of one value, or leaves a
/// result unsliced.
mlir::FailureOr<OpChunking> chunkAlongResultDim(mlir::Operation *op,
                                                unsigned result, int64_t dim);

/// How `op` runs on chunks when its operand `operand` is sliced along
/// `dim` (to grow a region towards users). Fails as chunkAlongResultDim
/// does, and also when that operand dimension flows into no result
/// dimension.
mlir::FailureOr<OpChunking> chunkAlongOperandDim(mlir::Operation *op,
                                                 unsigned operand, int64_t dim);

/// For each operand of `op`, the dimension it is sliced along when result
/// `result` is chunked along `dim` (std::nullopt: passed whole).
mlir::FailureOr<llvm::SmallVector<std::optional<int64_t>>>
propagateChunkDimToOperands(mlir::Operation *op, unsigned result, int64_t dim);

/// For each result of `op`, the dimension it is chunked along when operand
/// `operand` is sliced along `dim`.
mlir::FailureOr<llvm::SmallVector<std::optional<int64_t>>>
propagateChunkDimToResults(mlir::Operation *op, unsigned operand, int64_t dim);

namespace graph {
/// Attaches the interface to every graph op.
void registerDimensionFlowExternalModels(mlir::DialectRegistry &registry);
} // namespace graph

} // namespace autochunk

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h.inc"

#endif // AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWOPINTERFACE_H
