//===- PlanJson.cpp - the chunk plan as JSON (--plan-out) -----------------===//

#include "autochunk/Compiler/Compiler.h"

#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace autochunk;

/// An attribute of the plan as JSON; anything without a JSON shape is
/// written as its MLIR text.
static llvm::json::Value toJson(Attribute attribute) {
  if (auto boolean = dyn_cast<BoolAttr>(attribute))
    return boolean.getValue();
  if (auto integer = dyn_cast<IntegerAttr>(attribute))
    return integer.getInt();
  if (auto real = dyn_cast<FloatAttr>(attribute))
    return real.getValueAsDouble();
  if (auto text = dyn_cast<StringAttr>(attribute))
    return text.getValue().str();
  if (auto array = dyn_cast<ArrayAttr>(attribute)) {
    llvm::json::Array values;
    for (Attribute element : array)
      values.push_back(toJson(element));
    return values;
  }
  if (auto array = dyn_cast<DenseI64ArrayAttr>(attribute)) {
    llvm::json::Array values;
    for (int64_t element : array.asArrayRef())
      values.push_back(element);
    return values;
  }
  if (auto dictionary = dyn_cast<DictionaryAttr>(attribute)) {
    llvm::json::Object object;
    for (NamedAttribute entry : dictionary)
      object[entry.getName().getValue()] = toJson(entry.getValue());
    return object;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  attribute.print(os);
  return text;
}

std::string autochunk::planToJson(const ModelInterface &interface) {
  llvm::json::Object root;
  root["model"] = interface.functionName;
  root["chunked"] = interface.chunked;
  if (interface.budgetBytes > 0)
    root["budget_bytes"] = interface.budgetBytes;
  if (interface.unchunkedArenaBytes > 0)
    root["unchunked_planned_activation_bytes"] = interface.unchunkedArenaBytes;
  root["planned_activation_bytes"] = interface.arenaBytes;
  if (interface.chunked)
    root["predicted_slowdown"] = interface.predictedSlowdown;
  root["regions"] = interface.plan ? toJson(interface.plan)
                                   : llvm::json::Value(llvm::json::Array());
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return text;
}
