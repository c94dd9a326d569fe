//===- LowerGraphToKernels.cpp - graph ops to kernel calls ----------------===//
//
// The step from the graph dialect to what one-shot bufferization handles:
// kernel.call in destination-passing style, upstream tensor views, and
// arith constants.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Dialect/Kernel/KernelDialect.h"
#include "autochunk/Passes/Passes.h"

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
    for (Operation *op : graphOps) {
      rewriter.setInsertionPoint(op);
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
