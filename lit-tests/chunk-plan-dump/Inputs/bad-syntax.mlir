func.func @broken(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = graph.gelu %x : tensor<4xf32> oops
  return %y : tensor<4xf32>
}
