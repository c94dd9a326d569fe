// Every diagnostic of the graph verifiers, shape inference and dialect
// attributes, each in its own split so that one error cannot hide another.
// RUN: chunk-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Element types and shapes every op shares
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error@+1 {{'graph.exp' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?x8xf32>'}}
  %0 = graph.exp %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @unranked(%x: tensor<*xf32>, %y: tensor<4xf32>) {
  // expected-error@+1 {{'graph.add' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %0 = graph.add %x, %y : (tensor<*xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @integer_tensor(%x: tensor<4xi32>) {
  // expected-error@+1 {{'graph.relu' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi32>'}}
  %0 = graph.relu %x : tensor<4xi32>
  return
}

// -----

func.func @f64_tensor(%x: tensor<4xf64>, %w: tensor<2x4xf64>) {
  // expected-error@+1 {{'graph.linear' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xf64>'}}
  %0 = graph.linear %x, %w : (tensor<4xf64>, tensor<2x4xf64>) -> tensor<2xf64>
  return
}

// -----

func.func @not_a_tensor(%x: tensor<4x4xf32>, %i: index) {
  // expected-error@+1 {{'graph.matmul' op operand #1 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'index'}}
  %0 = "graph.matmul"(%x, %i) : (tensor<4x4xf32>, index) -> tensor<4x4xf32>
  return
}

// -----

func.func @mixed_element_types(%x: tensor<4xf32>, %y: tensor<4xf16>) {
  // expected-error@+2 {{'graph.add' op expects operands of one element type, but operand #0 has f32 and operand #1 has f16}}
  // expected-error@+1 {{'graph.add' op failed to infer returned types}}
  %0 = graph.add %x, %y : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @mixed_element_types_linear(%x: tensor<4xbf16>, %w: tensor<2x4xbf16>, %b: tensor<2xf32>) {
  // expected-error@+2 {{'graph.linear' op expects operands of one element type, but operand #0 has bf16 and operand #2 has f32}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w, %b : (tensor<4xbf16>, tensor<2x4xbf16>, tensor<2xf32>) -> tensor<2xbf16>
  return
}

// -----

func.func @unary_result_type(%x: tensor<4xf32>) {
  // expected-error@+1 {{'graph.exp' op requires the same type for all operands and results}}
  %0 = "graph.exp"(%x) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @wrong_result_type(%x: tensor<4x8xf32>, %y: tensor<8xf32>) {
  // expected-error@+2 {{'graph.add' op inferred type(s) 'tensor<4x8xf32>' are incompatible with return type(s) of operation 'tensor<8x8xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.add %x, %y : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @wrong_result_element_type(%x: tensor<4x8xf32>, %y: tensor<8x2xf32>) {
  // expected-error@+2 {{'graph.matmul' op inferred type(s) 'tensor<4x2xf32>' are incompatible with return type(s) of operation 'tensor<4x2xf16>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.matmul %x, %y : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf16>
  return
}

// -----

func.func @wrong_operand_count(%x: tensor<4xf32>) {
  // expected-error@+1 {{'graph.add' op expected 2 operands, but found 1}}
  %0 = "graph.add"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

// -----

func.func @constant_integer() {
  // expected-error@+1 {{'graph.constant' op result #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4xi32>'}}
  %0 = graph.constant dense<1> : tensor<4xi32>
  return
}

// -----

func.func @constant_integer_value() {
  // expected-error@+1 {{'graph.constant' op value must be a statically shaped f32, f16 or bf16 tensor, but got 'tensor<4xi32>'}}
  %0 = "graph.constant"() <{value = dense<1> : tensor<4xi32>}> : () -> tensor<4xf32>
  return
}

// -----

func.func @constant_vector() {
  // expected-error@+1 {{'graph.constant' op result #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'vector<4xf32>'}}
  %0 = graph.constant dense<1.0> : vector<4xf32>
  return
}

// -----

func.func @constant_result_type() {
  // expected-error@+2 {{'graph.constant' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = "graph.constant"() <{value = dense<1.0> : tensor<4xf32>}> : () -> tensor<8xf32>
  return
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

// -----

func.func @gelu_approximate(%x: tensor<4xf32>) {
  // expected-error@+1 {{'graph.gelu' op approximate must be "none" or "tanh", but got "erf"}}
  %0 = graph.gelu %x {approximate = "erf"} : tensor<4xf32>
  return
}

// -----

func.func @scale_factor_type(%x: tensor<4xf32>) {
  // expected-error@+1 {{'graph.scale' op attribute 'factor' failed to satisfy constraint: 64-bit float attribute}}
  %0 = graph.scale %x {factor = 2.0 : f32} : tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

// -----

func.func @incompatible_broadcast(%x: tensor<4x8xf32>, %y: tensor<5x8xf32>) {
  // expected-error@+2 {{'graph.mul' op operand shapes 4x8 and 5x8 are not broadcast-compatible}}
  // expected-error@+1 {{'graph.mul' op failed to infer returned types}}
  %0 = graph.mul %x, %y : (tensor<4x8xf32>, tensor<5x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @incompatible_broadcast_trailing(%x: tensor<2x3xf32>, %y: tensor<2xf32>) {
  // expected-error@+2 {{'graph.sub' op operand shapes 2x3 and 2 are not broadcast-compatible}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.sub %x, %y : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_k_mismatch(%x: tensor<4x8xf32>, %y: tensor<6x2xf32>) {
  // expected-error@+2 {{'graph.matmul' op contraction sizes differ: lhs 4x8 has K = 8, rhs 6x2 has K = 6}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.matmul %x, %y : (tensor<4x8xf32>, tensor<6x2xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @matmul_k_mismatch_transposed(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) {
  // The transposed lhs is 8x4 (K = 4); rhs as it stands is 4x8 (K = 4), but
  // transposed it is 8x4 (K = 8).
  // expected-error@+2 {{'graph.matmul' op contraction sizes differ: lhs 4x8 has K = 4, rhs 4x8 has K = 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.matmul %x, %y {transpose_a, transpose_b} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_rank(%x: tensor<8xf32>, %y: tensor<8x2xf32>) {
  // expected-error@+2 {{'graph.matmul' op operands must have rank at least 2, but lhs 8 has rank 1 and rhs 8x2 has rank 2}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.matmul %x, %y : (tensor<8xf32>, tensor<8x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_batch(%x: tensor<3x4x8xf32>, %y: tensor<2x8x2xf32>) {
  // expected-error@+2 {{'graph.matmul' op batch dimensions 3 and 2 are not broadcast-compatible}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.matmul %x, %y : (tensor<3x4x8xf32>, tensor<2x8x2xf32>) -> tensor<3x4x2xf32>
  return
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

// -----

func.func @einsum_no_arrow(%x: tensor<4x8xf32>, %y: tensor<8x2xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum equation 'ij,jk' needs an explicit '->' and result subscripts}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij,jk" %x, %y : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @einsum_bad_label(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum operand subscripts 'iJ' may only hold lowercase letters}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "iJ->i" %x : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @einsum_ellipsis(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum operand subscripts '...j' may only hold lowercase letters}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "...j->j" %x : (tensor<4x8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @einsum_bad_result_label(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum result subscripts 'i j' may only hold lowercase letters}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij->i j" %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @einsum_repeated_label(%x: tensor<4x4xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum label 'i' repeats in operand subscripts 'ii' (diagonals are not supported)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ii->i" %x : (tensor<4x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @einsum_repeated_result_label(%x: tensor<4x4xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum label 'i' repeats in result subscripts 'ii' (diagonals are not supported)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij->ii" %x : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @einsum_unknown_result_label(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op einsum result label 'k' appears in no operand}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij->ik" %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @einsum_term_count(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op equation 'ij,jk->ik' has 2 operand subscripts but the op has 1 operands}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij,jk->ik" %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @einsum_three_operands(%x: tensor<4x4xf32>) {
  // expected-error@+2 {{'graph.einsum' op takes one or two operands, but got 3}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij,jk,kl->il" %x, %x, %x : (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @einsum_no_operands() {
  // expected-error@+2 {{'graph.einsum' op takes one or two operands, but got 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "->" : () -> tensor<f32>
  return
}

// -----

func.func @einsum_label_size(%x: tensor<4x8xf32>, %y: tensor<6x2xf32>) {
  // expected-error@+2 {{'graph.einsum' op label 'j' has size 8 in operand #0 but size 6 in operand #1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij,jk->ik" %x, %y : (tensor<4x8xf32>, tensor<6x2xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @einsum_rank(%x: tensor<4x8x2xf32>) {
  // expected-error@+2 {{'graph.einsum' op subscripts 'ij' of operand #0 name 2 dimensions, but the operand 4x8x2 has rank 3}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij->ji" %x : (tensor<4x8x2xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @einsum_result_type(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.einsum' op inferred type(s) 'tensor<8x4xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.einsum "ij->ji" %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

// -----

func.func @linear_in_features(%x: tensor<4x8xf32>, %w: tensor<16x6xf32>) {
  // expected-error@+2 {{'graph.linear' op weight 16x6 expects 6 input features, but the input 4x8 has 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w : (tensor<4x8xf32>, tensor<16x6xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x8xf32>, %w: tensor<2x16x8xf32>) {
  // expected-error@+2 {{'graph.linear' op weight must be [out, in], but has shape 2x16x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w : (tensor<4x8xf32>, tensor<2x16x8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<2x1xf32>) {
  // expected-error@+2 {{'graph.linear' op input must have rank at least 1, but is a scalar}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w : (tensor<f32>, tensor<2x1xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'graph.linear' op bias must have shape 16 (the weight's out features), but has shape 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %b: tensor<1x16xf32>) {
  // expected-error@+2 {{'graph.linear' op bias must have shape 16 (the weight's out features), but has shape 1x16}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// Softmax, layer norm, reductions
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'graph.softmax' op axis 2 is out of range [0, 2)}}
  %0 = graph.softmax %x {axis = 2 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'graph.softmax' op axis -1 is out of range [0, 2)}}
  %0 = graph.softmax %x {axis = -1 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @softmax_scalar(%x: tensor<f32>) {
  // expected-error@+1 {{'graph.softmax' op axis 0 is out of range [0, 0)}}
  %0 = graph.softmax %x {axis = 0 : i64} : tensor<f32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<4x8xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'graph.layer_norm' op weight must have the normalized shape 8 (input 4x8 from axis 1), but has 4x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.layer_norm %x, %w, %b {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x4x8xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>) {
  // expected-error@+2 {{'graph.layer_norm' op bias must have the normalized shape 4x8 (input 2x4x8 from axis 1), but has 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.layer_norm %x, %w, %b {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<4x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'graph.layer_norm' op axis 2 is out of range [0, 2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.layer_norm %x, %w, %w {axis = 2 : i64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<4x8xf32>, %w: tensor<8xf32>) {
  // expected-error@+2 {{'graph.layer_norm' op epsilon must not be negative, but is -0.001}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.layer_norm %x, %w, %w {axis = 1 : i64, epsilon = -1.0e-3 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reduce_axis_range(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_sum' op axis 2 is out of range [0, 2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_sum %x {axes = array<i64: 2>} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_negative_axis(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_max' op axis -1 is out of range [0, 2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_max %x {axes = array<i64: -1>} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_axes_order(%x: tensor<2x4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_mean' op axes [2, 0] must be strictly increasing}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_mean %x {axes = array<i64: 2, 0>} : (tensor<2x4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_axes_repeat(%x: tensor<2x4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_sum' op axes [1, 1] must be strictly increasing}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_sum %x {axes = array<i64: 1, 1>} : (tensor<2x4x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @reduce_axes_empty(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_sum' op axes must not be empty}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_sum %x {axes = array<i64>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reduce_keep_dims_result(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.reduce_sum' op inferred type(s) 'tensor<4x1xf32>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.reduce_sum %x {axes = array<i64: 1>, keep_dims} : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

func.func @transpose_length(%x: tensor<2x3x4xf32>) {
  // expected-error@+2 {{'graph.transpose' op permutation [1, 0] has 2 entries but the input 2x3x4 has rank 3}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_repeat(%x: tensor<2x3x4xf32>) {
  // expected-error@+2 {{'graph.transpose' op permutation [0, 2, 2] must hold each of 0..2 exactly once}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.transpose %x {permutation = array<i64: 0, 2, 2>} : (tensor<2x3x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @transpose_range(%x: tensor<2x3xf32>) {
  // expected-error@+2 {{'graph.transpose' op permutation [0, 2] must hold each of 0..1 exactly once}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.transpose %x {permutation = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<2x3xf32>) {
  // expected-error@+2 {{'graph.transpose' op inferred type(s) 'tensor<3x2xf32>' are incompatible with return type(s) of operation 'tensor<2x3xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'graph.reshape' op cannot reshape 2x3 (6 elements) to 4x2 (8 elements)}}
  %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'graph.reshape' op result element type 'f16' differs from the input's 'f32'}}
  %0 = graph.reshape %x : (tensor<2x3xf32>) -> tensor<6xf16>
  return
}

// -----

func.func @broadcast_incompatible(%x: tensor<3x2xf32>) {
  // expected-error@+1 {{'graph.broadcast' op cannot broadcast 3x2 to 4x3x4: each input dimension, aligned from the right, must be 1 or the result's size}}
  %0 = graph.broadcast %x : (tensor<3x2xf32>) -> tensor<4x3x4xf32>
  return
}

// -----

func.func @broadcast_shrink(%x: tensor<4x3xf32>) {
  // A size-1 result dimension cannot absorb a larger input dimension.
  // expected-error@+1 {{'graph.broadcast' op cannot broadcast 4x3 to 1x3: each input dimension, aligned from the right, must be 1 or the result's size}}
  %0 = graph.broadcast %x : (tensor<4x3xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @broadcast_rank(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'graph.broadcast' op cannot broadcast 2x3 to 3: the input's rank exceeds the result's}}
  %0 = graph.broadcast %x : (tensor<2x3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @broadcast_element_type(%x: tensor<3xf32>) {
  // expected-error@+1 {{'graph.broadcast' op result element type 'bf16' differs from the input's 'f32'}}
  %0 = graph.broadcast %x : (tensor<3xf32>) -> tensor<2x3xbf16>
  return
}

// -----

func.func @slice_entries(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op starts [0], limits [4, 8] must each have 2 entries (the rank of input 4x8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 0>, limits = array<i64: 4, 8>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_strides_entries(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op starts [0, 0], limits [4, 8] and strides [1] must each have 2 entries (the rank of input 4x8)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 8>, strides = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_limit(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op dimension 1 of size 8 cannot be sliced [2, 9): the start must lie in [0, 8) and the limit in (start, 8]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 0, 2>, limits = array<i64: 4, 9>} : (tensor<4x8xf32>) -> tensor<4x7xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op dimension 0 of size 4 cannot be sliced [2, 2): the start must lie in [0, 4) and the limit in (start, 4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 2, 0>, limits = array<i64: 2, 8>} : (tensor<4x8xf32>) -> tensor<0x8xf32>
  return
}

// -----

func.func @slice_negative_start(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op dimension 0 of size 4 cannot be sliced [-1, 2): the start must lie in [0, 4) and the limit in (start, 4]}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: -1, 0>, limits = array<i64: 2, 8>} : (tensor<4x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @slice_stride(%x: tensor<4x8xf32>) {
  // expected-error@+2 {{'graph.slice' op stride 0 of dimension 1 must be positive}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 4, 8>, strides = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_strided_result(%x: tensor<4x8xf32>) {
  // [1, 8) with stride 3 takes indices 1, 4, 7: three of them.
  // expected-error@+2 {{'graph.slice' op inferred type(s) 'tensor<4x3xf32>' are incompatible with return type(s) of operation 'tensor<4x2xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.slice %x {starts = array<i64: 0, 1>, limits = array<i64: 4, 8>, strides = array<i64: 1, 3>} : (tensor<4x8xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @concat_mismatch(%x: tensor<2x3xf32>, %y: tensor<4x3xf32>) {
  // expected-error@+2 {{'graph.concat' op operand #1 of shape 4x3 does not match operand #0 of shape 2x3 outside axis 1}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.concat %x, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<2x3x1xf32>) {
  // expected-error@+2 {{'graph.concat' op operand #1 of shape 2x3x1 does not match operand #0 of shape 2x3 outside axis 0}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.concat %x, %y {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3x1xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_axis(%x: tensor<2x3xf32>) {
  // expected-error@+2 {{'graph.concat' op axis 2 is out of range [0, 2)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.concat %x, %x {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_element_type(%x: tensor<2x3xf32>, %y: tensor<2x3xf16>) {
  // expected-error@+2 {{'graph.concat' op expects operands of one element type, but operand #0 has f32 and operand #1 has f16}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.concat %x, %y {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error@+2 {{'graph.concat' op needs at least one operand}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

//===----------------------------------------------------------------------===//
// Causal mask
//===----------------------------------------------------------------------===//

// -----

func.func @causal_mask_rank(%x: tensor<8xf32>) {
  // expected-error@+1 {{'graph.causal_mask' op input must have rank at least 2 ([..., queries, keys]), but has rank 1}}
  %0 = graph.causal_mask %x : tensor<8xf32>
  return
}

// -----

func.func @causal_mask_offset_type(%x: tensor<8x8xf32>, %i: i64) {
  // expected-error@+1 {{'graph.causal_mask' op operand #1 must be index, but got 'i64'}}
  %0 = "graph.causal_mask"(%x, %i) <{diagonal = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<8x8xf32>, i64) -> tensor<8x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// Dialect attributes
//===----------------------------------------------------------------------===//

// -----

// expected-error@+1 {{'func.func' op 'graph.role' of argument #0 must be "input" or "weight", but is "bias"}}
func.func @role_value(%x: tensor<4xf32> {graph.role = "bias"}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op 'graph.role' of argument #1 must be "input" or "weight", but is 1 : i64}}
func.func @role_not_string(%x: tensor<4xf32>, %y: tensor<4xf32> {graph.role = 1}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op 'graph.role' is only allowed on function arguments, but result #0 has it}}
func.func @role_on_result(%x: tensor<4xf32>) -> (tensor<4xf32> {graph.role = "input"}) {
  return %x : tensor<4xf32>
}

// -----

func.func @role_on_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'graph.relu' op carries 'graph.role', but graph dialect attributes belong on function arguments and results ('graph.name', 'graph.role'), not on operations}}
  %0 = graph.relu %x {graph.role = "weight"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error@+1 {{'func.func' op carries 'graph.name', but graph dialect attributes belong on function arguments and results}}
func.func @name_on_function(%x: tensor<4xf32>) attributes {graph.name = "model"} {
  return
}

// -----

// expected-error@+1 {{'func.func' op 'graph.name' of argument #0 must be a non-empty string, but is ""}}
func.func @name_empty(%x: tensor<4xf32> {graph.name = ""}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op 'graph.name' of result #0 must be a non-empty string, but is 3 : i64}}
func.func @name_not_string(%x: tensor<4xf32>) -> (tensor<4xf32> {graph.name = 3}) {
  return %x : tensor<4xf32>
}

// -----

// expected-error@+1 {{'func.func' op argument #2 repeats the 'graph.name' "w" of argument #0}}
func.func @name_repeated(%a: tensor<4xf32> {graph.name = "w"}, %b: tensor<4xf32> {graph.name = "x"},
                         %c: tensor<4xf32> {graph.name = "w"}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op unknown graph dialect attribute 'graph.kind' on argument #0 (expected 'graph.name' or 'graph.role')}}
func.func @unknown_attribute(%x: tensor<4xf32> {graph.kind = "input"}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op unknown graph dialect attribute 'graph.role_' on result #0 (expected 'graph.name' or 'graph.role')}}
func.func @unknown_result_attribute(%x: tensor<4xf32>) -> (tensor<4xf32> {graph.role_ = "input"}) {
  return %x : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_rank(%q: tensor<8xf32>) {
  // expected-error@+2 {{'graph.attention' op query, key and value need one rank of at least 2, but have shapes 8, 8 and 8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %q, %q {scale = 1.0 : f64} : tensor<8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return
}

// -----

func.func @attention_leading(%q: tensor<2x8x4xf32>, %k: tensor<3x8x4xf32>) {
  // expected-error@+2 {{'graph.attention' op query 2x8x4, key 3x8x4 and value 3x8x4 must share their leading dimensions}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %k, %k {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<3x8x4xf32>, tensor<3x8x4xf32> -> tensor<2x8x4xf32>
  return
}

// -----

func.func @attention_depth(%q: tensor<2x8x4xf32>, %k: tensor<2x8x5xf32>) {
  // expected-error@+2 {{'graph.attention' op query 2x8x4 and key 2x8x5 must have one last dimension (D)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %k, %k {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x5xf32>, tensor<2x8x5xf32> -> tensor<2x8x5xf32>
  return
}

// -----

func.func @attention_keys(%q: tensor<2x8x4xf32>, %v: tensor<2x9x4xf32>) {
  // expected-error@+2 {{'graph.attention' op key 2x8x4 and value 2x9x4 must have one key count (N)}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %q, %v {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x9x4xf32> -> tensor<2x8x4xf32>
  return
}

// -----

func.func @attention_bias(%q: tensor<2x8x4xf32>, %b: tensor<3x8x8xf32>) {
  // expected-error@+2 {{'graph.attention' op bias 3x8x8 does not broadcast to the logits 2x8x8}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %q, %q bias(%b : tensor<3x8x8xf32>) {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return
}

// -----

func.func @attention_dtype(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xbf16>) {
  // expected-error@+2 {{'graph.attention' op expects operands of one element type, but operand #0 has f32 and operand #1 has bf16}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %k, %q {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x4xbf16>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<2x8x4xf32>) {
  // expected-error@+2 {{'graph.attention' op inferred type(s) 'tensor<2x8x4xf32>' are incompatible with return type(s) of operation 'tensor<2x8x8xf32>'}}
  // expected-error@+1 {{failed to infer returned types}}
  %0 = graph.attention %q, %q, %q {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x8xf32>
  return
}

// -----

func.func @attention_offset_without_mask(%q: tensor<2x8x4xf32>, %i: index) {
  // expected-error@+1 {{'graph.attention' op row_offset only applies to a causal mask}}
  %0 = graph.attention %q, %q, %q row_offset(%i) {scale = 1.0 : f64} : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<2x8x4xf32>) {
  // expected-error@+1 {{'graph.attention' op requires attribute 'scale'}}
  %0 = graph.attention %q, %q, %q : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x4xf32>
  return
}
