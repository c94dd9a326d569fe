// RUN: chunk-opt %s --autochunk-chunk=memory-budget=0.5x | FileCheck %s
// RUN: chunk-opt %s --autochunk-test-print-chunk-candidates=peaks=1 -o /dev/null | FileCheck %s --check-prefix=CANDIDATES

// Two Evoformer-style attentions over an 8x8x4 f32 pair (every [8,8,4]
// tensor below is 1024 bytes, every [8,8,8] one 2048): one within rows with a
// pair bias shared by all rows (triangle attention around the starting node),
// then one within the rows of the transposed result yt (its k2 doubles as v
// to keep the graph short). The argument z is not an activation.
//
// Unchunked, the first attention peaks at its scores (bias 256 + q, k, v
// 3072 + scores 2048 = 5376) and the second at its softmax (yt 1024 + k2 1024
// + scores 2048 + softmax 2048 = 6144): the peak is 6144.
//
// Regions grown from the second attention run backwards through the
// transpose into the first one, and no longer stop where a loop's boundary is
// small. Without intervals of them as candidates the search stalls at 3584
// bytes (0.583x; measured with the search before this test was added): one
// loop holds the first attention, yt and k2, so yt and k2 are full outputs,
// and the second attention then loops over its queries (dim 1 of yt) with k2
// and yt read whole: yt + k2 + output = 3072, plus per query a q2 row (128),
// a score and a softmax row over the 8 batch rows (256 + 256; q2 dies at the
// scores): 3072 + 512 = 3584.
//
// With intervals as candidates the plan at 0.5 x 6144 = 3072 had two loops
// and a peak of 2688 (0.4375x), the second loop over the rows of yt at chunk
// size 1 with yt and its own full output live around it. A loop may now write
// its output over an input that nothing after it reads, chunk by chunk: the
// second loop writes over yt (the first reads the argument z, which is never
// overwritten), so one full buffer less is live around it; both loops run at
// chunk size 2 and the peak is 2560 (0.417x). The first loop (in block order)
// holds the first attention and the transpose (9 ops, chunked along dim 1 of
// its seed); the second the second attention (6 ops, dim 0).
// CHECK-LABEL: func.func @pair_attention
// CHECK-SAME: autochunk.peak_after = 2560 : i64, autochunk.peak_before = 6144 : i64
// CHECK-SAME: autochunk.plan = [{bytes_after = 2560 : i64, {{.*}}chunk_size = 2 : i64, dim = 0 : i64, extent = 8 : i64, ops = 6 : i64, recomputed_ops = 0 : i64, region = 0 : i64, {{.*}}}, {bytes_after = 2560 : i64, {{.*}}chunk_size = 2 : i64, dim = 1 : i64, extent = 8 : i64, ops = 9 : i64,
// CHECK: graph.transpose %{{.*}} {permutation = array<i64: 2, 0, 1>}
// CHECK: scf.for
// CHECK: graph.softmax %{{.*}} {axis = 2 : i64} : tensor<2x8x8xf32>
// CHECK: graph.transpose %{{.*}} {permutation = array<i64: 1, 0, 2>} : (tensor<2x8x4xf32>) -> tensor<8x2x4xf32>
// CHECK: } {autochunk.chunk_size = 2 : i64, autochunk.extent = 8 : i64, autochunk.region = 1 : i64}
// CHECK: scf.for
// CHECK: graph.softmax %{{.*}} {axis = 2 : i64} : tensor<2x8x8xf32>
// CHECK: } {autochunk.chunk_size = 2 : i64, autochunk.extent = 8 : i64, autochunk.region = 0 : i64}
// The liveness of the rewritten IR agrees with the plan (else a warning).
// CHECK-NOT: warning

// At the first peak, the region grown from the second attention's scores
// along dim 0 spans both attentions; its interval from the second
// attention's projections to its residual add is a candidate of its own,
// with yt read sliced (1024, produced outside) and overwritten by the output
// as its base, 768 per row (640 as above, plus the copy of yt's row that the
// in-place write needs); its minimum peak is the first
// attention's unchunked 5376 (bias 256 + q, k, v 3072 + scores 2048).
// CANDIDATES: peak 0: 6144 bytes at 14:graph.softmax
// CANDIDATES: candidate: seed 13:graph.matmul dim 0 extent 8 ops [11:graph.linear, 12:graph.linear, 13:graph.matmul, 14:graph.softmax, 15:graph.matmul, 16:graph.add] loop-base 1024 per-row 768 min-peak 5376
func.func @pair_attention(%z: tensor<8x8x4xf32>, %wb: tensor<1x4xf32>, %wq: tensor<4x4xf32>, %wk: tensor<4x4xf32>, %wv: tensor<4x4xf32>, %wq2: tensor<4x4xf32>, %wk2: tensor<4x4xf32>) -> tensor<8x8x4xf32> {
  %b = graph.linear %z, %wb : (tensor<8x8x4xf32>, tensor<1x4xf32>) -> tensor<8x8x1xf32>
  %bt = graph.transpose %b {permutation = array<i64: 2, 0, 1>} : (tensor<8x8x1xf32>) -> tensor<1x8x8xf32>
  %q = graph.linear %z, %wq : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
  %k = graph.linear %z, %wk : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
  %v = graph.linear %z, %wv : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
  %s = graph.matmul %q, %k {transpose_b} : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x8xf32>
  %sb = graph.add %s, %bt : (tensor<8x8x8xf32>, tensor<1x8x8xf32>) -> tensor<8x8x8xf32>
  %p = graph.softmax %sb {axis = 2 : i64} : tensor<8x8x8xf32>
  %o = graph.matmul %p, %v : (tensor<8x8x8xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %y = graph.add %z, %o : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %yt = graph.transpose %y {permutation = array<i64: 1, 0, 2>} : (tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %q2 = graph.linear %yt, %wq2 : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
  %k2 = graph.linear %yt, %wk2 : (tensor<8x8x4xf32>, tensor<4x4xf32>) -> tensor<8x8x4xf32>
  %s2 = graph.matmul %q2, %k2 {transpose_b} : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x8xf32>
  %p2 = graph.softmax %s2 {axis = 2 : i64} : tensor<8x8x8xf32>
  %o2 = graph.matmul %p2, %k2 : (tensor<8x8x8xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %y2 = graph.add %yt, %o2 : (tensor<8x8x4xf32>, tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  return %y2 : tensor<8x8x4xf32>
}
