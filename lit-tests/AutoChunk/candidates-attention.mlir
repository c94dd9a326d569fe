// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates=peaks=2 -o /dev/null | FileCheck %s

// Single-head causal attention, 64 queries x 32 features, f32.
// Unchunked: q, k, v are 8192 bytes each, the scores 16384; scale and mask
// run in place, softmax needs a new 16384: the peak is q+k+v+s = 40960 at the
// first matmul (and s+p+v = 40960 at softmax).
// Chunking the queries (dim 0) of [q projection .. output matmul]: k and v
// stay whole (16384) and the output accumulator is 8192: base 24576; per
// query row the body holds the score row and the softmax row (256 + 256 =
// 512), so at chunk size 1 the peak is 24576 + 512 = 25088.
// CHECK: function @attention: peak 40960 bytes at 3:graph.matmul (liveness of the IR: 40960)
// CHECK-NEXT: peak 0: 40960 bytes at 3:graph.matmul
// CHECK-NEXT: candidate: seed 3:graph.matmul dim 0 extent 64 ops [0:graph.linear, 3:graph.matmul, 4:graph.scale, 5:graph.causal_mask, 6:graph.softmax, 7:graph.matmul] loop-base 24576 per-row 512 min-peak 25088
// Intervals of that region holding the seed come next (the trimmed
// sub-regions). Stopping before the output matmul leaves the softmax output p
// as a full-size loop output: k and v (16384, v is still read after the loop)
// plus p (16384) make a base of 32768, and the body still holds a score row
// and a softmax row (512): 32768 + 512 = 33280 at chunk size 1, worse than the
// whole region, as the boundary bytes (inputs read whole plus full outputs)
// of the interval say.
// CHECK-NEXT: candidate: seed 3:graph.matmul dim 0 extent 64 ops [0:graph.linear, 3:graph.matmul, 4:graph.scale, 5:graph.causal_mask, 6:graph.softmax] loop-base 32768 per-row 512 min-peak 33280
// Chunking the keys (dim 1) stops before softmax, which mixes them.
// CHECK: candidate: seed 3:graph.matmul dim 1 extent 64 ops [1:graph.linear, 3:graph.matmul, 4:graph.scale, 5:graph.causal_mask] loop-base
// The next peak is the loop itself: k and v are read whole by every chunk.
// CHECK: peak 1: 25088 bytes at a loop
func.func @attention(%x: tensor<64x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>) -> tensor<64x32xf32> {
  %q = graph.linear %x, %wq : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %k = graph.linear %x, %wk : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %v = graph.linear %x, %wv : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %s = graph.matmul %q, %k {transpose_b} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x64xf32>
  %t = graph.scale %s {factor = 0.125 : f64} : tensor<64x64xf32>
  %m = graph.causal_mask %t : tensor<64x64xf32>
  %p = graph.softmax %m {axis = 1 : i64} : tensor<64x64xf32>
  %o = graph.matmul %p, %v : (tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  return %o : tensor<64x32xf32>
}
