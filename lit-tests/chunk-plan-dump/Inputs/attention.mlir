// Single-head causal attention, 64 queries x 32 features, f32 (the graph of
// lit-tests/AutoChunk/candidates-attention.mlir).
func.func @attention(%x: tensor<64x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>) -> tensor<64x32xf32> {
  %q = graph.linear %x, %wq : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %k = graph.linear %x, %wk : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %v = graph.linear %x, %wv : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %s = graph.matmul %q, %k {transpose_b} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x64xf32>
  %t = graph.scale %s {factor = 0.125 : f64} : tensor<64x64xf32>
  %m = graph.causal_mask %t : tensor<64x64xf32>
  %p = graph.softmax %m {axis = 1 : i64} : tensor<64x64xf32>
  %o = graph.matmul %p, %v : (tensor<64x64xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  return %o : tensor<64x32xf32>
}
