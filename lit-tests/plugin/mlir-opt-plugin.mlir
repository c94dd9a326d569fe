// The AutoChunk plugin in Debian's stock mlir-opt: the dialects, an analysis
// test pass, the AutoChunk pass and the named pipeline.
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin %s | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --mlir-disable-threading --pass-pipeline="builtin.module(func.func(autochunk-test-print-dimension-flow))" %s -o /dev/null | FileCheck %s --check-prefix=FLOW
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(func.func(autochunk-chunk{memory-budget=0.7x}))" %s | FileCheck %s --check-prefix=CHUNK
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(autochunk-pipeline{memory-budget=0.7x fuse-attention=false lower-to-llvm=false})" %s | FileCheck %s --check-prefix=PIPELINE
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(autochunk-pipeline{lower-to-llvm=false})" %s | FileCheck %s --check-prefix=FUSED
// A pipeline that names a pass nobody registered: a clear error, exit 1.
// RUN: not %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(autochunk-no-such-pass)" %s 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// ROUNDTRIP: graph.matmul %arg0, %arg1 {transpose_b}
// ROUNDTRIP: graph.causal_mask
// FLOW: graph.matmul result 0: d0 <- {op0.d0, op1.d0}, d1 <- {op0.d1}, d2 <- {op1.d1}
// CHUNK: scf.for
// CHUNK: graph.softmax
// CHUNK: autochunk.region = 0
// PIPELINE: autochunk.arena_bytes
// PIPELINE: scf.for
// PIPELINE: kernel.call "scale_mask_softmax"
// By default the pipeline fuses the attention chain into one kernel that
// never stores the logits.
// FUSED: autochunk.arena_bytes = 320 : i64
// FUSED-NOT: kernel.call "scale_mask_softmax"
// FUSED: kernel.call "attention"
// UNKNOWN: 'autochunk-no-such-pass' does not refer to a registered pass or pass pipeline
func.func @attention(%q: tensor<2x10x4xf32> {graph.name = "q", graph.role = "input"},
                     %k: tensor<2x10x4xf32> {graph.name = "k", graph.role = "input"},
                     %v: tensor<2x10x4xf32> {graph.name = "v", graph.role = "input"})
    -> (tensor<2x10x4xf32> {graph.name = "o"}) {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
