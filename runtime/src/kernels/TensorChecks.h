//===- TensorChecks.h - argument checks shared by CPU and CUDA kernels ---===//
//
// Every kernel validates its tensors the same way, whatever device runs it,
// so the CPU and the CUDA kernels share these checks and their messages.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H
#define AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H

#include "autochunk/runtime/kernels.h"
#include "autochunk/runtime/tensor.h"

namespace autochunk::runtime {

// "[2x3x4] f32", for error messages.
struct ShapeText {
  char text[160];
};
ShapeText describe(const ac_tensor *tensor);
ShapeText describeSizes(const int64_t *sizes, int rank);

// Checks a tensor argument: non-null, rank in [0, AC_MAX_RANK], known dtype,
// non-negative sizes, data present when it has elements. An output also may
// not repeat an element (a 0 stride on a dimension larger than 1).
ac_status checkInput(const char *kernel, const char *name,
                     const ac_tensor *tensor);
ac_status checkOutput(const char *kernel, const char *name,
                      const ac_tensor *tensor);

ac_status checkSameDtype(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b);
ac_status checkSameShape(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b);

bool sameShape(const ac_tensor *a, const ac_tensor *b);

// A view of `tensor` broadcast numpy-style to `rank` dimensions of `sizes`
// (missing leading and size-1 dimensions get stride 0). False when the shape
// does not broadcast.
bool broadcastView(const ac_tensor *tensor, int rank, const int64_t *sizes,
                   ac_tensor *view);

// The checks the fused kernels share between the CPU and the CUDA runtime,
// after each input passed its backend's checkInput (the CUDA one also
// stages host data to the device). ac_scale_mask_softmax: the output, the
// dtypes, the shapes, the rank a causal mask needs, and the bias broadcast
// to the input (into `biasView`).
ac_status checkScaleMaskSoftmaxArguments(const char *kernel,
                                         const ac_tensor *in,
                                         const ac_tensor *bias,
                                         const ac_tensor *out, int causal,
                                         ac_tensor *biasView);
// ac_attention after q, k, v and bias passed checkInput: the output, the
// dtypes, the ranks (>= 2, equal), the shared leading dimensions, D and N
// agreeing between q, k and v, the output's shape [..., M, E], and the bias
// broadcast to [..., M, N] (into `biasView`, rank of q), and row_offset and
// diagonal within +-2^60 (positions row + row_offset + diagonal stay far
// from int64 overflow).
ac_status checkAttentionArguments(const char *kernel, const ac_tensor *q,
                                  const ac_tensor *k, const ac_tensor *v,
                                  const ac_tensor *bias, const ac_tensor *out,
                                  int64_t rowOffset, int64_t diagonal,
                                  ac_tensor *biasView);
// ac_sigmoid_gate: the output, the dtypes, and both operands broadcast to
// the output (into `gateView` and `valueView`).
ac_status checkSigmoidGateArguments(const char *kernel, const ac_tensor *gate,
                                    const ac_tensor *value,
                                    const ac_tensor *out, ac_tensor *gateView,
                                    ac_tensor *valueView);
// ac_linear_activation: an activation it fuses (relu, gelu, gelu_tanh,
// silu).
ac_status checkFusedActivation(const char *kernel, ac_unary_kind activation);

// ac_reduce after its input passed checkInput: the output, the dtypes, the
// axes (strictly increasing, in range) and the output's shape; `inView` is
// the input with its kept dims first and its reduced dims last, `outView`
// the output without its kept size-1 dims (keep_dims).
ac_status checkReduceArguments(const char *kernel, const ac_tensor *in,
                               const ac_tensor *out, const int64_t *axes,
                               int num_axes, int keep_dims, ac_tensor *inView,
                               ac_tensor *outView);

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H
