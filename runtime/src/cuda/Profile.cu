//===- Profile.cu - per-call CUDA event timing under AUTOCHUNK_PROFILE ----===//
//
// Host clocks around an asynchronous launch measure the launch, not the
// kernel. When the environment sets AUTOCHUNK_PROFILE, every kernels.h entry
// point records a pair of CUDA events around its work on the stream, keyed by
// kernel, dtype and output shape, and the table is printed at exit. Each call
// also waits for its work, so that host-side timings (the compiled model's
// own kernel profile) cover the kernels too. Calls made while the stream is
// being captured into a CUDA Graph are not timed.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace autochunk::runtime::cuda {
namespace {

struct PendingCall {
  std::string key;
  cudaEvent_t start, end;
};

struct Totals {
  int64_t calls = 0;
  double ms = 0;
};

// Event pairs are folded into totals in batches so that long runs keep a
// bounded number of live events.
constexpr size_t kMaxPending = 4096;

class Profile {
public:
  static Profile &get() {
    static Profile &profile = *new Profile();
    return profile;
  }

  void add(std::string key, cudaEvent_t start, cudaEvent_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!printerRegistered) {
      // Registered after CUDA initialised, so it runs before CUDA's teardown.
      std::atexit([] { Profile::get().print(); });
      printerRegistered = true;
    }
    pending.push_back({std::move(key), start, end});
    if (pending.size() >= kMaxPending)
      fold();
  }

private:
  void fold() {
    for (PendingCall &call : pending) {
      float ms = 0;
      if (cudaEventSynchronize(call.end) == cudaSuccess &&
          cudaEventElapsedTime(&ms, call.start, call.end) == cudaSuccess) {
        Totals &entry = totals[call.key];
        ++entry.calls;
        entry.ms += ms;
      }
      cudaEventDestroy(call.start);
      cudaEventDestroy(call.end);
    }
    pending.clear();
  }

  void print() {
    std::lock_guard<std::mutex> lock(mutex);
    fold();
    std::vector<std::pair<std::string, Totals>> rows(totals.begin(),
                                                     totals.end());
    std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
      return a.second.ms > b.second.ms;
    });
    double total = 0;
    for (auto &row : rows)
      total += row.second.ms;
    std::fprintf(stderr,
                 "cuda kernel profile (CUDA events per call, %.3f ms in all, "
                 "all runs):\n",
                 total);
    for (auto &[key, entry] : rows)
      std::fprintf(stderr, "  %10.3f ms %6.1f%% %8lld calls  %s\n", entry.ms,
                   total > 0 ? 100.0 * entry.ms / total : 0.0,
                   static_cast<long long>(entry.calls), key.c_str());
  }

  std::mutex mutex;
  bool printerRegistered = false;
  std::vector<PendingCall> pending;
  std::map<std::string, Totals> totals;
};

std::string profileKey(const char *kernel, const ac_tensor *shaped) {
  std::string key = kernel;
  if (shaped) {
    key += " ";
    key += ac_dtype_name(shaped->dtype);
    key += " [";
    for (int dim = 0; dim < shaped->rank; ++dim)
      key += (dim ? "," : "") + std::to_string(shaped->sizes[dim]);
    key += "]";
    if (shaped->rank > 0 && !ac_tensor_is_contiguous(shaped))
      key += " strided";
  }
  return key;
}

} // namespace

bool profilingEnabled() {
  static const bool enabled = std::getenv("AUTOCHUNK_PROFILE") != nullptr;
  return enabled;
}

KernelTimer::KernelTimer(const char *kernel, const ac_tensor *shaped) {
  if (!profilingEnabled())
    return;
  cudaStream_t stream;
  if (currentStream(kernel, &stream) != AC_OK)
    return;
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capture) != cudaSuccess ||
      capture != cudaStreamCaptureStatusNone)
    return;
  if (cudaEventCreate(&start) != cudaSuccess)
    return;
  if (cudaEventCreate(&end) != cudaSuccess ||
      cudaEventRecord(start, stream) != cudaSuccess) {
    cudaEventDestroy(start);
    (void)cudaGetLastError();
    return;
  }
  this->kernel = kernel;
  key = profileKey(kernel, shaped);
  this->stream = stream;
}

KernelTimer::~KernelTimer() {
  if (!kernel)
    return;
  if (cudaEventRecord(end, stream) != cudaSuccess) {
    cudaEventDestroy(start);
    cudaEventDestroy(end);
    return;
  }
  // Host-side timers around this call then see the kernel's time too.
  cudaStreamSynchronize(stream);
  Profile::get().add(std::move(key), start, end);
}

} // namespace autochunk::runtime::cuda
