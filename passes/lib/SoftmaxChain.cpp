//===- SoftmaxChain.cpp - the scale/mask/bias chain in front of a softmax -===//

#include "SoftmaxChain.h"

using namespace mlir;
using namespace autochunk;

std::optional<SoftmaxChain>
autochunk::matchSoftmaxChain(graph::SoftmaxOp softmax) {
  auto type = cast<RankedTensorType>(softmax.getType());
  if (softmax.getAxisAttr().getInt() != type.getRank() - 1)
    return std::nullopt;
  SoftmaxChain chain;
  chain.softmax = softmax;
  OpOperand *current = &softmax->getOpOperand(0);
  Operation *user = softmax;
  if (auto add = singleUseProducer<graph::AddOp>(current->get(), user)) {
    OpOperand *carrier = nullptr;
    for (OpOperand &operand : add->getOpOperands()) {
      if (operand.get().getType() != type)
        continue;
      Value value = operand.get();
      if (singleUseProducer<graph::CausalMaskOp>(value, add) ||
          singleUseProducer<graph::ScaleOp>(value, add) ||
          singleUseProducer<graph::MatmulOp>(value, add)) {
        carrier = &operand;
        break;
      }
      if (!carrier)
        carrier = &operand;
    }
    if (carrier && add.getLhs() != add.getRhs()) {
      chain.add = add;
      chain.absorbed.push_back(add);
      chain.bias = &add->getOpOperand(1 - carrier->getOperandNumber());
      current = carrier;
      user = add;
    }
  }
  if (auto mask =
          singleUseProducer<graph::CausalMaskOp>(current->get(), user)) {
    chain.mask = mask;
    chain.absorbed.push_back(mask);
    current = &mask.getInputMutable();
    user = mask;
  }
  if (auto scale = singleUseProducer<graph::ScaleOp>(current->get(), user)) {
    chain.scale = scale;
    chain.absorbed.push_back(scale);
    current = &scale.getInputMutable();
  }
  chain.input = current;
  return chain;
}
