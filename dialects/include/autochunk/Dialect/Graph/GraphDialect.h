//===- GraphDialect.h - the AutoChunk graph dialect -------------*- C++ -*-===//
//
// Declares the graph dialect class (generated from GraphDialect.td).
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_DIALECT_GRAPH_GRAPHDIALECT_H
#define AUTOCHUNK_DIALECT_GRAPH_GRAPHDIALECT_H

#include "mlir/IR/Dialect.h"

#include "autochunk/Dialect/Graph/GraphOpsDialect.h.inc"

#endif // AUTOCHUNK_DIALECT_GRAPH_GRAPHDIALECT_H
