//===- TensorChecks.cpp - argument checks shared by CPU and CUDA kernels -===//

#include "TensorChecks.h"

#include <cstdio>
#include <cstring>

namespace autochunk::runtime {

ShapeText describeSizes(const int64_t *sizes, int rank) {
  ShapeText shape;
  size_t used = 0;
  shape.text[used++] = '[';
  for (int dim = 0; dim < rank && used < sizeof(shape.text) - 24; ++dim)
    used += std::snprintf(shape.text + used, sizeof(shape.text) - used,
                          dim == 0 ? "%lld" : "x%lld",
                          static_cast<long long>(sizes[dim]));
  std::snprintf(shape.text + used, sizeof(shape.text) - used, "]");
  return shape;
}

ShapeText describe(const ac_tensor *tensor) {
  ShapeText shape = describeSizes(tensor->sizes, tensor->rank);
  size_t used = std::strlen(shape.text);
  std::snprintf(shape.text + used, sizeof(shape.text) - used, " %s",
                ac_dtype_name(tensor->dtype));
  return shape;
}

static ac_status checkTensor(const char *kernel, const char *name,
                             const ac_tensor *tensor, bool isOutput) {
  if (!tensor)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", kernel,
                        name);
  if (tensor->rank < 0 || tensor->rank > AC_MAX_RANK)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: %s has rank %d, outside [0, %d]", kernel, name,
                        tensor->rank, AC_MAX_RANK);
  if (tensor->dtype != AC_F32 && tensor->dtype != AC_F16 &&
      tensor->dtype != AC_BF16)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: %s has unknown dtype %d", kernel, name,
                        static_cast<int>(tensor->dtype));
  for (int dim = 0; dim < tensor->rank; ++dim) {
    if (tensor->sizes[dim] < 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: %s has negative size %lld in dimension %d",
                          kernel, name,
                          static_cast<long long>(tensor->sizes[dim]), dim);
    if (isOutput && tensor->sizes[dim] > 1 && tensor->strides[dim] == 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: output %s %s has stride 0 in dimension %d, so "
                          "it would write one element several times",
                          kernel, name, describe(tensor).text, dim);
  }
  if (!tensor->data && ac_tensor_num_elements(tensor) > 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: %s %s has no data",
                        kernel, name, describe(tensor).text);
  return AC_OK;
}

ac_status checkInput(const char *kernel, const char *name,
                     const ac_tensor *tensor) {
  return checkTensor(kernel, name, tensor, /*isOutput=*/false);
}

ac_status checkOutput(const char *kernel, const char *name,
                      const ac_tensor *tensor) {
  return checkTensor(kernel, name, tensor, /*isOutput=*/true);
}

ac_status checkSameDtype(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b) {
  if (a->dtype == b->dtype)
    return AC_OK;
  return ac_set_error(
      AC_ERROR_INVALID_ARGUMENT, "%s: %s is %s but %s is %s; dtypes must match",
      kernel, nameA, ac_dtype_name(a->dtype), nameB, ac_dtype_name(b->dtype));
}

bool sameShape(const ac_tensor *a, const ac_tensor *b) {
  if (a->rank != b->rank)
    return false;
  for (int dim = 0; dim < a->rank; ++dim)
    if (a->sizes[dim] != b->sizes[dim])
      return false;
  return true;
}

ac_status checkSameShape(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b) {
  if (sameShape(a, b))
    return AC_OK;
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                      "%s: %s %s and %s %s must have the same shape", kernel,
                      nameA, describe(a).text, nameB, describe(b).text);
}

bool broadcastView(const ac_tensor *tensor, int rank, const int64_t *sizes,
                   ac_tensor *view) {
  if (tensor->rank > rank)
    return false;
  *view = *tensor;
  view->rank = rank;
  int shift = rank - tensor->rank;
  for (int dim = rank - 1; dim >= 0; --dim) {
    int source = dim - shift;
    view->sizes[dim] = sizes[dim];
    if (source < 0 || tensor->sizes[source] == 1) {
      view->strides[dim] = 0;
    } else if (tensor->sizes[source] == sizes[dim]) {
      view->strides[dim] = tensor->strides[source];
    } else {
      return false;
    }
  }
  return true;
}

ac_status checkScaleMaskSoftmaxArguments(const char *kernel,
                                         const ac_tensor *in,
                                         const ac_tensor *bias,
                                         const ac_tensor *out, int causal,
                                         ac_tensor *biasView) {
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  if (bias)
    if (ac_status status = checkSameDtype(kernel, "input", in, "bias", bias))
      return status;
  if (ac_status status = checkSameShape(kernel, "input", in, "output", out))
    return status;
  if (in->rank < (causal ? 2 : 1))
    return ac_set_error(
        AC_ERROR_INVALID_ARGUMENT, "%s: input %s needs rank >= %d (%s)", kernel,
        describe(in).text, causal ? 2 : 1,
        causal ? "queries by keys" : "softmax over the last dimension");
  if (bias && !broadcastView(bias, in->rank, in->sizes, biasView))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: bias %s does not broadcast to input %s", kernel,
                        describe(bias).text, describe(in).text);
  return AC_OK;
}

ac_status checkAttentionArguments(const char *kernel, const ac_tensor *q,
                                  const ac_tensor *k, const ac_tensor *v,
                                  const ac_tensor *bias, const ac_tensor *out,
                                  int64_t rowOffset, int64_t diagonal,
                                  ac_tensor *biasView) {
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  constexpr int64_t kOffsetLimit = int64_t{1} << 60;
  if (rowOffset < -kOffsetLimit || rowOffset > kOffsetLimit ||
      diagonal < -kOffsetLimit || diagonal > kOffsetLimit)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: row_offset %lld or diagonal %lld is beyond "
                        "+-2^60",
                        kernel, static_cast<long long>(rowOffset),
                        static_cast<long long>(diagonal));
  if (ac_status status = checkSameDtype(kernel, "query", q, "key", k))
    return status;
  if (ac_status status = checkSameDtype(kernel, "query", q, "value", v))
    return status;
  if (ac_status status = checkSameDtype(kernel, "query", q, "output", out))
    return status;
  if (bias)
    if (ac_status status = checkSameDtype(kernel, "query", q, "bias", bias))
      return status;
  const int rank = q->rank;
  if (rank < 2 || k->rank != rank || v->rank != rank || out->rank != rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: query %s, key %s, value %s and output %s need "
                        "one rank >= 2",
                        kernel, describe(q).text, describe(k).text,
                        describe(v).text, describe(out).text);
  bool leadingAgree = true;
  for (int dim = 0; dim < rank - 2; ++dim)
    leadingAgree = leadingAgree && k->sizes[dim] == q->sizes[dim] &&
                   v->sizes[dim] == q->sizes[dim] &&
                   out->sizes[dim] == q->sizes[dim];
  const int64_t queries = q->sizes[rank - 2], depth = q->sizes[rank - 1];
  const int64_t keys = k->sizes[rank - 2];
  if (!leadingAgree || k->sizes[rank - 1] != depth ||
      v->sizes[rank - 2] != keys || out->sizes[rank - 2] != queries ||
      out->sizes[rank - 1] != v->sizes[rank - 1])
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: query %s, key %s, value %s and output %s do not "
                        "form [..., M, D], [..., N, D], [..., N, E] -> "
                        "[..., M, E]",
                        kernel, describe(q).text, describe(k).text,
                        describe(v).text, describe(out).text);
  if (bias) {
    int64_t logits[AC_MAX_RANK];
    for (int dim = 0; dim < rank; ++dim)
      logits[dim] = q->sizes[dim];
    logits[rank - 1] = keys;
    if (!broadcastView(bias, rank, logits, biasView))
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: bias %s does not broadcast to the logits %s",
                          kernel, describe(bias).text,
                          describeSizes(logits, rank).text);
  }
  return AC_OK;
}

ac_status checkSigmoidGateArguments(const char *kernel, const ac_tensor *gate,
                                    const ac_tensor *value,
                                    const ac_tensor *out, ac_tensor *gateView,
                                    ac_tensor *valueView) {
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "gate", gate, "value", value))
    return status;
  if (ac_status status = checkSameDtype(kernel, "gate", gate, "output", out))
    return status;
  if (!broadcastView(gate, out->rank, out->sizes, gateView) ||
      !broadcastView(value, out->rank, out->sizes, valueView))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: gate %s and value %s do not both broadcast to "
                        "output %s",
                        kernel, describe(gate).text, describe(value).text,
                        describe(out).text);
  return AC_OK;
}

ac_status checkFusedActivation(const char *kernel, ac_unary_kind activation) {
  if (activation != AC_UNARY_RELU && activation != AC_UNARY_GELU &&
      activation != AC_UNARY_GELU_TANH && activation != AC_UNARY_SILU)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: activation %d is not relu, gelu, gelu_tanh or "
                        "silu",
                        kernel, static_cast<int>(activation));
  return AC_OK;
}

ac_status checkReduceArguments(const char *kernel, const ac_tensor *in,
                               const ac_tensor *out, const int64_t *axes,
                               int num_axes, int keep_dims, ac_tensor *inView,
                               ac_tensor *outView) {
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  if (num_axes < 1 || !axes)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: needs at least one axis", kernel);
  bool isReduced[AC_MAX_RANK] = {false};
  for (int i = 0; i < num_axes; ++i) {
    if (axes[i] < 0 || axes[i] >= in->rank || (i > 0 && axes[i] <= axes[i - 1]))
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: axes must increase strictly within [0, %d) for "
                          "input %s; axis %d is %lld",
                          kernel, in->rank, describe(in).text, i,
                          static_cast<long long>(axes[i]));
    isReduced[axes[i]] = true;
  }
  // The view of `in` with kept dimensions first, and out's kept dimensions.
  *inView = *in;
  *outView = *out;
  int64_t expected[AC_MAX_RANK];
  int expectedRank = 0, kept = 0;
  for (int dim = 0; dim < in->rank; ++dim) {
    if (isReduced[dim]) {
      if (keep_dims)
        expected[expectedRank++] = 1;
      continue;
    }
    expected[expectedRank++] = in->sizes[dim];
    inView->sizes[kept] = in->sizes[dim];
    inView->strides[kept] = in->strides[dim];
    ++kept;
  }
  bool outMatches = out->rank == expectedRank;
  for (int dim = 0; outMatches && dim < expectedRank; ++dim)
    outMatches = out->sizes[dim] == expected[dim];
  if (!outMatches)
    return ac_set_error(
        AC_ERROR_INVALID_ARGUMENT, "%s: output %s must be %s (input %s%s)",
        kernel, describe(out).text, describeSizes(expected, expectedRank).text,
        describe(in).text, keep_dims ? ", reduced axes kept" : "");
  for (int dim = 0, reduced = 0; dim < in->rank; ++dim) {
    if (!isReduced[dim])
      continue;
    inView->sizes[kept + reduced] = in->sizes[dim];
    inView->strides[kept + reduced] = in->strides[dim];
    ++reduced;
  }
  if (keep_dims) {
    int outKept = 0;
    for (int dim = 0; dim < out->rank; ++dim) {
      if (isReduced[dim])
        continue;
      outView->sizes[outKept] = out->sizes[dim];
      outView->strides[outKept] = out->strides[dim];
      ++outKept;
    }
    outView->rank = outKept;
  }
  return AC_OK;
}

} // namespace autochunk::runtime
