// RUN: chunk-opt --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-lower-graph-to-kernels))" %s | FileCheck %s

// GPT attention scores: scale, causal mask and softmax over the last axis
// become one call; the mask's absent offsets are passed as 0.
// CHECK-LABEL: func.func @gpt_scores
// CHECK: %[[S:.*]] = kernel.call "matmul"
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 0 : index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x6x6xf32>
// CHECK: kernel.call "scale_mask_softmax" ins(%[[S]], %[[S]], %[[C0]], %[[C1]] : tensor<2x6x6xf32>, tensor<2x6x6xf32>, index, index) outs(%[[E]] : tensor<2x6x6xf32>) {params = {causal = true, diagonal = 0 : i64, factor = 5.000000e-01 : f64, has_bias = false}}
// CHECK-NOT: kernel.call "scale"
// CHECK-NOT: kernel.call "causal_mask"
// CHECK-NOT: kernel.call "softmax"
func.func @gpt_scores(%q: tensor<2x6x4xf32>, %k: tensor<2x6x4xf32>) -> tensor<2x6x6xf32> {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x6x4xf32>, tensor<2x6x4xf32>) -> tensor<2x6x6xf32>
  %t = graph.scale %s {factor = 0.5 : f64} : tensor<2x6x6xf32>
  %m = graph.causal_mask %t : tensor<2x6x6xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x6x6xf32>
  return %p : tensor<2x6x6xf32>
}

// -----

// Evoformer pair bias: logits [batch, heads, r, r] plus a bias [heads, r, r]
// broadcast over the batch, then softmax; factor 1, no mask.
// CHECK-LABEL: func.func @pair_bias
// CHECK: %[[L:.*]] = kernel.call "matmul"
// CHECK: kernel.call "scale_mask_softmax" ins(%[[L]], %arg2, %{{.*}}, %{{.*}} : tensor<2x3x5x5xf32>, tensor<3x5x5xf32>, index, index) outs(%{{.*}} : tensor<2x3x5x5xf32>) {params = {causal = false, diagonal = 0 : i64, factor = 1.000000e+00 : f64, has_bias = true}}
// CHECK-NOT: kernel.call "add"
func.func @pair_bias(%q: tensor<2x3x5x4xf32>, %k: tensor<2x3x5x4xf32>, %bias: tensor<3x5x5xf32>) -> tensor<2x3x5x5xf32> {
  %l = graph.matmul %q, %k {transpose_b} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x5xf32>
  %a = graph.add %l, %bias : (tensor<2x3x5x5xf32>, tensor<3x5x5xf32>) -> tensor<2x3x5x5xf32>
  %p = graph.softmax %a {axis = 3} : tensor<2x3x5x5xf32>
  return %p : tensor<2x3x5x5xf32>
}

// -----

// The bias on the left of the add, all three steps, and a chunk loop's mask
// offsets (as the chunk rewrite writes them) passed through to the call.
// CHECK-LABEL: func.func @chunked_all_three
// CHECK: scf.for %[[IV:[a-z0-9]+]] =
// CHECK:   %[[S:.*]] = kernel.call "matmul"
// CHECK:   %[[C0:.*]] = arith.constant 0 : index
// CHECK:   kernel.call "scale_mask_softmax" ins(%[[S]], %arg2, %[[IV]], %[[C0]] : {{.*}}) outs(%{{.*}} : tensor<2x4x6xf32>) {params = {causal = true, diagonal = 1 : i64, factor = 2.500000e-01 : f64, has_bias = true}}
func.func @chunked_all_three(%q: tensor<2x8x4xf32>, %k: tensor<2x6x4xf32>, %bias: tensor<4x6xf32>, %init: tensor<2x8x6xf32>) -> tensor<2x8x6xf32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %iv = %c0 to %c8 step %c4 iter_args(%acc = %init) -> (tensor<2x8x6xf32>) {
    %qc = tensor.extract_slice %q[0, %iv, 0] [2, 4, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<2x4x4xf32>
    %s = graph.matmul %qc, %k {transpose_b} : (tensor<2x4x4xf32>, tensor<2x6x4xf32>) -> tensor<2x4x6xf32>
    %t = graph.scale %s {factor = 0.25 : f64} : tensor<2x4x6xf32>
    %m = graph.causal_mask %t row_offset(%iv) {diagonal = 1 : i64} : tensor<2x4x6xf32>
    %a = graph.add %bias, %m : (tensor<4x6xf32>, tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
    %p = graph.softmax %a {axis = 2} : tensor<2x4x6xf32>
    %ins = tensor.insert_slice %p into %acc[0, %iv, 0] [2, 4, 6] [1, 1, 1] : tensor<2x4x6xf32> into tensor<2x8x6xf32>
    scf.yield %ins : tensor<2x8x6xf32>
  }
  return %r : tensor<2x8x6xf32>
}

// -----

// An add whose left operand is the broadcast one: the full-shaped right
// operand is the scores, the left the bias (addition commutes bitwise).
// CHECK-LABEL: func.func @bias_first
// CHECK: kernel.call "scale_mask_softmax" ins(%arg1, %arg0, {{.*}}) {{.*}} {params = {causal = false, diagonal = 0 : i64, factor = 1.000000e+00 : f64, has_bias = true}}
func.func @bias_first(%bias: tensor<1x4x4xf32>, %x: tensor<3x4x4xf32>) -> tensor<3x4x4xf32> {
  %a = graph.add %bias, %x : (tensor<1x4x4xf32>, tensor<3x4x4xf32>) -> tensor<3x4x4xf32>
  %p = graph.softmax %a {axis = 2} : tensor<3x4x4xf32>
  return %p : tensor<3x4x4xf32>
}

// -----

// Not fused: the scaled scores have a second user (they are returned), so
// the scale stays; the mask and softmax after it still fuse (factor 1).
// CHECK-LABEL: func.func @scale_two_users
// CHECK: %[[T:.*]] = kernel.call "scale"
// CHECK: kernel.call "scale_mask_softmax" ins(%[[T]], %[[T]], {{.*}}) {{.*}} {params = {causal = true, diagonal = 0 : i64, factor = 1.000000e+00 : f64, has_bias = false}}
func.func @scale_two_users(%s: tensor<6x6xf32>) -> (tensor<6x6xf32>, tensor<6x6xf32>) {
  %t = graph.scale %s {factor = 0.5 : f64} : tensor<6x6xf32>
  %m = graph.causal_mask %t : tensor<6x6xf32>
  %p = graph.softmax %m {axis = 1} : tensor<6x6xf32>
  return %p, %t : tensor<6x6xf32>, tensor<6x6xf32>
}

// -----

// Not fused: a softmax over another axis than the last (the kernel is
// row-wise over the last one), and an add neither of whose operands has the
// result's shape (the kernel broadcasts the bias only, never the scores).
// CHECK-LABEL: func.func @unsupported_shapes
// CHECK: kernel.call "scale"
// CHECK: kernel.call "causal_mask"
// CHECK: kernel.call "softmax" {{.*}} {params = {axis = 0 : i64}}
// CHECK: kernel.call "add"
// CHECK: kernel.call "softmax" {{.*}} {params = {axis = 2 : i64}}
// CHECK-NOT: scale_mask_softmax
func.func @unsupported_shapes(%s: tensor<6x6xf32>, %x: tensor<1x4x4xf32>, %bias: tensor<3x1x4xf32>) -> (tensor<6x6xf32>, tensor<3x4x4xf32>) {
  %t = graph.scale %s {factor = 0.5 : f64} : tensor<6x6xf32>
  %m = graph.causal_mask %t : tensor<6x6xf32>
  %p = graph.softmax %m {axis = 0} : tensor<6x6xf32>
  %a = graph.add %x, %bias : (tensor<1x4x4xf32>, tensor<3x1x4xf32>) -> tensor<3x4x4xf32>
  %q = graph.softmax %a {axis = 2} : tensor<3x4x4xf32>
  return %p, %q : tensor<6x6xf32>, tensor<3x4x4xf32>
}

// -----

// Linear with a bias followed by gelu (its approximation passed on), relu
// or silu: one call each, a fresh destination.
// CHECK-LABEL: func.func @linear_activation
// CHECK: kernel.call "linear_gelu" ins(%arg0, %arg1, %arg2 : {{.*}}) outs(%{{.*}} : tensor<4x16xf32>) {params = {approximate = "tanh"}}
// CHECK: kernel.call "linear_relu" ins(%arg0, %arg1, %arg2 : {{.*}}) outs(%{{.*}} : tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK: kernel.call "linear_silu" ins(%arg0, %arg1, %arg2 : {{.*}}) outs(%{{.*}} : tensor<4x16xf32>) -> tensor<4x16xf32>
// CHECK-NOT: kernel.call "linear"
func.func @linear_activation(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = graph.gelu %0 {approximate = "tanh"} : tensor<4x16xf32>
  %2 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %3 = graph.relu %2 : tensor<4x16xf32>
  %4 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %5 = graph.silu %4 : tensor<4x16xf32>
  return %1, %3, %5 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Not fused: a linear without a bias, and a linear whose result is also
// returned.
// CHECK-LABEL: func.func @linear_not_fused
// CHECK: kernel.call "linear_nobias"
// CHECK: kernel.call "relu"
// CHECK: kernel.call "linear" ins
// CHECK: kernel.call "gelu"
// CHECK-NOT: linear_
func.func @linear_not_fused(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = graph.linear %x, %w : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %1 = graph.relu %0 : tensor<4x16xf32>
  %2 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %3 = graph.gelu %2 : tensor<4x16xf32>
  return %1, %2, %3 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Sigmoid gating in both operand orders. The gate's pre-activation dies at
// the gating and was computed by a kernel in this block, so the call writes
// into it; a function argument is never overwritten.
// CHECK-LABEL: func.func @sigmoid_gate
// CHECK: %[[G:.*]] = kernel.call "linear"
// CHECK: kernel.call "sigmoid_gate" ins(%[[G]], %arg3 : tensor<4x16xf32>, tensor<4x16xf32>) outs(%[[G]] : tensor<4x16xf32>) {elementwise}
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK: kernel.call "sigmoid_gate" ins(%arg3, %arg3 : tensor<4x16xf32>, tensor<4x16xf32>) outs(%[[E]] : tensor<4x16xf32>) {elementwise}
// CHECK-NOT: kernel.call "sigmoid"
// CHECK-NOT: kernel.call "mul"
func.func @sigmoid_gate(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>, %v: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = graph.sigmoid %0 : tensor<4x16xf32>
  %2 = graph.mul %v, %1 : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = graph.sigmoid %v : tensor<4x16xf32>
  %4 = graph.mul %3, %v : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %2, %4 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Not fused: a sigmoid with a second user, and a sigmoid in another block
// than the mul (a chunk loop body).
// CHECK-LABEL: func.func @sigmoid_not_fused
// CHECK: kernel.call "sigmoid"
// CHECK: kernel.call "mul"
// CHECK: kernel.call "sigmoid"
// CHECK: scf.for
// CHECK:   kernel.call "mul"
// CHECK-NOT: sigmoid_gate
func.func @sigmoid_not_fused(%a: tensor<4x16xf32>, %v: tensor<4x16xf32>, %init: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %0 = graph.sigmoid %a : tensor<4x16xf32>
  %1 = graph.mul %0, %v : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  %2 = graph.sigmoid %v : tensor<4x16xf32>
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %iv = %c0 to %c4 step %c2 iter_args(%acc = %init) -> (tensor<4x16xf32>) {
    %m = graph.mul %2, %v : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
    scf.yield %m : tensor<4x16xf32>
  }
  return %1, %0, %r : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}
