//===- Elementwise.cu - unary, scale, broadcasting binary, causal mask ----===//

#include "CudaSupport.h"

#include <algorithm>

using namespace autochunk::runtime::cuda;

namespace {

// The CPU kernels' f32 formulas (accurate in the tails).
struct ExpOp {
  __device__ static float apply(float x) { return expf(x); }
};
struct SqrtOp {
  __device__ static float apply(float x) { return sqrtf(x); }
};
struct RsqrtOp {
  __device__ static float apply(float x) { return 1.0f / sqrtf(x); }
};
struct NegOp {
  __device__ static float apply(float x) { return -x; }
};
struct ReluOp {
  // NaN propagates, as in PyTorch.
  __device__ static float apply(float x) { return x < 0.0f ? 0.0f : x; }
};
struct SigmoidOp {
  __device__ static float apply(float x) { return 1.0f / (1.0f + expf(-x)); }
};
struct SiluOp {
  __device__ static float apply(float x) { return x / (1.0f + expf(-x)); }
};
struct TanhOp {
  __device__ static float apply(float x) { return tanhf(x); }
};
struct GeluOp {
  __device__ static float apply(float x) {
    return 0.5f * x * erfcf(-x * 0.70710678118654752f);
  }
};
struct GeluTanhOp {
  __device__ static float apply(float x) {
    float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
    return x / (1.0f + expf(-2.0f * u));
  }
};

template <typename Element, typename Formula> struct UnaryOp {
  typename Element::Storage *out;
  const typename Element::Storage *in;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    Element::store(out + offsets[0],
                   Formula::apply(Element::load(in + offsets[1])));
  }
};

template <typename Element, typename Formula> struct UnaryMap {
  using Storage = typename Element::Storage;
  __device__ Storage operator()(const Storage *values) const {
    Storage result;
    Element::store(&result, Formula::apply(Element::load(values)));
    return result;
  }
};

template <typename Formula>
ac_status runUnary(const char *kernel, const ac_tensor *in, ac_tensor *out) {
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> indexer = makeIndexer(out->rank, out->sizes, operands);
  ac_status result = AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    using Storage = typename Element::Storage;
    if (isContiguousIndexSpace(indexer))
      result = launchContiguousMap(
          kernel, typedData<Element>(out),
          MapInputs<Storage, 1>{{typedData<Element>(in)}},
          indexer.numElements(), UnaryMap<Element, Formula>{});
    else
      result = launchStrided(kernel, indexer,
                             UnaryOp<Element, Formula>{typedData<Element>(out),
                                                       typedData<Element>(in)});
  });
  return result;
}

template <typename Element> struct ScaleOp {
  typename Element::Storage *out;
  const typename Element::Storage *in;
  double factor;
  // The product in f64 is exact before the one rounding to f32.
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    double value = static_cast<double>(Element::load(in + offsets[1]));
    Element::store(out + offsets[0], static_cast<float>(value * factor));
  }
};

template <typename Element> struct ScaleMap {
  using Storage = typename Element::Storage;
  double factor;
  __device__ Storage operator()(const Storage *values) const {
    Storage result;
    Element::store(&result,
                   static_cast<float>(
                       static_cast<double>(Element::load(values)) * factor));
    return result;
  }
};

// The CPU kernel's arithmetic, in f32.
__device__ inline float applyBinary(ac_binary_kind kind, float a, float b) {
  switch (kind) {
  case AC_BINARY_ADD:
    return a + b;
  case AC_BINARY_SUB:
    return a - b;
  case AC_BINARY_MUL:
    return a * b;
  default:
    return a / b;
  }
}

template <typename Element> struct BinaryMap {
  using Storage = typename Element::Storage;
  ac_binary_kind kind;
  __device__ Storage operator()(const Storage *values) const {
    Storage result;
    Element::store(&result, applyBinary(kind, Element::load(values),
                                        Element::load(values + 1)));
    return result;
  }
};

template <typename Element> struct BinaryOp {
  typename Element::Storage *out;
  const typename Element::Storage *lhs;
  const typename Element::Storage *rhs;
  ac_binary_kind kind;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    Element::store(out + offsets[0],
                   applyBinary(kind, Element::load(lhs + offsets[1]),
                               Element::load(rhs + offsets[2])));
  }
};

template <typename Element> struct CausalMaskOp {
  typename Element::Storage *out;
  const typename Element::Storage *in;
  int64_t rows, cols;
  int64_t rowOffset, colOffset, diagonal;
  __device__ void operator()(int64_t linear, const int64_t *offsets) const {
    int64_t j = linear % cols;
    int64_t i = (linear / cols) % rows;
    // Keys j with j + colOffset <= i + rowOffset + diagonal stay visible.
    if (j + colOffset > i + rowOffset + diagonal)
      Element::store(out + offsets[0], -INFINITY);
    else
      Element::store(out + offsets[0], Element::load(in + offsets[1]));
  }
};

ac_status checkUnaryArguments(const char *kernel, const ac_tensor *&in,
                              const ac_tensor *out) {
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  return checkSameShape(kernel, "input", in, "output", out);
}

// The profile's name of a unary kernel.
const char *unaryKernelName(ac_unary_kind kind) {
  switch (kind) {
  case AC_UNARY_EXP:
    return "ac_unary exp";
  case AC_UNARY_SQRT:
    return "ac_unary sqrt";
  case AC_UNARY_RSQRT:
    return "ac_unary rsqrt";
  case AC_UNARY_NEG:
    return "ac_unary neg";
  case AC_UNARY_RELU:
    return "ac_unary relu";
  case AC_UNARY_SIGMOID:
    return "ac_unary sigmoid";
  case AC_UNARY_SILU:
    return "ac_unary silu";
  case AC_UNARY_TANH:
    return "ac_unary tanh";
  case AC_UNARY_GELU:
    return "ac_unary gelu";
  case AC_UNARY_GELU_TANH:
    return "ac_unary gelu_tanh";
  }
  return "ac_unary";
}

} // namespace

extern "C" {

ac_status ac_unary(ac_unary_kind kind, const ac_tensor *in, ac_tensor *out) {
  KernelTimer timer(unaryKernelName(kind), out);
  if (ac_status status = checkUnaryArguments("ac_unary", in, out))
    return status;
  switch (kind) {
  case AC_UNARY_EXP:
    return runUnary<ExpOp>("ac_unary", in, out);
  case AC_UNARY_SQRT:
    return runUnary<SqrtOp>("ac_unary", in, out);
  case AC_UNARY_RSQRT:
    return runUnary<RsqrtOp>("ac_unary", in, out);
  case AC_UNARY_NEG:
    return runUnary<NegOp>("ac_unary", in, out);
  case AC_UNARY_RELU:
    return runUnary<ReluOp>("ac_unary", in, out);
  case AC_UNARY_SIGMOID:
    return runUnary<SigmoidOp>("ac_unary", in, out);
  case AC_UNARY_SILU:
    return runUnary<SiluOp>("ac_unary", in, out);
  case AC_UNARY_TANH:
    return runUnary<TanhOp>("ac_unary", in, out);
  case AC_UNARY_GELU:
    return runUnary<GeluOp>("ac_unary", in, out);
  case AC_UNARY_GELU_TANH:
    return runUnary<GeluTanhOp>("ac_unary", in, out);
  }
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_unary: unknown kind %d",
                      static_cast<int>(kind));
}

ac_status ac_scale(const ac_tensor *in, ac_tensor *out, double factor) {
  KernelTimer timer("ac_scale", out);
  if (ac_status status = checkUnaryArguments("ac_scale", in, out))
    return status;
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> indexer = makeIndexer(out->rank, out->sizes, operands);
  ac_status result = AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    using Storage = typename Element::Storage;
    if (isContiguousIndexSpace(indexer))
      result =
          launchContiguousMap("ac_scale", typedData<Element>(out),
                              MapInputs<Storage, 1>{{typedData<Element>(in)}},
                              indexer.numElements(), ScaleMap<Element>{factor});
    else
      result = launchStrided("ac_scale", indexer,
                             ScaleOp<Element>{typedData<Element>(out),
                                              typedData<Element>(in), factor});
  });
  return result;
}

ac_status ac_binary(ac_binary_kind kind, const ac_tensor *lhs,
                    const ac_tensor *rhs, ac_tensor *out) {
  KernelTimer timer("ac_binary", out);
  const char *kernel = "ac_binary";
  if (kind < AC_BINARY_ADD || kind > AC_BINARY_DIV)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: unknown kind %d",
                        kernel, static_cast<int>(kind));
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

  // The broadcast shape of lhs and rhs must be out's shape.
  int rank = std::max(lhs->rank, rhs->rank);
  int64_t broadcastSizes[AC_MAX_RANK];
  for (int dim = 0; dim < rank; ++dim) {
    int lhsDim = dim - (rank - lhs->rank), rhsDim = dim - (rank - rhs->rank);
    int64_t lhsSize = lhsDim >= 0 ? lhs->sizes[lhsDim] : 1;
    int64_t rhsSize = rhsDim >= 0 ? rhs->sizes[rhsDim] : 1;
    if (lhsSize != rhsSize && lhsSize != 1 && rhsSize != 1)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: lhs %s and rhs %s do not broadcast (dimension "
                          "%d of the result: %lld vs %lld)",
                          kernel, describe(lhs).text, describe(rhs).text, dim,
                          static_cast<long long>(lhsSize),
                          static_cast<long long>(rhsSize));
    broadcastSizes[dim] = lhsSize == 1 ? rhsSize : lhsSize;
  }
  bool outMatches = out->rank == rank;
  for (int dim = 0; outMatches && dim < rank; ++dim)
    outMatches = out->sizes[dim] == broadcastSizes[dim];
  if (!outMatches)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: output is %s but lhs %s and rhs %s broadcast to "
                        "%s",
                        kernel, describe(out).text, describe(lhs).text,
                        describe(rhs).text,
                        describeSizes(broadcastSizes, rank).text);
  ac_tensor lhsView, rhsView;
  broadcastView(lhs, rank, out->sizes, &lhsView);
  broadcastView(rhs, rank, out->sizes, &rhsView);
  const ac_tensor *const operands[3] = {out, &lhsView, &rhsView};
  StridedIndexer<3> indexer = makeIndexer(rank, out->sizes, operands);
  ac_status result = AC_OK;
  dispatchDtype(out->dtype, [&](auto element) {
    using Element = decltype(element);
    using Storage = typename Element::Storage;
    if (isContiguousIndexSpace(indexer))
      result =
          launchContiguousMap(kernel, typedData<Element>(out),
                              MapInputs<Storage, 2>{{typedData<Element>(lhs),
                                                     typedData<Element>(rhs)}},
                              indexer.numElements(), BinaryMap<Element>{kind});
    else
      result = launchStrided(kernel, indexer,
                             BinaryOp<Element>{typedData<Element>(out),
                                               typedData<Element>(lhs),
                                               typedData<Element>(rhs), kind});
  });
  return result;
}

ac_status ac_causal_mask(const ac_tensor *in, ac_tensor *out,
                         int64_t row_offset, int64_t col_offset,
                         int64_t diagonal) {
  KernelTimer timer("ac_causal_mask", out);
  const char *kernel = "ac_causal_mask";
  if (ac_status status = checkUnaryArguments(kernel, in, out))
    return status;
  if (in->rank < 2)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s needs rank >= 2 (queries by keys)",
                        kernel, describe(in).text);
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> indexer = makeIndexer(out->rank, out->sizes, operands);
  int64_t rows = out->sizes[out->rank - 2], cols = out->sizes[out->rank - 1];
  ac_status result = AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    using Element = decltype(element);
    result = launchStrided(
        kernel, indexer,
        CausalMaskOp<Element>{typedData<Element>(out), typedData<Element>(in),
                              rows, cols, row_offset, col_offset, diagonal});
  });
  return result;
}

} // extern "C"
