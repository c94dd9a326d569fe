//===- Passes.td - AutoChunk pass definitions --------------*- tablegen -*-===//
//
// Every AutoChunk pass, declared once; chunk-opt and the pipelines register
// them from here.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_PASSES_TD
#define AUTOCHUNK_PASSES_TD

include "mlir/Pass/PassBase.td"

def GraphSummaryPass : Pass<"autochunk-graph-summary", "mlir::ModuleOp"> {
  let summary = "Prints what the pipeline knows about each graph function";
  let description = [{
    For every function of graph ops, prints its inputs, weights and outputs
    (count, shapes, bytes), the ops by kind, the FLOPs and bytes moved by
    the cost model's counts (contractions two FLOPs per multiply-add,
    elementwise ops, softmax, layer norm and reductions per element), the
    sum of all intermediate tensor sizes, and the activation peak by the
    chunk search's liveness model (views share their source's buffer,
    elementwise ops write into a dying operand, inputs and weights are not
    counted). The exact planned arena is what
    `autochunk-test-print-memory-estimate` prints. The module is left
    unchanged.
  }];
}

def EinsumBatchMajorPass
    : Pass<"autochunk-einsum-batch-major", "mlir::func::FuncOp"> {
  let summary = "Puts the batch labels of two-operand einsums outermost";
  let description = [{
    A two-operand `graph.einsum` whose batch labels (labels of both operands
    and of the result) include the innermost dimension of an operand or of
    the result, such as a triangle multiplication's `"ikc,jkc->ijc"`,
    becomes `graph.transpose`s to and from the batch-major einsum
    (`"cik,cjk->cij"`). The runtime would otherwise copy such an operand
    batch-major on every call, and a chunk loop calls it once per chunk: as
    graph ops, the transposes of operands a loop reads whole run once before
    the loop, and the others chunk by chunk. Values do not change. Part of
    chunk-compile's graph phase and of `autochunk-pipeline`.
  }];
}

def FuseAttentionPass
    : Pass<"autochunk-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "Fuses attention chains into graph.attention";
  let description = [{
    `graph.matmul(graph.softmax(add?(causal_mask?(scale?(graph.matmul(q, k)
    {transpose_b}))), bias?), v)` over the last axis, each intermediate used
    once and q, k, v sharing the logits' leading dimensions and heads at most 128
    wide (the CUDA kernel's register tile), becomes one
    `graph.attention`. AutoChunk then plans memory without the `[..., M, N]`
    logits, which the runtime never stores (online softmax). The result is
    not bit for bit the unfused chain's (other order of summation, logits
    kept in f32). Part of chunk-compile's graph phase and of
    `autochunk-pipeline` (`fuse-attention=false` turns it off there and
    `--fuse-attention=false` in chunk-compile).
  }];
}

def LowerGraphToKernelsPass
    : Pass<"autochunk-lower-graph-to-kernels", "mlir::func::FuncOp"> {
  let summary = "Lowers graph ops to kernel.call ops and upstream tensor ops";
  let description = [{
    Rewrites every graph op, in program order, into what one-shot
    bufferization understands: views become upstream tensor ops
    (`graph.reshape` becomes `tensor.collapse_shape`/`tensor.expand_shape`,
    `graph.slice` becomes `tensor.extract_slice`, `graph.concat` becomes
    copies into slices of one `tensor.empty`), constants become
    `arith.constant`, and every other op becomes a `kernel.call` in
    destination-passing style. An elementwise op whose operand has the
    result's type and dies at the op is given that operand as its
    destination, so bufferization can compute it in place; the destination is
    a fresh `tensor.empty` otherwise.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect",
                           "autochunk::kernel::KernelDialect"];
}

def PlanMemoryPass : Pass<"autochunk-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Places every intermediate buffer at an offset in one arena";
  let description = [{
    Runs after bufferization. Every returned buffer becomes an arena buffer
    (a copy is inserted for a returned value that is not one, such as a
    view or a function argument). The planner (MemoryPlan.h) then assigns
    each `memref.alloc` an offset from liveness intervals; the pass appends
    an `i8` arena argument (marked `autochunk.arena`), replaces each
    allocation with a `memref.view` into it, drops the function's results
    and records the plan on the function: `autochunk.arena_bytes`, and per
    output its name, offset and type (`autochunk.outputs`).
  }];
  let options = [Option<"alignment", "alignment", "int64_t", "64",
                        "Byte alignment of every buffer's offset">];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "autochunk::kernel::KernelDialect"];
}

def TestPrintMemoryPlanPass
    : Pass<"autochunk-test-print-memory-plan", "mlir::func::FuncOp"> {
  let summary = "Prints the memory plan of each function (for tests)";
  let description = [{
    Prints, for every `memref.alloc`, its size, its liveness interval in
    pre-order op positions and its offset, then the arena size. The IR is
    left unchanged.
  }];
  let options = [Option<"alignment", "alignment", "int64_t", "64",
                        "Byte alignment of every buffer's offset">];
}

def LowerKernelsToCallsPass
    : Pass<"autochunk-lower-kernels-to-calls", "mlir::ModuleOp"> {
  let summary = "Lowers kernel.call on memrefs to calls into the runtime";
  let description = [{
    Each `kernel.call` becomes a `func.call` of `ac_kernel_<name>_<dtype>`
    (declared privately) inside a `memref.alloca_scope`, so the stack space
    of the descriptors it passes is released after each call, even inside
    chunk loops. Buffers are passed as unranked memrefs (in C: the rank and
    a pointer to the ranked descriptor); parameters follow as scalars:
    booleans and axes as `i64`, permutations packed four bits per entry,
    reduction axes as a bit mask, factors and epsilons as `f64`, the einsum
    equation as a NUL-terminated `i8` global. Bufferization's own
    `memref.copy` ops become the runtime's copy kernel first, so that they
    run on the device holding the buffers (upstream lowers a contiguous one
    to a host `memcpy`).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect",
                           "autochunk::kernel::KernelDialect"];
}

def TestChunkRewritePass
    : Pass<"autochunk-test-chunk-rewrite", "mlir::func::FuncOp"> {
  let summary = "Chunks regions marked by test attributes (for tests)";
  let description = [{
    Exercises the chunk rewrite (ChunkRewrite.h) without the search: the ops
    of region N carry `test.chunk_region = N`, `test.chunk_dims` (the chunked
    dimension of each result) and `test.operand_chunk_dims` (the sliced
    dimension of each operand, -1 for an operand used whole). Each region is
    rewritten into a loop over chunks of `chunk-size`.
  }];
  let options = [Option<"chunkSize", "chunk-size", "int64_t", "1",
                        "The chunk size of every region">];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def TestPrintDimensionFlowPass
    : Pass<"autochunk-test-print-dimension-flow", "mlir::func::FuncOp"> {
  let summary = "Prints the dimension flow of every op (for tests)";
  let description = [{
    For every op of the function with a ranked tensor result, in program
    order, prints one line per result: the op name, the result index and,
    per result dimension, its sources (`d1 <- {op0.d1, op1.d1}`, operand
    index and dimension; `{}` when the op produces any slice of it from
    whole operands), `mixed` or `opaque`; then one line with the reduced
    operand dimensions (`none` if there are none). An op without
    DimensionFlowOpInterface, or whose flow cannot be given, prints
    `barrier`. The IR is left unchanged.
  }];
}

def TestPrintMemoryEstimatePass
    : Pass<"autochunk-test-print-memory-estimate", "mlir::func::FuncOp"> {
  let summary = "Prints the exact activation memory estimate (for tests)";
  let description = [{
    Prints the estimate of MemoryEstimate.h for each function: the planned
    arena, the input and weight bytes, the live bytes at every op (name and
    location) and the peak. The IR is left unchanged.
  }];
}

def AutoChunkPass : Pass<"autochunk-chunk", "mlir::func::FuncOp"> {
  let summary = "Chunks activation peaks into loops to meet a memory budget";
  let description = [{
    AutoChunk itself: finds the activation peaks of each function (the
    liveness model of ChunkSearch.h), searches chunk regions around them,
    selects with a beam search the regions, chunk dimensions and chunk sizes
    that bring the predicted peak under `memory-budget` at the least
    predicted time on `target` (CostModel.h), and rewrites each chosen region
    into an scf.for over chunks (ChunkRewrite.h).

    The budget is bytes ("123456"), a size ("512MiB", "2GiB", "2GB") or a
    fraction of the unchunked peak ("0.3x"). Without a budget the pass does
    nothing. A budget no plan reaches is an error that names the smallest
    peak reached.

    The plan is recorded on the function: `autochunk.plan`, one dictionary
    per region (`region`, `ops`, `dim`, `extent`, `chunk_size`,
    `bytes_before`, `bytes_after`, `slowdown`), and `autochunk.peak_before`,
    `autochunk.peak_after`, `autochunk.predicted_slowdown`; each loop gets
    `autochunk.region`, its index in the plan.
  }];
  let options = [
    Option<"memoryBudget", "memory-budget", "std::string", "\"\"",
           "Activation memory budget: bytes, 512MiB, 2GiB or 0.3x">,
    Option<"targetName", "target", "std::string", "\"cpu\"",
           "The cost model's target: cpu or h100">,
    Option<"beamWidth", "beam-width", "unsigned", "4",
           "Plans the selection keeps per step (1: greedy)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def TestPrintChunkCandidatesPass
    : Pass<"autochunk-test-print-chunk-candidates", "mlir::func::FuncOp"> {
  let summary = "Prints AutoChunk's candidate regions per peak (for tests)";
  let description = [{
    Prints the unchunked activation peak and, for up to `peaks` peaks, the
    candidate regions the search forms there: the seed value's op and chunk
    dimension, the extent, the ops (top-level index and name), the bytes
    live around the loop, the body's bytes per chunk row and the function's
    peak with the region chunked at chunk size 1. The next peak is the one
    left after chunking the previous peak's lowest-peak candidate. The IR is
    left unchanged.
  }];
  let options = [Option<"peaks", "peaks", "unsigned", "1",
                        "How many peaks to print">];
}

#endif // AUTOCHUNK_PASSES_TD
