//===- Gemm.cpp - GEMM backends, matmul and linear ------------------------===//

#include "Gemm.h"

#include <cblas.h>

#include <atomic>
#include <climits>
#include <mutex>
#include <string>

using namespace autochunk::runtime;

namespace {

std::atomic<int> gemmBackend{AC_GEMM_PACKED};

// The K extent of one sgemm call. OpenBLAS picks between kernels (its
// small-matrix path, its blocked path) by M, N and K, and the blocked path
// splits K above its own block size; both sum a single K block in order, as
// long as both operands are row-major (its small-matrix kernels for
// transposed operands vectorize along K instead). So every call passes
// row-major operands (packing the others) and K blocks no longer than any of
// its block sizes, accumulated into C with beta = 1: each element's
// summation order then depends on K alone, not on M, N or the thread count.
constexpr int64_t kBlockSize = 256;

// Whether an rows x cols matrix with these strides is a row-major BLAS
// operand, and its leading dimension. Strides of size-1 dimensions are free.
bool rowMajorLeading(int64_t rows, int64_t cols, int64_t rowStride,
                     int64_t colStride, int64_t *leading) {
  if (cols > 1 && colStride != 1)
    return false;
  if (rows == 1) {
    *leading = std::max<int64_t>(cols, 1);
    return true;
  }
  if (rowStride < std::max<int64_t>(cols, 1))
    return false;
  *leading = rowStride;
  return true;
}

ac_status outOfMemory(const char *kernel, size_t bytes) {
  return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                      "%s: cannot allocate %zu bytes of scratch memory", kernel,
                      bytes);
}

// Copies a strided rows x cols matrix of `Element`s into a contiguous f32
// row-major one.
template <typename Element>
void packAsF32(const StridedMatrix &source, int64_t rows, int64_t cols,
               float *packed) {
  const auto *data =
      static_cast<const typename Element::Storage *>(source.data);
  parallelFor(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const auto *sourceRow = data + row * source.rowStride;
      float *packedRow = packed + row * cols;
      for (int64_t col = 0; col < cols; ++col)
        packedRow[col] = Element::load(sourceRow + col * source.colStride);
    }
  });
}

// Stores a contiguous f32 rows x cols matrix into a strided `Element` one.
template <typename Element>
void unpackFromF32(const float *packed, int64_t rows, int64_t cols,
                   const StridedMatrix &target) {
  auto *data = static_cast<typename Element::Storage *>(target.data);
  parallelFor(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      auto *targetRow = data + row * target.rowStride;
      const float *packedRow = packed + row * cols;
      for (int64_t col = 0; col < cols; ++col)
        Element::store(targetRow + col * target.colStride, packedRow[col]);
    }
  });
}

void addBias(float *c, int64_t rows, int64_t cols, int64_t rowStride,
             int64_t colStride, const float *bias) {
  parallelFor(rows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      float *cRow = c + row * rowStride;
      for (int64_t col = 0; col < cols; ++col)
        cRow[col * colStride] += bias[col];
    }
  });
}

StridedMatrix transposed(StridedMatrix matrix) {
  return {matrix.data, matrix.colStride, matrix.rowStride};
}

// C = A B on f32 matrices with any strides through OpenBLAS (no bias).
ac_status blasGemmF32(const char *kernel, int64_t m, int64_t n, int64_t k,
                      StridedMatrix a, StridedMatrix b, StridedMatrix c,
                      GemmWorkspace &workspace) {
  if (m == 0 || n == 0)
    return AC_OK;
  int64_t ldc;
  if (!rowMajorLeading(m, n, c.rowStride, c.colStride, &ldc)) {
    size_t bytes = static_cast<size_t>(m) * n * sizeof(float);
    if (!ensureScratch(workspace.out, workspace.outBytes, bytes))
      return outOfMemory(kernel, bytes);
    float *staged = workspace.out.as<float>();
    if (ac_status status =
            blasGemmF32(kernel, m, n, k, a, b, {staged, n, 1}, workspace))
      return status;
    unpackFromF32<F32Element>(staged, m, n, c);
    return AC_OK;
  }

  int64_t lda, ldb;
  const float *aData = static_cast<const float *>(a.data);
  const float *bData = static_cast<const float *>(b.data);
  if (!rowMajorLeading(m, k, a.rowStride, a.colStride, &lda)) {
    size_t bytes = static_cast<size_t>(m) * k * sizeof(float);
    if (!ensureScratch(workspace.lhs, workspace.lhsBytes, bytes))
      return outOfMemory(kernel, bytes);
    packAsF32<F32Element>(a, m, k, workspace.lhs.as<float>());
    aData = workspace.lhs.as<float>();
    lda = std::max<int64_t>(k, 1);
  }
  if (!rowMajorLeading(k, n, b.rowStride, b.colStride, &ldb)) {
    size_t bytes = static_cast<size_t>(k) * n * sizeof(float);
    if (!ensureScratch(workspace.rhs, workspace.rhsBytes, bytes))
      return outOfMemory(kernel, bytes);
    packAsF32<F32Element>(b, k, n, workspace.rhs.as<float>());
    bData = workspace.rhs.as<float>();
    ldb = std::max<int64_t>(n, 1);
  }
  for (int64_t value : {m, n, k, lda, ldb, ldc})
    if (value > INT_MAX)
      return ac_set_error(
          AC_ERROR_INVALID_ARGUMENT,
          "%s: a GEMM of %lld x %lld x %lld (leading "
          "dimensions %lld, %lld, %lld) exceeds BLAS's 32-bit "
          "sizes",
          kernel, static_cast<long long>(m), static_cast<long long>(n),
          static_cast<long long>(k), static_cast<long long>(lda),
          static_cast<long long>(ldb), static_cast<long long>(ldc));

  // C starts at +0 and every block adds with beta = 1 (see kBlockSize).
  float *cData = static_cast<float *>(c.data);
  parallelFor(m, n, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row)
      std::fill(cData + row * ldc, cData + row * ldc + n, 0.0f);
  });
  for (int64_t blockStart = 0; blockStart < k; blockStart += kBlockSize) {
    int64_t blockSize = std::min(kBlockSize, k - blockStart);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(blockSize), 1.0f,
                aData + blockStart, static_cast<int>(lda),
                bData + blockStart * ldb, static_cast<int>(ldb), 1.0f, cData,
                static_cast<int>(ldc));
  }
  return AC_OK;
}

ac_status gemmF32(const char *kernel, int64_t m, int64_t n, int64_t k,
                  StridedMatrix a, StridedMatrix b, StridedMatrix c,
                  GemmWorkspace &workspace) {
  if (gemmBackend.load() == AC_GEMM_OPENBLAS)
    return blasGemmF32(kernel, m, n, k, a, b, c, workspace);
  return packedGemmF32(kernel, m, n, k, a, b, c, workspace);
}

template <typename Element>
ac_status gemmLowPrecision(const char *kernel, int64_t m, int64_t n, int64_t k,
                           StridedMatrix a, StridedMatrix b, StridedMatrix c,
                           const float *bias, GemmWorkspace &workspace) {
  size_t aBytes = static_cast<size_t>(m) * k * sizeof(float);
  size_t bBytes = static_cast<size_t>(k) * n * sizeof(float);
  size_t cBytes = static_cast<size_t>(m) * n * sizeof(float);
  if (!ensureScratch(workspace.lhs, workspace.lhsBytes, aBytes))
    return outOfMemory(kernel, aBytes);
  if (!ensureScratch(workspace.rhs, workspace.rhsBytes, bBytes))
    return outOfMemory(kernel, bBytes);
  if (!ensureScratch(workspace.out, workspace.outBytes, cBytes))
    return outOfMemory(kernel, cBytes);
  float *aPacked = workspace.lhs.as<float>();
  float *bPacked = workspace.rhs.as<float>();
  float *cPacked = workspace.out.as<float>();
  packAsF32<Element>(a, m, k, aPacked);
  packAsF32<Element>(b, k, n, bPacked);
  if (ac_status status = gemmF32(kernel, m, n, k, {aPacked, k, 1},
                                 {bPacked, n, 1}, {cPacked, n, 1}, workspace))
    return status;
  if (bias)
    addBias(cPacked, m, n, n, 1, bias);
  unpackFromF32<Element>(cPacked, m, n, c);
  return AC_OK;
}

} // namespace

ac_status autochunk::runtime::batchedGemm(
    const char *kernel, ac_dtype dtype, int64_t batchCount, int64_t m,
    int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, StridedMatrix c,
    const std::function<void(int64_t, StridedMatrix &, StridedMatrix &,
                             StridedMatrix &)> &locate) {
  std::atomic<int> failure{AC_OK};
  std::string failureMessage; // ac_last_error() is per thread
  std::mutex failureMutex;
  auto runBatches = [&](int64_t begin, int64_t end) {
    GemmWorkspace workspace;
    for (int64_t batch = begin; batch < end; ++batch) {
      if (failure.load(std::memory_order_relaxed) != AC_OK)
        return;
      StridedMatrix batchA = a, batchB = b, batchC = c;
      locate(batch, batchA, batchB, batchC);
      if (ac_status status = stridedGemm(kernel, dtype, m, n, k, batchA, batchB,
                                         batchC, nullptr, workspace)) {
        std::lock_guard<std::mutex> lock(failureMutex);
        int expected = AC_OK;
        if (failure.compare_exchange_strong(expected, status))
          failureMessage = ac_last_error();
        return;
      }
    }
  };
  if (batchCount >= kernelThreads())
    parallelFor(batchCount, m * n * std::max<int64_t>(k, 1), runBatches);
  else
    runBatches(0, batchCount);
  if (failure.load() != AC_OK)
    return ac_set_error(static_cast<ac_status>(failure.load()), "%s",
                        failureMessage.c_str());
  return AC_OK;
}

namespace {

// The batch dimensions (all but the last two) of `tensor` as a tensor view.
ac_tensor batchPart(const ac_tensor *tensor) {
  ac_tensor batch = *tensor;
  batch.rank = tensor->rank - 2;
  return batch;
}

// A contiguous f32 copy of a rank-1 tensor, in `workspace.bias`.
ac_status loadBias(const char *kernel, const ac_tensor *bias,
                   GemmWorkspace &workspace, const float **loaded) {
  int64_t size = bias->sizes[0];
  size_t bytes = static_cast<size_t>(size) * sizeof(float);
  if (!ensureScratch(workspace.bias, workspace.biasBytes, bytes))
    return outOfMemory(kernel, bytes);
  float *values = workspace.bias.as<float>();
  dispatchDtype(bias->dtype, [&](auto element) {
    using Element = decltype(element);
    const auto *data = typedData<Element>(bias);
    for (int64_t i = 0; i < size; ++i)
      values[i] = Element::load(data + i * bias->strides[0]);
  });
  *loaded = values;
  return AC_OK;
}

} // namespace

namespace autochunk::runtime {

ac_status stridedGemm(const char *kernel, ac_dtype dtype, int64_t m, int64_t n,
                      int64_t k, StridedMatrix a, StridedMatrix b,
                      StridedMatrix c, const float *bias,
                      GemmWorkspace &workspace) {
  if (m == 0 || n == 0)
    return AC_OK;
  switch (dtype) {
  case AC_F32:
    if (ac_status status = gemmF32(kernel, m, n, k, a, b, c, workspace))
      return status;
    if (bias)
      addBias(static_cast<float *>(c.data), m, n, c.rowStride, c.colStride,
              bias);
    return AC_OK;
  case AC_F16:
    return gemmLowPrecision<F16Element>(kernel, m, n, k, a, b, c, bias,
                                        workspace);
  case AC_BF16:
    return gemmLowPrecision<BF16Element>(kernel, m, n, k, a, b, c, bias,
                                         workspace);
  }
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: unknown dtype", kernel);
}

} // namespace autochunk::runtime

static char *elementAt(const ac_tensor *tensor, int64_t offset) {
  return static_cast<char *>(tensor->data) +
         offset * static_cast<int64_t>(ac_dtype_size(tensor->dtype));
}

extern "C" {

ac_status ac_set_gemm_backend(ac_gemm_backend backend) {
  if (backend != AC_GEMM_PACKED && backend != AC_GEMM_OPENBLAS)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_set_gemm_backend: unknown backend %d",
                        static_cast<int>(backend));
  gemmBackend.store(backend);
  return AC_OK;
}

ac_gemm_backend ac_get_gemm_backend(void) {
  return static_cast<ac_gemm_backend>(gemmBackend.load());
}

ac_status ac_matmul(const ac_tensor *lhs, const ac_tensor *rhs, ac_tensor *out,
                    int transpose_a, int transpose_b) {
  const char *kernel = "ac_matmul";
  if (ac_status status = checkInput(kernel, "lhs", lhs))
    return status;
  if (ac_status status = checkInput(kernel, "rhs", rhs))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "lhs", lhs, "rhs", rhs))
    return status;
  if (ac_status status = checkSameDtype(kernel, "lhs", lhs, "output", out))
    return status;
  if (lhs->rank < 2 || rhs->rank < 2 || out->rank < 2)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: lhs %s, rhs %s and output %s all need rank >= 2",
                        kernel, describe(lhs).text, describe(rhs).text,
                        describe(out).text);
  int lr = lhs->rank, rr = rhs->rank, orank = out->rank;
  // A is M x K, B is K x N, whichever way they are stored.
  StridedMatrix a{nullptr, lhs->strides[lr - 2], lhs->strides[lr - 1]};
  int64_t m = lhs->sizes[lr - 2], k = lhs->sizes[lr - 1];
  if (transpose_a) {
    std::swap(m, k);
    a = transposed(a);
  }
  StridedMatrix b{nullptr, rhs->strides[rr - 2], rhs->strides[rr - 1]};
  int64_t rhsK = rhs->sizes[rr - 2], n = rhs->sizes[rr - 1];
  if (transpose_b) {
    std::swap(rhsK, n);
    b = transposed(b);
  }
  if (k != rhsK)
    return ac_set_error(
        AC_ERROR_INVALID_ARGUMENT,
        "%s: lhs %s%s and rhs %s%s disagree on the contracted "
        "size (%lld vs %lld)",
        kernel, describe(lhs).text, transpose_a ? " (transposed)" : "",
        describe(rhs).text, transpose_b ? " (transposed)" : "",
        static_cast<long long>(k), static_cast<long long>(rhsK));
  if (out->sizes[orank - 2] != m || out->sizes[orank - 1] != n)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: output %s must end in %lldx%lld", kernel,
                        describe(out).text, static_cast<long long>(m),
                        static_cast<long long>(n));
  ac_tensor lhsBatch = batchPart(lhs), rhsBatch = batchPart(rhs),
            outBatch = batchPart(out);
  ac_tensor lhsBatchView, rhsBatchView;
  int batchRank = orank - 2;
  bool lhsFits =
      broadcastView(&lhsBatch, batchRank, outBatch.sizes, &lhsBatchView);
  bool rhsFits =
      broadcastView(&rhsBatch, batchRank, outBatch.sizes, &rhsBatchView);
  // Each operand's batch must broadcast to out's, and out's must be no
  // larger than their joint broadcast: a dimension of out larger than 1 must
  // come from one of them.
  bool outFits = lhsFits && rhsFits;
  for (int dim = 0; outFits && dim < batchRank; ++dim) {
    if (outBatch.sizes[dim] == 1)
      continue;
    int lhsDim = dim - (batchRank - lhsBatch.rank);
    int rhsDim = dim - (batchRank - rhsBatch.rank);
    bool fromLhs = lhsDim >= 0 && lhsBatch.sizes[lhsDim] != 1;
    bool fromRhs = rhsDim >= 0 && rhsBatch.sizes[rhsDim] != 1;
    outFits = fromLhs || fromRhs;
  }
  if (!outFits)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: batch dimensions of lhs %s and rhs %s do not "
                        "broadcast to those of output %s",
                        kernel, describe(lhs).text, describe(rhs).text,
                        describe(out).text);

  int64_t batchCount = productOfSizes(out->sizes, 0, batchRank);
  StridedMatrix c{nullptr, out->strides[orank - 2], out->strides[orank - 1]};
  return batchedGemm(
      kernel, out->dtype, batchCount, m, n, k, a, b, c,
      [&](int64_t batch, StridedMatrix &batchA, StridedMatrix &batchB,
          StridedMatrix &batchC) {
        batchA.data =
            elementAt(lhs, offsetOfLinear(&lhsBatchView, batchRank, batch));
        batchB.data =
            elementAt(rhs, offsetOfLinear(&rhsBatchView, batchRank, batch));
        batchC.data =
            elementAt(out, offsetOfLinear(&outBatch, batchRank, batch));
      });
}

ac_status ac_linear(const ac_tensor *input, const ac_tensor *weight,
                    const ac_tensor *bias, ac_tensor *out) {
  const char *kernel = "ac_linear";
  if (ac_status status = checkInput(kernel, "input", input))
    return status;
  if (ac_status status = checkInput(kernel, "weight", weight))
    return status;
  if (bias)
    if (ac_status status = checkInput(kernel, "bias", bias))
      return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status =
          checkSameDtype(kernel, "input", input, "weight", weight))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", input, "output", out))
    return status;
  if (bias)
    if (ac_status status = checkSameDtype(kernel, "input", input, "bias", bias))
      return status;
  if (input->rank < 1 || weight->rank != 2)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s needs rank >= 1 and weight %s rank 2 "
                        "([out_features, in_features])",
                        kernel, describe(input).text, describe(weight).text);
  int rank = input->rank;
  int64_t inFeatures = weight->sizes[1], outFeatures = weight->sizes[0];
  if (input->sizes[rank - 1] != inFeatures)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s ends in %lld features but weight %s "
                        "takes %lld",
                        kernel, describe(input).text,
                        static_cast<long long>(input->sizes[rank - 1]),
                        describe(weight).text,
                        static_cast<long long>(inFeatures));
  bool outMatches = out->rank == rank && out->sizes[rank - 1] == outFeatures;
  for (int dim = 0; outMatches && dim < rank - 1; ++dim)
    outMatches = out->sizes[dim] == input->sizes[dim];
  if (!outMatches)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: output %s must be input %s with the last "
                        "dimension %lld",
                        kernel, describe(out).text, describe(input).text,
                        static_cast<long long>(outFeatures));
  if (bias && (bias->rank != 1 || bias->sizes[0] != outFeatures))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: bias %s must be [%lld]",
                        kernel, describe(bias).text,
                        static_cast<long long>(outFeatures));

  GemmWorkspace workspace;
  const float *biasValues = nullptr;
  if (bias)
    if (ac_status status = loadBias(kernel, bias, workspace, &biasValues))
      return status;
  // B = W^T: element (k, n) is W[n, k].
  StridedMatrix b{weight->data, weight->strides[1], weight->strides[0]};
  int64_t inRowStride, outRowStride;
  if (collapsesToOneDim(input, 0, rank - 1, &inRowStride) &&
      collapsesToOneDim(out, 0, rank - 1, &outRowStride)) {
    // All leading dimensions as the rows of one GEMM.
    int64_t rows = productOfSizes(input->sizes, 0, rank - 1);
    StridedMatrix a{input->data, inRowStride, input->strides[rank - 1]};
    StridedMatrix c{out->data, outRowStride, out->strides[rank - 1]};
    return stridedGemm(kernel, out->dtype, rows, outFeatures, inFeatures, a, b,
                       c, biasValues, workspace);
  }
  // Otherwise one GEMM per index of dimensions [0, rank - 2).
  int batchRank = rank - 2;
  int64_t rows = input->sizes[rank - 2];
  int64_t batchCount = productOfSizes(input->sizes, 0, batchRank);
  for (int64_t batch = 0; batch < batchCount; ++batch) {
    StridedMatrix a{elementAt(input, offsetOfLinear(input, batchRank, batch)),
                    input->strides[rank - 2], input->strides[rank - 1]};
    StridedMatrix c{elementAt(out, offsetOfLinear(out, batchRank, batch)),
                    out->strides[rank - 2], out->strides[rank - 1]};
    if (ac_status status =
            stridedGemm(kernel, out->dtype, rows, outFeatures, inFeatures, a, b,
                        c, biasValues, workspace))
      return status;
  }
  return AC_OK;
}

} // extern "C"
