// Every graph op prints in a form that parses back to the same op, in the
// custom and in the generic syntax.
// RUN: chunk-opt %s | chunk-opt | FileCheck %s
// RUN: chunk-opt %s --mlir-print-op-generic | chunk-opt | FileCheck %s
// RUN: chunk-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @constants
// CHECK-SAME: -> (tensor<4x8xf32>, tensor<2xf16>, tensor<bf16>)
// CHECK: graph.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK: graph.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf16>
// CHECK: graph.constant dense<3.000000e+00> : tensor<bf16>
// GENERIC-LABEL: "func.func"
// GENERIC: "graph.constant"() <{value = dense<0.000000e+00> : tensor<4x8xf32>}> : () -> tensor<4x8xf32>
func.func @constants() -> (tensor<4x8xf32>, tensor<2xf16>, tensor<bf16>) {
  %0 = graph.constant dense<0.0> : tensor<4x8xf32>
  %1 = graph.constant dense<[1.0, 2.0]> : tensor<2xf16>
  %2 = graph.constant dense<3.0> : tensor<bf16>
  return %0, %1, %2 : tensor<4x8xf32>, tensor<2xf16>, tensor<bf16>
}

// CHECK-LABEL: func.func @unary
// CHECK: graph.exp %{{.*}} : tensor<4x8xf32>
// CHECK: graph.sqrt %{{.*}} : tensor<4x8xf32>
// CHECK: graph.rsqrt %{{.*}} : tensor<4x8xf32>
// CHECK: graph.neg %{{.*}} : tensor<4x8xf32>
// CHECK: graph.relu %{{.*}} : tensor<4x8xf32>
// CHECK: graph.sigmoid %{{.*}} : tensor<4x8xf32>
// CHECK: graph.silu %{{.*}} : tensor<4x8xf32>
// CHECK: graph.tanh %{{.*}} : tensor<4x8xf32>
// CHECK: graph.gelu %{{.*}} : tensor<4x8xf32>
// CHECK: graph.gelu %{{.*}} {approximate = "tanh"} : tensor<4x8xf32>
// CHECK: graph.scale %{{.*}} {factor = 1.250000e-01 : f64} : tensor<4x8xf32>
// GENERIC: "graph.exp"(%{{.*}}) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "graph.gelu"(%{{.*}}) <{approximate = "none"}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "graph.gelu"(%{{.*}}) <{approximate = "tanh"}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "graph.scale"(%{{.*}}) <{factor = 1.250000e-01 : f64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
func.func @unary(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.exp %x : tensor<4x8xf32>
  %1 = graph.sqrt %0 : tensor<4x8xf32>
  %2 = graph.rsqrt %1 : tensor<4x8xf32>
  %3 = graph.neg %2 : tensor<4x8xf32>
  %4 = graph.relu %3 : tensor<4x8xf32>
  %5 = graph.sigmoid %4 : tensor<4x8xf32>
  %6 = graph.silu %5 : tensor<4x8xf32>
  %7 = graph.tanh %6 : tensor<4x8xf32>
  %8 = graph.gelu %7 : tensor<4x8xf32>
  %9 = graph.gelu %8 {approximate = "tanh"} : tensor<4x8xf32>
  %10 = graph.scale %9 {factor = 0.125 : f64} : tensor<4x8xf32>
  return %10 : tensor<4x8xf32>
}

// Unary ops on f16, bf16 and rank-0 tensors.
// CHECK-LABEL: func.func @unary_types
// CHECK: graph.exp %{{.*}} : tensor<2x3xf16>
// CHECK: graph.tanh %{{.*}} : tensor<2x3xbf16>
// CHECK: graph.sigmoid %{{.*}} : tensor<f32>
// CHECK: graph.scale %{{.*}} {factor = -2.000000e+00 : f64} : tensor<bf16>
func.func @unary_types(%h: tensor<2x3xf16>, %b: tensor<2x3xbf16>, %s: tensor<f32>, %sb: tensor<bf16>)
    -> (tensor<2x3xf16>, tensor<2x3xbf16>, tensor<f32>, tensor<bf16>) {
  %0 = graph.exp %h : tensor<2x3xf16>
  %1 = graph.tanh %b : tensor<2x3xbf16>
  %2 = graph.sigmoid %s : tensor<f32>
  %3 = graph.scale %sb {factor = -2.0 : f64} : tensor<bf16>
  return %0, %1, %2, %3 : tensor<2x3xf16>, tensor<2x3xbf16>, tensor<f32>, tensor<bf16>
}

// CHECK-LABEL: func.func @binary
// CHECK: graph.add %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK: graph.sub %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
// CHECK: graph.mul %{{.*}}, %{{.*}} : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: graph.div %{{.*}}, %{{.*}} : (tensor<2x4x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
// CHECK: graph.add %{{.*}}, %{{.*}} : (tensor<f16>, tensor<f16>) -> tensor<f16>
// CHECK: graph.mul %{{.*}}, %{{.*}} : (tensor<3xbf16>, tensor<1xbf16>) -> tensor<3xbf16>
// GENERIC: "graph.add"(%{{.*}}, %{{.*}}) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
func.func @binary(%a: tensor<4x8xf32>, %row: tensor<8xf32>, %col: tensor<4x1xf32>,
                  %r: tensor<1x8xf32>, %s: tensor<f32>, %batch: tensor<2x4x8xf32>,
                  %h: tensor<f16>, %b3: tensor<3xbf16>, %b1: tensor<1xbf16>) {
  %0 = graph.add %a, %row : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = graph.sub %col, %r : (tensor<4x1xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  %2 = graph.mul %s, %a : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = graph.div %batch, %col : (tensor<2x4x8xf32>, tensor<4x1xf32>) -> tensor<2x4x8xf32>
  %4 = graph.add %h, %h : (tensor<f16>, tensor<f16>) -> tensor<f16>
  %5 = graph.mul %b3, %b1 : (tensor<3xbf16>, tensor<1xbf16>) -> tensor<3xbf16>
  return
}

// Matmul: plain, both transpose flags, broadcasting batch dimensions.
// CHECK-LABEL: func.func @matmul
// CHECK: graph.matmul %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: graph.matmul %{{.*}}, %{{.*}} {transpose_a} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
// CHECK: graph.matmul %{{.*}}, %{{.*}} {transpose_b} : (tensor<12x128x64xf16>, tensor<12x128x64xf16>) -> tensor<12x128x128xf16>
// CHECK: graph.matmul %{{.*}}, %{{.*}} {transpose_a, transpose_b} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
// CHECK: graph.matmul %{{.*}}, %{{.*}} : (tensor<2x1x4x8xbf16>, tensor<3x8x5xbf16>) -> tensor<2x3x4x5xbf16>
// GENERIC: "graph.matmul"(%{{.*}}, %{{.*}}) <{transpose_a, transpose_b}> : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
func.func @matmul(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>, %at: tensor<8x4xf32>,
                  %bt: tensor<16x8xf32>, %q: tensor<12x128x64xf16>,
                  %x: tensor<2x1x4x8xbf16>, %y: tensor<3x8x5xbf16>) {
  %0 = graph.matmul %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = graph.matmul %at, %b {transpose_a} : (tensor<8x4xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %2 = graph.matmul %q, %q {transpose_b} : (tensor<12x128x64xf16>, tensor<12x128x64xf16>) -> tensor<12x128x128xf16>
  %3 = graph.matmul %at, %bt {transpose_a, transpose_b} : (tensor<8x4xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %4 = graph.matmul %x, %y : (tensor<2x1x4x8xbf16>, tensor<3x8x5xbf16>) -> tensor<2x3x4x5xbf16>
  return
}

// CHECK-LABEL: func.func @einsum
// CHECK: graph.einsum "sic,sjd->ijcd" %{{.*}}, %{{.*}} : (tensor<8x16x4xf32>, tensor<8x16x2xf32>) -> tensor<16x16x4x2xf32>
// CHECK: graph.einsum "ikc,jkc->ijc" %{{.*}}, %{{.*}} : (tensor<6x5x3xf32>, tensor<7x5x3xf32>) -> tensor<6x7x3xf32>
// CHECK: graph.einsum "ij->ji" %{{.*}} : (tensor<6x5xf16>) -> tensor<5x6xf16>
// CHECK: graph.einsum "ij->" %{{.*}} : (tensor<6x5xf16>) -> tensor<f16>
// GENERIC: "graph.einsum"(%{{.*}}) <{equation = "ij->ji"}> : (tensor<6x5xf16>) -> tensor<5x6xf16>
func.func @einsum(%a: tensor<8x16x4xf32>, %b: tensor<8x16x2xf32>, %c: tensor<6x5x3xf32>,
                  %d: tensor<7x5x3xf32>, %e: tensor<6x5xf16>) {
  %0 = graph.einsum "sic,sjd->ijcd" %a, %b : (tensor<8x16x4xf32>, tensor<8x16x2xf32>) -> tensor<16x16x4x2xf32>
  %1 = graph.einsum "ikc,jkc->ijc" %c, %d : (tensor<6x5x3xf32>, tensor<7x5x3xf32>) -> tensor<6x7x3xf32>
  %2 = graph.einsum "ij->ji" %e : (tensor<6x5xf16>) -> tensor<5x6xf16>
  %3 = graph.einsum "ij->" %e : (tensor<6x5xf16>) -> tensor<f16>
  return
}

// CHECK-LABEL: func.func @linear
// CHECK: graph.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<128x768xf32>, tensor<2304x768xf32>, tensor<2304xf32>) -> tensor<128x2304xf32>
// CHECK: graph.linear %{{.*}}, %{{.*}} : (tensor<2x3x8xbf16>, tensor<4x8xbf16>) -> tensor<2x3x4xbf16>
// CHECK: graph.linear %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4xf32>
// GENERIC: "graph.linear"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<128x768xf32>, tensor<2304x768xf32>, tensor<2304xf32>) -> tensor<128x2304xf32>
// GENERIC: "graph.linear"(%{{.*}}, %{{.*}}) : (tensor<2x3x8xbf16>, tensor<4x8xbf16>) -> tensor<2x3x4xbf16>
func.func @linear(%x: tensor<128x768xf32>, %w: tensor<2304x768xf32>, %b: tensor<2304xf32>,
                  %y: tensor<2x3x8xbf16>, %v: tensor<4x8xbf16>, %z: tensor<8xf32>,
                  %u: tensor<4x8xf32>) {
  %0 = graph.linear %x, %w, %b : (tensor<128x768xf32>, tensor<2304x768xf32>, tensor<2304xf32>) -> tensor<128x2304xf32>
  %1 = graph.linear %y, %v : (tensor<2x3x8xbf16>, tensor<4x8xbf16>) -> tensor<2x3x4xbf16>
  %2 = graph.linear %z, %u : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// CHECK-LABEL: func.func @normalization
// CHECK: graph.softmax %{{.*}} {axis = 1 : i64} : tensor<4x8xf32>
// CHECK: graph.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, epsilon = 9.9999999999999995E-7 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK: graph.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf16>, tensor<3x4xf16>, tensor<3x4xf16>) -> tensor<2x3x4xf16>
// GENERIC: "graph.softmax"(%{{.*}}) <{axis = 1 : i64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "graph.layer_norm"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 1 : i64, epsilon = 9.9999999999999995E-7 : f64}>
func.func @normalization(%x: tensor<4x8xf32>, %w: tensor<8xf32>, %h: tensor<2x3x4xf16>,
                         %hw: tensor<3x4xf16>) {
  %0 = graph.softmax %x {axis = 1 : i64} : tensor<4x8xf32>
  %1 = graph.layer_norm %x, %w, %w {axis = 1 : i64, epsilon = 1.0e-6 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %2 = graph.layer_norm %h, %hw, %hw {axis = 1 : i64} : (tensor<2x3x4xf16>, tensor<3x4xf16>, tensor<3x4xf16>) -> tensor<2x3x4xf16>
  return
}

// CHECK-LABEL: func.func @reductions
// CHECK: graph.reduce_sum %{{.*}} {axes = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
// CHECK: graph.reduce_mean %{{.*}} {axes = array<i64: 2>, keep_dims} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
// CHECK: graph.reduce_max %{{.*}} {axes = array<i64: 0, 2>} : (tensor<2x3x4xbf16>) -> tensor<3xbf16>
// CHECK: graph.reduce_sum %{{.*}} {axes = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
// GENERIC: "graph.reduce_mean"(%{{.*}}) <{axes = array<i64: 2>, keep_dims}> : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
func.func @reductions(%x: tensor<2x3x4xf32>, %b: tensor<2x3x4xbf16>) {
  %0 = graph.reduce_sum %x {axes = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  %1 = graph.reduce_mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  %2 = graph.reduce_max %b {axes = array<i64: 0, 2>} : (tensor<2x3x4xbf16>) -> tensor<3xbf16>
  %3 = graph.reduce_sum %x {axes = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  return
}

// CHECK-LABEL: func.func @data_movement
// CHECK: graph.transpose %{{.*}} {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK: graph.reshape %{{.*}} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK: graph.reshape %{{.*}} : (tensor<f32>) -> tensor<1x1xf32>
// CHECK: graph.broadcast %{{.*}} : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
// CHECK: graph.broadcast %{{.*}} : (tensor<f32>) -> tensor<2x3xf32>
// CHECK: graph.slice %{{.*}} {limits = array<i64: 2, 3, 4>, starts = array<i64: 0, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<2x2x4xf32>
// CHECK: graph.slice %{{.*}} {limits = array<i64: 2, 3, 4>, starts = array<i64: 1, 0, 1>, strides = array<i64: 1, 2, 2>} : (tensor<2x3x4xf32>) -> tensor<1x2x2xf32>
// CHECK: graph.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x2x4xf32>) -> tensor<2x5x4xf32>
// CHECK: graph.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<1xf16>, tensor<2xf16>, tensor<3xf16>) -> tensor<6xf16>
// GENERIC: "graph.transpose"(%{{.*}}) <{permutation = array<i64: 2, 0, 1>}> : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// GENERIC: "graph.reshape"(%{{.*}}) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// GENERIC: "graph.broadcast"(%{{.*}}) : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
// GENERIC: "graph.slice"(%{{.*}}) <{limits = array<i64: 2, 3, 4>, starts = array<i64: 1, 0, 1>, strides = array<i64: 1, 2, 2>}> : (tensor<2x3x4xf32>) -> tensor<1x2x2xf32>
// GENERIC: "graph.concat"(%{{.*}}, %{{.*}}) <{axis = 1 : i64}> : (tensor<2x3x4xf32>, tensor<2x2x4xf32>) -> tensor<2x5x4xf32>
func.func @data_movement(%x: tensor<2x3x4xf32>, %s: tensor<f32>, %c: tensor<3x1xf32>,
                         %h1: tensor<1xf16>, %h2: tensor<2xf16>, %h3: tensor<3xf16>) {
  %0 = graph.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = graph.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %2 = graph.reshape %s : (tensor<f32>) -> tensor<1x1xf32>
  %3 = graph.broadcast %c : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
  %4 = graph.broadcast %s : (tensor<f32>) -> tensor<2x3xf32>
  %5 = graph.slice %x {starts = array<i64: 0, 1, 0>, limits = array<i64: 2, 3, 4>} : (tensor<2x3x4xf32>) -> tensor<2x2x4xf32>
  %6 = graph.slice %x {starts = array<i64: 1, 0, 1>, limits = array<i64: 2, 3, 4>, strides = array<i64: 1, 2, 2>} : (tensor<2x3x4xf32>) -> tensor<1x2x2xf32>
  %7 = graph.concat %x, %5 {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x2x4xf32>) -> tensor<2x5x4xf32>
  %8 = graph.concat %h1, %h2, %h3 {axis = 0 : i64} : (tensor<1xf16>, tensor<2xf16>, tensor<3xf16>) -> tensor<6xf16>
  return
}

// The offsets of a chunk of the logits are index operands.
// CHECK-LABEL: func.func @causal_mask
// CHECK: graph.causal_mask %{{.*}} : tensor<12x128x128xf32>
// CHECK: graph.causal_mask %{{.*}} row_offset(%{{.*}}) : tensor<12x32x128xf32>
// CHECK: graph.causal_mask %{{.*}} col_offset(%{{.*}}) : tensor<12x128x32xf32>
// CHECK: graph.causal_mask %{{.*}} row_offset(%{{.*}}) col_offset(%{{.*}}) {diagonal = -1 : i64} : tensor<32x32xbf16>
// GENERIC: "graph.causal_mask"(%{{.*}}) <{diagonal = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
// GENERIC: "graph.causal_mask"(%{{.*}}, %{{.*}}) <{diagonal = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<12x32x128xf32>, index) -> tensor<12x32x128xf32>
// GENERIC: "graph.causal_mask"(%{{.*}}, %{{.*}}) <{diagonal = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<12x128x32xf32>, index) -> tensor<12x128x32xf32>
// GENERIC: "graph.causal_mask"(%{{.*}}, %{{.*}}, %{{.*}}) <{diagonal = -1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>}> : (tensor<32x32xbf16>, index, index) -> tensor<32x32xbf16>
func.func @causal_mask(%s: tensor<12x128x128xf32>, %rows: tensor<12x32x128xf32>,
                       %cols: tensor<12x128x32xf32>, %tile: tensor<32x32xbf16>,
                       %i: index, %j: index) {
  %0 = graph.causal_mask %s : tensor<12x128x128xf32>
  %1 = graph.causal_mask %rows row_offset(%i) : tensor<12x32x128xf32>
  %2 = graph.causal_mask %cols col_offset(%j) : tensor<12x128x32xf32>
  %3 = graph.causal_mask %tile row_offset(%i) col_offset(%j) {diagonal = -1 : i64} : tensor<32x32xbf16>
  return
}

// Dialect attributes on function arguments and results survive printing.
// CHECK-LABEL: func.func @attributes
// CHECK-SAME: %{{.*}}: tensor<4x8xf32> {graph.name = "x", graph.role = "input"}
// CHECK-SAME: %{{.*}}: tensor<8x8xf32> {graph.name = "blocks.0.mlp.fc.weight", graph.role = "weight"}
// CHECK-SAME: -> (tensor<4x8xf32> {graph.name = "y"})
// GENERIC: arg_attrs = [{graph.name = "x", graph.role = "input"}, {graph.name = "blocks.0.mlp.fc.weight", graph.role = "weight"}]
// GENERIC-SAME: res_attrs = [{graph.name = "y"}]
func.func @attributes(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"},
                      %w: tensor<8x8xf32> {graph.name = "blocks.0.mlp.fc.weight", graph.role = "weight"})
    -> (tensor<4x8xf32> {graph.name = "y"}) {
  %0 = graph.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// Fused attention: optional bias (broadcast to the logits) and row offset.
// CHECK-LABEL: func.func @attention
// CHECK: graph.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 1.250000e-01 : f64} : tensor<12x128x64xf32>, tensor<12x128x64xf32>, tensor<12x128x32xf32> -> tensor<12x128x32xf32>
// CHECK: graph.attention %{{.*}}, %{{.*}}, %{{.*}} row_offset(%{{.*}}) {causal, diagonal = 1 : i64, scale = 1.250000e-01 : f64} : tensor<12x32x64xf32>, tensor<12x128x64xf32>, tensor<12x128x32xf32> -> tensor<12x32x32xf32>
// CHECK: graph.attention %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<8x24x24xbf16>) {scale = 1.000000e+00 : f64} : tensor<4x8x24x16xbf16>, tensor<4x8x24x16xbf16>, tensor<4x8x24x16xbf16> -> tensor<4x8x24x16xbf16>
// GENERIC: "graph.attention"(%{{.*}}, %{{.*}}, %{{.*}}) <{causal, diagonal = 0 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, scale = 1.250000e-01 : f64}>
func.func @attention(%q: tensor<12x128x64xf32>, %k: tensor<12x128x64xf32>,
                     %v: tensor<12x128x32xf32>, %qc: tensor<12x32x64xf32>,
                     %i: index, %q4: tensor<4x8x24x16xbf16>,
                     %b: tensor<8x24x24xbf16>) {
  %0 = graph.attention %q, %k, %v {causal, scale = 0.125 : f64} : tensor<12x128x64xf32>, tensor<12x128x64xf32>, tensor<12x128x32xf32> -> tensor<12x128x32xf32>
  %1 = graph.attention %qc, %k, %v row_offset(%i) {causal, diagonal = 1 : i64, scale = 0.125 : f64} : tensor<12x32x64xf32>, tensor<12x128x64xf32>, tensor<12x128x32xf32> -> tensor<12x32x32xf32>
  %2 = graph.attention %q4, %q4, %q4 bias(%b : tensor<8x24x24xbf16>) {scale = 1.0 : f64} : tensor<4x8x24x16xbf16>, tensor<4x8x24x16xbf16>, tensor<4x8x24x16xbf16> -> tensor<4x8x24x16xbf16>
  return
}
