// The graph folds: each fires where it is an identity and nowhere else.
// RUN: chunk-opt %s --canonicalize --split-input-file | FileCheck %s
// The composed permutation of @transpose_compose, checked against numpy
// (the test setup installs numpy for the configured Python):
// RUN: %python -c "import numpy as np; x = np.arange(24).reshape(2, 3, 4); assert (x.transpose(1, 2, 0).transpose(0, 2, 1) == x.transpose(1, 0, 2)).all()"

// CHECK-LABEL: func.func @neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @neg_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.neg %x : tensor<4xf32>
  %1 = graph.neg %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// An odd number of negations leaves one.
// CHECK-LABEL: func.func @neg_neg_neg
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[N:.*]] = graph.neg %[[X]]
// CHECK-NEXT: return %[[N]]
func.func @neg_neg_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.neg %x : tensor<4xf32>
  %1 = graph.neg %0 : tensor<4xf32>
  %2 = graph.neg %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @scale_one
// CHECK-SAME: (%[[X:.*]]: tensor<4xbf16>)
// CHECK-NEXT: return %[[X]]
func.func @scale_one(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  %0 = graph.scale %x {factor = 1.0 : f64} : tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// CHECK-LABEL: func.func @scale_two
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[S:.*]] = graph.scale %[[X]] {factor = 2.000000e+00 : f64}
// CHECK-NEXT: return %[[S]]
func.func @scale_two(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.scale %x {factor = 2.0 : f64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// (x * 2) * 0.25 == x * 0.5
// CHECK-LABEL: func.func @scale_scale
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[S:.*]] = graph.scale %[[X]] {factor = 5.000000e-01 : f64}
// CHECK-NEXT: return %[[S]]
func.func @scale_scale(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.scale %x {factor = 2.0 : f64} : tensor<4xf32>
  %1 = graph.scale %0 {factor = 0.25 : f64} : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// (x * 8) * 0.125 == x: the combined scale of 1 folds away too.
// CHECK-LABEL: func.func @scale_scale_one
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @scale_scale_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.scale %x {factor = 8.0 : f64} : tensor<4xf32>
  %1 = graph.scale %0 {factor = 0.125 : f64} : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// The inner scale stays when something else uses it.
// CHECK-LABEL: func.func @scale_scale_shared
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK-DAG: %[[A:.*]] = graph.scale %[[X]] {factor = 3.000000e+00 : f64}
// CHECK-DAG: %[[B:.*]] = graph.scale %[[X]] {factor = 1.500000e+00 : f64}
// CHECK: return %[[A]], %[[B]]
func.func @scale_scale_shared(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = graph.scale %x {factor = 3.0 : f64} : tensor<4xf32>
  %1 = graph.scale %0 {factor = 0.5 : f64} : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NOT: graph.add
// CHECK: return %[[X]], %[[X]], %[[X]]
func.func @add_zero(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = graph.constant dense<0.0> : tensor<4x8xf32>
  %0 = graph.add %x, %zero : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graph.add %zero, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // A zero that broadcasts into x's shape leaves x's type: still x.
  %row = graph.constant dense<0.0> : tensor<8xf32>
  %2 = graph.add %x, %row : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// x + 0 where the zero is the larger operand broadcasts x: not a no-op.
// CHECK-LABEL: func.func @add_zero_broadcasts
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>)
// CHECK: %[[Z:.*]] = graph.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK: %[[A:.*]] = graph.add %[[X]], %[[Z]] : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: return %[[A]]
func.func @add_zero_broadcasts(%x: tensor<8xf32>) -> tensor<4x8xf32> {
  %zero = graph.constant dense<0.0> : tensor<4x8xf32>
  %0 = graph.add %x, %zero : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Neither a nonzero splat nor a non-splat constant is an identity.
// CHECK-LABEL: func.func @add_nonzero
// CHECK-COUNT-2: graph.add
func.func @add_nonzero(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %one = graph.constant dense<1.0> : tensor<2xf32>
  %mixed = graph.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %0 = graph.add %x, %one : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = graph.add %x, %mixed : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0, %1 : tensor<2xf32>, tensor<2xf32>
}

// -----

// x - 0 is x; 0 - x is -x, not x.
// CHECK-LABEL: func.func @sub_zero
// CHECK-SAME: (%[[X:.*]]: tensor<3xf16>)
// CHECK: %[[Z:.*]] = graph.constant dense<0.000000e+00> : tensor<3xf16>
// CHECK: %[[S:.*]] = graph.sub %[[Z]], %[[X]]
// CHECK: return %[[X]], %[[S]]
func.func @sub_zero(%x: tensor<3xf16>) -> (tensor<3xf16>, tensor<3xf16>) {
  %zero = graph.constant dense<0.0> : tensor<3xf16>
  %0 = graph.sub %x, %zero : (tensor<3xf16>, tensor<3xf16>) -> tensor<3xf16>
  %1 = graph.sub %zero, %x : (tensor<3xf16>, tensor<3xf16>) -> tensor<3xf16>
  return %0, %1 : tensor<3xf16>, tensor<3xf16>
}

// -----

// CHECK-LABEL: func.func @mul_one
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xbf16>)
// CHECK-NOT: graph.mul
// CHECK: return %[[X]], %[[X]], %[[X]]
func.func @mul_one(%x: tensor<2x3xbf16>) -> (tensor<2x3xbf16>, tensor<2x3xbf16>, tensor<2x3xbf16>) {
  %one = graph.constant dense<1.0> : tensor<2x3xbf16>
  %scalar = graph.constant dense<1.0> : tensor<bf16>
  %0 = graph.mul %x, %one : (tensor<2x3xbf16>, tensor<2x3xbf16>) -> tensor<2x3xbf16>
  %1 = graph.mul %one, %x : (tensor<2x3xbf16>, tensor<2x3xbf16>) -> tensor<2x3xbf16>
  %2 = graph.mul %scalar, %x : (tensor<bf16>, tensor<2x3xbf16>) -> tensor<2x3xbf16>
  return %0, %1, %2 : tensor<2x3xbf16>, tensor<2x3xbf16>, tensor<2x3xbf16>
}

// -----

// CHECK-LABEL: func.func @mul_not_one
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK-DAG: %[[TWO:.*]] = graph.constant dense<2.000000e+00> : tensor<3xf32>
// CHECK-DAG: %[[ONES:.*]] = graph.constant dense<1.000000e+00> : tensor<2x3xf32>
// CHECK-DAG: %[[A:.*]] = graph.mul %[[X]], %[[TWO]]
// CHECK-DAG: %[[B:.*]] = graph.mul %[[X]], %[[ONES]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: return %[[A]], %[[B]]
func.func @mul_not_one(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<2x3xf32>) {
  %two = graph.constant dense<2.0> : tensor<3xf32>
  %ones = graph.constant dense<1.0> : tensor<2x3xf32>
  %0 = graph.mul %x, %two : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = graph.mul %x, %ones : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<3xf32>, tensor<2x3xf32>
}

// -----

// x / 1 is x; 1 / x is not.
// CHECK-LABEL: func.func @div_one
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK: %[[ONE:.*]] = graph.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK: %[[R:.*]] = graph.div %[[ONE]], %[[X]]
// CHECK: return %[[X]], %[[R]]
func.func @div_one(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %one = graph.constant dense<1.0> : tensor<3xf32>
  %0 = graph.div %x, %one : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = graph.div %one, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_identity(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// [1, 2, 0] then its inverse [2, 0, 1] is the identity.
// CHECK-LABEL: func.func @transpose_inverse_pair
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_inverse_pair(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = graph.transpose %0 {permutation = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// Result dimension i of a transpose is input dimension perm[i], so
//   mid = transpose(x, inner = [1, 2, 0]):  mid dims = (x1, x2, x0) = 3x4x2
//   out = transpose(mid, outer = [0, 2, 1]): out dims = (mid0, mid2, mid1)
//                                                     = (x1, x0, x2) = 3x2x4
// so out = transpose(x, [1, 0, 2]), i.e. composed[i] = inner[outer[i]].
// Composing the other way round (outer[inner[i]] = [2, 1, 0]) would give
// 4x3x2, which is wrong.
// CHECK-LABEL: func.func @transpose_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = graph.transpose %[[X]] {permutation = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = graph.transpose %0 {permutation = array<i64: 0, 2, 1>} : (tensor<3x4x2xf32>) -> tensor<3x2x4xf32>
  return %1 : tensor<3x2x4xf32>
}

// -----

// A single non-identity transpose stays.
// CHECK-LABEL: func.func @transpose_kept
// CHECK: graph.transpose %{{.*}} {permutation = array<i64: 1, 0>}
func.func @transpose_kept(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Row-major reinterpretation composes: 2x3x4 -> 6x4 -> 4x6 is 2x3x4 -> 4x6,
// whatever the intermediate shape.
// CHECK-LABEL: func.func @reshape_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[R:.*]] = graph.reshape %[[X]] : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %1 = graph.reshape %0 : (tensor<6x4xf32>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<24xf32>
  %1 = graph.reshape %0 : (tensor<24xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @broadcast_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = graph.broadcast %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>)
// CHECK-NEXT: %[[B:.*]] = graph.broadcast %[[X]] : (tensor<3x1xf32>) -> tensor<5x2x3x4xf32>
// CHECK-NEXT: return %[[B]]
func.func @broadcast_broadcast(%x: tensor<3x1xf32>) -> tensor<5x2x3x4xf32> {
  %0 = graph.broadcast %x : (tensor<3x1xf32>) -> tensor<2x3x1xf32>
  %1 = graph.broadcast %0 : (tensor<2x3x1xf32>) -> tensor<5x2x3x4xf32>
  return %1 : tensor<5x2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_kept
// CHECK: graph.broadcast %{{.*}} : (tensor<3xf32>) -> tensor<2x3xf32>
func.func @broadcast_kept(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = graph.broadcast %x : (tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @slice_full
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @slice_full(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 8>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 8>, strides = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A stride on a size-1 dimension still takes the whole input.
// CHECK-LABEL: func.func @slice_full_strided_unit_dim
// CHECK-SAME: (%[[X:.*]]: tensor<1x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @slice_full_strided_unit_dim(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %0 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 1, 8>, strides = array<i64: 4, 1>} : (tensor<1x8xf32>) -> tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @slice_partial
// CHECK-COUNT-2: graph.slice
func.func @slice_partial(%x: tensor<4x8xf32>) -> (tensor<4x7xf32>, tensor<2x8xf32>) {
  %0 = graph.slice %x {starts = array<i64: 0, 1>, limits = array<i64: 4, 8>} : (tensor<4x8xf32>) -> tensor<4x7xf32>
  %1 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 8>, strides = array<i64: 2, 1>} : (tensor<4x8xf32>) -> tensor<2x8xf32>
  return %0, %1 : tensor<4x7xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @concat_single
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @concat_single(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.concat %x {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @concat_kept
// CHECK: graph.concat
func.func @concat_kept(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %0 = graph.concat %x, %x {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Equal constants merge into one, unused ones disappear.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT: %[[C:.*]] = graph.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT: return %[[C]], %[[C]]
func.func @constants() -> (tensor<4xf32>, tensor<4xf32>) {
  %unused = graph.constant dense<5.0> : tensor<4xf32>
  %0 = graph.constant dense<2.0> : tensor<4xf32>
  %1 = graph.constant dense<2.0> : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}
