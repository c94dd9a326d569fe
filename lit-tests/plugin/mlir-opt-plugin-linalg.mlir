// AutoChunk on linalg-on-tensors input through Debian's stock mlir-opt with
// the plugin: the named pipeline chunks the attention along its queries and
// plans the arena; the exact estimate agrees.
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(autochunk-pipeline{memory-budget=65536 lower-to-llvm=false})" %s | FileCheck %s
// RUN: %stock_mlir_opt --load-dialect-plugin=%autochunk_plugin --load-pass-plugin=%autochunk_plugin --pass-pipeline="builtin.module(func.func(autochunk-test-print-memory-estimate))" %s -o /dev/null | FileCheck %s --check-prefix=ESTIMATE

// Unchunked: scores and scaled scores (131072 bytes each) live together.
// ESTIMATE: arena: 262144 bytes

// Chunked: 24 query rows per chunk, the output (16384 bytes) at the end of
// the 65536-byte arena; the per-chunk buffers are views into its start.
// CHECK: func.func @attention(%{{.*}}: memref<65536xi8> {autochunk.arena})
// CHECK-SAME: autochunk.arena_bytes = 65536
// CHECK-SAME: offset = 49152 : i64, type = memref<2x128x16xf32>
// CHECK-SAME: chunk_size = 24 : i64, dim = 1 : i64
// CHECK: scf.for
// CHECK: memref.subview %arg0[0, %{{.+}}, 0] [2, 24, 16] [1, 1, 1]
// CHECK: memref.view %{{.+}}[%{{.+}}][] : memref<65536xi8> to memref<2x24x128xf32>
// CHECK: linalg.softmax dimension(2) ins(%{{.+}} : memref<2x24x128xf32>)
// CHECK: linalg.batch_matmul
// CHECK-NOT: memref.alloc

#qk_q = affine_map<(h, i, j, d) -> (h, i, d)>
#qk_k = affine_map<(h, i, j, d) -> (h, j, d)>
#qk_s = affine_map<(h, i, j, d) -> (h, i, j)>
#id3 = affine_map<(h, i, j) -> (h, i, j)>
func.func @attention(%q: tensor<2x128x16xf32>, %k: tensor<2x128x16xf32>,
                     %v: tensor<2x128x16xf32>) -> tensor<2x128x16xf32> {
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant 0.25 : f32
  %e0 = tensor.empty() : tensor<2x128x128xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
  %s = linalg.generic {indexing_maps = [#qk_q, #qk_k, #qk_s],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x128x16xf32>, tensor<2x128x16xf32>) outs(%s0 : tensor<2x128x128xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x128x128xf32>
  %e1 = tensor.empty() : tensor<2x128x128xf32>
  %scaled = linalg.generic {indexing_maps = [#id3, #id3],
                            iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x128x128xf32>) outs(%e1 : tensor<2x128x128xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %scale : f32
    linalg.yield %m : f32
  } -> tensor<2x128x128xf32>
  %e2 = tensor.empty() : tensor<2x128x128xf32>
  %p = linalg.softmax dimension(2) ins(%scaled : tensor<2x128x128xf32>) outs(%e2 : tensor<2x128x128xf32>) -> tensor<2x128x128xf32>
  %e3 = tensor.empty() : tensor<2x128x16xf32>
  %o0 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<2x128x16xf32>) -> tensor<2x128x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x128x128xf32>, tensor<2x128x16xf32>) outs(%o0 : tensor<2x128x16xf32>) -> tensor<2x128x16xf32>
  return %o : tensor<2x128x16xf32>
}
