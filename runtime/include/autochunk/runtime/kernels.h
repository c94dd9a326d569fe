/*===- kernels.h - CPU kernels of the AutoChunk runtime ------------*- C -*-===*
 *
 * One entry point per op of the graph dialect. Every tensor argument is a
 * strided view (see tensor.h): inputs and outputs may be transposed, sliced,
 * broadcast (stride 0, inputs only) or sub-views of a larger buffer, so a chunk
 * loop passes views and never copies. Outputs must not partially overlap
 * inputs (an output identical to an elementwise input is fine).
 *
 * Every function returns AC_OK or an error status with a message in
 * ac_last_error(); on error the output is left untouched.
 *
 * Determinism: results are bitwise identical whatever the thread count, and
 * whether or not the caller splits a non-reduced dimension into chunks. Each
 * output element's reduction runs in a fixed order that depends only on the
 * reduced extents (see ac_set_gemm_backend for the one opt-out). f16 and bf16
 *are computed in f32 and rounded to nearest even on store.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_KERNELS_H
#define AUTOCHUNK_RUNTIME_KERNELS_H

#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/*===--------------------------- Thread control ---------------------------===*/

/* Sets the number of threads every kernel (and the BLAS it calls) may use;
 * `num_threads` >= 1. The default is the OpenMP default (OMP_NUM_THREADS or
 * the core count). Results do not depend on it. */
ac_status ac_set_num_threads(int num_threads);

/* The number of threads kernels use. */
int ac_get_num_threads(void);

/*===---------------------------- Elementwise ----------------------------===*/

typedef enum ac_unary_kind {
  AC_UNARY_EXP = 0,
  AC_UNARY_SQRT = 1,
  AC_UNARY_RSQRT = 2,
  AC_UNARY_NEG = 3,
  AC_UNARY_RELU = 4,
  AC_UNARY_SIGMOID = 5,
  AC_UNARY_SILU = 6,
  AC_UNARY_TANH = 7,
  AC_UNARY_GELU = 8,      /* x * Phi(x), exact normal CDF (erf) */
  AC_UNARY_GELU_TANH = 9, /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
} ac_unary_kind;

/* out = kind(in); `in` and `out` have the same shape and dtype. */
ac_status ac_unary(ac_unary_kind kind, const ac_tensor *in, ac_tensor *out);

/* out = in * factor. */
ac_status ac_scale(const ac_tensor *in, ac_tensor *out, double factor);

typedef enum ac_binary_kind {
  AC_BINARY_ADD = 0,
  AC_BINARY_SUB = 1,
  AC_BINARY_MUL = 2,
  AC_BINARY_DIV = 3,
} ac_binary_kind;

/* out = lhs (kind) rhs with numpy broadcasting: shapes align from the right,
 * a size-1 dimension stretches, and `out` has the broadcast shape. All three
 * share one dtype. */
ac_status ac_binary(ac_binary_kind kind, const ac_tensor *lhs,
                    const ac_tensor *rhs, ac_tensor *out);

/* Over the last two dimensions [..., i, j]: out = -inf where
 * j + col_offset > i + row_offset + diagonal, else in. Rank >= 2. */
ac_status ac_causal_mask(const ac_tensor *in, ac_tensor *out,
                         int64_t row_offset, int64_t col_offset,
                         int64_t diagonal);

/*===---------------------------- Contractions ---------------------------===*/

/* The engine behind matmul, linear and einsum. AC_GEMM_PACKED (the default)
 * is this runtime's packed GEMM: each output element is one FMA chain over k
 * in order, so results are bitwise identical under any chunking and thread
 * count. AC_GEMM_OPENBLAS calls cblas_sgemm (row-major operands, K in blocks
 * of 256): faster on large products and identical across thread counts, but
 * OpenBLAS chooses kernels by M and N whose summation orders differ, so a
 * chunked call may differ from a whole one in the last bits. */
typedef enum ac_gemm_backend {
  AC_GEMM_PACKED = 0,
  AC_GEMM_OPENBLAS = 1,
} ac_gemm_backend;

ac_status ac_set_gemm_backend(ac_gemm_backend backend);
ac_gemm_backend ac_get_gemm_backend(void);

/* Batched matrix product: lhs [..., M, K] (or [..., K, M] with transpose_a),
 * rhs [..., K, N] (or [..., N, K] with transpose_b), out [..., M, N]. Ranks
 * >= 2; the batch dimensions broadcast numpy-style to those of `out`. */
ac_status ac_matmul(const ac_tensor *lhs, const ac_tensor *rhs, ac_tensor *out,
                    int transpose_a, int transpose_b);

/* out [..., out_features] = input [..., in_features] W^T + bias, with weight
 * [out_features, in_features] and bias [out_features] or NULL. */
ac_status ac_linear(const ac_tensor *input, const ac_tensor *weight,
                    const ac_tensor *bias, ac_tensor *out);

/* Einstein summation over one or two operands with an explicit equation of
 * lowercase labels ("bik,bkj->bij", "ij->j"). No label repeats within one
 * subscript list; a label has one size wherever it appears; labels missing
 * from the result are summed over. */
ac_status ac_einsum(const char *equation, const ac_tensor *const *inputs,
                    int num_inputs, ac_tensor *out);

/*===--------------------- Normalization and reduction -------------------===*/

/* Softmax along `axis` (in [0, rank)), subtracting the maximum first. */
ac_status ac_softmax(const ac_tensor *in, ac_tensor *out, int64_t axis);

/* Normalizes over dimensions [axis, rank) to zero mean and unit biased
 * variance (plus eps), then multiplies by `weight` and adds `bias`, both
 * shaped like those dimensions (either may be NULL: 1 and 0). */
ac_status ac_layer_norm(const ac_tensor *in, const ac_tensor *weight,
                        const ac_tensor *bias, ac_tensor *out, int64_t axis,
                        double eps);

typedef enum ac_reduce_kind {
  AC_REDUCE_SUM = 0,
  AC_REDUCE_MEAN = 1,
  AC_REDUCE_MAX = 2,
} ac_reduce_kind;

/* Reduces `in` over `axes` (non-empty, strictly increasing, in [0, rank)).
 * With keep_dims the reduced dimensions stay with size 1 in `out`; without
 * it they are removed. */
ac_status ac_reduce(ac_reduce_kind kind, const ac_tensor *in, ac_tensor *out,
                    const int64_t *axes, int num_axes, int keep_dims);

/*===---------------------------- Data movement --------------------------===*/

/* out = in, same shape and dtype, any strides: a permuted, sliced or
 * broadcast (0-stride) view of `in` makes it a transpose, slice or
 * broadcast. */
ac_status ac_copy(const ac_tensor *in, ac_tensor *out);

/* out dimension i = in dimension perm[i]. */
ac_status ac_transpose(const ac_tensor *in, ac_tensor *out,
                       const int64_t *perm);

/* Broadcasts `in` numpy-style to the shape of `out`. */
ac_status ac_broadcast(const ac_tensor *in, ac_tensor *out);

/* out[i...] = in[starts + i * strides] per dimension; `out`'s sizes give the
 * extent. `strides` may be NULL (all ones); each stride is positive. */
ac_status ac_slice(const ac_tensor *in, ac_tensor *out, const int64_t *starts,
                   const int64_t *strides);

/* Joins `num_inputs` tensors along `axis`: all have out's rank and sizes
 * except along `axis`, where they add up to out's. */
ac_status ac_concat(const ac_tensor *const *inputs, int num_inputs,
                    ac_tensor *out, int64_t axis);

/* Copies the elements of `in`, in row-major order, into `out`, which has the
 * same element count and dtype and any shape. */
ac_status ac_reshape(const ac_tensor *in, ac_tensor *out);

/*===------------------------------ Fused kernels ------------------------===*
 * What the lowering (passes/lib/LowerGraphToKernels.cpp) emits for single-use
 * chains of graph ops, so the intermediates never reach memory. On the CPU
 * each gives the bits of the unfused sequence of kernels above: the same
 * formula per element, rounded to the dtype wherever the unfused kernels
 * store an intermediate.
 *===----------------------------------------------------------------------===*/

/* softmax over the last dimension of
 *   t = in * factor;  t = causal mask of t (if causal);  t = t + bias
 * the unfused sequence ac_scale, ac_causal_mask (row_offset, col_offset,
 * diagonal as there, over the last two dimensions), ac_binary(ADD) and
 * ac_softmax(axis = rank - 1). `bias` may be NULL; else it broadcasts
 * numpy-style to `in`'s shape. `in` and `out` have one shape (rank >= 2 when
 * causal) and may be the same view: each row is read whole before it is
 * written. */
ac_status ac_scale_mask_softmax(const ac_tensor *in, const ac_tensor *bias,
                                ac_tensor *out, double factor, int causal,
                                int64_t row_offset, int64_t col_offset,
                                int64_t diagonal);

/* out = activation(input W^T + bias): ac_linear then ac_unary(activation) on
 * its result. `activation` is AC_UNARY_RELU, AC_UNARY_GELU,
 * AC_UNARY_GELU_TANH or AC_UNARY_SILU; `bias` may be NULL. */
ac_status ac_linear_activation(const ac_tensor *input, const ac_tensor *weight,
                               const ac_tensor *bias, ac_tensor *out,
                               ac_unary_kind activation);

/* out = sigmoid(gate) * value with numpy broadcasting of both to `out`'s
 * shape: ac_unary(SIGMOID) on `gate`, then ac_binary(MUL). `out` may be the
 * same view as an input of its shape. */
ac_status ac_sigmoid_gate(const ac_tensor *gate, const ac_tensor *value,
                          ac_tensor *out);

/* Fused attention, never materializing the logits:
 *   out[b, i, :] = sum_j p[b, i, j] v[b, j, :],
 *   p[b, i, :]   = softmax_j(t[b, i, :]),
 *   t[b, i, j]   = scale * sum_d q[b, i, d] k[b, j, d]
 *                  (-inf where causal and j > i + row_offset + diagonal)
 *                  + bias[b, i, j]
 * over the last two dimensions; b stands for the leading (batch) dimensions,
 * which q, k, v and out share exactly (no broadcasting). q is [..., M, D],
 * k [..., N, D], v [..., N, E], out [..., M, E]; `bias` may be NULL, else it
 * broadcasts numpy-style to [..., M, N]. `row_offset` is where row 0 of q
 * sits in the full query sequence (a chunk of queries passes its start), so
 * the causal mask of a chunk is the full mask's slice. All tensors have one
 * dtype; products and sums are accumulated in at least f32 whatever the
 * dtype.
 * Each query row is computed alone in a fixed order: its bits do not depend
 * on which other rows one call computes (chunked and unchunked executables
 * agree bit for bit), nor on the thread count. The result is NOT the bits
 * of the unfused matmul/scale/mask/add/softmax/matmul sequence. A row whose
 * keys are all masked is undefined (as in PyTorch). `out` may not overlap
 * an input. */
ac_status ac_attention(const ac_tensor *q, const ac_tensor *k,
                       const ac_tensor *v, const ac_tensor *bias,
                       ac_tensor *out, double scale, int causal,
                       int64_t row_offset, int64_t diagonal);

/*===--------------------------- End of fused kernels ---------------------===*/

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_KERNELS_H */
