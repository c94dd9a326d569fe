//===- Elementwise.cpp - unary, scale, broadcasting binary, causal mask ---===//

#include "KernelSupport.h"

#include <cmath>
#include <limits>

using namespace autochunk::runtime;

namespace {

// Unary formulas in f32, written to stay accurate in the tails (no
// cancellation in 1 + erf or 1 + tanh for large negative inputs).
struct ExpOp {
  static float apply(float x) { return std::exp(x); }
};
struct SqrtOp {
  static float apply(float x) { return std::sqrt(x); }
};
struct RsqrtOp {
  static float apply(float x) { return 1.0f / std::sqrt(x); }
};
struct NegOp {
  static float apply(float x) { return -x; }
};
struct ReluOp {
  // NaN propagates, as in PyTorch.
  static float apply(float x) { return x < 0.0f ? 0.0f : x; }
};
struct SigmoidOp {
  static float apply(float x) { return 1.0f / (1.0f + std::exp(-x)); }
};
struct SiluOp {
  static float apply(float x) { return x / (1.0f + std::exp(-x)); }
};
struct TanhOp {
  static float apply(float x) { return std::tanh(x); }
};
struct GeluOp {
  // x * Phi(x) = 0.5 x erfc(-x / sqrt(2)).
  static float apply(float x) {
    return 0.5f * x * std::erfc(-x * 0.70710678118654752f);
  }
};
struct GeluTanhOp {
  // 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)).
  static float apply(float x) {
    float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
    return x / (1.0f + std::exp(-2.0f * u));
  }
};

template <typename Element, typename Op>
void runUnary(const ac_tensor *in, ac_tensor *out, int64_t workPerElement) {
  using Storage = typename Element::Storage;
  const ac_tensor *const operands[2] = {out, in};
  StridedLoop<2> loop = makeLoop(out->rank, out->sizes, operands);
  Storage *outData = typedData<Element>(out);
  const Storage *inData = typedData<Element>(in);
  parallelForEachRun(
      loop, workPerElement,
      [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
        Storage *dst = outData + offsets[0];
        const Storage *src = inData + offsets[1];
        if (strides[0] == 1 && strides[1] == 1) {
          for (int64_t i = 0; i < count; ++i)
            Element::store(dst + i, Op::apply(Element::load(src + i)));
        } else {
          for (int64_t i = 0; i < count; ++i)
            Element::store(dst + i * strides[0],
                           Op::apply(Element::load(src + i * strides[1])));
        }
      });
}

template <typename Op>
void dispatchUnary(const ac_tensor *in, ac_tensor *out,
                   int64_t workPerElement) {
  dispatchDtype(in->dtype, [&](auto element) {
    runUnary<decltype(element), Op>(in, out, workPerElement);
  });
}

ac_status checkUnaryArguments(const char *kernel, const ac_tensor *in,
                              const ac_tensor *out) {
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (ac_status status = checkSameDtype(kernel, "input", in, "output", out))
    return status;
  return checkSameShape(kernel, "input", in, "output", out);
}

template <typename Element, typename Op>
void runBinary(const ac_tensor *lhs, const ac_tensor *rhs, ac_tensor *out) {
  using Storage = typename Element::Storage;
  const ac_tensor *const operands[3] = {out, lhs, rhs};
  StridedLoop<3> loop = makeLoop(out->rank, out->sizes, operands);
  Storage *outData = typedData<Element>(out);
  const Storage *lhsData = typedData<Element>(lhs);
  const Storage *rhsData = typedData<Element>(rhs);
  parallelForEachRun(
      loop, 1,
      [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
        Storage *dst = outData + offsets[0];
        const Storage *a = lhsData + offsets[1];
        const Storage *b = rhsData + offsets[2];
        if (strides[0] == 1 && strides[1] == 1 && strides[2] == 1) {
          for (int64_t i = 0; i < count; ++i)
            Element::store(
                dst + i, Op::apply(Element::load(a + i), Element::load(b + i)));
        } else if (strides[0] == 1 && strides[1] == 1 && strides[2] == 0) {
          float scalar = Element::load(b);
          for (int64_t i = 0; i < count; ++i)
            Element::store(dst + i, Op::apply(Element::load(a + i), scalar));
        } else if (strides[0] == 1 && strides[1] == 0 && strides[2] == 1) {
          float scalar = Element::load(a);
          for (int64_t i = 0; i < count; ++i)
            Element::store(dst + i, Op::apply(scalar, Element::load(b + i)));
        } else {
          for (int64_t i = 0; i < count; ++i)
            Element::store(dst + i * strides[0],
                           Op::apply(Element::load(a + i * strides[1]),
                                     Element::load(b + i * strides[2])));
        }
      });
}

struct AddOp {
  static float apply(float a, float b) { return a + b; }
};
struct SubOp {
  static float apply(float a, float b) { return a - b; }
};
struct MulOp {
  static float apply(float a, float b) { return a * b; }
};
struct DivOp {
  static float apply(float a, float b) { return a / b; }
};

template <typename Op>
void dispatchBinary(const ac_tensor *lhs, const ac_tensor *rhs,
                    ac_tensor *out) {
  dispatchDtype(out->dtype, [&](auto element) {
    runBinary<decltype(element), Op>(lhs, rhs, out);
  });
}

template <typename Element>
void runScale(const ac_tensor *in, ac_tensor *out, double factor) {
  using Storage = typename Element::Storage;
  const ac_tensor *const operands[2] = {out, in};
  StridedLoop<2> loop = makeLoop(out->rank, out->sizes, operands);
  Storage *outData = typedData<Element>(out);
  const Storage *inData = typedData<Element>(in);
  // The product in f64 is exact before the one rounding to f32.
  parallelForEachRun(
      loop, 1,
      [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
        Storage *dst = outData + offsets[0];
        const Storage *src = inData + offsets[1];
        for (int64_t i = 0; i < count; ++i)
          Element::store(dst + i * strides[0],
                         static_cast<float>(static_cast<double>(Element::load(
                                                src + i * strides[1])) *
                                            factor));
      });
}

template <typename Element>
void runCausalMask(const ac_tensor *in, ac_tensor *out, int64_t rowOffset,
                   int64_t colOffset, int64_t diagonal) {
  using Storage = typename Element::Storage;
  const int rank = out->rank;
  const int64_t rows = out->sizes[rank - 2];
  const int64_t cols = out->sizes[rank - 1];
  const int64_t outColStride = out->strides[rank - 1];
  const int64_t inColStride = in->strides[rank - 1];
  const int64_t totalRows = productOfSizes(out->sizes, 0, rank - 1);
  Storage *outData = typedData<Element>(out);
  const Storage *inData = typedData<Element>(in);
  const float negativeInfinity = -std::numeric_limits<float>::infinity();
  parallelFor(totalRows, cols, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      Storage *dst = outData + offsetOfLinear(out, rank - 1, row);
      const Storage *src = inData + offsetOfLinear(in, rank - 1, row);
      // Keys j with j + colOffset <= i + rowOffset + diagonal stay visible.
      int64_t lastVisible = row % rows + rowOffset + diagonal - colOffset;
      int64_t visible = std::clamp<int64_t>(lastVisible + 1, 0, cols);
      for (int64_t j = 0; j < visible; ++j)
        Element::store(dst + j * outColStride,
                       Element::load(src + j * inColStride));
      for (int64_t j = visible; j < cols; ++j)
        Element::store(dst + j * outColStride, negativeInfinity);
    }
  });
}

} // namespace

extern "C" {

ac_status ac_unary(ac_unary_kind kind, const ac_tensor *in, ac_tensor *out) {
  if (ac_status status = checkUnaryArguments("ac_unary", in, out))
    return status;
  constexpr int64_t cheap = 1, transcendental = 16;
  switch (kind) {
  case AC_UNARY_EXP:
    dispatchUnary<ExpOp>(in, out, transcendental);
    return AC_OK;
  case AC_UNARY_SQRT:
    dispatchUnary<SqrtOp>(in, out, cheap);
    return AC_OK;
  case AC_UNARY_RSQRT:
    dispatchUnary<RsqrtOp>(in, out, cheap);
    return AC_OK;
  case AC_UNARY_NEG:
    dispatchUnary<NegOp>(in, out, cheap);
    return AC_OK;
  case AC_UNARY_RELU:
    dispatchUnary<ReluOp>(in, out, cheap);
    return AC_OK;
  case AC_UNARY_SIGMOID:
    dispatchUnary<SigmoidOp>(in, out, transcendental);
    return AC_OK;
  case AC_UNARY_SILU:
    dispatchUnary<SiluOp>(in, out, transcendental);
    return AC_OK;
  case AC_UNARY_TANH:
    dispatchUnary<TanhOp>(in, out, transcendental);
    return AC_OK;
  case AC_UNARY_GELU:
    dispatchUnary<GeluOp>(in, out, transcendental);
    return AC_OK;
  case AC_UNARY_GELU_TANH:
    dispatchUnary<GeluTanhOp>(in, out, transcendental);
    return AC_OK;
  }
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_unary: unknown kind %d",
                      static_cast<int>(kind));
}

ac_status ac_scale(const ac_tensor *in, ac_tensor *out, double factor) {
  if (ac_status status = checkUnaryArguments("ac_scale", in, out))
    return status;
  dispatchDtype(in->dtype, [&](auto element) {
    runScale<decltype(element)>(in, out, factor);
  });
  return AC_OK;
}

ac_status ac_binary(ac_binary_kind kind, const ac_tensor *lhs,
                    const ac_tensor *rhs, ac_tensor *out) {
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
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  switch (kind) {
  case AC_BINARY_ADD:
    dispatchBinary<AddOp>(&lhsView, &rhsView, out);
    break;
  case AC_BINARY_SUB:
    dispatchBinary<SubOp>(&lhsView, &rhsView, out);
    break;
  case AC_BINARY_MUL:
    dispatchBinary<MulOp>(&lhsView, &rhsView, out);
    break;
  case AC_BINARY_DIV:
    dispatchBinary<DivOp>(&lhsView, &rhsView, out);
    break;
  }
  return AC_OK;
}

ac_status ac_causal_mask(const ac_tensor *in, ac_tensor *out,
                         int64_t row_offset, int64_t col_offset,
                         int64_t diagonal) {
  const char *kernel = "ac_causal_mask";
  if (ac_status status = checkUnaryArguments(kernel, in, out))
    return status;
  if (in->rank < 2)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s needs rank >= 2 (queries by keys)",
                        kernel, describe(in).text);
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  dispatchDtype(in->dtype, [&](auto element) {
    runCausalMask<decltype(element)>(in, out, row_offset, col_offset, diagonal);
  });
  return AC_OK;
}

} // extern "C"
