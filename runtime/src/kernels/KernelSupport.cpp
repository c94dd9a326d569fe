//===- KernelSupport.cpp - threads and strided copies --------------------===//

#include "KernelSupport.h"

#include <atomic>
#include <mutex>

// OpenBLAS's own thread control (declared here so that any cblas.h works).
extern "C" void openblas_set_num_threads(int num_threads);

namespace autochunk::runtime {

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

namespace {
std::atomic<int> configuredThreads{0};
std::once_flag defaultThreadsOnce;
} // namespace

int kernelThreads() {
  std::call_once(defaultThreadsOnce, [] {
    if (configuredThreads.load() == 0) {
      int threads = std::max(omp_get_max_threads(), 1);
      configuredThreads.store(threads);
      openblas_set_num_threads(threads);
    }
  });
  return configuredThreads.load();
}

//===----------------------------------------------------------------------===//
// Strided copies
//===----------------------------------------------------------------------===//

template <typename Storage>
static void copyElements(const ac_tensor *in, const ac_tensor *out) {
  const ac_tensor *const operands[2] = {out, in};
  StridedLoop<2> loop = makeLoop(out->rank, out->sizes, operands);
  auto *outData = static_cast<Storage *>(out->data);
  const auto *inData = static_cast<const Storage *>(in->data);
  parallelForEachRun(
      loop, 1,
      [&](const int64_t *offsets, int64_t count, const int64_t *strides) {
        Storage *dst = outData + offsets[0];
        const Storage *src = inData + offsets[1];
        if (strides[0] == 1 && strides[1] == 1) {
          std::memmove(dst, src, count * sizeof(Storage));
        } else if (strides[1] == 0) {
          for (int64_t i = 0; i < count; ++i)
            dst[i * strides[0]] = src[0];
        } else {
          for (int64_t i = 0; i < count; ++i)
            dst[i * strides[0]] = src[i * strides[1]];
        }
      });
}

void copyStrided(const ac_tensor *in, const ac_tensor *out) {
  if (ac_tensor_num_elements(out) == 0)
    return;
  if (in->dtype == AC_F32)
    copyElements<uint32_t>(in, out);
  else
    copyElements<uint16_t>(in, out);
}

} // namespace autochunk::runtime

using namespace autochunk::runtime;

extern "C" {

ac_status ac_set_num_threads(int num_threads) {
  if (num_threads < 1)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_set_num_threads: %d threads; need at least 1",
                        num_threads);
  kernelThreads(); // settle the default first so it never overrides this
  configuredThreads.store(num_threads);
  openblas_set_num_threads(num_threads);
  return AC_OK;
}

int ac_get_num_threads(void) { return kernelThreads(); }

} // extern "C"
