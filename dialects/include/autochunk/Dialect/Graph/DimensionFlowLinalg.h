//===- DimensionFlowLinalg.h - dimension flow of linalg ops -----*- C++ -*-===//
//
// Attaches DimensionFlowOpInterface to upstream linalg ops, so that graphs
// lowered to (or written in) linalg get chunked by the same search.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWLINALG_H
#define AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWLINALG_H

#include "mlir/IR/DialectRegistry.h"

namespace autochunk {

/// Every structured linalg op (derived from its indexing maps and iterator
/// types) and linalg.softmax (its `dimension` is mixed).
void registerLinalgDimensionFlowExternalModels(mlir::DialectRegistry &registry);

} // namespace autochunk

#endif // AUTOCHUNK_DIALECT_GRAPH_DIMENSIONFLOWLINALG_H
