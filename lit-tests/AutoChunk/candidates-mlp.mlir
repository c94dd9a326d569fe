// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates -o /dev/null | FileCheck %s

// MLP 64x32 -> 128 -> 32, f32. h is 32768 bytes (gelu runs in place), y 8192:
// the peak is h + y = 40960 at the second linear.
// CHECK: function @mlp: peak 40960 bytes at 2:graph.linear
// Rows (dim 0) through the whole MLP: only the output accumulator (8192)
// lives outside; per row the body holds h (128 x 4 = 512) and y (32 x 4 =
// 128): 8192 + 640 = 8832 at chunk size 1.
// CHECK: candidate: seed 0:graph.linear dim 0 extent 64 ops [0:graph.linear, 1:graph.gelu, 2:graph.linear] loop-base 8192 per-row 640 min-peak 8832
// Hidden features (dim 1) stop at the second linear, which reduces them:
// the gelu output (32768) is the accumulator, a column is 64 x 4 = 256.
// CHECK: candidate: seed 0:graph.linear dim 1 extent 128 ops [0:graph.linear, 1:graph.gelu] loop-base 32768 per-row 256 min-peak 40960
func.func @mlp(%x: tensor<64x32xf32>, %w1: tensor<128x32xf32>, %w2: tensor<32x128xf32>) -> tensor<64x32xf32> {
  %h = graph.linear %x, %w1 : (tensor<64x32xf32>, tensor<128x32xf32>) -> tensor<64x128xf32>
  %g = graph.gelu %h : tensor<64x128xf32>
  %y = graph.linear %g, %w2 : (tensor<64x128xf32>, tensor<32x128xf32>) -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}
