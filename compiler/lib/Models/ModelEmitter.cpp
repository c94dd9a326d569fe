//===- ModelEmitter.cpp - emits one model function layer by layer ---------===//
//
// Weight arguments are appended to the entry block as layers ask for them, so
// a builder reads like the model's forward pass; the signature is fixed once,
// at the end.
//
//===----------------------------------------------------------------------===//

#include "ModelEmitter.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <numeric>

using namespace mlir;
using namespace autochunk::graph;

namespace autochunk::models {

//===----------------------------------------------------------------------===//
// Element types and sizes
//===----------------------------------------------------------------------===//

std::optional<DType> parseDType(StringRef text) {
  return llvm::StringSwitch<std::optional<DType>>(text)
      .Case("f32", DType::F32)
      .Case("f16", DType::F16)
      .Case("bf16", DType::BF16)
      .Default(std::nullopt);
}

StringRef toString(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  }
  llvm_unreachable("unknown DType");
}

Type getElementType(MLIRContext &context, DType dtype) {
  switch (dtype) {
  case DType::F32:
    return Float32Type::get(&context);
  case DType::F16:
    return Float16Type::get(&context);
  case DType::BF16:
    return BFloat16Type::get(&context);
  }
  llvm_unreachable("unknown DType");
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

std::optional<std::string>
checkPositiveSizes(ArrayRef<std::pair<StringRef, int64_t>> sizes) {
  for (auto [flag, value] : sizes)
    if (value <= 0)
      return (flag + " must be positive, but is " + Twine(value)).str();
  return std::nullopt;
}

std::optional<std::string>
checkTensorSizes(ArrayRef<SmallVector<int64_t>> shapes) {
  // Later passes count bytes (up to 8 per element, with headroom for sums of
  // buffers) in int64, so one tensor stays below 2^56 elements.
  constexpr int64_t kMaxElements = int64_t(1) << 56;
  for (const SmallVector<int64_t> &shape : shapes) {
    std::optional<int64_t> count = int64_t(1);
    for (int64_t size : shape) {
      count = llvm::checkedMul(*count, size);
      if (!count || *count > kMaxElements)
        break;
    }
    if (!count || *count > kMaxElements) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "the model is too large: a [";
      llvm::interleave(shape, os, ", ");
      os << "] tensor would have more than 2^56 elements";
      return text;
    }
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// ModelEmitter
//===----------------------------------------------------------------------===//

ModelEmitter::ModelEmitter(MLIRContext &context, StringRef functionName,
                           DType dtype)
    : context(context), elementType(getElementType(context, dtype)),
      builder(&context) {
  context.loadDialect<GraphDialect, func::FuncDialect>();
  Location unknown = UnknownLoc::get(&context);
  module = ModuleOp::create(unknown);
  builder.setInsertionPointToEnd(module->getBody());
  function = func::FuncOp::create(builder, loc(functionName), functionName,
                                  builder.getFunctionType({}, {}));
  builder.setInsertionPointToStart(function.addEntryBlock());
}

RankedTensorType ModelEmitter::tensorType(ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, elementType);
}

Location ModelEmitter::loc(const Twine &scope) {
  return NameLoc::get(StringAttr::get(&context, scope));
}

Value ModelEmitter::addArgument(const Twine &name, StringRef role,
                                ArrayRef<int64_t> shape) {
  argumentNames.emplace_back(name.str(), role);
  return function.front().addArgument(tensorType(shape), loc(name));
}

Value ModelEmitter::addInput(const Twine &name, ArrayRef<int64_t> shape) {
  return addArgument(name, "input", shape);
}

Value ModelEmitter::addWeight(const Twine &name, ArrayRef<int64_t> shape) {
  return addArgument(name, "weight", shape);
}

Value ModelEmitter::linear(const Twine &scope, Value input, int64_t outFeatures,
                           bool withBias) {
  Value weight =
      addWeight(scope + ".weight", {outFeatures, shapeOf(input).back()});
  Value bias = withBias ? addWeight(scope + ".bias", {outFeatures}) : Value();
  return LinearOp::create(builder, loc(scope), input, weight, bias);
}

Value ModelEmitter::layerNorm(const Twine &scope, Value input, double epsilon) {
  int64_t features = shapeOf(input).back();
  Value weight = addWeight(scope + ".weight", {features});
  Value bias = addWeight(scope + ".bias", {features});
  return LayerNormOp::create(
      builder, loc(scope), input, weight, bias,
      builder.getI64IntegerAttr(shapeOf(input).size() - 1),
      builder.getF64FloatAttr(epsilon));
}

Value ModelEmitter::add(const Twine &scope, Value lhs, Value rhs) {
  return AddOp::create(builder, loc(scope), lhs, rhs);
}

Value ModelEmitter::mul(const Twine &scope, Value lhs, Value rhs) {
  return MulOp::create(builder, loc(scope), lhs, rhs);
}

Value ModelEmitter::scale(const Twine &scope, Value input, double factor) {
  return ScaleOp::create(builder, loc(scope), input,
                         builder.getF64FloatAttr(factor));
}

Value ModelEmitter::sigmoid(const Twine &scope, Value input) {
  return SigmoidOp::create(builder, loc(scope), input);
}

Value ModelEmitter::relu(const Twine &scope, Value input) {
  return ReluOp::create(builder, loc(scope), input);
}

Value ModelEmitter::reshape(const Twine &scope, Value input,
                            ArrayRef<int64_t> shape) {
  return ReshapeOp::create(builder, loc(scope), tensorType(shape), input);
}

Value ModelEmitter::transpose(const Twine &scope, Value input,
                              ArrayRef<int64_t> permutation) {
  return TransposeOp::create(builder, loc(scope), input, permutation);
}

Value ModelEmitter::sliceLast(const Twine &scope, Value input, int64_t start,
                              int64_t size) {
  ArrayRef<int64_t> shape = shapeOf(input);
  SmallVector<int64_t> starts(shape.size(), 0);
  SmallVector<int64_t> limits(shape);
  starts.back() = start;
  limits.back() = start + size;
  return SliceOp::create(builder, loc(scope), input, starts, limits,
                         /*strides=*/nullptr);
}

Value ModelEmitter::splitHeads(const Twine &scope, Value input, int64_t heads) {
  SmallVector<int64_t> shape(shapeOf(input));
  int64_t headDim = shape.back() / heads;
  shape.back() = heads;
  shape.push_back(headDim);
  Value split = reshape(scope, input, shape);
  // Swap tokens and heads: [..., T, H, Dh] -> [..., H, T, Dh].
  SmallVector<int64_t> permutation(shape.size());
  std::iota(permutation.begin(), permutation.end(), 0);
  std::swap(permutation[shape.size() - 3], permutation[shape.size() - 2]);
  return transpose(scope, split, permutation);
}

Value ModelEmitter::mergeHeads(const Twine &scope, Value input) {
  ArrayRef<int64_t> shape = shapeOf(input);
  size_t rank = shape.size();
  SmallVector<int64_t> permutation(rank);
  std::iota(permutation.begin(), permutation.end(), 0);
  std::swap(permutation[rank - 3], permutation[rank - 2]);
  Value tokensFirst = transpose(scope, input, permutation);
  SmallVector<int64_t> merged(shape.drop_back(3));
  merged.push_back(shape[rank - 2]);
  merged.push_back(shape[rank - 3] * shape[rank - 1]);
  return reshape(scope, tokensFirst, merged);
}

FailureOr<OwningOpRef<ModuleOp>>
ModelEmitter::finish(ArrayRef<std::pair<Value, StringRef>> results,
                     std::string &error) {
  SmallVector<Value> values;
  for (const auto &result : results)
    values.push_back(result.first);
  func::ReturnOp::create(builder, function.getLoc(), values);

  Block &entry = function.front();
  function.setType(builder.getFunctionType(entry.getArgumentTypes(),
                                           ValueRange(values).getTypes()));
  auto nameAttr = builder.getStringAttr(GraphDialect::kNameAttrName);
  auto roleAttr = builder.getStringAttr(GraphDialect::kRoleAttrName);
  // graph.name matches weight files, so a repeated name is a builder bug.
  llvm::StringSet<> seen;
  for (auto [index, nameAndRole] : llvm::enumerate(argumentNames)) {
    if (!seen.insert(nameAndRole.first).second) {
      error = "internal error: graph.name \"" + nameAndRole.first +
              "\" is used twice";
      return failure();
    }
    function.setArgAttr(index, nameAttr,
                        builder.getStringAttr(nameAndRole.first));
    function.setArgAttr(index, roleAttr,
                        builder.getStringAttr(nameAndRole.second));
  }
  for (auto [index, result] : llvm::enumerate(results)) {
    if (!seen.insert(result.second).second) {
      error = "internal error: graph.name \"" + result.second.str() +
              "\" is used twice";
      return failure();
    }
    function.setResultAttr(index, nameAttr,
                           builder.getStringAttr(result.second));
  }

  std::string diagnostics;
  {
    ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diagnostic) {
      diagnostics += diagnostic.str();
      diagnostics += "\n";
      return success();
    });
    if (failed(verify(*module))) {
      error =
          "internal error: the built module does not verify: " + diagnostics;
      return failure();
    }
  }
  return std::move(module);
}

} // namespace autochunk::models
