// RUN: chunk-opt %s --autochunk-chunk=memory-budget=0.5x -verify-diagnostics -split-input-file

// k, v and the output must stay whole while query chunks run (24576 bytes)
// and a chunk of one row adds 512: 25088 is the floor, above 0.5 x 40960.
// expected-error @+1 {{cannot meet the budget of 20480 bytes: the smallest activation peak AutoChunk reaches is 25088 bytes}}
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

// -----

// A returned value is a whole buffer however it is computed: 64 bytes.
// expected-error @+1 {{cannot meet the budget of 32 bytes: the smallest activation peak AutoChunk reaches is 64 bytes}}
func.func @output_only(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %e = graph.exp %x : tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}
