// RUN: chunk-opt --mlir-disable-threading --pass-pipeline="builtin.module(func.func(autochunk-test-print-dimension-flow))" %s -o /dev/null | FileCheck %s

// Upstream linalg ops, derived from their indexing maps: a result dim flows
// from every operand dim (the init included) indexed by the same parallel
// loop; operand dims indexed by a reduction loop are reduced.

// CHECK-LABEL: dimension flow of @matmul
// CHECK-NEXT: tensor.empty barrier
// CHECK-NEXT: linalg.fill result 0: d0 <- {op1.d0}, d1 <- {op1.d1}
// CHECK-NEXT: linalg.fill reduced: none
// CHECK-NEXT: linalg.matmul result 0: d0 <- {op0.d0, op2.d0}, d1 <- {op1.d1, op2.d1}
// CHECK-NEXT: linalg.matmul reduced: op0.d1, op1.d0
func.func @matmul(%a: tensor<16x32xf32>, %b: tensor<32x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<16x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<16x8xf32>) -> tensor<16x8xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x8xf32>)
                     outs(%init : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %0 : tensor<16x8xf32>
}

// CHECK-LABEL: dimension flow of @batch_matmul
// CHECK-NEXT: linalg.batch_matmul result 0: d0 <- {op0.d0, op1.d0, op2.d0}, d1 <- {op0.d1, op2.d1}, d2 <- {op1.d2, op2.d2}
// CHECK-NEXT: linalg.batch_matmul reduced: op0.d2, op1.d1
func.func @batch_matmul(%a: tensor<4x16x32xf32>, %b: tensor<4x32x8xf32>,
                        %c: tensor<4x16x8xf32>) -> tensor<4x16x8xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<4x16x32xf32>, tensor<4x32x8xf32>)
                           outs(%c : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  return %0 : tensor<4x16x8xf32>
}

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#reduce_cols = affine_map<(d0, d1) -> (d0)>
#shifted = affine_map<(d0, d1) -> (d0, d1 + 1)>

// Elementwise with a bias broadcast over rows: the bias is a source of the
// column dim only.
// CHECK-LABEL: dimension flow of @generic
// CHECK-NEXT: linalg.generic result 0: d0 <- {op0.d0, op2.d0}, d1 <- {op0.d1, op1.d0, op2.d1}
// CHECK-NEXT: linalg.generic reduced: none
// A row sum: the column loop is a reduction.
// CHECK-NEXT: linalg.generic result 0: d0 <- {op0.d0, op1.d0}
// CHECK-NEXT: linalg.generic reduced: op0.d1
// A shifted read (d1 + 1) ties the column loop to no 1:1 slice.
// CHECK-NEXT: linalg.generic result 0: d0 <- {op0.d0, op1.d0}, d1 opaque
// CHECK-NEXT: linalg.generic reduced: none
// linalg.index makes values depend on the position along the column loop.
// CHECK-NEXT: linalg.generic result 0: d0 <- {op0.d0, op1.d0}, d1 opaque
// CHECK-NEXT: linalg.generic reduced: none
func.func @generic(%x: tensor<8x16xf32>, %bias: tensor<16xf32>, %init: tensor<8x16xf32>,
                   %sums: tensor<8xf32>, %wide: tensor<8x17xf32>) {
  %0 = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %bias : tensor<8x16xf32>, tensor<16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #reduce_cols],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<8x16xf32>) outs(%sums : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %2 = linalg.generic {indexing_maps = [#shifted, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%wide : tensor<8x17xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%a: f32, %out: f32):
    linalg.yield %a : f32
  } -> tensor<8x16xf32>
  %3 = linalg.generic {indexing_maps = [#id, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%a: f32, %out: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %jf = arith.sitofp %ji : i32 to f32
    %s = arith.addf %a, %jf : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return
}

// CHECK-LABEL: dimension flow of @softmax
// CHECK-NEXT: linalg.softmax result 0: d0 <- {op0.d0, op1.d0}, d1 <- {op0.d1, op1.d1}, d2 mixed
// CHECK-NEXT: linalg.softmax reduced: none
func.func @softmax(%x: tensor<2x16x16xf32>, %init: tensor<2x16x16xf32>) -> tensor<2x16x16xf32> {
  %0 = linalg.softmax dimension(2) ins(%x : tensor<2x16x16xf32>)
                                   outs(%init : tensor<2x16x16xf32>) -> tensor<2x16x16xf32>
  return %0 : tensor<2x16x16xf32>
}
