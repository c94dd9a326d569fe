//===- Fused.cpp - fused attention softmax, linear + activation, gating ---===//
//
// The CPU kernels behind the lowering's fusions (kernels.h, "Fused
// kernels"). Each is bitwise identical to the unfused sequence of kernels it
// replaces: the same f32 formula per element, in the same order, and a
// rounding to the dtype wherever the unfused sequence stores an intermediate
// (a no-op for f32). Chunked and unchunked executables therefore still agree
// bit for bit whether or not a chain was fused.
//
//===----------------------------------------------------------------------===//

#include "KernelSupport.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace autochunk::runtime;

namespace {

/// `value` stored to the dtype and loaded back: what an unfused kernel's
/// output holds where the fused kernel keeps `value` in a register.
template <typename Element> float roundToDtype(float value) {
  typename Element::Storage stored;
  Element::store(&stored, value);
  return Element::load(&stored);
}

/// The per-row parameters of the fused attention softmax.
struct SoftmaxChain {
  double factor;
  bool causal;
  int64_t rowOffset, colOffset, diagonal;
};

// Row by row: the pre-softmax value of each element exactly as ac_scale
// (product in f64, one rounding), ac_causal_mask (-inf past the diagonal)
// and ac_binary ADD (f32 sum, rounded) store it, then ac_softmax's own loop
// (f32 maximum, f32 exponentials, f64 sum, f64 quotient rounded once).
template <typename Element>
ac_status runScaleMaskSoftmax(const ac_tensor *in, const ac_tensor *bias,
                              ac_tensor *out, const SoftmaxChain &chain) {
  using Storage = typename Element::Storage;
  const int rank = out->rank;
  const int64_t length = out->sizes[rank - 1];
  const int64_t rows = productOfSizes(out->sizes, 0, rank - 1);
  const int64_t queries = rank >= 2 ? out->sizes[rank - 2] : 1;
  const int64_t inStride = in->strides[rank - 1];
  const int64_t outStride = out->strides[rank - 1];
  const int64_t biasStride = bias ? bias->strides[rank - 1] : 0;
  const Storage *inData = typedData<Element>(in);
  const Storage *biasData = bias ? typedData<Element>(bias) : nullptr;
  Storage *outData = typedData<Element>(out);
  const float negativeInfinity = -std::numeric_limits<float>::infinity();
  std::atomic<bool> outOfMemory{false};
  parallelFor(rows, 6 * length, [&](int64_t begin, int64_t end) {
    ScratchBuffer row;
    if (!row.allocate(static_cast<size_t>(length) * sizeof(float))) {
      outOfMemory = true;
      return;
    }
    float *values = row.as<float>();
    for (int64_t index = begin; index < end; ++index) {
      const Storage *src = inData + offsetOfLinear(in, rank - 1, index);
      const Storage *biasRow =
          bias ? biasData + offsetOfLinear(bias, rank - 1, index) : nullptr;
      Storage *dst = outData + offsetOfLinear(out, rank - 1, index);
      // Keys j with j + colOffset <= i + rowOffset + diagonal stay visible.
      int64_t visible = length;
      if (chain.causal)
        visible = std::clamp<int64_t>(index % queries + chain.rowOffset +
                                          chain.diagonal - chain.colOffset + 1,
                                      0, length);
      // The whole row is read before any of it is written, so `out` may be
      // `in`.
      float maximum = negativeInfinity;
      for (int64_t i = 0; i < length; ++i) {
        float value = negativeInfinity;
        if (i < visible)
          value = roundToDtype<Element>(static_cast<float>(
              static_cast<double>(Element::load(src + i * inStride)) *
              chain.factor));
        if (biasRow)
          value = roundToDtype<Element>(
              value + Element::load(biasRow + i * biasStride));
        values[i] = value;
        maximum = std::max(maximum, value);
      }
      // A masked key's exponential is exp(-inf) = +0 whenever the maximum
      // is finite: skipping the call keeps the bits (adding +0 to the sum
      // too) and halves the exponentials of causal attention.
      const bool finiteMaximum = maximum != negativeInfinity;
      double sum = 0.0;
      for (int64_t i = 0; i < length; ++i) {
        values[i] = finiteMaximum && values[i] == negativeInfinity
                        ? 0.0f
                        : std::exp(values[i] - maximum);
        sum += values[i];
      }
      for (int64_t i = 0; i < length; ++i)
        Element::store(dst + i * outStride,
                       static_cast<float>(values[i] / sum));
    }
  });
  if (outOfMemory)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "ac_scale_mask_softmax: cannot allocate a row of %lld "
                        "floats",
                        static_cast<long long>(length));
  return AC_OK;
}

// ac_unary's sigmoid formula (Elementwise.cpp), rounded to the dtype as
// ac_unary stores it, times the value as ac_binary MUL computes it.
template <typename Element>
void runSigmoidGate(const ac_tensor *gate, const ac_tensor *value,
                    ac_tensor *out) {
  using Storage = typename Element::Storage;
  const ac_tensor *const operands[3] = {out, gate, value};
  StridedLoop<3> loop = makeLoop(out->rank, out->sizes, operands);
  Storage *outData = typedData<Element>(out);
  const Storage *gateData = typedData<Element>(gate);
  const Storage *valueData = typedData<Element>(value);
  parallelForEachRun(
      loop, 16,
      [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
        Storage *dst = outData + offsets[0];
        const Storage *g = gateData + offsets[1];
        const Storage *v = valueData + offsets[2];
        for (int64_t i = 0; i < count; ++i) {
          float x = Element::load(g + i * strides[1]);
          float sigmoid = roundToDtype<Element>(1.0f / (1.0f + std::exp(-x)));
          Element::store(dst + i * strides[0],
                         sigmoid * Element::load(v + i * strides[2]));
        }
      });
}

/// Prefixes the current error message with `kernel`, for errors reported by
/// the unfused kernel a fused one delegates to.
ac_status renameError(ac_status status, const char *kernel) {
  char message[512];
  std::snprintf(message, sizeof(message), "%s", ac_last_error());
  return ac_set_error(status, "%s: %s", kernel, message);
}

} // namespace

extern "C" {

ac_status ac_scale_mask_softmax(const ac_tensor *in, const ac_tensor *bias,
                                ac_tensor *out, double factor, int causal,
                                int64_t row_offset, int64_t col_offset,
                                int64_t diagonal) {
  const char *kernel = "ac_scale_mask_softmax";
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (bias)
    if (ac_status status = checkInput(kernel, "bias", bias))
      return status;
  ac_tensor biasView;
  if (ac_status status = checkScaleMaskSoftmaxArguments(kernel, in, bias, out,
                                                        causal, &biasView))
    return status;
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  const SoftmaxChain chain{factor, causal != 0, row_offset, col_offset,
                           diagonal};
  ac_status result = AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    result = runScaleMaskSoftmax<decltype(element)>(
        in, bias ? &biasView : nullptr, out, chain);
  });
  return result;
}

ac_status ac_linear_activation(const ac_tensor *input, const ac_tensor *weight,
                               const ac_tensor *bias, ac_tensor *out,
                               ac_unary_kind activation) {
  const char *kernel = "ac_linear_activation";
  if (ac_status status = checkFusedActivation(kernel, activation))
    return status;
  // The activation runs in place on the product: no second buffer, and the
  // bits of ac_linear followed by ac_unary.
  if (ac_status status = ac_linear(input, weight, bias, out))
    return renameError(status, kernel);
  if (ac_status status = ac_unary(activation, out, out))
    return renameError(status, kernel);
  return AC_OK;
}

ac_status ac_sigmoid_gate(const ac_tensor *gate, const ac_tensor *value,
                          ac_tensor *out) {
  const char *kernel = "ac_sigmoid_gate";
  if (ac_status status = checkInput(kernel, "gate", gate))
    return status;
  if (ac_status status = checkInput(kernel, "value", value))
    return status;
  ac_tensor gateView, valueView;
  if (ac_status status = checkSigmoidGateArguments(kernel, gate, value, out,
                                                   &gateView, &valueView))
    return status;
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  dispatchDtype(out->dtype, [&](auto element) {
    runSigmoidGate<decltype(element)>(&gateView, &valueView, out);
  });
  return AC_OK;
}

} // extern "C"
