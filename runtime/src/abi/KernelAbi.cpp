//===- KernelAbi.cpp - the kernel entry points compiled models call -------===//
//
// Each ac_kernel_<kernel>_<dtype> function (mlir_abi.h) turns the unranked
// memref arguments that compiled code passes into ac_tensor views, calls the
// kernel of kernels.h, records the first failure of the run and, when the
// run has a measurement arena, what the kernel wrote in it.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/kernels.h"
#include "autochunk/runtime/mlir_abi.h"

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace {

/// The state of the current run, shared by every thread: compiled code may
/// call kernels from any thread, and the first failure anywhere stops it.
std::atomic<ac_arena *> runArena{nullptr};
std::atomic<int> runStatus{AC_OK};
std::mutex runMessageMutex;
char runMessage[1024] = "";

/// The fixed part of a ranked memref descriptor; `rank` sizes then `rank`
/// strides (both int64_t, in elements) follow it.
struct MemrefHeader {
  void *allocated;
  void *aligned;
  int64_t offset;
};

/// One kernel call: converts its buffers and reports its outcome.
/// Time per kernel and dtype, printed to stderr at exit when the environment
/// sets AUTOCHUNK_PROFILE: where a compiled model spends its time, without a
/// profiler.
class KernelProfile {
public:
  static bool enabled() {
    static const bool on = std::getenv("AUTOCHUNK_PROFILE") != nullptr;
    return on;
  }

  static void add(const char *kernel, ac_dtype dtype, double ms) {
    static KernelProfile &profile = *new KernelProfile();
    std::lock_guard<std::mutex> lock(profile.mutex);
    if (profile.entries.empty())
      std::atexit([] { profile.print(); });
    Entry &entry =
        profile
            .entries[std::string(kernel) + " (" + ac_dtype_name(dtype) + ")"];
    ++entry.calls;
    entry.ms += ms;
  }

private:
  struct Entry {
    int64_t calls = 0;
    double ms = 0;
  };

  void print() {
    std::lock_guard<std::mutex> lock(mutex);
    double total = 0;
    for (auto &[name, entry] : entries)
      total += entry.ms;
    std::fprintf(stderr, "kernel profile (%.3f ms in all):\n", total);
    for (auto &[name, entry] : entries)
      std::fprintf(stderr, "  %-24s %8" PRId64 " calls %12.3f ms %6.1f%%\n",
                   name.c_str(), entry.calls, entry.ms,
                   total > 0 ? 100.0 * entry.ms / total : 0.0);
  }

  std::mutex mutex;
  std::map<std::string, Entry> entries;
};

class KernelCall {
public:
  KernelCall(const char *kernel, ac_dtype dtype)
      : kernel(kernel), dtype(dtype) {
    if (KernelProfile::enabled())
      start = std::chrono::steady_clock::now();
  }

  ~KernelCall() {
    if (KernelProfile::enabled())
      KernelProfile::add(kernel, dtype,
                         std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count());
  }

  /// False when an earlier call of this run failed: the kernel is skipped
  /// so that the compiled model runs to its end quickly and reports that
  /// first error.
  bool shouldRun() const {
    return runStatus.load(std::memory_order_acquire) == AC_OK;
  }

  /// Views the buffer argument `role` as a tensor of this call's dtype (a
  /// descriptor carries no element type: the function's name is the only
  /// source of it). False, with the error recorded, when it is malformed.
  bool view(const char *role, int64_t rank, const void *descriptor,
            ac_tensor &tensor) {
    const int64_t *sizes = nullptr;
    const MemrefHeader *header = readDescriptor(role, rank, descriptor, sizes);
    if (!header)
      return false;
    const int64_t *strides = sizes + rank;
    int64_t elements = 1;
    for (int64_t dim = 0; dim < rank; ++dim) {
      if (sizes[dim] < 0)
        return fail(AC_ERROR_INVALID_ARGUMENT,
                    "%s has negative size %" PRId64 " in dimension %" PRId64,
                    role, sizes[dim], dim);
      elements *= sizes[dim];
    }
    if (!header->aligned && elements > 0)
      return fail(AC_ERROR_INVALID_ARGUMENT, "%s has a null data pointer",
                  role);
    std::memset(&tensor, 0, sizeof(tensor));
    tensor.data = static_cast<char *>(header->aligned) +
                  header->offset * static_cast<int64_t>(ac_dtype_size(dtype));
    tensor.dtype = dtype;
    tensor.rank = static_cast<int32_t>(rank);
    for (int64_t dim = 0; dim < rank; ++dim) {
      tensor.sizes[dim] = sizes[dim];
      tensor.strides[dim] = strides[dim];
    }
    return true;
  }

  /// Reads the NUL-terminated string that an i8 buffer holds (einsum's
  /// equation): a one-dimensional, unit-stride buffer whose elements contain
  /// a NUL. Null, with the error recorded, otherwise.
  const char *string(const char *role, int64_t rank, const void *descriptor) {
    const int64_t *sizes = nullptr;
    const MemrefHeader *header = readDescriptor(role, rank, descriptor, sizes);
    if (!header)
      return nullptr;
    const int64_t *strides = sizes + rank;
    if (rank != 1 || sizes[0] < 1 || strides[0] != 1 || !header->aligned) {
      fail(AC_ERROR_INVALID_ARGUMENT,
           "%s must be a non-empty one-dimensional unit-stride i8 buffer",
           role);
      return nullptr;
    }
    const char *text =
        static_cast<const char *>(header->aligned) + header->offset;
    if (!std::memchr(text, '\0', static_cast<size_t>(sizes[0]))) {
      fail(AC_ERROR_INVALID_ARGUMENT, "%s is not NUL-terminated", role);
      return nullptr;
    }
    return text;
  }

  /// Records `status` of the kernel (its message is in ac_last_error()) or,
  /// on success, marks what it wrote in `output` in the run's arena.
  void finish(ac_status status, const ac_tensor &output) {
    if (status != AC_OK) {
      record(status);
      return;
    }
    if (ac_arena *arena = runArena.load(std::memory_order_acquire))
      markWritten(arena, output);
  }

  /// Records a failure described by `format` and returns false.
  bool fail(ac_status status, const char *format, ...)
      __attribute__((format(printf, 3, 4))) {
    char detail[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(detail, sizeof(detail), format, args);
    va_end(args);
    ac_set_error(status, "%s", detail);
    record(status);
    return false;
  }

private:
  /// The header and sizes of a descriptor of `rank`, or null (error
  /// recorded) when the rank or the pointer is unusable.
  const MemrefHeader *readDescriptor(const char *role, int64_t rank,
                                     const void *descriptor,
                                     const int64_t *&sizes) {
    if (rank < 0 || rank > AC_MAX_RANK) {
      fail(AC_ERROR_INVALID_ARGUMENT,
           "%s has rank %" PRId64 ", outside [0, %d]", role, rank, AC_MAX_RANK);
      return nullptr;
    }
    if (!descriptor) {
      fail(AC_ERROR_INVALID_ARGUMENT, "%s has a null descriptor", role);
      return nullptr;
    }
    const auto *header = static_cast<const MemrefHeader *>(descriptor);
    sizes = reinterpret_cast<const int64_t *>(header + 1);
    return header;
  }

  /// Keeps the first failure of the run, as "<kernel> (<dtype>): <message>",
  /// also as this thread's last error.
  void record(ac_status status) {
    char message[sizeof(runMessage)];
    std::snprintf(message, sizeof(message), "%s (%s): %s", kernel,
                  ac_dtype_name(dtype), ac_last_error());
    int expected = AC_OK;
    {
      std::lock_guard<std::mutex> lock(runMessageMutex);
      if (runStatus.compare_exchange_strong(expected, status,
                                            std::memory_order_acq_rel))
        std::memcpy(runMessage, message, sizeof(runMessage));
    }
    ac_set_error(status, "%s", message);
  }

  /// Marks the byte range from the lowest to the highest addressed element
  /// of `output` in `arena`, when it lies inside it. The range is marked
  /// live and dead at once: the memory planner already decided when each
  /// buffer lives, and a call only sees one write, not when its buffer dies,
  /// so the only measurement that means something here is the high water
  /// mark (the highest arena byte a kernel actually wrote), which is what
  /// the report compares with the planned arena size.
  void markWritten(ac_arena *arena, const ac_tensor &output) {
    int64_t lowest = 0, highest = 0; // element offsets from output.data
    for (int32_t dim = 0; dim < output.rank; ++dim) {
      if (output.sizes[dim] == 0)
        return;
      int64_t span;
      if (__builtin_mul_overflow(output.sizes[dim] - 1, output.strides[dim],
                                 &span))
        return;
      if ((span < 0 && __builtin_add_overflow(lowest, span, &lowest)) ||
          (span > 0 && __builtin_add_overflow(highest, span, &highest)))
        return;
    }
    int64_t elementSize = static_cast<int64_t>(ac_dtype_size(output.dtype));
    int64_t beginByte, endByte;
    if (__builtin_mul_overflow(lowest, elementSize, &beginByte) ||
        __builtin_mul_overflow(highest + 1, elementSize, &endByte))
      return;
    auto data = reinterpret_cast<uintptr_t>(output.data);
    auto base = reinterpret_cast<uintptr_t>(ac_arena_base(arena));
    uintptr_t begin = data + static_cast<uintptr_t>(beginByte);
    uintptr_t end = data + static_cast<uintptr_t>(endByte);
    if (begin < base || end > base + ac_arena_size(arena) || end < begin)
      return;
    size_t offset = begin - base, bytes = end - begin;
    if (ac_arena_mark_live(arena, offset, bytes) == AC_OK)
      ac_arena_mark_dead(arena, offset, bytes);
  }

  const char *kernel;
  ac_dtype dtype;
  std::chrono::steady_clock::time_point start;
};

//===----------------------------------------------------------------------===//
// One implementation per kernel signature; the macro below instantiates each
// for the three dtypes.
//===----------------------------------------------------------------------===//

void callUnary(const char *kernel, ac_dtype dtype, ac_unary_kind kind,
               int64_t inRank, void *in, int64_t outRank, void *out) {
  KernelCall call(kernel, dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_unary(kind, &input, &output), output);
}

void callGelu(ac_dtype dtype, int64_t inRank, void *in, int64_t outRank,
              void *out, int64_t tanhApproximation) {
  callUnary("gelu", dtype,
            tanhApproximation ? AC_UNARY_GELU_TANH : AC_UNARY_GELU, inRank, in,
            outRank, out);
}

void callScale(ac_dtype dtype, int64_t inRank, void *in, int64_t outRank,
               void *out, double factor) {
  KernelCall call("scale", dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_scale(&input, &output, factor), output);
}

void callBinary(const char *kernel, ac_dtype dtype, ac_binary_kind kind,
                int64_t lhsRank, void *lhs, int64_t rhsRank, void *rhs,
                int64_t outRank, void *out) {
  KernelCall call(kernel, dtype);
  ac_tensor left, right, output;
  if (!call.shouldRun() || !call.view("lhs", lhsRank, lhs, left) ||
      !call.view("rhs", rhsRank, rhs, right) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_binary(kind, &left, &right, &output), output);
}

void callMatmul(ac_dtype dtype, int64_t lhsRank, void *lhs, int64_t rhsRank,
                void *rhs, int64_t outRank, void *out, int64_t transposeA,
                int64_t transposeB) {
  KernelCall call("matmul", dtype);
  ac_tensor left, right, output;
  if (!call.shouldRun() || !call.view("lhs", lhsRank, lhs, left) ||
      !call.view("rhs", rhsRank, rhs, right) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(
      ac_matmul(&left, &right, &output, transposeA != 0, transposeB != 0),
      output);
}

void callLinear(const char *kernel, ac_dtype dtype, bool hasBias,
                int64_t inRank, void *in, int64_t weightRank, void *weight,
                int64_t biasRank, void *bias, int64_t outRank, void *out) {
  KernelCall call(kernel, dtype);
  ac_tensor input, weights, biases, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("weight", weightRank, weight, weights) ||
      (hasBias && !call.view("bias", biasRank, bias, biases)) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_linear(&input, &weights, hasBias ? &biases : nullptr, &output),
              output);
}

void callEinsum(ac_dtype dtype, int64_t aRank, void *a, int64_t bRank, void *b,
                int64_t outRank, void *out, int64_t equationRank,
                void *equationDescriptor) {
  KernelCall call("einsum", dtype);
  ac_tensor first, second, output;
  if (!call.shouldRun())
    return;
  const char *equation =
      call.string("equation", equationRank, equationDescriptor);
  if (!equation)
    return;
  // A one-operand equation still gets two buffers (the second repeats the
  // first, mlir_abi.h), so the operand count comes from the equation.
  const char *arrow = std::strstr(equation, "->");
  size_t operandsLength = arrow ? size_t(arrow - equation) : strlen(equation);
  int numInputs = 1;
  for (size_t i = 0; i < operandsLength; ++i)
    numInputs += equation[i] == ',';
  if (numInputs > 2) {
    call.fail(AC_ERROR_INVALID_ARGUMENT,
              "equation '%s' has %d operands; at most 2 are supported",
              equation, numInputs);
    return;
  }
  if (!call.view("first operand", aRank, a, first) ||
      !call.view("second operand", bRank, b, second) ||
      !call.view("output", outRank, out, output))
    return;
  const ac_tensor *inputs[2] = {&first, &second};
  call.finish(ac_einsum(equation, inputs, numInputs, &output), output);
}

void callSoftmax(ac_dtype dtype, int64_t inRank, void *in, int64_t outRank,
                 void *out, int64_t axis) {
  KernelCall call("softmax", dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_softmax(&input, &output, axis), output);
}

void callLayerNorm(ac_dtype dtype, int64_t inRank, void *in, int64_t weightRank,
                   void *weight, int64_t biasRank, void *bias, int64_t outRank,
                   void *out, int64_t axis, double epsilon) {
  KernelCall call("layer_norm", dtype);
  ac_tensor input, gain, shift, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("weight", weightRank, weight, gain) ||
      !call.view("bias", biasRank, bias, shift) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_layer_norm(&input, &gain, &shift, &output, axis, epsilon),
              output);
}

void callReduce(const char *kernel, ac_dtype dtype, ac_reduce_kind kind,
                int64_t inRank, void *in, int64_t outRank, void *out,
                int64_t axisMask, int64_t keepDims) {
  KernelCall call(kernel, dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  // Bit i of the mask reduces axis i; every bit must name an axis of the
  // input.
  uint64_t mask = static_cast<uint64_t>(axisMask);
  if (mask == 0 || (input.rank < 64 && (mask >> input.rank) != 0)) {
    call.fail(AC_ERROR_INVALID_ARGUMENT,
              "axis mask 0x%" PRIx64 " does not name axes of a rank-%d input",
              mask, input.rank);
    return;
  }
  int64_t axes[AC_MAX_RANK];
  int numAxes = 0;
  for (int axis = 0; axis < input.rank; ++axis)
    if (mask & (uint64_t(1) << axis))
      axes[numAxes++] = axis;
  call.finish(ac_reduce(kind, &input, &output, axes, numAxes, keepDims != 0),
              output);
}

void callTranspose(ac_dtype dtype, int64_t inRank, void *in, int64_t outRank,
                   void *out, int64_t packedPermutation) {
  KernelCall call("transpose", dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  // Entry i sits in bits 4i..4i+3; bits past the output's rank must be 0.
  uint64_t packed = static_cast<uint64_t>(packedPermutation);
  if ((packed >> (4 * output.rank)) != 0) {
    call.fail(AC_ERROR_INVALID_ARGUMENT,
              "packed permutation 0x%" PRIx64 " has entries past rank %d",
              packed, output.rank);
    return;
  }
  int64_t permutation[AC_MAX_RANK];
  for (int i = 0; i < output.rank; ++i)
    permutation[i] = static_cast<int64_t>((packed >> (4 * i)) & 0xF);
  call.finish(ac_transpose(&input, &output, permutation), output);
}

void callCopy(const char *kernel, ac_dtype dtype, int64_t inRank, void *in,
              int64_t outRank, void *out) {
  KernelCall call(kernel, dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  bool isBroadcast = std::strcmp(kernel, "broadcast") == 0;
  call.finish(isBroadcast ? ac_broadcast(&input, &output)
                          : ac_copy(&input, &output),
              output);
}

void callCausalMask(ac_dtype dtype, int64_t inRank, void *in, int64_t rowOffset,
                    int64_t colOffset, int64_t outRank, void *out,
                    int64_t diagonal) {
  KernelCall call("causal_mask", dtype);
  ac_tensor input, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_causal_mask(&input, &output, rowOffset, colOffset, diagonal),
              output);
}

// The fused kernels (kernels.h, "Fused kernels").

void callScaleMaskSoftmax(ac_dtype dtype, int64_t inRank, void *in,
                          int64_t biasRank, void *bias, int64_t rowOffset,
                          int64_t colOffset, int64_t outRank, void *out,
                          double factor, int64_t causal, int64_t diagonal,
                          int64_t hasBias) {
  KernelCall call("scale_mask_softmax", dtype);
  ac_tensor input, biases, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      (hasBias && !call.view("bias", biasRank, bias, biases)) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_scale_mask_softmax(&input, hasBias ? &biases : nullptr,
                                    &output, factor, causal != 0, rowOffset,
                                    colOffset, diagonal),
              output);
}

void callAttention(ac_dtype dtype, int64_t qRank, void *q, int64_t kRank,
                   void *k, int64_t vRank, void *v, int64_t biasRank,
                   void *bias, int64_t rowOffset, int64_t outRank, void *out,
                   double scale, int64_t causal, int64_t diagonal,
                   int64_t hasBias) {
  KernelCall call("attention", dtype);
  ac_tensor query, key, value, biases, output;
  if (!call.shouldRun() || !call.view("query", qRank, q, query) ||
      !call.view("key", kRank, k, key) ||
      !call.view("value", vRank, v, value) ||
      (hasBias && !call.view("bias", biasRank, bias, biases)) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_attention(&query, &key, &value, hasBias ? &biases : nullptr,
                           &output, scale, causal != 0, rowOffset, diagonal),
              output);
}

void callLinearActivation(const char *kernel, ac_dtype dtype,
                          ac_unary_kind activation, int64_t inRank, void *in,
                          int64_t weightRank, void *weight, int64_t biasRank,
                          void *bias, int64_t outRank, void *out) {
  KernelCall call(kernel, dtype);
  ac_tensor input, weights, biases, output;
  if (!call.shouldRun() || !call.view("input", inRank, in, input) ||
      !call.view("weight", weightRank, weight, weights) ||
      !call.view("bias", biasRank, bias, biases) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(
      ac_linear_activation(&input, &weights, &biases, &output, activation),
      output);
}

void callSigmoidGate(ac_dtype dtype, int64_t gateRank, void *gate,
                     int64_t valueRank, void *value, int64_t outRank,
                     void *out) {
  KernelCall call("sigmoid_gate", dtype);
  ac_tensor gates, values, output;
  if (!call.shouldRun() || !call.view("gate", gateRank, gate, gates) ||
      !call.view("value", valueRank, value, values) ||
      !call.view("output", outRank, out, output))
    return;
  call.finish(ac_sigmoid_gate(&gates, &values, &output), output);
}

} // namespace

extern "C" {

void ac_abi_begin(ac_arena *arena) {
  std::lock_guard<std::mutex> lock(runMessageMutex);
  runMessage[0] = '\0';
  runStatus.store(AC_OK, std::memory_order_release);
  runArena.store(arena, std::memory_order_release);
}

ac_status ac_abi_end(void) {
  // The arena may be destroyed after the run: stop recording into it.
  runArena.store(nullptr, std::memory_order_release);
  ac_status status = ac_abi_status();
  if (status != AC_OK) {
    // The failure may have happened on another thread: give this one its
    // message too.
    std::lock_guard<std::mutex> lock(runMessageMutex);
    ac_set_error(status, "%s", runMessage);
  }
  return status;
}

ac_status ac_abi_status(void) {
  return static_cast<ac_status>(runStatus.load(std::memory_order_acquire));
}

const char *ac_abi_error_message(void) { return runMessage; }

/// One-shot bufferization emits memref.copy when a view has no strided form
/// (a reshape that merges non-contiguous dimensions of a slice), and its
/// lowering calls memrefCopy(element size, source, destination) with
/// unranked memrefs ({rank, descriptor}). MLIR's runner utilities would
/// provide it; compiled models must not depend on any libMLIR, so the
/// runtime does. A copy moves bits, so the 2-byte types share one dtype.
struct ac_unranked_memref {
  int64_t rank;
  void *descriptor;
};

void memrefCopy(int64_t elementSize, ac_unranked_memref *source,
                ac_unranked_memref *destination) {
  if ((elementSize != 4 && elementSize != 2) || !source || !destination) {
    KernelCall call("memref.copy", AC_F32);
    call.fail(AC_ERROR_INVALID_ARGUMENT,
              "unsupported element size %" PRId64 " or null buffer",
              elementSize);
    return;
  }
  callCopy("memref.copy", elementSize == 4 ? AC_F32 : AC_F16, source->rank,
           source->descriptor, destination->rank, destination->descriptor);
}

// The entry points, with the argument order of mlir_abi.h.
#define AC_DEFINE_KERNEL_ENTRY_POINTS(SUFFIX, DTYPE)                           \
  void ac_kernel_exp_##SUFFIX(int64_t ir, void *in, int64_t outr, void *out) { \
    callUnary("exp", DTYPE, AC_UNARY_EXP, ir, in, outr, out);                  \
  }                                                                            \
  void ac_kernel_sqrt_##SUFFIX(int64_t ir, void *in, int64_t outr,             \
                               void *out) {                                    \
    callUnary("sqrt", DTYPE, AC_UNARY_SQRT, ir, in, outr, out);                \
  }                                                                            \
  void ac_kernel_rsqrt_##SUFFIX(int64_t ir, void *in, int64_t outr,            \
                                void *out) {                                   \
    callUnary("rsqrt", DTYPE, AC_UNARY_RSQRT, ir, in, outr, out);              \
  }                                                                            \
  void ac_kernel_neg_##SUFFIX(int64_t ir, void *in, int64_t outr, void *out) { \
    callUnary("neg", DTYPE, AC_UNARY_NEG, ir, in, outr, out);                  \
  }                                                                            \
  void ac_kernel_relu_##SUFFIX(int64_t ir, void *in, int64_t outr,             \
                               void *out) {                                    \
    callUnary("relu", DTYPE, AC_UNARY_RELU, ir, in, outr, out);                \
  }                                                                            \
  void ac_kernel_sigmoid_##SUFFIX(int64_t ir, void *in, int64_t outr,          \
                                  void *out) {                                 \
    callUnary("sigmoid", DTYPE, AC_UNARY_SIGMOID, ir, in, outr, out);          \
  }                                                                            \
  void ac_kernel_silu_##SUFFIX(int64_t ir, void *in, int64_t outr,             \
                               void *out) {                                    \
    callUnary("silu", DTYPE, AC_UNARY_SILU, ir, in, outr, out);                \
  }                                                                            \
  void ac_kernel_tanh_##SUFFIX(int64_t ir, void *in, int64_t outr,             \
                               void *out) {                                    \
    callUnary("tanh", DTYPE, AC_UNARY_TANH, ir, in, outr, out);                \
  }                                                                            \
  void ac_kernel_gelu_##SUFFIX(int64_t ir, void *in, int64_t outr, void *out,  \
                               int64_t tanh_approximation) {                   \
    callGelu(DTYPE, ir, in, outr, out, tanh_approximation);                    \
  }                                                                            \
  void ac_kernel_scale_##SUFFIX(int64_t ir, void *in, int64_t outr, void *out, \
                                double factor) {                               \
    callScale(DTYPE, ir, in, outr, out, factor);                               \
  }                                                                            \
  void ac_kernel_add_##SUFFIX(int64_t lr, void *lhs, int64_t rr, void *rhs,    \
                              int64_t outr, void *out) {                       \
    callBinary("add", DTYPE, AC_BINARY_ADD, lr, lhs, rr, rhs, outr, out);      \
  }                                                                            \
  void ac_kernel_sub_##SUFFIX(int64_t lr, void *lhs, int64_t rr, void *rhs,    \
                              int64_t outr, void *out) {                       \
    callBinary("sub", DTYPE, AC_BINARY_SUB, lr, lhs, rr, rhs, outr, out);      \
  }                                                                            \
  void ac_kernel_mul_##SUFFIX(int64_t lr, void *lhs, int64_t rr, void *rhs,    \
                              int64_t outr, void *out) {                       \
    callBinary("mul", DTYPE, AC_BINARY_MUL, lr, lhs, rr, rhs, outr, out);      \
  }                                                                            \
  void ac_kernel_div_##SUFFIX(int64_t lr, void *lhs, int64_t rr, void *rhs,    \
                              int64_t outr, void *out) {                       \
    callBinary("div", DTYPE, AC_BINARY_DIV, lr, lhs, rr, rhs, outr, out);      \
  }                                                                            \
  void ac_kernel_matmul_##SUFFIX(int64_t lr, void *lhs, int64_t rr, void *rhs, \
                                 int64_t outr, void *out, int64_t transpose_a, \
                                 int64_t transpose_b) {                        \
    callMatmul(DTYPE, lr, lhs, rr, rhs, outr, out, transpose_a, transpose_b);  \
  }                                                                            \
  void ac_kernel_linear_##SUFFIX(int64_t ir, void *in, int64_t wr, void *w,    \
                                 int64_t br, void *b, int64_t outr,            \
                                 void *out) {                                  \
    callLinear("linear", DTYPE, true, ir, in, wr, w, br, b, outr, out);        \
  }                                                                            \
  void ac_kernel_linear_nobias_##SUFFIX(int64_t ir, void *in, int64_t wr,      \
                                        void *w, int64_t outr, void *out) {    \
    callLinear("linear_nobias", DTYPE, false, ir, in, wr, w, 0, nullptr, outr, \
               out);                                                           \
  }                                                                            \
  void ac_kernel_einsum_##SUFFIX(int64_t ar, void *a, int64_t br, void *b,     \
                                 int64_t outr, void *out, int64_t er,          \
                                 void *equation) {                             \
    callEinsum(DTYPE, ar, a, br, b, outr, out, er, equation);                  \
  }                                                                            \
  void ac_kernel_softmax_##SUFFIX(int64_t ir, void *in, int64_t outr,          \
                                  void *out, int64_t axis) {                   \
    callSoftmax(DTYPE, ir, in, outr, out, axis);                               \
  }                                                                            \
  void ac_kernel_layer_norm_##SUFFIX(                                          \
      int64_t ir, void *in, int64_t wr, void *w, int64_t br, void *b,          \
      int64_t outr, void *out, int64_t axis, double epsilon) {                 \
    callLayerNorm(DTYPE, ir, in, wr, w, br, b, outr, out, axis, epsilon);      \
  }                                                                            \
  void ac_kernel_reduce_sum_##SUFFIX(int64_t ir, void *in, int64_t outr,       \
                                     void *out, int64_t axis_mask,             \
                                     int64_t keep) {                           \
    callReduce("reduce_sum", DTYPE, AC_REDUCE_SUM, ir, in, outr, out,          \
               axis_mask, keep);                                               \
  }                                                                            \
  void ac_kernel_reduce_mean_##SUFFIX(int64_t ir, void *in, int64_t outr,      \
                                      void *out, int64_t axis_mask,            \
                                      int64_t keep) {                          \
    callReduce("reduce_mean", DTYPE, AC_REDUCE_MEAN, ir, in, outr, out,        \
               axis_mask, keep);                                               \
  }                                                                            \
  void ac_kernel_reduce_max_##SUFFIX(int64_t ir, void *in, int64_t outr,       \
                                     void *out, int64_t axis_mask,             \
                                     int64_t keep) {                           \
    callReduce("reduce_max", DTYPE, AC_REDUCE_MAX, ir, in, outr, out,          \
               axis_mask, keep);                                               \
  }                                                                            \
  void ac_kernel_transpose_##SUFFIX(int64_t ir, void *in, int64_t outr,        \
                                    void *out, int64_t permutation) {          \
    callTranspose(DTYPE, ir, in, outr, out, permutation);                      \
  }                                                                            \
  void ac_kernel_broadcast_##SUFFIX(int64_t ir, void *in, int64_t outr,        \
                                    void *out) {                               \
    callCopy("broadcast", DTYPE, ir, in, outr, out);                           \
  }                                                                            \
  void ac_kernel_copy_##SUFFIX(int64_t ir, void *in, int64_t outr,             \
                               void *out) {                                    \
    callCopy("copy", DTYPE, ir, in, outr, out);                                \
  }                                                                            \
  void ac_kernel_causal_mask_##SUFFIX(                                         \
      int64_t ir, void *in, int64_t row_offset, int64_t col_offset,            \
      int64_t outr, void *out, int64_t diagonal) {                             \
    callCausalMask(DTYPE, ir, in, row_offset, col_offset, outr, out,           \
                   diagonal);                                                  \
  }                                                                            \
  void ac_kernel_scale_mask_softmax_##SUFFIX(                                  \
      int64_t ir, void *in, int64_t br, void *bias, int64_t row_offset,        \
      int64_t col_offset, int64_t outr, void *out, double factor,              \
      int64_t causal, int64_t diagonal, int64_t has_bias) {                    \
    callScaleMaskSoftmax(DTYPE, ir, in, br, bias, row_offset, col_offset,      \
                         outr, out, factor, causal, diagonal, has_bias);       \
  }                                                                            \
  void ac_kernel_attention_##SUFFIX(                                           \
      int64_t qr, void *q, int64_t kr, void *k, int64_t vr, void *v,           \
      int64_t br, void *bias, int64_t row_offset, int64_t outr, void *out,     \
      double scale, int64_t causal, int64_t diagonal, int64_t has_bias) {      \
    callAttention(DTYPE, qr, q, kr, k, vr, v, br, bias, row_offset, outr, out, \
                  scale, causal, diagonal, has_bias);                          \
  }                                                                            \
  void ac_kernel_linear_relu_##SUFFIX(int64_t ir, void *in, int64_t wr,        \
                                      void *w, int64_t br, void *b,            \
                                      int64_t outr, void *out) {               \
    callLinearActivation("linear_relu", DTYPE, AC_UNARY_RELU, ir, in, wr, w,   \
                         br, b, outr, out);                                    \
  }                                                                            \
  void ac_kernel_linear_silu_##SUFFIX(int64_t ir, void *in, int64_t wr,        \
                                      void *w, int64_t br, void *b,            \
                                      int64_t outr, void *out) {               \
    callLinearActivation("linear_silu", DTYPE, AC_UNARY_SILU, ir, in, wr, w,   \
                         br, b, outr, out);                                    \
  }                                                                            \
  void ac_kernel_linear_gelu_##SUFFIX(                                         \
      int64_t ir, void *in, int64_t wr, void *w, int64_t br, void *b,          \
      int64_t outr, void *out, int64_t tanh_approximation) {                   \
    callLinearActivation("linear_gelu", DTYPE,                                 \
                         tanh_approximation ? AC_UNARY_GELU_TANH               \
                                            : AC_UNARY_GELU,                   \
                         ir, in, wr, w, br, b, outr, out);                     \
  }                                                                            \
  void ac_kernel_sigmoid_gate_##SUFFIX(int64_t gr, void *gate, int64_t vr,     \
                                       void *value, int64_t outr, void *out) { \
    callSigmoidGate(DTYPE, gr, gate, vr, value, outr, out);                    \
  }

AC_DEFINE_KERNEL_ENTRY_POINTS(f32, AC_F32)
AC_DEFINE_KERNEL_ENTRY_POINTS(f16, AC_F16)
AC_DEFINE_KERNEL_ENTRY_POINTS(bf16, AC_BF16)

#undef AC_DEFINE_KERNEL_ENTRY_POINTS

} // extern "C"
