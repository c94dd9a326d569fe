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
 * Fused kernels (kernels.h), which the lowering emits for single-use chains:
 *
 *   scale_mask_softmax  (in, bias, int64 row_offset, int64 col_offset, out,
 *                        double factor, int64 causal, int64 diagonal,
 *                        int64 has_bias)  bias repeats in when has_bias is 0
 *   attention        (q, k, v, bias, int64 row_offset, out, double scale,
 *                     int64 causal, int64 diagonal, int64 has_bias)
 *                     softmax(scale q k^T, masked, + bias) v; bias repeats q
 *                     when has_bias is 0
 *   linear_relu linear_silu  (input, weight, bias, out)
 *   linear_gelu      (input, weight, bias, out, int64 tanh_approximation)
 *   sigmoid_gate     (gate, value, out)  sigmoid(gate) * value, broadcasting
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

/* The message of the first error of the current (or last ended) run,
 * "<kernel> (<dtype>): <what went wrong>", or "" when none. */
const char *ac_abi_error_message(void);

/* The entry points, as listed above, for one dtype suffix (f32, f16, bf16).
 * Each buffer is (int64_t rank, void *descriptor). Compiled code declares
 * them itself; these prototypes let C callers and the definitions be checked
 * against the documented ABI. */
#define AC_DECLARE_KERNEL_ENTRY_POINTS(SUFFIX)                                 \
  void ac_kernel_exp_##SUFFIX(int64_t, void *, int64_t, void *);               \
  void ac_kernel_sqrt_##SUFFIX(int64_t, void *, int64_t, void *);              \
  void ac_kernel_rsqrt_##SUFFIX(int64_t, void *, int64_t, void *);             \
  void ac_kernel_neg_##SUFFIX(int64_t, void *, int64_t, void *);               \
  void ac_kernel_relu_##SUFFIX(int64_t, void *, int64_t, void *);              \
  void ac_kernel_sigmoid_##SUFFIX(int64_t, void *, int64_t, void *);           \
  void ac_kernel_silu_##SUFFIX(int64_t, void *, int64_t, void *);              \
  void ac_kernel_tanh_##SUFFIX(int64_t, void *, int64_t, void *);              \
  void ac_kernel_gelu_##SUFFIX(int64_t, void *, int64_t, void *,               \
                               int64_t tanh_approximation);                    \
  void ac_kernel_scale_##SUFFIX(int64_t, void *, int64_t, void *,              \
                                double factor);                                \
  void ac_kernel_add_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,       \
                              void *);                                         \
  void ac_kernel_sub_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,       \
                              void *);                                         \
  void ac_kernel_mul_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,       \
                              void *);                                         \
  void ac_kernel_div_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,       \
                              void *);                                         \
  void ac_kernel_matmul_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,    \
                                 void *, int64_t transpose_a,                  \
                                 int64_t transpose_b);                         \
  void ac_kernel_linear_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,    \
                                 void *, int64_t, void *);                     \
  void ac_kernel_linear_nobias_##SUFFIX(int64_t, void *, int64_t, void *,      \
                                        int64_t, void *);                      \
  void ac_kernel_einsum_##SUFFIX(int64_t, void *, int64_t, void *, int64_t,    \
                                 void *, int64_t equation_rank,                \
                                 void *equation);                              \
  void ac_kernel_softmax_##SUFFIX(int64_t, void *, int64_t, void *,            \
                                  int64_t axis);                               \
  void ac_kernel_layer_norm_##SUFFIX(int64_t, void *, int64_t, void *,         \
                                     int64_t, void *, int64_t, void *,         \
                                     int64_t axis, double epsilon);            \
  void ac_kernel_reduce_sum_##SUFFIX(int64_t, void *, int64_t, void *,         \
                                     int64_t axis_mask, int64_t keep_dims);    \
  void ac_kernel_reduce_mean_##SUFFIX(int64_t, void *, int64_t, void *,        \
                                      int64_t axis_mask, int64_t keep_dims);   \
  void ac_kernel_reduce_max_##SUFFIX(int64_t, void *, int64_t, void *,         \
                                     int64_t axis_mask, int64_t keep_dims);    \
  void ac_kernel_transpose_##SUFFIX(int64_t, void *, int64_t, void *,          \
                                    int64_t packed_permutation);               \
  void ac_kernel_broadcast_##SUFFIX(int64_t, void *, int64_t, void *);         \
  void ac_kernel_copy_##SUFFIX(int64_t, void *, int64_t, void *);              \
  void ac_kernel_causal_mask_##SUFFIX(int64_t, void *, int64_t row_offset,     \
                                      int64_t col_offset, int64_t, void *,     \
                                      int64_t diagonal);                       \
  void ac_kernel_scale_mask_softmax_##SUFFIX(                                  \
      int64_t, void *, int64_t, void *, int64_t row_offset,                    \
      int64_t col_offset, int64_t, void *, double factor, int64_t causal,      \
      int64_t diagonal, int64_t has_bias);                                     \
  void ac_kernel_attention_##SUFFIX(                                           \
      int64_t, void *, int64_t, void *, int64_t, void *, int64_t, void *,      \
      int64_t row_offset, int64_t, void *, double scale, int64_t causal,       \
      int64_t diagonal, int64_t has_bias);                                     \
  void ac_kernel_linear_relu_##SUFFIX(int64_t, void *, int64_t, void *,        \
                                      int64_t, void *, int64_t, void *);       \
  void ac_kernel_linear_silu_##SUFFIX(int64_t, void *, int64_t, void *,        \
                                      int64_t, void *, int64_t, void *);       \
  void ac_kernel_linear_gelu_##SUFFIX(int64_t, void *, int64_t, void *,        \
                                      int64_t, void *, int64_t, void *,        \
                                      int64_t tanh_approximation);             \
  void ac_kernel_sigmoid_gate_##SUFFIX(int64_t, void *, int64_t, void *,       \
                                       int64_t, void *);

AC_DECLARE_KERNEL_ENTRY_POINTS(f32)
AC_DECLARE_KERNEL_ENTRY_POINTS(f16)
AC_DECLARE_KERNEL_ENTRY_POINTS(bf16)

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_MLIR_ABI_H */
