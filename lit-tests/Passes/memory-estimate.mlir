// RUN: chunk-opt --autochunk-test-print-memory-estimate %s -o /dev/null | FileCheck %s

// Attention, 2 heads x 10 queries x 10 keys (f32): scores 800 B, the mask
// writes in place, the softmax needs a second 800 B buffer while the scores
// are still live (1600 B, the peak), the output is 320 B. The arena is 1632
// B: offsets are 64-byte aligned, so the output cannot start at byte 800.
// CHECK-LABEL: memory estimate for @attention
// CHECK-NEXT:  inputs: 960 bytes
// CHECK-NEXT:  weights: 0 bytes
// CHECK-NEXT:  graph.matmul {{.*}}: 800 live
// CHECK-NEXT:  graph.causal_mask {{.*}}: 800 live
// CHECK-NEXT:  graph.softmax {{.*}}: 1600 live
// CHECK-NEXT:  graph.matmul {{.*}}: 1120 live
// CHECK-NEXT:  peak: 1600 bytes live at graph.softmax
// CHECK-NEXT:  arena: 1632 bytes
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
