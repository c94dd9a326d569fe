//===- Normalization.cu - softmax, layer norm and reductions --------------===//
//
// One thread block per row (per output element for reductions); threads
// stride over the row and combine through warp shuffles and shared memory in
// a fixed order, so results do not depend on launch order. Sums accumulate in
// f64 like the CPU kernels, except the register-row softmax (CudaSupport.h),
// whose per-thread and block sums are f32 in a fixed order.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include <algorithm>
#include <type_traits>

using namespace autochunk::runtime::cuda;

namespace {

// A power of two in [32, 256] that covers `length` if it can.
int rowThreads(int64_t length) {
  int threads = 32;
  while (threads < 256 && threads < length)
    threads *= 2;
  return threads;
}

unsigned rowBlocks(int64_t rows) {
  return static_cast<unsigned>(std::min<int64_t>(rows, 1 << 20));
}

template <typename Element>
__global__ void reduceKernel(StridedIndexer<2> kept, StridedIndexer<1> reduced,
                             int64_t outCount, int64_t reducedCount,
                             ac_reduce_kind kind,
                             typename Element::Storage *out,
                             const typename Element::Storage *in) {
  for (int64_t row = blockIdx.x; row < outCount; row += gridDim.x) {
    int64_t keptOffsets[2];
    kept.offsets(row, keptOffsets);
    const typename Element::Storage *base = in + keptOffsets[1];
    float result;
    if (kind == AC_REDUCE_MAX) {
      float maximum = -INFINITY;
      for (int64_t i = threadIdx.x; i < reducedCount; i += blockDim.x) {
        int64_t offset;
        reduced.offsets(i, &offset);
        maximum = MaxCombine()(maximum, Element::load(base + offset));
      }
      result = blockReduce(maximum, -INFINITY, MaxCombine());
    } else {
      double sum = 0.0;
      for (int64_t i = threadIdx.x; i < reducedCount; i += blockDim.x) {
        int64_t offset;
        reduced.offsets(i, &offset);
        sum += Element::load(base + offset);
      }
      sum = blockReduce(sum, 0.0, SumCombine());
      result = static_cast<float>(kind == AC_REDUCE_MEAN
                                      ? sum / static_cast<double>(reducedCount)
                                      : sum);
    }
    if (threadIdx.x == 0)
      Element::store(out + keptOffsets[0], result);
  }
}

template <typename Element>
__global__ void softmaxKernel(StridedIndexer<2> rowsIndexer, int64_t rows,
                              int64_t length, int64_t inStride,
                              int64_t outStride, typename Element::Storage *out,
                              const typename Element::Storage *in) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t offsets[2];
    rowsIndexer.offsets(row, offsets);
    typename Element::Storage *dst = out + offsets[0];
    const typename Element::Storage *src = in + offsets[1];
    float maximum = -INFINITY;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      maximum = fmaxf(maximum, Element::load(src + i * inStride));
    maximum = blockReduce(maximum, -INFINITY, FMaxCombine());
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      sum += expf(Element::load(src + i * inStride) - maximum);
    sum = blockReduce(sum, 0.0, SumCombine());
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x) {
      float value = expf(Element::load(src + i * inStride) - maximum);
      Element::store(dst + i * outStride, static_cast<float>(value / sum));
    }
  }
}

template <typename Element>
__global__ void layerNormKernel(StridedIndexer<2> rowsIndexer,
                                StridedIndexer<4> normalized, int64_t rows,
                                int64_t count, double eps,
                                typename Element::Storage *out,
                                const typename Element::Storage *in,
                                const typename Element::Storage *weight,
                                const typename Element::Storage *bias) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t rowOffsets[2];
    rowsIndexer.offsets(row, rowOffsets);
    const typename Element::Storage *src = in + rowOffsets[1];
    typename Element::Storage *dst = out + rowOffsets[0];
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      int64_t offsets[4];
      normalized.offsets(i, offsets);
      sum += Element::load(src + offsets[0]);
    }
    const double mean =
        blockReduce(sum, 0.0, SumCombine()) / static_cast<double>(count);
    double squares = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      int64_t offsets[4];
      normalized.offsets(i, offsets);
      double centered = Element::load(src + offsets[0]) - mean;
      squares += centered * centered;
    }
    squares = blockReduce(squares, 0.0, SumCombine());
    const double inverseDeviation =
        1.0 / sqrt(squares / static_cast<double>(count) + eps);
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
      int64_t offsets[4];
      normalized.offsets(i, offsets);
      double x = Element::load(src + offsets[0]);
      double w = weight ? Element::load(weight + offsets[2]) : 1.0;
      double b = bias ? Element::load(bias + offsets[3]) : 0.0;
      Element::store(dst + offsets[1],
                     static_cast<float>((x - mean) * inverseDeviation * w + b));
    }
  }
}

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

ac_status checkAxis(const char *kernel, const ac_tensor *in, int64_t axis) {
  if (axis < 0 || axis >= in->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: axis %lld is outside [0, %d) for input %s", kernel,
                        static_cast<long long>(axis), in->rank,
                        describe(in).text);
  return AC_OK;
}

} // namespace

namespace autochunk::runtime::cuda {

ac_status reduceTrailing(const char *kernel, ac_reduce_kind kind,
                         const ac_tensor *in, int numReduced,
                         const ac_tensor *out) {
  const int keptRank = in->rank - numReduced;
  const int64_t outCount = productOfSizes(in->sizes, 0, keptRank);
  if (outCount == 0)
    return AC_OK;
  const ac_tensor *const keptOperands[2] = {out, in};
  StridedIndexer<2> kept = makeIndexer(keptRank, in->sizes, keptOperands);
  StridedIndexer<1> reduced;
  reduced.rank = numReduced;
  for (int dim = 0; dim < numReduced; ++dim) {
    reduced.sizes[dim] = in->sizes[keptRank + dim];
    reduced.strides[0][dim] = in->strides[keptRank + dim];
  }
  reduced.coalesce();
  const int64_t reducedCount = reduced.numElements();
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    reduceKernel<Element>
        <<<rowBlocks(outCount), rowThreads(reducedCount), 0, stream>>>(
            kept, reduced, outCount, reducedCount, kind,
            typedData<Element>(out), typedData<Element>(in));
  });
  return checkLaunch(kernel);
}

} // namespace autochunk::runtime::cuda

extern "C" {

ac_status ac_softmax(const ac_tensor *in, ac_tensor *out, int64_t axis) {
  KernelTimer timer("ac_softmax", out);
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
  const ac_tensor inView = moveAxisToBack(in, static_cast<int>(axis));
  const ac_tensor outView = moveAxisToBack(out, static_cast<int>(axis));
  const int outerRank = in->rank - 1;
  const ac_tensor *const operands[2] = {&outView, &inView};
  StridedIndexer<2> rowsIndexer =
      makeIndexer(outerRank, inView.sizes, operands);
  const int64_t rows = rowsIndexer.numElements();
  const int64_t length = in->sizes[axis];
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    if (length > kMaxRegisterRow) {
      softmaxKernel<Element>
          <<<rowBlocks(rows), rowThreads(length), 0, stream>>>(
              rowsIndexer, rows, length, in->strides[axis], out->strides[axis],
              typedData<Element>(out), typedData<Element>(in));
      return;
    }
    // The fused attention softmax's register-row kernel with scale 1, no
    // mask and no bias: the same arithmetic as the plain softmax.
    const ac_tensor *const rowOperands[3] = {&outView, &inView, &inView};
    StridedIndexer<3> rowsOf3 =
        makeIndexer(outerRank, inView.sizes, rowOperands);
    SoftmaxChain chain{};
    chain.rows = rows;
    chain.length = length;
    chain.queries = 1;
    chain.inStride = in->strides[axis];
    chain.outStride = out->strides[axis];
    chain.factor = 1.0;
    chain.floatFactor = 1.0f;
    chain.factorIsFloat = true;
    const void *const data[3] = {out->data, in->data, nullptr};
    const int64_t innerStrides[3] = {chain.outStride, chain.inStride, 0};
    const bool vectorized = rowsVectorizable<typename Element::Storage>(
        rowsOf3, data, innerStrides, 2, length);
    launchRowSoftmax<Element>(rowsOf3, chain, vectorized, stream,
                              typedData<Element>(out), typedData<Element>(in),
                              nullptr);
  });
  return checkLaunch(kernel);
}

ac_status ac_layer_norm(const ac_tensor *in, const ac_tensor *weight,
                        const ac_tensor *bias, ac_tensor *out, int64_t axis,
                        double eps) {
  KernelTimer timer("ac_layer_norm", out);
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
  // checkInput may point a parameter at a device copy of host data.
  const ac_tensor **affine[2] = {&weight, &bias};
  const char *names[2] = {"weight", "bias"};
  for (int which = 0; which < 2; ++which) {
    if (!*affine[which])
      continue;
    if (ac_status status = checkInput(kernel, names[which], *affine[which]))
      return status;
    const ac_tensor *parameter = *affine[which];
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
  const int normalizedRank = in->rank - static_cast<int>(axis);
  StridedIndexer<4> normalized; // in, out, weight, bias
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
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> rowsIndexer =
      makeIndexer(static_cast<int>(axis), in->sizes, operands);
  const int64_t rows = rowsIndexer.numElements();
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    layerNormKernel<Element><<<rowBlocks(rows), rowThreads(count), 0, stream>>>(
        rowsIndexer, normalized, rows, count, eps, typedData<Element>(out),
        typedData<Element>(in), weight ? typedData<Element>(weight) : nullptr,
        bias ? typedData<Element>(bias) : nullptr);
  });
  return checkLaunch(kernel);
}

ac_status ac_reduce(ac_reduce_kind kind, const ac_tensor *in, ac_tensor *out,
                    const int64_t *axes, int num_axes, int keep_dims) {
  KernelTimer timer("ac_reduce", out);
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
  return reduceTrailing(kernel, kind, &inView, num_axes, &outView);
}

} // extern "C"
