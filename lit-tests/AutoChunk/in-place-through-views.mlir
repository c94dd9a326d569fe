// RUN: chunk-opt --split-input-file --autochunk-test-chunk-rewrite=chunk-size=4 %s | FileCheck %s

// The rewrite writes a loop's output over a dying input when every reader of
// the input's buffer is done before the loop, views included: a view's
// readers read the same buffer. (Before, any view of the input ruled the
// in-place write out, among them the slices an earlier chunk loop reads the
// input through, while the search assumed the write; the Evoformer's
// incoming triangle multiplication then started from a fresh buffer, see
// evoformer-in-place-after-loop.test.)

// A view of the residual read only before the loop: in place.
// CHECK-LABEL: func.func @view_read_before
// CHECK: %[[R:.*]] = graph.add %arg0, %arg1
// CHECK: %[[V:.*]] = graph.reshape %[[R]]
// CHECK: graph.neg %[[V]]
// CHECK-NOT: tensor.empty
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[R]])
func.func @view_read_before(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> (tensor<10x6xf32>, tensor<5x12xf32>) {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %v = graph.reshape %r : (tensor<10x6xf32>) -> tensor<5x12xf32>
  %n = graph.neg %v : tensor<5x12xf32>
  %e = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %r, %e {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum, %n : tensor<10x6xf32>, tensor<5x12xf32>
}

// -----

// The view is made before the loop but read after it: the residual's
// buffer must survive the loop.
// CHECK-LABEL: func.func @view_read_after
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @view_read_after(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> (tensor<10x6xf32>, tensor<5x12xf32>) {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %v = graph.reshape %r : (tensor<10x6xf32>) -> tensor<5x12xf32>
  %e = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %r, %e {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %n = graph.neg %v : tensor<5x12xf32>
  return %sum, %n : tensor<10x6xf32>, tensor<5x12xf32>
}

// -----

// A view of a view, returned: never overwritten.
// CHECK-LABEL: func.func @view_returned
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @view_returned(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> (tensor<10x6xf32>, tensor<60xf32>) {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %v = graph.reshape %r : (tensor<10x6xf32>) -> tensor<5x12xf32>
  %w = graph.reshape %v : (tensor<5x12xf32>) -> tensor<60xf32>
  %e = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %r, %e {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum, %w : tensor<10x6xf32>, tensor<60xf32>
}

// -----

// The region itself reads a view of the residual (whole): the body would
// read the residual's buffer, not the loop-carried chunk, after earlier
// chunks overwrote it.
// CHECK-LABEL: func.func @view_read_by_region
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @view_read_by_region(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> tensor<10x6xf32> {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %v = graph.reshape %r : (tensor<10x6xf32>) -> tensor<6x10xf32>
  %m = graph.matmul %r, %v {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x6xf32>, tensor<6x10xf32>) -> tensor<10x10xf32>
  %t = graph.slice %m {starts = array<i64: 0, 0>, limits = array<i64: 10, 6>, test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : (tensor<10x10xf32>) -> tensor<10x6xf32>
  %sum = graph.add %r, %t {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum : tensor<10x6xf32>
}

// -----

// Two loops read the residual: the first (rewritten first) reads it through
// per-chunk slices and a remainder slice, all before the second loop, which
// may then overwrite it.
// CHECK-LABEL: func.func @after_an_earlier_loop
// CHECK: %[[R:.*]] = graph.add %arg0, %arg1
// CHECK: %[[FIRST:.*]] = scf.for
// CHECK:   tensor.extract_slice %[[R]][
// CHECK: tensor.extract_slice %[[R]][%{{.*}}, 0] [2, 6]
// CHECK: %[[T:.*]] = graph.transpose
// CHECK-NOT: tensor.empty
// CHECK: scf.for %[[IV:.*]] = %{{.*}} iter_args(%[[ACC:.*]] = %[[R]])
// CHECK-NEXT: tensor.extract_slice %[[ACC]][%[[IV]], 0] [4, 6]
func.func @after_an_earlier_loop(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> tensor<10x6xf32> {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %p = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %q = graph.transpose %p {permutation = array<i64: 1, 0>} : (tensor<10x6xf32>) -> tensor<6x10xf32>
  %m = graph.matmul %r, %q {test.chunk_region = 1, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x6xf32>, tensor<6x10xf32>) -> tensor<10x10xf32>
  %t = graph.slice %m {starts = array<i64: 0, 0>, limits = array<i64: 10, 6>, test.chunk_region = 1, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : (tensor<10x10xf32>) -> tensor<10x6xf32>
  %sum = graph.add %r, %t {test.chunk_region = 1, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  return %sum : tensor<10x6xf32>
}

// -----

// The loop rewritten first (region 0) runs last, after region 1's ops: it
// overwrites the residual (every other reader is done by then). Region 1,
// rewritten next, must then not overwrite the residual that the later loop
// starts from.
// CHECK-LABEL: func.func @before_a_later_loop
// CHECK: %[[R:.*]] = graph.add %arg0, %arg1
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<10x6xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK: graph.neg
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[R]])
// CHECK: graph.exp
// CHECK: graph.tanh
func.func @before_a_later_loop(%a: tensor<10x6xf32>, %b: tensor<10x6xf32>) -> (tensor<10x6xf32>, tensor<10x6xf32>) {
  %r = graph.add %a, %b : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %p = graph.exp %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %e = graph.neg %r {test.chunk_region = 1, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  %sum = graph.add %r, %e {test.chunk_region = 1, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<10x6xf32>, tensor<10x6xf32>) -> tensor<10x6xf32>
  %u = graph.tanh %p {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x6xf32>
  return %sum, %u : tensor<10x6xf32>, tensor<10x6xf32>
}
