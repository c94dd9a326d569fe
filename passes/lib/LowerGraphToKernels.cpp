//===- LowerGraphToKernels.cpp - graph ops to kernel calls ----------------===//
//
// The step from the graph dialect to what one-shot bufferization handles:
// kernel.call in destination-passing style, upstream tensor views, and
// arith constants. Single-use chains of ops inside one block become one
// fused kernel call (attention softmax, linear + activation, sigmoid
// gating); the graph itself stays unfused, so chunking sees every op.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"

#include "SoftmaxChain.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/TypeSwitch.h"

namespace autochunk {
#define GEN_PASS_DEF_LOWERGRAPHTOKERNELSPASS
#include "autochunk/Passes/Passes.h.inc"
} // namespace autochunk

using namespace mlir;
using namespace autochunk;

namespace {

/// The kernel's parameters: the graph op's attributes with defaults made
/// explicit, so the call lowering reads every parameter it needs.
DictionaryAttr kernelParams(Operation *op) {
  Builder b(op->getContext());
  SmallVector<NamedAttribute> params;
  auto add = [&](StringRef name, Attribute value) {
    params.push_back(b.getNamedAttr(name, value));
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](graph::GeluOp gelu) {
        add("approximate", b.getStringAttr(gelu.getApproximate()));
      })
      .Case([&](graph::ScaleOp scale) { add("factor", scale.getFactorAttr()); })
      .Case([&](graph::MatmulOp matmul) {
        add("transpose_a", b.getBoolAttr(matmul.getTransposeA()));
        add("transpose_b", b.getBoolAttr(matmul.getTransposeB()));
      })
      .Case([&](graph::EinsumOp einsum) {
        add("equation", einsum.getEquationAttr());
      })
      .Case(
          [&](graph::SoftmaxOp softmax) { add("axis", softmax.getAxisAttr()); })
      .Case([&](graph::LayerNormOp norm) {
        add("axis", norm.getAxisAttr());
        add("epsilon", norm.getEpsilonAttr());
      })
      .Case<graph::ReduceSumOp, graph::ReduceMeanOp, graph::ReduceMaxOp>(
          [&](auto reduce) {
            add("axes", reduce.getAxesAttr());
            add("keep_dims", b.getBoolAttr(reduce.getKeepDims()));
          })
      .Case([&](graph::TransposeOp transpose) {
        add("permutation", transpose.getPermutationAttr());
      })
      .Case([&](graph::CausalMaskOp mask) {
        add("diagonal", mask.getDiagonalAttr());
      })
      .Case([&](graph::AttentionOp attention) {
        add("scale", attention.getScaleAttr());
        add("causal", b.getBoolAttr(attention.getCausal()));
        add("diagonal", attention.getDiagonalAttr());
        add("has_bias", b.getBoolAttr(bool(attention.getBias())));
      });
  return b.getDictionaryAttr(params);
}

/// True for ops whose output element at an index depends only on the input
/// elements at that same index.
bool isElementwise(Operation *op) {
  return isa<graph::ExpOp, graph::SqrtOp, graph::RsqrtOp, graph::NegOp,
             graph::ReluOp, graph::SigmoidOp, graph::SiluOp, graph::TanhOp,
             graph::GeluOp, graph::ScaleOp, graph::AddOp, graph::SubOp,
             graph::MulOp, graph::DivOp, graph::CausalMaskOp>(op);
}

/// The destination of `op`'s result: a dying operand of the same type that
/// an earlier kernel call of the same block produced (never a function
/// argument or constant, which must not be overwritten), or a fresh
/// tensor.empty.
Value chooseDestination(RewriterBase &rewriter, Operation *op) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  if (isElementwise(op)) {
    for (Value operand : op->getOperands()) {
      // Only a value of the same block: one from outside a chunk loop is
      // read by every iteration and must not be overwritten by the first.
      auto producer = operand.getDefiningOp<kernel::CallOp>();
      if (operand.getType() != resultType || !producer ||
          producer->getBlock() != op->getBlock())
        continue;
      if (llvm::all_of(operand.getUsers(),
                       [&](Operation *user) { return user == op; }))
        return operand;
    }
  }
  return tensor::EmptyOp::create(rewriter, op->getLoc(), resultType.getShape(),
                                 resultType.getElementType());
}

/// graph.reshape as one tensor.collapse_shape or tensor.expand_shape when
/// the shapes allow it (a view even of a strided source whose merged
/// dimensions are contiguous), else as a collapse to one dimension and an
/// expansion. Bufferization copies when a collapse of a non-contiguous source
/// has no strided form.
Value lowerReshape(RewriterBase &rewriter, graph::ReshapeOp reshape) {
  Location loc = reshape.getLoc();
  Value source = reshape.getInput();
  RankedTensorType sourceType = reshape.getInput().getType();
  RankedTensorType resultType = reshape.getType();
  if (std::optional<SmallVector<ReassociationIndices>> groups =
          getReassociationIndicesForReshape(sourceType, resultType)) {
    if (sourceType.getRank() > resultType.getRank())
      return tensor::CollapseShapeOp::create(rewriter, loc, resultType, source,
                                             *groups);
    return tensor::ExpandShapeOp::create(rewriter, loc, resultType, source,
                                         *groups);
  }
  auto allDims = [](int64_t rank) {
    ReassociationIndices group;
    for (int64_t dim = 0; dim < rank; ++dim)
      group.push_back(dim);
    return SmallVector<ReassociationIndices>{group};
  };
  Value flat = source;
  if (sourceType.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(rewriter, loc, source,
                                           allDims(sourceType.getRank()));
  if (resultType.getRank() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(rewriter, loc, resultType, flat,
                                       allDims(resultType.getRank()));
}

/// graph.concat as copies into slices of one destination, which one-shot
/// bufferization turns into copies into subviews of one buffer.
Value lowerConcat(RewriterBase &rewriter, graph::ConcatOp concat) {
  Location loc = concat.getLoc();
  RankedTensorType resultType = concat.getType();
  int64_t axis = concat.getAxisAttr().getInt();
  Value destination = tensor::EmptyOp::create(
      rewriter, loc, resultType.getShape(), resultType.getElementType());
  int64_t offset = 0;
  for (Value input : concat.getInputs()) {
    auto inputType = cast<RankedTensorType>(input.getType());
    SmallVector<OpFoldResult> offsets(resultType.getRank(),
                                      rewriter.getIndexAttr(0));
    offsets[axis] = rewriter.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes, strides;
    for (int64_t size : inputType.getShape()) {
      sizes.push_back(rewriter.getIndexAttr(size));
      strides.push_back(rewriter.getIndexAttr(1));
    }
    Value slice = tensor::ExtractSliceOp::create(rewriter, loc, destination,
                                                 offsets, sizes, strides);
    Value copied =
        kernel::CallOp::create(rewriter, loc, TypeRange{inputType}, "copy",
                               ValueRange{input}, ValueRange{slice},
                               rewriter.getDictionaryAttr({}))
            .getResult(0);
    destination = tensor::InsertSliceOp::create(
        rewriter, loc, copied, destination, offsets, sizes, strides);
    offset += inputType.getDimSize(axis);
  }
  return destination;
}

Value lowerSlice(RewriterBase &rewriter, graph::SliceOp slice) {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  std::optional<ArrayRef<int64_t>> sliceStrides = slice.getStrides();
  for (auto [dim, start] : llvm::enumerate(slice.getStarts())) {
    offsets.push_back(rewriter.getIndexAttr(start));
    sizes.push_back(rewriter.getIndexAttr(slice.getType().getDimSize(dim)));
    strides.push_back(
        rewriter.getIndexAttr(sliceStrides ? (*sliceStrides)[dim] : 1));
  }
  return tensor::ExtractSliceOp::create(rewriter, slice.getLoc(),
                                        slice.getType(), slice.getInput(),
                                        offsets, sizes, strides);
}

//===----------------------------------------------------------------------===//
// Fusion of single-use chains
//===----------------------------------------------------------------------===//

/// A chain of graph ops that lowers to one kernel call at the position of its
/// last op, `root`. Each absorbed op's result has exactly one use, by the next
/// op of the chain in the same block, so no value that anything else reads
/// disappears, and the fused call runs where the root ran: its operands are
/// defined before the root.
struct Fusion {
  enum class Kind { ScaleMaskSoftmax, LinearActivation, SigmoidGate };
  Kind kind;
  Operation *root = nullptr;
  /// Absorbed ops, root first then towards the chain's input.
  SmallVector<Operation *, 3> absorbed;

  // Operands are held as the absorbed ops' operand slots, not as values:
  // the producers are lowered (and replaced) between matching and fusing.

  // ScaleMaskSoftmax: softmax(add?(causal_mask?(scale?(input)), bias?)).
  OpOperand *input = nullptr, *bias = nullptr;
  graph::ScaleOp scale;
  graph::CausalMaskOp mask;

  // LinearActivation: activation(linear(input, weight, bias)).
  graph::LinearOp linear;

  // SigmoidGate: sigmoid(gate) * value, in either operand order.
  OpOperand *gate = nullptr, *value = nullptr;
};

/// softmax over the last axis of add?(causal_mask?(scale?(x)), bias?) with
/// at least one of the three (matchSoftmaxChain); the kernel takes the mask's
/// offsets and broadcasts the bias, never the scores.
std::optional<Fusion> matchScaleMaskSoftmax(graph::SoftmaxOp softmax) {
  std::optional<SoftmaxChain> chain = matchSoftmaxChain(softmax);
  if (!chain || chain->absorbed.empty())
    return std::nullopt;
  Fusion fusion{Fusion::Kind::ScaleMaskSoftmax, softmax};
  fusion.absorbed = chain->absorbed;
  fusion.input = chain->input;
  fusion.bias = chain->bias;
  fusion.scale = chain->scale;
  fusion.mask = chain->mask;
  return fusion;
}

/// activation(linear(x, w, b)) for relu, gelu and silu with a bias.
std::optional<Fusion> matchLinearActivation(Operation *activation) {
  if (!isa<graph::ReluOp, graph::GeluOp, graph::SiluOp>(activation))
    return std::nullopt;
  auto linear =
      singleUseProducer<graph::LinearOp>(activation->getOperand(0), activation);
  if (!linear || !linear.getBias())
    return std::nullopt;
  Fusion fusion{Fusion::Kind::LinearActivation, activation};
  fusion.absorbed.push_back(linear);
  fusion.linear = linear;
  return fusion;
}

/// mul(sigmoid(a), b) or mul(b, sigmoid(a)).
std::optional<Fusion> matchSigmoidGate(graph::MulOp mul) {
  for (unsigned gateIndex : {0u, 1u}) {
    Value gateOperand = mul->getOperand(gateIndex);
    OpOperand &valueOperand = mul->getOpOperand(1 - gateIndex);
    auto sigmoid = singleUseProducer<graph::SigmoidOp>(gateOperand, mul);
    if (!sigmoid || gateOperand == valueOperand.get())
      continue;
    Fusion fusion{Fusion::Kind::SigmoidGate, mul};
    fusion.absorbed.push_back(sigmoid);
    fusion.gate = &sigmoid.getInputMutable();
    fusion.value = &valueOperand;
    return fusion;
  }
  return std::nullopt;
}

std::optional<Fusion> matchFusion(Operation *op) {
  if (auto softmax = dyn_cast<graph::SoftmaxOp>(op))
    return matchScaleMaskSoftmax(softmax);
  if (auto mul = dyn_cast<graph::MulOp>(op))
    return matchSigmoidGate(mul);
  return matchLinearActivation(op);
}

/// A fresh destination of `root`'s result type, or the first of
/// `candidates` that an earlier kernel call of the same block produced with
/// that type and that no op outside the chain reads (it dies at the fused
/// call, which writes each element after reading it).
Value chooseFusedDestination(RewriterBase &rewriter, const Fusion &fusion,
                             ArrayRef<Value> candidates) {
  auto resultType = cast<RankedTensorType>(fusion.root->getResult(0).getType());
  auto inChain = [&](Operation *user) {
    return user == fusion.root || llvm::is_contained(fusion.absorbed, user);
  };
  for (Value candidate : candidates) {
    auto producer = candidate.getDefiningOp<kernel::CallOp>();
    if (candidate.getType() == resultType && producer &&
        producer->getBlock() == fusion.root->getBlock() &&
        llvm::all_of(candidate.getUsers(), inChain))
      return candidate;
  }
  return tensor::EmptyOp::create(rewriter, fusion.root->getLoc(),
                                 resultType.getShape(),
                                 resultType.getElementType());
}

/// Emits the fused call for `fusion` before its root; returns its result.
Value lowerFusion(RewriterBase &rewriter, Fusion &fusion) {
  Operation *root = fusion.root;
  // The root's location first: the memory estimate's timeline attributes the
  // call to the first origin it finds.
  SmallVector<Location> locations{root->getLoc()};
  for (Operation *op : fusion.absorbed)
    locations.push_back(op->getLoc());
  Location loc = rewriter.getFusedLoc(locations);
  Builder &b = rewriter;
  switch (fusion.kind) {
  case Fusion::Kind::ScaleMaskSoftmax: {
    auto zero = [&]() -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, 0);
    };
    Value rowOffset = fusion.mask && fusion.mask.getRowOffset()
                          ? fusion.mask.getRowOffset()
                          : zero();
    Value colOffset = fusion.mask && fusion.mask.getColOffset()
                          ? fusion.mask.getColOffset()
                          : zero();
    // Without a bias the input stands in for it, so the kernel has one
    // signature (the has_bias parameter says to ignore it).
    Value input = fusion.input->get();
    SmallVector<Value> inputs{input, fusion.bias ? fusion.bias->get() : input,
                              rowOffset, colOffset};
    SmallVector<NamedAttribute> params{
        b.getNamedAttr("factor",
                       b.getF64FloatAttr(
                           fusion.scale
                               ? fusion.scale.getFactorAttr().getValueAsDouble()
                               : 1.0)),
        b.getNamedAttr("causal", b.getBoolAttr(bool(fusion.mask))),
        b.getNamedAttr("diagonal",
                       fusion.mask ? Attribute(fusion.mask.getDiagonalAttr())
                                   : Attribute(b.getI64IntegerAttr(0))),
        b.getNamedAttr("has_bias", b.getBoolAttr(bool(fusion.bias)))};
    auto resultType = cast<RankedTensorType>(root->getResult(0).getType());
    Value destination = tensor::EmptyOp::create(
        rewriter, loc, resultType.getShape(), resultType.getElementType());
    return kernel::CallOp::create(
               rewriter, loc, TypeRange{destination.getType()},
               "scale_mask_softmax", inputs, ValueRange{destination},
               b.getDictionaryAttr(params))
        .getResult(0);
  }
  case Fusion::Kind::LinearActivation: {
    StringRef kernelName = "linear_relu";
    SmallVector<NamedAttribute> params;
    if (auto gelu = dyn_cast<graph::GeluOp>(root)) {
      kernelName = "linear_gelu";
      params.push_back(b.getNamedAttr("approximate",
                                      b.getStringAttr(gelu.getApproximate())));
    } else if (isa<graph::SiluOp>(root)) {
      kernelName = "linear_silu";
    }
    auto resultType = cast<RankedTensorType>(root->getResult(0).getType());
    Value destination = tensor::EmptyOp::create(
        rewriter, loc, resultType.getShape(), resultType.getElementType());
    graph::LinearOp linear = fusion.linear;
    return kernel::CallOp::create(
               rewriter, loc, TypeRange{resultType}, kernelName,
               ValueRange{linear.getInput(), linear.getWeight(),
                          linear.getBias()},
               ValueRange{destination}, b.getDictionaryAttr(params))
        .getResult(0);
  }
  case Fusion::Kind::SigmoidGate: {
    Value gate = fusion.gate->get(), value = fusion.value->get();
    Value destination = chooseFusedDestination(rewriter, fusion, {gate, value});
    auto call = kernel::CallOp::create(
        rewriter, loc, TypeRange{destination.getType()}, "sigmoid_gate",
        ValueRange{gate, value}, ValueRange{destination},
        b.getDictionaryAttr({}));
    call->setAttr("elementwise", rewriter.getUnitAttr());
    return call.getResult(0);
  }
  }
  llvm_unreachable("unknown fusion kind");
}

/// Lowers one graph op; returns its replacement value.
FailureOr<Value> lowerOp(RewriterBase &rewriter, Operation *op) {
  Location loc = op->getLoc();
  if (auto constant = dyn_cast<graph::ConstantOp>(op))
    return arith::ConstantOp::create(rewriter, loc,
                                     cast<TypedAttr>(constant.getValue()))
        .getResult();
  if (auto reshape = dyn_cast<graph::ReshapeOp>(op))
    return lowerReshape(rewriter, reshape);
  if (auto slice = dyn_cast<graph::SliceOp>(op))
    return lowerSlice(rewriter, slice);
  if (auto concat = dyn_cast<graph::ConcatOp>(op))
    return lowerConcat(rewriter, concat);

  StringRef kernelName = op->getName().stripDialect();
  SmallVector<Value> inputs(op->getOperands());
  if (auto linear = dyn_cast<graph::LinearOp>(op); linear && !linear.getBias())
    kernelName = "linear_nobias";
  if (auto mask = dyn_cast<graph::CausalMaskOp>(op)) {
    // The offsets are always passed, so the kernel has one signature.
    auto zero = [&]() -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, 0);
    };
    inputs = {mask.getInput(),
              mask.getRowOffset() ? mask.getRowOffset() : zero(),
              mask.getColOffset() ? mask.getColOffset() : zero()};
  }
  if (auto attention = dyn_cast<graph::AttentionOp>(op)) {
    // One signature: without a bias the query stands in for it (has_bias
    // says to ignore it), and the row offset is always passed.
    Value rowOffset = attention.getRowOffset();
    if (!rowOffset)
      rowOffset = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value bias = attention.getBias();
    inputs = {attention.getQuery(), attention.getKey(), attention.getValue(),
              bias ? bias : attention.getQuery(), rowOffset};
  }
  Value destination = chooseDestination(rewriter, op);
  auto call = kernel::CallOp::create(
      rewriter, loc, TypeRange{destination.getType()}, kernelName, inputs,
      ValueRange{destination}, kernelParams(op));
  if (isElementwise(op))
    call->setAttr("elementwise", rewriter.getUnitAttr());
  return call.getResult(0);
}

struct LowerGraphToKernelsPass
    : public autochunk::impl::LowerGraphToKernelsPassBase<
          LowerGraphToKernelsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> graphOps;
    getOperation().walk([&](Operation *op) {
      if (isa<graph::GraphDialect>(op->getDialect()))
        graphOps.push_back(op);
    });
    // Chains are matched on the graph as it is, before anything is lowered:
    // an absorbed op is never also a root (each root's result is used
    // outside its own chain only).
    DenseMap<Operation *, Fusion> fusionAtRoot;
    DenseSet<Operation *> absorbed;
    for (Operation *op : graphOps) {
      if (absorbed.contains(op))
        continue;
      std::optional<Fusion> fusion = matchFusion(op);
      if (!fusion || llvm::any_of(fusion->absorbed, [&](Operation *inner) {
            return fusionAtRoot.contains(inner);
          }))
        continue;
      absorbed.insert(fusion->absorbed.begin(), fusion->absorbed.end());
      fusionAtRoot.try_emplace(op, std::move(*fusion));
    }
    for (Operation *op : graphOps) {
      if (absorbed.contains(op))
        continue;
      rewriter.setInsertionPoint(op);
      auto fused = fusionAtRoot.find(op);
      if (fused != fusionAtRoot.end()) {
        // The absorbed ops still read the lowered values of their operands;
        // they go once the root no longer uses them, root side first.
        rewriter.replaceOp(op, lowerFusion(rewriter, fused->second));
        for (Operation *inner : fused->second.absorbed)
          rewriter.eraseOp(inner);
        continue;
      }
      FailureOr<Value> replacement = lowerOp(rewriter, op);
      if (failed(replacement)) {
        op->emitOpError("cannot be lowered to a kernel call");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *replacement);
    }
  }
};

} // namespace
