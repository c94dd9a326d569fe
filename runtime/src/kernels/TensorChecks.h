//===- TensorChecks.h - argument checks shared by CPU and CUDA kernels ---===//
//
// Every kernel validates its tensors the same way, whatever device runs it,
// so the CPU and the CUDA kernels share these checks and their messages.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H
#define AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H

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

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_TENSORCHECKS_H
