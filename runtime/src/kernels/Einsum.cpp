//===- Einsum.cpp - one- and two-operand einsum as reductions and GEMMs ---===//
//
// Two operands become a batched GEMM: labels in both inputs and the output
// are batch dimensions, labels in both inputs only are contracted (K), and
// the others are the free rows (M, from lhs) and columns (N, from rhs).
// Labels that only one operand has and the output lacks are summed first.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "Reduction.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

using namespace autochunk::runtime;

namespace {

const char *const kKernel = "ac_einsum";
constexpr int kNumLabels = 26;

struct Subscript {
  int rank = 0;
  int labels[AC_MAX_RANK]; // 0..25 for 'a'..'z'
  int find(int label) const {
    for (int dim = 0; dim < rank; ++dim)
      if (labels[dim] == label)
        return dim;
    return -1;
  }
  bool has(int label) const { return find(label) >= 0; }
};

ac_status parseEquation(const char *equation, int numInputs, Subscript *inputs,
                        Subscript *output) {
  const char *arrow = std::strstr(equation, "->");
  if (!arrow)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: equation \"%s\" needs an explicit \"->\"", kKernel,
                        equation);
  int operand = 0;
  Subscript *current = &inputs[0];
  bool inOutput = false;
  for (const char *cursor = equation; *cursor; ++cursor) {
    char c = *cursor;
    if (c == ' ')
      continue;
    if (cursor == arrow) {
      if (operand + 1 != numInputs)
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: equation \"%s\" has %d operand subscripts "
                            "but %d inputs were given",
                            kKernel, equation, operand + 1, numInputs);
      current = output;
      inOutput = true;
      ++cursor; // skip '>'
      continue;
    }
    if (c == ',' && !inOutput) {
      if (++operand >= numInputs)
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: equation \"%s\" has more operand subscripts "
                            "than the %d inputs given",
                            kKernel, equation, numInputs);
      current = &inputs[operand];
      continue;
    }
    if (c < 'a' || c > 'z')
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" has '%c'; labels are a-z, "
                          "operands separated by ',' and the result after "
                          "\"->\"",
                          kKernel, equation, c);
    if (current->has(c - 'a'))
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" repeats label '%c' within one "
                          "subscript list",
                          kKernel, equation, c);
    if (current->rank == AC_MAX_RANK)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: equation \"%s\" has a subscript list longer "
                          "than %d",
                          kKernel, equation, AC_MAX_RANK);
    current->labels[current->rank++] = c - 'a';
  }
  return AC_OK;
}

char *elementAt(const ac_tensor *tensor, int64_t offset) {
  return static_cast<char *>(tensor->data) +
         offset * static_cast<int64_t>(ac_dtype_size(tensor->dtype));
}

// A view of `tensor` (labelled by `subscript`) whose dimensions are, in
// order, those of `labels`.
ac_tensor permutedView(const ac_tensor *tensor, const Subscript &subscript,
                       const int *labels, int count) {
  ac_tensor view = *tensor;
  view.rank = count;
  for (int dim = 0; dim < count; ++dim) {
    int source = subscript.find(labels[dim]);
    view.sizes[dim] = tensor->sizes[source];
    view.strides[dim] = tensor->strides[source];
  }
  return view;
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
  int numSummed = 0;
  for (int dim = 0; dim < subscript->rank; ++dim) {
    int label = subscript->labels[dim];
    if (!other.has(label) && !output.has(label))
      continue;
    kept.labels[kept.rank++] = label;
  }
  if (kept.rank == subscript->rank)
    return AC_OK;
  for (int dim = 0; dim < kept.rank; ++dim)
    order[dim] = kept.labels[dim];
  for (int dim = 0; dim < subscript->rank; ++dim) {
    int label = subscript->labels[dim];
    if (!kept.has(label))
      order[kept.rank + numSummed++] = label;
  }
  ac_tensor view = permutedView(operand, *subscript, order, subscript->rank);
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

  int batch[AC_MAX_RANK], rows[AC_MAX_RANK], cols[AC_MAX_RANK],
      contracted[AC_MAX_RANK];
  int nb = 0, nm = 0, nn = 0, nk = 0;
  for (int dim = 0; dim < outSub.rank; ++dim) {
    int label = outSub.labels[dim];
    bool inLhs = lhsSub.has(label), inRhs = rhsSub.has(label);
    if (inLhs && inRhs)
      batch[nb++] = label;
    else if (inLhs)
      rows[nm++] = label;
    else
      cols[nn++] = label;
  }
  for (int dim = 0; dim < lhsSub.rank; ++dim)
    if (!outSub.has(lhsSub.labels[dim]))
      contracted[nk++] = lhsSub.labels[dim];

  int lhsOrder[AC_MAX_RANK], rhsOrder[AC_MAX_RANK], outOrder[AC_MAX_RANK];
  auto append = [](int *order, int &count, const int *labels, int n) {
    for (int i = 0; i < n; ++i)
      order[count++] = labels[i];
  };
  int lhsRank = 0, rhsRank = 0, outRank = 0;
  append(lhsOrder, lhsRank, batch, nb);
  append(lhsOrder, lhsRank, rows, nm);
  append(lhsOrder, lhsRank, contracted, nk);
  append(rhsOrder, rhsRank, batch, nb);
  append(rhsOrder, rhsRank, contracted, nk);
  append(rhsOrder, rhsRank, cols, nn);
  append(outOrder, outRank, batch, nb);
  append(outOrder, outRank, rows, nm);
  append(outOrder, outRank, cols, nn);
  ac_tensor a = permutedView(&lhs, lhsSub, lhsOrder, lhsRank);
  ac_tensor b = permutedView(&rhs, rhsSub, rhsOrder, rhsRank);
  ac_tensor c = permutedView(out, outSub, outOrder, outRank);
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
  if (ac_status status =
          parseEquation(equation, num_inputs, subscripts, &outSub))
    return status;

  int64_t labelSize[kNumLabels];
  std::fill(labelSize, labelSize + kNumLabels, int64_t{-1});
  for (int i = 0; i < num_inputs; ++i) {
    const ac_tensor *input = inputs[i];
    if (subscripts[i].rank != input->rank)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\" gives input %d %d labels but it is %s",
                          kKernel, equation, i, subscripts[i].rank,
                          describe(input).text);
    for (int dim = 0; dim < input->rank; ++dim) {
      int label = subscripts[i].labels[dim];
      if (labelSize[label] >= 0 && labelSize[label] != input->sizes[dim])
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "%s: \"%s\": label '%c' is %lld in input %d %s "
                            "but %lld before",
                            kKernel, equation, 'a' + label,
                            static_cast<long long>(input->sizes[dim]), i,
                            describe(input).text,
                            static_cast<long long>(labelSize[label]));
      labelSize[label] = input->sizes[dim];
    }
  }
  if (outSub.rank != out->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: \"%s\" gives the output %d labels but it is %s",
                        kKernel, equation, outSub.rank, describe(out).text);
  for (int dim = 0; dim < out->rank; ++dim) {
    int label = outSub.labels[dim];
    if (labelSize[label] < 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\": output label '%c' is in no input",
                          kKernel, equation, 'a' + label);
    if (labelSize[label] != out->sizes[dim])
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: \"%s\": label '%c' is %lld in the inputs but "
                          "output %s has %lld",
                          kKernel, equation, 'a' + label,
                          static_cast<long long>(labelSize[label]),
                          describe(out).text,
                          static_cast<long long>(out->sizes[dim]));
  }
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;

  if (num_inputs == 2)
    return contractPair(inputs[0], inputs[1], subscripts[0], subscripts[1],
                        outSub, out);

  // One operand: the output's labels first, then the summed ones.
  const Subscript &inSub = subscripts[0];
  int order[AC_MAX_RANK], numSummed = 0;
  for (int dim = 0; dim < outSub.rank; ++dim)
    order[dim] = outSub.labels[dim];
  for (int dim = 0; dim < inSub.rank; ++dim)
    if (!outSub.has(inSub.labels[dim]))
      order[outSub.rank + numSummed++] = inSub.labels[dim];
  ac_tensor view = permutedView(inputs[0], inSub, order, inSub.rank);
  if (numSummed == 0)
    copyStrided(&view, out);
  else
    reduceTrailing(AC_REDUCE_SUM, &view, numSummed, out);
  return AC_OK;
}

} // extern "C"
