// RUN: chunk-opt %s --autochunk-chunk=memory-budget=28672 | FileCheck %s
// RUN: chunk-opt %s --autochunk-chunk=memory-budget=0.7x | FileCheck %s
// RUN: chunk-opt %s --autochunk-chunk | FileCheck %s --check-prefix=NOBUDGET

// The attention of candidates-attention.mlir under a budget of 0.7 x 40960
// = 28672 bytes: chunking the queries costs 24576 outside the loop and 512
// per row, so (28672 - 24576) / 512 = 8 rows per chunk.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: autochunk.peak_after = 28672 : i64, autochunk.peak_before = 40960 : i64
// CHECK-SAME: autochunk.plan = [{bytes_after = 28672 : i64, bytes_before = 40960 : i64, chunk_size = 8 : i64, dim = 0 : i64, extent = 64 : i64, ops = 5 : i64, recomputed_ops = 0 : i64, region = 0 : i64, slowdown = {{.*}} : f64}]
// CHECK-SAME: autochunk.predicted_slowdown
// The loop writes its output over q, which only the loop reads, chunk by
// chunk (each chunk of q is read before the same rows of the output are
// written), so the q projection stays outside the loop at no cost.
// CHECK: %[[Q:.*]] = graph.linear %arg0, %arg1
// CHECK: graph.linear %arg0, %arg2
// CHECK: graph.linear %arg0, %arg3
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[Q]])
// CHECK: graph.matmul %{{.*}} {transpose_b} : (tensor<8x32xf32>
// CHECK: graph.softmax %{{.*}} : tensor<8x64xf32>
// CHECK: } {autochunk.chunk_size = 8 : i64, autochunk.extent = 64 : i64, autochunk.region = 0 : i64}
// The liveness of the rewritten IR agrees with the plan (else a warning).
// CHECK-NOT: warning

// Without a budget the pass changes nothing.
// NOBUDGET-NOT: scf.for
// NOBUDGET-NOT: autochunk.plan
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
