// Causal fused attention as one chunk region along its queries.
func.func @attention(%q: tensor<2x10x4xf32> {graph.name = "q", graph.role = "input"}, %k: tensor<2x10x4xf32> {graph.name = "k", graph.role = "input"}, %v: tensor<2x10x4xf32> {graph.name = "v", graph.role = "input"}) -> (tensor<2x10x4xf32> {graph.name = "o"}) {
  %o = graph.attention %q, %k, %v {causal, scale = 0.5 : f64, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1, -1, -1>} : tensor<2x10x4xf32>, tensor<2x10x4xf32>, tensor<2x10x4xf32> -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
