//===- Gemm.cu - strided batched GEMMs through cuBLASLt
//--------------------===//
//
// One GEMM layer for every contraction: cuBLASLt (the bias of a linear layer
// as its epilogue), with the legacy cuBLAS call as the fallback. cuBLASLt's
// entry points are looked up at run time in the libcublasLt that libcublas
// already loads, so executables link as before. Each distinct problem (types,
// layouts, sizes, pointer alignments) gets a cached plan: descriptors plus an
// algorithm. Outside CUDA Graph capture, a new problem is tuned once: up to
// eight of the heuristic's candidates are timed and the fastest kept
// (AUTOCHUNK_CUDA_GEMM_TUNE=0 keeps the heuristic's first choice, which is
// the same in every process). One workspace of kWorkspaceBytes serves every
// GEMM; it is allocated by the first one, before any capture.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace autochunk::runtime::cuda {
namespace {

// NVIDIA recommends 32 MiB of cuBLAS workspace on Hopper; it is device
// memory outside the planned arena, so no more than that.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;
constexpr int kMaxCandidates = 8;

ac_status checkBlas(const char *kernel, const char *what,
                    cublasStatus_t status) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return AC_OK;
  return ac_set_error(
      status == CUBLAS_STATUS_ALLOC_FAILED ? AC_ERROR_OUT_OF_MEMORY
                                           : AC_ERROR_INVALID_ARGUMENT,
      "%s: %s: %s (%s)", kernel, what, cublasGetStatusString(status),
      cublasGetStatusName(status));
}

//===----------------------------------------------------------------------===//
// cuBLASLt, resolved at run time
//===----------------------------------------------------------------------===//

struct LtApi {
  decltype(&cublasLtCreate) create = nullptr;
  decltype(&cublasLtMatmulDescCreate) descCreate = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) descSet = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) layoutCreate = nullptr;
  decltype(&cublasLtMatrixLayoutSetAttribute) layoutSet = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) preferenceCreate = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) preferenceSet = nullptr;
  decltype(&cublasLtMatmulPreferenceDestroy) preferenceDestroy = nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic = nullptr;
  decltype(&cublasLtMatmul) matmul = nullptr;
};

template <typename Fn> bool resolve(void *library, const char *name, Fn *fn) {
  void *symbol = dlsym(library ? library : RTLD_DEFAULT, name);
  *fn = reinterpret_cast<Fn>(symbol);
  return symbol != nullptr;
}

// The cuBLASLt entry points, or null when the library cannot be found (the
// legacy cuBLAS path then serves every GEMM).
const LtApi *ltApi() {
  static const LtApi *api = []() -> const LtApi * {
    static LtApi table;
    void *library = nullptr;
    if (!dlsym(RTLD_DEFAULT, "cublasLtMatmul")) {
      std::string soname = "libcublasLt.so." + std::to_string(CUBLAS_VER_MAJOR);
      library = dlopen(soname.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (!library)
        return nullptr;
    }
    bool found =
        resolve(library, "cublasLtCreate", &table.create) &&
        resolve(library, "cublasLtMatmulDescCreate", &table.descCreate) &&
        resolve(library, "cublasLtMatmulDescSetAttribute", &table.descSet) &&
        resolve(library, "cublasLtMatrixLayoutCreate", &table.layoutCreate) &&
        resolve(library, "cublasLtMatrixLayoutSetAttribute",
                &table.layoutSet) &&
        resolve(library, "cublasLtMatmulPreferenceCreate",
                &table.preferenceCreate) &&
        resolve(library, "cublasLtMatmulPreferenceSetAttribute",
                &table.preferenceSet) &&
        resolve(library, "cublasLtMatmulPreferenceDestroy",
                &table.preferenceDestroy) &&
        resolve(library, "cublasLtMatmulAlgoGetHeuristic", &table.heuristic) &&
        resolve(library, "cublasLtMatmul", &table.matmul);
    return found ? &table : nullptr;
  }();
  return api;
}

//===----------------------------------------------------------------------===//
// Handles and the workspace
//===----------------------------------------------------------------------===//

cublasHandle_t blasHandle = nullptr;
cublasLtHandle_t ltHandle = nullptr;
void *workspace = nullptr;

bool tf32Enabled() {
  static const bool enabled = [] {
    const char *value = std::getenv("AUTOCHUNK_CUDA_TF32");
    return value && std::strcmp(value, "1") == 0;
  }();
  return enabled;
}

bool tuningEnabled() {
  static const bool enabled = [] {
    const char *value = std::getenv("AUTOCHUNK_CUDA_GEMM_TUNE");
    return !value || std::strcmp(value, "0") != 0;
  }();
  return enabled;
}

bool isCapturing(cudaStream_t stream) {
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  return cudaStreamIsCapturing(stream, &capture) != cudaSuccess ||
         capture != cudaStreamCaptureStatusNone;
}

// The workspace, allocated on first use (which must precede any capture).
ac_status ensureWorkspace(const char *kernel, cudaStream_t stream) {
  if (workspace)
    return AC_OK;
  if (isCapturing(stream))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: the GEMM workspace would be allocated during "
                        "CUDA Graph capture; run the model once before "
                        "capturing it",
                        kernel);
  cudaError_t error = cudaMalloc(&workspace, kWorkspaceBytes);
  if (error != cudaSuccess) {
    (void)cudaGetLastError();
    workspace = nullptr;
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "%s: cannot allocate the %zu-byte GEMM workspace: %s",
                        kernel, kWorkspaceBytes, cudaGetErrorString(error));
  }
  return AC_OK;
}

ac_status legacyHandle(const char *kernel, cudaStream_t stream,
                       cublasHandle_t *handle) {
  if (!blasHandle) {
    if (ac_status status =
            checkBlas(kernel, "cublasCreate", cublasCreate(&blasHandle)))
      return status;
  }
  if (ac_status status = checkBlas(kernel, "cublasSetStream",
                                   cublasSetStream(blasHandle, stream)))
    return status;
  // A workspace of our own, so that cuBLAS allocates nothing while a
  // graph is being captured.
  if (ac_status status =
          checkBlas(kernel, "cublasSetWorkspace",
                    cublasSetWorkspace(blasHandle, workspace, kWorkspaceBytes)))
    return status;
  *handle = blasHandle;
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// Plans
//===----------------------------------------------------------------------===//

// The largest power of two (up to 256) that divides the address.
int64_t alignmentOf(const void *pointer) {
  uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  int64_t alignment = 256;
  while (alignment > 1 && address % alignment != 0)
    alignment /= 2;
  return alignment;
}

using PlanKey = std::array<int64_t, 22>;

PlanKey planKey(const GemmCall &call, cublasComputeType_t compute) {
  return {static_cast<int64_t>(call.type),
          static_cast<int64_t>(compute),
          static_cast<int64_t>(call.opA),
          static_cast<int64_t>(call.opB),
          call.rows,
          call.cols,
          call.k,
          call.lda,
          call.ldb,
          call.ldc,
          call.strideA,
          call.strideB,
          call.strideC,
          call.batch,
          call.accumulate ? 1 : 0,
          call.bias ? 1 : 0,
          alignmentOf(call.a),
          alignmentOf(call.b),
          alignmentOf(call.c),
          call.bias ? alignmentOf(call.bias) : 0,
          0,
          0};
}

struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
  int candidates = 0;
  float tunedMs = -1; // the chosen algorithm's time when tuned
};

std::map<PlanKey, Plan> plans;

ac_status checkLt(const char *kernel, const char *what, cublasStatus_t status) {
  return checkBlas(kernel, what, status);
}

ac_status makeLayout(const char *kernel, const LtApi &lt, cudaDataType_t type,
                     int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                     int64_t stride, cublasLtMatrixLayout_t *layout) {
  if (ac_status status =
          checkLt(kernel, "cublasLtMatrixLayoutCreate",
                  lt.layoutCreate(layout, type, static_cast<uint64_t>(rows),
                                  static_cast<uint64_t>(cols), ld)))
    return status;
  int32_t count = static_cast<int32_t>(batch);
  if (ac_status status =
          checkLt(kernel, "cublasLtMatrixLayoutSetAttribute (batch count)",
                  lt.layoutSet(*layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                               &count, sizeof(count))))
    return status;
  return checkLt(kernel, "cublasLtMatrixLayoutSetAttribute (batch stride)",
                 lt.layoutSet(*layout,
                              CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                              &stride, sizeof(stride)));
}

ac_status runPlan(const LtApi &lt, const Plan &plan, const GemmCall &call,
                  const cublasLtMatmulAlgo_t &algo, cudaStream_t stream) {
  const float alpha = 1.0f, beta = call.accumulate ? 1.0f : 0.0f;
  return checkLt("cublasLtMatmul", "cublasLtMatmul",
                 lt.matmul(ltHandle, plan.desc, &alpha, call.a, plan.a, call.b,
                           plan.b, &beta, call.c, plan.c, call.c, plan.c, &algo,
                           workspace, kWorkspaceBytes, stream));
}

// Times `algo` on the problem (the output is overwritten; the caller runs
// the chosen algorithm afterwards). Negative when it fails.
float timeAlgorithm(const LtApi &lt, const Plan &plan, const GemmCall &call,
                    const cublasLtMatmulAlgo_t &algo, cudaStream_t stream) {
  cudaEvent_t start, end;
  if (cudaEventCreate(&start) != cudaSuccess)
    return -1;
  if (cudaEventCreate(&end) != cudaSuccess) {
    cudaEventDestroy(start);
    return -1;
  }
  float best = -1;
  // One untimed run, then the better of two timed ones.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (cudaEventRecord(start, stream) != cudaSuccess ||
        runPlan(lt, plan, call, algo, stream) != AC_OK ||
        cudaEventRecord(end, stream) != cudaSuccess ||
        cudaEventSynchronize(end) != cudaSuccess) {
      best = -1;
      break;
    }
    float ms = 0;
    cudaEventElapsedTime(&ms, start, end);
    if (attempt > 0 && (best < 0 || ms < best))
      best = ms;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(end);
  (void)cudaGetLastError();
  return best;
}

ac_status makePlan(const char *kernel, const LtApi &lt, const GemmCall &call,
                   cublasComputeType_t compute, cudaStream_t stream, bool tune,
                   Plan *plan) {
  if (ac_status status =
          checkLt(kernel, "cublasLtMatmulDescCreate",
                  lt.descCreate(&plan->desc, compute, CUDA_R_32F)))
    return status;
  if (ac_status status =
          checkLt(kernel, "cublasLtMatmulDescSetAttribute (transa)",
                  lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &call.opA,
                             sizeof(call.opA))))
    return status;
  if (ac_status status =
          checkLt(kernel, "cublasLtMatmulDescSetAttribute (transb)",
                  lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &call.opB,
                             sizeof(call.opB))))
    return status;
  if (call.bias) {
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    if (ac_status status =
            checkLt(kernel, "cublasLtMatmulDescSetAttribute (epilogue)",
                    lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                               &epilogue, sizeof(epilogue))))
      return status;
    // The pointer is part of the plan's key by its alignment only; it is
    // set again before each call.
    if (ac_status status =
            checkLt(kernel, "cublasLtMatmulDescSetAttribute (bias)",
                    lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                               &call.bias, sizeof(call.bias))))
      return status;
  }
  bool aTransposed = call.opA != CUBLAS_OP_N;
  bool bTransposed = call.opB != CUBLAS_OP_N;
  if (ac_status status =
          makeLayout(kernel, lt, call.type, aTransposed ? call.k : call.rows,
                     aTransposed ? call.rows : call.k, call.lda, call.batch,
                     call.strideA, &plan->a))
    return status;
  if (ac_status status =
          makeLayout(kernel, lt, call.type, bTransposed ? call.cols : call.k,
                     bTransposed ? call.k : call.cols, call.ldb, call.batch,
                     call.strideB, &plan->b))
    return status;
  if (ac_status status =
          makeLayout(kernel, lt, call.type, call.rows, call.cols, call.ldc,
                     call.batch, call.strideC, &plan->c))
    return status;

  cublasLtMatmulPreference_t preference;
  if (ac_status status = checkLt(kernel, "cublasLtMatmulPreferenceCreate",
                                 lt.preferenceCreate(&preference)))
    return status;
  uint64_t workspaceBytes = kWorkspaceBytes;
  lt.preferenceSet(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                   &workspaceBytes, sizeof(workspaceBytes));
  const std::pair<cublasLtMatmulPreferenceAttributes_t, const void *>
      alignments[] = {{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, call.a},
                      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, call.b},
                      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, call.c},
                      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, call.c}};
  for (const auto &[attribute, pointer] : alignments) {
    uint32_t bytes = static_cast<uint32_t>(alignmentOf(pointer));
    lt.preferenceSet(preference, attribute, &bytes, sizeof(bytes));
  }
  cublasLtMatmulHeuristicResult_t results[kMaxCandidates];
  int found = 0;
  cublasStatus_t heuristicStatus =
      lt.heuristic(ltHandle, plan->desc, plan->a, plan->b, plan->c, plan->c,
                   preference, tune ? kMaxCandidates : 1, results, &found);
  lt.preferenceDestroy(preference);
  if (heuristicStatus != CUBLAS_STATUS_SUCCESS || found == 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: cuBLASLt has no algorithm for a %lld x %lld x "
                        "%lld GEMM (batch %lld): %s",
                        kernel, static_cast<long long>(call.rows),
                        static_cast<long long>(call.cols),
                        static_cast<long long>(call.k),
                        static_cast<long long>(call.batch),
                        cublasGetStatusString(heuristicStatus));
  plan->algo = results[0].algo;
  plan->candidates = found;
  if (tune && found > 1) {
    float best = -1;
    for (int candidate = 0; candidate < found; ++candidate) {
      float ms =
          timeAlgorithm(lt, *plan, call, results[candidate].algo, stream);
      if (ms >= 0 && (best < 0 || ms < best)) {
        best = ms;
        plan->algo = results[candidate].algo;
      }
    }
    plan->tunedMs = best;
    if (profilingEnabled())
      std::fprintf(
          stderr,
          "cuda gemm tuning: %lld x %lld x %lld batch %lld "
          "(op %c%c%s): %d candidates, best %.3f ms\n",
          static_cast<long long>(call.rows), static_cast<long long>(call.cols),
          static_cast<long long>(call.k), static_cast<long long>(call.batch),
          call.opA == CUBLAS_OP_N ? 'N' : 'T',
          call.opB == CUBLAS_OP_N ? 'N' : 'T', call.bias ? ", bias" : "", found,
          best);
  }
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// The legacy path
//===----------------------------------------------------------------------===//

ac_status runLegacy(const char *kernel, const GemmCall &call,
                    cublasComputeType_t compute, cudaStream_t stream) {
  cublasHandle_t handle;
  if (ac_status status = legacyHandle(kernel, stream, &handle))
    return status;
  const float alpha = 1.0f, beta = call.accumulate ? 1.0f : 0.0f;
  if (call.rows > INT32_MAX || call.cols > INT32_MAX || call.k > INT32_MAX ||
      call.lda > INT32_MAX || call.ldb > INT32_MAX || call.ldc > INT32_MAX)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: a GEMM of %lld x %lld x %lld exceeds cuBLAS's "
                        "32-bit sizes",
                        kernel, static_cast<long long>(call.rows),
                        static_cast<long long>(call.cols),
                        static_cast<long long>(call.k));
  const int64_t elementSize = call.type == CUDA_R_32F ? 4 : 2;
  // Batches in groups that stay well inside the grid limits.
  constexpr int64_t kMaxBatch = 65535;
  for (int64_t start = 0; start < call.batch; start += kMaxBatch) {
    int64_t count = std::min(kMaxBatch, call.batch - start);
    auto at = [&](const void *data, int64_t stride) {
      return static_cast<const char *>(data) + start * stride * elementSize;
    };
    if (ac_status status = checkBlas(
            kernel, "cublasGemmStridedBatchedEx",
            cublasGemmStridedBatchedEx(
                handle, call.opA, call.opB, static_cast<int>(call.rows),
                static_cast<int>(call.cols), static_cast<int>(call.k), &alpha,
                at(call.a, call.strideA), call.type, static_cast<int>(call.lda),
                call.strideA, at(call.b, call.strideB), call.type,
                static_cast<int>(call.ldb), call.strideB, &beta,
                const_cast<char *>(at(call.c, call.strideC)), call.type,
                static_cast<int>(call.ldc), call.strideC,
                static_cast<int>(count), compute, CUBLAS_GEMM_DEFAULT)))
      return status;
  }
  return AC_OK;
}

} // namespace

bool gemmTakesBias(const GemmCall &call) {
  // cuBLASLt adds a bias per row of the column-major result, read
  // contiguously; zero batch strides and huge batches stay on the legacy
  // path, which takes no bias.
  return ltApi() && call.batch <= INT32_MAX &&
         (call.batch == 1 || (call.strideA != 0 && call.strideB != 0));
}

ac_status runGemm(const char *kernel, const GemmCall &call) {
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  if (ac_status status = ensureWorkspace(kernel, stream))
    return status;
  cublasComputeType_t compute = call.type == CUDA_R_32F && tf32Enabled()
                                    ? CUBLAS_COMPUTE_32F_FAST_TF32
                                    : CUBLAS_COMPUTE_32F;
  const LtApi *lt = ltApi();
  if (!gemmTakesBias(call)) {
    if (call.bias)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: internal error: a bias epilogue on the legacy "
                          "cuBLAS path",
                          kernel);
    return runLegacy(kernel, call, compute, stream);
  }
  if (!ltHandle)
    if (ac_status status =
            checkLt(kernel, "cublasLtCreate", lt->create(&ltHandle)))
      return status;
  PlanKey key = planKey(call, compute);
  auto found = plans.find(key);
  if (found == plans.end()) {
    bool tune = tuningEnabled() && !call.accumulate && !isCapturing(stream);
    Plan plan;
    if (ac_status status =
            makePlan(kernel, *lt, call, compute, stream, tune, &plan))
      return status;
    found = plans.emplace(key, plan).first;
  }
  const Plan &plan = found->second;
  if (call.bias)
    if (ac_status status =
            checkLt(kernel, "cublasLtMatmulDescSetAttribute (bias)",
                    lt->descSet(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                &call.bias, sizeof(call.bias))))
      return status;
  const float alpha = 1.0f, beta = call.accumulate ? 1.0f : 0.0f;
  return checkLt(kernel, "cublasLtMatmul",
                 lt->matmul(ltHandle, plan.desc, &alpha, call.a, plan.a, call.b,
                            plan.b, &beta, call.c, plan.c, call.c, plan.c,
                            &plan.algo, workspace, kWorkspaceBytes, stream));
}

} // namespace autochunk::runtime::cuda
