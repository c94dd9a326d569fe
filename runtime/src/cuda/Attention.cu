//===- Attention.cu - fused (flash-style) attention on the GPU ------------===//
//
// ac_attention without the [..., M, N] logits ever reaching memory: each
// block owns a tile of query rows of one batch entry (and one slice of at
// most 128 value columns), keeps the row maxima, the running sums and the
// output accumulators in registers, and streams the keys and values through
// shared memory in blocks of kKeyBlock keys (online softmax). All math is
// plain f32 FFMA (no tensor cores, no TF32), whatever the dtype; f16/bf16
// are widened on load and rounded once on store.
//
// Determinism: a row's arithmetic depends only on the depths (which fix the
// padded depth P) and on kKeyBlock. Every variant (tile height, load path)
// gives a thread the same rows-by-keys layout inside its warp, key blocks
// are visited from j = 0 in order, logits are dot products in d order, the
// output sums run over j in order, and a thread keeps its own partial row
// sum until the end. A key block that is fully masked for a row leaves the
// row's state untouched (its rescale is exactly 1 and its probabilities 0),
// and a warp skips a block that is masked for all of its rows, so chunked
// and unchunked calls agree bit for bit.
//
// Exponentials: the logits are pre-multiplied by log2(e) (scale and bias) and
// exponentiated with ex2.approx.ftz (relative error about 2^-22; results
// below 2^-126, negligible beside the row maximum's 1, flush to zero).
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace autochunk::runtime::cuda;

namespace {

// The layout of a warp's work: 16 query rows by kKeyBlock keys. A lane
// (laneRow = lane / 8, laneCol = lane % 8) owns rows warpRow0 + laneRow + 4 i
// (i < kRowsPerThread), keys laneCol + 8 c (c < kKeysPerThread) of each key
// block, and output columns laneCol * 4 + 32 k + t (t < 4) of its slice.
constexpr int kLaneRows = 4;
constexpr int kLaneCols = 8;
constexpr int kRowsPerThread = 4;
constexpr int kRowsPerWarp = kLaneRows * kRowsPerThread; // 16
constexpr int kKeyBlock = 64;
constexpr int kKeysPerThread = kKeyBlock / kLaneCols; // 8
// Value columns one block computes: E beyond this is split into slices, each
// recomputing the probabilities.
constexpr int kMaxSliceWidth = 128;
// The widest q/k depth the kernels take.
constexpr int64_t kMaxDepth = 128;

constexpr float kLog2e = 1.4426950408889634f;

// How a tile travels from global to shared memory: cp.async of 16 bytes (f32,
// unit inner stride, aligned), 4-element vector loads (unit inner stride,
// aligned), or element by element (any strides).
enum class LoadPath { Async, Vector, Scalar };

struct AttentionParams {
  int64_t queries, keys, depth, valueDepth;
  int64_t batch;
  int64_t numTiles, numSlices, numWork;
  // Offsets of each batch entry in q, k, v, out, bias (elements).
  StridedIndexer<5> batchIndexer;
  int64_t qRowStride, qColStride, kRowStride, kColStride, vRowStride,
      vColStride, outRowStride, outColStride, biasRowStride, biasColStride;
  float scaleLog2e;
  bool causal;
  // Key j is visible to row i iff j <= i + limitOffset (row_offset +
  // diagonal) when causal.
  int64_t limitOffset;
  LoadPath path;
  // Whether bias rows can be copied 16 bytes at a time (f32 only).
  bool biasAsync;
};

__device__ __forceinline__ float fastExp2(float x) {
  float result;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(result) : "f"(x));
  return result;
}

__device__ __forceinline__ void copyAsync16(void *shared, const void *global,
                                            bool valid) {
  const unsigned address =
      static_cast<unsigned>(__cvta_generic_to_shared(shared));
  // A source size of 0 fills the 16 bytes with zeros.
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(address),
               "l"(global), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void commitAsync() {
  asm volatile("cp.async.commit_group;" ::);
}

template <int Pending> __device__ __forceinline__ void waitAsync() {
  asm volatile("cp.async.wait_group %0;" ::"n"(Pending));
}

// Four consecutive elements (unit stride, aligned to four elements) widened.
template <typename Element>
__device__ __forceinline__ float4
loadFour(const typename Element::Storage *pointer) {
  if constexpr (std::is_same_v<Element, F32Element>) {
    return *reinterpret_cast<const float4 *>(pointer);
  } else {
    const uint2 raw = *reinterpret_cast<const uint2 *>(pointer);
    typename Element::Storage parts[4];
    memcpy(parts, &raw, sizeof(raw));
    return make_float4(Element::load(&parts[0]), Element::load(&parts[1]),
                       Element::load(&parts[2]), Element::load(&parts[3]));
  }
}

// Copies rows [0, Rows) x columns [0, P) of a strided matrix at `base` into
// `tile` (row pitch P + 4 floats) as f32: rows >= validRows and columns >=
// validCols become zeros. Async copies are left pending (the caller commits
// and waits).
template <typename Element, int P, int Rows, int Threads>
__device__ __forceinline__ void
loadTile(float *tile, const typename Element::Storage *base, int64_t rowStride,
         int64_t colStride, int64_t validRows, int64_t validCols,
         LoadPath path) {
  constexpr int kChunksPerRow = P / 4;
  constexpr int kPitch = P + 4;
#pragma unroll 4
  for (int chunk = threadIdx.x; chunk < Rows * kChunksPerRow;
       chunk += Threads) {
    const int row = chunk / kChunksPerRow;
    const int col = (chunk % kChunksPerRow) * 4;
    float *destination = tile + row * kPitch + col;
    const bool rowValid = row < validRows;
    if constexpr (std::is_same_v<Element, F32Element>) {
      if (path == LoadPath::Async) {
        const bool valid = rowValid && col < validCols;
        copyAsync16(destination, valid ? base + row * rowStride + col : base,
                    valid);
        continue;
      }
    }
    float4 values = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (path != LoadPath::Scalar) {
      if (rowValid && col < validCols)
        values = loadFour<Element>(base + row * rowStride + col);
    } else if (rowValid) {
      const typename Element::Storage *source = base + row * rowStride;
      float lanes[4];
#pragma unroll
      for (int t = 0; t < 4; ++t)
        lanes[t] = col + t < validCols
                       ? Element::load(source + (col + t) * colStride)
                       : 0.0f;
      values = make_float4(lanes[0], lanes[1], lanes[2], lanes[3]);
    }
    *reinterpret_cast<float4 *>(destination) = values;
  }
}

// The dynamic shared memory of one block: the query tile, two key and two
// value buffers (row pitch P + 4 floats: conflict-free float4 reads along d
// by rows 1 apart), each warp's probabilities (pitch kKeyBlock + 8) and,
// with a bias, each warp's bias rows of the next key block (same pitch; a
// warp loads and reads only its own rows).
template <int P, int TileRows, bool HasBias> struct SharedLayout {
  static constexpr int kPitch = P + 4;
  static constexpr int kProbabilityPitch = kKeyBlock + 8;
  static constexpr int kQueryFloats = TileRows * kPitch;
  static constexpr int kKeyFloats = kKeyBlock * kPitch;
  static constexpr int kProbabilityFloats = TileRows * kProbabilityPitch;
  static constexpr size_t kBytes =
      sizeof(float) * (kQueryFloats + 4 * size_t{kKeyFloats} +
                       (HasBias ? 2 : 1) * size_t{kProbabilityFloats});
};

template <typename Element, int P, int TileRows, bool HasBias>
__global__ void __launch_bounds__(TileRows * 2)
    attentionKernel(AttentionParams params,
                    const typename Element::Storage *__restrict__ q,
                    const typename Element::Storage *__restrict__ k,
                    const typename Element::Storage *__restrict__ v,
                    const typename Element::Storage *__restrict__ bias,
                    typename Element::Storage *__restrict__ out) {
  using Storage = typename Element::Storage;
  using Layout = SharedLayout<P, TileRows, HasBias>;
  constexpr int kThreads = TileRows * 2; // TileRows / 16 warps of 32
  constexpr int kPitch = Layout::kPitch;
  constexpr int kProbabilityPitch = Layout::kProbabilityPitch;
  constexpr int kColumnGroups = P / 32; // float4 groups of output columns
  constexpr int kOutputsPerRow = kColumnGroups * 4;
  static_assert(P % 32 == 0 && P <= kMaxSliceWidth, "padded depth");

  extern __shared__ float4 sharedRaw[];
  float *const queryTile = reinterpret_cast<float *>(sharedRaw);
  float *const keyTiles = queryTile + Layout::kQueryFloats;
  float *const valueTiles = keyTiles + 2 * Layout::kKeyFloats;
  float *const probabilityTile = valueTiles + 2 * Layout::kKeyFloats;
  float *const biasTile = probabilityTile + Layout::kProbabilityFloats;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int laneRow = lane / kLaneCols, laneCol = lane % kLaneCols;
  const int warpRow0 = warp * kRowsPerWarp;
  const int64_t numKeyBlocks = (params.keys + kKeyBlock - 1) / kKeyBlock;
  const int64_t batchSlices = params.batch * params.numSlices;

  for (int64_t work = blockIdx.x; work < params.numWork; work += gridDim.x) {
    // Causal: the tiles with the most keys first, for a shorter tail.
    const int64_t tileOrder = work / batchSlices;
    const int64_t tile =
        params.causal ? params.numTiles - 1 - tileOrder : tileOrder;
    const int64_t batchIndex = (work % batchSlices) / params.numSlices;
    const int64_t slice = work % params.numSlices;
    int64_t offsets[5];
    params.batchIndexer.offsets(batchIndex, offsets);
    const int64_t row0 = tile * TileRows;
    const int64_t tileRows = min(int64_t{TileRows}, params.queries - row0);
    const int64_t column0 = slice * P;
    const int64_t sliceWidth = min(int64_t{P}, params.valueDepth - column0);

    // Key blocks [0, keyBlocks) hold a key visible to some row of the tile.
    int64_t keyBlocks = numKeyBlocks;
    if (params.causal) {
      const int64_t lastVisible = row0 + tileRows - 1 + params.limitOffset;
      keyBlocks =
          lastVisible < 0 ? 0 : min(numKeyBlocks, lastVisible / kKeyBlock + 1);
    }
    const int64_t warpRows = min(int64_t{kRowsPerWarp}, tileRows - warpRow0);
    const int64_t warpLastLimit =
        row0 + warpRow0 + warpRows - 1 + params.limitOffset; // if warpRows > 0

    const Storage *const qBase = q + offsets[0] + row0 * params.qRowStride;
    const Storage *const kBase = k + offsets[1];
    const Storage *const vBase = v + offsets[2] + column0 * params.vColStride;
    const Storage *const biasBase =
        HasBias ? bias + offsets[4] + row0 * params.biasRowStride : nullptr;

    auto loadKeyBlock = [&](int64_t block, int buffer) {
      const int64_t key0 = block * kKeyBlock;
      const int64_t validKeys = min(int64_t{kKeyBlock}, params.keys - key0);
      loadTile<Element, P, kKeyBlock, kThreads>(
          keyTiles + buffer * Layout::kKeyFloats,
          kBase + key0 * params.kRowStride, params.kRowStride,
          params.kColStride, validKeys, params.depth, params.path);
      loadTile<Element, P, kKeyBlock, kThreads>(
          valueTiles + buffer * Layout::kKeyFloats,
          vBase + key0 * params.vRowStride, params.vRowStride,
          params.vColStride, validKeys, sliceWidth, params.path);
    };

    // This warp's bias rows of key block `block` into its part of biasTile
    // (zeros past the rows and keys).
    float *const warpBias = biasTile + warpRow0 * kProbabilityPitch;
    auto loadWarpBias = [&](int64_t block) {
      if constexpr (HasBias) {
        const int64_t key0 = block * kKeyBlock;
        constexpr int kChunks = kRowsPerWarp * kKeyBlock / 4;
#pragma unroll
        for (int chunk = lane; chunk < kChunks; chunk += 32) {
          const int row = chunk / (kKeyBlock / 4);
          const int col = (chunk % (kKeyBlock / 4)) * 4;
          float *destination = warpBias + row * kProbabilityPitch + col;
          const int64_t tileRow = warpRow0 + row;
          const bool rowValid = tileRow < tileRows;
          const Storage *source = biasBase + tileRow * params.biasRowStride +
                                  (key0 + col) * params.biasColStride;
          if constexpr (std::is_same_v<Element, F32Element>) {
            if (params.biasAsync) {
              const bool valid = rowValid && key0 + col < params.keys;
              copyAsync16(destination, valid ? source : biasBase, valid);
              continue;
            }
          }
          float lanes[4];
#pragma unroll
          for (int t = 0; t < 4; ++t)
            lanes[t] = rowValid && key0 + col + t < params.keys
                           ? Element::load(source + t * params.biasColStride)
                           : 0.0f;
          *reinterpret_cast<float4 *>(destination) =
              make_float4(lanes[0], lanes[1], lanes[2], lanes[3]);
        }
      }
    };

    loadTile<Element, P, TileRows, kThreads>(
        queryTile, qBase, params.qRowStride, params.qColStride, tileRows,
        params.depth, params.path);
    if (keyBlocks > 0) {
      loadKeyBlock(0, 0);
      loadWarpBias(0);
    }
    commitAsync();

    // Per row: the maximum of the log2-scaled logits seen, this thread's
    // partial sum of 2^(logit - maximum), and the output accumulators.
    float rowMax[kRowsPerThread], rowSum[kRowsPerThread];
    float acc[kRowsPerThread][kOutputsPerRow];
    int64_t rowLimit[kRowsPerThread];
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      rowMax[i] = -INFINITY;
      rowSum[i] = 0.0f;
      rowLimit[i] =
          row0 + warpRow0 + laneRow + kLaneRows * i + params.limitOffset;
#pragma unroll
      for (int e = 0; e < kOutputsPerRow; ++e)
        acc[i][e] = 0.0f;
    }

    for (int64_t block = 0; block < keyBlocks; ++block) {
      const int buffer = static_cast<int>(block & 1);
      if (block + 1 < keyBlocks) {
        loadKeyBlock(block + 1, buffer ^ 1);
        commitAsync();
        waitAsync<1>();
      } else {
        waitAsync<0>();
      }
      __syncthreads();

      const int64_t key0 = block * kKeyBlock;
      const bool warpActive =
          warpRows > 0 && (!params.causal || key0 <= warpLastLimit);
      if (warpActive) {
        const float *const keyTile = keyTiles + buffer * Layout::kKeyFloats;
        const float *const valueTile = valueTiles + buffer * Layout::kKeyFloats;

        // logits = q k^T over d in order.
        float logits[kRowsPerThread][kKeysPerThread];
#pragma unroll
        for (int i = 0; i < kRowsPerThread; ++i)
#pragma unroll
          for (int c = 0; c < kKeysPerThread; ++c)
            logits[i][c] = 0.0f;
#pragma unroll 2
        for (int d = 0; d < P; d += 4) {
          float4 qs[kRowsPerThread], ks[kKeysPerThread];
#pragma unroll
          for (int i = 0; i < kRowsPerThread; ++i)
            qs[i] = *reinterpret_cast<const float4 *>(
                queryTile + (warpRow0 + laneRow + kLaneRows * i) * kPitch + d);
#pragma unroll
          for (int c = 0; c < kKeysPerThread; ++c)
            ks[c] = *reinterpret_cast<const float4 *>(
                keyTile + (laneCol + kLaneCols * c) * kPitch + d);
#pragma unroll
          for (int i = 0; i < kRowsPerThread; ++i)
#pragma unroll
            for (int c = 0; c < kKeysPerThread; ++c) {
              float s = logits[i][c];
              s = fmaf(qs[i].x, ks[c].x, s);
              s = fmaf(qs[i].y, ks[c].y, s);
              s = fmaf(qs[i].z, ks[c].z, s);
              s = fmaf(qs[i].w, ks[c].w, s);
              logits[i][c] = s;
            }
        }

        // Scale, bias and mask (log2 units), then the online softmax.
        const bool needsMask =
            key0 + kKeyBlock > params.keys ||
            (params.causal && key0 + kKeyBlock - 1 > row0 + params.limitOffset);
        float *const probabilityRows =
            probabilityTile + warpRow0 * kProbabilityPitch;
#pragma unroll
        for (int i = 0; i < kRowsPerThread; ++i) {
          float blockMax = -INFINITY;
#pragma unroll
          for (int c = 0; c < kKeysPerThread; ++c) {
            float x = logits[i][c] * params.scaleLog2e;
            if constexpr (HasBias)
              x = fmaf(logits[i][c], params.scaleLog2e,
                       warpBias[(laneRow + kLaneRows * i) * kProbabilityPitch +
                                laneCol + kLaneCols * c] *
                           kLog2e);
            if (needsMask) {
              const int64_t key = key0 + laneCol + kLaneCols * c;
              if (key >= params.keys || (params.causal && key > rowLimit[i]))
                x = -INFINITY;
            }
            logits[i][c] = x;
            blockMax = fmaxf(blockMax, x);
          }
#pragma unroll
          for (int offset = 1; offset < kLaneCols; offset <<= 1)
            blockMax =
                fmaxf(blockMax, __shfl_xor_sync(0xffffffffu, blockMax, offset));
          const float newMax = fmaxf(rowMax[i], blockMax);
          // While every logit so far is masked, subtract 0: the state stays
          // (max -inf, sum 0, accumulators 0).
          const float reference = newMax == -INFINITY ? 0.0f : newMax;
          const float rescale =
              rowMax[i] == reference ? 1.0f : fastExp2(rowMax[i] - reference);
          rowMax[i] = newMax;
          float sum = 0.0f;
#pragma unroll
          for (int c = 0; c < kKeysPerThread; ++c) {
            const float p = fastExp2(logits[i][c] - reference);
            sum += p;
            probabilityRows[(laneRow + kLaneRows * i) * kProbabilityPitch +
                            laneCol + kLaneCols * c] = p;
          }
          rowSum[i] = fmaf(rowSum[i], rescale, sum);
#pragma unroll
          for (int e = 0; e < kOutputsPerRow; ++e)
            acc[i][e] *= rescale;
        }
        // The bias of this block is read: fetch the next one's while the
        // values are summed.
        __syncwarp();
        if (block + 1 < keyBlocks) {
          loadWarpBias(block + 1);
          commitAsync();
        }

        // acc += p v over the block's keys in order.
#pragma unroll 4
        for (int j = 0; j < kKeyBlock; j += 4) {
          float4 ps[kRowsPerThread];
#pragma unroll
          for (int i = 0; i < kRowsPerThread; ++i)
            ps[i] = *reinterpret_cast<const float4 *>(
                probabilityRows +
                (laneRow + kLaneRows * i) * kProbabilityPitch + j);
#pragma unroll
          for (int jj = 0; jj < 4; ++jj) {
            float4 vs[kColumnGroups];
#pragma unroll
            for (int g = 0; g < kColumnGroups; ++g)
              vs[g] = *reinterpret_cast<const float4 *>(
                  valueTile + (j + jj) * kPitch + laneCol * 4 + 32 * g);
#pragma unroll
            for (int i = 0; i < kRowsPerThread; ++i) {
              const float p = jj == 0   ? ps[i].x
                              : jj == 1 ? ps[i].y
                              : jj == 2 ? ps[i].z
                                        : ps[i].w;
#pragma unroll
              for (int g = 0; g < kColumnGroups; ++g) {
                acc[i][4 * g + 0] = fmaf(p, vs[g].x, acc[i][4 * g + 0]);
                acc[i][4 * g + 1] = fmaf(p, vs[g].y, acc[i][4 * g + 1]);
                acc[i][4 * g + 2] = fmaf(p, vs[g].z, acc[i][4 * g + 2]);
                acc[i][4 * g + 3] = fmaf(p, vs[g].w, acc[i][4 * g + 3]);
              }
            }
          }
        }
      } else if (block + 1 < keyBlocks) {
        loadWarpBias(block + 1);
        commitAsync();
      }
      // Every warp is done with this block's buffers before the next
      // iteration refills them.
      __syncthreads();
    }

    // out = acc / (the row's sum over its lanes); a row with no visible key
    // divides 0 by 0 (NaN), as PyTorch does.
    Storage *const outBase = out + offsets[3] + row0 * params.outRowStride +
                             column0 * params.outColStride;
#pragma unroll
    for (int i = 0; i < kRowsPerThread; ++i) {
      float total = rowSum[i];
#pragma unroll
      for (int offset = 1; offset < kLaneCols; offset <<= 1)
        total += __shfl_xor_sync(0xffffffffu, total, offset);
      const int64_t row = warpRow0 + laneRow + kLaneRows * i;
      if (row >= tileRows)
        continue;
      const float inverse = 1.0f / total;
      Storage *const outRow = outBase + row * params.outRowStride;
#pragma unroll
      for (int g = 0; g < kColumnGroups; ++g)
#pragma unroll
        for (int t = 0; t < 4; ++t) {
          const int64_t column = laneCol * 4 + 32 * g + t;
          if (column < sliceWidth)
            Element::store(outRow + column * params.outColStride,
                           acc[i][4 * g + t] * inverse);
        }
    }
    // The next work item's loads must not overwrite a tile still being
    // read (a tile without key blocks skipped the loop's barriers).
    __syncthreads();
  }
}

// Whether `tensor`'s rows can be read 4 elements at a time: unit inner
// stride, other strides and the data aligned to 4 elements, and (`width`,
// the columns read) a multiple of 4.
bool rowsLoadByFour(const ac_tensor *tensor, int64_t width) {
  const int rank = tensor->rank;
  if (width % 4 != 0 || tensor->strides[rank - 1] != 1)
    return false;
  if (reinterpret_cast<uintptr_t>(tensor->data) %
          (4 * ac_dtype_size(tensor->dtype)) !=
      0)
    return false;
  for (int dim = 0; dim < rank - 1; ++dim)
    if (tensor->sizes[dim] > 1 && tensor->strides[dim] % 4 != 0)
      return false;
  return true;
}

int multiprocessorCount() {
  static const int count = [] {
    int device = 0, value = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount,
                               device) != cudaSuccess)
      value = 132;
    return value;
  }();
  return count;
}

// AUTOCHUNK_ATTENTION_TILE=64|128 forces the query tile height (for
// benchmarks); 0 when unset.
int forcedTileRows() {
  static const int rows = [] {
    const char *value = std::getenv("AUTOCHUNK_ATTENTION_TILE");
    if (!value)
      return 0;
    const int parsed = std::atoi(value);
    return parsed == 64 || parsed == 128 ? parsed : 0;
  }();
  return rows;
}

template <typename Element, int P, int TileRows, bool HasBias>
ac_status launchAttention(const char *kernel, AttentionParams params,
                          const ac_tensor *q, const ac_tensor *k,
                          const ac_tensor *v, const ac_tensor *bias,
                          const ac_tensor *out, cudaStream_t stream) {
  using Layout = SharedLayout<P, TileRows, HasBias>;
  auto *function = attentionKernel<Element, P, TileRows, HasBias>;
  // Once per instantiation: shared memory beyond the default 48 KiB.
  static const cudaError_t attributeError = cudaFuncSetAttribute(
      function, cudaFuncAttributeMaxDynamicSharedMemorySize,
      static_cast<int>(Layout::kBytes));
  if (ac_status status =
          checkCuda(kernel, "setting the attention kernel's shared memory size",
                    attributeError))
    return status;
  params.numTiles = (params.queries + TileRows - 1) / TileRows;
  params.numWork = params.numTiles * params.batch * params.numSlices;
  const unsigned blocks =
      static_cast<unsigned>(std::min<int64_t>(params.numWork, 1 << 30));
  function<<<blocks, TileRows * 2, Layout::kBytes, stream>>>(
      params, typedData<Element>(q), typedData<Element>(k),
      typedData<Element>(v),
      bias ? typedData<Element>(bias) : typedData<Element>(q),
      typedData<Element>(out));
  return checkLaunch(kernel);
}

// Picks the tile height: 128 rows (half the key/value traffic per row) when
// that still gives every multiprocessor two tiles, else 64; 64 only for the
// widest depth, whose 128-row tile does not fit in shared memory.
template <typename Element, int P, bool HasBias>
ac_status launchWithDepth(const char *kernel, AttentionParams params,
                          const ac_tensor *q, const ac_tensor *k,
                          const ac_tensor *v, const ac_tensor *bias,
                          const ac_tensor *out, cudaStream_t stream) {
  if constexpr (P <= 64) {
    const int64_t tallTiles =
        (params.queries + 127) / 128 * params.batch * params.numSlices;
    const int forced = forcedTileRows();
    const bool tall = forced ? forced == 128
                             : tallTiles >= 2 * int64_t{multiprocessorCount()};
    if (tall)
      return launchAttention<Element, P, 128, HasBias>(kernel, params, q, k, v,
                                                       bias, out, stream);
  }
  return launchAttention<Element, P, 64, HasBias>(kernel, params, q, k, v, bias,
                                                  out, stream);
}

template <typename Element, bool HasBias>
ac_status dispatchDepth(const char *kernel, int padded, AttentionParams params,
                        const ac_tensor *q, const ac_tensor *k,
                        const ac_tensor *v, const ac_tensor *bias,
                        const ac_tensor *out, cudaStream_t stream) {
  if (padded == 32)
    return launchWithDepth<Element, 32, HasBias>(kernel, params, q, k, v, bias,
                                                 out, stream);
  if (padded == 64)
    return launchWithDepth<Element, 64, HasBias>(kernel, params, q, k, v, bias,
                                                 out, stream);
  return launchWithDepth<Element, 128, HasBias>(kernel, params, q, k, v, bias,
                                                out, stream);
}

} // namespace

extern "C" {

ac_status ac_attention(const ac_tensor *q, const ac_tensor *k,
                       const ac_tensor *v, const ac_tensor *bias,
                       ac_tensor *out, double scale, int causal,
                       int64_t row_offset, int64_t diagonal) {
  KernelTimer timer("ac_attention", out);
  const char *kernel = "ac_attention";
  if (ac_status status = checkInput(kernel, "query", q))
    return status;
  if (ac_status status = checkInput(kernel, "key", k))
    return status;
  if (ac_status status = checkInput(kernel, "value", v))
    return status;
  if (bias)
    if (ac_status status = checkInput(kernel, "bias", bias))
      return status;
  ac_tensor biasView;
  if (ac_status status = autochunk::runtime::checkAttentionArguments(
          kernel, q, k, v, bias, out, row_offset, diagonal, &biasView))
    return status;
  const int rank = q->rank;
  const int64_t depth = q->sizes[rank - 1];
  const int64_t valueDepth = v->sizes[rank - 1];
  if (depth > kMaxDepth)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: query %s has depth %lld; the CUDA kernel takes "
                        "at most %lld",
                        kernel, describe(q).text, static_cast<long long>(depth),
                        static_cast<long long>(kMaxDepth));
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;

  AttentionParams params{};
  params.queries = q->sizes[rank - 2];
  params.keys = k->sizes[rank - 2];
  params.depth = depth;
  params.valueDepth = valueDepth;
  params.batch = productOfSizes(q->sizes, 0, rank - 2);
  // The padded depth P covers q/k's depth and one slice of value columns.
  const int64_t widest =
      std::max(depth, std::min<int64_t>(valueDepth, kMaxSliceWidth));
  const int padded = widest <= 32 ? 32 : widest <= 64 ? 64 : 128;
  params.numSlices = (valueDepth + padded - 1) / padded;
  const ac_tensor *batchOperands[5] = {q, k, v, out, bias ? &biasView : q};
  params.batchIndexer = makeIndexer(rank - 2, q->sizes, batchOperands);
  params.qRowStride = q->strides[rank - 2];
  params.qColStride = q->strides[rank - 1];
  params.kRowStride = k->strides[rank - 2];
  params.kColStride = k->strides[rank - 1];
  params.vRowStride = v->strides[rank - 2];
  params.vColStride = v->strides[rank - 1];
  params.outRowStride = out->strides[rank - 2];
  params.outColStride = out->strides[rank - 1];
  params.biasRowStride = bias ? biasView.strides[rank - 2] : 0;
  params.biasColStride = bias ? biasView.strides[rank - 1] : 0;
  params.scaleLog2e = static_cast<float>(scale * 1.4426950408889634);
  params.causal = causal != 0;
  params.limitOffset = row_offset + diagonal;
  const bool byFour = rowsLoadByFour(q, depth) && rowsLoadByFour(k, depth) &&
                      rowsLoadByFour(v, valueDepth);
  params.path = !byFour              ? LoadPath::Scalar
                : q->dtype == AC_F32 ? LoadPath::Async
                                     : LoadPath::Vector;

  params.biasAsync = bias && q->dtype == AC_F32 && params.keys % 4 == 0 &&
                     rowsLoadByFour(&biasView, params.keys);

  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  const ac_tensor *biasOperand = bias ? &biasView : nullptr;
  ac_status result = AC_OK;
  dispatchDtype(q->dtype, [&](auto element) {
    using Element = decltype(element);
    result = bias ? dispatchDepth<Element, true>(kernel, padded, params, q, k,
                                                 v, biasOperand, out, stream)
                  : dispatchDepth<Element, false>(kernel, padded, params, q, k,
                                                  v, nullptr, out, stream);
  });
  return result;
}

} // extern "C"
