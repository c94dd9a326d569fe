//===- SoftmaxChain.h - the scale/mask/bias chain in front of a softmax ---===//
//
// Attention's logits reach their softmax through add?(causal_mask?(scale?(
// scores)), bias?). Two passes match that chain: the lowering fuses it into
// one scale_mask_softmax kernel call, autochunk-fuse-attention folds it
// (with the matmuls around it) into graph.attention. They share this
// matcher, so both read the same chains the same way.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_LIB_SOFTMAXCHAIN_H
#define AUTOCHUNK_PASSES_LIB_SOFTMAXCHAIN_H

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace autochunk {

/// The op of type OpTy defining `value` when `value`'s only use is by `user`
/// in `user`'s block.
template <typename OpTy>
OpTy singleUseProducer(mlir::Value value, mlir::Operation *user) {
  auto producer = value.getDefiningOp<OpTy>();
  if (!producer || !value.hasOneUse() ||
      producer->getBlock() != user->getBlock())
    return nullptr;
  return producer;
}

/// softmax(add?(causal_mask?(scale?(input)), bias?)) over the last axis. Each
/// op present has one use, by the next op of the chain, in the softmax's
/// block. Operands are held as operand slots: a caller may replace the
/// producers between matching and using the chain.
struct SoftmaxChain {
  graph::SoftmaxOp softmax;
  graph::AddOp add;
  graph::CausalMaskOp mask;
  graph::ScaleOp scale;
  /// The chain's first operand (the scores) and the add's other operand.
  mlir::OpOperand *input = nullptr, *bias = nullptr;
  /// The ops found, softmax side first (the softmax itself not included).
  llvm::SmallVector<mlir::Operation *, 3> absorbed;
};

/// The chain in front of `softmax` when it normalizes the last axis. An add
/// joins only when one operand has the logits' type (the bias broadcasts,
/// never the scores) and the operands differ; the chain continues through the
/// operand a causal mask, a scale or a matmul produced, else the left one.
/// The chain may be empty (no absorbed op).
std::optional<SoftmaxChain> matchSoftmaxChain(graph::SoftmaxOp softmax);

} // namespace autochunk

#endif // AUTOCHUNK_PASSES_LIB_SOFTMAXCHAIN_H
