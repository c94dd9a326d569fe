func.func @mlp(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"},
               %w: tensor<16x8xf32> {graph.name = "w", graph.role = "weight"},
               %b: tensor<16xf32> {graph.name = "b", graph.role = "weight"})
    -> (tensor<4x16xf32> {graph.name = "y"}) {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %1 = graph.transpose %0 {permutation = array<i64: 1, 0>} : (tensor<8x4xf32>) -> tensor<4x8xf32>
  %2 = graph.linear %1, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %3 = graph.gelu %2 {approximate = "tanh"} : tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}
