//===- Gemm.h - strided matrix products through OpenBLAS ------------------===//
//
// The one GEMM every contraction kernel (matmul, linear, einsum) ends in.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_GEMM_H
#define AUTOCHUNK_RUNTIME_KERNELS_GEMM_H

#include "KernelSupport.h"

#include <functional>

namespace autochunk::runtime {

// A matrix inside a tensor: element (r, c) at data + r*rowStride +
// c*colStride elements (of the tensor's dtype).
struct StridedMatrix {
  void *data;
  int64_t rowStride;
  int64_t colStride;
};

// Scratch buffers reused across the GEMMs of one kernel call.
struct GemmWorkspace {
  // Operands converted from f16/bf16, or packed for BLAS; the staged output.
  ScratchBuffer lhs, rhs, out, bias;
  size_t lhsBytes = 0, rhsBytes = 0, outBytes = 0, biasBytes = 0;
  // The packed GEMM's panels.
  ScratchBuffer lhsPanels, rhsPanels;
  size_t lhsPanelBytes = 0, rhsPanelBytes = 0;
};

// C = A B (+ bias[n] when `bias` is non-null: a contiguous f32 vector of N)
// for an M x K A, K x N B and M x N C of element type `dtype`, with any
// strides. With the packed backend (the default) each element of C sums over
// k in order, so neither the thread count nor M, N or chunking changes its
// bits; with OpenBLAS only the thread count does not.
ac_status stridedGemm(const char *kernel, ac_dtype dtype, int64_t m, int64_t n,
                      int64_t k, StridedMatrix a, StridedMatrix b,
                      StridedMatrix c, const float *bias,
                      GemmWorkspace &workspace);

// Runs `batchCount` GEMMs of one shape (the strides of `a`, `b`, `c`; the
// data of batch i from `locate(i, a, b, c)`, which sets each matrix's data).
// Batches run on separate threads when there are at least as many as
// threads: many small GEMMs each split across threads would spend their time
// forking and packing. A GEMM inside the batch loop then runs on one thread;
// every output element is computed the same way either way.
ac_status
batchedGemm(const char *kernel, ac_dtype dtype, int64_t batchCount, int64_t m,
            int64_t n, int64_t k, StridedMatrix a, StridedMatrix b,
            StridedMatrix c,
            const std::function<void(int64_t, StridedMatrix &, StridedMatrix &,
                                     StridedMatrix &)> &locate);

// The deterministic f32 GEMM (PackedGemm.cpp): C = A B with any strides,
// each element one FMA chain over k in order.
ac_status packedGemmF32(const char *kernel, int64_t m, int64_t n, int64_t k,
                        StridedMatrix a, StridedMatrix b, StridedMatrix c,
                        GemmWorkspace &workspace);

// Grows `buffer` (of `capacity` bytes) to at least `bytes`.
inline bool ensureScratch(ScratchBuffer &buffer, size_t &capacity,
                          size_t bytes) {
  if (bytes <= capacity && buffer.data)
    return true;
  capacity = 0;
  if (!buffer.allocate(bytes))
    return false;
  capacity = bytes;
  return true;
}

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_GEMM_H
