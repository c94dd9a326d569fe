// RUN: chunk-opt --autochunk-graph-summary %s -o /dev/null | FileCheck %s

// The liveness, by hand: %h, %a and %s are 4x16 f32 (256 B each), %o is
// 4x8 (128 B). The gelu cannot write into %h (the add reads it later), so
// %h and %a are live together: 512 B, the peak. The add writes into %a,
// which dies there; the second linear sees %s and %o: 384 B.

// CHECK-LABEL: function @mlp
// CHECK-NEXT:   inputs: 1, 128 bytes
// CHECK-NEXT:     x: tensor<4x8xf32>
// CHECK-NEXT:   weights: 2, 256 parameters, 1024 bytes (1.00 KiB)
// CHECK-NEXT:   outputs: 1, 128 bytes
// CHECK-NEXT:     y: tensor<4x8xf32>
// CHECK-NEXT:   ops: 4
// CHECK-NEXT:     graph.linear: 2
// CHECK-NEXT:     graph.gelu: 1
// CHECK-NEXT:     graph.add: 1
// Two linears of 4*16*8 multiply-adds (2 FLOPs each), a gelu and an add of
// 64 elements: 1024 + 64 + 64 + 1024. Bytes: each linear reads its input and
// weight and writes its result (128 + 512 + 256, 256 + 512 + 128), the gelu
// reads and writes 256, the add reads two and writes one: 3072.
// CHECK-NEXT:   flops: 2176
// CHECK-NEXT:   bytes moved: 3072
// CHECK-NEXT:   intermediate values: 4, 896 bytes in all
// CHECK-NEXT:   activation peak: 512 bytes at graph.gelu {{.*}}graph-summary.mlir":[[@LINE+6]]
func.func @mlp(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"},
               %w1: tensor<16x8xf32> {graph.name = "fc1.weight", graph.role = "weight"},
               %w2: tensor<8x16xf32> {graph.name = "fc2.weight", graph.role = "weight"})
    -> (tensor<4x8xf32> {graph.name = "y"}) {
  %h = graph.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = graph.gelu %h : tensor<4x16xf32>
  %s = graph.add %a, %h : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %o = graph.linear %s, %w2 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}
