// Data movement on tiny bf16 tensors: 64-byte alignment dominates the arena.
func.func @data_movement(%x: tensor<2x3x4xbf16> {graph.name = "x", graph.role = "input"}, %y: tensor<3x1xbf16> {graph.name = "y", graph.role = "input"}) -> (tensor<4x2x3xbf16> {graph.name = "transpose"}, tensor<4x6xbf16> {graph.name = "reshape_of_transpose"}, tensor<6x2x2xbf16> {graph.name = "reshape"}, tensor<2x3x4xbf16> {graph.name = "broadcast"}) {
  %t = graph.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xbf16>) -> tensor<4x2x3xbf16>
  %r = graph.reshape %t : (tensor<4x2x3xbf16>) -> tensor<4x6xbf16>
  %s = graph.reshape %x : (tensor<2x3x4xbf16>) -> tensor<6x2x2xbf16>
  %b = graph.broadcast %y : (tensor<3x1xbf16>) -> tensor<2x3x4xbf16>
  return %t, %r, %s, %b : tensor<4x2x3xbf16>, tensor<4x6xbf16>, tensor<6x2x2xbf16>, tensor<2x3x4xbf16>
}
