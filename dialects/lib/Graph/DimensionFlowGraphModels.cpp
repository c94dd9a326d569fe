//===- DimensionFlowGraphModels.cpp - dimension flow of every graph op ----===//
//
// The DimensionFlowOpInterface of each graph op, attached as external models.
// Every rule reads the op's static types, so it answers for exactly the
// shapes the verifiers accepted; an op too malformed to describe gets
// failure (a barrier), never a crash.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace autochunk;
using namespace autochunk::graph;

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// A flow for a single-result op whose result has rank `rank`, every
/// dimension opaque until set.
DimensionFlow singleResultFlow(int64_t rank) {
  DimensionFlow flow;
  flow.results.emplace_back(rank, ResultDimFlow::opaque());
  return flow;
}

/// Result dimension i flows from operand 0 dimension i.
FailureOr<DimensionFlow> identityFlow(Operation *op) {
  if (op->getNumOperands() < 1 || op->getNumResults() != 1)
    return failure();
  int64_t rank = shapeOf(op->getResult(0)).size();
  if (static_cast<int64_t>(shapeOf(op->getOperand(0)).size()) != rank)
    return failure();
  DimensionFlow flow = singleResultFlow(rank);
  for (int64_t dim = 0; dim < rank; ++dim)
    flow.results[0][dim] = ResultDimFlow::flows({{0, dim}});
  return flow;
}

/// Adds, to each of `resultDims` (the trailing dimensions of a broadcast
/// result, aligned from the right), operand `operand` as a source where its
/// aligned dimension has the full extent. A size-1 dimension stretched over
/// the result is read whole, so it is not a source.
void addBroadcastSources(ArrayRef<int64_t> resultShape,
                         MutableArrayRef<ResultDimFlow> resultDims,
                         unsigned operand, ArrayRef<int64_t> operandShape) {
  int64_t offset = static_cast<int64_t>(resultShape.size()) -
                   static_cast<int64_t>(operandShape.size());
  for (auto [dim, extent] : llvm::enumerate(operandShape)) {
    int64_t resultDim = offset + static_cast<int64_t>(dim);
    if (resultDim >= 0 && extent == resultShape[resultDim])
      resultDims[resultDim].sources.push_back(
          {operand, static_cast<int64_t>(dim)});
  }
}

FailureOr<DimensionFlow> binaryFlow(Operation *op) {
  if (op->getNumOperands() != 2)
    return failure();
  ArrayRef<int64_t> result = shapeOf(op->getResult(0));
  ArrayRef<int64_t> lhs = shapeOf(op->getOperand(0));
  ArrayRef<int64_t> rhs = shapeOf(op->getOperand(1));
  if (lhs.size() > result.size() || rhs.size() > result.size())
    return failure();
  DimensionFlow flow = singleResultFlow(result.size());
  for (ResultDimFlow &dimFlow : flow.results[0])
    dimFlow = ResultDimFlow::flows();
  addBroadcastSources(result, flow.results[0], 0, lhs);
  addBroadcastSources(result, flow.results[0], 1, rhs);
  return flow;
}

FailureOr<DimensionFlow> flowOf(ConstantOp op) {
  DimensionFlow flow = singleResultFlow(shapeOf(op.getResult()).size());
  for (ResultDimFlow &dimFlow : flow.results[0])
    dimFlow = ResultDimFlow::flows();
  return flow;
}

FailureOr<DimensionFlow> flowOf(MatmulOp op) {
  if (op->getNumOperands() != 2)
    return failure();
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  ArrayRef<int64_t> lhs = shapeOf(op.getLhs());
  ArrayRef<int64_t> rhs = shapeOf(op.getRhs());
  if (lhs.size() < 2 || rhs.size() < 2 || result.size() < 2 ||
      result.size() != std::max(lhs.size(), rhs.size()))
    return failure();
  int64_t lr = lhs.size(), rr = rhs.size(), rank = result.size();
  int64_t lhsM = op.getTransposeA() ? lr - 1 : lr - 2;
  int64_t lhsK = op.getTransposeA() ? lr - 2 : lr - 1;
  int64_t rhsK = op.getTransposeB() ? rr - 1 : rr - 2;
  int64_t rhsN = op.getTransposeB() ? rr - 2 : rr - 1;

  DimensionFlow flow = singleResultFlow(rank);
  MutableArrayRef<ResultDimFlow> dims = flow.results[0];
  for (ResultDimFlow &dimFlow : dims.drop_back(2))
    dimFlow = ResultDimFlow::flows();
  addBroadcastSources(result.drop_back(2), dims.drop_back(2), 0,
                      lhs.drop_back(2));
  addBroadcastSources(result.drop_back(2), dims.drop_back(2), 1,
                      rhs.drop_back(2));
  dims[rank - 2] = ResultDimFlow::flows({{0, lhsM}});
  dims[rank - 1] = ResultDimFlow::flows({{1, rhsN}});
  flow.reduced = {{0, lhsK}, {1, rhsK}};
  return flow;
}

FailureOr<DimensionFlow> flowOf(EinsumOp op) {
  if (!op.getEquationAttr())
    return failure();
  std::string error;
  std::optional<EinsumEquation> equation =
      EinsumEquation::parse(op.getEquation(), error);
  if (!equation || equation->inputs.size() != op.getInputs().size())
    return failure();
  for (auto [term, input] : llvm::zip(equation->inputs, op.getInputs()))
    if (term.size() != shapeOf(input).size())
      return failure();
  if (equation->output.size() != shapeOf(op.getResult()).size())
    return failure();

  DimensionFlow flow = singleResultFlow(equation->output.size());
  for (auto [resultDim, label] : llvm::enumerate(equation->output)) {
    ResultDimFlow &dimFlow = flow.results[0][resultDim];
    dimFlow = ResultDimFlow::flows();
    for (auto [operand, term] : llvm::enumerate(equation->inputs))
      if (size_t dim = term.find(label); dim != std::string::npos)
        dimFlow.sources.push_back(
            {static_cast<unsigned>(operand), static_cast<int64_t>(dim)});
  }
  std::string summed = equation->reducedLabels();
  for (auto [operand, term] : llvm::enumerate(equation->inputs))
    for (auto [dim, label] : llvm::enumerate(term))
      if (summed.find(label) != std::string::npos)
        flow.reduced.push_back(
            {static_cast<unsigned>(operand), static_cast<int64_t>(dim)});
  return flow;
}

FailureOr<DimensionFlow> flowOf(LinearOp op) {
  if (op->getNumOperands() < 2 || op->getNumOperands() > 3)
    return failure();
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  ArrayRef<int64_t> weight = shapeOf(op.getWeight());
  int64_t rank = shapeOf(op.getResult()).size();
  if (input.empty() || weight.size() != 2 ||
      static_cast<int64_t>(input.size()) != rank)
    return failure();
  DimensionFlow flow = singleResultFlow(rank);
  for (int64_t dim = 0; dim + 1 < rank; ++dim)
    flow.results[0][dim] = ResultDimFlow::flows({{0, dim}});
  ResultDimFlow outFeatures = ResultDimFlow::flows({{1, 0}});
  if (op.getBias()) {
    if (shapeOf(op.getBias()).size() != 1)
      return failure();
    outFeatures.sources.push_back({2, 0});
  }
  flow.results[0][rank - 1] = outFeatures;
  flow.reduced = {{0, rank - 1}, {1, 1}};
  return flow;
}

FailureOr<DimensionFlow> flowOf(SoftmaxOp op) {
  if (!op.getAxisAttr())
    return failure();
  FailureOr<DimensionFlow> flow = identityFlow(op);
  int64_t axis = op.getAxisAttr().getInt();
  if (failed(flow) || axis < 0 ||
      axis >= static_cast<int64_t>(flow->results[0].size()))
    return failure();
  flow->results[0][axis] = ResultDimFlow::mixed();
  return flow;
}

FailureOr<DimensionFlow> flowOf(LayerNormOp op) {
  if (!op.getAxisAttr())
    return failure();
  FailureOr<DimensionFlow> flow = identityFlow(op);
  int64_t axis = op.getAxisAttr().getInt();
  if (failed(flow) || axis < 0 ||
      axis >= static_cast<int64_t>(flow->results[0].size()))
    return failure();
  // The normalized dimensions are mixed, which is why the weight and bias
  // (shaped like them) are never sources: they are read whole.
  for (ResultDimFlow &dimFlow :
       MutableArrayRef(flow->results[0]).drop_front(axis))
    dimFlow = ResultDimFlow::mixed();
  return flow;
}

template <typename ReduceOpTy>
FailureOr<DimensionFlow> reduceFlow(ReduceOpTy op) {
  if (!op.getAxesAttr())
    return failure();
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  ArrayRef<int64_t> axes = op.getAxes();
  int64_t inputRank = input.size();
  if (llvm::any_of(axes,
                   [&](int64_t axis) { return axis < 0 || axis >= inputRank; }))
    return failure();
  int64_t expectedRank = op.getKeepDims()
                             ? inputRank
                             : inputRank - static_cast<int64_t>(axes.size());
  if (static_cast<int64_t>(shapeOf(op.getResult()).size()) != expectedRank)
    return failure();
  DimensionFlow flow = singleResultFlow(expectedRank);
  int64_t resultDim = 0;
  for (int64_t dim = 0; dim < inputRank; ++dim) {
    if (llvm::is_contained(axes, dim)) {
      flow.reduced.push_back({0, dim});
      // A kept reduced dimension has size 1; any slice of it is the whole.
      if (op.getKeepDims())
        flow.results[0][resultDim++] = ResultDimFlow::flows();
      continue;
    }
    flow.results[0][resultDim++] = ResultDimFlow::flows({{0, dim}});
  }
  return flow;
}

FailureOr<DimensionFlow> flowOf(ReduceSumOp op) { return reduceFlow(op); }
FailureOr<DimensionFlow> flowOf(ReduceMeanOp op) { return reduceFlow(op); }
FailureOr<DimensionFlow> flowOf(ReduceMaxOp op) { return reduceFlow(op); }

FailureOr<DimensionFlow> flowOf(TransposeOp op) {
  if (!op.getPermutationAttr())
    return failure();
  ArrayRef<int64_t> permutation = op.getPermutation();
  int64_t rank = shapeOf(op.getInput()).size();
  if (static_cast<int64_t>(permutation.size()) != rank ||
      static_cast<int64_t>(shapeOf(op.getResult()).size()) != rank)
    return failure();
  DimensionFlow flow = singleResultFlow(rank);
  for (auto [resultDim, inputDim] : llvm::enumerate(permutation)) {
    if (inputDim < 0 || inputDim >= rank)
      return failure();
    flow.results[0][resultDim] = ResultDimFlow::flows({{0, inputDim}});
  }
  return flow;
}

FailureOr<DimensionFlow> flowOf(ReshapeOp op) {
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  DimensionFlow flow = singleResultFlow(result.size());
  // A size-1 result dimension (inserted, or kept) is whole in any slice.
  for (auto [dim, extent] : llvm::enumerate(result))
    if (extent == 1)
      flow.results[0][dim] = ResultDimFlow::flows();
  // With size-1 dimensions set aside, the row-major order pairs the
  // remaining dimensions into the smallest contiguous groups whose products
  // agree. Only a group of one input and one result dimension is the same
  // dimension; a split or merged one has no 1:1 source (opaque).
  auto nonUnit = [](ArrayRef<int64_t> shape) {
    SmallVector<int64_t> dims;
    for (auto [dim, extent] : llvm::enumerate(shape))
      if (extent != 1)
        dims.push_back(dim);
    return dims;
  };
  SmallVector<int64_t> inputDims = nonUnit(input), resultDims = nonUnit(result);
  if (llvm::is_contained(input, 0) || llvm::is_contained(result, 0))
    return flow; // No element to follow: every non-unit dim stays opaque.
  size_t i = 0, j = 0;
  while (i < inputDims.size() && j < resultDims.size()) {
    size_t groupStartI = i, groupStartJ = j;
    int64_t inputProduct = input[inputDims[i]];
    int64_t resultProduct = result[resultDims[j]];
    while (inputProduct != resultProduct) {
      if (inputProduct < resultProduct) {
        if (++i == inputDims.size())
          return failure();
        inputProduct *= input[inputDims[i]];
      } else {
        if (++j == resultDims.size())
          return failure();
        resultProduct *= result[resultDims[j]];
      }
    }
    if (i == groupStartI && j == groupStartJ)
      flow.results[0][resultDims[j]] =
          ResultDimFlow::flows({{0, inputDims[i]}});
    ++i;
    ++j;
  }
  if (i != inputDims.size() || j != resultDims.size())
    return failure();
  return flow;
}

FailureOr<DimensionFlow> flowOf(BroadcastOp op) {
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  if (input.size() > result.size())
    return failure();
  DimensionFlow flow = singleResultFlow(result.size());
  for (ResultDimFlow &dimFlow : flow.results[0])
    dimFlow = ResultDimFlow::flows();
  addBroadcastSources(result, flow.results[0], 0, input);
  return flow;
}

FailureOr<DimensionFlow> flowOf(SliceOp op) {
  if (!op.getStartsAttr() || !op.getLimitsAttr())
    return failure();
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  ArrayRef<int64_t> starts = op.getStarts(), limits = op.getLimits();
  std::optional<ArrayRef<int64_t>> strides = op.getStrides();
  int64_t rank = input.size();
  if (static_cast<int64_t>(shapeOf(op.getResult()).size()) != rank ||
      static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(limits.size()) != rank ||
      (strides && static_cast<int64_t>(strides->size()) != rank))
    return failure();
  DimensionFlow flow = singleResultFlow(rank);
  for (int64_t dim = 0; dim < rank; ++dim) {
    bool whole = starts[dim] == 0 && limits[dim] == input[dim] &&
                 (!strides || (*strides)[dim] == 1);
    // A narrowed dimension would need the chunk's offset shifted by the
    // start (and scaled by the stride): not the same slice, so opaque.
    if (whole)
      flow.results[0][dim] = ResultDimFlow::flows({{0, dim}});
  }
  return flow;
}

FailureOr<DimensionFlow> flowOf(ConcatOp op) {
  if (!op.getAxisAttr() || op.getInputs().empty())
    return failure();
  int64_t rank = shapeOf(op.getResult()).size();
  int64_t axis = op.getAxisAttr().getInt();
  if (axis < 0 || axis >= rank ||
      llvm::any_of(op.getInputs(), [&](Value input) {
        return static_cast<int64_t>(shapeOf(input).size()) != rank;
      }))
    return failure();
  DimensionFlow flow = singleResultFlow(rank);
  for (int64_t dim = 0; dim < rank; ++dim) {
    // Along the axis each result element comes from one input or another:
    // a chunk of the result is no chunk of every input (opaque).
    if (dim == axis)
      continue;
    ResultDimFlow &dimFlow = flow.results[0][dim];
    dimFlow = ResultDimFlow::flows();
    for (unsigned operand = 0; operand < op.getInputs().size(); ++operand)
      dimFlow.sources.push_back({operand, dim});
  }
  return flow;
}

FailureOr<DimensionFlow> flowOf(CausalMaskOp op) {
  // Every dimension flows from the input, the query and key dimensions
  // included: a chunk of them is masked right once row_offset / col_offset
  // say where it starts, which the chunk rewrite sets. The index operands
  // are scalars and never sliced.
  return identityFlow(op);
}

FailureOr<DimensionFlow> flowOf(AttentionOp op) {
  // Leading dimensions and the query rows flow; the key dimension is the
  // softmax's and the products', and D is contracted, so both are reduced.
  // A chunk of query rows is masked right once row_offset says where it
  // starts, which the chunk rewrite sets; the index operand is never sliced.
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  ArrayRef<int64_t> query = shapeOf(op.getQuery());
  int64_t rank = result.size();
  if (rank < 2 || static_cast<int64_t>(query.size()) != rank ||
      static_cast<int64_t>(shapeOf(op.getKey()).size()) != rank ||
      static_cast<int64_t>(shapeOf(op.getValue()).size()) != rank)
    return failure();
  constexpr unsigned queryOperand = 0, keyOperand = 1, valueOperand = 2,
                     biasOperand = 3;
  DimensionFlow flow = singleResultFlow(rank);
  MutableArrayRef<ResultDimFlow> dims = flow.results[0];
  for (int64_t dim = 0; dim < rank - 1; ++dim) {
    dims[dim] = ResultDimFlow::flows({{queryOperand, dim}});
    if (dim < rank - 2) {
      dims[dim].sources.push_back({keyOperand, dim});
      dims[dim].sources.push_back({valueOperand, dim});
    }
  }
  dims[rank - 1] = ResultDimFlow::flows({{valueOperand, rank - 1}});
  flow.reduced = {{queryOperand, rank - 1},
                  {keyOperand, rank - 1},
                  {keyOperand, rank - 2},
                  {valueOperand, rank - 2}};
  if (Value bias = op.getBias()) {
    // The bias aligns with the logits [..., M, N]: its dimensions up to M
    // flow with the result's, its N dimension is reduced.
    SmallVector<int64_t> logits(query);
    logits.back() = shapeOf(op.getKey())[rank - 2];
    ArrayRef<int64_t> biasShape = shapeOf(bias);
    if (static_cast<int64_t>(biasShape.size()) > rank)
      return failure();
    addBroadcastSources(ArrayRef<int64_t>(logits).drop_back(), dims.drop_back(),
                        biasOperand,
                        biasShape.empty() ? biasShape : biasShape.drop_back());
    if (!biasShape.empty() && biasShape.back() == logits.back())
      flow.reduced.push_back(
          {biasOperand, static_cast<int64_t>(biasShape.size()) - 1});
  }
  return flow;
}

/// The interface for graph op `OpTy`: elementwise ops are the identity,
/// broadcasting binary ops share one rule, the rest have their own flowOf.
template <typename OpTy>
struct GraphDimensionFlowModel : public DimensionFlowOpInterface::ExternalModel<
                                     GraphDimensionFlowModel<OpTy>, OpTy> {
  FailureOr<DimensionFlow> computeDimensionFlow(Operation *op) const {
    // Every graph op has one ranked tensor result, and every operand is a
    // ranked tensor but the causal mask's and attention's index offsets;
    // anything else did not verify and is a barrier.
    if (op->getNumResults() != 1 ||
        !isa<RankedTensorType>(op->getResult(0).getType()))
      return failure();
    if constexpr (std::is_same_v<OpTy, CausalMaskOp>) {
      if (op->getNumOperands() < 1 ||
          !isa<RankedTensorType>(op->getOperand(0).getType()))
        return failure();
    } else if constexpr (std::is_same_v<OpTy, AttentionOp>) {
      // The row offset is an index; query, key, value and bias are tensors.
      auto attention = cast<AttentionOp>(op);
      SmallVector<Value, 4> tensors = {attention.getQuery(), attention.getKey(),
                                       attention.getValue()};
      if (attention.getBias())
        tensors.push_back(attention.getBias());
      if (!llvm::all_of(tensors, [](Value tensor) {
            return isa<RankedTensorType>(tensor.getType());
          }))
        return failure();
    } else {
      if (op->getNumOperands() < 1 && !std::is_same_v<OpTy, ConstantOp>)
        return failure();
      if (!llvm::all_of(op->getOperandTypes(), llvm::IsaPred<RankedTensorType>))
        return failure();
    }
    if constexpr (llvm::is_one_of<OpTy, ExpOp, SqrtOp, RsqrtOp, NegOp, ReluOp,
                                  SigmoidOp, SiluOp, TanhOp, GeluOp,
                                  ScaleOp>::value)
      return identityFlow(op);
    else if constexpr (llvm::is_one_of<OpTy, AddOp, SubOp, MulOp, DivOp>::value)
      return binaryFlow(op);
    else
      return flowOf(cast<OpTy>(op));
  }
};

template <typename... OpTys> void attachGraphModels(MLIRContext *context) {
  (OpTys::template attachInterface<GraphDimensionFlowModel<OpTys>>(*context),
   ...);
}

} // namespace

void autochunk::graph::registerDimensionFlowExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, GraphDialect *) {
    // Every op of the dialect: a new op without a rule fails to compile.
    attachGraphModels<
#define GET_OP_LIST
#include "autochunk/Dialect/Graph/GraphOps.cpp.inc"
        >(context);
  });
}
