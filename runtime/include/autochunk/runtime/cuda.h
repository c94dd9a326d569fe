/*===- cuda.h - the CUDA build of the AutoChunk runtime kernels ----*- C -*-===*
 *
 * autochunk_kernels_cuda implements every function of kernels.h for tensors
 * whose data are CUDA device pointers, with the same signatures, validation
 * and error messages. Link it instead of the CPU kernels (the symbols are the
 * same), together with the runtime's tensor.cpp (ac_set_error and friends).
 *
 * Every kernel is enqueued on one stream and returns without waiting: a
 * status of AC_OK means the launch succeeded; a fault during execution shows
 * up at the next synchronizing call (ac_cuda_synchronize, a copy back). GEMMs
 * use cuBLASLt (looked up at run time in the libcublasLt that libcublas
 * loads; legacy cuBLAS where it cannot serve), a linear layer's bias as the
 * epilogue, with CUBLAS_COMPUTE_32F: TF32 only when AUTOCHUNK_CUDA_TF32=1; f16
 * and bf16 are computed in f32 and rounded to nearest even. Each new GEMM
 * problem met outside CUDA Graph capture is tuned once (the fastest of up to
 * eight cuBLASLt candidates; AUTOCHUNK_CUDA_GEMM_TUNE=0 keeps the heuristic's
 * first choice). AUTOCHUNK_PROFILE=1 times every call with CUDA events and
 * prints the table at exit. Determinism: results repeat bitwise from run to
 * run in a process (and across processes with tuning off); softmax, layer
 * norm and reductions also keep their bits when a non-reduced dimension is
 * chunked (each row's order depends only on the reduced extents), but GEMM
 * algorithms depend on M, N and K, so a chunked contraction may differ from a
 * whole one in the last bits (as with AC_GEMM_OPENBLAS on the CPU). Nothing
 * but the first use of a GEMM shape or a growing scratch buffer allocates or
 * synchronizes, so a run can be captured into a CUDA Graph once those have
 * happened (docs/cuda-backend.md). Calls must come from one host thread at a
 * time (they share the stream, the cuBLAS handle and the scratch buffers).
 * ac_set_num_threads and ac_set_gemm_backend are accepted and ignored.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_CUDA_H
#define AUTOCHUNK_RUNTIME_CUDA_H

#include "autochunk/runtime/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The stream every kernel runs on (a cudaStream_t). Created on first use as a
 * non-blocking stream of the current device unless one was set. */
void *ac_cuda_stream(void);

/* Makes `stream` (a cudaStream_t the caller owns, or NULL for the legacy
 * default stream) the stream of all later kernels. */
ac_status ac_cuda_set_stream(void *stream);

/* Waits for the stream; reports a failure of any kernel enqueued before. */
ac_status ac_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_CUDA_H */
