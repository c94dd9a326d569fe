// RUN: chunk-opt %s --autochunk-lower-kernels-to-calls | FileCheck %s

// A memref.copy left by bufferization (here: a loop's in-place output copies
// its input's chunk first) becomes the runtime's copy kernel, contiguous or
// strided, so it runs where the buffers live (a host memcpy would read
// device memory on CUDA).
// CHECK-LABEL: func.func @copies
// CHECK-NOT: memref.copy
// CHECK: memref.alloca_scope
// CHECK: call @ac_kernel_copy_f32
// CHECK: memref.alloca_scope
// CHECK: call @ac_kernel_copy_bf16
// CHECK-NOT: memref.copy
// CHECK: func.func private @ac_kernel_copy_f32
func.func @copies(%a: memref<4x6xf32>, %b: memref<2x6xf32>, %c: memref<4x6xbf16>, %d: memref<4x3xbf16>) {
  %s = memref.subview %a[2, 0] [2, 6] [1, 1] : memref<4x6xf32> to memref<2x6xf32, strided<[6, 1], offset: 12>>
  memref.copy %s, %b : memref<2x6xf32, strided<[6, 1], offset: 12>> to memref<2x6xf32>
  %t = memref.subview %c[0, 1] [4, 3] [1, 2] : memref<4x6xbf16> to memref<4x3xbf16, strided<[6, 2], offset: 1>>
  memref.copy %t, %d : memref<4x3xbf16, strided<[6, 2], offset: 1>> to memref<4x3xbf16>
  return
}
