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

/// Checks that no argument before `argIndex` of `function` has the
/// `graph.name` `name`: weight files are matched by name, so a repeated one
/// would bind two arguments to one tensor.
static LogicalResult checkUniqueArgumentName(FunctionOpInterface function,
                                             unsigned argIndex,
                                             StringAttr name) {
  for (unsigned other = 0; other < argIndex; ++other) {
    auto otherName = function.getArgAttrOfType<StringAttr>(
        other, GraphDialect::kNameAttrName);
    if (otherName == name)
      return function->emitOpError()
             << "argument #" << argIndex << " repeats the '"
             << GraphDialect::kNameAttrName << "' " << name << " of argument #"
             << other;
  }
  return success();
}

/// Checks one `graph.*` attribute on function argument or result `index`.
static LogicalResult verifyFunctionAttribute(Operation *op,
                                             NamedAttribute attribute,
                                             bool isArgument, unsigned index) {
  StringRef name = attribute.getName().getValue();
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return op->emitOpError()
           << "'" << name << "' is only allowed on function signatures";
  StringRef where = isArgument ? "argument" : "result";
  if (name == GraphDialect::kNameAttrName) {
    auto text = dyn_cast<StringAttr>(attribute.getValue());
    if (!text || text.getValue().empty())
      return op->emitOpError()
             << "'" << name << "' of " << where << " #" << index
             << " must be a non-empty string, but is " << attribute.getValue();
    if (isArgument)
      return checkUniqueArgumentName(function, index, text);
    return success();
  }
  if (name == GraphDialect::kRoleAttrName) {
    if (!isArgument)
      return op->emitOpError()
             << "'" << name << "' is only allowed on function arguments, "
             << "but result #" << index << " has it";
    auto text = dyn_cast<StringAttr>(attribute.getValue());
    if (!text || (text.getValue() != "input" && text.getValue() != "weight"))
      return op->emitOpError() << "'" << name << "' of argument #" << index
                               << " must be \"input\" or \"weight\", but is "
                               << attribute.getValue();
    return success();
  }
  return op->emitOpError() << "unknown graph dialect attribute '" << name
                           << "' on " << where << " #" << index
                           << " (expected 'graph.name' or 'graph.role')";
}

LogicalResult GraphDialect::verifyRegionArgAttribute(Operation *op,
                                                     unsigned regionIndex,
                                                     unsigned argIndex,
                                                     NamedAttribute attribute) {
  return verifyFunctionAttribute(op, attribute, /*isArgument=*/true, argIndex);
}

LogicalResult
GraphDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                          unsigned resultIndex,
                                          NamedAttribute attribute) {
  return verifyFunctionAttribute(op, attribute, /*isArgument=*/false,
                                 resultIndex);
}

LogicalResult GraphDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attribute) {
  return op->emitOpError()
         << "carries '" << attribute.getName().getValue()
         << "', but graph dialect attributes belong on function arguments "
            "and results ('graph.name', 'graph.role'), not on operations";
}
