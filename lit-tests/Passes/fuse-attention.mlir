// RUN: chunk-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(autochunk-fuse-attention))" | FileCheck %s

// A GPT head: scale, causal mask, softmax over the keys, then the values.
// CHECK-LABEL: func.func @causal
// CHECK-NEXT: %[[O:.*]] = graph.attention %arg0, %arg1, %arg2 {causal, scale = 1.250000e-01 : f64} : tensor<2x10x4xf32>, tensor<2x10x4xf32>, tensor<2x10x6xf32> -> tensor<2x10x6xf32>
// CHECK-NEXT: return %[[O]]
func.func @causal(%q: tensor<2x10x4xf32>, %k: tensor<2x10x4xf32>, %v: tensor<2x10x6xf32>) -> tensor<2x10x6xf32> {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %t = graph.scale %s {factor = 0.125 : f64} : tensor<2x10x10xf32>
  %m = graph.causal_mask %t {diagonal = 0 : i64} : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x6xf32>) -> tensor<2x10x6xf32>
  return %o : tensor<2x10x6xf32>
}

// -----

// An Evoformer head: a pair bias broadcast over the sequences, added as the
// left or the right operand.
// CHECK-LABEL: func.func @bias
// CHECK-NEXT: %[[A:.*]] = graph.attention %arg0, %arg0, %arg0 bias(%arg1 : tensor<8x24x24xf32>) {scale = 1.000000e+00 : f64}
// CHECK-NEXT: %[[B:.*]] = graph.attention %arg0, %arg0, %arg0 bias(%arg1 : tensor<8x24x24xf32>) {scale = 1.000000e+00 : f64}
func.func @bias(%x: tensor<4x8x24x16xf32>, %b: tensor<8x24x24xf32>) -> (tensor<4x8x24x16xf32>, tensor<4x8x24x16xf32>) {
  %s = graph.matmul %x, %x {transpose_b} : (tensor<4x8x24x16xf32>, tensor<4x8x24x16xf32>) -> tensor<4x8x24x24xf32>
  %a = graph.add %s, %b : (tensor<4x8x24x24xf32>, tensor<8x24x24xf32>) -> tensor<4x8x24x24xf32>
  %p = graph.softmax %a {axis = 3} : tensor<4x8x24x24xf32>
  %o = graph.matmul %p, %x : (tensor<4x8x24x24xf32>, tensor<4x8x24x16xf32>) -> tensor<4x8x24x16xf32>
  %s2 = graph.matmul %x, %x {transpose_b} : (tensor<4x8x24x16xf32>, tensor<4x8x24x16xf32>) -> tensor<4x8x24x24xf32>
  %a2 = graph.add %b, %s2 : (tensor<8x24x24xf32>, tensor<4x8x24x24xf32>) -> tensor<4x8x24x24xf32>
  %p2 = graph.softmax %a2 {axis = 3} : tensor<4x8x24x24xf32>
  %o2 = graph.matmul %p2, %x : (tensor<4x8x24x24xf32>, tensor<4x8x24x16xf32>) -> tensor<4x8x24x16xf32>
  return %o, %o2 : tensor<4x8x24x16xf32>, tensor<4x8x24x16xf32>
}

// -----

// Chains that must stay unfused.
// The attention weights are also returned: they must exist in memory.
// CHECK-LABEL: func.func @weights_used
// CHECK-NOT: graph.attention
// CHECK: graph.softmax
func.func @weights_used(%q: tensor<2x10x4xf32>, %v: tensor<2x10x4xf32>) -> (tensor<2x10x4xf32>, tensor<2x10x10xf32>) {
  %s = graph.matmul %q, %q {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %p = graph.softmax %s {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o, %p : tensor<2x10x4xf32>, tensor<2x10x10xf32>
}

// -----

// A softmax over the queries is not attention's.
// CHECK-LABEL: func.func @softmax_axis
// CHECK-NOT: graph.attention
func.func @softmax_axis(%q: tensor<2x10x4xf32>, %v: tensor<2x10x4xf32>) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %q {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %p = graph.softmax %s {axis = 1} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}

// -----

// Keys broadcast over the batch: graph.attention shares leading dims only.
// CHECK-LABEL: func.func @broadcast_keys
// CHECK-NOT: graph.attention
func.func @broadcast_keys(%q: tensor<2x10x4xf32>, %k: tensor<10x4xf32>, %v: tensor<2x10x4xf32>) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x10x4xf32>, tensor<10x4xf32>) -> tensor<2x10x10xf32>
  %p = graph.softmax %s {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}

// -----

// A mask already placed in a chunk (its own offsets) stays as it is.
// CHECK-LABEL: func.func @mask_with_offset
// CHECK-NOT: graph.attention
func.func @mask_with_offset(%q: tensor<2x10x4xf32>, %v: tensor<2x10x4xf32>, %i: index) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %q {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s row_offset(%i) : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}

// -----

// Scores that are not Q K^T (no transpose_b) are not attention's logits.
// CHECK-LABEL: func.func @not_qkt
// CHECK-NOT: graph.attention
func.func @not_qkt(%q: tensor<2x10x4xf32>, %kt: tensor<2x4x10xf32>, %v: tensor<2x10x4xf32>) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %kt : (tensor<2x10x4xf32>, tensor<2x4x10xf32>) -> tensor<2x10x10xf32>
  %p = graph.softmax %s {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}

// -----

// Heads wider than 128 (the CUDA kernel's register tile) stay unfused.
// CHECK-LABEL: func.func @wide_head
// CHECK-NOT: graph.attention
func.func @wide_head(%q: tensor<2x10x160xf32>, %v: tensor<2x10x4xf32>) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %q {transpose_b} : (tensor<2x10x160xf32>, tensor<2x10x160xf32>) -> tensor<2x10x10xf32>
  %p = graph.softmax %s {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
