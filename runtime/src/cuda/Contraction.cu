//===- Contraction.cu - matmul, linear and einsum through cuBLAS ----------===//
//
// Every contraction becomes one batched GEMM (runGemm in Gemm.cu: cuBLASLt,
// f32 compute, TF32 only on request; a linear layer's bias is the GEMM's
// epilogue). Operands whose batch dimensions do not collapse
// to one stride, or whose matrices are neither row- nor column-major, are
// first packed contiguously with the strided copy kernel into scratch. A
// contraction whose packing would take more than packScratchCap() bytes is
// split along its batch, row or column dimensions (never the summed ones)
// into independent parts that each fit, so scratch memory stays bounded
// whatever the tensors' sizes, and each output element is still computed by
// one GEMM with the full sum.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include "../kernels/EinsumLabels.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

using namespace autochunk::runtime::cuda;

namespace {

cudaDataType_t blasType(ac_dtype dtype) {
  switch (dtype) {
  case AC_F16:
    return CUDA_R_16F;
  case AC_BF16:
    return CUDA_R_16BF;
  default:
    return CUDA_R_32F;
  }
}

// A batch of matrices as cuBLAS reads them: row-major (element (r, c) at
// r * ld + c) or column-major (at c * ld + r), one stride between batches.
struct GemmOperand {
  void *data;
  bool rowMajor;
  int64_t ld;
  int64_t batchStride;
};

// How cuBLAS can read a rows x cols matrix with these strides, if it can.
bool matrixLayout(int64_t rows, int64_t cols, int64_t rowStride,
                  int64_t colStride, bool *rowMajor, int64_t *ld) {
  const int64_t minRows = std::max<int64_t>(rows, 1);
  const int64_t minCols = std::max<int64_t>(cols, 1);
  if ((cols <= 1 || colStride == 1) && (rows <= 1 || rowStride >= minCols)) {
    *rowMajor = true;
    *ld = rows <= 1 ? minCols : rowStride;
    return true;
  }
  if ((rows <= 1 || rowStride == 1) && (cols <= 1 || colStride >= minRows)) {
    *rowMajor = false;
    *ld = cols <= 1 ? minRows : colStride;
    return true;
  }
  return false;
}

// `view` (rank numBatch + 2) as a cuBLAS operand, when it is one as is.
bool asOperand(const ac_tensor *view, int numBatch, GemmOperand *operand) {
  int64_t batchStride;
  if (!collapsesToOneDim(view, 0, numBatch, &batchStride))
    return false;
  bool rowMajor;
  int64_t ld;
  if (!matrixLayout(view->sizes[numBatch], view->sizes[numBatch + 1],
                    view->strides[numBatch], view->strides[numBatch + 1],
                    &rowMajor, &ld))
    return false;
  if (ld > INT_MAX)
    return false;
  *operand = {view->data, rowMajor, ld, batchStride};
  return true;
}

// A contiguous copy of `view` in the scratch buffer `role`.
ac_status packContiguous(const char *kernel, const ac_tensor *view,
                         Scratch role, ac_tensor *packed) {
  size_t bytes = static_cast<size_t>(ac_tensor_num_elements(view)) *
                 ac_dtype_size(view->dtype);
  void *data;
  if (ac_status status = scratchBuffer(kernel, role, bytes, &data))
    return status;
  ac_tensor_init_contiguous(packed, data, view->dtype, view->rank, view->sizes);
  return copyStrided(kernel, view, packed);
}

// The most scratch memory (bytes) one contraction packs its operands and
// stages its output into at once; larger ones are split (forEachBoundedPart).
// 32 MiB keeps the scratch (two levels pack: up to 2 x 40 MiB with growth
// headroom) a few percent of an activation peak of a few GB
// while every part still holds millions of elements: GEMMs of that size
// run at full rate. AUTOCHUNK_CUDA_PACK_CAP (bytes) overrides it, so that a
// check can make small models split too.
size_t packScratchCap() {
  static const size_t cap = [] {
    const char *value = std::getenv("AUTOCHUNK_CUDA_PACK_CAP");
    if (!value || !*value)
      return size_t{32} << 20;
    return static_cast<size_t>(std::max(1LL, std::atoll(value)));
  }();
  return cap;
}

// A dimension along which a contraction splits into independent parts: its
// index in each of the (up to kMaxSplitViews) views that have it, else -1.
constexpr int kMaxSplitViews = 4;
struct SplitDim {
  int dims[kMaxSplitViews];
};

// `view` restricted to [start, start + count) along `dim`.
void narrow(ac_tensor *view, int dim, int64_t start, int64_t count) {
  view->data = elementAt(view, start * view->strides[dim]);
  view->sizes[dim] = count;
}

// Calls `body(views)` on parts of `views` (the operands of one contraction)
// whose `scratchBytes(views)` is at most packScratchCap(), splitting along
// `splits` in order: each split dimension is cut into equal pieces sized by
// the part of the need that scales with it, and a piece still above the cap
// is split along the later dimensions. A part that no split brings under the
// cap (one matrix larger than it) runs as it is.
template <typename Need, typename Body>
ac_status forEachBoundedPart(const ac_tensor *views, int numViews,
                             const SplitDim *splits, int numSplits,
                             const Need &scratchBytes, const Body &body) {
  ac_tensor parts[kMaxSplitViews];
  std::copy(views, views + numViews, parts);
  const size_t need = scratchBytes(parts);
  if (need <= packScratchCap())
    return body(parts);
  for (int split = 0; split < numSplits; ++split) {
    const SplitDim &dim = splits[split];
    int64_t size = 0;
    for (int view = 0; view < numViews; ++view)
      if (dim.dims[view] >= 0)
        size = parts[view].sizes[dim.dims[view]];
    if (size <= 1)
      continue;
    // Pieces of equal size (fewer distinct GEMM shapes to tune), as few
    // as the proportional estimate allows.
    const double perIndex = static_cast<double>(need) / size;
    int64_t step =
        std::max<int64_t>(1, static_cast<int64_t>(packScratchCap() / perIndex));
    if (step >= size)
      continue;
    const int64_t pieces = (size + step - 1) / step;
    step = (size + pieces - 1) / pieces;
    for (int64_t start = 0; start < size; start += step) {
      ac_tensor piece[kMaxSplitViews];
      std::copy(parts, parts + numViews, piece);
      for (int view = 0; view < numViews; ++view)
        if (dim.dims[view] >= 0)
          narrow(&piece[view], dim.dims[view], start,
                 std::min(step, size - start));
      if (ac_status status =
              forEachBoundedPart(piece, numViews, splits + split + 1,
                                 numSplits - split - 1, scratchBytes, body))
        return status;
    }
    return AC_OK;
  }
  return body(parts);
}

// The bytes of a contiguous copy of `view`.
size_t packedBytes(const ac_tensor *view) {
  return static_cast<size_t>(ac_tensor_num_elements(view)) *
         ac_dtype_size(view->dtype);
}

ac_status tooLarge(const char *kernel, int64_t m, int64_t n, int64_t k) {
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                      "%s: a GEMM of %lld x %lld x %lld exceeds cuBLAS's "
                      "32-bit sizes",
                      kernel, static_cast<long long>(m),
                      static_cast<long long>(n), static_cast<long long>(k));
}

} // namespace

namespace {

// batchedGemm on one part: packs what cuBLAS cannot read as it is.
ac_status batchedGemmPart(const char *kernel, int numBatch, const ac_tensor *a,
                          const ac_tensor *b, const ac_tensor *c,
                          bool accumulate, const ac_tensor *bias) {
  const int64_t m = c->sizes[numBatch], n = c->sizes[numBatch + 1];
  const int64_t k = a->sizes[numBatch + 1];
  const int64_t batchCount = productOfSizes(c->sizes, 0, numBatch);
  if (m == 0 || n == 0 || batchCount == 0)
    return AC_OK;
  // Without an epilogue the bias goes into C first; the GEMM then
  // accumulates onto it, so an f16 or bf16 result is rounded once, after
  // the bias, as on the CPU.
  auto biasIntoOutput = [&]() -> ac_status {
    ac_tensor biasView;
    broadcastView(bias, c->rank, c->sizes, &biasView);
    accumulate = true;
    return copyStrided(kernel, &biasView, c);
  };
  if (k == 0) { // an empty sum
    if (bias)
      return biasIntoOutput();
    return accumulate ? AC_OK : fillTensor(kernel, c, 0.0f);
  }

  ac_tensor aPacked, bPacked, cStaged;
  GemmOperand aOperand, bOperand, cOperand;
  if (!asOperand(a, numBatch, &aOperand)) {
    if (ac_status status =
            packContiguous(kernel, a, Scratch::GemmLhs, &aPacked))
      return status;
    if (!asOperand(&aPacked, numBatch, &aOperand))
      return tooLarge(kernel, m, n, k);
  }
  if (!asOperand(b, numBatch, &bOperand)) {
    if (ac_status status =
            packContiguous(kernel, b, Scratch::GemmRhs, &bPacked))
      return status;
    if (!asOperand(&bPacked, numBatch, &bOperand))
      return tooLarge(kernel, m, n, k);
  }
  const bool staged = !asOperand(c, numBatch, &cOperand);

  // cuBLAS is column-major. A row-major C is a column-major C^T = B^T A^T,
  // so the operands swap; an operand stored the other way is transposed.
  const GemmOperand *first = &aOperand, *second = &bOperand;
  int64_t rows = m, cols = n;
  cublasOperation_t firstOp, secondOp;
  bool cRowMajor = staged || cOperand.rowMajor; // a staged C is row-major
  if (cRowMajor) {
    first = &bOperand;
    second = &aOperand;
    rows = n;
    cols = m;
    firstOp = bOperand.rowMajor ? CUBLAS_OP_N : CUBLAS_OP_T;
    secondOp = aOperand.rowMajor ? CUBLAS_OP_N : CUBLAS_OP_T;
  } else {
    firstOp = aOperand.rowMajor ? CUBLAS_OP_T : CUBLAS_OP_N;
    secondOp = bOperand.rowMajor ? CUBLAS_OP_T : CUBLAS_OP_N;
  }
  GemmCall call;
  call.type = blasType(c->dtype);
  call.opA = firstOp;
  call.opB = secondOp;
  call.rows = rows;
  call.cols = cols;
  call.k = k;
  call.a = first->data;
  call.lda = first->ld;
  call.strideA = first->batchStride;
  call.b = second->data;
  call.ldb = second->ld;
  call.strideB = second->batchStride;
  call.batch = batchCount;
  call.accumulate = accumulate;
  call.bias = nullptr;
  // The bias is an epilogue when it runs along the column-major rows (a
  // row-major C), is contiguous, and C need not be staged.
  const bool biasEpilogue = bias && !staged && cRowMajor &&
                            (bias->sizes[0] <= 1 || bias->strides[0] == 1);
  if (biasEpilogue) {
    call.bias = bias->data;
    if (!gemmTakesBias(call) || accumulate)
      call.bias = nullptr;
  }
  if (bias && !call.bias)
    if (ac_status status = biasIntoOutput())
      return status;
  call.accumulate = accumulate;

  if (staged) {
    size_t bytes = static_cast<size_t>(ac_tensor_num_elements(c)) *
                   ac_dtype_size(c->dtype);
    void *data;
    if (ac_status status =
            scratchBuffer(kernel, Scratch::GemmOut, bytes, &data))
      return status;
    ac_tensor_init_contiguous(&cStaged, data, c->dtype, c->rank, c->sizes);
    if (accumulate)
      if (ac_status status = copyStrided(kernel, c, &cStaged))
        return status;
    if (!asOperand(&cStaged, numBatch, &cOperand))
      return tooLarge(kernel, m, n, k);
  }
  call.c = cOperand.data;
  call.ldc = cOperand.ld;
  call.strideC = cOperand.batchStride;
  if (ac_status status = runGemm(kernel, call))
    return status;
  if (staged)
    return copyStrided(kernel, &cStaged, c);
  return AC_OK;
}

} // namespace

namespace autochunk::runtime::cuda {

ac_status batchedGemm(const char *kernel, int numBatch, const ac_tensor *a,
                      const ac_tensor *b, const ac_tensor *c, bool accumulate,
                      const ac_tensor *bias) {
  // Views: A [batch, M, K], B [batch, K, N], C [batch, M, N], bias [N].
  const int numViews = bias ? 4 : 3;
  ac_tensor views[4] = {*a, *b, *c, bias ? *bias : *c};
  SplitDim splits[AC_MAX_RANK + 2];
  int numSplits = 0;
  for (int dim = 0; dim < numBatch; ++dim)
    splits[numSplits++] = {{dim, dim, dim, -1}};
  splits[numSplits++] = {{numBatch, -1, numBatch, -1}};        // M
  splits[numSplits++] = {{-1, numBatch + 1, numBatch + 1, 0}}; // N
  auto scratchBytes = [&](const ac_tensor *parts) {
    GemmOperand unused;
    size_t bytes = 0;
    for (int view = 0; view < 3; ++view)
      if (!asOperand(&parts[view], numBatch, &unused))
        bytes += packedBytes(&parts[view]);
    return bytes;
  };
  return forEachBoundedPart(views, numViews, splits, numSplits, scratchBytes,
                            [&](const ac_tensor *parts) {
                              return batchedGemmPart(
                                  kernel, numBatch, &parts[0], &parts[1],
                                  &parts[2], accumulate,
                                  bias ? &parts[3] : nullptr);
                            });
}

} // namespace autochunk::runtime::cuda

//===----------------------------------------------------------------------===//
// Einsum (the equation, checks and label orders shared with the CPU kernel,
// EinsumLabels.h)
//===----------------------------------------------------------------------===//

namespace {

const char *const kEinsum = "ac_einsum";
using autochunk::runtime::checkEinsumEquation;
using autochunk::runtime::einsumContraction;
using autochunk::runtime::EinsumContraction;
using autochunk::runtime::einsumPermutedView;
using autochunk::runtime::einsumPrivateLabels;
using autochunk::runtime::einsumSingleOperandOrder;
using autochunk::runtime::EinsumSubscript;
using Subscript = EinsumSubscript;

// Sums the labels of `*operand` that neither `other` nor `output` has, so
// that `*operand` (and `*subscript`) keep only the others, into scratch.
ac_status sumPrivateLabels(ac_tensor *operand, Subscript *subscript,
                           const Subscript &other, const Subscript &output,
                           Scratch role) {
  int order[AC_MAX_RANK];
  Subscript kept;
  int numSummed = einsumPrivateLabels(*subscript, other, output, &kept, order);
  if (numSummed == 0)
    return AC_OK;
  ac_tensor view =
      einsumPermutedView(operand, *subscript, order, subscript->rank);
  size_t bytes = static_cast<size_t>(productOfSizes(view.sizes, 0, kept.rank)) *
                 ac_dtype_size(operand->dtype);
  void *data;
  if (ac_status status = scratchBuffer(kEinsum, role, bytes, &data))
    return status;
  ac_tensor reduced;
  ac_tensor_init_contiguous(&reduced, data, operand->dtype, kept.rank,
                            view.sizes);
  if (ac_status status =
          reduceTrailing(kEinsum, AC_REDUCE_SUM, &view, numSummed, &reduced))
    return status;
  *operand = reduced;
  *subscript = kept;
  return AC_OK;
}

// `view` [batch (nb), rows group, cols group] as a rank nb + 2 matrix view
// when each group addresses like one dimension.
bool asBatchedMatrix(const ac_tensor *view, int nb, int rowsEnd,
                     ac_tensor *matrix) {
  int64_t rowStride, colStride;
  if (!collapsesToOneDim(view, nb, rowsEnd, &rowStride) ||
      !collapsesToOneDim(view, rowsEnd, view->rank, &colStride))
    return false;
  *matrix = *view;
  matrix->rank = nb + 2;
  matrix->sizes[nb] = productOfSizes(view->sizes, nb, rowsEnd);
  matrix->sizes[nb + 1] = productOfSizes(view->sizes, rowsEnd, view->rank);
  matrix->strides[nb] = rowStride;
  matrix->strides[nb + 1] = colStride;
  return true;
}

// asBatchedMatrix, packing `view` contiguously into `role` when needed.
ac_status batchedMatrix(const ac_tensor *view, int nb, int rowsEnd,
                        Scratch role, ac_tensor *matrix) {
  if (asBatchedMatrix(view, nb, rowsEnd, matrix))
    return AC_OK;
  ac_tensor packed;
  if (ac_status status = packContiguous(kEinsum, view, role, &packed))
    return status;
  asBatchedMatrix(&packed, nb, rowsEnd, matrix);
  return AC_OK;
}

ac_status contractPart(const ac_tensor *aIn, const ac_tensor *bIn,
                       const ac_tensor *cIn, int nb, int nm, int nk);

ac_status contractPair(const ac_tensor *lhsIn, const ac_tensor *rhsIn,
                       Subscript lhsSub, Subscript rhsSub,
                       const Subscript &outSub, ac_tensor *out) {
  ac_tensor lhs = *lhsIn, rhs = *rhsIn;
  if (ac_status status = sumPrivateLabels(&lhs, &lhsSub, rhsSub, outSub,
                                          Scratch::EinsumLhsReduced))
    return status;
  if (ac_status status = sumPrivateLabels(&rhs, &rhsSub, lhsSub, outSub,
                                          Scratch::EinsumRhsReduced))
    return status;

  const EinsumContraction groups = einsumContraction(lhsSub, rhsSub, outSub);
  const int nb = groups.numBatch, nm = groups.numRows, nn = groups.numCols,
            nk = groups.numContracted;
  const int *lhsOrder = groups.lhsOrder, *rhsOrder = groups.rhsOrder,
            *outOrder = groups.outOrder;
  const int lhsRank = groups.lhsRank, rhsRank = groups.rhsRank,
            outRank = groups.outRank;
  const ac_tensor views[3] = {
      einsumPermutedView(&lhs, lhsSub, lhsOrder, lhsRank),
      einsumPermutedView(&rhs, rhsSub, rhsOrder, rhsRank),
      einsumPermutedView(out, outSub, outOrder, outRank)};
  // Split along the batch labels, then the rows, then the columns.
  SplitDim splits[3 * AC_MAX_RANK];
  int numSplits = 0;
  for (int dim = 0; dim < nb; ++dim)
    splits[numSplits++] = {{dim, dim, dim, -1}};
  for (int dim = 0; dim < nm; ++dim)
    splits[numSplits++] = {{nb + dim, -1, nb + dim, -1}};
  for (int dim = 0; dim < nn; ++dim)
    splits[numSplits++] = {{-1, nb + nk + dim, nb + nm + dim, -1}};
  auto scratchBytes = [&](const ac_tensor *parts) {
    ac_tensor unused;
    const int rowsEnd[3] = {nb + nm, nb + nk, nb + nm};
    size_t bytes = 0;
    for (int view = 0; view < 3; ++view)
      if (!asBatchedMatrix(&parts[view], nb, rowsEnd[view], &unused))
        bytes += packedBytes(&parts[view]);
    return bytes;
  };
  return forEachBoundedPart(
      views, 3, splits, numSplits, scratchBytes, [&](const ac_tensor *parts) {
        return contractPart(&parts[0], &parts[1], &parts[2], nb, nm, nk);
      });
}

// contractPair's GEMM on one part: `a` [batch, rows, summed], `b` [batch,
// summed, cols] and `c` [batch, rows, cols] (nb, nm, nk labels in each
// group), packing and staging what does not collapse to a batched matrix.
ac_status contractPart(const ac_tensor *aIn, const ac_tensor *bIn,
                       const ac_tensor *cIn, int nb, int nm, int nk) {
  const ac_tensor &a = *aIn, &b = *bIn, &c = *cIn;
  ac_tensor aMatrix, bMatrix, cMatrix;
  if (ac_status status =
          batchedMatrix(&a, nb, nb + nm, Scratch::EinsumLhsPacked, &aMatrix))
    return status;
  if (ac_status status =
          batchedMatrix(&b, nb, nb + nk, Scratch::EinsumRhsPacked, &bMatrix))
    return status;
  // An output whose row or column labels do not collapse is staged.
  ac_tensor staged;
  const bool isStaged = !asBatchedMatrix(&c, nb, nb + nm, &cMatrix);
  if (isStaged) {
    size_t bytes = static_cast<size_t>(ac_tensor_num_elements(&c)) *
                   ac_dtype_size(c.dtype);
    void *data;
    if (ac_status status =
            scratchBuffer(kEinsum, Scratch::EinsumOutStaged, bytes, &data))
      return status;
    ac_tensor_init_contiguous(&staged, data, c.dtype, c.rank, c.sizes);
    asBatchedMatrix(&staged, nb, nb + nm, &cMatrix);
  }
  if (ac_status status =
          batchedGemm(kEinsum, nb, &aMatrix, &bMatrix, &cMatrix, false))
    return status;
  if (isStaged)
    return copyStrided(kEinsum, &staged, &c);
  return AC_OK;
}

// The batch dimensions (all but the last two) of `tensor` as a tensor view.
ac_tensor batchPart(const ac_tensor *tensor) {
  ac_tensor batch = *tensor;
  batch.rank = tensor->rank - 2;
  return batch;
}

} // namespace

extern "C" {

ac_status ac_matmul(const ac_tensor *lhs, const ac_tensor *rhs, ac_tensor *out,
                    int transpose_a, int transpose_b) {
  KernelTimer timer("ac_matmul", out);
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
  int64_t m = lhs->sizes[lr - 2], k = lhs->sizes[lr - 1];
  int64_t aRowStride = lhs->strides[lr - 2], aColStride = lhs->strides[lr - 1];
  if (transpose_a) {
    std::swap(m, k);
    std::swap(aRowStride, aColStride);
  }
  int64_t rhsK = rhs->sizes[rr - 2], n = rhs->sizes[rr - 1];
  int64_t bRowStride = rhs->strides[rr - 2], bColStride = rhs->strides[rr - 1];
  if (transpose_b) {
    std::swap(rhsK, n);
    std::swap(bRowStride, bColStride);
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
  ac_tensor a, b;
  int batchRank = orank - 2;
  bool lhsFits = broadcastView(&lhsBatch, batchRank, outBatch.sizes, &a);
  bool rhsFits = broadcastView(&rhsBatch, batchRank, outBatch.sizes, &b);
  // Each operand's batch must broadcast to out's, and a dimension of out
  // larger than 1 must come from one of them.
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
  a.rank = b.rank = orank;
  a.sizes[batchRank] = m;
  a.sizes[batchRank + 1] = k;
  a.strides[batchRank] = aRowStride;
  a.strides[batchRank + 1] = aColStride;
  b.sizes[batchRank] = k;
  b.sizes[batchRank + 1] = n;
  b.strides[batchRank] = bRowStride;
  b.strides[batchRank + 1] = bColStride;
  return batchedGemm(kernel, batchRank, &a, &b, out, false);
}

ac_status ac_linear(const ac_tensor *input, const ac_tensor *weight,
                    const ac_tensor *bias, ac_tensor *out) {
  KernelTimer timer("ac_linear", out);
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
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;

  ac_tensor a = *input, c = *out, b;
  int numBatch;
  int64_t inRowStride, outRowStride;
  if (collapsesToOneDim(input, 0, rank - 1, &inRowStride) &&
      collapsesToOneDim(out, 0, rank - 1, &outRowStride)) {
    // All leading dimensions as the rows of one GEMM.
    numBatch = 0;
    int64_t rows = productOfSizes(input->sizes, 0, rank - 1);
    a.rank = c.rank = 2;
    a.sizes[0] = c.sizes[0] = rows;
    a.sizes[1] = inFeatures;
    a.strides[0] = inRowStride;
    a.strides[1] = input->strides[rank - 1];
    c.sizes[1] = outFeatures;
    c.strides[0] = outRowStride;
    c.strides[1] = out->strides[rank - 1];
  } else {
    numBatch = rank - 2; // rank >= 2 here: rank 1 always collapses
  }
  // B = W^T: element (k, n) is W[n, k], the same for every batch.
  b = c;
  b.data = weight->data;
  for (int dim = 0; dim < numBatch; ++dim)
    b.strides[dim] = 0;
  b.sizes[numBatch] = inFeatures;
  b.sizes[numBatch + 1] = outFeatures;
  b.strides[numBatch] = weight->strides[1];
  b.strides[numBatch + 1] = weight->strides[0];
  return batchedGemm(kernel, numBatch, &a, &b, &c, false, bias);
}

ac_status ac_einsum(const char *equation, const ac_tensor *const *inputs,
                    int num_inputs, ac_tensor *out) {
  KernelTimer timer("ac_einsum", out);
  if (!equation)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: equation is NULL",
                        kEinsum);
  if (num_inputs < 1 || num_inputs > 2 || !inputs)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: takes one or two inputs, not %d", kEinsum,
                        num_inputs);
  if (ac_status status = checkOutput(kEinsum, "output", out))
    return status;
  // checkInput may point an operand at a device copy of host data.
  const ac_tensor *operands[2] = {inputs[0],
                                  num_inputs > 1 ? inputs[1] : nullptr};
  for (int i = 0; i < num_inputs; ++i) {
    if (ac_status status =
            checkInput(kEinsum, i == 0 ? "input 0" : "input 1", operands[i]))
      return status;
    if (ac_status status =
            checkSameDtype(kEinsum, "an input", operands[i], "output", out))
      return status;
  }
  Subscript subscripts[2], outSub;
  if (ac_status status = checkEinsumEquation(equation, operands, num_inputs,
                                             out, subscripts, &outSub))
    return status;
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;

  if (num_inputs == 2)
    return contractPair(operands[0], operands[1], subscripts[0], subscripts[1],
                        outSub, out);

  // One operand: the output's labels first, then the summed ones.
  const Subscript &inSub = subscripts[0];
  int order[AC_MAX_RANK];
  int numSummed = einsumSingleOperandOrder(inSub, outSub, order);
  ac_tensor view = einsumPermutedView(operands[0], inSub, order, inSub.rank);
  if (numSummed == 0)
    return copyStrided(kEinsum, &view, out);
  return reduceTrailing(kEinsum, AC_REDUCE_SUM, &view, numSummed, out);
}

} // extern "C"
