// A tensor name that would escape the outputs folder.
func.func @f(%x: tensor<4xf32> {graph.name = "../x", graph.role = "input"}) -> tensor<4xf32> {
  %0 = graph.exp %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
