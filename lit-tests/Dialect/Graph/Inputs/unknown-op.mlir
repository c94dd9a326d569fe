// A graph with an op the graph dialect does not have.
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.frobnicate %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
