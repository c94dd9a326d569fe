//===- ChunkRewrite.cpp - rewrite a region into a loop over chunks --------===//

#include "autochunk/Passes/ChunkRewrite.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/DenseSet.h"

#include <functional>

using namespace mlir;
using namespace autochunk;

namespace {

/// `type` with dimension `dim` resized to `size`.
RankedTensorType withDimSize(RankedTensorType type, int64_t dim, int64_t size) {
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = size;
  return RankedTensorType::get(shape, type.getElementType());
}

/// Offsets, sizes and strides of the chunk [offset, offset + size) of `type`
/// along `dim`, whole along every other dimension.
void chunkBox(OpBuilder &builder, RankedTensorType type, int64_t dim,
              OpFoldResult offset, int64_t size,
              SmallVectorImpl<OpFoldResult> &offsets,
              SmallVectorImpl<OpFoldResult> &sizes,
              SmallVectorImpl<OpFoldResult> &strides) {
  for (int64_t d = 0; d < type.getRank(); ++d) {
    offsets.push_back(d == dim ? offset : builder.getIndexAttr(0));
    sizes.push_back(builder.getIndexAttr(d == dim ? size : type.getDimSize(d)));
    strides.push_back(builder.getIndexAttr(1));
  }
}

/// Ops whose result shares its operand's buffer after bufferization.
bool isView(Operation *op) {
  return isa<graph::ReshapeOp, graph::SliceOp, tensor::ExtractSliceOp,
             tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::CastOp>(
      op);
}

/// Ops a region may hold although they hold regions: linalg ops, whose
/// region is the scalar body of their loop nest. Cloning one clones its body;
/// the body may read scalars defined above it, which become loop inputs.
bool hasOnlyPayloadRegions(Operation *op) {
  return op->getNumRegions() == 0 || isa<linalg::LinalgOp>(op);
}

class RegionRewriter {
public:
  RegionRewriter(RewriterBase &rewriter, const ChunkRegion &region)
      : rewriter(rewriter), region(region) {}

  FailureOr<ChunkLoop> run() {
    if (failed(validate()))
      return failure();
    collectBoundary();
    Operation *insertionPoint = findInsertionPoint();
    if (!insertionPoint)
      return failure();

    Location loc = region.ops.front()->getLoc();
    rewriter.setInsertionPoint(insertionPoint);
    SmallVector<Value> accumulators;
    llvm::SmallDenseSet<Value, 4> taken;
    for (auto [index, output] : llvm::enumerate(outputs)) {
      Value partner;
      for (Value input : inputs)
        if (!taken.contains(input) &&
            mayWriteOutputInPlace(region, output, input, insertionPoint)) {
          partner = input;
          break;
        }
      if (partner) {
        // The loop starts from the input and overwrites it chunk by chunk;
        // the body reads the input's chunk from the loop-carried value.
        taken.insert(partner);
        accumulatorOfInput[partner] = index;
        accumulators.push_back(partner);
        continue;
      }
      auto type = cast<RankedTensorType>(output.getType());
      accumulators.push_back(tensor::EmptyOp::create(
          rewriter, loc, type.getShape(), type.getElementType()));
    }

    ChunkLoop result;
    int64_t size = region.chunkSize;
    int64_t fullChunks = region.extent / size;
    int64_t remainder = region.extent % size;
    result.numChunks = fullChunks + (remainder ? 1 : 0);
    Value lower = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value upper =
        arith::ConstantIndexOp::create(rewriter, loc, fullChunks * size);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, size);
    auto loop =
        scf::ForOp::create(rewriter, loc, lower, upper, step, accumulators,
                           [&](OpBuilder &builder, Location bodyLoc, Value iv,
                               ValueRange iterArgs) {
                             SmallVector<Value> updated =
                                 emitChunk(builder, iv, size, iterArgs);
                             scf::YieldOp::create(builder, bodyLoc, updated);
                           });
    loop->setAttr("autochunk.chunk_size", rewriter.getI64IntegerAttr(size));
    loop->setAttr("autochunk.extent",
                  rewriter.getI64IntegerAttr(region.extent));
    result.loop = loop;
    SmallVector<Value> finals(loop.getResults());
    if (remainder) {
      rewriter.setInsertionPointAfter(loop);
      Value offset =
          arith::ConstantIndexOp::create(rewriter, loc, fullChunks * size);
      finals = emitChunk(rewriter, offset, remainder, finals);
    }

    for (auto [output, replacement] : llvm::zip_equal(outputs, finals))
      rewriter.replaceUsesWithIf(output, replacement, [&](OpOperand &use) {
        return !regionOps.contains(use.getOwner());
      });
    for (Operation *op : llvm::reverse(region.ops))
      rewriter.eraseOp(op);
    // An original that only this loop read is dead now.
    for (Operation *op : llvm::reverse(region.recomputedOps))
      if (op->use_empty())
        rewriter.eraseOp(op);
    return result;
  }

private:
  LogicalResult validate() {
    if (region.ops.empty())
      return failure();
    Operation *first = region.ops.front();
    if (region.chunkSize <= 0 || region.chunkSize >= region.extent)
      return first->emitError("chunk size ")
             << region.chunkSize << " must be in [1, " << region.extent << ")";
    Block *block = first->getBlock();
    for (Operation *op : region.ops) {
      if (op->getBlock() != block)
        return op->emitError("chunk region ops must share one block");
      if (!hasOnlyPayloadRegions(op))
        return op->emitError("chunk region ops must not hold regions");
      regionOps.insert(op);
      bodyOps.insert(op);
      for (Value result : op->getResults())
        if (!region.chunkDims.count(result))
          return op->emitError("every result of a chunk region needs a chunk "
                               "dimension (an op that does not depend on it "
                               "belongs outside the loop)");
    }
    for (Operation *op : region.recomputedOps) {
      if (op->getBlock() != block || regionOps.contains(op))
        return op->emitError("a recomputed op must be outside the chunk "
                             "region, in its block");
      if (!hasOnlyPayloadRegions(op))
        return op->emitError("a recomputed op must not hold regions");
      bodyOps.insert(op);
      for (Value result : op->getResults())
        if (!region.chunkDims.count(result))
          return op->emitError("every result of a recomputed op needs a "
                               "chunk dimension");
    }
    for (auto [value, dim] : region.chunkDims) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!type || dim < 0 || dim >= type.getRank() ||
          type.getDimSize(dim) != region.extent)
        return first->emitError("chunked value of type ")
               << value.getType() << " has no dimension " << dim
               << " of extent " << region.extent;
    }
    return success();
  }

  void collectBoundary() {
    llvm::SetVector<Value> inputSet;
    auto collectInputs = [&](Operation *op) {
      for (Value operand : op->getOperands())
        if (!operand.getDefiningOp() ||
            !bodyOps.contains(operand.getDefiningOp()))
          inputSet.insert(operand);
      // Values a linalg body reads from above (a scale factor) must exist
      // before the loop too; they are used whole.
      op->walk([&](Operation *nested) {
        if (nested == op)
          return;
        for (Value operand : nested->getOperands())
          if (!op->isAncestor(operand.getParentRegion()->getParentOp()) &&
              (!operand.getDefiningOp() ||
               !bodyOps.contains(operand.getDefiningOp())))
            inputSet.insert(operand);
      });
    };
    for (Operation *op : region.recomputedOps)
      collectInputs(op);
    for (Operation *op : region.ops) {
      collectInputs(op);
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !regionOps.contains(user);
            }))
          outputs.push_back(result);
    }
    inputs = inputSet.takeVector();
  }

  /// Just before the first op outside the region that uses a region output,
  /// or after the last region op; null (with a diagnostic) when an input of
  /// the region is only defined after that point.
  Operation *findInsertionPoint() {
    Block *block = region.ops.front()->getBlock();
    Operation *point = region.ops.back()->getNextNode();
    for (Value output : outputs)
      for (Operation *user : output.getUsers()) {
        if (regionOps.contains(user))
          continue;
        Operation *ancestor = block->findAncestorOpInBlock(*user);
        if (ancestor && ancestor->isBeforeInBlock(point))
          point = ancestor;
      }
    for (Value input : inputs) {
      Operation *definition = input.getDefiningOp();
      if (!definition || definition->getBlock() != block)
        continue;
      if (!definition->isBeforeInBlock(point)) {
        region.ops.front()->emitError(
            "the chunk region reads a value defined after its results are "
            "used; it cannot become one loop");
        return nullptr;
      }
    }
    return point;
  }

  /// Emits one chunk of size `size` at `offset`: slices the inputs, clones
  /// the region ops once each, and inserts the outputs into `accumulators`.
  SmallVector<Value> emitChunk(OpBuilder &builder, Value offset, int64_t size,
                               ValueRange accumulators) {
    IRMapping mapping;
    Location loc = region.ops.front()->getLoc();
    for (Value input : inputs) {
      auto dim = region.chunkDims.find(input);
      if (dim == region.chunkDims.end())
        continue;
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets, sizes, strides;
      chunkBox(builder, type, dim->second, offset, size, offsets, sizes,
               strides);
      auto accumulator = accumulatorOfInput.find(input);
      Value source = accumulator == accumulatorOfInput.end()
                         ? input
                         : accumulators[accumulator->second];
      mapping.map(input, tensor::ExtractSliceOp::create(
                             builder, loc, withDimSize(type, dim->second, size),
                             source, offsets, sizes, strides));
    }
    for (Operation *op : region.recomputedOps)
      cloneChunked(builder, op, offset, size, mapping);
    for (Operation *op : region.ops)
      cloneChunked(builder, op, offset, size, mapping);
    SmallVector<Value> updated;
    for (auto [output, accumulator] : llvm::zip_equal(outputs, accumulators)) {
      int64_t dim = region.chunkDims.lookup(output);
      auto type = cast<RankedTensorType>(output.getType());
      SmallVector<OpFoldResult> offsets, sizes, strides;
      chunkBox(builder, type, dim, offset, size, offsets, sizes, strides);
      updated.push_back(
          tensor::InsertSliceOp::create(builder, loc, mapping.lookup(output),
                                        accumulator, offsets, sizes, strides));
    }
    return updated;
  }

  /// Clones `op` for one chunk: its chunked results get the chunk's size,
  /// and the few ops whose attributes or operands encode positions along a
  /// dimension are adjusted.
  void cloneChunked(OpBuilder &builder, Operation *op, Value offset,
                    int64_t size, IRMapping &mapping) {
    Operation *clone = builder.clone(*op, mapping);
    for (auto [original, cloned] :
         llvm::zip_equal(op->getResults(), clone->getResults()))
      cloned.setType(withDimSize(cast<RankedTensorType>(original.getType()),
                                 region.chunkDims.lookup(original), size));
    if (auto slice = dyn_cast<graph::SliceOp>(clone)) {
      // A chunked slice dimension is a whole one: it ends at the chunk size.
      SmallVector<int64_t> limits(slice.getLimits());
      limits[region.chunkDims.lookup(op->getResult(0))] = size;
      slice.setLimits(limits);
    } else if (auto mask = dyn_cast<graph::CausalMaskOp>(clone)) {
      // The chunk's position in the full logits moves the diagonal.
      int64_t dim = region.chunkDims.lookup(op->getResult(0));
      int64_t rank = mask.getType().getRank();
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(mask);
      auto shifted = [&](Value existing) -> Value {
        if (!existing)
          return offset;
        return arith::AddIOp::create(builder, mask.getLoc(), existing, offset);
      };
      if (dim == rank - 2)
        mask.getRowOffsetMutable().assign(shifted(mask.getRowOffset()));
      else if (dim == rank - 1)
        mask.getColOffsetMutable().assign(shifted(mask.getColOffset()));
    } else if (auto attention = dyn_cast<graph::AttentionOp>(clone)) {
      // A chunk of query rows starts `offset` rows down the causal mask.
      int64_t dim = region.chunkDims.lookup(op->getResult(0));
      int64_t rank = attention.getType().getRank();
      if (attention.getCausal() && dim == rank - 2) {
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPoint(attention);
        Value rowOffset = offset;
        if (Value existing = attention.getRowOffset())
          rowOffset = arith::AddIOp::create(builder, attention.getLoc(),
                                            existing, offset);
        attention.getRowOffsetMutable().assign(rowOffset);
      }
    }
  }

  RewriterBase &rewriter;
  const ChunkRegion &region;
  llvm::SmallPtrSet<Operation *, 16> regionOps;
  /// The region's ops and the recomputed ones: everything cloned per chunk.
  llvm::SmallPtrSet<Operation *, 16> bodyOps;
  SmallVector<Value> inputs, outputs;
  /// Inputs whose buffer an output takes over: the output's index.
  llvm::SmallDenseMap<Value, size_t, 4> accumulatorOfInput;
};

} // namespace

bool autochunk::mayWriteOutputInPlace(const ChunkRegion &region, Value output,
                                      Value input, Operation *insertionPoint) {
  if (output.getType() != input.getType())
    return false;
  auto outputDim = region.chunkDims.find(output);
  auto inputDim = region.chunkDims.find(input);
  if (outputDim == region.chunkDims.end() ||
      inputDim == region.chunkDims.end() ||
      outputDim->second != inputDim->second)
    return false;
  Operation *definition = input.getDefiningOp();
  if (!definition || definition->hasTrait<OpTrait::ConstantLike>() ||
      isView(definition))
    return false;
  llvm::SmallPtrSet<Operation *, 16> body(region.ops.begin(), region.ops.end());
  body.insert(region.recomputedOps.begin(), region.recomputedOps.end());
  Block *block = insertionPoint->getBlock();
  // Another reader must be done before the loop starts overwriting. A view
  // of the input (a graph.reshape, or the slice an earlier chunk loop or its
  // remainder reads a chunk through) and the result of a loop that starts
  // from the input share its buffer: every reader of theirs must be done
  // before the loop too, and none may be in the body, which would read the
  // input's buffer itself rather than the loop-carried chunk.
  std::function<bool(OpOperand &)> doneBefore = [&](OpOperand &use) {
    Operation *user = use.getOwner();
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor || !ancestor->isBeforeInBlock(insertionPoint))
      return false;
    SmallVector<Value, 1> aliases;
    if (isView(user))
      aliases.append(user->result_begin(), user->result_end());
    else if (auto loop = dyn_cast<scf::ForOp>(user);
             loop && loop.getTiedLoopResult(&use))
      aliases.push_back(loop.getTiedLoopResult(&use));
    for (Value alias : aliases)
      for (OpOperand &aliasUse : alias.getUses())
        if (body.contains(aliasUse.getOwner()) || !doneBefore(aliasUse))
          return false;
    return true;
  };
  for (OpOperand &use : input.getUses()) {
    Operation *user = use.getOwner();
    if (!body.contains(user)) {
      if (!doneBefore(use))
        return false;
      continue;
    }
    // The original of an op the loop recomputes from `input` stays for its
    // other readers, so they must be done before the loop too: a later loop
    // that recomputes it as well would otherwise read the overwritten input.
    if (!llvm::is_contained(region.recomputedOps, user))
      continue;
    for (Value result : user->getResults())
      for (OpOperand &readerUse : result.getUses())
        if (!body.contains(readerUse.getOwner()) && !doneBefore(readerUse))
          return false;
  }
  return true;
}

FailureOr<ChunkLoop> autochunk::rewriteChunkRegion(RewriterBase &rewriter,
                                                   const ChunkRegion &region) {
  // The loop and its slices need these dialects, which a context that only
  // parsed graph ops may not have loaded yet.
  MLIRContext *context = rewriter.getContext();
  context->getOrLoadDialect<arith::ArithDialect>();
  context->getOrLoadDialect<scf::SCFDialect>();
  context->getOrLoadDialect<tensor::TensorDialect>();
  return RegionRewriter(rewriter, region).run();
}

SmallVector<size_t>
autochunk::chunkRewriteOrder(ArrayRef<ChunkRegion> regions) {
  size_t count = regions.size();
  DenseMap<Operation *, size_t> regionOf;
  for (auto [index, region] : llvm::enumerate(regions))
    for (Operation *op : region.ops)
      regionOf[op] = index;
  // feeds[a] holds b when an op of region b, or one it recomputes, reads a
  // result of region a.
  SmallVector<llvm::SmallDenseSet<size_t, 4>> feeds(count);
  for (auto [index, region] : llvm::enumerate(regions))
    for (ArrayRef<Operation *> ops :
         {ArrayRef<Operation *>(region.ops),
          ArrayRef<Operation *>(region.recomputedOps)})
      for (Operation *op : ops)
        for (Value operand : op->getOperands())
          if (Operation *producer = operand.getDefiningOp()) {
            auto it = regionOf.find(producer);
            if (it != regionOf.end() && it->second != index)
              feeds[it->second].insert(index);
          }
  // Depth first: consumers are emitted before their producers.
  SmallVector<size_t> order;
  SmallVector<char> done(count, 0);
  std::function<void(size_t)> visit = [&](size_t index) {
    if (done[index])
      return;
    done[index] = 1;
    for (size_t consumer : feeds[index])
      visit(consumer);
    order.push_back(index);
  };
  for (size_t index = 0; index < count; ++index)
    visit(index);
  return order;
}
