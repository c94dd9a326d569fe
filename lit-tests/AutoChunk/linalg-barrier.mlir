// RUN: chunk-opt --allow-unregistered-dialect %s --pass-pipeline="builtin.module(func.func(autochunk-chunk{memory-budget=65536}))" -verify-diagnostics -split-input-file

// Ops the search cannot see through (an unregistered op, a call) where the
// peak sits: a warning at each, naming it and why, and the error says they
// stop the chunk regions. Each reads and writes a whole 64x256xf32 (65536
// bytes), so 131072 bytes are live at each whatever is chunked elsewhere.
func.func private @opaque(tensor<64x256xf32>) -> tensor<64x256xf32>

// expected-error @+1 {{cannot meet the budget of 65536 bytes: the smallest activation peak AutoChunk reaches is 131072 bytes; 2 ops without dimension flow, where more than the budget is live, stop chunk regions}}
func.func @custom(%x: tensor<64x32xf32>, %w: tensor<32x256xf32>) -> tensor<64x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %h = linalg.matmul ins(%x, %w : tensor<64x32xf32>, tensor<32x256xf32>) outs(%f : tensor<64x256xf32>) -> tensor<64x256xf32>
  // expected-warning @+1 {{'test.custom' has no dimension flow: it stops chunk regions (does not implement DimensionFlowOpInterface); 131072 bytes are live at it, over the budget of 65536 bytes}}
  %c = "test.custom"(%h) : (tensor<64x256xf32>) -> tensor<64x256xf32>
  // expected-warning @+1 {{'func.call' has no dimension flow: it stops chunk regions}}
  %y = func.call @opaque(%c) : (tensor<64x256xf32>) -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}

// -----

// A barrier away from the peak says nothing: the matmuls and the relu
// between them are chunked along the rows after it (no diagnostic expected).
#id = affine_map<(i, j) -> (i, j)>
func.func @barrier_off_peak(%x: tensor<64x32xf32>, %w: tensor<32x256xf32>, %w2: tensor<256x32xf32>) -> tensor<64x32xf32> {
  %small = "test.custom"(%x) : (tensor<64x32xf32>) -> tensor<64x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %h = linalg.matmul ins(%small, %w : tensor<64x32xf32>, tensor<32x256xf32>) outs(%f : tensor<64x256xf32>) -> tensor<64x256xf32>
  %e1 = tensor.empty() : tensor<64x256xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<64x256xf32>) outs(%e1 : tensor<64x256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x256xf32>
  %e2 = tensor.empty() : tensor<64x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  %y = linalg.matmul ins(%r, %w2 : tensor<64x256xf32>, tensor<256x32xf32>) outs(%f2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}
