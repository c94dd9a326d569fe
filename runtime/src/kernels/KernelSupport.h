//===- KernelSupport.h - shared machinery of the runtime's CPU kernels ----===//
//
// Element types as C++ types, argument validation with readable messages,
// static thread partitioning and strided iteration over coalesced views.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_KERNELS_KERNELSUPPORT_H
#define AUTOCHUNK_RUNTIME_KERNELS_KERNELSUPPORT_H

#include "autochunk/runtime/kernels.h"

#include "TensorChecks.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace autochunk::runtime {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

inline float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in f32.
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return bitsToFloat(floatBits(magnitude) | sign);
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest even, overflow to infinity, NaN stays NaN.
inline uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint32_t half;
  if (bits >= (127u + 16u) << 23) {
    half = bits > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (bits < 113u << 23) {
    // Subnormal or zero: adding a magic number lets the FPU round (RNE).
    const uint32_t magicBits = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    float rounded = bitsToFloat(bits) + bitsToFloat(magicBits);
    half = floatBits(rounded) - magicBits;
  } else {
    uint32_t mantissaOdd = (bits >> 13) & 1u;
    bits += ((15u - 127u) << 23) + 0xfffu;
    bits += mantissaOdd;
    half = bits >> 13;
  }
  return static_cast<uint16_t>(half | (sign >> 16));
}

inline float bf16ToFloat(uint16_t value) {
  return bitsToFloat(static_cast<uint32_t>(value) << 16);
}

inline uint16_t floatToBf16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u); // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// Each element type: its storage and its conversions to and from f32.
struct F32Element {
  using Storage = float;
  static constexpr ac_dtype dtype = AC_F32;
  static float load(const float *pointer) { return *pointer; }
  static void store(float *pointer, float value) { *pointer = value; }
};

struct F16Element {
  using Storage = uint16_t;
  static constexpr ac_dtype dtype = AC_F16;
  static float load(const uint16_t *pointer) { return halfToFloat(*pointer); }
  static void store(uint16_t *pointer, float value) {
    *pointer = floatToHalf(value);
  }
};

struct BF16Element {
  using Storage = uint16_t;
  static constexpr ac_dtype dtype = AC_BF16;
  static float load(const uint16_t *pointer) { return bf16ToFloat(*pointer); }
  static void store(uint16_t *pointer, float value) {
    *pointer = floatToBf16(value);
  }
};

// Calls `fn(ElementType{})` for the element type of `dtype` (validated).
template <typename Fn> void dispatchDtype(ac_dtype dtype, Fn &&fn) {
  switch (dtype) {
  case AC_F32:
    fn(F32Element{});
    return;
  case AC_F16:
    fn(F16Element{});
    return;
  case AC_BF16:
    fn(BF16Element{});
    return;
  }
}

template <typename Element>
typename Element::Storage *typedData(const ac_tensor *tensor) {
  return static_cast<typename Element::Storage *>(tensor->data);
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

int kernelThreads();

// Splits [0, count) statically into one contiguous range per thread and calls
// `fn(begin, end)` on each; `workPerItem` (a rough element count) decides
// whether threads pay off. The split never changes any per-item result.
template <typename Fn>
void parallelFor(int64_t count, int64_t workPerItem, Fn &&fn) {
  constexpr int64_t minWorkPerThread = 16384;
  if (count <= 0)
    return;
  int64_t totalWork = count * std::max<int64_t>(workPerItem, 1);
  int64_t threads =
      std::min<int64_t>({static_cast<int64_t>(kernelThreads()), count,
                         std::max<int64_t>(totalWork / minWorkPerThread, 1)});
  if (threads <= 1) {
    fn(int64_t{0}, count);
    return;
  }
#pragma omp parallel num_threads(static_cast <int>(threads))
  {
    int64_t thread = omp_get_thread_num();
    int64_t teamSize = omp_get_num_threads();
    int64_t begin = count * thread / teamSize;
    int64_t end = count * (thread + 1) / teamSize;
    if (begin < end)
      fn(begin, end);
  }
}

//===----------------------------------------------------------------------===//
// Strided iteration
//===----------------------------------------------------------------------===//

// A row-major loop nest over `sizes` that walks `NumOperands` strided
// operands at once (strides in elements). Coalescing drops size-1 dimensions
// and merges dimensions that are contiguous in every operand, so that the
// innermost run is as long as possible.
template <int NumOperands> struct StridedLoop {
  int rank = 0;
  int64_t sizes[AC_MAX_RANK];
  int64_t strides[NumOperands][AC_MAX_RANK];

  int64_t numElements() const {
    int64_t count = 1;
    for (int dim = 0; dim < rank; ++dim)
      count *= sizes[dim];
    return count;
  }

  void coalesce() {
    int kept = 0;
    for (int dim = 0; dim < rank; ++dim) {
      if (sizes[dim] == 1)
        continue;
      if (kept > 0) {
        bool mergeable = true;
        for (int op = 0; op < NumOperands; ++op)
          mergeable &= strides[op][kept - 1] == strides[op][dim] * sizes[dim];
        if (mergeable) {
          sizes[kept - 1] *= sizes[dim];
          for (int op = 0; op < NumOperands; ++op)
            strides[op][kept - 1] = strides[op][dim];
          continue;
        }
      }
      sizes[kept] = sizes[dim];
      for (int op = 0; op < NumOperands; ++op)
        strides[op][kept] = strides[op][dim];
      ++kept;
    }
    if (kept == 0) {
      sizes[0] = 1;
      for (int op = 0; op < NumOperands; ++op)
        strides[op][0] = 1;
      kept = 1;
    }
    rank = kept;
  }
};

// Builds the loop over `sizes` (rank `rank`) from the strides of `tensors`
// (each of that rank), coalesced.
template <int NumOperands>
StridedLoop<NumOperands>
makeLoop(int rank, const int64_t *sizes,
         const ac_tensor *const (&tensors)[NumOperands]) {
  StridedLoop<NumOperands> loop;
  loop.rank = rank;
  for (int dim = 0; dim < rank; ++dim) {
    loop.sizes[dim] = sizes[dim];
    for (int op = 0; op < NumOperands; ++op)
      loop.strides[op][dim] = tensors[op]->strides[dim];
  }
  loop.coalesce();
  return loop;
}

// Visits the elements [begin, end) (row-major linear indices) of `loop` as
// innermost runs: `fn(offsets, count, innerStrides)` where offsets[op] is
// the element offset of the run's first element in operand `op`.
template <int NumOperands, typename Fn>
void forEachRun(const StridedLoop<NumOperands> &loop, int64_t begin,
                int64_t end, Fn &&fn) {
  const int inner = loop.rank - 1;
  const int64_t innerSize = loop.sizes[inner];
  int64_t innerStrides[NumOperands];
  for (int op = 0; op < NumOperands; ++op)
    innerStrides[op] = loop.strides[op][inner];

  int64_t index[AC_MAX_RANK] = {0};
  int64_t offsets[NumOperands] = {0};
  int64_t remainder = begin / innerSize;
  for (int dim = inner - 1; dim >= 0; --dim) {
    index[dim] = remainder % loop.sizes[dim];
    remainder /= loop.sizes[dim];
    for (int op = 0; op < NumOperands; ++op)
      offsets[op] += index[dim] * loop.strides[op][dim];
  }
  int64_t innerStart = begin % innerSize;
  int64_t position = begin;
  while (position < end) {
    int64_t count = std::min(innerSize - innerStart, end - position);
    int64_t runOffsets[NumOperands];
    for (int op = 0; op < NumOperands; ++op)
      runOffsets[op] = offsets[op] + innerStart * innerStrides[op];
    fn(static_cast<const int64_t *>(runOffsets), count,
       static_cast<const int64_t *>(innerStrides));
    position += count;
    innerStart = 0;
    for (int dim = inner - 1; dim >= 0; --dim) {
      for (int op = 0; op < NumOperands; ++op)
        offsets[op] += loop.strides[op][dim];
      if (++index[dim] < loop.sizes[dim])
        break;
      for (int op = 0; op < NumOperands; ++op)
        offsets[op] -= index[dim] * loop.strides[op][dim];
      index[dim] = 0;
    }
  }
}

// Runs `fn` over all elements of `loop`, split across threads.
template <int NumOperands, typename Fn>
void parallelForEachRun(const StridedLoop<NumOperands> &loop,
                        int64_t workPerElement, Fn &&fn) {
  parallelFor(
      loop.numElements(), workPerElement,
      [&](int64_t begin, int64_t end) { forEachRun(loop, begin, end, fn); });
}

// The element offset in `tensor` of the row-major linear index `linear` over
// its first `numDims` dimensions (the rest at index 0).
inline int64_t offsetOfLinear(const ac_tensor *tensor, int numDims,
                              int64_t linear) {
  int64_t offset = 0;
  for (int dim = numDims - 1; dim >= 0; --dim) {
    offset += (linear % tensor->sizes[dim]) * tensor->strides[dim];
    linear /= tensor->sizes[dim];
  }
  return offset;
}

// The product of sizes [first, last).
inline int64_t productOfSizes(const int64_t *sizes, int first, int last) {
  int64_t product = 1;
  for (int dim = first; dim < last; ++dim)
    product *= sizes[dim];
  return product;
}

// Whether dimensions [first, last) of `tensor` address like one dimension
// (row-major nesting, size-1 dimensions ignored); if so `*stride` is that
// dimension's stride (1 when all are size 1).
inline bool collapsesToOneDim(const ac_tensor *tensor, int first, int last,
                              int64_t *stride) {
  int64_t innerStride = 0, innerExtent = 0;
  bool any = false;
  for (int dim = last - 1; dim >= first; --dim) {
    if (tensor->sizes[dim] == 1)
      continue;
    if (!any) {
      innerStride = tensor->strides[dim];
      innerExtent = tensor->sizes[dim];
      any = true;
      continue;
    }
    if (tensor->strides[dim] != innerStride * innerExtent)
      return false;
    innerExtent *= tensor->sizes[dim];
  }
  *stride = any ? innerStride : 1;
  return true;
}

// Copies `in` to `out` (same shape and dtype) element by element: a strided
// bit copy, used by every data movement kernel.
void copyStrided(const ac_tensor *in, const ac_tensor *out);

// Scratch memory that reports failure instead of throwing.
struct ScratchBuffer {
  void *data = nullptr;
  ScratchBuffer() = default;
  explicit ScratchBuffer(size_t bytes) { allocate(bytes); }
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;
  ~ScratchBuffer() { std::free(data); }
  bool allocate(size_t bytes) {
    std::free(data);
    data = std::malloc(std::max<size_t>(bytes, 1));
    return data != nullptr;
  }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_KERNELS_KERNELSUPPORT_H
