//===- GraphOps.cpp - ops of the AutoChunk graph dialect ------------------===//
//
// Shape inference, verifiers and folders of the graph ops. Inference and
// verification share one code path per op: the verifier of an op with an
// inferred result re-runs inference, so a diagnostic reads the same whether a
// builder or the parser made the op.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace autochunk::graph;

//===----------------------------------------------------------------------===//
// Shared shape rules
//===----------------------------------------------------------------------===//

/// "4x8" for a shape, "scalar" for rank 0: the form diagnostics print.
static std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  return llvm::join(
      llvm::map_range(shape, [](int64_t size) { return std::to_string(size); }),
      "x");
}

std::optional<SmallVector<int64_t>>
autochunk::graph::broadcastShapes(ArrayRef<int64_t> lhs,
                                  ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing leading dimension acts as size 1.
    int64_t l = i < lhs.size() ? lhs[lhs.size() - 1 - i] : 1;
    int64_t r = i < rhs.size() ? rhs[rhs.size() - 1 - i] : 1;
    if (l != r && l != 1 && r != 1)
      return std::nullopt;
    result[rank - 1 - i] = l == 1 ? r : l;
  }
  return result;
}

std::optional<EinsumEquation> EinsumEquation::parse(StringRef text,
                                                    std::string &error) {
  auto [lhs, rhs] = text.split("->");
  if (lhs.size() == text.size()) {
    error = "einsum equation '" + text.str() +
            "' needs an explicit '->' and result subscripts";
    return std::nullopt;
  }
  EinsumEquation equation;
  SmallVector<StringRef> operandTerms;
  lhs.split(operandTerms, ',');
  auto checkTerm = [&](StringRef term, StringRef role) -> bool {
    llvm::SmallSet<char, 8> seen;
    for (char label : term) {
      if (label < 'a' || label > 'z') {
        error = "einsum " + role.str() + " subscripts '" + term.str() +
                "' may only hold lowercase letters";
        return false;
      }
      if (!seen.insert(label).second) {
        error = "einsum label '" + std::string(1, label) + "' repeats in " +
                role.str() + " subscripts '" + term.str() +
                "' (diagonals are not supported)";
        return false;
      }
    }
    return true;
  };
  for (StringRef term : operandTerms) {
    if (!checkTerm(term, "operand"))
      return std::nullopt;
    equation.inputs.push_back(term.str());
  }
  if (!checkTerm(rhs, "result"))
    return std::nullopt;
  for (char label : rhs) {
    if (llvm::none_of(equation.inputs, [&](const std::string &term) {
          return term.find(label) != std::string::npos;
        })) {
      error = "einsum result label '" + std::string(1, label) +
              "' appears in no operand";
      return std::nullopt;
    }
  }
  equation.output = rhs.str();
  return equation;
}

std::string EinsumEquation::reducedLabels() const {
  std::string reduced;
  for (const std::string &term : inputs)
    for (char label : term)
      if (output.find(label) == std::string::npos &&
          reduced.find(label) == std::string::npos)
        reduced.push_back(label);
  return reduced;
}

/// The ranked tensor type of `value`; inference runs before the operand type
/// constraints are checked when an op is built generically, so it must not
/// assume them.
static RankedTensorType getRankedType(Value value) {
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

/// The printed form of `type` for diagnostics.
static std::string formatType(Type type) {
  if (!type)
    return "<null>";
  std::string text;
  llvm::raw_string_ostream stream(text);
  type.print(stream);
  return text;
}

/// "[1, 0, 2]" for a list of axes or indices.
static std::string formatList(ArrayRef<int64_t> values) {
  return "[" +
         llvm::join(llvm::map_range(
                        values, [](int64_t v) { return std::to_string(v); }),
                    ", ") +
         "]";
}

/// Emits "<what>: <message>" at `location` when there is one.
static LogicalResult inferenceError(std::optional<Location> location,
                                    StringRef opName, const Twine &message) {
  return emitOptionalError(location, "'graph.", opName, "' op ", message);
}

/// Checks the operand count before an adaptor accessor indexes the operand
/// list: a generic builder may pass any number of operands to inference.
static LogicalResult checkOperandCount(std::optional<Location> location,
                                       StringRef opName, ValueRange operands,
                                       size_t min, size_t max) {
  if (operands.size() >= min && operands.size() <= max)
    return success();
  std::string expected = std::to_string(min);
  if (max != min)
    expected += " to " + std::to_string(max);
  return inferenceError(location, opName,
                        "expects " + expected + " operands, but got " +
                            Twine(operands.size()));
}

/// Checks that a required attribute is present: a generic builder may omit it
/// and inference runs before the attribute constraints are checked.
static LogicalResult checkRequiredAttr(std::optional<Location> location,
                                       StringRef opName, Attribute attr,
                                       StringRef attrName) {
  if (attr)
    return success();
  return inferenceError(location, opName,
                        "requires attribute '" + attrName + "'");
}

/// Checks that every value in `operands` is a ranked tensor and that all share
/// one element type, which it returns.
static FailureOr<Type> commonElementType(std::optional<Location> location,
                                         StringRef opName,
                                         ValueRange operands) {
  Type elementType;
  for (auto [index, value] : llvm::enumerate(operands)) {
    RankedTensorType tensor = getRankedType(value);
    if (!tensor)
      return inferenceError(location, opName,
                            "operand #" + Twine(index) +
                                " must be a ranked tensor, but has type " +
                                formatType(value ? value.getType() : Type()));
    if (!elementType)
      elementType = tensor.getElementType();
    else if (tensor.getElementType() != elementType)
      return inferenceError(
          location, opName,
          "expects operands of one element type, but operand #0 has " +
              formatType(elementType) + " and operand #" + Twine(index) +
              " has " + formatType(tensor.getElementType()));
  }
  return elementType;
}

/// Checks that `axis` indexes a dimension of a rank-`rank` tensor.
static LogicalResult checkAxis(std::optional<Location> location,
                               StringRef opName, StringRef what, int64_t axis,
                               int64_t rank) {
  if (axis < 0 || axis >= rank)
    return inferenceError(location, opName,
                          what + " " + Twine(axis) + " is out of range [0, " +
                              Twine(rank) + ")");
  return success();
}

/// True when `attr` is a splat constant equal to `value`.
static bool isSplatOf(Attribute attr, double value) {
  auto splat = dyn_cast_or_null<SplatElementsAttr>(attr);
  if (!splat || !isa<FloatType>(splat.getElementType()))
    return false;
  APFloat element = splat.getSplatValue<APFloat>();
  bool losesInfo = false;
  element.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                  &losesInfo);
  return element.convertToDouble() == value;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *context,
                                           std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  if (failed(
          checkOperandCount(location, "constant", adaptor.getOperands(), 0, 0)))
    return failure();
  ElementsAttr value = adaptor.getProperties().value;
  if (!value)
    return inferenceError(location, "constant",
                          "requires an elements attribute 'value'");
  inferred.push_back(value.getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getValue().getType());
  if (!type || !type.hasStaticShape() ||
      !isa<Float32Type, Float16Type, BFloat16Type>(type.getElementType()))
    return emitOpError("value must be a statically shaped f32, f16 or bf16 "
                       "tensor, but got ")
           << getValue().getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

OpFoldResult NegOp::fold(FoldAdaptor) {
  // -(-x) == x exactly in IEEE arithmetic.
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", but got \"")
           << getApproximate() << "\"";
  return success();
}

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  double factor = getFactor().convertToDouble();
  if (factor == 1.0)
    return getInput();
  if (auto inner = getInput().getDefiningOp<ScaleOp>()) {
    setFactorAttr(FloatAttr::get(Float64Type::get(getContext()),
                                 factor * inner.getFactor().convertToDouble()));
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

static LogicalResult inferBroadcastBinary(std::optional<Location> location,
                                          StringRef opName, ValueRange operands,
                                          SmallVectorImpl<Type> &inferred) {
  if (failed(checkOperandCount(location, opName, operands, 2, 2)))
    return failure();
  FailureOr<Type> elementType = commonElementType(location, opName, operands);
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> lhsShape = getRankedType(operands[0]).getShape();
  ArrayRef<int64_t> rhsShape = getRankedType(operands[1]).getShape();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(lhsShape, rhsShape);
  if (!shape)
    return inferenceError(location, opName,
                          "operand shapes " + formatShape(lhsShape) + " and " +
                              formatShape(rhsShape) +
                              " are not broadcast-compatible");
  inferred.push_back(RankedTensorType::get(*shape, *elementType));
  return success();
}

#define AUTOCHUNK_BINARY_INFERENCE(OpClass, name)                              \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *, std::optional<Location> location, Adaptor adaptor,        \
      SmallVectorImpl<Type> &inferred) {                                       \
    return inferBroadcastBinary(location, name, adaptor.getOperands(),         \
                                inferred);                                     \
  }
AUTOCHUNK_BINARY_INFERENCE(AddOp, "add")
AUTOCHUNK_BINARY_INFERENCE(SubOp, "sub")
AUTOCHUNK_BINARY_INFERENCE(MulOp, "mul")
AUTOCHUNK_BINARY_INFERENCE(DivOp, "div")
#undef AUTOCHUNK_BINARY_INFERENCE

/// Folds `op` to `operand` when `constant` is the identity splat and the
/// result has the operand's type (a broadcasting identity is not a no-op).
static OpFoldResult foldIdentityOperand(Operation *op, Value operand,
                                        Attribute constant, double identity) {
  if (isSplatOf(constant, identity) &&
      operand.getType() == op->getResult(0).getType())
    return operand;
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult folded =
          foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 0.0))
    return folded;
  return foldIdentityOperand(*this, getRhs(), adaptor.getLhs(), 0.0);
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 0.0);
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult folded =
          foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 1.0))
    return folded;
  return foldIdentityOperand(*this, getRhs(), adaptor.getLhs(), 1.0);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 1.0);
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(
          checkOperandCount(location, "matmul", adaptor.getOperands(), 2, 2)))
    return failure();
  FailureOr<Type> elementType =
      commonElementType(location, "matmul", adaptor.getOperands());
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> lhs = getRankedType(adaptor.getLhs()).getShape();
  ArrayRef<int64_t> rhs = getRankedType(adaptor.getRhs()).getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return inferenceError(
        location, "matmul",
        "operands must have rank at least 2, but lhs " + formatShape(lhs) +
            " has rank " + Twine(lhs.size()) + " and rhs " + formatShape(rhs) +
            " has rank " + Twine(rhs.size()));
  size_t lr = lhs.size(), rr = rhs.size();
  bool transposeA = adaptor.getTransposeA(),
       transposeB = adaptor.getTransposeB();
  int64_t m = transposeA ? lhs[lr - 1] : lhs[lr - 2];
  int64_t lhsK = transposeA ? lhs[lr - 2] : lhs[lr - 1];
  int64_t rhsK = transposeB ? rhs[rr - 1] : rhs[rr - 2];
  int64_t n = transposeB ? rhs[rr - 2] : rhs[rr - 1];
  if (lhsK != rhsK)
    return inferenceError(location, "matmul",
                          "contraction sizes differ: lhs " + formatShape(lhs) +
                              " has K = " + Twine(lhsK) + ", rhs " +
                              formatShape(rhs) + " has K = " + Twine(rhsK));
  std::optional<SmallVector<int64_t>> batch =
      broadcastShapes(lhs.drop_back(2), rhs.drop_back(2));
  if (!batch)
    return inferenceError(location, "matmul",
                          "batch dimensions " + formatShape(lhs.drop_back(2)) +
                              " and " + formatShape(rhs.drop_back(2)) +
                              " are not broadcast-compatible");
  batch->push_back(m);
  batch->push_back(n);
  inferred.push_back(RankedTensorType::get(*batch, *elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// EinsumOp
//===----------------------------------------------------------------------===//

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getOperands();
  if (inputs.empty() || inputs.size() > 2)
    return inferenceError(location, "einsum",
                          "takes one or two operands, but got " +
                              Twine(inputs.size()));
  FailureOr<Type> elementType = commonElementType(location, "einsum", inputs);
  if (failed(elementType))
    return failure();
  if (failed(checkRequiredAttr(location, "einsum",
                               adaptor.getProperties().equation, "equation")))
    return failure();
  std::string error;
  std::optional<EinsumEquation> equation =
      EinsumEquation::parse(adaptor.getEquation(), error);
  if (!equation)
    return inferenceError(location, "einsum", error);
  if (equation->inputs.size() != inputs.size())
    return inferenceError(location, "einsum",
                          "equation '" + adaptor.getEquation() + "' has " +
                              Twine(equation->inputs.size()) +
                              " operand subscripts but the op has " +
                              Twine(inputs.size()) + " operands");
  // The size of each label and the operand that first gave it.
  int64_t labelSize[26];
  size_t labelOperand[26];
  std::fill(std::begin(labelSize), std::end(labelSize), -1);
  for (auto [index, input] : llvm::enumerate(inputs)) {
    ArrayRef<int64_t> shape = getRankedType(input).getShape();
    const std::string &term = equation->inputs[index];
    if (term.size() != shape.size())
      return inferenceError(
          location, "einsum",
          "subscripts '" + term + "' of operand #" + Twine(index) + " name " +
              Twine(term.size()) + " dimensions, but the operand " +
              formatShape(shape) + " has rank " + Twine(shape.size()));
    for (auto [label, size] : llvm::zip_equal(term, shape)) {
      int64_t &known = labelSize[label - 'a'];
      if (known >= 0 && known != size)
        return inferenceError(
            location, "einsum",
            "label '" + Twine(label) + "' has size " + Twine(known) +
                " in operand #" + Twine(labelOperand[label - 'a']) +
                " but size " + Twine(size) + " in operand #" + Twine(index));
      if (known < 0)
        labelOperand[label - 'a'] = index;
      known = size;
    }
  }
  SmallVector<int64_t> shape;
  for (char label : equation->output)
    shape.push_back(labelSize[label - 'a']);
  inferred.push_back(RankedTensorType::get(shape, *elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (failed(
          checkOperandCount(location, "linear", adaptor.getOperands(), 2, 3)))
    return failure();
  FailureOr<Type> elementType =
      commonElementType(location, "linear", adaptor.getOperands());
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> input = getRankedType(adaptor.getInput()).getShape();
  ArrayRef<int64_t> weight = getRankedType(adaptor.getWeight()).getShape();
  if (input.empty())
    return inferenceError(location, "linear",
                          "input must have rank at least 1, but is a scalar");
  if (weight.size() != 2)
    return inferenceError(location, "linear",
                          "weight must be [out, in], but has shape " +
                              formatShape(weight));
  if (weight[1] != input.back())
    return inferenceError(
        location, "linear",
        "weight " + formatShape(weight) + " expects " + Twine(weight[1]) +
            " input features, but the input " + formatShape(input) + " has " +
            Twine(input.back()));
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> biasShape = getRankedType(bias).getShape();
    if (biasShape.size() != 1 || biasShape[0] != weight[0])
      return inferenceError(location, "linear",
                            "bias must have shape " + Twine(weight[0]) +
                                " (the weight's out features), but has shape " +
                                formatShape(biasShape));
  }
  SmallVector<int64_t> shape(input);
  shape.back() = weight[0];
  inferred.push_back(RankedTensorType::get(shape, *elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// SoftmaxOp, LayerNormOp, reductions
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  return checkAxis(getLoc(), "softmax", "axis", getAxisAttr().getInt(),
                   getInput().getType().getRank());
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(checkOperandCount(location, "layer_norm", adaptor.getOperands(), 3,
                               3)))
    return failure();
  FailureOr<Type> elementType =
      commonElementType(location, "layer_norm", adaptor.getOperands());
  if (failed(elementType))
    return failure();
  if (failed(checkRequiredAttr(location, "layer_norm",
                               adaptor.getProperties().axis, "axis")))
    return failure();
  RankedTensorType inputType = getRankedType(adaptor.getInput());
  int64_t axis = adaptor.getProperties().axis.getInt();
  if (failed(
          checkAxis(location, "layer_norm", "axis", axis, inputType.getRank())))
    return failure();
  ArrayRef<int64_t> normalized = inputType.getShape().drop_front(axis);
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"weight", adaptor.getWeight()},
        {"bias", adaptor.getBias()}}) {
    ArrayRef<int64_t> shape = getRankedType(value).getShape();
    if (shape != normalized)
      return inferenceError(
          location, "layer_norm",
          name + " must have the normalized shape " + formatShape(normalized) +
              " (input " + formatShape(inputType.getShape()) + " from axis " +
              Twine(axis) + "), but has " + formatShape(shape));
  }
  if (adaptor.getEpsilon().convertToDouble() < 0.0) {
    SmallString<16> epsilon;
    adaptor.getEpsilon().toString(epsilon);
    return inferenceError(location, "layer_norm",
                          "epsilon must not be negative, but is " + epsilon);
  }
  inferred.push_back(inputType);
  return success();
}

template <typename Adaptor>
static LogicalResult inferReduction(std::optional<Location> location,
                                    StringRef opName, Adaptor adaptor,
                                    SmallVectorImpl<Type> &inferred) {
  if (failed(
          checkOperandCount(location, opName, adaptor.getOperands(), 1, 1)) ||
      failed(commonElementType(location, opName, adaptor.getOperands())) ||
      failed(checkRequiredAttr(location, opName, adaptor.getProperties().axes,
                               "axes")))
    return failure();
  RankedTensorType type = getRankedType(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getProperties().axes.asArrayRef();
  bool keepDims = adaptor.getKeepDims();
  if (axes.empty())
    return inferenceError(location, opName, "axes must not be empty");
  for (auto [index, axis] : llvm::enumerate(axes)) {
    if (failed(checkAxis(location, opName, "axis", axis, type.getRank())))
      return failure();
    if (index > 0 && axis <= axes[index - 1])
      return inferenceError(location, opName,
                            "axes " + formatList(axes) +
                                " must be strictly increasing");
  }
  SmallVector<int64_t> shape;
  for (auto [dim, size] : llvm::enumerate(type.getShape())) {
    if (!llvm::is_contained(axes, static_cast<int64_t>(dim)))
      shape.push_back(size);
    else if (keepDims)
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

#define AUTOCHUNK_REDUCE_INFERENCE(OpClass, name)                              \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *, std::optional<Location> location, Adaptor adaptor,        \
      SmallVectorImpl<Type> &inferred) {                                       \
    return inferReduction(location, name, adaptor, inferred);                  \
  }
AUTOCHUNK_REDUCE_INFERENCE(ReduceSumOp, "reduce_sum")
AUTOCHUNK_REDUCE_INFERENCE(ReduceMeanOp, "reduce_mean")
AUTOCHUNK_REDUCE_INFERENCE(ReduceMaxOp, "reduce_max")
#undef AUTOCHUNK_REDUCE_INFERENCE

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(checkOperandCount(location, "transpose", adaptor.getOperands(), 1,
                               1)) ||
      failed(commonElementType(location, "transpose", adaptor.getOperands())) ||
      failed(checkRequiredAttr(location, "transpose",
                               adaptor.getProperties().permutation,
                               "permutation")))
    return failure();
  RankedTensorType type = getRankedType(adaptor.getInput());
  ArrayRef<int64_t> permutation =
      adaptor.getProperties().permutation.asArrayRef();
  if (static_cast<int64_t>(permutation.size()) != type.getRank())
    return inferenceError(location, "transpose",
                          "permutation " + formatList(permutation) + " has " +
                              Twine(permutation.size()) +
                              " entries but the input " +
                              formatShape(type.getShape()) + " has rank " +
                              Twine(type.getRank()));
  SmallVector<bool> used(permutation.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t source : permutation) {
    if (source < 0 || source >= type.getRank() || used[source])
      return inferenceError(location, "transpose",
                            "permutation " + formatList(permutation) +
                                " must hold each of 0.." +
                                Twine(type.getRank() - 1) + " exactly once");
    used[source] = true;
    shape.push_back(type.getDimSize(source));
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return getInput();
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    // out[i] = mid[perm[i]] = in[innerPerm[perm[i]]].
    SmallVector<int64_t> composed;
    for (int64_t source : permutation)
      composed.push_back(inner.getPermutation()[source]);
    if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
      return inner.getInput();
    setPermutation(composed);
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// ReshapeOp, BroadcastOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the input's "
           << input.getElementType();
  if (input.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << formatShape(input.getShape()) << " (" << input.getNumElements()
           << " elements) to " << formatShape(result.getShape()) << " ("
           << result.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult BroadcastOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the input's "
           << input.getElementType();
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(input.getShape(), result.getShape());
  if (input.getRank() > result.getRank())
    return emitOpError("cannot broadcast ")
           << formatShape(input.getShape()) << " to "
           << formatShape(result.getShape())
           << ": the input's rank exceeds the result's";
  if (!shape || ArrayRef<int64_t>(*shape) != result.getShape())
    return emitOpError("cannot broadcast ")
           << formatShape(input.getShape()) << " to "
           << formatShape(result.getShape())
           << ": each input dimension, aligned from the right, must be 1 or "
              "the result's size";
  return success();
}

OpFoldResult BroadcastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // Broadcasting is transitive: a broadcast of a broadcast is one broadcast.
  if (auto inner = getInput().getDefiningOp<BroadcastOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  if (failed(
          checkOperandCount(location, "slice", adaptor.getOperands(), 1, 1)) ||
      failed(commonElementType(location, "slice", adaptor.getOperands())) ||
      failed(checkRequiredAttr(location, "slice",
                               adaptor.getProperties().starts, "starts")) ||
      failed(checkRequiredAttr(location, "slice",
                               adaptor.getProperties().limits, "limits")))
    return failure();
  RankedTensorType type = getRankedType(adaptor.getInput());
  ArrayRef<int64_t> starts = adaptor.getProperties().starts.asArrayRef();
  ArrayRef<int64_t> limits = adaptor.getProperties().limits.asArrayRef();
  std::optional<ArrayRef<int64_t>> strides;
  if (DenseI64ArrayAttr stridesAttr = adaptor.getProperties().strides)
    strides = stridesAttr.asArrayRef();
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(limits.size()) != rank ||
      (strides && static_cast<int64_t>(strides->size()) != rank))
    return inferenceError(
        location, "slice",
        "starts " + formatList(starts) + ", limits " + formatList(limits) +
            (strides ? " and strides " + formatList(*strides) : "") +
            " must each have " + Twine(rank) + " entries (the rank of input " +
            formatShape(type.getShape()) + ")");
  SmallVector<int64_t> shape;
  for (int64_t dim = 0; dim < rank; ++dim) {
    int64_t size = type.getDimSize(dim);
    int64_t start = starts[dim], limit = limits[dim];
    int64_t stride = strides ? (*strides)[dim] : 1;
    if (stride <= 0)
      return inferenceError(location, "slice",
                            "stride " + Twine(stride) + " of dimension " +
                                Twine(dim) + " must be positive");
    if (start < 0 || start >= size || limit <= start || limit > size)
      return inferenceError(
          location, "slice",
          "dimension " + Twine(dim) + " of size " + Twine(size) +
              " cannot be sliced [" + Twine(start) + ", " + Twine(limit) +
              "): the start must lie in [0, " + Twine(size) +
              ") and the limit in (start, " + Twine(size) + "]");
    shape.push_back((limit - start + stride - 1) / stride);
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  ValueRange inputs = adaptor.getOperands();
  if (inputs.empty())
    return inferenceError(location, "concat", "needs at least one operand");
  FailureOr<Type> elementType = commonElementType(location, "concat", inputs);
  if (failed(elementType))
    return failure();
  if (failed(checkRequiredAttr(location, "concat", adaptor.getProperties().axis,
                               "axis")))
    return failure();
  RankedTensorType first = getRankedType(inputs.front());
  int64_t axis = adaptor.getProperties().axis.getInt();
  if (failed(checkAxis(location, "concat", "axis", axis, first.getRank())))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (auto [index, input] : llvm::enumerate(inputs.drop_front())) {
    ArrayRef<int64_t> other = getRankedType(input).getShape();
    bool compatible = other.size() == shape.size();
    for (size_t dim = 0; compatible && dim < shape.size(); ++dim)
      compatible =
          static_cast<int64_t>(dim) == axis || other[dim] == shape[dim];
    if (!compatible)
      return inferenceError(
          location, "concat",
          "operand #" + Twine(index + 1) + " of shape " + formatShape(other) +
              " does not match operand #0 of shape " +
              formatShape(first.getShape()) + " outside axis " + Twine(axis));
    shape[axis] += other[axis];
  }
  inferred.push_back(RankedTensorType::get(shape, *elementType));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

//===----------------------------------------------------------------------===//
// CausalMaskOp
//===----------------------------------------------------------------------===//

LogicalResult CausalMaskOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError("input must have rank at least 2 ([..., queries, "
                       "keys]), but has rank ")
           << getInput().getType().getRank();
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  if (failed(checkOperandCount(location, "attention", adaptor.getOperands(), 3,
                               5)))
    return failure();
  SmallVector<Value, 4> tensors = {adaptor.getQuery(), adaptor.getKey(),
                                   adaptor.getValue()};
  if (adaptor.getBias())
    tensors.push_back(adaptor.getBias());
  FailureOr<Type> elementType =
      commonElementType(location, "attention", tensors);
  if (failed(elementType))
    return failure();
  ArrayRef<int64_t> query = getRankedType(adaptor.getQuery()).getShape();
  ArrayRef<int64_t> key = getRankedType(adaptor.getKey()).getShape();
  ArrayRef<int64_t> value = getRankedType(adaptor.getValue()).getShape();
  size_t rank = query.size();
  if (rank < 2 || key.size() != rank || value.size() != rank)
    return inferenceError(location, "attention",
                          "query, key and value need one rank of at least 2, "
                          "but have shapes " +
                              formatShape(query) + ", " + formatShape(key) +
                              " and " + formatShape(value));
  if (query.drop_back(2) != key.drop_back(2) ||
      query.drop_back(2) != value.drop_back(2))
    return inferenceError(location, "attention",
                          "query " + formatShape(query) + ", key " +
                              formatShape(key) + " and value " +
                              formatShape(value) +
                              " must share their leading dimensions");
  if (key[rank - 1] != query[rank - 1])
    return inferenceError(location, "attention",
                          "query " + formatShape(query) + " and key " +
                              formatShape(key) +
                              " must have one last dimension (D)");
  if (value[rank - 2] != key[rank - 2])
    return inferenceError(location, "attention",
                          "key " + formatShape(key) + " and value " +
                              formatShape(value) +
                              " must have one key count (N)");
  SmallVector<int64_t> logits(query);
  logits.back() = key[rank - 2];
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> biasShape = getRankedType(bias).getShape();
    std::optional<SmallVector<int64_t>> broadcast =
        broadcastShapes(biasShape, logits);
    if (biasShape.size() > rank || !broadcast ||
        ArrayRef<int64_t>(*broadcast) != ArrayRef<int64_t>(logits))
      return inferenceError(location, "attention",
                            "bias " + formatShape(biasShape) +
                                " does not broadcast to the logits " +
                                formatShape(logits));
  }
  SmallVector<int64_t> result(query);
  result.back() = value.back();
  inferred.push_back(RankedTensorType::get(result, *elementType));
  return success();
}

LogicalResult AttentionOp::verify() {
  if (getRowOffset() && !getCausal())
    return emitOpError("row_offset only applies to a causal mask");
  return success();
}

#define GET_OP_CLASSES
#include "autochunk/Dialect/Graph/GraphOps.cpp.inc"
