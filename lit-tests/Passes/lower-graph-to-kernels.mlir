// RUN: chunk-opt --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-lower-graph-to-kernels))" %s | FileCheck %s

// Every compute op becomes a kernel.call with a tensor.empty destination and
// its parameters made explicit (gelu's default "none" included).
// CHECK-LABEL: func.func @calls
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK: %[[L:.*]] = kernel.call "linear" ins(%arg0, %arg1, %arg2 : {{.*}}) outs(%[[E0]] : tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK: kernel.call "gelu" ins(%[[L]] : tensor<4x16xf32>) outs(%{{.*}} : tensor<4x16xf32>) {elementwise, params = {approximate = "none"}}
// CHECK: kernel.call "softmax" {{.*}} {params = {axis = 1 : i64}}
// CHECK: kernel.call "linear_nobias" ins(%{{.*}}, %arg1 :
// CHECK: kernel.call "matmul" {{.*}} {params = {transpose_a = false, transpose_b = true}}
func.func @calls(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x4xf32>) {
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = graph.gelu %0 : tensor<4x16xf32>
  %2 = graph.softmax %0 {axis = 1} : tensor<4x16xf32>
  %3 = graph.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %4 = graph.matmul %1, %3 {transpose_b} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x4xf32>
  return %2, %1, %4 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x4xf32>
}

// -----

// An elementwise op whose operand dies there writes into it; one whose
// operand lives on, or is a function argument, gets a fresh destination.
// The add reads %1, which has two users (relu and add), and %2, whose only
// user is the add: %2's buffer is the add's destination.
// CHECK-LABEL: func.func @in_place
// CHECK: %[[A:.*]] = kernel.call "exp" ins(%arg0 : tensor<8xf32>) outs(%{{.*}} : tensor<8xf32>)
// CHECK: %[[B:.*]] = kernel.call "neg" ins(%[[A]] : tensor<8xf32>) outs(%[[A]] : tensor<8xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8xf32>
// CHECK: %[[R:.*]] = kernel.call "relu" ins(%[[B]] : tensor<8xf32>) outs(%[[E]] : tensor<8xf32>)
// CHECK: kernel.call "add" ins(%[[B]], %[[R]] : tensor<8xf32>, tensor<8xf32>) outs(%[[R]] : tensor<8xf32>)
func.func @in_place(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = graph.exp %x : tensor<8xf32>
  %1 = graph.neg %0 : tensor<8xf32>
  %2 = graph.relu %1 : tensor<8xf32>
  %3 = graph.add %1, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %3 : tensor<8xf32>
}

// -----

// Views become upstream tensor ops; concat becomes copies into slices.
// CHECK-LABEL: func.func @views
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<4x6xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] output_shape [2, 3, 4] : tensor<24xf32> into tensor<2x3x4xf32>
// CHECK: tensor.extract_slice %arg0[1, 0] [2, 3] [1, 2] : tensor<4x6xf32> to tensor<2x3xf32>
// CHECK: %[[D:.*]] = tensor.empty() : tensor<8x6xf32>
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[D]][0, 0] [4, 6] [1, 1]
// CHECK: %[[C0:.*]] = kernel.call "copy" ins(%arg0 : tensor<4x6xf32>) outs(%[[S0]] : tensor<4x6xf32>)
// CHECK: %[[D1:.*]] = tensor.insert_slice %[[C0]] into %[[D]][0, 0] [4, 6] [1, 1]
// CHECK: tensor.extract_slice %[[D1]][4, 0] [4, 6] [1, 1]
// CHECK: arith.constant dense<1.000000e+00> : tensor<2xf32>
func.func @views(%x: tensor<4x6xf32>) -> (tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<8x6xf32>, tensor<2xf32>) {
  %0 = graph.reshape %x : (tensor<4x6xf32>) -> tensor<2x3x4xf32>
  %1 = graph.slice %x {starts = array<i64: 1, 0>, limits = array<i64: 3, 6>, strides = array<i64: 1, 2>} : (tensor<4x6xf32>) -> tensor<2x3xf32>
  %2 = graph.concat %x, %x {axis = 0} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<8x6xf32>
  %3 = graph.constant dense<1.0> : tensor<2xf32>
  return %0, %1, %2, %3 : tensor<2x3x4xf32>, tensor<2x3xf32>, tensor<8x6xf32>, tensor<2xf32>
}

// -----

// The causal mask always passes both offsets.
// CHECK-LABEL: func.func @mask
// CHECK: %[[Z:.*]] = arith.constant 0 : index
// CHECK: kernel.call "causal_mask" ins(%arg0, %arg1, %[[Z]] : tensor<4x8xf32>, index, index) {{.*}} {elementwise, params = {diagonal = 0 : i64}}
func.func @mask(%s: tensor<4x8xf32>, %row: index) -> tensor<4x8xf32> {
  %0 = graph.causal_mask %s row_offset(%row) : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Inside a chunk loop, a value computed before the loop is read by every
// iteration: an elementwise op must not write into it, even when it is its
// only user and has the chunk's type.
// CHECK-LABEL: func.func @loop_input
// CHECK: %[[OUTSIDE:.*]] = kernel.call "exp"
// CHECK: scf.for
// CHECK:   %[[N:.*]] = kernel.call "neg"
// CHECK:   %[[E:.*]] = tensor.empty() : tensor<1x4xf32>
// CHECK:   kernel.call "add" ins(%[[OUTSIDE]], %[[N]] : tensor<1x4xf32>, tensor<1x4xf32>) outs(%[[E]] : tensor<1x4xf32>)
func.func @loop_input(%x: tensor<8x4xf32>, %b: tensor<1x4xf32>) -> tensor<8x4xf32> {
  %e = graph.exp %b : tensor<1x4xf32>
  %init = tensor.empty() : tensor<8x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %init) -> (tensor<8x4xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 4] [1, 1] : tensor<8x4xf32> to tensor<1x4xf32>
    %n = graph.neg %row : tensor<1x4xf32>
    %s = graph.add %e, %n : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
    %t = graph.mul %s, %n : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
    %ins = tensor.insert_slice %t into %acc[%i, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<8x4xf32>
    scf.yield %ins : tensor<8x4xf32>
  }
  return %r : tensor<8x4xf32>
}
