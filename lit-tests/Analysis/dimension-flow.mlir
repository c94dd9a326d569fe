// RUN: chunk-opt --mlir-disable-threading --pass-pipeline="builtin.module(func.func(autochunk-test-print-dimension-flow))" %s -o /dev/null | FileCheck %s

// The dimension flow of every graph op. Notation: "d1 <- {op0.d1, op1.d2}"
// says result dim 1 is a 1:1 slice of operand 0 dim 1 and operand 1 dim 2;
// "{}" that it is produced from whole operands; "mixed" / "opaque" that
// chunking along it is illegal; "reduced" lists contracted operand dims.

// CHECK-LABEL: dimension flow of @elementwise
// CHECK-NEXT: graph.exp result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.exp reduced: none
// CHECK-NEXT: graph.sqrt result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.sqrt reduced: none
// CHECK-NEXT: graph.rsqrt result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.rsqrt reduced: none
// CHECK-NEXT: graph.neg result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.neg reduced: none
// CHECK-NEXT: graph.relu result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.relu reduced: none
// CHECK-NEXT: graph.sigmoid result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.sigmoid reduced: none
// CHECK-NEXT: graph.silu result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.silu reduced: none
// CHECK-NEXT: graph.tanh result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.tanh reduced: none
// CHECK-NEXT: graph.gelu result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.gelu reduced: none
// CHECK-NEXT: graph.scale result 0: d0 <- {op0.d0}, d1 <- {op0.d1}
// CHECK-NEXT: graph.scale reduced: none
// CHECK-NOT: graph.
func.func @elementwise(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graph.exp %x : tensor<4x8xf32>
  %1 = graph.sqrt %0 : tensor<4x8xf32>
  %2 = graph.rsqrt %1 : tensor<4x8xf32>
  %3 = graph.neg %2 : tensor<4x8xf32>
  %4 = graph.relu %3 : tensor<4x8xf32>
  %5 = graph.sigmoid %4 : tensor<4x8xf32>
  %6 = graph.silu %5 : tensor<4x8xf32>
  %7 = graph.tanh %6 : tensor<4x8xf32>
  %8 = graph.gelu %7 {approximate = "tanh"} : tensor<4x8xf32>
  %9 = graph.scale %8 {factor = 0.5 : f64} : tensor<4x8xf32>
  return %9 : tensor<4x8xf32>
}

// Numpy broadcasting: a dim flows from an operand only where that operand's
// aligned dim has the full extent; size-1 and missing dims are read whole
// (a size-1 result dim flows from the size-1 dims it equals).
// CHECK-LABEL: dimension flow of @binary
// CHECK-NEXT: graph.add result 0: d0 <- {op0.d0, op1.d0}, d1 <- {op0.d1, op1.d1}
// CHECK-NEXT: graph.add reduced: none
// CHECK-NEXT: graph.sub result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 <- {op0.d2, op1.d0}
// CHECK-NEXT: graph.sub reduced: none
// CHECK-NEXT: graph.mul result 0: d0 <- {op1.d0}, d1 <- {op0.d1}, d2 <- {op1.d2}
// CHECK-NEXT: graph.mul reduced: none
// CHECK-NEXT: graph.div result 0: d0 <- {op0.d0}, d1 <- {op0.d1, op1.d0}, d2 <- {op0.d2, op1.d1}
// CHECK-NEXT: graph.div reduced: none
func.func @binary(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %c: tensor<2x4x8xf32>,
                  %row: tensor<8xf32>, %col: tensor<2x1x8xf32>, %d: tensor<1x4x1xf32>,
                  %e: tensor<2x4x1xf32>, %f: tensor<4x1xf32>) {
  %0 = graph.add %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graph.sub %c, %row : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %2 = graph.mul %d, %col : (tensor<1x4x1xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  %3 = graph.div %e, %f : (tensor<2x4x1xf32>, tensor<4x1xf32>) -> tensor<2x4x1xf32>
  return
}

// Batch dims broadcast; M from lhs, N from rhs, K reduced in both; the
// transpose flags swap which of the last two dims are M/K and K/N.
// CHECK-LABEL: dimension flow of @matmul
// CHECK-NEXT: graph.matmul result 0: d0 <- {op0.d0}, d1 <- {op1.d1}
// CHECK-NEXT: graph.matmul reduced: op0.d1, op1.d0
// CHECK-NEXT: graph.matmul result 0: d0 <- {op0.d0, op1.d0}, d1 <- {op0.d1}, d2 <- {op1.d1}
// CHECK-NEXT: graph.matmul reduced: op0.d2, op1.d2
// CHECK-NEXT: graph.matmul result 0: d0 <- {op0.d0}, d1 <- {op0.d2}, d2 <- {op1.d0}
// CHECK-NEXT: graph.matmul reduced: op0.d1, op1.d1
// CHECK-NEXT: graph.matmul result 0: d0 <- {op0.d0, op1.d0}, d1 <- {op1.d1}, d2 <- {op0.d2}, d3 <- {op1.d3}
// CHECK-NEXT: graph.matmul reduced: op0.d3, op1.d2
func.func @matmul(%a: tensor<4x6xf32>, %b: tensor<6x8xf32>,
                  %q: tensor<12x16x64xf32>, %k: tensor<12x32x64xf32>,
                  %at: tensor<12x6x4xf32>, %w: tensor<8x6xf32>,
                  %x: tensor<3x1x4x6xf32>, %y: tensor<3x5x6x8xf32>) {
  %0 = graph.matmul %a, %b : (tensor<4x6xf32>, tensor<6x8xf32>) -> tensor<4x8xf32>
  %1 = graph.matmul %q, %k {transpose_b} : (tensor<12x16x64xf32>, tensor<12x32x64xf32>) -> tensor<12x16x32xf32>
  %2 = graph.matmul %at, %w {transpose_a, transpose_b} : (tensor<12x6x4xf32>, tensor<8x6xf32>) -> tensor<12x4x8xf32>
  %3 = graph.matmul %x, %y : (tensor<3x1x4x6xf32>, tensor<3x5x6x8xf32>) -> tensor<3x5x4x8xf32>
  return
}

// Output labels flow from every operand holding them; summed labels are
// reduced in every operand.
// CHECK-LABEL: dimension flow of @einsum
// CHECK-NEXT: graph.einsum result 0: d0 <- {op0.d1}, d1 <- {op1.d1}, d2 <- {op0.d2}, d3 <- {op1.d2}
// CHECK-NEXT: graph.einsum reduced: op0.d0, op1.d0
// CHECK-NEXT: graph.einsum result 0: d0 <- {op0.d0}, d1 <- {op1.d0}, d2 <- {op0.d2, op1.d2}
// CHECK-NEXT: graph.einsum reduced: op0.d1, op1.d1
// CHECK-NEXT: graph.einsum result 0: d0 <- {op0.d1}, d1 <- {op0.d0}
// CHECK-NEXT: graph.einsum reduced: op0.d2
func.func @einsum(%a: tensor<5x6x2xf32>, %b: tensor<5x7x3xf32>,
                  %c: tensor<6x9x4xf32>, %d: tensor<7x9x4xf32>,
                  %e: tensor<2x3x4xf32>) {
  %0 = graph.einsum "sic,sjd->ijcd" %a, %b : (tensor<5x6x2xf32>, tensor<5x7x3xf32>) -> tensor<6x7x2x3xf32>
  %1 = graph.einsum "ikc,jkc->ijc" %c, %d : (tensor<6x9x4xf32>, tensor<7x9x4xf32>) -> tensor<6x7x4xf32>
  %2 = graph.einsum "ijk->ji" %e : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return
}

// All but the last dim from the input; out features from weight dim 0 and
// bias dim 0; in features reduced.
// CHECK-LABEL: dimension flow of @linear
// CHECK-NEXT: graph.linear result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 <- {op1.d0, op2.d0}
// CHECK-NEXT: graph.linear reduced: op0.d2, op1.d1
// CHECK-NEXT: graph.linear result 0: d0 <- {op0.d0}, d1 <- {op1.d0}
// CHECK-NEXT: graph.linear reduced: op0.d1, op1.d1
func.func @linear(%x: tensor<2x16x32xf32>, %w: tensor<64x32xf32>, %b: tensor<64xf32>,
                  %y: tensor<16x32xf32>) {
  %0 = graph.linear %x, %w, %b : (tensor<2x16x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %1 = graph.linear %y, %w : (tensor<16x32xf32>, tensor<64x32xf32>) -> tensor<16x64xf32>
  return
}

// CHECK-LABEL: dimension flow of @normalization
// CHECK-NEXT: graph.softmax result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 mixed
// CHECK-NEXT: graph.softmax reduced: none
// CHECK-NEXT: graph.softmax result 0: d0 <- {op0.d0}, d1 mixed, d2 <- {op0.d2}
// CHECK-NEXT: graph.softmax reduced: none
// CHECK-NEXT: graph.layer_norm result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 mixed
// CHECK-NEXT: graph.layer_norm reduced: none
// CHECK-NEXT: graph.layer_norm result 0: d0 <- {op0.d0}, d1 mixed, d2 mixed
// CHECK-NEXT: graph.layer_norm reduced: none
func.func @normalization(%x: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>,
                         %w2: tensor<4x8xf32>, %b2: tensor<4x8xf32>) {
  %0 = graph.softmax %x {axis = 2 : i64} : tensor<2x4x8xf32>
  %1 = graph.softmax %x {axis = 1 : i64} : tensor<2x4x8xf32>
  %2 = graph.layer_norm %x, %w, %b {axis = 2 : i64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %3 = graph.layer_norm %x, %w2, %b2 {axis = 1 : i64} : (tensor<2x4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// Kept reduced dims have size 1 and come from nothing.
// CHECK-LABEL: dimension flow of @reductions
// CHECK-NEXT: graph.reduce_sum result 0: d0 <- {op0.d0}, d1 <- {op0.d2}
// CHECK-NEXT: graph.reduce_sum reduced: op0.d1
// CHECK-NEXT: graph.reduce_mean result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 <- {}
// CHECK-NEXT: graph.reduce_mean reduced: op0.d2
// CHECK-NEXT: graph.reduce_max result 0: d0 <- {}, d1 <- {op0.d1}, d2 <- {}
// CHECK-NEXT: graph.reduce_max reduced: op0.d0, op0.d2
func.func @reductions(%x: tensor<2x4x8xf32>) {
  %0 = graph.reduce_sum %x {axes = array<i64: 1>} : (tensor<2x4x8xf32>) -> tensor<2x8xf32>
  %1 = graph.reduce_mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  %2 = graph.reduce_max %x {axes = array<i64: 0, 2>, keep_dims} : (tensor<2x4x8xf32>) -> tensor<1x4x1xf32>
  return
}

// CHECK-LABEL: dimension flow of @transpose
// CHECK-NEXT: graph.transpose result 0: d0 <- {op0.d1}, d1 <- {op0.d2}, d2 <- {op0.d0}
// CHECK-NEXT: graph.transpose reduced: none
func.func @transpose(%x: tensor<2x4x8xf32>) -> tensor<4x8x2xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x4x8xf32>) -> tensor<4x8x2xf32>
  return %0 : tensor<4x8x2xf32>
}

// A dim flows through a reshape only as an unchanged 1:1 group; split or
// merged dims are opaque; size-1 dims may come and go.
// CHECK-LABEL: dimension flow of @reshape
// Split the last dim into heads: [128, 768] -> [128, 12, 64].
// CHECK-NEXT: graph.reshape result 0: d0 <- {op0.d0}, d1 opaque, d2 opaque
// CHECK-NEXT: graph.reshape reduced: none
// Merge heads back: [12, 128, 64] -> [12, 8192] keeps d0 only.
// CHECK-NEXT: graph.reshape result 0: d0 <- {op0.d0}, d1 opaque
// CHECK-NEXT: graph.reshape reduced: none
// Insert and remove size-1 dims: [4, 1, 8] -> [1, 4, 8, 1].
// CHECK-NEXT: graph.reshape result 0: d0 <- {}, d1 <- {op0.d0}, d2 <- {op0.d2}, d3 <- {}
// CHECK-NEXT: graph.reshape reduced: none
// Merge in the middle, keep both ends: [2, 3, 4, 5] -> [2, 12, 5].
// CHECK-NEXT: graph.reshape result 0: d0 <- {op0.d0}, d1 opaque, d2 <- {op0.d3}
// CHECK-NEXT: graph.reshape reduced: none
// Same element count, no common boundary: [6, 4] -> [4, 6].
// CHECK-NEXT: graph.reshape result 0: d0 opaque, d1 opaque
// CHECK-NEXT: graph.reshape reduced: none
func.func @reshape(%x: tensor<128x768xf32>, %y: tensor<12x128x64xf32>, %z: tensor<4x1x8xf32>,
                   %w: tensor<2x3x4x5xf32>, %v: tensor<6x4xf32>) {
  %0 = graph.reshape %x : (tensor<128x768xf32>) -> tensor<128x12x64xf32>
  %1 = graph.reshape %y : (tensor<12x128x64xf32>) -> tensor<12x8192xf32>
  %2 = graph.reshape %z : (tensor<4x1x8xf32>) -> tensor<1x4x8x1xf32>
  %3 = graph.reshape %w : (tensor<2x3x4x5xf32>) -> tensor<2x12x5xf32>
  %4 = graph.reshape %v : (tensor<6x4xf32>) -> tensor<4x6xf32>
  return
}

// CHECK-LABEL: dimension flow of @broadcast
// CHECK-NEXT: graph.broadcast result 0: d0 <- {}, d1 <- {}, d2 <- {op0.d1}
// CHECK-NEXT: graph.broadcast reduced: none
func.func @broadcast(%x: tensor<1x8xf32>) -> tensor<2x4x8xf32> {
  %0 = graph.broadcast %x : (tensor<1x8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// Only dims the slice takes whole (start 0, full limit, stride 1) flow.
// CHECK-LABEL: dimension flow of @slice
// CHECK-NEXT: graph.slice result 0: d0 <- {op0.d0}, d1 opaque
// CHECK-NEXT: graph.slice reduced: none
// CHECK-NEXT: graph.slice result 0: d0 opaque, d1 <- {op0.d1}
// CHECK-NEXT: graph.slice reduced: none
// CHECK-NEXT: graph.slice result 0: d0 <- {op0.d0}, d1 opaque
// CHECK-NEXT: graph.slice reduced: none
func.func @slice(%qkv: tensor<128x2304xf32>, %x: tensor<8x16xf32>) {
  %0 = graph.slice %qkv {starts = array<i64: 0, 768>, limits = array<i64: 128, 1536>} : (tensor<128x2304xf32>) -> tensor<128x768xf32>
  %1 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 8, 16>, strides = array<i64: 2, 1>} : (tensor<8x16xf32>) -> tensor<4x16xf32>
  %2 = graph.slice %x {starts = array<i64: 0, 0>, limits = array<i64: 8, 16>, strides = array<i64: 1, 2>} : (tensor<8x16xf32>) -> tensor<8x8xf32>
  return
}

// CHECK-LABEL: dimension flow of @concat
// CHECK-NEXT: graph.concat result 0: d0 <- {op0.d0, op1.d0, op2.d0}, d1 opaque
// CHECK-NEXT: graph.concat reduced: none
func.func @concat(%a: tensor<4x2xf32>, %b: tensor<4x3xf32>, %c: tensor<4x1xf32>) -> tensor<4x6xf32> {
  %0 = graph.concat %a, %b, %c {axis = 1 : i64} : (tensor<4x2xf32>, tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// CHECK-LABEL: dimension flow of @constant
// CHECK-NEXT: graph.constant result 0: d0 <- {}, d1 <- {}
// CHECK-NEXT: graph.constant reduced: none
func.func @constant() -> tensor<4x8xf32> {
  %0 = graph.constant dense<1.0> : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// The query and key dims flow (the rewrite passes their offsets); the index
// operands are never sliced.
// CHECK-LABEL: dimension flow of @causal_mask
// CHECK-NEXT: graph.causal_mask result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 <- {op0.d2}
// CHECK-NEXT: graph.causal_mask reduced: none
// CHECK-NEXT: graph.causal_mask result 0: d0 <- {op0.d0}, d1 <- {op0.d1}, d2 <- {op0.d2}
// CHECK-NEXT: graph.causal_mask reduced: none
func.func @causal_mask(%s: tensor<12x128x128xf32>, %chunk: tensor<12x32x128xf32>, %iv: index) {
  %0 = graph.causal_mask %s : tensor<12x128x128xf32>
  %1 = graph.causal_mask %chunk row_offset(%iv) : tensor<12x32x128xf32>
  return
}

// Attention: leading dims and the query rows flow (a bias [heads, M, N]
// under [batch, heads, M, N] logits joins them where it has the extent); E
// flows from the value; D and the keys are reduced.
// CHECK-LABEL: dimension flow of @attention
// CHECK-NEXT: graph.attention result 0: d0 <- {op0.d0, op1.d0, op2.d0}, d1 <- {op0.d1, op1.d1, op2.d1, op3.d0}, d2 <- {op0.d2, op3.d1}, d3 <- {op2.d3}
// CHECK-NEXT: graph.attention reduced: op0.d3, op1.d3, op1.d2, op2.d2, op3.d2
// CHECK-NEXT: graph.attention result 0: d0 <- {op0.d0, op1.d0, op2.d0}, d1 <- {op0.d1}, d2 <- {op2.d2}
// CHECK-NEXT: graph.attention reduced: op0.d2, op1.d2, op1.d1, op2.d1
func.func @attention(%q: tensor<4x8x24x16xf32>, %v: tensor<4x8x24x32xf32>,
                     %b: tensor<8x24x24xf32>, %qc: tensor<12x32x64xf32>,
                     %k: tensor<12x128x64xf32>, %vc: tensor<12x128x16xf32>,
                     %i: index) {
  %0 = graph.attention %q, %q, %v bias(%b : tensor<8x24x24xf32>) {scale = 1.0 : f64} : tensor<4x8x24x16xf32>, tensor<4x8x24x16xf32>, tensor<4x8x24x32xf32> -> tensor<4x8x24x32xf32>
  %1 = graph.attention %qc, %k, %vc row_offset(%i) {causal, scale = 0.125 : f64} : tensor<12x32x64xf32>, tensor<12x128x64xf32>, tensor<12x128x16xf32> -> tensor<12x32x16xf32>
  return
}

// Ops without the interface are barriers, not errors; scalar ops are skipped.
// CHECK-LABEL: dimension flow of @barriers
// CHECK-NEXT: tensor.empty barrier: does not implement DimensionFlowOpInterface
// CHECK-NEXT: arith.addf barrier: does not implement DimensionFlowOpInterface
// CHECK-NEXT: graph.exp result 0: d0 <- {op0.d0}
// CHECK-NOT: arith.constant
func.func @barriers(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant 1 : index
  %0 = tensor.empty() : tensor<4xf32>
  %1 = arith.addf %x, %0 : tensor<4xf32>
  %2 = graph.exp %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}
