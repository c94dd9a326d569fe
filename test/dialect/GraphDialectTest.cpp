// Unit tests of the graph dialect's C++ API: shape rules, op builders with
// inferred result types, verifier diagnostics and folds.
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mlir;
using namespace autochunk::graph;

TEST_CASE("broadcastShapes follows numpy's rules", "[graph]") {
  auto shape = broadcastShapes({4, 1, 8}, {3, 1});
  REQUIRE(shape.has_value());
  CHECK(*shape == SmallVector<int64_t>{4, 3, 8});
  CHECK_FALSE(broadcastShapes({4, 8}, {5, 8}).has_value());
  CHECK(*broadcastShapes({}, {2, 3}) == SmallVector<int64_t>{2, 3});
  CHECK(*broadcastShapes({}, {}) == SmallVector<int64_t>{});
  CHECK(*broadcastShapes({1}, {0}) == SmallVector<int64_t>{0});
  CHECK_FALSE(broadcastShapes({2, 3}, {2}).has_value());
}

TEST_CASE("EinsumEquation parses and rejects", "[graph]") {
  std::string error;
  auto equation = EinsumEquation::parse("sic,sjd->ijcd", error);
  REQUIRE(equation.has_value());
  CHECK(equation->inputs.size() == 2);
  CHECK(equation->output == "ijcd");
  CHECK(equation->reducedLabels() == "s");
  auto full = EinsumEquation::parse("ij->", error);
  REQUIRE(full.has_value());
  CHECK(full->reducedLabels() == "ij");
  CHECK_FALSE(EinsumEquation::parse("ij,jk", error).has_value());
  CHECK(error.find("->") != std::string::npos);
  CHECK_FALSE(EinsumEquation::parse("ii->i", error).has_value());
  CHECK(error.find("repeats") != std::string::npos);
  CHECK_FALSE(EinsumEquation::parse("ij->ik", error).has_value());
  CHECK(error.find("'k' appears in no operand") != std::string::npos);
  CHECK_FALSE(EinsumEquation::parse("iJ->i", error).has_value());
  CHECK(error.find("lowercase") != std::string::npos);
}

namespace {
/// A module holding one function whose arguments have the given types, and a
/// builder positioned before its return.
class GraphFixture {
public:
  GraphFixture() : builder(&context), loc(UnknownLoc::get(&context)) {
    context.loadDialect<GraphDialect, func::FuncDialect>();
    module = ModuleOp::create(loc);
  }
  ~GraphFixture() { module->erase(); }

  /// Starts a function with arguments of `types`; returns them.
  SmallVector<Value> startFunction(ArrayRef<Type> types) {
    builder.setInsertionPointToEnd(module.getBody());
    auto function = func::FuncOp::create(builder, loc,
                                         "f" + std::to_string(functionCount++),
                                         builder.getFunctionType(types, {}));
    Block *entry = function.addEntryBlock();
    builder.setInsertionPointToEnd(entry);
    func::ReturnOp::create(builder, loc);
    builder.setInsertionPointToStart(entry);
    return SmallVector<Value>(entry->getArguments());
  }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  RankedTensorType f16(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF16Type());
  }
  RankedTensorType bf16(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getBF16Type());
  }

  /// Verifies `op`; returns the diagnostics it emitted, one a line, and
  /// whether it verified.
  std::pair<bool, std::string> verifyCapturing(Operation *op) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      messages += diagnostic.str() + "\n";
      return success();
    });
    bool verified = succeeded(verify(op));
    return {verified, messages};
  }

  /// Runs `OpTy`'s generic inference the way a generic builder does, with
  /// properties made from `attributes`; returns whether it succeeded and its
  /// diagnostics.
  template <typename OpTy>
  std::pair<bool, std::string>
  inferGeneric(ValueRange operands, ArrayRef<NamedAttribute> attributes = {}) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      messages += diagnostic.str() + "\n";
      return success();
    });
    DictionaryAttr dictionary = DictionaryAttr::get(&context, attributes);
    typename OpTy::Properties properties;
    auto diagnose = [&]() { return emitError(loc); };
    REQUIRE(succeeded(
        OpTy::setPropertiesFromAttr(properties, dictionary, diagnose)));
    SmallVector<Type> inferred;
    bool inferredOk = succeeded(OpTy::inferReturnTypes(
        &context, loc, operands, dictionary, OpaqueProperties(&properties),
        RegionRange(), inferred));
    if (inferredOk)
      CHECK(inferred.size() == 1);
    return {inferredOk, messages};
  }

  /// Runs the folders (and dead code removal) over the module.
  void fold() {
    RewritePatternSet noPatterns(&context);
    REQUIRE(succeeded(
        applyPatternsGreedily(module.getOperation(), std::move(noPatterns))));
  }

  MLIRContext context;
  OpBuilder builder;
  Location loc;
  ModuleOp module;
  int functionCount = 0;
};

std::vector<int64_t> shapeOf(Value value) {
  auto shape = cast<RankedTensorType>(value.getType()).getShape();
  return {shape.begin(), shape.end()};
}
} // namespace

//===----------------------------------------------------------------------===//
// Builders with inferred result types
//===----------------------------------------------------------------------===//

TEST_CASE_METHOD(GraphFixture, "every op builds with an inferred result type",
                 "[graph][builders]") {
  Type index = builder.getIndexType();
  SmallVector<Value> args = startFunction({f32({4, 1, 8}),
                                           f32({3, 1}),
                                           f32({2, 1, 4, 8}),
                                           f32({3, 8, 5}),
                                           f32({8, 4}),
                                           f32({8, 16}),
                                           f16({12, 128, 64}),
                                           f32({8, 16, 4}),
                                           f32({8, 16, 2}),
                                           bf16({2, 3, 8}),
                                           bf16({4, 8}),
                                           bf16({4}),
                                           f32({2, 3, 4}),
                                           f32({3, 4}),
                                           f32({4, 8}),
                                           f32({2, 5}),
                                           f32({2, 3}),
                                           index,
                                           index,
                                           f32({}),
                                           f32({16, 8})});
  Value a = args[0], b = args[1], batchLhs = args[2], batchRhs = args[3];
  Value at = args[4], k = args[5], q = args[6], msaLeft = args[7];
  Value msaRight = args[8], tokens = args[9], weight = args[10];
  Value bias = args[11], x = args[12], norm = args[13], grid = args[14];
  Value wide = args[15], narrow = args[16], row = args[17], col = args[18];
  Value scalar = args[19], bt = args[20];

  auto constant = ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(f16({2, 2}), builder.getF16FloatAttr(0.5)));
  CHECK(constant.getType() == f16({2, 2}));

  // Unary ops keep the input type, rank 0 included.
  CHECK(ExpOp::create(builder, loc, x).getType() == x.getType());
  CHECK(SqrtOp::create(builder, loc, x).getType() == x.getType());
  CHECK(RsqrtOp::create(builder, loc, q).getType() == q.getType());
  CHECK(NegOp::create(builder, loc, scalar).getType() == f32({}));
  CHECK(ReluOp::create(builder, loc, tokens).getType() == tokens.getType());
  CHECK(SigmoidOp::create(builder, loc, x).getType() == x.getType());
  CHECK(SiluOp::create(builder, loc, x).getType() == x.getType());
  CHECK(TanhOp::create(builder, loc, x).getType() == x.getType());
  CHECK(GeluOp::create(builder, loc, x, "tanh").getType() == x.getType());
  CHECK(GeluOp::create(builder, loc, x).getApproximate() == "none");
  CHECK(ScaleOp::create(builder, loc, x, APFloat(0.125)).getType() ==
        x.getType());

  // Broadcasting: 4x1x8 with 3x1 gives 4x3x8.
  CHECK(shapeOf(AddOp::create(builder, loc, a, b)) ==
        std::vector<int64_t>{4, 3, 8});
  CHECK(shapeOf(SubOp::create(builder, loc, b, a)) ==
        std::vector<int64_t>{4, 3, 8});
  CHECK(shapeOf(MulOp::create(builder, loc, scalar, a)) ==
        std::vector<int64_t>{4, 1, 8});
  CHECK(shapeOf(DivOp::create(builder, loc, x, norm)) ==
        std::vector<int64_t>{2, 3, 4});

  // Matmul: batch 2x1 with 3 gives 2x3, M = 4, N = 5.
  CHECK(shapeOf(MatmulOp::create(builder, loc, batchLhs, batchRhs)) ==
        std::vector<int64_t>{2, 3, 4, 5});
  CHECK(shapeOf(MatmulOp::create(builder, loc, at, k, /*transpose_a=*/true)) ==
        std::vector<int64_t>{4, 16});
  CHECK(shapeOf(MatmulOp::create(builder, loc, q, q, /*transpose_a=*/false,
                                 /*transpose_b=*/true)) ==
        std::vector<int64_t>{12, 128, 128});
  // lhs 8x4 read as [K, M], rhs 16x8 read as [N, K].
  auto bothTransposed = MatmulOp::create(builder, loc, at, bt, true, true);
  CHECK(shapeOf(bothTransposed) == std::vector<int64_t>{4, 16});
  CHECK(bothTransposed.getType().getElementType().isF32());

  // Einsum: the outer product mean and a one-operand reduction.
  CHECK(shapeOf(EinsumOp::create(builder, loc, "sic,sjd->ijcd",
                                 ValueRange{msaLeft, msaRight})) ==
        std::vector<int64_t>{16, 16, 4, 2});
  CHECK(
      shapeOf(EinsumOp::create(builder, loc, "sic->ci", ValueRange{msaLeft})) ==
      std::vector<int64_t>{4, 16});

  // Linear: [..., in] x [out, in] (+ [out]).
  auto withBias = LinearOp::create(builder, loc, tokens, weight, bias);
  CHECK(shapeOf(withBias) == std::vector<int64_t>{2, 3, 4});
  CHECK(withBias.getType().getElementType().isBF16());
  CHECK(shapeOf(LinearOp::create(builder, loc, tokens, weight, Value())) ==
        std::vector<int64_t>{2, 3, 4});

  CHECK(SoftmaxOp::create(builder, loc, x, 2).getType() == x.getType());
  CHECK(LayerNormOp::create(builder, loc, x, norm, norm, 1, APFloat(1e-5))
            .getType() == x.getType());

  CHECK(shapeOf(ReduceSumOp::create(builder, loc, x, {1})) ==
        std::vector<int64_t>{2, 4});
  CHECK(shapeOf(ReduceMeanOp::create(builder, loc, x, {1}, true)) ==
        std::vector<int64_t>{2, 1, 4});
  CHECK(shapeOf(ReduceMaxOp::create(builder, loc, x, {0, 2})) ==
        std::vector<int64_t>{3});
  CHECK(shapeOf(ReduceSumOp::create(builder, loc, x, {0, 1, 2})) ==
        std::vector<int64_t>{});

  CHECK(shapeOf(TransposeOp::create(builder, loc, x, {2, 0, 1})) ==
        std::vector<int64_t>{4, 2, 3});

  // Rows 1 and 3 of [1, 4), columns 0, 3 and 6 of [0, 8).
  auto strided = SliceOp::create(builder, loc, grid, {1, 0}, {4, 8},
                                 builder.getDenseI64ArrayAttr({2, 3}));
  CHECK(shapeOf(strided) == std::vector<int64_t>{2, 3});
  CHECK(shapeOf(SliceOp::create(builder, loc, grid, {0, 2}, {3, 7}, nullptr)) ==
        std::vector<int64_t>{3, 5});

  CHECK(shapeOf(ConcatOp::create(builder, loc, ValueRange{narrow, wide}, 1)) ==
        std::vector<int64_t>{2, 8});

  auto mask = CausalMaskOp::create(builder, loc, grid, row, col);
  CHECK(mask.getType() == grid.getType());
  CHECK(mask.getRowOffset() == row);
  CHECK(mask.getColOffset() == col);

  // Explicit result types for the ops that take them.
  CHECK(ReshapeOp::create(builder, loc, f32({6, 4}), x).getType() ==
        f32({6, 4}));
  CHECK(BroadcastOp::create(builder, loc, f32({5, 3, 4}), norm).getType() ==
        f32({5, 3, 4}));

  auto [verified, messages] = verifyCapturing(module);
  INFO(messages);
  CHECK(verified);
}

//===----------------------------------------------------------------------===//
// Verifier diagnostics of ops built with wrong explicit result types or bad
// operands
//===----------------------------------------------------------------------===//

TEST_CASE_METHOD(GraphFixture,
                 "invalid ops fail to verify with a clear message",
                 "[graph][verify]") {
  SmallVector<Value> args =
      startFunction({f32({4, 8}), f32({5, 8}), f32({6, 2}), f16({4, 8}),
                     f32({8}), f32({2, 3, 4}), f32({16, 8})});
  Value x = args[0], y = args[1], z = args[2], half = args[3];
  Value vec = args[4], cube = args[5], weight = args[6];

  auto expectFailure = [&](Operation *op, const std::string &expected) {
    auto [verified, messages] = verifyCapturing(op);
    INFO("diagnostics: " << messages);
    CHECK_FALSE(verified);
    CHECK(messages.find(expected) != std::string::npos);
    op->erase();
  };

  expectFailure(AddOp::create(builder, loc, x.getType(), x, y),
                "'graph.add' op operand shapes 4x8 and 5x8 are not "
                "broadcast-compatible");
  expectFailure(MulOp::create(builder, loc, x.getType(), x, half),
                "expects operands of one element type, but operand #0 has f32 "
                "and operand #1 has f16");
  expectFailure(AddOp::create(builder, loc, f32({8, 8}), x, vec),
                "inferred type(s) 'tensor<4x8xf32>' are incompatible with "
                "return type(s) of operation 'tensor<8x8xf32>'");
  expectFailure(MatmulOp::create(builder, loc, f32({4, 2}), x, z),
                "contraction sizes differ: lhs 4x8 has K = 8, rhs 6x2 has K = "
                "6");
  expectFailure(MatmulOp::create(builder, loc, f32({4}), vec, x),
                "operands must have rank at least 2, but lhs 8 has rank 1");
  expectFailure(EinsumOp::create(builder, loc, f32({4, 2}), "ij,jk->ik",
                                 ValueRange{x, z}),
                "label 'j' has size 8 in operand #0 but size 6 in operand #1");
  expectFailure(
      EinsumOp::create(builder, loc, f32({4}), "ij,jk->ik", ValueRange{x}),
      "has 2 operand subscripts but the op has 1 operands");
  expectFailure(
      LinearOp::create(builder, loc, f32({4, 16}), x, weight, weight),
      "bias must have shape 16 (the weight's out features), but has shape "
      "16x8");
  expectFailure(LinearOp::create(builder, loc, f32({4, 6}), x, z, Value()),
                "weight 6x2 expects 2 input features, but the input 4x8 has 8");
  expectFailure(
      LayerNormOp::create(builder, loc, x.getType(), x, x, vec, 1,
                          APFloat(0.0)),
      "weight must have the normalized shape 8 (input 4x8 from axis 1), but "
      "has 4x8");
  expectFailure(SoftmaxOp::create(builder, loc, x, 2),
                "'graph.softmax' op axis 2 is out of range [0, 2)");
  expectFailure(ReduceSumOp::create(builder, loc, f32({8}), x, {1, 0}),
                "axes [1, 0] must be strictly increasing");
  expectFailure(TransposeOp::create(builder, loc, x.getType(), x, {0, 0}),
                "permutation [0, 0] must hold each of 0..1 exactly once");
  expectFailure(ReshapeOp::create(builder, loc, f32({5, 6}), x),
                "cannot reshape 4x8 (32 elements) to 5x6 (30 elements)");
  expectFailure(BroadcastOp::create(builder, loc, f32({4, 3}), vec),
                "cannot broadcast 8 to 4x3");
  expectFailure(
      SliceOp::create(builder, loc, x.getType(), x, {0, 4}, {4, 9}, nullptr),
      "dimension 1 of size 8 cannot be sliced [4, 9)");
  expectFailure(SliceOp::create(builder, loc, x.getType(), x, {0, 0}, {4, 8},
                                builder.getDenseI64ArrayAttr({1, -1})),
                "stride -1 of dimension 1 must be positive");
  expectFailure(
      ConcatOp::create(builder, loc, f32({4, 16}), ValueRange{x, z}, 1),
      "operand #1 of shape 6x2 does not match operand #0 of shape "
      "4x8 outside axis 1");
  expectFailure(CausalMaskOp::create(builder, loc, vec, Value(), Value()),
                "input must have rank at least 2 ([..., queries, keys]), but "
                "has rank 1");
  expectFailure(GeluOp::create(builder, loc, x, "erf"),
                "approximate must be \"none\" or \"tanh\", but got \"erf\"");
  expectFailure(
      ConstantOp::create(builder, loc, f32({4}),
                         DenseElementsAttr::get(
                             RankedTensorType::get({4}, builder.getI32Type()),
                             builder.getI32IntegerAttr(1))),
      "value must be a statically shaped f32, f16 or bf16 tensor, but got "
      "'tensor<4xi32>'");
  // A cube used as layer norm input keeps the shapes straight in messages.
  expectFailure(LayerNormOp::create(builder, loc, cube.getType(), cube, vec,
                                    vec, 3, APFloat(1e-5)),
                "axis 3 is out of range [0, 3)");
}

TEST_CASE_METHOD(GraphFixture, "graph attributes are checked on functions",
                 "[graph][verify]") {
  auto parseAndVerify = [&](StringRef source) {
    std::string messages;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      messages += diagnostic.str() + "\n";
      return success();
    });
    OwningOpRef<ModuleOp> parsed =
        parseSourceString<ModuleOp>(source, &context);
    return std::make_pair(static_cast<bool>(parsed), messages);
  };
  auto good = parseAndVerify(
      R"(func.func @f(%x: tensor<4xf32> {graph.name = "x", graph.role = "input"})
             -> (tensor<4xf32> {graph.name = "y"}) { return %x : tensor<4xf32> })");
  INFO(good.second);
  CHECK(good.first);

  auto badRole = parseAndVerify(
      R"(func.func @f(%x: tensor<4xf32> {graph.role = "output"}) { return })");
  CHECK_FALSE(badRole.first);
  CHECK(badRole.second.find("'graph.role' of argument #0 must be \"input\" or "
                            "\"weight\", but is \"output\"") !=
        std::string::npos);

  auto repeated = parseAndVerify(
      R"(func.func @f(%x: tensor<4xf32> {graph.name = "w"},
                      %y: tensor<4xf32> {graph.name = "w"}) { return })");
  CHECK_FALSE(repeated.first);
  CHECK(repeated.second.find("argument #1 repeats the 'graph.name' \"w\" of "
                             "argument #0") != std::string::npos);

  auto onOp = parseAndVerify(
      R"(func.func @f(%x: tensor<4xf32>) {
           %0 = graph.relu %x {graph.name = "r"} : tensor<4xf32>
           return })");
  CHECK_FALSE(onOp.first);
  CHECK(onOp.second.find("'graph.relu' op carries 'graph.name'") !=
        std::string::npos);
}

//===----------------------------------------------------------------------===//
// Inference called directly, as a generic builder does, on malformed input
//===----------------------------------------------------------------------===//

TEST_CASE_METHOD(GraphFixture,
                 "inference rejects malformed operands and attributes without "
                 "crashing",
                 "[graph][inference]") {
  SmallVector<Value> args =
      startFunction({f32({4, 8}), builder.getIndexType(), f32({8, 2})});
  Value x = args[0], index = args[1], w = args[2];

  auto notTensor = inferGeneric<MatmulOp>({index, x});
  CHECK_FALSE(notTensor.first);
  CHECK(notTensor.second.find("operand #0 must be a ranked tensor, but has "
                              "type index") != std::string::npos);

  auto nullOperand = inferGeneric<AddOp>({x, Value()});
  CHECK_FALSE(nullOperand.first);
  CHECK(nullOperand.second.find("operand #1 must be a ranked tensor") !=
        std::string::npos);

  auto oneOperand = inferGeneric<AddOp>({x});
  CHECK_FALSE(oneOperand.first);
  CHECK(oneOperand.second.find("expects 2 operands, but got 1") !=
        std::string::npos);

  auto linearOne = inferGeneric<LinearOp>({x});
  CHECK_FALSE(linearOne.first);
  CHECK(linearOne.second.find("expects 2 to 3 operands, but got 1") !=
        std::string::npos);

  auto layerNormTwo = inferGeneric<LayerNormOp>({x, x});
  CHECK_FALSE(layerNormTwo.first);
  CHECK(layerNormTwo.second.find("expects 3 operands, but got 2") !=
        std::string::npos);

  auto noPermutation = inferGeneric<TransposeOp>({x});
  CHECK_FALSE(noPermutation.first);
  CHECK(noPermutation.second.find("requires attribute 'permutation'") !=
        std::string::npos);

  auto noAxes = inferGeneric<ReduceSumOp>({x});
  CHECK_FALSE(noAxes.first);
  CHECK(noAxes.second.find("requires attribute 'axes'") != std::string::npos);

  auto noEquation = inferGeneric<EinsumOp>({x, w});
  CHECK_FALSE(noEquation.first);
  CHECK(noEquation.second.find("requires attribute 'equation'") !=
        std::string::npos);

  auto noLimits = inferGeneric<SliceOp>(
      {x},
      {builder.getNamedAttr("starts", builder.getDenseI64ArrayAttr({0, 0}))});
  CHECK_FALSE(noLimits.first);
  CHECK(noLimits.second.find("requires attribute 'limits'") !=
        std::string::npos);

  auto noAxis = inferGeneric<ConcatOp>({x, x});
  CHECK_FALSE(noAxis.first);
  CHECK(noAxis.second.find("requires attribute 'axis'") != std::string::npos);

  auto noLayerNormAxis = inferGeneric<LayerNormOp>({x, x, x});
  CHECK_FALSE(noLayerNormAxis.first);
  CHECK(noLayerNormAxis.second.find("requires attribute 'axis'") !=
        std::string::npos);

  auto noValue = inferGeneric<ConstantOp>({});
  CHECK_FALSE(noValue.first);

  // And the same inference accepts well-formed input.
  auto good = inferGeneric<EinsumOp>(
      {x, w},
      {builder.getNamedAttr("equation", builder.getStringAttr("ij,jk->ik"))});
  CHECK(good.first);
}

//===----------------------------------------------------------------------===//
// Folds
//===----------------------------------------------------------------------===//

namespace {
/// Builds a function of one argument typed `inputType` whose body `body`
/// makes the returned value, then folds it.
template <typename Body>
func::ReturnOp buildAndFold(GraphFixture &fixture, Type inputType, Body body) {
  OpBuilder &builder = fixture.builder;
  builder.setInsertionPointToEnd(fixture.module.getBody());
  auto function = func::FuncOp::create(
      builder, fixture.loc, "g" + std::to_string(fixture.functionCount++),
      builder.getFunctionType({inputType}, {}));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  Value result = body(entry->getArgument(0));
  function.setType(builder.getFunctionType({inputType}, {result.getType()}));
  auto returnOp = func::ReturnOp::create(builder, fixture.loc, result);
  fixture.fold();
  REQUIRE(succeeded(verify(function)));
  return returnOp;
}
} // namespace

TEST_CASE_METHOD(GraphFixture, "transposes compose in the right order",
                 "[graph][fold]") {
  // mid = x permuted by [1, 2, 0] (3x4x2); out = mid permuted by [0, 2, 1]
  // (3x2x4). Out dim i = mid dim outer[i] = x dim inner[outer[i]], so the
  // composed permutation is [1, 0, 2], worked out by hand (and checked against
  // numpy in lit-tests/Dialect/Graph/canonicalization.mlir).
  auto ret = buildAndFold(*this, f32({2, 3, 4}), [&](Value x) -> Value {
    auto inner = TransposeOp::create(builder, loc, x, {1, 2, 0});
    return TransposeOp::create(builder, loc, inner, {0, 2, 1});
  });
  auto folded = ret.getOperand(0).getDefiningOp<TransposeOp>();
  REQUIRE(folded);
  CHECK(isa<BlockArgument>(folded.getInput()));
  CHECK(folded.getPermutation() == ArrayRef<int64_t>{1, 0, 2});
  CHECK(shapeOf(folded) == std::vector<int64_t>{3, 2, 4});
}

TEST_CASE_METHOD(GraphFixture, "inverse transposes fold away",
                 "[graph][fold]") {
  auto ret = buildAndFold(*this, f32({2, 3, 4}), [&](Value x) -> Value {
    auto inner = TransposeOp::create(builder, loc, x, {1, 2, 0});
    return TransposeOp::create(builder, loc, inner, {2, 0, 1});
  });
  CHECK(isa<BlockArgument>(ret.getOperand(0)));
}

TEST_CASE_METHOD(GraphFixture, "identity folds fire and others do not",
                 "[graph][fold]") {
  auto splat = [&](RankedTensorType type, double value) -> Value {
    return ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(
            type, builder.getFloatAttr(type.getElementType(), value)));
  };

  SECTION("neg of neg") {
    auto ret = buildAndFold(*this, f32({4}), [&](Value x) -> Value {
      return NegOp::create(builder, loc, NegOp::create(builder, loc, x));
    });
    CHECK(isa<BlockArgument>(ret.getOperand(0)));
  }
  SECTION("scale of scale multiplies the factors") {
    auto ret = buildAndFold(*this, f16({4}), [&](Value x) -> Value {
      Value inner = ScaleOp::create(builder, loc, x, APFloat(3.0));
      return ScaleOp::create(builder, loc, inner, APFloat(0.25));
    });
    auto scale = ret.getOperand(0).getDefiningOp<ScaleOp>();
    REQUIRE(scale);
    CHECK(isa<BlockArgument>(scale.getInput()));
    CHECK(scale.getFactor().convertToDouble() == 0.75);
  }
  SECTION("scale by one") {
    auto ret = buildAndFold(*this, f32({4}), [&](Value x) -> Value {
      return ScaleOp::create(builder, loc, x, APFloat(1.0));
    });
    CHECK(isa<BlockArgument>(ret.getOperand(0)));
  }
  SECTION("scale by two stays") {
    auto ret = buildAndFold(*this, f32({4}), [&](Value x) -> Value {
      return ScaleOp::create(builder, loc, x, APFloat(2.0));
    });
    CHECK(ret.getOperand(0).getDefiningOp<ScaleOp>());
  }
  SECTION("add of a zero that keeps the type") {
    auto ret = buildAndFold(*this, bf16({2, 3}), [&](Value x) -> Value {
      return AddOp::create(builder, loc, splat(bf16({3}), 0.0), x);
    });
    CHECK(isa<BlockArgument>(ret.getOperand(0)));
  }
  SECTION("add of a zero that broadcasts stays") {
    auto ret = buildAndFold(*this, f32({3}), [&](Value x) -> Value {
      return AddOp::create(builder, loc, x, splat(f32({2, 3}), 0.0));
    });
    CHECK(ret.getOperand(0).getDefiningOp<AddOp>());
  }
  SECTION("sub of zero, and not zero minus x") {
    auto ret = buildAndFold(*this, f32({3}), [&](Value x) -> Value {
      Value zero = splat(f32({3}), 0.0);
      Value same = SubOp::create(builder, loc, x, zero);
      return SubOp::create(builder, loc, zero, same);
    });
    auto sub = ret.getOperand(0).getDefiningOp<SubOp>();
    REQUIRE(sub);
    CHECK(isa<BlockArgument>(sub.getRhs()));
  }
  SECTION("mul and div by one, not one divided by x") {
    auto ret = buildAndFold(*this, f16({3}), [&](Value x) -> Value {
      Value one = splat(f16({3}), 1.0);
      Value product = MulOp::create(builder, loc, one, x);
      Value quotient = DivOp::create(builder, loc, product, one);
      return DivOp::create(builder, loc, one, quotient);
    });
    auto div = ret.getOperand(0).getDefiningOp<DivOp>();
    REQUIRE(div);
    CHECK(isa<BlockArgument>(div.getRhs()));
    CHECK(div.getLhs().getDefiningOp<ConstantOp>());
  }
  SECTION("mul by a non-one splat stays") {
    auto ret = buildAndFold(*this, f32({3}), [&](Value x) -> Value {
      return MulOp::create(builder, loc, x, splat(f32({3}), 1.5));
    });
    CHECK(ret.getOperand(0).getDefiningOp<MulOp>());
  }
  SECTION("reshape of reshape") {
    auto ret = buildAndFold(*this, f32({2, 3, 4}), [&](Value x) -> Value {
      Value flat = ReshapeOp::create(builder, loc, f32({24}), x);
      return ReshapeOp::create(builder, loc, f32({4, 6}), flat);
    });
    auto reshape = ret.getOperand(0).getDefiningOp<ReshapeOp>();
    REQUIRE(reshape);
    CHECK(isa<BlockArgument>(reshape.getInput()));
    CHECK(shapeOf(reshape) == std::vector<int64_t>{4, 6});
  }
  SECTION("broadcast of broadcast") {
    auto ret = buildAndFold(*this, f32({3, 1}), [&](Value x) -> Value {
      Value mid = BroadcastOp::create(builder, loc, f32({2, 3, 1}), x);
      return BroadcastOp::create(builder, loc, f32({2, 3, 5}), mid);
    });
    auto broadcast = ret.getOperand(0).getDefiningOp<BroadcastOp>();
    REQUIRE(broadcast);
    CHECK(isa<BlockArgument>(broadcast.getInput()));
  }
  SECTION("full slice and single concat") {
    auto ret = buildAndFold(*this, f32({4, 8}), [&](Value x) -> Value {
      Value whole = SliceOp::create(builder, loc, x, {0, 0}, {4, 8}, nullptr);
      return ConcatOp::create(builder, loc, ValueRange{whole}, 0);
    });
    CHECK(isa<BlockArgument>(ret.getOperand(0)));
  }
  SECTION("transpose identity") {
    auto ret = buildAndFold(*this, f32({2, 3}), [&](Value x) -> Value {
      return TransposeOp::create(builder, loc, x, {0, 1});
    });
    CHECK(isa<BlockArgument>(ret.getOperand(0)));
  }
}
