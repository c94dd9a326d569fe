func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = graph.gelu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = graph.gelu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
