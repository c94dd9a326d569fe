//===- SearchTest.cpp - budgets, cost model and plans of AutoChunk --------===//
//
// Memory budgets parsed from text, the predicted time of ops and chunk
// loops, and plans the search selects, against numbers computed by hand in
// the comments.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Dialect/Graph/DimensionFlowOpInterface.h"
#include "autochunk/Dialect/Graph/GraphDialect.h"
#include "autochunk/Dialect/Graph/GraphOps.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

#include <string>

using namespace autochunk;

namespace {

int64_t budgetOf(llvm::StringRef text, int64_t peak = 1000) {
  mlir::FailureOr<int64_t> bytes = parseMemoryBudget(text, peak);
  REQUIRE(mlir::succeeded(bytes));
  return *bytes;
}

std::string budgetError(llvm::StringRef text) {
  std::string error;
  REQUIRE(mlir::failed(parseMemoryBudget(text, 1000, &error)));
  return error;
}

/// Parses `source` and returns its first function.
mlir::func::FuncOp parseFunction(mlir::MLIRContext &context,
                                 mlir::OwningOpRef<mlir::ModuleOp> &module,
                                 llvm::StringRef source) {
  context.loadDialect<graph::GraphDialect, mlir::func::FuncDialect>();
  module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  REQUIRE(module);
  return *module->getOps<mlir::func::FuncOp>().begin();
}

} // namespace

TEST_CASE("memory budgets in bytes, units and fractions") {
  CHECK(budgetOf("123456") == 123456);
  CHECK(budgetOf("512KiB") == 512 * 1024);
  CHECK(budgetOf("512MiB") == 512ll * 1024 * 1024);
  CHECK(budgetOf("2GiB") == 2ll * 1024 * 1024 * 1024);
  CHECK(budgetOf("1.5GiB") == 1610612736ll);
  CHECK(budgetOf("2GB") == 2000000000ll);
  CHECK(budgetOf("64KB") == 64000);
  CHECK(budgetOf("100B") == 100);
  // A fraction of the unchunked peak, rounded down: 0.3 x 1000 = 300,
  // 0.3 x 1001 = 300.3.
  CHECK(budgetOf("0.3x") == 300);
  CHECK(budgetOf("0.3x", 1001) == 300);
  CHECK(budgetOf("1x", 4096) == 4096);
}

TEST_CASE("bad memory budgets are errors that say why") {
  CHECK(budgetError("") ==
        "invalid memory budget '': expected bytes, a size such as 512MiB, "
        "or a fraction such as 0.3x");
  CHECK(budgetError("lots").find("expected bytes") != std::string::npos);
  CHECK(budgetError("12 parsecs").find("expected bytes") != std::string::npos);
  CHECK(budgetError("-5") ==
        "invalid memory budget '-5': the budget must be at least one byte");
  CHECK(budgetError("0") ==
        "invalid memory budget '0': the budget must be at least one byte");
  CHECK(budgetError("-0.5x") ==
        "invalid memory budget '-0.5x': the fraction must be positive");
  CHECK(budgetError("0.0001x").find("less than one byte") != std::string::npos);
  CHECK(budgetError("abcx") ==
        "invalid memory budget 'abcx': expected a number before 'x'");
}

TEST_CASE("the targets") {
  std::optional<Target> cpu = getTarget("cpu"), h100 = getTarget("h100");
  REQUIRE(cpu);
  REQUIRE(h100);
  CHECK(cpu->peakFlops == 200e9);
  CHECK(cpu->bandwidth == 20e9);
  CHECK(cpu->callOverhead == 2e-6);
  CHECK(cpu->packPasses == 2);
  CHECK(h100->packPasses == 0);
  CHECK(h100->peakFlops == 50e12);
  CHECK(h100->bandwidth == 3e12);
  CHECK(!getTarget("tpu"));
}

TEST_CASE("op costs: FLOPs, bytes and calls") {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func = parseFunction(context, module, R"mlir(
    func.func @f(%x: tensor<64x32xf32>, %w: tensor<128x32xf32>,
                 %k: tensor<64x32xf32>) -> tensor<64x64xf32> {
      %h = graph.linear %x, %w : (tensor<64x32xf32>, tensor<128x32xf32>) -> tensor<64x128xf32>
      %g = graph.gelu %h : tensor<64x128xf32>
      %r = graph.reshape %g : (tensor<64x128xf32>) -> tensor<128x64xf32>
      %s = graph.matmul %x, %k {transpose_b} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x64xf32>
      %p = graph.softmax %s {axis = 1 : i64} : tensor<64x64xf32>
      return %p : tensor<64x64xf32>
    })mlir");
  auto ops = llvm::to_vector(
      llvm::map_range(func.getBody().front().without_terminator(),
                      [](mlir::Operation &op) { return &op; }));
  OpCost linear = estimateOpCost(ops[0]);
  // 2 x 64 x 128 x 32 = 524288 FLOPs; bytes 64x32 + 128x32 + 64x128 floats
  // = (2048 + 4096 + 8192) x 4 = 57344.
  CHECK(linear.flops == 524288);
  CHECK(linear.bytes == 57344);
  CHECK(linear.calls == 1);
  // A contraction packs its operands x and w: (2048 + 4096) x 4 = 24576.
  CHECK(linear.packBytes == 24576);
  OpCost gelu = estimateOpCost(ops[1]);
  // One FLOP per element: 8192; reads and writes 8192 floats: 65536 bytes.
  CHECK(gelu.flops == 8192);
  CHECK(gelu.bytes == 65536);
  CHECK(gelu.packBytes == 0);
  OpCost reshape = estimateOpCost(ops[2]);
  // A view: no kernel.
  CHECK(reshape.flops == 0);
  CHECK(reshape.bytes == 0);
  CHECK(reshape.calls == 0);
  OpCost matmul = estimateOpCost(ops[3]);
  // 2 x 64 x 64 x 32 = 262144 FLOPs; (2048 + 2048 + 4096) x 4 = 32768 bytes.
  CHECK(matmul.flops == 262144);
  CHECK(matmul.bytes == 32768);
  OpCost softmax = estimateOpCost(ops[4]);
  CHECK(softmax.flops == 4 * 4096);
  CHECK(softmax.bytes == 2 * 4096 * 4);

  // A chunk of 8 of the 64 query rows: x sliced (2048 floats / 8), k whole,
  // the result sliced: (256 + 2048 + 512) x 4 = 11264 bytes, 262144 / 8 =
  // 32768 FLOPs.
  OpCost chunk = estimateChunkOpCost(ops[3], {true, false}, 8.0 / 64);
  CHECK(chunk.flops == 32768);
  CHECK(chunk.bytes == 11264);
  // Packed per chunk: the slice of x and the whole of k: (256 + 2048) x 4.
  CHECK(chunk.packBytes == 9216);

  Target cpu = *getTarget("cpu");
  // Linear on the CPU: max(524288 / 200e9, 57344 / 20e9) + 2 x 24576 /
  // 20e9 (packing) + 2us = max(2.62144us, 2.8672us) + 2.4576us + 2us =
  // 7.3248us.
  CHECK(predictSeconds(linear, cpu) == Approx(7.3248e-6));
  // The reshape is free.
  CHECK(predictSeconds(reshape, cpu) == 0);
}

TEST_CASE("chunk loop time: per-chunk work, re-read inputs and overhead") {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func = parseFunction(context, module, R"mlir(
    func.func @f(%q: tensor<64x32xf32>, %k: tensor<64x32xf32>) -> tensor<64x64xf32> {
      %s = graph.matmul %q, %k {transpose_b} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x64xf32>
      %p = graph.softmax %s {axis = 1 : i64} : tensor<64x64xf32>
      return %p : tensor<64x64xf32>
    })mlir");
  auto ops = llvm::to_vector(
      llvm::map_range(func.getBody().front().without_terminator(),
                      [](mlir::Operation &op) { return &op; }));
  llvm::DenseMap<mlir::Value, int64_t> dims;
  dims[func.getArgument(0)] = 0;
  dims[ops[0]->getResult(0)] = 0;
  dims[ops[1]->getResult(0)] = 0;
  Target target{"test", 1e9, 1e9, 1e-6, 10e-6};
  // Chunks of 16 rows: 4 chunks. Per chunk:
  //   matmul: 262144 / 4 = 65536 FLOPs -> 65.536us; bytes q/4 + k + s/4 =
  //     (512 + 2048 + 1024) x 4 = 14336 -> 14.336us; + 1us call = 66.536us
  //   softmax: 16384 / 4 = 4096 FLOPs -> 4.096us; bytes 2 x 1024 x 4 = 8192
  //     -> 8.192us; + 1us = 9.192us
  //   copy of the output chunk: 2 x 4096 bytes -> 8.192us + 1us = 9.192us
  //   iteration overhead 10us
  // = 94.92us per chunk, 379.68us in all.
  CHECK(predictChunkedSeconds(ops, dims, 64, 16, target) == Approx(379.68e-6));
  // Chunks of 48: one of 48 and a remainder of 16 (94.92us). The chunk of 48
  // (fraction 0.75): matmul 196608 FLOPs -> 196.608us (bytes (1536 + 2048 +
  // 3072) x 4 = 26624 -> 26.624us) + 1us = 197.608us; softmax 12288 FLOPs
  // vs 24576 bytes -> 24.576us + 1us = 25.576us; copy 24576 bytes -> 24.576
  // + 1 = 25.576us; + 10us: 258.76us. Total 353.68us.
  CHECK(predictChunkedSeconds(ops, dims, 64, 48, target) == Approx(353.68e-6));
  // Unchunked: matmul 262.144 + 1, softmax max(16.384, 32.768) + 1 =
  // 296.912us.
  CHECK(predictSeconds(ops, target) == Approx(296.912e-6));
}

namespace {

/// Two attentions over an 8x8x4 f32 pair, the second on the transposed
/// result of the first (lit-tests/AutoChunk/chunk-budget-pair-attention.mlir
/// works its bytes out line by line). Unchunked peak: yt + k2 + scores +
/// softmax = 1024 + 1024 + 2048 + 2048 = 6144.
constexpr const char *pairAttention = R"mlir(
  func.func @pair_attention(%z: tensor<8x8x4xf32>, %wb: tensor<1x4xf32>, %wq: tensor<4x4xf32>, %wk: tensor<4x4xf32>, %wv: tensor<4x4xf32>, %wq2: tensor<4x4xf32>, %wk2: tensor<4x4xf32>) -> tensor<8x8x4xf32> {
    %b = graph.linear %z, %wb : (tensor<8x8x4xf32>, tensor<1x4xf32>) -> tensor<8x8x1xf32>
    %bt = graph.transpose %b {permutation = array<i64: 2, 0, 1>} : (tensor<8x8x1xf32>) -> tensor<1x8x8xf32>
    %q = graph.linear %z, %wq : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
    %k = graph.linear %z, %wk : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
    %v = graph.linear %z, %wv : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
    %s = graph.matmul %q, %k {transpose_b} : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x8xf32>
    %sb = graph.add %s, %bt : (tensor<8x8x8xf32>, tensor<1x8x8xf32>) -> tensor<8x8x8xf32>
    %p = graph.softmax %sb {axis = 2 : i64} : tensor<8x8x8xf32>
    %o = graph.matmul %p, %v : (tensor<8x8x8xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
    %y = graph.add %z, %o : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
    %yt = graph.transpose %y {permutation = array<i64: 1, 0, 2>} : (tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
    %q2 = graph.linear %yt, %wq2 : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
    %k2 = graph.linear %yt, %wk2 : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
    %s2 = graph.matmul %q2, %k2 {transpose_b} : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x8xf32>
    %p2 = graph.softmax %s2 {axis = 2 : i64} : tensor<8x8x8xf32>
    %o2 = graph.matmul %p2, %k2 : (tensor<8x8x8xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
    %y2 = graph.add %yt, %o2 : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
    return %y2 : tensor<8x8x4xf32>
  })mlir";

} // namespace

TEST_CASE("intervals of grown regions reach budgets whole regions cannot") {
  // The search needs the dimension flow of graph ops (without it every op is
  // a barrier).
  mlir::DialectRegistry registry;
  graph::registerDimensionFlowExternalModels(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func = parseFunction(context, module, pairAttention);
  Target cpu = *getTarget("cpu");
  // 0.5 x 6144.
  const int64_t budget = 3072;

  SECTION("without intervals the search stalls above what intervals reach") {
    // Regions grown from the second attention run backwards into the first
    // one; without intervals of them, yt and k2 stay full outputs of one
    // loop and are read whole by the next (3584 bytes before loops could
    // write their output over an input). The plan with intervals below
    // peaks at 2560; without them that budget is out of reach.
    SearchOptions options;
    options.maxTrimmedPerRegion = 0;
    ChunkSearch search(func, cpu, options);
    CHECK(search.unchunkedPeak() == 6144);
    int64_t smallest = 0;
    CHECK(mlir::failed(search.select(2560, smallest)));
    CHECK(smallest > 2560);
    CHECK(smallest < 6144);
  }

  SECTION("with intervals it meets 0.5x with two loops") {
    ChunkSearch search(func, cpu);
    int64_t smallest = 0;
    mlir::FailureOr<ChunkPlan> plan = search.select(budget, smallest);
    REQUIRE(mlir::succeeded(plan));
    // The second attention over the rows of yt writes its output over yt
    // (nothing after the loop reads yt): yt (1024) outside, 768 per row (640
    // plus the copy of yt's row the in-place write needs), two rows a chunk:
    // 2560 (2688 at one row a chunk when the output needed its own buffer).
    // The first attention with the transpose: bias and yt (1280) outside,
    // 640 per row, two rows a chunk: 2560.
    CHECK(plan->peakBefore == 6144);
    CHECK(plan->peakAfter == 2560);
    REQUIRE(plan->regions.size() == 2);
    llvm::SmallVector<std::tuple<size_t, int64_t, int64_t>> shapes;
    for (const PlannedRegion &region : plan->regions)
      shapes.emplace_back(region.region.ops.size(), region.region.chunkSize,
                          region.bytesAfter);
    llvm::sort(shapes);
    CHECK(shapes[0] == std::make_tuple(size_t(6), int64_t(2), int64_t(2560)));
    CHECK(shapes[1] == std::make_tuple(size_t(9), int64_t(2), int64_t(2560)));
  }
}
