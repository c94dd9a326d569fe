// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates -o /dev/null | FileCheck %s

// A loop dimension linalg reduces (iterator type "reduction": the matmul's
// K, 512 here) is never a chunk dimension of the op that reduces it: a
// region along the relu's columns stops before the matmul, while one along
// the rows takes the matmul, its fill and both empty destinations in.
// CHECK: function @reduction: peak 135168 bytes
// CHECK: candidate: seed 1:tensor.empty dim 0 extent 64 ops [1:tensor.empty, 2:linalg.generic, 3:tensor.empty, 4:linalg.fill, 5:linalg.matmul]
// CHECK: candidate: seed 1:tensor.empty dim 1 extent 512 ops [1:tensor.empty, 2:linalg.generic] loop-base
// CHECK-NOT: extent 512 ops [{{[^]]*}}linalg.matmul
// A region of an empty destination (and its fill) alone is no candidate.
// CHECK-NOT: ops [3:tensor.empty]
#id = affine_map<(i, j) -> (i, j)>
func.func @reduction(%x: tensor<64x512xf32>, %w: tensor<512x16xf32>) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<64x512xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x512xf32>) outs(%e0 : tensor<64x512xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x512xf32>
  %e = tensor.empty() : tensor<64x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %y = linalg.matmul ins(%a, %w : tensor<64x512xf32>, tensor<512x16xf32>) outs(%f : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}
