//===- Fused.cu - fused attention softmax, linear + activation, gating ----===//
//
// The CUDA kernels behind the lowering's fusions (kernels.h, "Fused
// kernels"), with the CPU kernels' formulas and their roundings to the dtype
// between steps (results are close to the CPU's, not bitwise: the row sums
// combine in another order). The attention softmax keeps a row of up to
// kMaxRegisterRow elements in registers (rowSoftmaxKernel, CudaSupport.h):
// it reads x (and the bias) once and writes once, in a fixed order that
// depends only on the row length.
// Longer rows read twice and write once: one pass computes the maximum and
// the sum of exponentials together (online softmax), the second writes; no
// full-size temporary. Linear + activation is the linear kernel (its bias
// the GEMM's epilogue) and one in-place activation pass: cuBLASLt's GELU
// epilogue is not documented to compute our tanh GELU (nor erf GELU), so
// it is not used.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include <algorithm>
#include <cstdio>

using namespace autochunk::runtime::cuda;

namespace {

/// A running softmax normalizer: the maximum seen and the sum of
/// exp(x - maximum) over the elements seen. An empty or fully masked part
/// has maximum -inf and sum 0.
struct OnlineSum {
  float maximum;
  float sum;
};

__device__ OnlineSum combine(OnlineSum a, OnlineSum b) {
  if (a.maximum == -INFINITY)
    return b;
  if (b.maximum == -INFINITY)
    return a;
  // NaN propagates through fmaxf's other argument only; keep it.
  if (isnan(a.maximum) || isnan(b.maximum))
    return {NAN, NAN};
  float maximum = fmaxf(a.maximum, b.maximum);
  return {maximum, a.sum * expf(a.maximum - maximum) +
                       b.sum * expf(b.maximum - maximum)};
}

/// Combines every thread's OnlineSum over the block (blockDim.x a multiple
/// of 32, at most 1024); every thread gets the result.
__device__ OnlineSum blockCombine(OnlineSum value) {
  __shared__ OnlineSum partial[32];
  for (int offset = 16; offset > 0; offset >>= 1) {
    OnlineSum other{__shfl_down_sync(0xffffffffu, value.maximum, offset),
                    __shfl_down_sync(0xffffffffu, value.sum, offset)};
    value = combine(value, other);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads(); // the previous row's readers are done with `partial`
  if (lane == 0)
    partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    const int numWarps = blockDim.x >> 5;
    value = lane < numWarps ? partial[lane] : OnlineSum{-INFINITY, 0.0f};
    for (int offset = 16; offset > 0; offset >>= 1) {
      OnlineSum other{__shfl_down_sync(0xffffffffu, value.maximum, offset),
                      __shfl_down_sync(0xffffffffu, value.sum, offset)};
      value = combine(value, other);
    }
    if (lane == 0)
      partial[0] = value;
  }
  __syncthreads();
  return partial[0];
}

/// The pre-softmax value of key j: x scaled (through f64, as on the CPU)
/// and rounded to the dtype, -inf when masked, plus the bias rounded.
template <typename Element>
__device__ float attentionLogit(const SoftmaxChain &chain,
                                const typename Element::Storage *src,
                                const typename Element::Storage *biasRow,
                                int64_t visible, int64_t j) {
  float value = -INFINITY;
  if (j < visible)
    value = roundToDtype<Element>(static_cast<float>(
        static_cast<double>(Element::load(src + j * chain.inStride)) *
        chain.factor));
  if (biasRow)
    value = roundToDtype<Element>(
        value + Element::load(biasRow + j * chain.biasStride));
  return value;
}

/// Rows longer than kMaxRegisterRow: one block per row (grid-stride over
/// rows). The pre-softmax value of key
/// j is recomputed in the writing pass instead of being kept: reading x
/// again costs less than a full-size temporary.
template <typename Element>
__global__ void scaleMaskSoftmaxKernel(StridedIndexer<3> rowsIndexer,
                                       SoftmaxChain chain,
                                       typename Element::Storage *out,
                                       const typename Element::Storage *in,
                                       const typename Element::Storage *bias) {
  using Storage = typename Element::Storage;
  for (int64_t row = blockIdx.x; row < chain.rows; row += gridDim.x) {
    int64_t offsets[3];
    rowsIndexer.offsets(row, offsets);
    Storage *dst = out + offsets[0];
    const Storage *src = in + offsets[1];
    const Storage *biasRow = bias ? bias + offsets[2] : nullptr;
    const int64_t visible = visibleKeys(chain, row);
    auto logit = [&](int64_t j) {
      return attentionLogit<Element>(chain, src, biasRow, visible, j);
    };
    OnlineSum local{-INFINITY, 0.0f};
    for (int64_t j = threadIdx.x; j < chain.length; j += blockDim.x) {
      float value = logit(j);
      local =
          combine(local, OnlineSum{value, value == -INFINITY ? 0.0f : 1.0f});
    }
    const OnlineSum total = blockCombine(local);
    // Every thread has read its keys before any writes them (the block
    // combine synchronizes), so `out` may be `in`.
    for (int64_t j = threadIdx.x; j < chain.length; j += blockDim.x)
      Element::store(dst + j * chain.outStride,
                     expf(logit(j) - total.maximum) / total.sum);
  }
}

/// out = sigmoid(gate), rounded to the dtype, times value.
template <typename Element> struct SigmoidGateOp {
  typename Element::Storage *out;
  const typename Element::Storage *gate;
  const typename Element::Storage *value;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    float x = Element::load(gate + offsets[1]);
    float sigmoid = roundToDtype<Element>(1.0f / (1.0f + expf(-x)));
    Element::store(out + offsets[0],
                   sigmoid * Element::load(value + offsets[2]));
  }
};

/// A power of two in [32, 512] that covers `length` if it can.
int rowThreads(int64_t length) {
  int threads = 32;
  while (threads < 512 && threads < length)
    threads *= 2;
  return threads;
}

/// Prefixes the current error message with `kernel`, for errors reported by
/// the unfused kernel a fused one delegates to.
ac_status renameError(ac_status status, const char *kernel) {
  char message[512];
  snprintf(message, sizeof(message), "%s", ac_last_error());
  return ac_set_error(status, "%s: %s", kernel, message);
}

} // namespace

extern "C" {

ac_status ac_scale_mask_softmax(const ac_tensor *in, const ac_tensor *bias,
                                ac_tensor *out, double factor, int causal,
                                int64_t row_offset, int64_t col_offset,
                                int64_t diagonal) {
  KernelTimer timer("ac_scale_mask_softmax", out);
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
  const int rank = out->rank;
  // A missing bias gets the input's strides so the indexer stays uniform;
  // the kernel never reads it.
  const ac_tensor *rowOperands[3] = {out, in, bias ? &biasView : in};
  StridedIndexer<3> rowsIndexer =
      makeIndexer(rank - 1, out->sizes, rowOperands);
  SoftmaxChain chain;
  chain.rows = productOfSizes(out->sizes, 0, rank - 1);
  chain.length = out->sizes[rank - 1];
  chain.queries = rank >= 2 ? out->sizes[rank - 2] : 1;
  chain.inStride = in->strides[rank - 1];
  chain.outStride = out->strides[rank - 1];
  chain.biasStride = bias ? biasView.strides[rank - 1] : 0;
  chain.factor = factor;
  chain.floatFactor = static_cast<float>(factor);
  chain.factorIsFloat = static_cast<double>(chain.floatFactor) == factor;
  chain.causal = causal != 0;
  chain.rowOffset = row_offset;
  chain.colOffset = col_offset;
  chain.diagonal = diagonal;
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  const unsigned blocks =
      static_cast<unsigned>(std::min<int64_t>(chain.rows, 1 << 20));
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    auto *outData = typedData<Element>(out);
    const auto *inData = typedData<Element>(in);
    const auto *biasData = bias ? typedData<Element>(&biasView) : nullptr;
    if (chain.length > kMaxRegisterRow) {
      scaleMaskSoftmaxKernel<Element>
          <<<blocks, rowThreads(chain.length), 0, stream>>>(
              rowsIndexer, chain, outData, inData, biasData);
      return;
    }
    const void *const data[3] = {out->data, in->data,
                                 bias ? biasView.data : nullptr};
    const int64_t innerStrides[3] = {chain.outStride, chain.inStride,
                                     chain.biasStride};
    const bool vectorized = rowsVectorizable<typename Element::Storage>(
        rowsIndexer, data, innerStrides, bias ? 3 : 2, chain.length);
    launchRowSoftmax<Element>(rowsIndexer, chain, vectorized, stream, outData,
                              inData, biasData);
  });
  return checkLaunch(kernel);
}

ac_status ac_linear_activation(const ac_tensor *input, const ac_tensor *weight,
                               const ac_tensor *bias, ac_tensor *out,
                               ac_unary_kind activation) {
  KernelTimer timer("ac_linear_activation", out);
  const char *kernel = "ac_linear_activation";
  if (ac_status status = checkFusedActivation(kernel, activation))
    return status;
  // Everything the GEMM does not check itself is checked before it writes.
  if (ac_status status = checkInput(kernel, "input", input))
    return status;
  if (ac_status status = checkInput(kernel, "weight", weight))
    return status;
  if (bias) {
    if (ac_status status = checkInput(kernel, "bias", bias))
      return status;
    if (ac_status status = checkSameDtype(kernel, "input", input, "bias", bias))
      return status;
    if (bias->rank != 1 || weight->rank != 2 ||
        bias->sizes[0] != weight->sizes[0])
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: bias %s must be [out_features] of weight %s",
                          kernel, describe(bias).text, describe(weight).text);
  }
  // The linear kernel (its bias the GEMM's epilogue where cuBLASLt takes
  // it, so the sum is rounded once), then the activation in place: the
  // CPU kernel's two steps.
  if (ac_status status = ac_linear(input, weight, bias, out))
    return renameError(status, kernel);
  if (ac_status status = ac_unary(activation, out, out))
    return renameError(status, kernel);
  return AC_OK;
}

ac_status ac_sigmoid_gate(const ac_tensor *gate, const ac_tensor *value,
                          ac_tensor *out) {
  KernelTimer timer("ac_sigmoid_gate", out);
  const char *kernel = "ac_sigmoid_gate";
  if (ac_status status = checkInput(kernel, "gate", gate))
    return status;
  if (ac_status status = checkInput(kernel, "value", value))
    return status;
  ac_tensor gateView, valueView;
  if (ac_status status = checkSigmoidGateArguments(kernel, gate, value, out,
                                                   &gateView, &valueView))
    return status;
  const ac_tensor *operands[3] = {out, &gateView, &valueView};
  StridedIndexer<3> indexer = makeIndexer(out->rank, out->sizes, operands);
  ac_status result = AC_OK;
  dispatchDtype(out->dtype, [&](auto element) {
    using Element = decltype(element);
    result =
        launchStrided(kernel, indexer,
                      SigmoidGateOp<Element>{typedData<Element>(out),
                                             typedData<Element>(&gateView),
                                             typedData<Element>(&valueView)});
  });
  return result;
}

} // extern "C"
