// RUN: chunk-opt --split-input-file --autochunk-test-chunk-rewrite=chunk-size=4 %s | FileCheck %s

// Attention chunked along queries, 10 = 2 x 4 + 2: K and V are read whole,
// the mask's row offset follows the chunk, the remainder chunk comes after
// the loop, and each op is cloned once per chunk.
// CHECK-LABEL: func.func @attention
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x10x4xf32>
// CHECK: %[[LOOP:.*]] = scf.for %[[IV:.*]] = %{{.*}} to %c8 step %c4 iter_args(%[[ACC:.*]] = %[[INIT]])
// CHECK:   %[[Q:.*]] = tensor.extract_slice %arg0[0, %[[IV]], 0] [2, 4, 4] [1, 1, 1] : tensor<2x10x4xf32> to tensor<2x4x4xf32>
// CHECK:   %[[S:.*]] = graph.matmul %[[Q]], %arg1 {transpose_b} : (tensor<2x4x4xf32>, tensor<2x10x4xf32>) -> tensor<2x4x10xf32>
// CHECK:   %[[M:.*]] = graph.causal_mask %[[S]] row_offset(%[[IV]]) : tensor<2x4x10xf32>
// CHECK:   %[[P:.*]] = graph.softmax %[[M]] {axis = 2 : i64} : tensor<2x4x10xf32>
// CHECK:   %[[O:.*]] = graph.matmul %[[P]], %arg2 : (tensor<2x4x10xf32>, tensor<2x10x4xf32>) -> tensor<2x4x4xf32>
// CHECK:   %[[INS:.*]] = tensor.insert_slice %[[O]] into %[[ACC]][0, %[[IV]], 0] [2, 4, 4] [1, 1, 1]
// CHECK:   scf.yield %[[INS]]
// CHECK: } {autochunk.chunk_size = 4 : i64, autochunk.extent = 10 : i64}
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[QR:.*]] = tensor.extract_slice %arg0[0, %[[C8]], 0] [2, 2, 4]
// CHECK: graph.matmul %[[QR]], %arg1 {transpose_b} : (tensor<2x2x4xf32>, tensor<2x10x4xf32>) -> tensor<2x2x10xf32>
// CHECK: graph.causal_mask %{{.*}} row_offset(%[[C8]]) : tensor<2x2x10xf32>
// CHECK: %[[LAST:.*]] = tensor.insert_slice %{{.*}} into %[[LOOP]][0, %[[C8]], 0] [2, 2, 4]
// CHECK: return %[[LAST]]
func.func @attention(%q: tensor<2x10x4xf32>, %k: tensor<2x10x4xf32>, %v: tensor<2x10x4xf32>) -> tensor<2x10x4xf32> {
  %s = graph.matmul %q, %k {transpose_b, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1, -1>} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1, -1>} : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}

// -----

// Two outputs chunked along different dimensions (the second is a
// transpose), a shared producer cloned once per chunk, a masked column chunk
// moving the column offset, and a slice whose chunked dimension is whole.
// CHECK-LABEL: func.func @dag
// CHECK: scf.for %[[IV:.*]] = %{{.*}} to %c8 step %c4 iter_args(%[[A0:.*]] = %{{.*}}, %[[A1:.*]] = %{{.*}})
// CHECK-COUNT-1: graph.exp
// CHECK: graph.slice %{{.*}} {limits = array<i64: 2, 4>, starts = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<1x4xf32>
// CHECK: graph.causal_mask %{{.*}} col_offset(%[[IV]])
// CHECK: graph.transpose
// CHECK: tensor.insert_slice %{{.*}} into %[[A0]][0, %[[IV]]] [1, 4] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[A1]][%[[IV]], 0] [4, 3] [1, 1]
func.func @dag(%x: tensor<3x8xf32>) -> (tensor<1x8xf32>, tensor<8x3xf32>) {
  %e = graph.exp %x {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<3x8xf32>
  %s = graph.slice %e {starts = array<i64: 1, 0>, limits = array<i64: 2, 8>, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : (tensor<3x8xf32>) -> tensor<1x8xf32>
  %m = graph.causal_mask %e {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<3x8xf32>
  %t = graph.transpose %m {permutation = array<i64: 1, 0>, test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 1>} : (tensor<3x8xf32>) -> tensor<8x3xf32>
  return %s, %t : tensor<1x8xf32>, tensor<8x3xf32>
}


// -----

// A residual update: the loop's output has the residual's type and chunk
// dimension and nothing reads the residual after the loop, so the loop
// starts from the residual and overwrites it chunk by chunk (no full-size
// tensor.empty); the residual's chunk is read from the loop-carried value.
// The layer norm that both the region and a whole-tensor user need is
// recomputed per chunk from the residual's chunk (the original stays for the
// whole-tensor user, before the loop).
// CHECK-LABEL: func.func @residual_in_place
// CHECK: %[[R:.*]] = graph.add %arg0, %arg1
// CHECK: %[[LN:.*]] = graph.layer_norm %[[R]]
// CHECK: %[[K:.*]] = graph.linear %[[LN]], %arg4
// CHECK-NOT: tensor.empty
// CHECK: %[[LOOP:.*]] = scf.for %[[IV:.*]] = %{{.*}} to %c8 step %c4 iter_args(%[[ACC:.*]] = %[[R]])
// CHECK:   %[[RC:.*]] = tensor.extract_slice %[[ACC]][%[[IV]], 0] [4, 6] [1, 1]
// CHECK:   %[[LNC:.*]] = graph.layer_norm %[[RC]], %arg2, %arg3 {axis = 1 : i64} : (tensor<4x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK:   %[[Q:.*]] = graph.linear %[[LNC]], %arg4
// CHECK:   %[[S:.*]] = graph.matmul %[[Q]], %[[K]] {transpose_b}
// CHECK:   %[[T:.*]] = graph.slice %[[S]]
// CHECK:   %[[SUM:.*]] = graph.add %[[RC]], %[[T]]
// CHECK:   tensor.insert_slice %[[SUM]] into %[[ACC]][%[[IV]], 0] [4, 6] [1, 1]
// CHECK: tensor.extract_slice %[[LOOP]][%{{.*}}, 0] [2, 6] [1, 1]
// CHECK: return
func.func @residual_in_place(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>, %g: tensor<6xf32>, %beta: tensor<6xf32>, %w: tensor<6x6xf32>) -> tensor<10x6xf32> {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %ln = graph.layer_norm %r, %g, %beta {axis = 1, test.recompute_in_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1, -1>} : (tensor<10x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<10x6xf32>
  %k = graph.linear %ln, %w : (tensor<10x6xf32>, tensor<6x6xf32>) -> tensor<10x6xf32>
  %q = graph.linear %ln, %w {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x6xf32>, tensor<6x6xf32>) -> tensor<10x6xf32>
  %s = graph.matmul %q, %k {transpose_b, test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x10xf32>
  %t = graph.slice %s {starts = array<i64: 0, 0>, limits = array<i64: 10, 6>, test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : (tensor<10x10xf32>) -> tensor<10x6xf32>
  %sum = graph.add %r, %t {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum : tensor<10x6xf32>
}

// -----

// The residual is still read after the loop: no in-place output.
// CHECK-LABEL: func.func @residual_read_later
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @residual_read_later(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> (tensor<10x6xf32>, tensor<10x6xf32>) {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %e = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %r, %e {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %n = graph.neg %r : tensor<10x6xf32>
  return %sum, %n : tensor<10x6xf32>, tensor<10x6xf32>
}

// -----

// A function argument is never overwritten.
// CHECK-LABEL: func.func @argument_not_overwritten
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @argument_not_overwritten(%a: tensor<10x6xf32>) -> tensor<10x6xf32> {
  %e = graph.exp %a {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %a, %e {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum : tensor<10x6xf32>
}
