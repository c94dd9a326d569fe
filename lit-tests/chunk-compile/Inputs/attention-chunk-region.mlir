// Causal attention whose four ops form one chunk region along queries.
func.func @attention(%q: tensor<2x10x4xf32> {graph.name = "q", graph.role = "input"}, %k: tensor<2x10x4xf32> {graph.name = "k", graph.role = "input"}, %v: tensor<2x10x4xf32> {graph.name = "v", graph.role = "input"}) -> (tensor<2x10x4xf32> {graph.name = "o"}) {
  %s = graph.matmul %q, %k {transpose_b, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1, -1>} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2, test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1>} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v {test.chunk_region = 0, test.chunk_dims = array<i64: 1>, test.operand_chunk_dims = array<i64: 1, -1>} : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
