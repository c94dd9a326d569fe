//===- CudaSupport.h - shared machinery of the runtime's CUDA kernels -----===//
//
// Element types on the device, argument validation (the CPU kernels'
// messages), the stream, error checks, grow-only scratch memory, and the
// strided indexing that every elementwise, copy and reduction kernel shares.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_CUDA_CUDASUPPORT_H
#define AUTOCHUNK_RUNTIME_CUDA_CUDASUPPORT_H

#include "autochunk/runtime/cuda.h"

#include "../kernels/TensorChecks.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

namespace autochunk::runtime::cuda {

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

// Each element type: its storage and its conversions to and from f32 (round
// to nearest even on store).
struct F32Element {
  using Storage = float;
  __device__ static float load(const float *pointer) { return *pointer; }
  __device__ static void store(float *pointer, float value) {
    *pointer = value;
  }
};

struct F16Element {
  using Storage = __half;
  __device__ static float load(const __half *pointer) {
    return __half2float(*pointer);
  }
  __device__ static void store(__half *pointer, float value) {
    *pointer = __float2half_rn(value);
  }
};

struct BF16Element {
  using Storage = __nv_bfloat16;
  __device__ static float load(const __nv_bfloat16 *pointer) {
    return __bfloat162float(*pointer);
  }
  __device__ static void store(__nv_bfloat16 *pointer, float value) {
    *pointer = __float2bfloat16_rn(value);
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
// Validation: the CPU kernels' checks (TensorChecks.h), so messages match.
//===----------------------------------------------------------------------===//

using autochunk::runtime::broadcastView;
using autochunk::runtime::checkFusedActivation;
using autochunk::runtime::checkOutput;
using autochunk::runtime::checkReduceArguments;
using autochunk::runtime::checkSameDtype;
using autochunk::runtime::checkSameShape;
using autochunk::runtime::checkScaleMaskSoftmaxArguments;
using autochunk::runtime::checkSigmoidGateArguments;
using autochunk::runtime::describe;
using autochunk::runtime::describeSizes;
using autochunk::runtime::sameShape;
using autochunk::runtime::ShapeText;

// The product of sizes [first, last).
inline int64_t productOfSizes(const int64_t *sizes, int first, int last) {
  int64_t product = 1;
  for (int dim = first; dim < last; ++dim)
    product *= sizes[dim];
  return product;
}

// Whether dimensions [first, last) of `tensor` address like one dimension
// (size-1 dimensions ignored); if so `*stride` is its stride.
bool collapsesToOneDim(const ac_tensor *tensor, int first, int last,
                       int64_t *stride);

// `tensor`'s data advanced by `offset` elements.
inline char *elementAt(const ac_tensor *tensor, int64_t offset) {
  return static_cast<char *>(tensor->data) +
         offset * static_cast<int64_t>(ac_dtype_size(tensor->dtype));
}

// Checks an input as TensorChecks' checkInput does (the CPU's messages).
// When its data is host memory the device cannot read (a compiled
// graph.constant is a global of the executable), `tensor` is pointed at a
// device copy of the bytes it spans: made once per distinct view in an eager
// run, kept for the process's life (constants never change), and found again
// by address during CUDA Graph capture. Defined in CudaSupport.cu.
ac_status checkInput(const char *kernel, const char *name,
                     const ac_tensor *&tensor);

//===----------------------------------------------------------------------===//
// Stream, errors and scratch memory
//===----------------------------------------------------------------------===//

// The stream of all kernels; null with an error set when it cannot be made.
ac_status currentStream(const char *kernel, cudaStream_t *stream);

// AC_OK, or the error "<kernel>: <what>: <CUDA's message>".
ac_status checkCuda(const char *kernel, const char *what, cudaError_t error);

// Checks the launch of the kernel just enqueued.
inline ac_status checkLaunch(const char *kernel) {
  return checkCuda(kernel, "kernel launch", cudaGetLastError());
}

// Grow-only device buffers, one per role so that one call may hold several
// at once. A buffer only ever grows; before it does, the stream is drained
// so that no queued work still uses the old one.
enum class Scratch {
  EinsumLhsReduced,
  EinsumRhsReduced,
  EinsumLhsPacked,
  EinsumRhsPacked,
  EinsumOutStaged,
  GemmLhs,
  GemmRhs,
  GemmOut,
  Reshape,
  Count
};
ac_status scratchBuffer(const char *kernel, Scratch role, size_t bytes,
                        void **data);

// Whether AUTOCHUNK_PROFILE is set (Profile.cu).
bool profilingEnabled();

// Under AUTOCHUNK_PROFILE, times the work a kernels.h call enqueues with CUDA
// events (keyed by `kernel`, the dtype and shape of `shaped`) and waits for
// it; otherwise does nothing. Declare one at the top of each entry point.
class KernelTimer {
public:
  KernelTimer(const char *kernel, const ac_tensor *shaped);
  ~KernelTimer();
  KernelTimer(const KernelTimer &) = delete;
  KernelTimer &operator=(const KernelTimer &) = delete;

private:
  const char *kernel = nullptr; // null when not timing
  std::string key;
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, end = nullptr;
};

//===----------------------------------------------------------------------===//
// Strided indexing
//===----------------------------------------------------------------------===//

// A row-major index space over `sizes` with `NumOperands` strided operands
// (strides in elements); passed by value to kernels. Coalescing drops size-1
// dimensions and merges dimensions contiguous in every operand; it keeps the
// row-major order of linear indices.
template <int NumOperands> struct StridedIndexer {
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
    rank = kept; // rank 0: one element at offset 0
  }

  // The element offset in each operand of the row-major index `linear`.
  __device__ void offsets(int64_t linear, int64_t *result) const {
    for (int op = 0; op < NumOperands; ++op)
      result[op] = 0;
    for (int dim = rank - 1; dim >= 0; --dim) {
      int64_t index = linear % sizes[dim];
      linear /= sizes[dim];
      for (int op = 0; op < NumOperands; ++op)
        result[op] += index * strides[op][dim];
    }
  }
};

// The indexer over `rank` dimensions of `sizes` with the strides of the first
// `rank` dimensions of each of `tensors`, coalesced.
template <int NumOperands>
StridedIndexer<NumOperands>
makeIndexer(int rank, const int64_t *sizes,
            const ac_tensor *const (&tensors)[NumOperands]) {
  StridedIndexer<NumOperands> indexer;
  indexer.rank = rank;
  for (int dim = 0; dim < rank; ++dim) {
    indexer.sizes[dim] = sizes[dim];
    for (int op = 0; op < NumOperands; ++op)
      indexer.strides[op][dim] = tensors[op]->strides[dim];
  }
  indexer.coalesce();
  return indexer;
}

//===----------------------------------------------------------------------===//
// Block reductions (row kernels: softmax, layer norm, reductions)
//===----------------------------------------------------------------------===//

struct SumCombine {
  __device__ double operator()(double a, double b) const { return a + b; }
};

// NaN propagates, as in numpy and PyTorch.
struct MaxCombine {
  __device__ float operator()(float a, float b) const {
    if (isnan(a))
      return a;
    if (isnan(b))
      return b;
    return a > b ? a : b;
  }
};

// The CPU softmax's maximum: NaN is skipped.
struct FMaxCombine {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// Combines `value` over the block (blockDim.x a multiple of 32, at most
// 1024); every thread gets the result.
template <typename T, typename Combine>
__device__ T blockReduce(T value, T identity, Combine combine) {
  __shared__ T partial[32];
  for (int offset = 16; offset > 0; offset >>= 1)
    value = combine(value, __shfl_down_sync(0xffffffffu, value, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads(); // the previous call's readers are done with `partial`
  if (lane == 0)
    partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    const int numWarps = blockDim.x >> 5;
    value = lane < numWarps ? partial[lane] : identity;
    for (int offset = 16; offset > 0; offset >>= 1)
      value = combine(value, __shfl_down_sync(0xffffffffu, value, offset));
    if (lane == 0)
      partial[0] = value;
  }
  __syncthreads();
  return partial[0];
}

//===----------------------------------------------------------------------===//
// Register-row softmax (ac_softmax, ac_scale_mask_softmax)
//===----------------------------------------------------------------------===//

// A row of up to kMaxRegisterRow elements is held in registers by one block:
// thread t owns the kRowVector consecutive keys of vectors t + k * blockDim
// (k < Items, at most kMaxRowItems). Rows are read once and written once.
constexpr int kRowVector = 4;
constexpr int kMaxRowItems = 8;
constexpr int kMaxRowThreads = 1024;
constexpr int64_t kMaxRegisterRow =
    int64_t{kMaxRowThreads} * kMaxRowItems * kRowVector;

/// The parameters of one softmax launch: an optional scale, causal mask and
/// broadcast additive bias applied while the row is loaded (the plain
/// softmax has factor 1, no mask and no bias).
struct SoftmaxChain {
  int64_t rows, length, queries;
  int64_t inStride, outStride, biasStride;
  /// The scale, applied through f64 and rounded to f32 as on the CPU.
  double factor;
  /// The scale when it is exactly a float: the f32 product of two floats
  /// rounds the exact product once, as the f64 path does, for less work.
  float floatFactor;
  bool factorIsFloat;
  bool causal;
  int64_t rowOffset, colOffset, diagonal;
};

/// The visible keys [0, visible) of a row: all of them, or those a causal
/// mask keeps (key j + colOffset <= query i + rowOffset + diagonal).
__device__ inline int64_t visibleKeys(const SoftmaxChain &chain, int64_t row) {
  if (!chain.causal)
    return chain.length;
  const int64_t last =
      row % chain.queries + chain.rowOffset + chain.diagonal - chain.colOffset;
  return last + 1 < 0 ? 0 : (last + 1 > chain.length ? chain.length : last + 1);
}

/// `value` stored to the dtype and loaded back, as an unfused kernel's
/// output holds it.
template <typename Element> __device__ float roundToDtype(float value) {
  typename Element::Storage stored;
  Element::store(&stored, value);
  return Element::load(&stored);
}

/// x times the chain's scale, rounded to the dtype.
template <typename Element>
__device__ float scaleLogit(const SoftmaxChain &chain, float x) {
  // __fmul_rn: never contracted into a following bias add.
  const float scaled =
      chain.factorIsFloat
          ? __fmul_rn(x, chain.floatFactor)
          : static_cast<float>(static_cast<double>(x) * chain.factor);
  return roundToDtype<Element>(scaled);
}

/// A running softmax normalizer: the maximum seen and the sum of
/// exp(x - maximum) over the elements seen (0 or NaN while the maximum is
/// -inf). A NaN element makes the sum NaN, as on the CPU.
struct RowNormalizer {
  float maximum;
  float sum;
};

__device__ inline RowNormalizer combineRowNormalizers(RowNormalizer a,
                                                      RowNormalizer b) {
  const float maximum = fmaxf(a.maximum, b.maximum);
  if (maximum == -INFINITY)
    return {maximum, __fadd_rn(a.sum, b.sum)};
  // Explicit roundings: the same bits in every instantiation.
  return {maximum, __fmaf_rn(a.sum, expf(a.maximum - maximum),
                             __fmul_rn(b.sum, expf(b.maximum - maximum)))};
}

/// Combines every thread's normalizer over the block in a fixed tree (lanes,
/// then warps), one barrier. `partial` (32 entries) must not be reused
/// before the block's next barrier; every thread gets the result.
__device__ inline RowNormalizer blockCombineRow(RowNormalizer value,
                                                RowNormalizer *partial) {
  for (int offset = 16; offset > 0; offset >>= 1)
    value = combineRowNormalizers(
        value, {__shfl_down_sync(0xffffffffu, value.maximum, offset),
                __shfl_down_sync(0xffffffffu, value.sum, offset)});
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0)
    partial[warp] = value;
  __syncthreads();
  // Every warp combines the partials itself, in the same order.
  const int numWarps = blockDim.x >> 5;
  value = lane < numWarps ? partial[lane] : RowNormalizer{-INFINITY, 0.0f};
  for (int offset = 16; offset > 0; offset >>= 1)
    value = combineRowNormalizers(
        value, {__shfl_down_sync(0xffffffffu, value.maximum, offset),
                __shfl_down_sync(0xffffffffu, value.sum, offset)});
  return {__shfl_sync(0xffffffffu, value.maximum, 0),
          __shfl_sync(0xffffffffu, value.sum, 0)};
}

/// kRowVector consecutive elements, loaded or stored as one access.
template <typename Storage>
struct alignas(kRowVector * sizeof(Storage)) RowVector {
  Storage lanes[kRowVector];
};

/// The pre-softmax values of keys [first, first + kRowVector): x scaled and
/// rounded, -inf when masked (or past the row), plus the bias rounded.
/// Vectorized: unit strides, length a multiple of kRowVector and aligned
/// rows, so the vector is one load; otherwise element by element. Both give
/// the same values.
template <typename Element, bool Vectorized>
__device__ void
loadLogits(const SoftmaxChain &chain, const typename Element::Storage *src,
           const typename Element::Storage *biasRow, int length, int visible,
           int first, float (&values)[kRowVector]) {
  using Storage = typename Element::Storage;
  if constexpr (Vectorized) {
    if (first >= length) {
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane)
        values[lane] = -INFINITY;
      return;
    }
    if (first < visible) {
      const RowVector<Storage> x =
          *reinterpret_cast<const RowVector<Storage> *>(src + first);
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane)
        values[lane] =
            first + lane < visible
                ? scaleLogit<Element>(chain, Element::load(&x.lanes[lane]))
                : -INFINITY;
    } else {
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane)
        values[lane] = -INFINITY;
    }
    if (biasRow) {
      const RowVector<Storage> b =
          *reinterpret_cast<const RowVector<Storage> *>(biasRow + first);
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane)
        values[lane] = roundToDtype<Element>(
            __fadd_rn(values[lane], Element::load(&b.lanes[lane])));
    }
  } else {
#pragma unroll
    for (int lane = 0; lane < kRowVector; ++lane) {
      const int j = first + lane;
      float value = -INFINITY;
      if (j < visible)
        value =
            scaleLogit<Element>(chain, Element::load(src + j * chain.inStride));
      if (biasRow && j < length)
        value = roundToDtype<Element>(
            __fadd_rn(value, Element::load(biasRow + j * chain.biasStride)));
      values[lane] = value;
    }
  }
}

/// Softmax of rows of at most kMaxRegisterRow elements, one block per row
/// (grid-stride over rows). Each thread takes the maximum and the sum of
/// exponentials of its own keys in key order, then the block combines those
/// normalizers in a fixed tree: the order depends only on the row length, so
/// a chunked run gives the unchunked bits. The output is the thread's
/// exp(x - its maximum) times exp(its maximum - row maximum) / row sum: one
/// exponential per element. A fully masked row becomes NaN, as on the CPU.
/// Each thread writes only the keys it read, so `out` may be `in`.
template <typename Element, int Items, bool Vectorized>
__global__ void __launch_bounds__(kMaxRowThreads)
    rowSoftmaxKernel(StridedIndexer<3> rowsIndexer, SoftmaxChain chain,
                     typename Element::Storage *out,
                     const typename Element::Storage *in,
                     const typename Element::Storage *bias) {
  using Storage = typename Element::Storage;
  // Alternating buffers: a row's partials are read before the next row's
  // barrier, and written again only after it.
  __shared__ RowNormalizer partials[2][32];
  const int length = static_cast<int>(chain.length);
  int parity = 0;
  for (int64_t row = blockIdx.x; row < chain.rows;
       row += gridDim.x, parity ^= 1) {
    int64_t offsets[3];
    rowsIndexer.offsets(row, offsets);
    Storage *dst = out + offsets[0];
    const Storage *src = in + offsets[1];
    const Storage *biasRow = bias ? bias + offsets[2] : nullptr;
    const int visible = static_cast<int>(visibleKeys(chain, row));
    float values[Items][kRowVector];
#pragma unroll
    for (int item = 0; item < Items; ++item)
      loadLogits<Element, Vectorized>(
          chain, src, biasRow, length, visible,
          (threadIdx.x + item * blockDim.x) * kRowVector, values[item]);
    float maximum = -INFINITY;
#pragma unroll
    for (int item = 0; item < Items; ++item)
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane)
        maximum = fmaxf(maximum, values[item][lane]);
    float sum = 0.0f;
#pragma unroll
    for (int item = 0; item < Items; ++item)
#pragma unroll
      for (int lane = 0; lane < kRowVector; ++lane) {
        float &value = values[item][lane];
        value = value == -INFINITY ? 0.0f : expf(value - maximum);
        sum = __fadd_rn(sum, value);
      }
    const RowNormalizer total =
        blockCombineRow({maximum, sum}, partials[parity]);
    const float scale = __fdiv_rn(expf(maximum - total.maximum), total.sum);
#pragma unroll
    for (int item = 0; item < Items; ++item) {
      const int first = (threadIdx.x + item * blockDim.x) * kRowVector;
      if (first >= length)
        continue;
      if constexpr (Vectorized) {
        RowVector<Storage> result;
#pragma unroll
        for (int lane = 0; lane < kRowVector; ++lane)
          Element::store(&result.lanes[lane],
                         __fmul_rn(values[item][lane], scale));
        *reinterpret_cast<RowVector<Storage> *>(dst + first) = result;
      } else {
#pragma unroll
        for (int lane = 0; lane < kRowVector; ++lane)
          if (first + lane < length)
            Element::store(dst + (first + lane) * chain.outStride,
                           __fmul_rn(values[item][lane], scale));
      }
    }
  }
}

/// Whether the rows of `operands` (data pointers, with the indexer's outer
/// strides and `innerStrides`) can be loaded kRowVector elements at a time.
template <typename Storage>
bool rowsVectorizable(const StridedIndexer<3> &rowsIndexer,
                      const void *const (&data)[3],
                      const int64_t (&innerStrides)[3], int numOperands,
                      int64_t length) {
  if (length % kRowVector != 0)
    return false;
  for (int op = 0; op < numOperands; ++op) {
    if (innerStrides[op] != 1 || reinterpret_cast<uintptr_t>(data[op]) %
                                         (kRowVector * sizeof(Storage)) !=
                                     0)
      return false;
    for (int dim = 0; dim < rowsIndexer.rank; ++dim)
      if (rowsIndexer.strides[op][dim] % kRowVector != 0)
        return false;
  }
  return true;
}

/// Launches rowSoftmaxKernel for rows of `length` (at most kMaxRegisterRow):
/// the fewest vectors per thread that cover the row with at most 512
/// threads (1024 beyond 16384 elements). The shape depends only on the
/// length, so every chunk of a row runs the same arithmetic.
template <typename Element>
void launchRowSoftmax(const StridedIndexer<3> &rowsIndexer,
                      const SoftmaxChain &chain, bool vectorized,
                      cudaStream_t stream, typename Element::Storage *out,
                      const typename Element::Storage *in,
                      const typename Element::Storage *bias) {
  const int64_t vectors = (chain.length + kRowVector - 1) / kRowVector;
  const unsigned blocks =
      static_cast<unsigned>(chain.rows < (1 << 20) ? chain.rows : (1 << 20));
  auto withItems = [&](auto items) {
    constexpr int kItems = decltype(items)::value;
    int64_t threads = (vectors + kItems - 1) / kItems;
    threads = std::max<int64_t>(32, (threads + 31) / 32 * 32);
    if (vectorized)
      rowSoftmaxKernel<Element, kItems, true>
          <<<blocks, static_cast<unsigned>(threads), 0, stream>>>(
              rowsIndexer, chain, out, in, bias);
    else
      rowSoftmaxKernel<Element, kItems, false>
          <<<blocks, static_cast<unsigned>(threads), 0, stream>>>(
              rowsIndexer, chain, out, in, bias);
  };
  if (vectors <= 512)
    withItems(std::integral_constant<int, 1>{});
  else if (vectors <= 1024)
    withItems(std::integral_constant<int, 2>{});
  else if (vectors <= 2048)
    withItems(std::integral_constant<int, 4>{});
  else
    withItems(std::integral_constant<int, kMaxRowItems>{});
}

// Blocks of kElementwiseThreads threads for a grid-stride loop over `count`.
constexpr int kElementwiseThreads = 256;
inline unsigned elementwiseBlocks(int64_t count) {
  int64_t blocks = (count + kElementwiseThreads - 1) / kElementwiseThreads;
  return static_cast<unsigned>(blocks < (1 << 20) ? blocks : (1 << 20));
}

// For every element: `op(linear, offsets)`.
template <int NumOperands, typename Op>
__global__ void stridedKernel(StridedIndexer<NumOperands> indexer,
                              int64_t count, Op op) {
  for (int64_t linear =
           static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       linear < count; linear += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t offsets[NumOperands];
    indexer.offsets(linear, offsets);
    op(linear, offsets);
  }
}

// Division by a fixed divisor in [1, 2^31] through a multiply and a shift,
// exact for dividends below 2^31 (Granlund-Montgomery, as in PyTorch's
// IntDivider): the index arithmetic of strided kernels without the long
// instruction sequences of hardware-less 32- and 64-bit division.
struct FastDivider {
  uint32_t divisor = 1, multiplier = 1, shift = 0;
  FastDivider() = default;
  explicit FastDivider(uint32_t value) : divisor(value) {
    shift = 0;
    while ((uint64_t{1} << shift) < value)
      ++shift;
    multiplier = static_cast<uint32_t>(
        ((uint64_t{1} << 32) * ((uint64_t{1} << shift) - value)) / value + 1);
  }
  __device__ uint32_t divide(uint32_t dividend) const {
    return (__umulhi(dividend, multiplier) + dividend) >> shift;
  }
};

// StridedIndexer for index spaces of fewer than 2^31 elements, dividing by
// multiply and shift.
template <int NumOperands> struct FastIndexer {
  int rank = 0;
  FastDivider sizes[AC_MAX_RANK];
  int64_t strides[NumOperands][AC_MAX_RANK];

  explicit FastIndexer(const StridedIndexer<NumOperands> &indexer)
      : rank(indexer.rank) {
    for (int dim = 0; dim < rank; ++dim) {
      sizes[dim] = FastDivider(static_cast<uint32_t>(indexer.sizes[dim]));
      for (int op = 0; op < NumOperands; ++op)
        strides[op][dim] = indexer.strides[op][dim];
    }
  }

  __device__ void offsets(uint32_t linear, int64_t *result) const {
    for (int op = 0; op < NumOperands; ++op)
      result[op] = 0;
    for (int dim = rank - 1; dim > 0; --dim) {
      uint32_t quotient = sizes[dim].divide(linear);
      uint32_t index = linear - quotient * sizes[dim].divisor;
      linear = quotient;
      for (int op = 0; op < NumOperands; ++op)
        result[op] += static_cast<int64_t>(index) * strides[op][dim];
    }
    if (rank > 0) // the outermost index needs no division
      for (int op = 0; op < NumOperands; ++op)
        result[op] += static_cast<int64_t>(linear) * strides[op][0];
  }
};

template <int NumOperands, typename Op>
__global__ void fastStridedKernel(FastIndexer<NumOperands> indexer,
                                  uint32_t count, Op op) {
  for (uint32_t linear = blockIdx.x * blockDim.x + threadIdx.x; linear < count;
       linear += gridDim.x * blockDim.x) {
    int64_t offsets[NumOperands];
    indexer.offsets(linear, offsets);
    op(linear, offsets);
  }
}

// Whether every operand of the (coalesced) indexer walks its elements
// contiguously in the same order: one flat index serves all.
template <int NumOperands>
bool isContiguousIndexSpace(const StridedIndexer<NumOperands> &indexer) {
  if (indexer.rank == 0)
    return true;
  if (indexer.rank != 1)
    return false;
  for (int op = 0; op < NumOperands; ++op)
    if (indexer.strides[op][0] != 1)
      return false;
  return true;
}

// Launches `op` over every element of `indexer` on the kernels' stream:
// with 32-bit multiply-shift index arithmetic below 2^31 elements, with
// 64-bit division above.
template <int NumOperands, typename Op>
ac_status launchStrided(const char *kernel,
                        const StridedIndexer<NumOperands> &indexer, Op op) {
  int64_t count = indexer.numElements();
  if (count == 0)
    return AC_OK;
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  if (count < (int64_t{1} << 31)) {
    fastStridedKernel<NumOperands, Op>
        <<<elementwiseBlocks(count), kElementwiseThreads, 0, stream>>>(
            FastIndexer<NumOperands>(indexer), static_cast<uint32_t>(count),
            op);
  } else {
    stridedKernel<NumOperands, Op>
        <<<elementwiseBlocks(count), kElementwiseThreads, 0, stream>>>(
            indexer, count, op);
  }
  return checkLaunch(kernel);
}

// Pointers to the inputs of a contiguous map (at least one slot, so that a
// map without inputs compiles).
template <typename Storage, int NumInputs> struct MapInputs {
  const Storage *data[NumInputs > 0 ? NumInputs : 1];
};

// out[i] = map(inputs[0][i], ...) over `count` contiguous elements. Each
// thread loads kMapUnroll elements of every input (a block-wide stride
// apart, so each load instruction is coalesced) before it stores any: the
// loads are independent and in flight together, which a one-element loop
// cannot have, since a store could alias the next load.
constexpr int kMapUnroll = 4;
template <typename Storage, int NumInputs, typename Map>
__global__ void contiguousMapKernel(Storage *out,
                                    MapInputs<Storage, NumInputs> inputs,
                                    int64_t count, Map map) {
  const int64_t tile = static_cast<int64_t>(blockDim.x) * kMapUnroll;
  for (int64_t start = static_cast<int64_t>(blockIdx.x) * tile; start < count;
       start += static_cast<int64_t>(gridDim.x) * tile) {
    Storage values[kMapUnroll][NumInputs > 0 ? NumInputs : 1];
#pragma unroll
    for (int unroll = 0; unroll < kMapUnroll; ++unroll) {
      int64_t index = start + threadIdx.x + unroll * blockDim.x;
      if (index < count)
#pragma unroll
        for (int input = 0; input < NumInputs; ++input)
          values[unroll][input] = inputs.data[input][index];
    }
#pragma unroll
    for (int unroll = 0; unroll < kMapUnroll; ++unroll) {
      int64_t index = start + threadIdx.x + unroll * blockDim.x;
      if (index < count)
        out[index] = map(values[unroll]);
    }
  }
}

// Launches contiguousMapKernel on the kernels' stream.
template <typename Storage, int NumInputs, typename Map>
ac_status launchContiguousMap(const char *kernel, Storage *out,
                              MapInputs<Storage, NumInputs> inputs,
                              int64_t count, Map map) {
  if (count == 0)
    return AC_OK;
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  int64_t tiles = (count + kElementwiseThreads * kMapUnroll - 1) /
                  (kElementwiseThreads * kMapUnroll);
  unsigned blocks = static_cast<unsigned>(std::min<int64_t>(tiles, 1 << 20));
  contiguousMapKernel<Storage, NumInputs, Map>
      <<<blocks, kElementwiseThreads, 0, stream>>>(out, inputs, count, map);
  return checkLaunch(kernel);
}

// Copies `in` to `out` (same shape and dtype, any strides) on the device.
ac_status copyStrided(const char *kernel, const ac_tensor *in,
                      const ac_tensor *out);

// Fills `out` with the f32 value `value` converted to its dtype.
ac_status fillTensor(const char *kernel, const ac_tensor *out, float value);

// out[i...] = kind over j... of in[i..., j...] for the last `numReduced`
// dimensions of `in` (Normalization.cu); one block per output element.
ac_status reduceTrailing(const char *kernel, ac_reduce_kind kind,
                         const ac_tensor *in, int numReduced,
                         const ac_tensor *out);

// Batched C = A B (+ C when `accumulate`) through cuBLAS (Contraction.cu):
// `a` [batch..., M, K], `b` [batch..., K, N], `c` [batch..., M, N], all of
// rank numBatch + 2 with c's batch sizes (a and b may broadcast with stride
// 0). Operands whose layout cuBLAS cannot take are packed into scratch.
// `bias` ([N], or null) is added to every row of C: as the GEMM's epilogue
// where cuBLASLt can, else copied into C before an accumulating GEMM.
ac_status batchedGemm(const char *kernel, int numBatch, const ac_tensor *a,
                      const ac_tensor *b, const ac_tensor *c, bool accumulate,
                      const ac_tensor *bias = nullptr);

// One column-major strided batched GEMM, as cuBLAS takes it (Gemm.cu):
// C (rows x cols, ldc) = op(A) op(B) [+ C when accumulate] [+ bias[row]].
struct GemmCall {
  cudaDataType_t type;
  cublasOperation_t opA, opB;
  int64_t rows, cols, k;
  const void *a;
  int64_t lda, strideA;
  const void *b;
  int64_t ldb, strideB;
  void *c;
  int64_t ldc, strideC;
  int64_t batch;
  bool accumulate;
  const void *bias; // contiguous, `rows` elements, or null
};

// Whether runGemm can apply `call`'s bias as an epilogue (cuBLASLt found,
// and the batch layout is one it takes).
bool gemmTakesBias(const GemmCall &call);

// Runs `call` on the kernels' stream: cuBLASLt (tuned once per problem
// outside graph capture) or the legacy cuBLAS call; f32 compute, with TF32
// for f32 operands when AUTOCHUNK_CUDA_TF32=1.
ac_status runGemm(const char *kernel, const GemmCall &call);

} // namespace autochunk::runtime::cuda

#endif // AUTOCHUNK_RUNTIME_CUDA_CUDASUPPORT_H
