// Unit tests of the dimension-flow interface: chunk propagation through built
// graph ops (attention, broadcasting, contractions, barriers), linalg ops
// parsed from text, the consistency check, and the reference models, whose
// every op must describe itself and whose chunkings must agree with shape
// inference.
#include "autochunk/Dialect/Graph/DimensionFlowLinalg.h"
#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Models/ModelBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace mlir;
using namespace autochunk;
using namespace autochunk::graph;

namespace {

using Dims = std::vector<std::optional<int64_t>>;
constexpr std::nullopt_t whole = std::nullopt;

/// The operand dims of a successful propagation, or a marker of failure.
std::optional<Dims> toOperands(Operation *op, unsigned result, int64_t dim) {
  FailureOr<SmallVector<std::optional<int64_t>>> dims =
      propagateChunkDimToOperands(op, result, dim);
  if (failed(dims))
    return std::nullopt;
  return Dims(dims->begin(), dims->end());
}

std::optional<Dims> toResults(Operation *op, unsigned operand, int64_t dim) {
  FailureOr<SmallVector<std::optional<int64_t>>> dims =
      propagateChunkDimToResults(op, operand, dim);
  if (failed(dims))
    return std::nullopt;
  return Dims(dims->begin(), dims->end());
}

DialectRegistry makeRegistry() {
  DialectRegistry registry;
  registry.insert<GraphDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect, linalg::LinalgDialect>();
  graph::registerDimensionFlowExternalModels(registry);
  registerLinalgDimensionFlowExternalModels(registry);
  return registry;
}

/// A context with the interface registered, a module and a builder inside
/// one function.
class FlowFixture {
public:
  explicit FlowFixture(bool registerModels = true)
      : builder(&context), loc(UnknownLoc::get(&context)) {
    if (registerModels)
      context.appendDialectRegistry(makeRegistry());
    context.loadDialect<GraphDialect, func::FuncDialect, tensor::TensorDialect,
                        arith::ArithDialect>();
    module = ModuleOp::create(loc);
  }
  ~FlowFixture() { module->erase(); }

  SmallVector<Value> startFunction(ArrayRef<Type> types) {
    builder.setInsertionPointToEnd(module.getBody());
    auto function = func::FuncOp::create(builder, loc, "f",
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

  MLIRContext context;
  OpBuilder builder;
  Location loc;
  ModuleOp module;
};

} // namespace

TEST_CASE("attention: chunks of the scores reach Q, K and V", "[dimflow]") {
  FlowFixture fx;
  // Q [h, q, d], K [h, k, d], V [h, k, d]: scores [h, q, k].
  auto args = fx.startFunction(
      {fx.f32({4, 16, 8}), fx.f32({4, 32, 8}), fx.f32({4, 32, 8})});
  Value q = args[0], k = args[1], v = args[2];
  OpBuilder &b = fx.builder;
  auto scores = MatmulOp::create(b, fx.loc, q, k, /*transpose_a=*/false,
                                 /*transpose_b=*/true);
  auto scaled = ScaleOp::create(b, fx.loc, scores, APFloat(0.125));
  auto masked = CausalMaskOp::create(b, fx.loc, scaled, Value(), Value());
  auto probs = SoftmaxOp::create(b, fx.loc, masked, 2);
  auto out = MatmulOp::create(b, fx.loc, probs, v);

  // Along the query dim the scores need Q's rows only; K whole.
  CHECK(toOperands(scores, 0, 1) == Dims{1, whole});
  // Along heads both operands are sliced by head.
  CHECK(toOperands(scores, 0, 0) == Dims{0, 0});
  // Along keys: K's rows (transpose_b puts N first), Q whole.
  CHECK(toOperands(scores, 0, 2) == Dims{whole, 1});
  // The softmax axis mixes; the other dims pass through.
  CHECK_FALSE(toOperands(probs, 0, 2).has_value());
  CHECK(toOperands(probs, 0, 1) == Dims{1});
  // The mask keeps its dims; chunking them is the rewrite's offset business.
  CHECK(toOperands(masked, 0, 2) == Dims{2});
  // out = probs @ V: the query dim comes from probs, V whole.
  CHECK(toOperands(out, 0, 1) == Dims{1, whole});
  CHECK(toOperands(out, 0, 2) == Dims{whole, 2});

  // Walking back from the output along queries reaches Q's dim 1 and leaves
  // K and V whole: the region is legal all the way.
  std::optional<int64_t> dim = 1;
  Operation *chain[] = {out, probs, masked, scaled, scores};
  for (Operation *op : chain) {
    std::optional<Dims> operands = toOperands(op, 0, *dim);
    REQUIRE(operands.has_value());
    dim = (*operands)[0];
    REQUIRE(dim.has_value());
  }
  CHECK(*dim == 1);
  CHECK(toOperands(scores, 0, 1)->at(1) == whole);

  // Growing downwards: an operand dim maps to result dims.
  CHECK(toResults(scores, 0, 1) == Dims{1});
  CHECK(toResults(scores, 1, 1) == Dims{2});
  CHECK(toResults(probs, 0, 1) == Dims{1});
  CHECK_FALSE(toResults(probs, 0, 2).has_value());
  // K's head dim is contracted: no chunk of the output follows from it.
  CHECK_FALSE(toResults(scores, 0, 2).has_value());
  CHECK_FALSE(toResults(out, 0, 2).has_value());
  CHECK_FALSE(toResults(out, 1, 1).has_value());
  // Slicing Q by head also slices K by head.
  FailureOr<OpChunking> byHead = chunkAlongOperandDim(scores, 0, 0);
  REQUIRE(succeeded(byHead));
  CHECK(Dims(byHead->operandDims.begin(), byHead->operandDims.end()) ==
        Dims{0, 0});
  CHECK(Dims(byHead->resultDims.begin(), byHead->resultDims.end()) == Dims{0});
}

TEST_CASE("broadcasting, contractions and data movement", "[dimflow]") {
  FlowFixture fx;
  auto args = fx.startFunction(
      {fx.f32({4, 8}), fx.f32({8}), fx.f32({1, 8}), fx.f32({6, 5, 3}),
       fx.f32({7, 5, 3}), fx.f32({16, 32}), fx.f32({64, 32}), fx.f32({64}),
       fx.f32({16, 768}), fx.f32({4, 3}), fx.f32({2, 4, 8})});
  OpBuilder &b = fx.builder;
  Location loc = fx.loc;

  auto biasAdd = AddOp::create(b, loc, args[0], args[1]);
  CHECK(toOperands(biasAdd, 0, 0) == Dims{0, whole});
  CHECK(toOperands(biasAdd, 0, 1) == Dims{1, 0});
  CHECK(toResults(biasAdd, 1, 0) == Dims{1});
  // A size-1 dim stretched over the rows is read whole and maps nowhere.
  auto stretched = MulOp::create(b, loc, args[2], args[0]);
  CHECK(toOperands(stretched, 0, 0) == Dims{whole, 0});
  CHECK_FALSE(toResults(stretched, 0, 0).has_value());

  auto triangle =
      EinsumOp::create(b, loc, "ikc,jkc->ijc", ValueRange{args[3], args[4]});
  CHECK(toOperands(triangle, 0, 0) == Dims{0, whole});
  CHECK(toOperands(triangle, 0, 1) == Dims{whole, 0});
  CHECK(toOperands(triangle, 0, 2) == Dims{2, 2});
  CHECK_FALSE(toResults(triangle, 0, 1).has_value()); // k is summed.

  auto linear = LinearOp::create(b, loc, args[5], args[6], args[7]);
  CHECK(toOperands(linear, 0, 0) == Dims{0, whole, whole});
  CHECK(toOperands(linear, 0, 1) == Dims{whole, 0, 0});
  CHECK_FALSE(toResults(linear, 0, 1).has_value()); // in features
  CHECK(toResults(linear, 2, 0) == Dims{1});

  auto heads = ReshapeOp::create(b, loc, fx.f32({16, 12, 64}), args[8]);
  CHECK(toOperands(heads, 0, 0) == Dims{0});
  CHECK_FALSE(toOperands(heads, 0, 1).has_value()); // split off 768
  CHECK_FALSE(toResults(heads, 0, 1).has_value());

  auto concat = ConcatOp::create(b, loc, ValueRange{args[9], args[9]}, 1);
  CHECK(toOperands(concat, 0, 0) == Dims{0, 0});
  CHECK_FALSE(toOperands(concat, 0, 1).has_value());

  auto sum = ReduceSumOp::create(b, loc, args[10], {1}, /*keep_dims=*/true);
  CHECK(toOperands(sum, 0, 2) == Dims{2});
  CHECK(toOperands(sum, 0, 1) == Dims{whole}); // the kept size-1 dim
  CHECK_FALSE(toResults(sum, 0, 1).has_value());

  auto layerNorm =
      LayerNormOp::create(b, loc, args[0], args[1], args[1], 1, APFloat(1e-5));
  CHECK(toOperands(layerNorm, 0, 0) == Dims{0, whole, whole});
  CHECK_FALSE(toOperands(layerNorm, 0, 1).has_value());
  CHECK_FALSE(toResults(layerNorm, 1, 0).has_value()); // the weight
}

TEST_CASE("the causal mask's index operands are never sliced", "[dimflow]") {
  FlowFixture fx;
  auto args = fx.startFunction({fx.f32({2, 8, 16}), fx.builder.getIndexType(),
                                fx.builder.getIndexType()});
  auto mask =
      CausalMaskOp::create(fx.builder, fx.loc, args[0], args[1], args[2]);
  CHECK(toOperands(mask, 0, 1) == Dims{1, whole, whole});
  CHECK(toOperands(mask, 0, 2) == Dims{2, whole, whole});
  CHECK_FALSE(toResults(mask, 1, 0).has_value());
}

TEST_CASE("ops without the interface are barriers, not errors", "[dimflow]") {
  FlowFixture fx;
  auto args = fx.startFunction({fx.f32({4, 8})});
  auto empty = tensor::EmptyOp::create(
      fx.builder, fx.loc, ArrayRef<int64_t>{4, 8}, fx.builder.getF32Type());
  std::string whyNot;
  CHECK(failed(getDimensionFlow(empty, &whyNot)));
  CHECK(whyNot.find("does not implement") != std::string::npos);
  CHECK_FALSE(toOperands(empty, 0, 0).has_value());
  // Out-of-range requests fail too.
  auto exp = ExpOp::create(fx.builder, fx.loc, args[0]);
  CHECK_FALSE(toOperands(exp, 0, 2).has_value());
  CHECK_FALSE(toOperands(exp, 1, 0).has_value());
  CHECK_FALSE(toResults(exp, 1, 0).has_value());

  // Without the registration every graph op is a barrier.
  FlowFixture bare(/*registerModels=*/false);
  auto bareArgs = bare.startFunction({bare.f32({4, 8})});
  auto bareExp = ExpOp::create(bare.builder, bare.loc, bareArgs[0]);
  CHECK(failed(getDimensionFlow(bareExp)));
}

TEST_CASE("verifyDimensionFlow rejects inconsistent flows", "[dimflow]") {
  FlowFixture fx;
  auto args = fx.startFunction({fx.f32({4, 8}), fx.f32({8})});
  Operation *add = AddOp::create(fx.builder, fx.loc, args[0], args[1]);
  auto rows = ResultDimFlow::flows({{0, 0}});
  auto cols = ResultDimFlow::flows({{0, 1}, {1, 0}});

  DimensionFlow good;
  good.results.push_back({rows, cols});
  std::string error;
  CHECK(succeeded(verifyDimensionFlow(add, good, &error)));

  DimensionFlow tooFewDims;
  tooFewDims.results.push_back({rows});
  CHECK(failed(verifyDimensionFlow(add, tooFewDims, &error)));
  CHECK(error.find("1 dimensions of result #0 of rank 2") != std::string::npos);

  DimensionFlow wrongExtent;
  wrongExtent.results.push_back({ResultDimFlow::flows({{1, 0}}), cols});
  CHECK(failed(verifyDimensionFlow(add, wrongExtent, &error)));
  CHECK(error.find("(size 4) flows from operand #1 dim 0 (size 8)") !=
        std::string::npos);

  DimensionFlow badOperand;
  badOperand.results.push_back({ResultDimFlow::flows({{2, 0}}), cols});
  CHECK(failed(verifyDimensionFlow(add, badOperand, &error)));
  CHECK(error.find("has 2 operands") != std::string::npos);

  DimensionFlow reducedSource = good;
  reducedSource.reduced.push_back({0, 0});
  CHECK(failed(verifyDimensionFlow(add, reducedSource, &error)));
  CHECK(error.find("both reduced and a source") != std::string::npos);
}

TEST_CASE("linalg ops follow their indexing maps", "[dimflow]") {
  MLIRContext context(makeRegistry());
  context.loadAllAvailableDialects();
  const char *source = R"mlir(
    #id = affine_map<(d0, d1) -> (d0, d1)>
    #rows = affine_map<(d0, d1) -> (d0)>
    #diag = affine_map<(d0, d1) -> (d0, d0)>
    func.func @f(%a: tensor<16x32xf32>, %b: tensor<32x8xf32>,
                 %c: tensor<16x8xf32>, %sums: tensor<16xf32>,
                 %sq: tensor<16x16xf32>) {
      %mm = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x8xf32>)
                          outs(%c : tensor<16x8xf32>) -> tensor<16x8xf32>
      %two:2 = linalg.generic {indexing_maps = [#id, #id, #rows],
                               iterator_types = ["parallel", "parallel"]}
          ins(%a : tensor<16x32xf32>) outs(%a, %sums : tensor<16x32xf32>, tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32, %last: f32):
        linalg.yield %x, %x : f32, f32
      } -> (tensor<16x32xf32>, tensor<16xf32>)
      %d = linalg.generic {indexing_maps = [#diag, #id],
                           iterator_types = ["parallel", "parallel"]}
          ins(%sq : tensor<16x16xf32>) outs(%sq : tensor<16x16xf32>) {
      ^bb0(%x: f32, %o: f32):
        linalg.yield %x : f32
      } -> tensor<16x16xf32>
      return
    }
  )mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  REQUIRE(module);
  SmallVector<Operation *> ops;
  module->walk([&](Operation *op) {
    if (isa<linalg::LinalgOp>(op))
      ops.push_back(op);
  });
  REQUIRE(ops.size() == 3);
  Operation *matmul = ops[0], *twoResults = ops[1], *diagonal = ops[2];

  CHECK(toOperands(matmul, 0, 0) == Dims{0, whole, 0});
  CHECK(toOperands(matmul, 0, 1) == Dims{whole, 1, 1});
  CHECK_FALSE(toResults(matmul, 0, 1).has_value()); // K is a reduction loop

  // Both results follow the row loop; the second is not indexed by the
  // column loop, so chunking the first along it would leave the second
  // unsliced (computed from a chunk of the input, so wrong).
  FailureOr<OpChunking> rows = chunkAlongResultDim(twoResults, 0, 0);
  REQUIRE(succeeded(rows));
  CHECK(Dims(rows->resultDims.begin(), rows->resultDims.end()) == Dims{0, 0});
  CHECK_FALSE(toOperands(twoResults, 0, 1).has_value());

  // A diagonal read would slice one operand along two dims at once.
  CHECK_FALSE(toOperands(diagonal, 0, 0).has_value());
  CHECK(toOperands(diagonal, 0, 1) == Dims{whole, 1});
}

TEST_CASE("every op of the reference models describes its flow",
          "[dimflow][models]") {
  MLIRContext context(makeRegistry());
  std::string error;
  models::GptOptions gpt;
  gpt.seq = 16;
  gpt.hidden = 32;
  gpt.heads = 2;
  gpt.layers = 1;
  gpt.causal = true;
  models::VitOptions vit;
  vit.image = 32;
  vit.patch = 8;
  vit.hidden = 32;
  vit.heads = 2;
  vit.layers = 1;
  vit.classes = 10;
  models::EvoformerOptions evo;
  evo.nSeq = 4;
  evo.nRes = 6;
  evo.cM = 16;
  evo.cZ = 8;
  evo.msaHeads = 2;
  evo.msaHeadDim = 4;
  evo.pairHeads = 2;
  evo.pairHeadDim = 4;
  evo.outerProductHidden = 4;
  evo.triangleMulHidden = 8;
  evo.transitionFactor = 2;

  SmallVector<OwningOpRef<ModuleOp>> modules;
  auto gptModule = models::buildGpt(context, gpt, error);
  REQUIRE(succeeded(gptModule));
  modules.push_back(std::move(*gptModule));
  auto vitModule = models::buildVit(context, vit, error);
  REQUIRE(succeeded(vitModule));
  modules.push_back(std::move(*vitModule));
  auto evoModule = models::buildEvoformer(context, evo, error);
  REQUIRE(succeeded(evoModule));
  modules.push_back(std::move(*evoModule));

  for (OwningOpRef<ModuleOp> &module : modules) {
    module->walk([&](Operation *op) {
      if (op->getDialect()->getNamespace() != "graph")
        return;
      std::string whyNot;
      INFO(op->getName().getStringRef().str());
      CHECK(succeeded(getDimensionFlow(op, &whyNot)));
      INFO(whyNot);

      // A chunk of the result is the op on chunks of its operands: rebuild
      // the op on operands shrunk along the propagated dims and check that
      // shape inference gives the result shrunk along its dim.
      auto inferring = dyn_cast<InferTypeOpInterface>(op);
      if (!inferring || isa<SliceOp>(op))
        return; // A slice's limits name the extents it reads.
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      for (int64_t dim = 0; dim < resultType.getRank(); ++dim) {
        int64_t extent = resultType.getDimSize(dim);
        FailureOr<OpChunking> chunking = chunkAlongResultDim(op, 0, dim);
        if (failed(chunking) || extent < 3)
          continue;
        int64_t chunk = extent - 1;
        SmallVector<Type> operandTypes;
        for (auto [operand, operandDim] :
             llvm::zip(op->getOperands(), chunking->operandDims)) {
          auto type = dyn_cast<RankedTensorType>(operand.getType());
          if (!type || !operandDim) {
            operandTypes.push_back(operand.getType());
            continue;
          }
          SmallVector<int64_t> shape(type.getShape());
          shape[*operandDim] = chunk;
          operandTypes.push_back(type.clone(shape));
        }
        OpBuilder builder(&context);
        Block scratch;
        SmallVector<Value> operands;
        for (Type type : operandTypes)
          operands.push_back(scratch.addArgument(type, op->getLoc()));
        SmallVector<Type> inferred;
        LogicalResult inference = inferring.inferReturnTypes(
            &context, op->getLoc(), operands, op->getAttrDictionary(),
            op->getPropertiesStorage(), op->getRegions(), inferred);
        INFO("result dim " << dim);
        REQUIRE(succeeded(inference));
        SmallVector<int64_t> expected(resultType.getShape());
        expected[dim] = chunk;
        CHECK(cast<RankedTensorType>(inferred[0]).getShape() ==
              ArrayRef<int64_t>(expected));
      }
    });
  }
}
