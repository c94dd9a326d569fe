// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates -o /dev/null | FileCheck %s

// Triangle multiplication (outgoing) on a 32x32 pair with 16 channels:
// a, b and e are 32x32x16 f32 = 65536 bytes each, the peak a + b + e =
// 196608 at the einsum.
// CHECK: function @triangle: peak 196608 bytes at 2:graph.einsum
// Along i (dim 0): b is read whole by every chunk (65536) and the output
// accumulator is 32768: base 98304; per row a and e (2048 each) are live at
// the einsum: 4096.
// CHECK: candidate: seed 0:graph.linear dim 0 extent 32 ops [0:graph.linear, 2:graph.einsum, 3:graph.linear] loop-base 98304 per-row 4096 min-peak 102400
// The summed label k (dim 1 of a) cannot grow into the einsum.
// CHECK: candidate: seed 0:graph.linear dim 1 extent 32 ops [0:graph.linear] loop-base
// Along the channels (dim 2): both projections and the einsum; the einsum
// result is the accumulator (65536), a channel of a, b and e is 3 x 4096.
// The peak then moves to the last linear (e + o = 98304).
// CHECK: candidate: seed 0:graph.linear dim 2 extent 16 ops [0:graph.linear, 1:graph.linear, 2:graph.einsum] loop-base 65536 per-row 12288 min-peak 98304
func.func @triangle(%z: tensor<32x32x8xf32>, %wa: tensor<16x8xf32>, %wb: tensor<16x8xf32>, %wo: tensor<8x16xf32>) -> tensor<32x32x8xf32> {
  %a = graph.linear %z, %wa : (tensor<32x32x8xf32>, tensor<16x8xf32>) -> tensor<32x32x16xf32>
  %b = graph.linear %z, %wb : (tensor<32x32x8xf32>, tensor<16x8xf32>) -> tensor<32x32x16xf32>
  %e = graph.einsum "ikc,jkc->ijc" %a, %b : (tensor<32x32x16xf32>, tensor<32x32x16xf32>) -> tensor<32x32x16xf32>
  %o = graph.linear %e, %wo : (tensor<32x32x16xf32>, tensor<8x16xf32>) -> tensor<32x32x8xf32>
  return %o : tensor<32x32x8xf32>
}
