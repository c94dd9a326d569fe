// Every phase of chunk-compile is reachable and ends in its contract.
// RUN: chunk-compile %s --compile-to=graph -o - | FileCheck %s --check-prefix=GRAPH
// RUN: chunk-compile %s --compile-to=kernels -o - | FileCheck %s --check-prefix=KERNELS
// RUN: chunk-compile %s --compile-to=bufferized -o - | FileCheck %s --check-prefix=BUFFERIZED
// RUN: chunk-compile %s --compile-to=planned -o - | FileCheck %s --check-prefix=PLANNED
// RUN: chunk-compile %s --compile-to=planned -o %t.mlir | FileCheck %s --check-prefix=BYTES
// RUN: chunk-compile %s --compile-to=calls -o - | FileCheck %s --check-prefix=CALLS
// RUN: chunk-compile %s --compile-to=llvm -o - | FileCheck %s --check-prefix=LLVM
// RUN: chunk-compile %s --emit=llvm -o - | FileCheck %s --check-prefix=LLVMIR

// Canonicalization folds the double transpose away at the graph phase.
// GRAPH-LABEL: func.func @mlp
// GRAPH-NOT: graph.transpose
// GRAPH: graph.linear
// GRAPH: graph.gelu

// The linear's result has one user, the gelu: one fused call.
// KERNELS: kernel.call "linear_gelu" ins(%arg0, %arg1, %arg2 : {{.*}} {params = {approximate = "tanh"}}
// KERNELS-NOT: graph.

// BUFFERIZED: func.func @mlp(%arg0: memref<4x8xf32> {graph.name = "x", graph.role = "input"}
// BUFFERIZED: memref.alloc() {{.*}} : memref<4x16xf32>
// BUFFERIZED: kernel.call "linear_gelu" ins(%arg0, %arg1, %arg2 : memref<4x8xf32>

// One buffer: the fused call's output.
// PLANNED: func.func @mlp({{.*}}, %arg3: memref<256xi8> {autochunk.arena}) attributes {autochunk.arena_bytes = 256 : i64, autochunk.outputs = [{name = "y", offset = 0 : i64, type = memref<4x16xf32>}], llvm.emit_c_interface}
// PLANNED-NOT: memref.alloc
// BYTES: planned activation bytes: 256

// CALLS: memref.alloca_scope
// CALLS: call @ac_kernel_linear_gelu_f32({{.*}}) : (memref<*xf32>, memref<*xf32>, memref<*xf32>, memref<*xf32>, i64) -> ()
// CALLS: func.func private @ac_kernel_linear_gelu_f32

// LLVM: llvm.func @mlp(
// LLVM: llvm.func @_mlir_ciface_mlp(
// LLVM-NOT: graph.name

// LLVMIR: define void @mlp(
// LLVMIR: call void @ac_kernel_linear_gelu_f32(
// LLVMIR: define void @_mlir_ciface_mlp(
func.func @mlp(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"},
               %w: tensor<16x8xf32> {graph.name = "w", graph.role = "weight"},
               %b: tensor<16xf32> {graph.name = "b", graph.role = "weight"})
    -> (tensor<4x16xf32> {graph.name = "y"}) {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %1 = graph.transpose %0 {permutation = array<i64: 1, 0>} : (tensor<8x4xf32>) -> tensor<4x8xf32>
  %2 = graph.linear %1, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %3 = graph.gelu %2 {approximate = "tanh"} : tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}
