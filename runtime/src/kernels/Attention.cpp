//===- Attention.cpp - fused attention without materialized logits -------===//
//
// The CPU ac_attention (kernels.h): softmax(scale * q k^T, causal mask,
// + bias) v, one block of query rows at a time, so the [.., M, N] logits
// only ever exist as a block of rows in a thread's scratch memory.
//
// Determinism. Each output row must be a fixed function of that row's
// inputs, whatever other rows a call computes (a chunked executable calls
// with a slice of the queries and its row_offset) and whatever the thread
// count. So:
//  * both products go through the packed GEMM (packedGemmF32), whose every
//    element is one FMA chain over k in order, whatever M, N, the tiling or
//    the threads. It is called directly rather than through stridedGemm, so
//    that ac_set_gemm_backend(OPENBLAS) cannot break the promise;
//  * rows are tiled in blocks aligned to the absolute query position
//    (row + row_offset), and a causal block's keys stop after the last key
//    its last aligned row sees. The P v product of a row thus always runs
//    over the same keys (its masked ones with p = +0) whether the block is
//    whole or cut by the edge of a chunk, so even 0 * inf or a -0 sum come
//    out alike;
//  * the softmax of a row reads only that row: f32 maximum, f32
//    exponentials (a polynomial whose bits are the same in every vector
//    width), and their sum in f64 over eight lanes (key j in lane j % 8,
//    lanes added in a fixed tree); the row's P v is divided by that sum and
//    rounded to the dtype once.
// Inputs of any dtype and strides are loaded into contiguous f32 scratch
// (K transposed) per batch and per block, which also keeps the GEMM's
// operand packing cheap.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "KernelSupport.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>

using namespace autochunk::runtime;

namespace {

// Query rows per block. The packed GEMM repacks K^T and V for every block,
// so larger blocks amortize that better (64 -> 128 rows: 15% faster at
// N = 4096); beyond 128 the block's logits (rows x N floats) no longer fit
// the L2 cache at N = 4096 and the causal tail (up to a block of masked keys
// per row) grows.
constexpr int64_t kRowBlock = 128;
// Partial sums of a softmax denominator (see the file comment).
constexpr int64_t kSumLanes = 8;

struct AttentionParams {
  double scale;
  bool causal;
  int64_t rowOffset, diagonal;
};

int64_t floorDivide(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  return quotient * divisor > value ? quotient - 1 : quotient;
}

// The number of leading keys the query at absolute position `position`
// (row + row_offset) sees: key j is visible iff j <= position + diagonal.
int64_t visibleKeys(const AttentionParams &params, int64_t position,
                    int64_t keys) {
  if (!params.causal)
    return keys;
  return std::clamp<int64_t>(position + params.diagonal + 1, 0, keys);
}

// The row loops below are compiled once per vector width and picked at load
// time; each lane runs the same IEEE operations as the scalar code (the
// build never contracts to FMA), so the choice never changes a bit.
#define AC_ATTENTION_CLONES                                                    \
  __attribute__((target_clones("avx512f", "avx2", "default")))

// t = scale * x, the product in f64 rounded once, as ac_scale computes it.
AC_ATTENTION_CLONES void scaleRow(float *row, int64_t count, double scale) {
  for (int64_t index = 0; index < count; ++index)
    row[index] = static_cast<float>(static_cast<double>(row[index]) * scale);
}

// exp(x) for x <= 0 (or NaN) as plain arithmetic the compiler vectorizes,
// within 2 ulp of the true value: x = n ln2 + r (Cody-Waite), a degree-7
// polynomial for exp(r) on |r| <= ln2 / 2 (Cephes' expf), times 2^n. Below
// -87 (results under FLT_MIN, negligible beside the row maximum's 1) it
// returns +0.
inline float exponentialNonPositive(float x) {
  constexpr float kLowest = -87.0f;
  const float clamped = x < kLowest ? kLowest : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick, exact for |n| < 2^22.
  const float shifter = 12582912.0f;
  const float n = (clamped * 1.44269504088896341f + shifter) - shifter;
  const float r =
      (clamped - n * 0.693359375f) - n * -2.12194440e-4f; // ln2 hi + lo
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t exponent = static_cast<int32_t>(n) + 127; // >= 1 here
  const float power = bitsToFloat(static_cast<uint32_t>(exponent) << 23); // 2^n
  const float result = p * power;
  return x < kLowest ? 0.0f : result;
}

// Replaces row[0, count) by exp(row - max) and returns their sum: f32
// maximum (exact in any order), f32 exponentials, an f64 sum over
// kSumLanes lanes (key j in lane j % kSumLanes, lanes added in a fixed
// tree), so the sum depends on the row alone.
AC_ATTENTION_CLONES double exponentiateRow(float *row, int64_t count) {
  // Lane-wise maxima (the compiler keeps a scalar maximum's dependency
  // chain otherwise), then across lanes.
  constexpr int64_t kMaxLanes = 16;
  float lanesMax[kMaxLanes];
  std::fill(lanesMax, lanesMax + kMaxLanes,
            -std::numeric_limits<float>::infinity());
  int64_t start = 0;
  for (; start + kMaxLanes <= count; start += kMaxLanes)
    for (int64_t lane = 0; lane < kMaxLanes; ++lane)
      lanesMax[lane] = row[start + lane] > lanesMax[lane] ? row[start + lane]
                                                          : lanesMax[lane];
  for (int64_t lane = 0; start + lane < count; ++lane)
    lanesMax[lane] =
        row[start + lane] > lanesMax[lane] ? row[start + lane] : lanesMax[lane];
  float maximum = lanesMax[0];
  for (int64_t lane = 1; lane < kMaxLanes; ++lane)
    maximum = lanesMax[lane] > maximum ? lanesMax[lane] : maximum;
  for (int64_t index = 0; index < count; ++index)
    row[index] = exponentialNonPositive(row[index] - maximum);
  double lanes[kSumLanes] = {0.0};
  int64_t index = 0;
  for (; index + kSumLanes <= count; index += kSumLanes)
    for (int64_t lane = 0; lane < kSumLanes; ++lane)
      lanes[lane] += static_cast<double>(row[index + lane]);
  for (int64_t lane = 0; index + lane < count; ++lane)
    lanes[lane] += static_cast<double>(row[index + lane]);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// The first failure of any thread, with its message (ac_last_error() is per
// thread).
class FailureRecord {
public:
  bool failed() const { return status.load(std::memory_order_relaxed) != 0; }
  void record(ac_status failure) {
    std::lock_guard<std::mutex> lock(mutex);
    int expected = AC_OK;
    if (status.compare_exchange_strong(expected, failure))
      message = ac_last_error();
  }
  ac_status report() const {
    if (!failed())
      return AC_OK;
    return ac_set_error(static_cast<ac_status>(status.load()), "%s",
                        message.c_str());
  }

private:
  std::atomic<int> status{AC_OK};
  std::string message;
  std::mutex mutex;
};

// One thread's scratch memory, outside the arena and freed when the call
// returns: about kRowBlock * (N + D + E) + N * (D + E) floats plus the
// packed GEMM's panels (kRowBlock and N by at most 256 depths each).
struct ThreadState {
  ScratchBuffer keysT, values, queryBlock, logits, accumulators;
  GemmWorkspace workspace;
  int64_t loadedBatch = -1;
  size_t failedBytes = 0;

  bool allocate(int64_t keys, int64_t depth, int64_t valueDepth) {
    const auto floats = [](int64_t count) {
      return static_cast<size_t>(count) * sizeof(float);
    };
    const size_t sizes[5] = {floats(depth * keys), floats(keys * valueDepth),
                             floats(kRowBlock * depth),
                             floats(kRowBlock * keys),
                             floats(kRowBlock * valueDepth)};
    ScratchBuffer *buffers[5] = {&keysT, &values, &queryBlock, &logits,
                                 &accumulators};
    for (int index = 0; index < 5; ++index)
      if (!buffers[index]->allocate(sizes[index])) {
        failedBytes = sizes[index];
        return false;
      }
    return true;
  }
};

template <typename Element> class AttentionRunner {
  using Storage = typename Element::Storage;

public:
  AttentionRunner(const ac_tensor *q, const ac_tensor *k, const ac_tensor *v,
                  const ac_tensor *bias, ac_tensor *out,
                  const AttentionParams &params)
      : q(q), k(k), v(v), bias(bias), out(out), params(params), rank(q->rank),
        queries(q->sizes[rank - 2]), keys(k->sizes[rank - 2]),
        depth(q->sizes[rank - 1]), valueDepth(v->sizes[rank - 1]),
        batches(productOfSizes(q->sizes, 0, rank - 2)),
        firstBlock(floorDivide(params.rowOffset, kRowBlock)),
        blocksPerBatch(floorDivide(params.rowOffset + queries - 1, kRowBlock) -
                       firstBlock + 1) {}

  ac_status run() {
    // Threads split the blocks; the GEMMs inside a block then run on their
    // thread (an OpenMP region nested in parallelFor's is inactive, as
    // batchedGemm also relies on), and any split gives the same bits.
    const int64_t items = batches * blocksPerBatch;
    const int64_t workPerItem = 2 * kRowBlock * keys * (depth + valueDepth);
    parallelFor(items, workPerItem, [&](int64_t begin, int64_t end) {
      ThreadState state;
      if (!state.allocate(keys, depth, valueDepth)) {
        failure.record(ac_set_error(
            AC_ERROR_OUT_OF_MEMORY,
            "ac_attention: cannot allocate %zu bytes of scratch memory",
            state.failedBytes));
        return;
      }
      for (int64_t item = begin; item < end && !failure.failed(); ++item)
        if (ac_status status = runItem(item, state))
          failure.record(status);
    });
    return failure.report();
  }

private:
  // The row tiling: item -> (batch, aligned block). Within a batch the
  // blocks alternate from both ends (first, last, second, ...) so that the
  // contiguous item ranges of the threads get similar causal work.
  void locate(int64_t item, int64_t &batch, int64_t &rowBegin, int64_t &rowEnd,
              int64_t &blockKeys) const {
    batch = item / blocksPerBatch;
    const int64_t order = item % blocksPerBatch;
    const int64_t index =
        order % 2 == 0 ? order / 2 : blocksPerBatch - 1 - order / 2;
    const int64_t absoluteBegin = (firstBlock + index) * kRowBlock;
    rowBegin = std::max<int64_t>(absoluteBegin - params.rowOffset, 0);
    rowEnd = std::min<int64_t>(absoluteBegin + kRowBlock - params.rowOffset,
                               queries);
    // What the block's last aligned row sees, even when the chunk cuts the
    // block short: see the file comment.
    blockKeys = visibleKeys(params, absoluteBegin + kRowBlock - 1, keys);
  }

  // K^T (D x N) and V (N x E) of `batch` as contiguous f32 matrices.
  void loadKeysAndValues(int64_t batch, ThreadState &state) const {
    if (state.loadedBatch == batch)
      return;
    const Storage *keyData =
        typedData<Element>(k) + offsetOfLinear(k, rank - 2, batch);
    const int64_t keyRowStride = k->strides[rank - 2];
    const int64_t keyColStride = k->strides[rank - 1];
    float *keysT = state.keysT.as<float>();
    for (int64_t key = 0; key < keys; ++key)
      for (int64_t d = 0; d < depth; ++d)
        keysT[d * keys + key] =
            Element::load(keyData + key * keyRowStride + d * keyColStride);
    const Storage *valueData =
        typedData<Element>(v) + offsetOfLinear(v, rank - 2, batch);
    const int64_t valueRowStride = v->strides[rank - 2];
    const int64_t valueColStride = v->strides[rank - 1];
    float *values = state.values.as<float>();
    for (int64_t key = 0; key < keys; ++key)
      for (int64_t e = 0; e < valueDepth; ++e)
        values[key * valueDepth + e] = Element::load(
            valueData + key * valueRowStride + e * valueColStride);
    state.loadedBatch = batch;
  }

  // Turns row `logits` (its first `blockKeys` entries are q.k products)
  // into unnormalized probabilities: exp(t - max) for the `visible` keys,
  // +0 for the masked rest. Returns their sum.
  double softmaxNumerators(float *logits, int64_t blockKeys, int64_t visible,
                           const Storage *biasRow, int64_t biasStride) const {
    scaleRow(logits, visible, params.scale);
    if (biasRow)
      for (int64_t key = 0; key < visible; ++key)
        logits[key] += Element::load(biasRow + key * biasStride);
    const double sum = exponentiateRow(logits, visible);
    std::fill(logits + visible, logits + blockKeys, 0.0f);
    return sum;
  }

  ac_status runItem(int64_t item, ThreadState &state) const {
    int64_t batch, rowBegin, rowEnd, blockKeys;
    locate(item, batch, rowBegin, rowEnd, blockKeys);
    const int64_t rows = rowEnd - rowBegin;
    loadKeysAndValues(batch, state);

    const Storage *queryData = typedData<Element>(q) +
                               offsetOfLinear(q, rank - 2, batch) +
                               rowBegin * q->strides[rank - 2];
    float *queryBlock = state.queryBlock.as<float>();
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t d = 0; d < depth; ++d)
        queryBlock[row * depth + d] = Element::load(
            queryData + row * q->strides[rank - 2] + d * q->strides[rank - 1]);

    // Logits of the block's rows against its keys (row stride blockKeys).
    float *logits = state.logits.as<float>();
    const int64_t logitStride = std::max<int64_t>(blockKeys, 1);
    if (ac_status status =
            packedGemmF32("ac_attention", rows, blockKeys, depth,
                          {queryBlock, depth, 1}, {state.keysT.data, keys, 1},
                          {logits, logitStride, 1}, state.workspace))
      return status;

    const Storage *biasData =
        bias ? typedData<Element>(bias) + offsetOfLinear(bias, rank - 2, batch)
             : nullptr;
    double sums[kRowBlock];
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t localRow = rowBegin + row;
      const Storage *biasRow =
          bias ? biasData + localRow * bias->strides[rank - 2] : nullptr;
      sums[row] = softmaxNumerators(
          logits + row * logitStride, blockKeys,
          visibleKeys(params, localRow + params.rowOffset, keys), biasRow,
          bias ? bias->strides[rank - 1] : 0);
    }

    float *accumulators = state.accumulators.as<float>();
    if (ac_status status = packedGemmF32(
            "ac_attention", rows, valueDepth, blockKeys,
            {logits, logitStride, 1}, {state.values.data, valueDepth, 1},
            {accumulators, std::max<int64_t>(valueDepth, 1), 1},
            state.workspace))
      return status;

    Storage *outData = typedData<Element>(out) +
                       offsetOfLinear(out, rank - 2, batch) +
                       rowBegin * out->strides[rank - 2];
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t e = 0; e < valueDepth; ++e)
        Element::store(
            outData + row * out->strides[rank - 2] + e * out->strides[rank - 1],
            static_cast<float>(
                static_cast<double>(accumulators[row * valueDepth + e]) /
                sums[row]));
    return AC_OK;
  }

  const ac_tensor *q, *k, *v, *bias, *out;
  const AttentionParams params;
  const int rank;
  const int64_t queries, keys, depth, valueDepth, batches;
  const int64_t firstBlock, blocksPerBatch;
  FailureRecord failure;
};

} // namespace

extern "C" {

ac_status ac_attention(const ac_tensor *q, const ac_tensor *k,
                       const ac_tensor *v, const ac_tensor *bias,
                       ac_tensor *out, double scale, int causal,
                       int64_t row_offset, int64_t diagonal) {
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
  if (ac_status status = checkAttentionArguments(
          kernel, q, k, v, bias, out, row_offset, diagonal, &biasView))
    return status;
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  const AttentionParams params{scale, causal != 0, row_offset, diagonal};
  ac_status result = AC_OK;
  dispatchDtype(q->dtype, [&](auto element) {
    AttentionRunner<decltype(element)> runner(
        q, k, v, bias ? &biasView : nullptr, out, params);
    result = runner.run();
  });
  return result;
}

} // extern "C"
