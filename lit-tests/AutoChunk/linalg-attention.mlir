// AutoChunk on upstream linalg-on-tensors input: one attention of two heads,
// q.k^T as a linalg.generic (a batch contraction with k transposed), the
// scale as an elementwise generic, linalg.softmax and a batch_matmul with v,
// every result written into a tensor.empty (filled with zeros where the op
// accumulates).
// RUN: chunk-opt %s --autochunk-test-print-memory-estimate -o /dev/null | FileCheck %s --check-prefix=BEFORE
// RUN: chunk-opt %s --pass-pipeline="builtin.module(func.func(autochunk-chunk{memory-budget=65536}))" | FileCheck %s --check-prefix=CHUNK
// RUN: chunk-opt %s --pass-pipeline="builtin.module(func.func(autochunk-chunk{memory-budget=65536}))" | chunk-opt --autochunk-test-print-memory-estimate -o /dev/null | FileCheck %s --check-prefix=AFTER
// A budget below one query row plus the whole output cannot be met.
// RUN: not chunk-opt %s --pass-pipeline="builtin.module(func.func(autochunk-chunk{memory-budget=16384}))" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FLOOR

// Unchunked, the scores (2x128x128xf32, 131072 bytes) and the scaled scores
// (as many) are live together at the scale: 262144 bytes. Every tensor.empty
// became a buffer the planner placed.
// BEFORE: linalg.fill {{.*}}: 131072 live
// BEFORE: peak: 262144 bytes live at linalg.generic
// BEFORE: arena: 262144 bytes

// Chunked along the queries (dim 1 of q, of the scores and of the output;
// never the key dim the softmax normalizes, nor the contracted ones). Around
// the loop only the output lives (2x128x16xf32, 16384 bytes); a query row of
// the body holds two score rows (2 heads x 128 keys x 4 bytes, twice): 2048
// bytes. (65536 - 16384) / 2048 = 24 rows per chunk, 5 full chunks and a
// remainder of 8. The empty destinations and fills come into the loop,
// re-typed per chunk.
// CHUNK: autochunk.peak_after = 65536
// CHUNK-SAME: autochunk.peak_before = 262144
// CHUNK-SAME: chunk_size = 24 : i64, dim = 1 : i64, extent = 128 : i64
// CHUNK: %[[OUT:.+]] = tensor.empty() : tensor<2x128x16xf32>
// CHUNK: %[[C120:.+]] = arith.constant 120 : index
// CHUNK: %[[C24:.+]] = arith.constant 24 : index
// CHUNK: scf.for %[[IV:.+]] = %{{.+}} to %[[C120]] step %[[C24]] iter_args(%[[ACC:.+]] = %[[OUT]])
// CHUNK: %[[Q:.+]] = tensor.extract_slice %arg0[0, %[[IV]], 0] [2, 24, 16] [1, 1, 1] : tensor<2x128x16xf32> to tensor<2x24x16xf32>
// CHUNK: tensor.empty() : tensor<2x24x128xf32>
// CHUNK: linalg.fill {{.*}} -> tensor<2x24x128xf32>
// CHUNK: linalg.generic {{.*}} ins(%[[Q]], %arg1 : tensor<2x24x16xf32>, tensor<2x128x16xf32>) outs(%{{.+}} : tensor<2x24x128xf32>)
// CHUNK: linalg.generic {{.*}} outs(%{{.+}} : tensor<2x24x128xf32>)
// CHUNK: linalg.softmax dimension(2) {{.*}} -> tensor<2x24x128xf32>
// CHUNK: tensor.empty() : tensor<2x24x16xf32>
// CHUNK: linalg.fill {{.*}} -> tensor<2x24x16xf32>
// CHUNK: %[[O:.+]] = linalg.batch_matmul ins(%{{.+}}, %arg2 : tensor<2x24x128xf32>, tensor<2x128x16xf32>) {{.*}} -> tensor<2x24x16xf32>
// CHUNK: tensor.insert_slice %[[O]] into %[[ACC]][0, %[[IV]], 0] [2, 24, 16] [1, 1, 1]
// CHUNK: } {autochunk.chunk_size = 24 : i64, autochunk.extent = 128 : i64, autochunk.region = 0 : i64}
// The remainder: 8 query rows at offset 120.
// CHUNK: tensor.extract_slice %arg0[0, %{{.+}}, 0] [2, 8, 16] [1, 1, 1]
// CHUNK: linalg.softmax dimension(2) {{.*}} -> tensor<2x8x128xf32>
// CHUNK: linalg.batch_matmul {{.*}} -> tensor<2x8x16xf32>
// CHUNK: tensor.insert_slice {{.*}} [2, 8, 16] [1, 1, 1] : tensor<2x8x16xf32> into tensor<2x128x16xf32>
// CHUNK-NOT: linalg.softmax

// The exact estimate of the chunked function (bufferized and planned for
// real) matches the search's prediction.
// AFTER: peak: 65536 bytes live at linalg.generic
// AFTER: arena: 65536 bytes

// The output (16384) plus one query row (2048) is the floor.
// FLOOR: error: cannot meet the budget of 16384 bytes: the smallest activation peak AutoChunk reaches is 18432 bytes

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
