// The named pipeline: AutoChunk under a budget, then the lowering, usable
// from any pipeline string.
// RUN: chunk-opt %s --pass-pipeline="builtin.module(autochunk-pipeline{memory-budget=0.7x fuse-attention=false lower-to-llvm=false})" | FileCheck %s --check-prefix=PLAN
// RUN: chunk-opt %s --pass-pipeline="builtin.module(autochunk-pipeline{memory-budget=0.7x fuse-attention=false})" | FileCheck %s --check-prefix=LLVM
// RUN: chunk-opt %s --pass-pipeline="builtin.module(autochunk-pipeline{fuse-attention=false lower-to-llvm=false})" | FileCheck %s --check-prefix=NOCHUNK
// RUN: chunk-opt %s --pass-pipeline="builtin.module(autochunk-pipeline{lower-to-llvm=false})" | FileCheck %s --check-prefix=FUSED

// Unchunked, the scores and probabilities (800 B each) peak at 1632 B; the
// budget of 0.7x asks for at most 1142 B of live buffers by the search's
// model, which does not see the planner's 64-byte alignment: the arena can
// come out slightly larger (chunk-compile checks the arena and re-plans).
// PLAN: func.func @attention({{.*}}memref<{{[0-9]+}}xi8> {autochunk.arena}) attributes {autochunk.arena_bytes = [[ARENA:[0-9]+]] : i64
// PLAN: scf.for
// PLAN: autochunk.region = 0
// LLVM: llvm.func @attention(
// NOCHUNK: autochunk.arena_bytes = 1632 : i64
// NOCHUNK-NOT: scf.for
// Fused (the default), attention stores no logits: the arena holds the
// output (320 B) and 0.7x of that could not be reached.
// FUSED: autochunk.arena_bytes = 320 : i64
// FUSED: kernel.call "attention"
func.func @attention(%q: tensor<2x10x4xf32> {graph.name = "q", graph.role = "input"},
                     %k: tensor<2x10x4xf32> {graph.name = "k", graph.role = "input"},
                     %v: tensor<2x10x4xf32> {graph.name = "v", graph.role = "input"})
    -> (tensor<2x10x4xf32> {graph.name = "o"}) {
  %s = graph.matmul %q, %k {transpose_b} : (tensor<2x10x4xf32>, tensor<2x10x4xf32>) -> tensor<2x10x10xf32>
  %m = graph.causal_mask %s : tensor<2x10x10xf32>
  %p = graph.softmax %m {axis = 2} : tensor<2x10x10xf32>
  %o = graph.matmul %p, %v : (tensor<2x10x10xf32>, tensor<2x10x4xf32>) -> tensor<2x10x4xf32>
  return %o : tensor<2x10x4xf32>
}
