//===- CostModel.cpp - predicted time of graph ops and chunk loops --------===//

#include "autochunk/Passes/CostModel.h"

#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace autochunk;

namespace {

double elementsOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return static_cast<double>(tensor.getNumElements());
}

double bytesOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return elementsOf(type) * static_cast<double>(llvm::divideCeil(
                                tensor.getElementTypeBitWidth(), 8));
}

/// FLOPs of a linalg structured op: every point of its iteration domain
/// runs its body once, one FLOP per body op (the yield aside): a matmul's
/// multiply and add make 2MNK. A fill's body only yields: no FLOPs.
double linalgFlops(linalg::LinalgOp op) {
  double points = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return 0;
    points *= static_cast<double>(range);
  }
  Block *body = op.getBlock();
  double perPoint =
      body ? static_cast<double>(body->getOperations().size()) - 1 : 0;
  return points * std::max(perPoint, 0.0);
}

/// FLOPs of `op` on whole tensors.
double flopsOf(Operation *op) {
  double resultElements =
      op->getNumResults() ? elementsOf(op->getResult(0).getType()) : 0;
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case([&](graph::MatmulOp matmul) {
        auto lhs = matmul.getLhs().getType();
        int64_t k = matmul.getTransposeA() ? lhs.getDimSize(lhs.getRank() - 2)
                                           : lhs.getDimSize(lhs.getRank() - 1);
        return 2 * resultElements * static_cast<double>(k);
      })
      .Case([&](graph::LinearOp linear) {
        double in =
            static_cast<double>(linear.getWeight().getType().getDimSize(1));
        return 2 * resultElements * in +
               (linear.getBias() ? resultElements : 0);
      })
      .Case([&](graph::EinsumOp einsum) {
        // Every combination of all labels is visited once.
        std::string error;
        std::optional<graph::EinsumEquation> equation =
            graph::EinsumEquation::parse(einsum.getEquation(), error);
        if (!equation)
          return 0.0;
        llvm::SmallDenseMap<char, int64_t> labelSizes;
        for (auto [term, input] :
             llvm::zip_equal(equation->inputs, einsum.getInputs())) {
          auto shape = cast<RankedTensorType>(input.getType()).getShape();
          for (auto [label, size] : llvm::zip_equal(term, shape))
            labelSizes[label] = size;
        }
        double points = 1;
        for (auto [label, size] : labelSizes)
          points *= static_cast<double>(size);
        return (einsum.getInputs().size() == 2 ? 2 : 1) * points;
      })
      .Case([&](graph::AttentionOp attention) {
        // Q K^T and P V (2 FLOPs per multiply-add) and the softmax (4 per
        // logit, the scale, mask and bias folded in) over every logit; a
        // causal mask leaves about half the logits to compute.
        auto query = attention.getQuery().getType();
        auto value = attention.getValue().getType();
        int64_t rank = query.getRank();
        double logits = elementsOf(query) /
                        static_cast<double>(query.getDimSize(rank - 1)) *
                        static_cast<double>(value.getDimSize(rank - 2));
        double perLogit =
            2.0 * static_cast<double>(query.getDimSize(rank - 1)) +
            2.0 * static_cast<double>(value.getDimSize(rank - 1)) + 4.0;
        return logits * perLogit * (attention.getCausal() ? 0.5 : 1.0);
      })
      .Case([&](graph::SoftmaxOp) { return 4 * resultElements; })
      .Case([&](linalg::SoftmaxOp) { return 4 * resultElements; })
      .Case([&](linalg::LinalgOp linalgOp) { return linalgFlops(linalgOp); })
      .Case([&](graph::LayerNormOp) { return 6 * resultElements; })
      .Case<graph::ReduceSumOp, graph::ReduceMeanOp, graph::ReduceMaxOp>(
          [&](Operation *reduce) {
            return elementsOf(reduce->getOperand(0).getType());
          })
      .Case<graph::ExpOp, graph::SqrtOp, graph::RsqrtOp, graph::NegOp,
            graph::ReluOp, graph::SigmoidOp, graph::SiluOp, graph::TanhOp,
            graph::GeluOp, graph::ScaleOp, graph::AddOp, graph::SubOp,
            graph::MulOp, graph::DivOp, graph::CausalMaskOp>(
          [&](Operation *) { return resultElements; })
      .Default([](Operation *) { return 0.0; });
}

/// Ops that lower to no kernel: views of their input and constants, and
/// every op that is neither a graph op nor a linalg op (tensor.empty, slices,
/// scalar arithmetic).
bool isFree(Operation *op) {
  if (isa<linalg::LinalgOp, linalg::SoftmaxOp>(op))
    return false;
  // An unregistered op has no dialect.
  return isa<graph::ReshapeOp, graph::SliceOp, graph::ConstantOp>(op) ||
         !isa_and_nonnull<graph::GraphDialect>(op->getDialect());
}

} // namespace

std::optional<Target> autochunk::getTarget(StringRef name) {
  if (name == "cpu")
    return Target{"cpu", 200e9, 20e9, 2e-6, 1e-6, 2};
  if (name == "h100")
    return Target{"h100", 50e12, 3e12, 3e-6, 1e-6, 0};
  return std::nullopt;
}

OpCost autochunk::estimateChunkOpCost(Operation *op,
                                      ArrayRef<bool> operandSliced,
                                      double fraction) {
  OpCost cost;
  if (isFree(op))
    return cost;
  cost.flops = flopsOf(op) * fraction;
  // Contractions pack their operands before computing, on every call: a
  // chunk loop packs an operand it reads whole once per chunk.
  bool packs =
      isa<graph::MatmulOp, graph::LinearOp, graph::EinsumOp, graph::AttentionOp,
          linalg::MatmulOp, linalg::BatchMatmulOp>(op);
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    bool sliced = index < operandSliced.size() && operandSliced[index];
    double bytes = bytesOf(operand.getType()) * (sliced ? fraction : 1.0);
    cost.bytes += bytes;
    if (packs)
      cost.packBytes += bytes;
  }
  for (Value result : op->getResults())
    cost.bytes += bytesOf(result.getType()) * fraction;
  // A concat is lowered to one copy per input, every other op to one call.
  cost.calls = isa<graph::ConcatOp>(op) ? op->getNumOperands() : 1;
  return cost;
}

OpCost autochunk::estimateOpCost(Operation *op) {
  SmallVector<bool> whole(op->getNumOperands(), false);
  return estimateChunkOpCost(op, whole, 1.0);
}

double autochunk::predictSeconds(const OpCost &cost, const Target &target) {
  return std::max(cost.flops / target.peakFlops,
                  cost.bytes / target.bandwidth) +
         target.packPasses * cost.packBytes / target.bandwidth +
         static_cast<double>(cost.calls) * target.callOverhead;
}

double autochunk::predictSeconds(ArrayRef<Operation *> ops,
                                 const Target &target) {
  double seconds = 0;
  for (Operation *op : ops)
    seconds += predictSeconds(estimateOpCost(op), target);
  return seconds;
}

double autochunk::predictChunkedSeconds(
    ArrayRef<Operation *> ops, const llvm::DenseMap<Value, int64_t> &chunkDims,
    int64_t extent, int64_t chunkSize, const Target &target,
    ArrayRef<Operation *> recomputedOps) {
  if (chunkSize <= 0 || extent <= 0)
    return 0;
  llvm::SmallPtrSet<Operation *, 16> inRegion(ops.begin(), ops.end());
  // The seconds of one chunk of `size` rows.
  auto chunkSeconds = [&](int64_t size) {
    double fraction = static_cast<double>(size) / static_cast<double>(extent);
    double seconds = target.iterationOverhead;
    for (Operation *op : recomputedOps) {
      SmallVector<bool> sliced;
      for (Value operand : op->getOperands())
        sliced.push_back(chunkDims.count(operand) != 0);
      seconds +=
          predictSeconds(estimateChunkOpCost(op, sliced, fraction), target);
    }
    for (Operation *op : ops) {
      SmallVector<bool> sliced;
      for (Value operand : op->getOperands())
        sliced.push_back(chunkDims.count(operand) != 0);
      seconds +=
          predictSeconds(estimateChunkOpCost(op, sliced, fraction), target);
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !inRegion.contains(user);
            })) {
          OpCost copy;
          copy.bytes = 2 * bytesOf(result.getType()) * fraction;
          copy.calls = 1;
          seconds += predictSeconds(copy, target);
        }
    }
    return seconds;
  };
  int64_t fullChunks = extent / chunkSize, remainder = extent % chunkSize;
  double seconds = static_cast<double>(fullChunks) * chunkSeconds(chunkSize);
  if (remainder)
    seconds += chunkSeconds(remainder);
  return seconds;
}
