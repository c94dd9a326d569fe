// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates -o /dev/null | FileCheck %s

// An arith op on tensors has no dimension flow: a barrier. The search stops
// there without an error; regions seeded at the linear contain only it.
// CHECK: function @barrier: peak 65536 bytes at 1:arith.negf
// CHECK-NEXT: peak 0: 65536 bytes at 1:arith.negf, 2 candidates
// CHECK-NEXT: candidate: seed 0:graph.linear dim 0 extent 64 ops [0:graph.linear] loop-base
// CHECK-NEXT: candidate: seed 0:graph.linear dim 1 extent 128 ops [0:graph.linear] loop-base
// CHECK-NOT: candidate
func.func @barrier(%x: tensor<64x32xf32>, %w1: tensor<128x32xf32>, %w2: tensor<32x128xf32>) -> tensor<64x32xf32> {
  %h = graph.linear %x, %w1 : (tensor<64x32xf32>, tensor<128x32xf32>) -> tensor<64x128xf32>
  %n = arith.negf %h : tensor<64x128xf32>
  %g = graph.gelu %n : tensor<64x128xf32>
  %y = graph.linear %g, %w2 : (tensor<64x128xf32>, tensor<32x128xf32>) -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}
