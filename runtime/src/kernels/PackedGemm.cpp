//===- PackedGemm.cpp - the deterministic packed f32 GEMM -----------------===//
//
// Every element of C is one chain c = fma(a[m][k], b[k][n], c) over k = 0, 1,
// ..., K-1 starting from +0, whatever M, N, the tiling, the thread count or
// the position of the element in a chunk: operands are packed into
// zero-padded panels so that edge tiles run the same micro-kernel, and a lane
// of a vector FMA rounds exactly like a scalar FMA. (OpenBLAS picks kernels
// whose summation order depends on M and N, so it cannot promise this.)
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"

#include <immintrin.h>

#include <cstring>

using namespace autochunk::runtime;

namespace {

constexpr int64_t kDepthBlock = 256; // KC: one packed block of K
constexpr int64_t kMaxTileElements = 8 * 32;

// Accumulates a packed MR x kc panel of A times a packed kc x NR panel of B
// into the MR x NR tile `c` (row-major), element by element in k order.
using MicroKernelFn = void (*)(int64_t depth, const float *aPanel,
                               const float *bPanel, float *c);

struct MicroKernel {
  int64_t rows; // MR
  int64_t cols; // NR
  MicroKernelFn run;
};

// 8 x 32 on AVX-512: 16 accumulators hide the FMA latency.
__attribute__((target("avx512f"))) void microKernelAvx512(int64_t depth,
                                                          const float *aPanel,
                                                          const float *bPanel,
                                                          float *c) {
  constexpr int rows = 8, cols = 32;
  __m512 acc[rows][2];
  for (int row = 0; row < rows; ++row) {
    acc[row][0] = _mm512_loadu_ps(c + row * cols);
    acc[row][1] = _mm512_loadu_ps(c + row * cols + 16);
  }
  for (int64_t k = 0; k < depth; ++k) {
    __m512 b0 = _mm512_loadu_ps(bPanel + k * cols);
    __m512 b1 = _mm512_loadu_ps(bPanel + k * cols + 16);
    const float *a = aPanel + k * rows;
    for (int row = 0; row < rows; ++row) {
      __m512 value = _mm512_set1_ps(a[row]);
      acc[row][0] = _mm512_fmadd_ps(value, b0, acc[row][0]);
      acc[row][1] = _mm512_fmadd_ps(value, b1, acc[row][1]);
    }
  }
  for (int row = 0; row < rows; ++row) {
    _mm512_storeu_ps(c + row * cols, acc[row][0]);
    _mm512_storeu_ps(c + row * cols + 16, acc[row][1]);
  }
}

// 6 x 16 on AVX2 with FMA.
__attribute__((target("avx2,fma"))) void microKernelAvx2(int64_t depth,
                                                         const float *aPanel,
                                                         const float *bPanel,
                                                         float *c) {
  constexpr int rows = 6, cols = 16;
  __m256 acc[rows][2];
  for (int row = 0; row < rows; ++row) {
    acc[row][0] = _mm256_loadu_ps(c + row * cols);
    acc[row][1] = _mm256_loadu_ps(c + row * cols + 8);
  }
  for (int64_t k = 0; k < depth; ++k) {
    __m256 b0 = _mm256_loadu_ps(bPanel + k * cols);
    __m256 b1 = _mm256_loadu_ps(bPanel + k * cols + 8);
    const float *a = aPanel + k * rows;
    for (int row = 0; row < rows; ++row) {
      __m256 value = _mm256_broadcast_ss(a + row);
      acc[row][0] = _mm256_fmadd_ps(value, b0, acc[row][0]);
      acc[row][1] = _mm256_fmadd_ps(value, b1, acc[row][1]);
    }
  }
  for (int row = 0; row < rows; ++row) {
    _mm256_storeu_ps(c + row * cols, acc[row][0]);
    _mm256_storeu_ps(c + row * cols + 8, acc[row][1]);
  }
}

// Without FMA hardware: a rounded product, then a rounded sum (the build
// has -ffp-contract=off, so the compiler never fuses them on some paths).
void microKernelPortable(int64_t depth, const float *aPanel,
                         const float *bPanel, float *c) {
  constexpr int rows = 4, cols = 8;
  float acc[rows][cols];
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < cols; ++col)
      acc[row][col] = c[row * cols + col];
  for (int64_t k = 0; k < depth; ++k) {
    const float *b = bPanel + k * cols;
    const float *a = aPanel + k * rows;
    for (int row = 0; row < rows; ++row)
      for (int col = 0; col < cols; ++col)
        acc[row][col] = acc[row][col] + a[row] * b[col];
  }
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < cols; ++col)
      c[row * cols + col] = acc[row][col];
}

// One kernel for the whole process, so that every call rounds alike.
MicroKernel selectMicroKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {8, 32, microKernelAvx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {6, 16, microKernelAvx2};
  return {4, 8, microKernelPortable};
}

// Packs rows [0, m) x depths [k0, k0 + kc) of A into panels of kTileRows
// rows: panel p holds, for each k, rows p*MR .. p*MR+MR-1 (zero past m).
void packA(const float *a, int64_t rowStride, int64_t colStride, int64_t m,
           int64_t k0, int64_t kc, int64_t kTileRows, float *packed) {
  int64_t panels = (m + kTileRows - 1) / kTileRows;
  parallelFor(panels, kTileRows * kc, [&](int64_t begin, int64_t end) {
    for (int64_t panel = begin; panel < end; ++panel) {
      float *target = packed + panel * kTileRows * kc;
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t r = 0; r < kTileRows; ++r) {
          int64_t row = panel * kTileRows + r;
          target[k * kTileRows + r] =
              row < m ? a[row * rowStride + (k0 + k) * colStride] : 0.0f;
        }
    }
  });
}

// Packs depths [k0, k0 + kc) x columns [0, n) of B into panels of kTileCols
// columns: panel p holds, for each k, columns p*NR .. p*NR+NR-1.
void packB(const float *b, int64_t rowStride, int64_t colStride, int64_t n,
           int64_t k0, int64_t kc, int64_t kTileCols, float *packed) {
  int64_t panels = (n + kTileCols - 1) / kTileCols;
  parallelFor(panels, kTileCols * kc, [&](int64_t begin, int64_t end) {
    for (int64_t panel = begin; panel < end; ++panel) {
      float *target = packed + panel * kTileCols * kc;
      for (int64_t k = 0; k < kc; ++k) {
        const float *source = b + (k0 + k) * rowStride;
        for (int64_t c = 0; c < kTileCols; ++c) {
          int64_t col = panel * kTileCols + c;
          target[k * kTileCols + c] = col < n ? source[col * colStride] : 0.0f;
        }
      }
    }
  });
}

} // namespace

namespace autochunk::runtime {

ac_status packedGemmF32(const char *kernel, int64_t m, int64_t n, int64_t k,
                        StridedMatrix a, StridedMatrix b, StridedMatrix c,
                        GemmWorkspace &workspace) {
  static const MicroKernel microKernel = selectMicroKernel();
  const int64_t kTileRows = microKernel.rows, kTileCols = microKernel.cols;
  if (m == 0 || n == 0)
    return AC_OK;
  const int64_t rowPanels = (m + kTileRows - 1) / kTileRows;
  const int64_t colPanels = (n + kTileCols - 1) / kTileCols;
  const int64_t depth = std::min(k, kDepthBlock);
  size_t aBytes = static_cast<size_t>(rowPanels * kTileRows) *
                  std::max<int64_t>(depth, 1) * sizeof(float);
  size_t bBytes = static_cast<size_t>(colPanels * kTileCols) *
                  std::max<int64_t>(depth, 1) * sizeof(float);
  if (!ensureScratch(workspace.lhsPanels, workspace.lhsPanelBytes, aBytes) ||
      !ensureScratch(workspace.rhsPanels, workspace.rhsPanelBytes, bBytes))
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "%s: cannot allocate %zu bytes of packed panels",
                        kernel, aBytes + bBytes);
  float *aPacked = workspace.lhsPanels.as<float>();
  float *bPacked = workspace.rhsPanels.as<float>();
  const float *aData = static_cast<const float *>(a.data);
  const float *bData = static_cast<const float *>(b.data);
  float *cData = static_cast<float *>(c.data);

  // Tiles are numbered column panel major, so a thread's consecutive tiles
  // share a B panel. K == 0 still runs one pass that stores zeros.
  const int64_t tiles = rowPanels * colPanels;
  for (int64_t k0 = 0; k0 < std::max<int64_t>(k, 1); k0 += kDepthBlock) {
    const int64_t kc = std::min(kDepthBlock, k - k0);
    const bool first = k0 == 0;
    if (kc > 0) {
      packA(aData, a.rowStride, a.colStride, m, k0, kc, kTileRows, aPacked);
      packB(bData, b.rowStride, b.colStride, n, k0, kc, kTileCols, bPacked);
    }
    parallelFor(
        tiles, kTileRows * kTileCols * std::max<int64_t>(kc, 1),
        [&](int64_t begin, int64_t end) {
          alignas(64) float tile[kMaxTileElements];
          for (int64_t index = begin; index < end; ++index) {
            int64_t colPanel = index / rowPanels;
            int64_t rowPanel = index % rowPanels;
            int64_t row0 = rowPanel * kTileRows;
            int64_t col0 = colPanel * kTileCols;
            int64_t rows = std::min(kTileRows, m - row0);
            int64_t cols = std::min(kTileCols, n - col0);
            // Unit column stride (the usual case) moves rows with memcpy:
            // with a small K the tile's load and store would otherwise cost
            // as much as its arithmetic.
            const bool unitColumns = c.colStride == 1;
            std::fill(tile, tile + kTileRows * kTileCols, 0.0f);
            if (!first)
              for (int64_t r = 0; r < rows; ++r) {
                float *source = cData + (row0 + r) * c.rowStride;
                if (unitColumns)
                  std::memcpy(tile + r * kTileCols, source + col0,
                              cols * sizeof(float));
                else
                  for (int64_t cc = 0; cc < cols; ++cc)
                    tile[r * kTileCols + cc] =
                        source[(col0 + cc) * c.colStride];
              }
            if (kc > 0)
              microKernel.run(kc, aPacked + rowPanel * kTileRows * kc,
                              bPacked + colPanel * kTileCols * kc, tile);
            for (int64_t r = 0; r < rows; ++r) {
              float *target = cData + (row0 + r) * c.rowStride;
              if (unitColumns)
                std::memcpy(target + col0, tile + r * kTileCols,
                            cols * sizeof(float));
              else
                for (int64_t cc = 0; cc < cols; ++cc)
                  target[(col0 + cc) * c.colStride] = tile[r * kTileCols + cc];
            }
          }
        });
  }
  return AC_OK;
}

} // namespace autochunk::runtime
