//===- GraphDialect.cpp - the AutoChunk graph dialect ---------------------===//
//
// Registers the graph ops and checks the dialect's function attributes.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace autochunk::graph;

#include "autochunk/Dialect/Graph/GraphOpsDialect.cpp.inc"

void GraphDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "autochunk/Dialect/Graph/GraphOps.cpp.inc"
      >();
}

Operation *GraphDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

/// Checks one `graph.*` attribute on a function argument or result.
static LogicalResult verifyFunctionAttribute(Operation *op,
                                             NamedAttribute attribute,
                                             bool isArgument) {
  StringRef name = attribute.getName().getValue();
  if (!isa<FunctionOpInterface>(op))
    return op->emitOpError()
           << "'" << name << "' is only allowed on function signatures";
  if (name == GraphDialect::kNameAttrName) {
    auto text = dyn_cast<StringAttr>(attribute.getValue());
    if (!text || text.getValue().empty())
      return op->emitOpError() << "'" << name << "' must be a non-empty string";
    return success();
  }
  if (name == GraphDialect::kRoleAttrName) {
    if (!isArgument)
      return op->emitOpError()
             << "'" << name << "' is only allowed on function arguments";
    auto text = dyn_cast<StringAttr>(attribute.getValue());
    if (!text || (text.getValue() != "input" && text.getValue() != "weight"))
      return op->emitOpError()
             << "'" << name << "' must be \"input\" or \"weight\"";
    return success();
  }
  return op->emitOpError() << "unknown graph dialect attribute '" << name
                           << "' (expected 'graph.name' or 'graph.role')";
}

LogicalResult GraphDialect::verifyRegionArgAttribute(Operation *op,
                                                     unsigned regionIndex,
                                                     unsigned argIndex,
                                                     NamedAttribute attribute) {
  return verifyFunctionAttribute(op, attribute, /*isArgument=*/true);
}

LogicalResult
GraphDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                          unsigned resultIndex,
                                          NamedAttribute attribute) {
  return verifyFunctionAttribute(op, attribute, /*isArgument=*/false);
}
