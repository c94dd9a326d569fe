//===- ChunkSearch.cpp - AutoChunk's liveness, region search and plan -----===//
//
// The search works on an abstract copy of the function's top-level graph
// ops: a plan (a set of disjoint regions) is evaluated without rewriting IR,
// by placing each region's loop where the rewrite would put it and sweeping
// buffer lifetimes. A loop's body scales linearly with its chunk size, so
// given a budget each loop's chunk size follows from the bytes live around
// it; the beam then only chooses regions.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Passes/ChunkSearch.h"

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

using namespace mlir;
using namespace autochunk;

int64_t autochunk::staticTensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return tensor.getNumElements() * static_cast<int64_t>(llvm::divideCeil(
                                       tensor.getElementTypeBitWidth(), 8));
}

namespace {

bool isElementwise(Operation *op) {
  return isa<graph::ExpOp, graph::SqrtOp, graph::RsqrtOp, graph::NegOp,
             graph::ReluOp, graph::SigmoidOp, graph::SiluOp, graph::TanhOp,
             graph::GeluOp, graph::ScaleOp, graph::AddOp, graph::SubOp,
             graph::MulOp, graph::DivOp, graph::CausalMaskOp>(op);
}

/// A graph op the lowering turns into a kernel call writing a fresh buffer
/// (the only producers whose buffer an elementwise consumer may overwrite).
bool isKernelOp(Operation *op) {
  return op && isa_and_nonnull<graph::GraphDialect>(op->getDialect()) &&
         !isa<graph::ConstantOp, graph::ReshapeOp, graph::SliceOp,
              graph::ConcatOp>(op);
}

bool isGraphView(Operation *op) {
  return isa<graph::ReshapeOp, graph::SliceOp>(op);
}

/// A static tensor.empty: the destination of a linalg op, a buffer with no
/// values yet. Dimension flow leaves it a barrier (it has no data to flow),
/// but any slice of it is the empty tensor of the slice's shape, so a region
/// takes it in with the ops that write it and the rewrite gives each clone
/// the chunk's type.
bool isStaticEmpty(Operation *op) {
  auto empty = dyn_cast_or_null<tensor::EmptyOp>(op);
  return empty && empty.getType().hasStaticShape();
}

/// How `op` runs on chunks when its result `result` is chunked along `dim`:
/// the dimension flow's answer, and for a static tensor.empty any dimension
/// from nothing.
FailureOr<OpChunking> chunkResult(Operation *op, unsigned result, int64_t dim) {
  if (isStaticEmpty(op)) {
    OpChunking chunking;
    chunking.resultDims.push_back(dim);
    return chunking;
  }
  return chunkAlongResultDim(op, result, dim);
}

/// Whether `op` computes something a chunk loop is worth running for: a
/// kernel-making graph op or a linalg op (not a view, constant or empty
/// destination).
bool computes(Operation *op) {
  return isKernelOp(op) || isa<linalg::LinalgOp, linalg::SoftmaxOp>(op);
}

/// Ops a region may hold although they hold regions: linalg ops, whose
/// region is the scalar body of their loop nest, not control flow.
bool hasOnlyPayloadRegions(Operation *op) {
  return op->getNumRegions() == 0 || isa<linalg::LinalgOp>(op);
}

/// The destination a linalg op (destination-passing style, on tensors)
/// writes `result` into, when bufferization will write it in place: the
/// tied init, when this op is its only reader. A null value otherwise (the
/// result then gets a buffer of its own).
Value inPlaceDestination(OpResult result) {
  auto dps = dyn_cast<DestinationStyleOpInterface>(result.getOwner());
  if (!dps || !dps.hasPureTensorSemantics() ||
      !isa<linalg::LinalgOp, linalg::SoftmaxOp>(result.getOwner()))
    return Value();
  Value init = dps.getDpsInitOperand(result.getResultNumber())->get();
  if (!init.hasOneUse())
    return Value();
  return init;
}

/// The operands `op` could compute in place into, in the lowering's order of
/// preference: same type as the result, produced by a kernel op, no other
/// user. Whether the producer is still a kernel op in a plan is checked by
/// the caller.
SmallVector<unsigned, 2> inPlaceCandidates(Operation *op) {
  SmallVector<unsigned, 2> candidates;
  if (!isElementwise(op) || op->getNumResults() != 1)
    return candidates;
  Type resultType = op->getResult(0).getType();
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    if (operand.getType() != resultType || !isKernelOp(operand.getDefiningOp()))
      continue;
    if (llvm::all_of(operand.getUsers(),
                     [&](Operation *user) { return user == op; }))
      candidates.push_back(index);
  }
  return candidates;
}

/// A tensor.extract_slice of an scf.for's loop-carried value.
bool isSliceOfLoopCarried(Operation *op) {
  auto slice = dyn_cast<tensor::ExtractSliceOp>(op);
  if (!slice)
    return false;
  auto carried = dyn_cast<BlockArgument>(slice.getSource());
  auto loop = carried ? dyn_cast<scf::ForOp>(carried.getOwner()->getParentOp())
                      : scf::ForOp();
  return loop && carried.getArgNumber() >= loop.getNumInductionVars();
}

} // namespace

//===----------------------------------------------------------------------===//
// Liveness of IR
//===----------------------------------------------------------------------===//

Liveness autochunk::computeLiveness(func::FuncOp func) {
  Liveness result;
  if (func.isExternal())
    return result;
  DenseMap<Operation *, int64_t> start, end;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op == func.getOperation())
      return;
    start[op] = static_cast<int64_t>(result.ops.size());
    result.ops.push_back(op);
  });
  // The end of an op is the position of the last op nested in it.
  for (Operation *op : llvm::reverse(result.ops)) {
    int64_t last = start[op];
    for (mlir::Region &region : op->getRegions())
      for (Block &block : region)
        if (!block.empty())
          last = std::max(last, end.lookup(&block.back()));
    end[op] = last;
  }

  struct Buffer {
    int64_t bytes, first, last;
    Operation *definition;
  };
  SmallVector<Buffer> buffers;
  DenseMap<Value, int> bufferOf; // -1: no buffer (arguments, constants)
  auto lookup = [&](Value value) {
    auto it = bufferOf.find(value);
    return it == bufferOf.end() ? -1 : it->second;
  };
  auto fresh = [&](Value value, Operation *op) {
    bufferOf[value] = static_cast<int>(buffers.size());
    buffers.push_back(
        {staticTensorBytes(value.getType()), start[op], start[op], op});
  };
  for (Operation *op : result.ops) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      for (auto [init, iterArg, loopResult] :
           llvm::zip_equal(loop.getInitArgs(), loop.getRegionIterArgs(),
                           loop.getResults())) {
        bufferOf[iterArg] = lookup(init);
        bufferOf[loopResult] = lookup(init);
      }
      continue;
    }
    for (Value value : op->getResults()) {
      if (!isa<RankedTensorType>(value.getType()))
        continue;
      if (isa<graph::ConstantOp, arith::ConstantOp>(op)) {
        bufferOf[value] = -1;
      } else if (isSliceOfLoopCarried(op)) {
        // A loop that writes its output over an input reads each chunk of
        // it from the carried value; bufferization copies the chunk (it
        // cannot tell that each element is read before it is written).
        fresh(value, op);
      } else if (isGraphView(op) ||
                 isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
                     tensor::ExpandShapeOp, tensor::CastOp>(op)) {
        bufferOf[value] = lookup(op->getOperand(0));
      } else if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
        bufferOf[value] = lookup(insert.getDest());
      } else if (Value destination = inPlaceDestination(cast<OpResult>(value));
                 destination && lookup(destination) >= 0) {
        bufferOf[value] = lookup(destination);
      } else if (SmallVector<unsigned, 2> inPlace = inPlaceCandidates(op);
                 !inPlace.empty()) {
        bufferOf[value] = lookup(op->getOperand(inPlace.front()));
      } else {
        fresh(value, op);
      }
    }
  }

  Operation *terminator = func.getBody().back().getTerminator();
  int64_t lastPosition = static_cast<int64_t>(result.ops.size()) - 1;
  for (auto [value, index] : bufferOf) {
    if (index < 0)
      continue;
    Buffer &buffer = buffers[index];
    for (Operation *user : value.getUsers()) {
      if (user == terminator) {
        buffer.last = lastPosition;
        continue;
      }
      int64_t position = start.lookup(user);
      // A use inside a loop the buffer was not created in happens on every
      // iteration.
      for (Operation *parent = user->getParentOp();
           parent && parent != func.getOperation();
           parent = parent->getParentOp())
        if (isa<LoopLikeOpInterface>(parent) &&
            !parent->isAncestor(buffer.definition))
          position = std::max(position, end.lookup(parent));
      buffer.last = std::max(buffer.last, position);
    }
  }

  SmallVector<int64_t> delta(result.ops.size() + 1, 0);
  for (const Buffer &buffer : buffers) {
    delta[buffer.first] += buffer.bytes;
    delta[buffer.last + 1] -= buffer.bytes;
  }
  int64_t live = 0;
  for (auto [index, op] : llvm::enumerate(result.ops)) {
    live += delta[index];
    result.liveBytes.push_back(live);
    if (live > result.peakBytes) {
      result.peakBytes = live;
      result.peakOp = op;
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Budgets
//===----------------------------------------------------------------------===//

FailureOr<int64_t> autochunk::parseMemoryBudget(StringRef text,
                                                int64_t unchunkedPeak,
                                                std::string *error) {
  auto fail = [&](const Twine &why) -> FailureOr<int64_t> {
    if (error)
      *error = ("invalid memory budget '" + text + "': " + why).str();
    return failure();
  };
  StringRef trimmed = text.trim();
  if (trimmed.empty())
    return fail("expected bytes, a size such as 512MiB, or a fraction such "
                "as 0.3x");
  if (trimmed.consume_back("x") || trimmed.consume_back("X")) {
    double fraction = 0;
    if (trimmed.getAsDouble(fraction) || !std::isfinite(fraction))
      return fail("expected a number before 'x'");
    if (fraction <= 0)
      return fail("the fraction must be positive");
    int64_t bytes = static_cast<int64_t>(
        std::floor(fraction * static_cast<double>(unchunkedPeak)));
    if (bytes <= 0)
      return fail("it is less than one byte of the unchunked peak of " +
                  Twine(unchunkedPeak) + " bytes");
    return bytes;
  }
  static const std::pair<StringRef, double> units[] = {
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"B", 1.0}};
  double scale = 1.0;
  for (auto [suffix, factor] : units)
    if (trimmed.consume_back(suffix)) {
      scale = factor;
      break;
    }
  trimmed = trimmed.trim();
  double amount = 0;
  if (trimmed.empty() || trimmed.getAsDouble(amount) || !std::isfinite(amount))
    return fail("expected bytes, a size such as 512MiB, or a fraction such "
                "as 0.3x");
  double bytes = std::floor(amount * scale);
  if (bytes < 1)
    return fail("the budget must be at least one byte");
  if (bytes > 9.0e18)
    return fail("the budget is too large");
  return static_cast<int64_t>(bytes);
}

//===----------------------------------------------------------------------===//
// The abstract function and plan evaluation
//===----------------------------------------------------------------------===//

namespace {

struct ValueInfo {
  Value value;
  int producer = -1; ///< top-level op index; -1 for a function argument
  unsigned resultIndex = 0;
  int64_t bytes = 0;
  SmallVector<int64_t, 4> shape;
  SmallVector<int, 2> users; ///< top-level op indices, without repeats
  bool returned = false;
  bool holdsNoBuffer = false; ///< an argument or a constant
  int viewSource = -1;        ///< value id, for graph.reshape / graph.slice
};

struct OpInfo {
  Operation *op = nullptr;
  SmallVector<int, 3> operands; ///< value ids; -1 for non-tensor operands
  SmallVector<int, 1> results;
  SmallVector<int, 2> inPlaceOperands; ///< value ids, preferred first
  double seconds = 0;
};

/// A candidate region over the abstract function.
struct CandidateRegion {
  SmallVector<int> ops;              ///< top-level op indices, ascending
  llvm::DenseMap<int, int64_t> dims; ///< value id -> chunk dim
  int64_t extent = 0;
  int seed = -1;
  int64_t seedDim = 0;
  SmallVector<int> inputs, outputs;
  /// (output, input) value ids: the loop writes the output into the
  /// input's buffer (mayWriteOutputInPlace), when the input's other readers
  /// all run before the loop in the evaluated plan.
  SmallVector<std::pair<int, int>, 2> inPlace;
  /// Top-level op indices (ascending) outside the region whose results the
  /// region reads sliced; every iteration recomputes their chunk from their
  /// own sliced operands (ChunkRegion::recomputedOps).
  SmallVector<int, 2> recomputed;
  int64_t bodyBytesPerRow = 0;
  double secondsBefore = 0;
  std::map<int64_t, double> secondsByChunk;
};

struct Eval {
  bool valid = false;
  int64_t peak = 0;
  int peakOp = -1;     ///< top-level op index at the peak, or
  int peakRegion = -1; ///< the region (pool id) whose loop is the peak
  double seconds = 0;
  int64_t watched = 0;
  SmallVector<int64_t> chunkSizes, loopBase, loopPeak; ///< per state region
};

struct State {
  SmallVector<int> regions; ///< pool ids, ascending
  Eval eval;
  /// Whether the step that made this state dropped a region it only partly
  /// overlapped (such a step must lower the peak, so the search cannot
  /// cycle).
  bool displaced = false;
};

} // namespace

struct ChunkSearch::Impl {
  func::FuncOp func;
  Target target;
  SearchOptions options;
  SmallVector<OpInfo> ops;
  SmallVector<ValueInfo> values;
  DenseMap<Value, int> valueIds;
  std::vector<CandidateRegion> pool;
  llvm::StringMap<int> poolKeys;
  std::map<std::tuple<int, int64_t, unsigned, bool>, int> growthCache;
  /// Per pool id: the sub-regions trimRegion derived from it.
  DenseMap<int, SmallVector<int, 4>> trimCache;
  /// Per pool id: its recomputing variant (recomputeVariant), or -1.
  DenseMap<int, int> recomputeCache;
  /// Whether candidates include recomputing variants (select varies it).
  bool allowRecompute = true;
  double baseSeconds = 0;
  Eval baseEval;
  SmallVector<int64_t> baseLiveAtOp;

  // Scratch of the latest evaluation (for seeds at its peak).
  SmallVector<int> regionOf; ///< per op: index into the state's regions
  SmallVector<int> rootOf;   ///< per value: buffer root id, -1 none
  SmallVector<int64_t> first, last, position;
  SmallVector<int64_t> loopPosition;

  Impl(func::FuncOp func, const Target &target, SearchOptions options)
      : func(func), target(target), options(std::move(options)) {
    build();
    regionOf.assign(ops.size(), -1);
    baseEval = evaluate({}, -1, -1, -1, &baseLiveAtOp);
  }

  int valueId(Value value) {
    auto it = valueIds.find(value);
    return it == valueIds.end() ? -1 : it->second;
  }

  void addValue(Value value, int producer, unsigned resultIndex) {
    ValueInfo info;
    info.value = value;
    info.producer = producer;
    info.resultIndex = resultIndex;
    info.bytes = staticTensorBytes(value.getType());
    auto type = cast<RankedTensorType>(value.getType());
    info.shape.assign(type.getShape().begin(), type.getShape().end());
    valueIds[value] = static_cast<int>(values.size());
    values.push_back(info);
  }

  void build() {
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();
    for (BlockArgument argument : body.getArguments())
      if (isa<RankedTensorType>(argument.getType())) {
        addValue(argument, -1, 0);
        values.back().holdsNoBuffer = true;
      }
    DenseMap<Operation *, int> opIndex;
    for (Operation &op : body.without_terminator()) {
      int index = static_cast<int>(ops.size());
      opIndex[&op] = index;
      OpInfo info;
      info.op = &op;
      ops.push_back(info);
      for (OpResult result : op.getResults())
        if (isa<RankedTensorType>(result.getType())) {
          addValue(result, index, result.getResultNumber());
          ops.back().results.push_back(valueIds[result]);
          ValueInfo &value = values.back();
          if (isa<graph::ConstantOp, arith::ConstantOp>(op))
            value.holdsNoBuffer = true;
          else if (isGraphView(&op))
            value.viewSource = valueId(op.getOperand(0));
          else if (Value destination = inPlaceDestination(result);
                   destination && valueIds.count(destination) &&
                   !values[valueId(destination)].holdsNoBuffer)
            value.viewSource = valueId(destination);
        }
    }
    Operation *terminator = body.getTerminator();
    for (OpInfo &info : ops) {
      for (Value operand : info.op->getOperands())
        info.operands.push_back(valueId(operand));
      for (unsigned index : inPlaceCandidates(info.op))
        info.inPlaceOperands.push_back(valueId(info.op->getOperand(index)));
      info.seconds = predictSeconds(estimateOpCost(info.op), target);
      baseSeconds += info.seconds;
    }
    for (ValueInfo &value : values)
      for (Operation *user : value.value.getUsers()) {
        if (user == terminator) {
          value.returned = true;
          continue;
        }
        Operation *ancestor = body.findAncestorOpInBlock(*user);
        int index = ancestor ? opIndex.lookup(ancestor) : -1;
        if (ancestor && !llvm::is_contained(value.users, index))
          value.users.push_back(index);
      }
  }

  //===--------------------------------------------------------------------===//
  // Evaluation
  //===--------------------------------------------------------------------===//

  /// Evaluates the plan of `regionIds`: chunk sizes from `budget` (-1: chunk
  /// size 1 everywhere), the peak and the time. `watchOp` / `watchRegion`
  /// name an item whose live bytes come back in `watched`.
  Eval evaluate(ArrayRef<int> regionIds, int64_t budget, int watchOp,
                int watchRegion, SmallVectorImpl<int64_t> *liveAtOp = nullptr) {
    Eval eval;
    size_t numRegions = regionIds.size();
    for (auto [index, id] : llvm::enumerate(regionIds))
      for (int op : pool[id].ops)
        regionOf[op] = static_cast<int>(index);
    llvm::scope_exit cleanup([&] {
      for (int id : regionIds)
        for (int op : pool[id].ops)
          regionOf[op] = -1;
    });

    // Where each loop goes: before the first outside user of its outputs
    // ("slot" 2i is just before op i), or after its last op.
    SmallVector<int64_t> slot(numRegions, -1), depth(numRegions, -1);
    SmallVector<char> visiting(numRegions, 0);
    bool cyclic = false;
    std::function<int64_t(int)> slotOf = [&](int r) -> int64_t {
      if (slot[r] >= 0)
        return slot[r];
      if (visiting[r]) {
        cyclic = true;
        return 0;
      }
      visiting[r] = 1;
      const CandidateRegion &region = pool[regionIds[r]];
      int64_t best = 2 * int64_t(region.ops.back()) + 2;
      for (int output : region.outputs)
        for (int user : values[output].users) {
          if (regionOf[user] == r)
            continue;
          best = std::min(best, regionOf[user] >= 0 ? slotOf(regionOf[user])
                                                    : 2 * int64_t(user));
        }
      visiting[r] = 0;
      return slot[r] = best;
    };
    std::function<int64_t(int)> depthOf = [&](int r) -> int64_t {
      if (depth[r] >= 0)
        return depth[r];
      if (visiting[r]) {
        cyclic = true;
        return 0;
      }
      visiting[r] = 1;
      int64_t best = 0;
      for (int input : pool[regionIds[r]].inputs) {
        int producer = values[input].producer;
        if (producer >= 0 && regionOf[producer] >= 0)
          best = std::max(best, depthOf(regionOf[producer]) + 1);
      }
      visiting[r] = 0;
      return depth[r] = best;
    };
    for (size_t r = 0; r < numRegions; ++r) {
      slotOf(static_cast<int>(r));
      depthOf(static_cast<int>(r));
    }
    if (cyclic)
      return eval;

    // Linear positions: ops outside regions and loops, in program order.
    SmallVector<int> loopOrder;
    for (size_t r = 0; r < numRegions; ++r)
      loopOrder.push_back(static_cast<int>(r));
    llvm::sort(loopOrder, [&](int a, int b) {
      return std::tie(slot[a], depth[a]) < std::tie(slot[b], depth[b]);
    });
    position.assign(ops.size(), -1);
    loopPosition.assign(numRegions, -1);
    int64_t next = 0;
    size_t nextLoop = 0;
    for (size_t op = 0; op <= ops.size(); ++op) {
      while (nextLoop < loopOrder.size() &&
             slot[loopOrder[nextLoop]] <= 2 * int64_t(op))
        loopPosition[loopOrder[nextLoop++]] = next++;
      if (op < ops.size() && regionOf[op] < 0)
        position[op] = next++;
    }
    int64_t endPosition = next;
    auto positionOf = [&](int op) {
      return regionOf[op] >= 0 ? loopPosition[regionOf[op]] : position[op];
    };

    // Every input must exist before its loop starts.
    for (size_t r = 0; r < numRegions; ++r)
      for (int input : pool[regionIds[r]].inputs) {
        int producer = values[input].producer;
        if (producer >= 0 && positionOf(producer) >= loopPosition[r])
          return eval;
      }

    // Values whose chunks a loop recomputes (its reads of them are not
    // reads of their buffers), and the loops that read the recomputed ops'
    // operands instead.
    llvm::DenseSet<std::pair<int, int>> recomputedIn; // (loop, value)
    DenseMap<int, SmallVector<int, 2>> recomputeReaders;
    for (size_t r = 0; r < numRegions; ++r)
      for (int op : pool[regionIds[r]].recomputed) {
        // A recomputed op another loop runs would change that loop's outputs
        // (the rewrite would clone an op whose original is gone).
        if (regionOf[op] >= 0)
          return eval;
        for (int result : ops[op].results)
          recomputedIn.insert({static_cast<int>(r), result});
        for (int operand : ops[op].operands)
          if (operand >= 0)
            recomputeReaders[operand].push_back(static_cast<int>(r));
      }
    auto readsBuffer = [&](int user, int value) {
      return regionOf[user] < 0 ||
             !recomputedIn.contains({regionOf[user], value});
    };

    // Buffers and their lifetimes.
    rootOf.assign(values.size(), -1);
    first.assign(values.size(), 0);
    last.assign(values.size(), 0);
    for (auto [id, value] : llvm::enumerate(values)) {
      if (value.holdsNoBuffer)
        continue;
      int producer = value.producer;
      int region = regionOf[producer];
      int root = static_cast<int>(id);
      if (region >= 0) {
        const CandidateRegion &candidate = pool[regionIds[region]];
        if (!llvm::is_contained(candidate.outputs, int(id)))
          continue; // lives only in the loop's body
        int partner = inPlacePartner(candidate, static_cast<int>(id), region,
                                     positionOf, recomputeReaders);
        if (partner >= 0 && rootOf[partner] >= 0)
          root = rootOf[partner];
      } else if (value.viewSource >= 0) {
        root = rootOf[value.viewSource];
      } else {
        // A value every reader of which recomputes it is never needed.
        if (!recomputedIn.empty() && !value.returned && !value.users.empty() &&
            llvm::none_of(value.users, [&](int user) {
              return readsBuffer(user, static_cast<int>(id));
            }))
          continue;
        for (int operand : ops[producer].inPlaceOperands)
          if (regionOf[values[operand].producer] < 0) {
            root = rootOf[operand];
            break;
          }
      }
      rootOf[id] = root;
      if (root < 0)
        continue;
      if (root == static_cast<int>(id))
        first[id] = last[id] = positionOf(producer);
      int64_t end = last[root];
      for (int user : value.users)
        if (readsBuffer(user, static_cast<int>(id)))
          end = std::max(end, positionOf(user));
      if (value.returned)
        end = endPosition;
      last[root] = end;
    }
    // A recomputing loop reads the recomputed ops' operands.
    for (auto &[operand, readers] : recomputeReaders) {
      int root = rootOf[operand];
      if (root >= 0)
        for (int reader : readers)
          last[root] = std::max(last[root], loopPosition[reader]);
    }
    SmallVector<int64_t> live(endPosition + 2, 0);
    for (size_t id = 0; id < values.size(); ++id)
      if (rootOf[id] == static_cast<int>(id)) {
        live[first[id]] += values[id].bytes;
        live[last[id] + 1] -= values[id].bytes;
      }
    for (int64_t p = 1; p <= endPosition; ++p)
      live[p] += live[p - 1];

    eval.valid = true;
    eval.seconds = baseSeconds;
    for (size_t op = 0; op < ops.size(); ++op)
      if (regionOf[op] < 0 && live[position[op]] > eval.peak) {
        eval.peak = live[position[op]];
        eval.peakOp = static_cast<int>(op);
      }
    for (size_t r = 0; r < numRegions; ++r) {
      CandidateRegion &region = pool[regionIds[r]];
      int64_t base = live[loopPosition[r]];
      int64_t chunk = 1;
      if (budget >= 0 && region.bodyBytesPerRow > 0 && budget > base)
        chunk = (budget - base) / region.bodyBytesPerRow;
      chunk = std::clamp<int64_t>(chunk, 1, region.extent - 1);
      int64_t loopPeak = base + chunk * region.bodyBytesPerRow;
      eval.chunkSizes.push_back(chunk);
      eval.loopBase.push_back(base);
      eval.loopPeak.push_back(loopPeak);
      if (loopPeak > eval.peak) {
        eval.peak = loopPeak;
        eval.peakOp = -1;
        eval.peakRegion = regionIds[r];
      }
      if (regionIds[r] == watchRegion)
        eval.watched = loopPeak;
      eval.seconds += chunkedSeconds(region, chunk) - region.secondsBefore;
    }
    if (watchOp >= 0)
      eval.watched = regionOf[watchOp] >= 0 ? eval.loopPeak[regionOf[watchOp]]
                                            : live[position[watchOp]];
    if (eval.peakOp >= 0)
      eval.peakRegion = -1;
    if (liveAtOp) {
      liveAtOp->assign(ops.size(), 0);
      for (size_t op = 0; op < ops.size(); ++op)
        (*liveAtOp)[op] = regionOf[op] >= 0 ? eval.loopPeak[regionOf[op]]
                                            : live[position[op]];
    }
    return eval;
  }

  /// Appends the values that share `source`'s buffer through top-level op
  /// `op` (a graph view, or a linalg result written into its init), and the
  /// views of those in turn through ops outside the evaluated plan's loops
  /// (a loop's output is a fresh buffer). Nothing when `op` makes no view.
  void collectViews(int op, int source, SmallVectorImpl<int> &views) const {
    for (int result : ops[op].results) {
      if (values[result].viewSource != source)
        continue;
      views.push_back(result);
      for (int reader : values[result].users)
        if (regionOf[reader] < 0)
          collectViews(reader, result, views);
    }
  }

  /// The input whose buffer region output `output` takes over in a plan
  /// where the region's loop is `loop` (every other reader of the input must
  /// run before the loop); -1 for none.
  template <typename PositionFn>
  int inPlacePartner(
      const CandidateRegion &region, int output, int loop,
      PositionFn positionOf,
      const DenseMap<int, SmallVector<int, 2>> &recomputeReaders) const {
    // A reader outside the loop must run before it; a view outside every
    // loop must have all its readers before it too, none of them this loop
    // (it would read the input's buffer, not the loop-carried chunk).
    auto readsAfter = [&](int user, int source) {
      if (regionOf[user] == loop)
        return false;
      if (positionOf(user) >= loopPosition[loop])
        return true;
      if (regionOf[user] >= 0)
        return false;
      SmallVector<int, 2> views;
      collectViews(user, source, views);
      for (int view : views) {
        if (values[view].returned)
          return true;
        for (int reader : values[view].users)
          if (regionOf[reader] == loop ||
              positionOf(reader) >= loopPosition[loop])
            return true;
        auto readers = recomputeReaders.find(view);
        if (readers != recomputeReaders.end())
          for (int reader : readers->second)
            if (loopPosition[reader] >= loopPosition[loop])
              return true;
      }
      return false;
    };
    for (auto [candidateOutput, input] : region.inPlace) {
      if (candidateOutput != output)
        continue;
      for (int user : values[input].users)
        if (readsAfter(user, input))
          return -1;
      // The original of an op the loop recomputes from the input stays for
      // its other readers; none may come after the loop (a later loop that
      // recomputes it too would read the overwritten input), as
      // mayWriteOutputInPlace requires.
      for (int recomputed : region.recomputed) {
        if (!llvm::is_contained(ops[recomputed].operands, input))
          continue;
        for (int result : ops[recomputed].results) {
          if (values[result].returned)
            return -1;
          for (int user : values[result].users)
            if (readsAfter(user, result))
              return -1;
        }
      }
      auto readers = recomputeReaders.find(input);
      if (readers != recomputeReaders.end())
        for (int reader : readers->second)
          if (reader != loop && loopPosition[reader] >= loopPosition[loop])
            return -1;
      return input;
    }
    return -1;
  }

  /// The producer of region input `input` (chunked as `dims` says) that a
  /// loop may recompute chunk by chunk, and the dimensions of its operands
  /// to slice; -1 when none. Only cheap row-wise ops (a layer norm, an
  /// elementwise op) whose other operands hold no buffer (weights) qualify:
  /// recomputing them costs little and keeps no other activation alive.
  /// A recomputing loop keeps the sliced operands alive instead of the
  /// result, so each must be live anyway: an argument, or a buffer read
  /// again after the producer (the residual a layer norm normalizes, which
  /// the residual add reads). Recomputing a residual add from the update it
  /// consumes would only trade one full buffer for another. `dims` are the
  /// region's chunk dimensions, `inputs` its inputs (an input without a
  /// dimension is used whole).
  int recomputableProducer(int input, const llvm::DenseMap<int, int64_t> &dims,
                           ArrayRef<int> inputs,
                           SmallVectorImpl<std::pair<int, int64_t>> &sliced) {
    const ValueInfo &value = values[input];
    auto dim = dims.find(input);
    if (dim == dims.end() || value.producer < 0 || value.returned)
      return -1;
    Operation *producer = ops[value.producer].op;
    if (producer->getNumResults() != 1 ||
        !(isa<graph::LayerNormOp>(producer) ||
          (isElementwise(producer) && !isa<graph::CausalMaskOp>(producer))))
      return -1;
    FailureOr<OpChunking> chunking =
        chunkAlongResultDim(producer, value.resultIndex, dim->second);
    if (failed(chunking))
      return -1;
    for (auto [index, operandDim] : llvm::enumerate(chunking->operandDims)) {
      int operand = ops[value.producer].operands[index];
      if (operand < 0)
        return -1;
      if (!operandDim) {
        if (!values[operand].holdsNoBuffer)
          return -1;
        continue;
      }
      const ValueInfo &operandValue = values[operand];
      if (!operandValue.holdsNoBuffer && !operandValue.returned &&
          llvm::none_of(operandValue.users,
                        [&](int user) { return user > value.producer; }))
        return -1;
      auto known = dims.find(operand);
      bool usedWhole =
          known == dims.end() && llvm::is_contained(inputs, operand);
      if ((known != dims.end() && known->second != *operandDim) || usedWhole ||
          values[operand].shape[*operandDim] !=
              values[input].shape[dim->second])
        return -1;
      sliced.push_back({operand, *operandDim});
    }
    return value.producer;
  }

  /// The variant of region `id` that recomputes its recomputable inputs
  /// (recomputableProducer); -1 when it has none.
  int recomputeVariant(int id) {
    auto cached = recomputeCache.find(id);
    if (cached != recomputeCache.end())
      return cached->second;
    CandidateRegion variant;
    variant.ops = pool[id].ops;
    variant.dims = pool[id].dims;
    variant.extent = pool[id].extent;
    variant.seed = pool[id].seed;
    variant.seedDim = pool[id].seedDim;
    variant.inputs = pool[id].inputs;
    for (int input : pool[id].inputs) {
      SmallVector<std::pair<int, int64_t>, 2> sliced;
      int producer =
          recomputableProducer(input, variant.dims, variant.inputs, sliced);
      if (producer < 0 || llvm::is_contained(variant.recomputed, producer))
        continue;
      variant.recomputed.push_back(producer);
      for (auto [operand, dim] : sliced)
        variant.dims[operand] = dim;
    }
    int result = -1;
    if (!variant.recomputed.empty()) {
      llvm::sort(variant.recomputed);
      result = finishRegion(std::move(variant));
    }
    recomputeCache[id] = result;
    return result;
  }

  /// The (output, input) pairs of a region of `regionOps` (ascending) chunked
  /// as `dims` that may share a buffer: the abstract form of
  /// mayWriteOutputInPlace, whose rewrite makes the same choice (each output
  /// takes the first such input, in the order the region reads them).
  SmallVector<std::pair<int, int>, 2>
  findInPlacePairs(ArrayRef<int> regionOps,
                   const llvm::DenseMap<int, int64_t> &dims,
                   ArrayRef<int> recomputedOps = {}) const {
    SmallVector<std::pair<int, int>, 2> pairs;
    llvm::SmallDenseSet<int, 16> members(regionOps.begin(), regionOps.end());
    llvm::SetVector<int> inputs;
    SmallVector<int> outputs;
    for (int op : recomputedOps)
      for (int operand : ops[op].operands)
        if (operand >= 0)
          inputs.insert(operand);
    // A recomputed op's result is no input: its chunk is computed in the
    // body, its buffer (if any) is not the loop's to overwrite.
    auto isInput = [&](int operand) {
      int producer = values[operand].producer;
      return producer < 0 || (!members.contains(producer) &&
                              !llvm::is_contained(recomputedOps, producer));
    };
    for (int op : regionOps) {
      for (int operand : ops[op].operands)
        if (operand >= 0 && isInput(operand))
          inputs.insert(operand);
      for (int result : ops[op].results) {
        const ValueInfo &value = values[result];
        if (value.returned || llvm::any_of(value.users, [&](int user) {
              return !members.contains(user);
            }))
          outputs.push_back(result);
      }
    }
    llvm::SmallDenseSet<int, 4> taken;
    for (int output : outputs) {
      auto outputDim = dims.find(output);
      if (outputDim == dims.end())
        continue;
      for (int input : inputs) {
        const ValueInfo &value = values[input];
        auto inputDim = dims.find(input);
        if (taken.contains(input) || inputDim == dims.end() ||
            inputDim->second != outputDim->second || value.producer < 0 ||
            value.holdsNoBuffer || value.viewSource >= 0 || value.returned ||
            isGraphView(ops[value.producer].op) ||
            value.value.getType() != values[output].value.getType())
          continue;
        // A view of the input is read through: its readers must all come
        // before the loop, and none may be in the body (mayWriteOutputInPlace).
        auto readAfter = [&](int user, int source) {
          if (members.contains(user))
            return false;
          if (user > regionOps.back())
            return true;
          SmallVector<int, 2> views;
          collectViews(user, source, views);
          return llvm::any_of(views, [&](int view) {
            return values[view].returned ||
                   llvm::any_of(values[view].users, [&](int reader) {
                     return reader > regionOps.back() ||
                            members.contains(reader) ||
                            llvm::is_contained(recomputedOps, reader);
                   });
          });
        };
        bool readLater = llvm::any_of(
            value.users, [&](int user) { return readAfter(user, input); });
        // So is a recomputed op's result (mayWriteOutputInPlace).
        for (int recomputed : recomputedOps)
          if (llvm::is_contained(ops[recomputed].operands, input))
            for (int result : ops[recomputed].results)
              readLater |= values[result].returned ||
                           llvm::any_of(values[result].users, [&](int user) {
                             return readAfter(user, result);
                           });
        if (readLater)
          continue;
        taken.insert(input);
        pairs.push_back({output, input});
        break;
      }
    }
    return pairs;
  }

  double chunkedSeconds(CandidateRegion &region, int64_t chunk) {
    auto it = region.secondsByChunk.find(chunk);
    if (it != region.secondsByChunk.end())
      return it->second;
    ChunkRegion ir = toChunkRegion(region, chunk);
    double seconds = predictChunkedSeconds(ir.ops, ir.chunkDims, ir.extent,
                                           chunk, target, ir.recomputedOps);
    region.secondsByChunk[chunk] = seconds;
    return seconds;
  }

  ChunkRegion toChunkRegion(const CandidateRegion &region,
                            int64_t chunk) const {
    ChunkRegion ir;
    for (int op : region.ops)
      ir.ops.push_back(ops[op].op);
    for (int op : region.recomputed)
      ir.recomputedOps.push_back(ops[op].op);
    for (auto [value, dim] : region.dims)
      ir.chunkDims[values[value].value] = dim;
    ir.extent = region.extent;
    ir.chunkSize = chunk;
    return ir;
  }

  /// Buffer roots live at the peak of the latest evaluation (which must be
  /// of the state being expanded), largest first, that may seed a region.
  SmallVector<int> seedsAtPeak(const Eval &eval, ArrayRef<int> regionIds,
                               ArrayRef<int> taken) const {
    int64_t at = -1;
    if (eval.peakOp >= 0)
      at = position[eval.peakOp];
    else
      for (auto [index, id] : llvm::enumerate(regionIds))
        if (id == eval.peakRegion)
          at = loopPosition[index];
    SmallVector<int> seeds;
    for (size_t id = 0; id < values.size(); ++id)
      if (rootOf[id] == static_cast<int>(id) && first[id] <= at &&
          at <= last[id] && taken[values[id].producer] < 0)
        seeds.push_back(static_cast<int>(id));
    llvm::stable_sort(
        seeds, [&](int a, int b) { return values[a].bytes > values[b].bytes; });
    if (seeds.size() > options.seedsPerPeak)
      seeds.resize(options.seedsPerPeak);
    return seeds;
  }

  //===--------------------------------------------------------------------===//
  // CandidateRegion growth
  //===--------------------------------------------------------------------===//

  struct Growth {
    Impl &impl;
    CandidateRegion region;
    llvm::SmallDenseSet<int, 16> members;
    llvm::SmallDenseSet<int, 16> wholeUses;
    ArrayRef<int> forbidden; ///< per op, >= 0 when taken by another region

    bool isMember(int op) const { return members.contains(op); }

    /// True when adding `candidate` keeps the region convex: no path from
    /// the region through outside ops back into it.
    bool staysConvex(int candidate) const {
      int hi = candidate, lo = candidate;
      for (int op : region.ops) {
        hi = std::max(hi, op);
        lo = std::min(lo, op);
      }
      auto inside = [&](int op) { return op == candidate || isMember(op); };
      SmallVector<int> worklist;
      llvm::SmallDenseSet<int, 32> seen;
      auto pushUsersOf = [&](int op, bool fromInside) {
        for (int result : impl.ops[op].results)
          for (int user : impl.values[result].users) {
            if (user > hi)
              continue;
            if (inside(user)) {
              if (!fromInside)
                worklist.push_back(-1); // outside path re-entered
              continue;
            }
            if (seen.insert(user).second)
              worklist.push_back(user);
          }
      };
      for (int op = lo; op <= hi; ++op)
        if (inside(op))
          pushUsersOf(op, true);
      while (!worklist.empty()) {
        int op = worklist.pop_back_val();
        if (op < 0)
          return false;
        pushUsersOf(op, false);
      }
      return true;
    }

    bool tryAdd(int opIndex, const OpChunking &chunking) {
      if (isMember(opIndex) || forbidden[opIndex] >= 0 ||
          region.ops.size() >= impl.options.maxRegionOps)
        return false;
      const OpInfo &info = impl.ops[opIndex];
      if (!hasOnlyPayloadRegions(info.op))
        return false;
      bool anySliced = false;
      for (auto [index, dim] : llvm::enumerate(chunking.operandDims)) {
        int value = info.operands[index];
        if (value < 0) {
          if (dim)
            return false;
          continue;
        }
        if (dim) {
          anySliced = true;
          auto known = region.dims.find(value);
          if ((known != region.dims.end() && known->second != *dim) ||
              wholeUses.contains(value) ||
              impl.values[value].shape[*dim] != region.extent)
            return false;
        } else if (region.dims.count(value)) {
          return false;
        }
      }
      // An op that does not read the chunked dimension stays outside (an
      // empty destination reads nothing and joins its writer).
      if (!anySliced && !isStaticEmpty(info.op))
        return false;
      for (auto [index, dim] : llvm::enumerate(chunking.resultDims)) {
        if (index >= info.results.size())
          break;
        int value = info.results[index];
        if (!dim || impl.values[value].shape[*dim] != region.extent ||
            wholeUses.contains(value))
          return false;
        auto known = region.dims.find(value);
        if (known != region.dims.end() && known->second != *dim)
          return false;
      }
      if (!staysConvex(opIndex))
        return false;
      members.insert(opIndex);
      region.ops.insert(llvm::upper_bound(region.ops, opIndex), opIndex);
      for (auto [index, dim] : llvm::enumerate(chunking.operandDims)) {
        int value = info.operands[index];
        if (value < 0)
          continue;
        if (dim)
          region.dims[value] = *dim;
        else
          wholeUses.insert(value);
      }
      for (auto [index, dim] : llvm::enumerate(chunking.resultDims))
        if (index < info.results.size())
          region.dims[info.results[index]] = *dim;
      return true;
    }

    /// Grows to a fixed point; with `forwardFirst`, through users alone
    /// before any producer joins. The order matters: a producer taken early
    /// (the layer norm feeding both sides of a triangle multiplication) can
    /// make the consumer that holds the peak (its einsum) non-convex to add.
    void grow(int64_t threshold, bool forwardFirst) {
      if (forwardFirst)
        growSteps(threshold, /*backward=*/false);
      growSteps(threshold, /*backward=*/true);
    }

    void growSteps(int64_t threshold, bool backward) {
      bool changed = true;
      while (changed) {
        changed = false;
        SmallVector<int> current(region.ops);
        for (int opIndex : current) {
          const OpInfo &info = impl.ops[opIndex];
          // Backward, through the producers of sliced operands.
          for (int operand : info.operands) {
            if (!backward)
              break;
            if (operand < 0 || !region.dims.count(operand))
              continue;
            const ValueInfo &value = impl.values[operand];
            if (value.producer < 0 || isMember(value.producer) ||
                value.bytes < threshold)
              continue;
            FailureOr<OpChunking> chunking =
                chunkResult(impl.ops[value.producer].op, value.resultIndex,
                            region.dims[operand]);
            if (succeeded(chunking) && tryAdd(value.producer, *chunking))
              changed = true;
          }
          // Forward, through the users of results.
          for (int result : info.results) {
            const ValueInfo &value = impl.values[result];
            if (value.bytes < threshold)
              continue;
            for (int user : value.users) {
              if (isMember(user))
                continue;
              Operation *userOp = impl.ops[user].op;
              for (OpOperand &use : value.value.getUses()) {
                if (use.getOwner() != userOp)
                  continue;
                FailureOr<OpChunking> chunking = chunkAlongOperandDim(
                    userOp, use.getOperandNumber(), region.dims[result]);
                if (succeeded(chunking) && tryAdd(user, *chunking)) {
                  changed = true;
                  break;
                }
              }
            }
          }
        }
      }
    }
  };

  /// Grows a region from `seed` along `dim`; the pool id, or -1.
  int growRegion(int seed, int64_t dim, double fraction, bool forwardFirst,
                 ArrayRef<int> forbidden) {
    const ValueInfo &value = values[seed];
    if (value.producer < 0 || dim >= static_cast<int64_t>(value.shape.size()) ||
        value.shape[dim] <= 1)
      return -1;
    FailureOr<OpChunking> chunking =
        chunkResult(ops[value.producer].op, value.resultIndex, dim);
    if (failed(chunking))
      return -1;
    Growth growth{*this, CandidateRegion(), {}, {}, forbidden};
    growth.region.extent = value.shape[dim];
    if (!growth.tryAdd(value.producer, *chunking))
      return -1;
    growth.grow(
        static_cast<int64_t>(fraction * static_cast<double>(value.bytes)),
        forwardFirst);
    CandidateRegion &region = growth.region;
    // A region of empty destinations alone computes nothing.
    if (llvm::none_of(region.ops, [&](int op) { return computes(ops[op].op); }))
      return -1;
    region.seed = seed;
    region.seedDim = dim;
    return finishRegion(std::move(region));
  }

  /// Computes a grown region's boundary, body size and time; adds it to the
  /// pool (once) and returns its id.
  int finishRegion(CandidateRegion region) {
    std::string key;
    llvm::raw_string_ostream os(key);
    for (int op : region.ops) {
      os << op << "(";
      for (int result : ops[op].results)
        os << region.dims.lookup(result) << ",";
      os << ")";
    }
    for (int op : region.ops)
      for (int operand : ops[op].operands)
        if (operand >= 0 && region.dims.count(operand))
          os << "s" << operand << ":" << region.dims.lookup(operand);
    for (int op : region.recomputed)
      os << "r" << op;
    auto known = poolKeys.find(key);
    if (known != poolKeys.end())
      return known->second;

    llvm::SmallDenseSet<int, 16> members(region.ops.begin(), region.ops.end());
    llvm::SmallDenseSet<int, 4> recomputed(region.recomputed.begin(),
                                           region.recomputed.end());
    llvm::SetVector<int> inputs;
    auto isInput = [&](int operand) {
      int producer = values[operand].producer;
      return producer < 0 ||
             (!members.contains(producer) && !recomputed.contains(producer));
    };
    for (int op : region.recomputed)
      for (int operand : ops[op].operands)
        if (operand >= 0 && isInput(operand))
          inputs.insert(operand);
    for (int op : region.ops) {
      for (int operand : ops[op].operands)
        if (operand >= 0 && isInput(operand))
          inputs.insert(operand);
      for (int result : ops[op].results) {
        const ValueInfo &value = values[result];
        if (value.returned || llvm::any_of(value.users, [&](int user) {
              return !members.contains(user);
            }))
          region.outputs.push_back(result);
      }
    }
    region.inputs = inputs.takeVector();
    region.inPlace =
        findInPlacePairs(region.ops, region.dims, region.recomputed);

    // The body: each region value a per-chunk buffer (views and in-place
    // results share their source's), outputs kept to the body's end, where
    // they are copied into the full results.
    int64_t bodyEnd = static_cast<int64_t>(region.ops.size());
    llvm::SmallDenseMap<int, int, 16> root;
    llvm::SmallDenseMap<int, std::pair<int64_t, int64_t>, 16> lifetime;
    for (auto [step, op] : llvm::enumerate(region.ops)) {
      const OpInfo &info = ops[op];
      for (int result : info.results) {
        const ValueInfo &value = values[result];
        int own = result;
        if (value.viewSource >= 0 && root.count(value.viewSource))
          own = root[value.viewSource];
        else if (value.viewSource < 0)
          for (int operand : info.inPlaceOperands)
            if (members.contains(values[operand].producer)) {
              own = root[operand];
              break;
            }
        root[result] = own;
        if (own == result)
          lifetime[result] = {int64_t(step), int64_t(step)};
      }
    }
    for (auto [step, op] : llvm::enumerate(region.ops))
      for (int operand : ops[op].operands)
        if (operand >= 0 && root.count(operand))
          lifetime[root[operand]].second =
              std::max(lifetime[root[operand]].second, int64_t(step));
    for (int output : region.outputs)
      lifetime[root[output]].second = bodyEnd;
    // A recomputed value's chunk lives from the top of the body to its last
    // reader.
    for (int op : region.recomputed)
      for (int result : ops[op].results) {
        std::pair<int64_t, int64_t> span = {0, 0};
        for (auto [step, user] : llvm::enumerate(region.ops))
          if (llvm::is_contained(ops[user].operands, result))
            span.second = int64_t(step);
        lifetime[result] = span;
      }
    // An input overwritten in place is first copied chunk by chunk
    // (bufferization cannot tell that each element is read before the same
    // element is written): a per-chunk buffer until its last reader.
    for (auto [output, input] : region.inPlace) {
      std::pair<int64_t, int64_t> span = {0, 0};
      for (auto [step, op] : llvm::enumerate(region.ops))
        if (llvm::is_contained(ops[op].operands, input))
          span.second = int64_t(step);
      lifetime[input] = span;
    }
    SmallVector<int64_t> perRow(bodyEnd + 2, 0);
    for (auto [buffer, span] : lifetime) {
      int64_t bytesPerRow = values[buffer].bytes / region.extent;
      perRow[span.first] += bytesPerRow;
      perRow[span.second + 1] -= bytesPerRow;
    }
    int64_t running = 0;
    for (int64_t step = 0; step <= bodyEnd; ++step) {
      running += perRow[step];
      region.bodyBytesPerRow = std::max(region.bodyBytesPerRow, running);
    }
    for (int op : region.ops)
      region.secondsBefore += ops[op].seconds;

    int id = static_cast<int>(pool.size());
    pool.push_back(std::move(region));
    poolKeys[key] = id;
    return id;
  }

  /// The buffer a value lives in: the end of its chain of views; -1 for an
  /// argument or a constant (no activation bytes).
  int bufferRootOf(int value) const {
    while (values[value].viewSource >= 0)
      value = values[value].viewSource;
    return values[value].holdsNoBuffer ? -1 : value;
  }

  /// The region of the ops `begin`..`end` (positions in block order) of
  /// region `id`, chunked as they are there; its pool id. Any such interval
  /// of a convex region is convex: a path leaving it and coming back would
  /// pass an op between two of its ops, which the interval holds. Its seed is
  /// the region's when the interval produces it, else its largest result.
  int intervalRegion(int id, int begin, int end) {
    CandidateRegion region;
    const CandidateRegion &whole = pool[id];
    region.extent = whole.extent;
    for (int step = begin; step <= end; ++step) {
      int op = whole.ops[step];
      region.ops.push_back(op);
      for (int value : ops[op].results) {
        region.dims[value] = whole.dims.lookup(value);
        if (value == whole.seed ||
            (region.seed != whole.seed &&
             (region.seed < 0 ||
              values[value].bytes > values[region.seed].bytes)))
          region.seed = value;
      }
      for (int value : ops[op].operands)
        if (value >= 0 && whole.dims.count(value))
          region.dims[value] = whole.dims.lookup(value);
    }
    region.seedDim = region.dims.lookup(region.seed);
    return finishRegion(std::move(region));
  }

  /// Sub-regions of region `id` that a loop with a smaller base may run:
  /// its ops in block order cut to an interval that still holds the seed's
  /// producer. A grown region keeps growing while values are large, so it
  /// often ends (or starts) far beyond the peak, with many full-size outputs
  /// and whole inputs live through its loop; an interval whose boundary is
  /// small (the q/k/v projections of an attention up to its output
  /// projection, not the next module) has a smaller loop base. Up to
  /// `maxTrimmedPerRegion` intervals with the smallest boundary bytes (inputs
  /// read from buffers plus full-size outputs; larger intervals first on
  /// ties) are kept. The beam then judges them with the exact evaluation.
  SmallVector<int, 4> trimRegion(int id) {
    auto cached = trimCache.find(id);
    if (cached != trimCache.end())
      return cached->second;
    SmallVector<int, 4> trimmed;
    // Copies: finishRegion below grows the pool.
    SmallVector<int> regionOps(pool[id].ops);
    llvm::DenseMap<int, int64_t> regionDims(pool[id].dims);
    int seed = pool[id].seed;
    int numOps = static_cast<int>(regionOps.size());
    int seedStep = static_cast<int>(
        llvm::find(regionOps, values[seed].producer) - regionOps.begin());
    struct Interval {
      int64_t boundaryBytes;
      int begin, end;
    };
    SmallVector<Interval> intervals;
    if (numOps >= 3 && seedStep < numOps) {
      llvm::SmallDenseMap<int, int, 32> stepOf;
      for (auto [step, op] : llvm::enumerate(regionOps))
        stepOf[op] = static_cast<int>(step);
      // A seed from a layer norm or an elementwise op may also stay outside,
      // read sliced: a recomputing variant computes it chunk by chunk, and
      // its full buffer need not exist (the normed residual both sides of a
      // triangle multiplication read).
      int lastBegin = seedStep;
      Operation *seedProducer = ops[values[seed].producer].op;
      if (allowRecompute && seedStep + 1 < numOps &&
          (isa<graph::LayerNormOp>(seedProducer) ||
           (isElementwise(seedProducer) &&
            !isa<graph::CausalMaskOp>(seedProducer))))
        lastBegin = seedStep + 1;
      for (int begin = 0; begin <= lastBegin; ++begin) {
        // Users of each value produced in the interval that lie outside it.
        llvm::SmallDenseMap<int, int, 32> outsideUsers;
        llvm::SmallDenseSet<int, 16> inputRoots;
        SmallVector<int, 2> recomputed;
        int64_t inputBytes = 0, outputBytes = 0;
        auto addInput = [&](int value) {
          int root = bufferRootOf(value);
          if (root >= 0 && inputRoots.insert(root).second)
            inputBytes += values[root].bytes;
        };
        for (int end = begin; end < numOps; ++end) {
          const OpInfo &info = ops[regionOps[end]];
          llvm::SmallDenseSet<int, 4> seenOperands;
          for (int operand : info.operands) {
            if (operand < 0 || !seenOperands.insert(operand).second)
              continue;
            int producer = values[operand].producer;
            auto step = producer >= 0 ? stepOf.find(producer) : stepOf.end();
            if (step != stepOf.end() && step->second >= begin &&
                step->second < end) {
              int &count = outsideUsers[operand];
              if (--count == 0 && !values[operand].returned)
                outputBytes -= values[operand].bytes;
              continue;
            }
            // With recomputation, a sliced input from a cheap row-wise
            // producer costs its producer's operands instead (the residual
            // a layer norm normalizes, which the loop may then overwrite).
            if (allowRecompute) {
              SmallVector<std::pair<int, int64_t>, 2> sliced;
              int producer =
                  recomputableProducer(operand, regionDims, {}, sliced);
              if (producer >= 0) {
                if (!llvm::is_contained(recomputed, producer)) {
                  recomputed.push_back(producer);
                  for (auto [slicedOperand, dim] : sliced)
                    addInput(slicedOperand);
                }
                continue;
              }
            }
            addInput(operand);
          }
          for (int result : info.results) {
            const ValueInfo &value = values[result];
            int count = static_cast<int>(value.users.size());
            outsideUsers[result] = count;
            if (count > 0 || value.returned)
              outputBytes += value.bytes;
          }
          if (end >= seedStep && end - begin + 1 < numOps) {
            // An output written into an input's buffer adds nothing.
            int64_t sharedBytes = 0;
            SmallVector<int, 2> recomputedOps(recomputed);
            llvm::sort(recomputedOps);
            for (auto [output, input] : findInPlacePairs(
                     ArrayRef<int>(regionOps).slice(begin, end - begin + 1),
                     regionDims, recomputedOps))
              sharedBytes += values[output].bytes;
            intervals.push_back(
                {inputBytes + outputBytes - sharedBytes, begin, end});
          }
        }
      }
    }
    llvm::stable_sort(intervals, [](const Interval &a, const Interval &b) {
      return std::make_pair(a.boundaryBytes, a.begin - a.end) <
             std::make_pair(b.boundaryBytes, b.begin - b.end);
    });
    for (const Interval &interval : intervals) {
      if (trimmed.size() >= options.maxTrimmedPerRegion)
        break;
      // Empty destinations and their fills alone compute nothing.
      if (llvm::all_of(ArrayRef<int>(regionOps).slice(
                           interval.begin, interval.end - interval.begin + 1),
                       [&](int op) {
                         return isStaticEmpty(ops[op].op) ||
                                isa<linalg::FillOp>(ops[op].op);
                       }))
        continue;
      int trimmedId = intervalRegion(id, interval.begin, interval.end);
      if (!llvm::is_contained(trimmed, trimmedId))
        trimmed.push_back(trimmedId);
    }
    trimCache[id] = trimmed;
    return trimmed;
  }

  /// Candidate regions at the peak of `state` (whose evaluation must be the
  /// latest one). Each either overlaps none of the state's regions, or
  /// contains every region it overlaps (it then replaces them: a loop at the
  /// peak grows), or cuts across some (it then displaces them: their ops run
  /// unchunked again unless a later step chunks them anew; an early choice,
  /// such as a projection chunked along its channels, must not lock the ops a
  /// better region needs).
  SmallVector<int> candidatesAt(const State &state) {
    SmallVector<int> taken(ops.size(), -1);
    for (int id : state.regions)
      for (int op : pool[id].ops)
        taken[op] = id;
    SmallVector<int> seeds = seedsAtPeak(state.eval, state.regions, taken);
    if (state.eval.peakRegion >= 0)
      seeds.insert(seeds.begin(), pool[state.eval.peakRegion].seed);
    SmallVector<int> none(ops.size(), -1);
    SmallVector<int> found;
    auto fits = [&](int id) {
      llvm::SmallDenseMap<int, size_t, 4> overlap;
      for (int op : pool[id].ops)
        if (taken[op] >= 0)
          ++overlap[taken[op]];
      for (auto [other, count] : overlap)
        if (count != pool[other].ops.size())
          return false;
      return true;
    };
    auto considerOne = [&](int candidate, bool mayDisplace) {
      if ((mayDisplace || fits(candidate)) &&
          !llvm::is_contained(state.regions, candidate) &&
          !llvm::is_contained(found, candidate))
        found.push_back(candidate);
    };
    auto consider = [&](int candidate, bool mayDisplace) {
      considerOne(candidate, mayDisplace);
      int variant = allowRecompute ? recomputeVariant(candidate) : -1;
      if (variant >= 0)
        considerOne(variant, mayDisplace);
    };
    // A sub-region can only lower the peak when it spans it (holds ops on
    // both sides of the peak op, or the whole loop at the peak).
    int peakFirst = state.eval.peakOp, peakLast = state.eval.peakOp;
    if (state.eval.peakRegion >= 0) {
      peakFirst = pool[state.eval.peakRegion].ops.front();
      peakLast = pool[state.eval.peakRegion].ops.back();
    }
    auto spansPeak = [&](int id) {
      return peakFirst < 0 || (pool[id].ops.front() <= peakFirst &&
                               pool[id].ops.back() >= peakLast);
    };
    auto considerTrims = [&](int id, bool mayDisplace) {
      for (int trimmed : trimRegion(id))
        if (spansPeak(trimmed))
          consider(trimmed, mayDisplace);
    };
    for (int seed : seeds) {
      for (int64_t dim = 0;
           dim < static_cast<int64_t>(values[seed].shape.size()); ++dim)
        for (unsigned f = 0; f < options.growthFractions.size(); ++f)
          for (bool forwardFirst : {false, true}) {
            if (forwardFirst && !options.forwardFirstGrowth)
              continue;
            double fraction = options.growthFractions[f];
            auto cacheKey = std::make_tuple(seed, dim, f, forwardFirst);
            auto cached = growthCache.find(cacheKey);
            int id;
            if (cached != growthCache.end()) {
              id = cached->second;
            } else {
              id = growRegion(seed, dim, fraction, forwardFirst, none);
              growthCache[cacheKey] = id;
            }
            if (id < 0)
              continue;
            bool displacing = options.displaceRegions && !fits(id);
            if (!fits(id) && taken[values[seed].producer] < 0) {
              int regrown =
                  growRegion(seed, dim, fraction, forwardFirst, taken);
              if (regrown >= 0) {
                consider(regrown, false);
                considerTrims(regrown, false);
              }
            }
            consider(id, displacing);
            considerTrims(id, displacing);
          }
    }
    return found;
  }

  State extend(const State &state, int id, int64_t budget) {
    State next;
    // Regions the new one overlaps are replaced by it (or displaced, when
    // it holds only part of them).
    llvm::SmallDenseSet<int, 16> members(pool[id].ops.begin(),
                                         pool[id].ops.end());
    for (int other : state.regions) {
      size_t shared = llvm::count_if(
          pool[other].ops, [&](int op) { return members.contains(op); });
      if (shared == 0) {
        next.regions.push_back(other);
        continue;
      }
      if (shared == pool[other].ops.size())
        continue;
      // A displaced region keeps its ops before the new region's first op
      // and after its last one, as two intervals (still chunked the same
      // way); the ops in between run unchunked.
      next.displaced = true;
      int numOps = static_cast<int>(pool[other].ops.size());
      int firstShared = 0, lastShared = numOps - 1;
      while (!members.contains(pool[other].ops[firstShared]))
        ++firstShared;
      while (!members.contains(pool[other].ops[lastShared]))
        --lastShared;
      auto keep = [&](int begin, int end) {
        if (begin > end)
          return;
        int kept = intervalRegion(other, begin, end);
        bool computesAny = llvm::any_of(
            pool[kept].ops, [&](int op) { return computes(ops[op].op); });
        if (computesAny)
          next.regions.push_back(kept);
      };
      keep(0, firstShared - 1);
      keep(lastShared + 1, numOps - 1);
    }
    llvm::sort(next.regions);
    next.regions.insert(llvm::upper_bound(next.regions, id), id);
    int watchOp = state.eval.peakOp;
    next.eval = evaluate(next.regions, budget, watchOp,
                         watchOp >= 0 ? -1 : state.eval.peakRegion);
    return next;
  }
};

//===----------------------------------------------------------------------===//
// The public face
//===----------------------------------------------------------------------===//

ChunkSearch::ChunkSearch(func::FuncOp func, const Target &target,
                         SearchOptions options)
    : impl(std::make_unique<Impl>(func, target, std::move(options))) {}

ChunkSearch::~ChunkSearch() = default;

int64_t ChunkSearch::unchunkedPeak() const { return impl->baseEval.peak; }

Operation *ChunkSearch::unchunkedPeakOp() const {
  return impl->baseEval.peakOp >= 0 ? impl->ops[impl->baseEval.peakOp].op
                                    : nullptr;
}

double ChunkSearch::unchunkedSeconds() const { return impl->baseSeconds; }

std::vector<PeakCandidates> ChunkSearch::explorePeaks(unsigned numPeaks) {
  std::vector<PeakCandidates> peaks;
  State state;
  state.eval = impl->evaluate({}, -1, -1, -1);
  for (unsigned step = 0; step < numPeaks && state.eval.valid; ++step) {
    PeakCandidates peak;
    peak.peakBytes = state.eval.peak;
    peak.peakOp =
        state.eval.peakOp >= 0 ? impl->ops[state.eval.peakOp].op : nullptr;
    SmallVector<int> ids = impl->candidatesAt(state);
    State best;
    for (int id : ids) {
      State next = impl->extend(state, id, -1);
      if (!next.eval.valid)
        continue;
      const CandidateRegion &region = impl->pool[id];
      ChunkCandidate candidate;
      candidate.region = impl->toChunkRegion(region, 0);
      candidate.seed = impl->values[region.seed].value;
      candidate.seedDim = region.seedDim;
      size_t index = llvm::find(next.regions, id) - next.regions.begin();
      candidate.loopBaseBytes = next.eval.loopBase[index];
      candidate.bodyBytesPerRow = region.bodyBytesPerRow;
      candidate.minPeakBytes = next.eval.peak;
      peak.candidates.push_back(std::move(candidate));
      if (next.eval.watched < state.eval.peak &&
          (!next.displaced || next.eval.peak < state.eval.peak) &&
          (!best.eval.valid || next.eval.peak < best.eval.peak))
        best = std::move(next);
    }
    peaks.push_back(std::move(peak));
    if (!best.eval.valid)
      break;
    state = std::move(best);
    // Refresh the scratch for the next peak's seeds.
    state.eval = impl->evaluate(state.regions, -1, -1, -1);
  }
  return peaks;
}

FailureOr<ChunkPlan> ChunkSearch::select(int64_t budget,
                                         int64_t &smallestPeak) {
  // A beam is myopic: which regions it keeps early decides what it can reach
  // later, and recomputing variants (which double the candidates) crowd it.
  // So the first search leaves them out; when it finds no plan under the
  // budget, one with them follows, then (on graphs small enough for it to
  // take a moment: a 148-op Evoformer block searches in 0.3 s at width 64)
  // both with a 4 and a 16 times wider beam. Each search starts from
  // a fresh state: the beam breaks ties by candidate order, which an earlier
  // search's pool would change.
  SearchOptions original = impl->options;
  bool small = impl->ops.size() <= 400;
  SmallVector<std::pair<unsigned, bool>, 6> attempts = {
      {original.beamWidth, false}, {original.beamWidth, true}};
  if (small)
    for (unsigned factor : {4u, 16u}) {
      attempts.push_back({factor * original.beamWidth, false});
      attempts.push_back({factor * original.beamWidth, true});
    }
  bool fresh = true;
  auto search = [&](int64_t target, int64_t &smallest) {
    smallest = std::numeric_limits<int64_t>::max();
    FailureOr<ChunkPlan> best = failure();
    size_t lastAttempt = attempts.size();
    for (auto [index, attempt] : llvm::enumerate(attempts)) {
      if (index >= lastAttempt)
        break;
      auto [width, recompute] = attempt;
      if (!fresh) {
        SearchOptions options = original;
        options.beamWidth = width;
        impl = std::make_unique<Impl>(impl->func, impl->target, options);
      }
      fresh = false;
      impl->allowRecompute = recompute;
      int64_t attemptSmallest = 0;
      FailureOr<ChunkPlan> plan = selectOnce(target, attemptSmallest);
      smallest = std::min(smallest, attemptSmallest);
      if (failed(plan))
        continue;
      // The plain beam's plan is the answer. A budget only a later attempt
      // reaches is near the floor, where the first plan found is often far
      // from the fastest: the next two attempts (a wider beam) may find a
      // faster one.
      if (index == 0)
        return plan;
      if (failed(best) || plan->secondsAfter < best->secondsAfter)
        best = std::move(plan);
      lastAttempt = std::min(lastAttempt, index + 3);
    }
    return best;
  };
  FailureOr<ChunkPlan> plan = search(budget, smallestPeak);
  if (succeeded(plan) || !small)
    return plan;
  // Chunk sizes follow the budget, so a peak reached while searching for a
  // smaller budget is not always reached when asked for, and a larger one
  // sometimes is: the peak the error names is the smallest one a search for
  // it reaches, found by bisection to within 1% (on small graphs only: a
  // large graph keeps the first answer, as each step costs a whole search).
  int64_t reachable = -1, unreachable = budget;
  for (int round = 0; round < 3 && reachable < 0; ++round) {
    int64_t reached = 0;
    FailureOr<ChunkPlan> verified = search(smallestPeak, reached);
    if (succeeded(verified))
      reachable = verified->peakAfter;
    else
      smallestPeak = std::max(smallestPeak + 1, reached);
  }
  if (reachable < 0)
    return FailureOr<ChunkPlan>(failure());
  while (reachable - unreachable > std::max<int64_t>(1, reachable / 100)) {
    int64_t middle = unreachable + (reachable - unreachable) / 2;
    int64_t reached = 0;
    FailureOr<ChunkPlan> verified = search(middle, reached);
    if (succeeded(verified))
      reachable = verified->peakAfter;
    else
      unreachable = middle;
  }
  smallestPeak = reachable;
  return FailureOr<ChunkPlan>(failure());
}

FailureOr<ChunkPlan> ChunkSearch::selectOnce(int64_t budget,
                                             int64_t &smallestPeak) {
  Impl &s = *impl;
  smallestPeak = s.baseEval.peak;
  ChunkPlan plan;
  plan.peakBefore = s.baseEval.peak;
  plan.secondsBefore = s.baseSeconds;
  State best;
  if (s.baseEval.peak <= budget) {
    plan.peakAfter = plan.peakBefore;
    plan.secondsAfter = plan.secondsBefore;
    return plan;
  }
  std::vector<State> beam;
  State start;
  start.eval = s.evaluate({}, budget, -1, -1);
  beam.push_back(std::move(start));
  std::set<SmallVector<int>> seen;
  unsigned width = std::max(1u, s.options.beamWidth);
  while (!beam.empty()) {
    std::vector<State> next;
    for (State &state : beam) {
      // Refresh the scratch: seeds come from this state's peak.
      state.eval = s.evaluate(state.regions, budget, -1, -1);
      for (int id : s.candidatesAt(state)) {
        State extended = s.extend(state, id, budget);
        if (!extended.eval.valid || extended.eval.watched >= state.eval.peak ||
            (extended.displaced && extended.eval.peak >= state.eval.peak) ||
            !seen.insert(extended.regions).second)
          continue;
        smallestPeak = std::min(smallestPeak, extended.eval.peak);
        // Chunking only adds time: a plan slower than a feasible one
        // cannot become the answer.
        if (best.eval.valid && extended.eval.seconds >= best.eval.seconds)
          continue;
        next.push_back(std::move(extended));
      }
    }
    // Keep the plans with the lowest peaks (width 1: plain greedy, the
    // biggest immediate reduction); those under the budget are answers and
    // are not extended further.
    // Among plans with the same peak (set elsewhere, by ops no plan has
    // chunked yet), the one that lowered the peak it attacked the most
    // leaves the most room for later steps: a loop over attention heads at
    // chunk size 1 can sit above a tight budget where one over the sequence
    // cannot, and a region that barely dents its peak must not crowd out
    // one that removes it.
    llvm::stable_sort(next, [](const State &a, const State &b) {
      return std::make_tuple(a.eval.peak, a.eval.watched, a.eval.seconds) <
             std::make_tuple(b.eval.peak, b.eval.watched, b.eval.seconds);
    });
    if (next.size() > width)
      next.resize(width);
    std::vector<State> open;
    for (State &state : next) {
      if (state.eval.peak > budget) {
        open.push_back(std::move(state));
        continue;
      }
      if (!best.eval.valid || state.eval.seconds < best.eval.seconds)
        best = std::move(state);
    }
    next = std::move(open);
    beam = std::move(next);
  }
  if (!best.eval.valid)
    return failure();

  // Drop regions the budget turns out not to need.
  for (size_t index = 0; index < best.regions.size();) {
    SmallVector<int> fewer(best.regions);
    fewer.erase(fewer.begin() + index);
    Eval eval = s.evaluate(fewer, budget, -1, -1);
    if (eval.valid && eval.peak <= budget &&
        eval.seconds <= best.eval.seconds) {
      best.regions = fewer;
      best.eval = eval;
    } else {
      ++index;
    }
  }

  best.eval = s.evaluate(best.regions, budget, -1, -1);
  plan.peakAfter = best.eval.peak;
  plan.secondsAfter = best.eval.seconds;
  for (auto [index, id] : llvm::enumerate(best.regions)) {
    CandidateRegion &region = s.pool[id];
    PlannedRegion planned;
    int64_t chunk = best.eval.chunkSizes[index];
    planned.region = s.toChunkRegion(region, chunk);
    planned.seedDim = region.seedDim;
    for (int op : region.ops)
      planned.bytesBefore = std::max(planned.bytesBefore, s.baseLiveAtOp[op]);
    planned.bytesAfter = best.eval.loopPeak[index];
    planned.secondsBefore = region.secondsBefore;
    planned.secondsAfter = s.chunkedSeconds(region, chunk);
    plan.regions.push_back(std::move(planned));
  }
  return plan;
}
