//===- Reduction.h - reductions over the trailing dimensions of a view ----===//
//
// Shared by ac_reduce (which permutes the reduced axes to the back) and
// ac_einsum (which sums labels that only one operand has).
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_REDUCTION_H
#define AUTOCHUNK_RUNTIME_KERNELS_REDUCTION_H

#include "KernelSupport.h"

namespace autochunk::runtime {

// out[i...] = kind over j... of in[i..., j...], where j runs over the last
// `numReduced` dimensions of `in` and `out` has `in`'s other dimensions (same
// dtype). Each output accumulates in f64, in row-major order of j, on one
// thread.
void reduceTrailing(ac_reduce_kind kind, const ac_tensor *in, int numReduced,
                    const ac_tensor *out);

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_REDUCTION_H
