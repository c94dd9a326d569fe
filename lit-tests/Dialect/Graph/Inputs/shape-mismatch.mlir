// A graph whose matmul contracts 8 against 6.
func.func @f(%x: tensor<4x8xf32>, %w: tensor<6x2xf32>) -> tensor<4x2xf32> {
  %0 = graph.matmul %x, %w : (tensor<4x8xf32>, tensor<6x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}
