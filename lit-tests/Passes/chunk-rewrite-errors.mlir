// RUN: chunk-opt --split-input-file --verify-diagnostics --autochunk-test-chunk-rewrite=chunk-size=4 %s

// A chunk size that covers the extent is refused.
func.func @whole(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{chunk size 4 must be in [1, 4)}}
  %e = graph.exp %x {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// A region that reads a value computed from its own output cannot be one
// loop: the relu sits between the region's ops and depends on the first.
func.func @not_convex(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{the chunk region reads a value defined after its results are used; it cannot become one loop}}
  %e = graph.exp %x {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0>} : tensor<8xf32>
  %r = graph.relu %e : tensor<8xf32>
  %a = graph.add %e, %r {test.chunk_region = 0, test.chunk_dims = array<i64: 0>, test.operand_chunk_dims = array<i64: 0, 0>} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %a : tensor<8xf32>
}
