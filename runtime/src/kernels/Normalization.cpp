//===- Normalization.cpp - softmax, layer norm and reductions -------------===//

#include "Reduction.h"

#include <atomic>
#include <cmath>
#include <limits>

using namespace autochunk::runtime;

namespace {

// A view of `tensor` with dimension `axis` moved to the back.
ac_tensor moveAxisToBack(const ac_tensor *tensor, int axis) {
  ac_tensor view = *tensor;
  int target = 0;
  for (int dim = 0; dim < tensor->rank; ++dim) {
    if (dim == axis)
      continue;
    view.sizes[target] = tensor->sizes[dim];
    view.strides[target] = tensor->strides[dim];
    ++target;
  }
  view.sizes[target] = tensor->sizes[axis];
  view.strides[target] = tensor->strides[axis];
  return view;
}

template <typename Element>
void reduceTrailingTyped(ac_reduce_kind kind, const ac_tensor *in,
                         int numReduced, const ac_tensor *out) {
  using Storage = typename Element::Storage;
  const int keptRank = in->rank - numReduced;
  StridedLoop<1> reduced;
  reduced.rank = numReduced;
  for (int dim = 0; dim < numReduced; ++dim) {
    reduced.sizes[dim] = in->sizes[keptRank + dim];
    reduced.strides[0][dim] = in->strides[keptRank + dim];
  }
  if (reduced.rank == 0) {
    reduced.rank = 1;
    reduced.sizes[0] = 1;
    reduced.strides[0][0] = 1;
  }
  reduced.coalesce();
  const int64_t reducedCount = reduced.numElements();
  const int64_t outCount = productOfSizes(in->sizes, 0, keptRank);
  const Storage *inData = typedData<Element>(in);
  Storage *outData = typedData<Element>(out);
  parallelFor(outCount, reducedCount, [&](int64_t begin, int64_t end) {
    for (int64_t index = begin; index < end; ++index) {
      const Storage *base = inData + offsetOfLinear(in, keptRank, index);
      double accumulator = 0.0;
      float maximum = -std::numeric_limits<float>::infinity();
      if (reducedCount > 0)
        forEachRun(
            reduced, 0, reducedCount,
            [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
              const Storage *run = base + offsets[0];
              if (kind == AC_REDUCE_MAX) {
                for (int64_t i = 0; i < count; ++i) {
                  float value = Element::load(run + i * strides[0]);
                  // NaN propagates, as in numpy and PyTorch.
                  if (value > maximum || std::isnan(value))
                    maximum = std::isnan(maximum) ? maximum : value;
                }
              } else {
                for (int64_t i = 0; i < count; ++i)
                  accumulator += Element::load(run + i * strides[0]);
              }
            });
      float result;
      if (kind == AC_REDUCE_MAX)
        result = maximum;
      else if (kind == AC_REDUCE_MEAN)
        result =
            static_cast<float>(accumulator / static_cast<double>(reducedCount));
      else
        result = static_cast<float>(accumulator);
      Element::store(outData + offsetOfLinear(out, keptRank, index), result);
    }
  });
}

template <typename Element>
ac_status runSoftmax(const ac_tensor *in, ac_tensor *out, int axis) {
  using Storage = typename Element::Storage;
  const ac_tensor inView = moveAxisToBack(in, axis);
  const ac_tensor outView = moveAxisToBack(out, axis);
  const int outerRank = in->rank - 1;
  const int64_t length = in->sizes[axis];
  const int64_t inStride = in->strides[axis], outStride = out->strides[axis];
  const int64_t rows = productOfSizes(inView.sizes, 0, outerRank);
  const Storage *inData = typedData<Element>(in);
  Storage *outData = typedData<Element>(out);
  std::atomic<bool> outOfMemory{false};
  parallelFor(rows, 4 * length, [&](int64_t begin, int64_t end) {
    ScratchBuffer exponentials;
    if (!exponentials.allocate(static_cast<size_t>(length) * sizeof(float))) {
      outOfMemory = true;
      return;
    }
    float *values = exponentials.as<float>();
    for (int64_t row = begin; row < end; ++row) {
      const Storage *src = inData + offsetOfLinear(&inView, outerRank, row);
      Storage *dst = outData + offsetOfLinear(&outView, outerRank, row);
      float maximum = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < length; ++i) {
        values[i] = Element::load(src + i * inStride);
        maximum = std::max(maximum, values[i]);
      }
      double sum = 0.0;
      for (int64_t i = 0; i < length; ++i) {
        values[i] = std::exp(values[i] - maximum);
        sum += values[i];
      }
      for (int64_t i = 0; i < length; ++i)
        Element::store(dst + i * outStride,
                       static_cast<float>(values[i] / sum));
    }
  });
  if (outOfMemory)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "ac_softmax: cannot allocate a row of %lld floats",
                        static_cast<long long>(length));
  return AC_OK;
}

template <typename Element>
void runLayerNorm(const ac_tensor *in, const ac_tensor *weight,
                  const ac_tensor *bias, ac_tensor *out, int axis, double eps) {
  using Storage = typename Element::Storage;
  const int normalizedRank = in->rank - axis;
  // A missing weight is a broadcast 1, a missing bias a broadcast 0.
  Storage one, zero;
  Element::store(&one, 1.0f);
  Element::store(&zero, 0.0f);
  const Storage *weightData = weight ? typedData<Element>(weight) : &one;
  const Storage *biasData = bias ? typedData<Element>(bias) : &zero;
  StridedLoop<4> normalized; // in, out, weight, bias
  normalized.rank = normalizedRank;
  for (int dim = 0; dim < normalizedRank; ++dim) {
    normalized.sizes[dim] = in->sizes[axis + dim];
    normalized.strides[0][dim] = in->strides[axis + dim];
    normalized.strides[1][dim] = out->strides[axis + dim];
    normalized.strides[2][dim] = weight ? weight->strides[dim] : 0;
    normalized.strides[3][dim] = bias ? bias->strides[dim] : 0;
  }
  normalized.coalesce();
  const int64_t count = normalized.numElements();
  const int64_t rows = productOfSizes(in->sizes, 0, axis);
  const Storage *inData = typedData<Element>(in);
  Storage *outData = typedData<Element>(out);
  parallelFor(rows, 3 * count, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const Storage *src = inData + offsetOfLinear(in, axis, row);
      Storage *dst = outData + offsetOfLinear(out, axis, row);
      double sum = 0.0;
      forEachRun(normalized, 0, count,
                 [&](const int64_t *offsets, int64_t runCount,
                     const int64_t *strides) {
                   for (int64_t i = 0; i < runCount; ++i)
                     sum += Element::load(src + offsets[0] + i * strides[0]);
                 });
      const double mean = sum / static_cast<double>(count);
      double squares = 0.0;
      forEachRun(normalized, 0, count,
                 [&](const int64_t *offsets, int64_t runCount,
                     const int64_t *strides) {
                   for (int64_t i = 0; i < runCount; ++i) {
                     double centered =
                         Element::load(src + offsets[0] + i * strides[0]) -
                         mean;
                     squares += centered * centered;
                   }
                 });
      const double inverseDeviation =
          1.0 / std::sqrt(squares / static_cast<double>(count) + eps);
      forEachRun(
          normalized, 0, count,
          [&](const int64_t *offsets, int64_t runCount,
              const int64_t *strides) {
            for (int64_t i = 0; i < runCount; ++i) {
              double x = Element::load(src + offsets[0] + i * strides[0]);
              double w =
                  Element::load(weightData + offsets[2] + i * strides[2]);
              double b = Element::load(biasData + offsets[3] + i * strides[3]);
              Element::store(
                  dst + offsets[1] + i * strides[1],
                  static_cast<float>((x - mean) * inverseDeviation * w + b));
            }
          });
    }
  });
}

ac_status checkAxis(const char *kernel, const ac_tensor *in, int64_t axis) {
  if (axis < 0 || axis >= in->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: axis %lld is outside [0, %d) for input %s", kernel,
                        static_cast<long long>(axis), in->rank,
                        describe(in).text);
  return AC_OK;
}

} // namespace

namespace autochunk::runtime {

void reduceTrailing(ac_reduce_kind kind, const ac_tensor *in, int numReduced,
                    const ac_tensor *out) {
  if (productOfSizes(in->sizes, 0, in->rank - numReduced) == 0)
    return;
  dispatchDtype(in->dtype, [&](auto element) {
    reduceTrailingTyped<decltype(element)>(kind, in, numReduced, out);
  });
}

} // namespace autochunk::runtime

extern "C" {

ac_status ac_softmax(const ac_tensor *in, ac_tensor *out, int64_t axis) {
  const char *kernel = "ac_softmax";
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  if (ac_status status = checkSameShape(kernel, "input", in, "output", out))
    return status;
  if (ac_status status = checkAxis(kernel, in, axis))
    return status;
  if (ac_tensor_num_elements(in) == 0)
    return AC_OK;
  ac_status result = AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    result = runSoftmax<decltype(element)>(in, out, static_cast<int>(axis));
  });
  return result;
}

ac_status ac_layer_norm(const ac_tensor *in, const ac_tensor *weight,
                        const ac_tensor *bias, ac_tensor *out, int64_t axis,
                        double eps) {
  const char *kernel = "ac_layer_norm";
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  if (ac_status status = checkSameShape(kernel, "input", in, "output", out))
    return status;
  if (ac_status status = checkAxis(kernel, in, axis))
    return status;
  if (!(eps >= 0.0))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: epsilon %g must be non-negative", kernel, eps);
  const ac_tensor *affine[2] = {weight, bias};
  const char *names[2] = {"weight", "bias"};
  for (int which = 0; which < 2; ++which) {
    const ac_tensor *parameter = affine[which];
    if (!parameter)
      continue;
    if (ac_status status = checkInput(kernel, names[which], parameter))
      return status;
    if (ac_status status =
            checkSameDtype(kernel, "input", in, names[which], parameter))
      return status;
    bool matches = parameter->rank == in->rank - axis;
    for (int dim = 0; matches && dim < parameter->rank; ++dim)
      matches = parameter->sizes[dim] == in->sizes[axis + dim];
    if (!matches)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: %s %s must have the shape of input %s from "
                          "axis %lld on",
                          kernel, names[which], describe(parameter).text,
                          describe(in).text, static_cast<long long>(axis));
  }
  if (ac_tensor_num_elements(in) == 0)
    return AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    runLayerNorm<decltype(element)>(in, weight, bias, out,
                                    static_cast<int>(axis), eps);
  });
  return AC_OK;
}

ac_status ac_reduce(ac_reduce_kind kind, const ac_tensor *in, ac_tensor *out,
                    const int64_t *axes, int num_axes, int keep_dims) {
  const char *kernel = "ac_reduce";
  if (kind < AC_REDUCE_SUM || kind > AC_REDUCE_MAX)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: unknown kind %d",
                        kernel, static_cast<int>(kind));
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  ac_tensor inView, outView;
  if (ac_status status = checkReduceArguments(kernel, in, out, axes, num_axes,
                                              keep_dims, &inView, &outView))
    return status;
  reduceTrailing(kind, &inView, num_axes, &outView);
  return AC_OK;
}

} // extern "C"
