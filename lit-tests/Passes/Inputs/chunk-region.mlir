// An MLP over 10 tokens whose hidden layer is chunked along tokens.
func.func @mlp(%x: tensor<10x8xf32> {graph.name = "x", graph.role = "input"},
               %w1: tensor<32x8xf32> {graph.name = "w1", graph.role = "weight"},
               %w2: tensor<8x32xf32> {graph.name = "w2", graph.role = "weight"})
    -> (tensor<10x8xf32> {graph.name = "y"}) {
  %h = graph.linear %x, %w1 {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x8xf32>, tensor<32x8xf32>) -> tensor<10x32xf32>
  %a = graph.gelu %h {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<10x32xf32>
  %y = graph.linear %a, %w2 {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, -1>} : (tensor<10x32xf32>, tensor<8x32xf32>) -> tensor<10x8xf32>
  return %y : tensor<10x8xf32>
}
