/*===- mlir_abi.h - the runtime entry points compiled code calls ---*- C -*-===*
 *
 * The lowering of kernel.call (passes/lib/LowerKernelsToCalls.cpp) calls
 *
 *   void ac_kernel_<kernel>_<dtype>(<buffers>..., <parameters>...)
 *
 * with dtype f32, f16 or bf16 (the element type of the call's output), the
 * call's inputs then its outputs, then the kernel's parameters. A buffer is an
 * unranked memref, which the C calling convention splits into two arguments:
 * the rank and a pointer to the ranked descriptor
 *
 *   { void *allocated; void *aligned; int64_t offset;
 *     int64_t sizes[rank]; int64_t strides[rank]; }   (strides in elements)
 *
 * An `index` input (the causal mask's offsets) is an int64_t. Per kernel:
 *
 *   exp sqrt rsqrt neg relu sigmoid silu tanh  (in, out)
 *   gelu             (in, out, int64 tanh_approximation)
 *   scale            (in, out, double factor)
 *   add sub mul div  (lhs, rhs, out)            numpy broadcasting
 *   matmul           (lhs, rhs, out, int64 transpose_a, int64 transpose_b)
 *   linear           (input, weight, bias, out)
 *   linear_nobias    (input, weight, out)
 *   einsum           (a, b, out, i8 buffer equation)  b repeats a for one
 *                                                      operand; NUL-terminated
 *   softmax          (in, out, int64 axis)
 *   layer_norm       (in, weight, bias, out, int64 axis, double epsilon)
 *   reduce_sum reduce_mean reduce_max  (in, out, int64 axis_mask, int64 keep)
 *   transpose        (in, out, int64 permutation)  entry i in bits 4i..4i+3
 *   broadcast copy   (in, out)
 *   causal_mask      (in, int64 row_offset, int64 col_offset, out,
 *                     int64 diagonal)
 *
 * A failing kernel records the first error (ac_abi_status) and every later
 * call returns at once, so a compiled model stops cleanly and reports it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_MLIR_ABI_H
#define AUTOCHUNK_RUNTIME_MLIR_ABI_H

#include "autochunk/runtime/arena.h"
#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts a run: clears the recorded error; outputs written inside `arena`
 * (may be NULL) are recorded in its measurements. */
void ac_abi_begin(ac_arena *arena);

/* Ends a run: the first error since ac_abi_begin, or AC_OK. */
ac_status ac_abi_end(void);

/* The first error of the current run, or AC_OK. */
ac_status ac_abi_status(void);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_MLIR_ABI_H */
