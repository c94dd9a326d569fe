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

