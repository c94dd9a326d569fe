// RUN: chunk-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-einsum-batch-major))" | FileCheck %s

// Triangle multiplication, outgoing: the batch label c is innermost in both
// operands and the result; it moves outermost, with transposes around.
// CHECK-LABEL: func.func @outgoing
// CHECK: %[[A:.*]] = graph.transpose %arg0 {permutation = array<i64: 2, 0, 1>} : (tensor<4x5x3xf32>) -> tensor<3x4x5xf32>
// CHECK: %[[B:.*]] = graph.transpose %arg1 {permutation = array<i64: 2, 0, 1>} : (tensor<6x5x3xf32>) -> tensor<3x6x5xf32>
// CHECK: %[[P:.*]] = graph.einsum "cik,cjk->cij" %[[A]], %[[B]] : (tensor<3x4x5xf32>, tensor<3x6x5xf32>) -> tensor<3x4x6xf32>
// CHECK: %[[R:.*]] = graph.transpose %[[P]] {permutation = array<i64: 1, 2, 0>} : (tensor<3x4x6xf32>) -> tensor<4x6x3xf32>
// CHECK: return %[[R]]
func.func @outgoing(%a: tensor<4x5x3xf32>, %b: tensor<6x5x3xf32>) -> tensor<4x6x3xf32> {
  %o = graph.einsum "ikc,jkc->ijc" %a, %b : (tensor<4x5x3xf32>, tensor<6x5x3xf32>) -> tensor<4x6x3xf32>
  return %o : tensor<4x6x3xf32>
}

// -----

// Incoming: operands "kic", "kjc".
// CHECK-LABEL: func.func @incoming
// CHECK: graph.einsum "cki,ckj->cij"
func.func @incoming(%a: tensor<5x4x3xf32>, %b: tensor<5x6x3xf32>) -> tensor<4x6x3xf32> {
  %o = graph.einsum "kic,kjc->ijc" %a, %b : (tensor<5x4x3xf32>, tensor<5x6x3xf32>) -> tensor<4x6x3xf32>
  return %o : tensor<4x6x3xf32>
}

// -----

// Already batch-major, no batch label at all (outer product mean), or one
// operand: unchanged.
// CHECK-LABEL: func.func @unchanged
// CHECK-NOT: graph.transpose
// CHECK: graph.einsum "bik,bkj->bij"
// CHECK: graph.einsum "sic,sjd->ijcd"
// CHECK: graph.einsum "ij->ji"
// CHECK-NOT: graph.transpose
func.func @unchanged(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %m: tensor<3x4x2xf32>, %x: tensor<3x4xf32>) -> (tensor<2x3x5xf32>, tensor<4x4x2x2xf32>, tensor<4x3xf32>) {
  %0 = graph.einsum "bik,bkj->bij" %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  %1 = graph.einsum "sic,sjd->ijcd" %m, %m : (tensor<3x4x2xf32>, tensor<3x4x2xf32>) -> tensor<4x4x2x2xf32>
  %2 = graph.einsum "ij->ji" %x : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %0, %1, %2 : tensor<2x3x5xf32>, tensor<4x4x2x2xf32>, tensor<4x3xf32>
}
