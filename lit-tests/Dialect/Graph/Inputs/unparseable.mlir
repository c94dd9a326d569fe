// A graph with a syntax error: the operand list is not closed.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.add %x, : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
