//===- Einsum.cpp - one- and two-operand einsum as reductions and GEMMs ---===//
//
// Two operands become a batched GEMM: labels in both inputs and the output
// are batch dimensions, labels in both inputs only are contracted (K), and
// the others are the free rows (M, from lhs) and columns (N, from rhs).
// Labels that only one operand has and the output lacks are summed first.
//
//===----------------------------------------------------------------------===//

#include "EinsumLabels.h"
#include "Gemm.h"
#include "Reduction.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

using namespace autochunk::runtime;

namespace {

const char *const kKernel = "ac_einsum";
using Subscript = EinsumSubscript;

char *elementAt(const ac_tensor *tensor, int64_t offset) {
  return static_cast<char *>(tensor->data) +
         offset * static_cast<int64_t>(ac_dtype_size(tensor->dtype));
}

// Makes `*tensor` a contiguous copy of itself in `buffer`.
ac_status packContiguous(ac_tensor *tensor, ScratchBuffer &buffer) {
  size_t bytes = static_cast<size_t>(ac_tensor_num_elements(tensor)) *
                 ac_dtype_size(tensor->dtype);
  if (!buffer.allocate(bytes))
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "%s: cannot allocate %zu bytes of scratch memory",
                        kKernel, bytes);
  ac_tensor packed;
  ac_tensor_init_contiguous(&packed, buffer.data, tensor->dtype, tensor->rank,
                            tensor->sizes);
  copyStrided(tensor, &packed);
  *tensor = packed;
  return AC_OK;
}

// Whether the dimension with stride 1 of `view` (ordered batch dims first)
// is one of its first `numBatch` dims.
bool batchIsInnermost(const ac_tensor *view, int numBatch) {
  for (int dim = 0; dim < view->rank; ++dim)
    if (view->sizes[dim] > 1 && view->strides[dim] == 1)
      return dim < numBatch;
  return false;
}

template <typename T>
void transposeBlocks(const T *source, int64_t sourceBatchStride,
                     int64_t sourceRestStride, T *target,
                     int64_t targetBatchStride, int64_t targetRestStride,
                     int64_t batches, int64_t rest) {
  // The inner loop runs along the target's contiguous side: strided writes
  // 2^k elements apart would all land in one cache set.
  constexpr int64_t kBlock = 64;
  bool restInner = targetRestStride == 1;
  int64_t batchBlocks = (batches + kBlock - 1) / kBlock;
  parallelFor(batchBlocks, kBlock * rest, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      int64_t b0 = block * kBlock, b1 = std::min(batches, b0 + kBlock);
      for (int64_t r0 = 0; r0 < rest; r0 += kBlock) {
        int64_t r1 = std::min(rest, r0 + kBlock);
        if (restInner) {
          for (int64_t b = b0; b < b1; ++b)
            for (int64_t r = r0; r < r1; ++r)
              target[b * targetBatchStride + r] =
                  source[b * sourceBatchStride + r * sourceRestStride];
        } else {
          for (int64_t r = r0; r < r1; ++r)
            for (int64_t b = b0; b < b1; ++b)
              target[b * targetBatchStride + r * targetRestStride] =
                  source[b * sourceBatchStride + r * sourceRestStride];
        }
      }
    }
  });
}

// Copies `source` into `target` (same sizes, batch dims first): a blocked
// transpose when each has its batch dims and its other dims addressing like
// one dimension each (a channel-last operand moved channel-first), else an
// element-wise strided copy. A copy moves bits: results do not change.
void copyBatchMajor(const ac_tensor *source, int numBatch,
                    const ac_tensor *target) {
  int64_t sourceBatch, sourceRest, targetBatch, targetRest;
  size_t elementSize = ac_dtype_size(source->dtype);
  if ((elementSize != 4 && elementSize != 2) ||
      !collapsesToOneDim(source, 0, numBatch, &sourceBatch) ||
      !collapsesToOneDim(source, numBatch, source->rank, &sourceRest) ||
      !collapsesToOneDim(target, 0, numBatch, &targetBatch) ||
      !collapsesToOneDim(target, numBatch, target->rank, &targetRest)) {
    copyStrided(source, target);
    return;
  }
  int64_t batches = productOfSizes(source->sizes, 0, numBatch);
  int64_t rest = productOfSizes(source->sizes, numBatch, source->rank);
  if (elementSize == 4)
    transposeBlocks(static_cast<const uint32_t *>(source->data), sourceBatch,
                    sourceRest, static_cast<uint32_t *>(target->data),
                    targetBatch, targetRest, batches, rest);
  else
    transposeBlocks(static_cast<const uint16_t *>(source->data), sourceBatch,
                    sourceRest, static_cast<uint16_t *>(target->data),
                    targetBatch, targetRest, batches, rest);
}

// Makes `*view` (batch dims first) a batch-major copy of itself in
// `buffer`: the batch dims outermost, the others in the order they have in
// memory (so that the copy is one blocked transpose), and `*view` a view of
// the copy with its dims in their original order.
ac_status packBatchMajor(ac_tensor *view, int numBatch, ScratchBuffer &buffer) {
  size_t bytes = static_cast<size_t>(ac_tensor_num_elements(view)) *
                 ac_dtype_size(view->dtype);
  if (!buffer.allocate(bytes))
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "%s: cannot allocate %zu bytes of scratch memory",
                        kKernel, bytes);
  int order[AC_MAX_RANK];
  for (int dim = 0; dim < view->rank; ++dim)
    order[dim] = dim;
  std::stable_sort(order + numBatch, order + view->rank, [&](int a, int b) {
    return view->strides[a] > view->strides[b];
  });
  ac_tensor source = *view;
  for (int dim = 0; dim < view->rank; ++dim) {
    source.sizes[dim] = view->sizes[order[dim]];
    source.strides[dim] = view->strides[order[dim]];
  }
  ac_tensor packed;
  ac_tensor_init_contiguous(&packed, buffer.data, view->dtype, view->rank,
                            source.sizes);
  copyBatchMajor(&source, numBatch, &packed);
  ac_tensor result = packed;
  for (int dim = 0; dim < view->rank; ++dim) {
    result.sizes[order[dim]] = packed.sizes[dim];
    result.strides[order[dim]] = packed.strides[dim];
  }
  *view = result;
  return AC_OK;
}

// Sums the labels of `*operand` that neither `other` nor `output` has, so
// that `*operand` (and `*subscript`) keep only the others, into `buffer`.
ac_status sumPrivateLabels(ac_tensor *operand, Subscript *subscript,
                           const Subscript &other, const Subscript &output,
                           ScratchBuffer &buffer) {
  int order[AC_MAX_RANK];
  Subscript kept;
  int numSummed = einsumPrivateLabels(*subscript, other, output, &kept, order);
  if (numSummed == 0)
    return AC_OK;
  ac_tensor view =
      einsumPermutedView(operand, *subscript, order, subscript->rank);
  ac_tensor reduced;
  size_t bytes = static_cast<size_t>(productOfSizes(view.sizes, 0, kept.rank)) *
                 ac_dtype_size(operand->dtype);
  if (!buffer.allocate(bytes))
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "%s: cannot allocate %zu bytes of scratch memory",
                        kKernel, bytes);
  ac_tensor_init_contiguous(&reduced, buffer.data, operand->dtype, kept.rank,
                            view.sizes);
  reduceTrailing(AC_REDUCE_SUM, &view, numSummed, &reduced);
  *operand = reduced;
  *subscript = kept;
  return AC_OK;
}

ac_status contractPair(const ac_tensor *lhsIn, const ac_tensor *rhsIn,
                       Subscript lhsSub, Subscript rhsSub,
                       const Subscript &outSub, ac_tensor *out) {
  ScratchBuffer lhsReduced, rhsReduced, lhsPacked, rhsPacked, outStaging;
  ac_tensor lhs = *lhsIn, rhs = *rhsIn;
  if (ac_status status =
          sumPrivateLabels(&lhs, &lhsSub, rhsSub, outSub, lhsReduced))
    return status;
  if (ac_status status =
          sumPrivateLabels(&rhs, &rhsSub, lhsSub, outSub, rhsReduced))
    return status;

  const EinsumContraction groups = einsumContraction(lhsSub, rhsSub, outSub);
  const int nb = groups.numBatch, nm = groups.numRows,
            nk = groups.numContracted;
  const int *lhsOrder = groups.lhsOrder, *rhsOrder = groups.rhsOrder,
            *outOrder = groups.outOrder;
  const int lhsRank = groups.lhsRank, rhsRank = groups.rhsRank,
            outRank = groups.outRank;
  ac_tensor a = einsumPermutedView(&lhs, lhsSub, lhsOrder, lhsRank);
  ac_tensor b = einsumPermutedView(&rhs, rhsSub, rhsOrder, rhsRank);
  ac_tensor c = einsumPermutedView(out, outSub, outOrder, outRank);
  const int64_t m = productOfSizes(a.sizes, nb, nb + nm);
  const int64_t k = productOfSizes(a.sizes, nb + nm, lhsRank);
  const int64_t n = productOfSizes(b.sizes, nb + nk, rhsRank);
  const int64_t batchCount = productOfSizes(c.sizes, 0, nb);

  // When a batch label is an operand's innermost dimension in memory (the
  // channel of a triangle multiplication's "ikc,jkc->ijc"), each element of
  // one batch's matrix sits on its own cache line, and packing the GEMM's
  // panels would fetch every line once per batch: such operands are first
  // copied batch-major with a blocked transpose, and such an output is
  // staged batch-major and transposed back.
  bool batchedChannelsLast = nb > 0 && batchCount > 1;
  if (batchedChannelsLast && batchIsInnermost(&a, nb))
    if (ac_status status = packBatchMajor(&a, nb, lhsPacked))
      return status;
  if (batchedChannelsLast && batchIsInnermost(&b, nb))
    if (ac_status status = packBatchMajor(&b, nb, rhsPacked))
      return status;

  // Each operand's free and contracted groups must each address like one
  // dimension; otherwise work on a contiguous copy.
  StridedMatrix aMatrix, bMatrix, cMatrix;
  if (!collapsesToOneDim(&a, nb, nb + nm, &aMatrix.rowStride) ||
      !collapsesToOneDim(&a, nb + nm, lhsRank, &aMatrix.colStride)) {
    if (ac_status status = packContiguous(&a, lhsPacked))
      return status;
    collapsesToOneDim(&a, nb, nb + nm, &aMatrix.rowStride);
    collapsesToOneDim(&a, nb + nm, lhsRank, &aMatrix.colStride);
  }
  if (!collapsesToOneDim(&b, nb, nb + nk, &bMatrix.rowStride) ||
      !collapsesToOneDim(&b, nb + nk, rhsRank, &bMatrix.colStride)) {
    if (ac_status status = packContiguous(&b, rhsPacked))
      return status;
    collapsesToOneDim(&b, nb, nb + nk, &bMatrix.rowStride);
    collapsesToOneDim(&b, nb + nk, rhsRank, &bMatrix.colStride);
  }
  ac_tensor target = c;
  bool staged = !collapsesToOneDim(&c, nb, nb + nm, &cMatrix.rowStride) ||
                !collapsesToOneDim(&c, nb + nm, outRank, &cMatrix.colStride) ||
                (batchedChannelsLast && batchIsInnermost(&c, nb));
  if (staged) {
    size_t bytes = static_cast<size_t>(ac_tensor_num_elements(&c)) *
                   ac_dtype_size(c.dtype);
    if (!outStaging.allocate(bytes))
      return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                          "%s: cannot allocate %zu bytes of scratch memory",
                          kKernel, bytes);
    ac_tensor_init_contiguous(&target, outStaging.data, c.dtype, c.rank,
                              c.sizes);
    cMatrix.rowStride = n;
    cMatrix.colStride = 1;
  }

  if (ac_status status = batchedGemm(
          kKernel, out->dtype, batchCount, m, n, k, aMatrix, bMatrix, cMatrix,
          [&](int64_t index, StridedMatrix &batchA, StridedMatrix &batchB,
              StridedMatrix &batchC) {
            batchA.data = elementAt(&a, offsetOfLinear(&a, nb, index));
            batchB.data = elementAt(&b, offsetOfLinear(&b, nb, index));
            batchC.data =
                elementAt(&target, offsetOfLinear(&target, nb, index));
          }))
    return status;
  if (staged)
    copyBatchMajor(&target, nb, &c);
  return AC_OK;
}

} // namespace

extern "C" {

ac_status ac_einsum(const char *equation, const ac_tensor *const *inputs,
                    int num_inputs, ac_tensor *out) {
  if (!equation)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: equation is NULL",
                        kKernel);
  if (num_inputs < 1 || num_inputs > 2 || !inputs)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: takes one or two inputs, not %d", kKernel,
                        num_inputs);
  if (ac_status status = checkOutput(kKernel, "output", out))
    return status;
  for (int i = 0; i < num_inputs; ++i) {
    if (ac_status status =
            checkInput(kKernel, i == 0 ? "input 0" : "input 1", inputs[i]))
      return status;
    if (ac_status status =
            checkSameDtype(kKernel, "an input", inputs[i], "output", out))
      return status;
  }
  Subscript subscripts[2], outSub;
  if (ac_status status = checkEinsumEquation(equation, inputs, num_inputs, out,
                                             subscripts, &outSub))
    return status;
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;

  if (num_inputs == 2)
    return contractPair(inputs[0], inputs[1], subscripts[0], subscripts[1],
                        outSub, out);

  // One operand: the output's labels first, then the summed ones.
  const Subscript &inSub = subscripts[0];
  int order[AC_MAX_RANK];
  int numSummed = einsumSingleOperandOrder(inSub, outSub, order);
  ac_tensor view = einsumPermutedView(inputs[0], inSub, order, inSub.rank);
  if (numSummed == 0)
    copyStrided(&view, out);
  else
    reduceTrailing(AC_REDUCE_SUM, &view, numSummed, out);
  return AC_OK;
}

} // extern "C"
