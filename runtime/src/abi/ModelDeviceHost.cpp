//===- ModelDeviceHost.cpp - CPU models: buffers are host memory ----------===//

#include "ModelDevice.h"

#include "autochunk/runtime/report.h"

#include <cstdlib>
#include <cstring>

namespace {

void *allocateHost(size_t bytes) {
  // aligned_alloc wants a non-zero multiple of the alignment.
  size_t rounded = (bytes + 63) & ~size_t(63);
  void *pointer = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!pointer)
    ac_set_error(AC_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
  return pointer;
}

ac_status copyHost(void *to, const void *from, size_t bytes) {
  std::memcpy(to, from, bytes);
  return AC_OK;
}

ac_status synchronizeHost() { return AC_OK; }

int64_t hostMemoryInUse() { return -1; }

double timerStartMs = 0;

ac_status startHostTimer() {
  timerStartMs = ac_now_ms();
  return AC_OK;
}

ac_status stopHostTimer(double *ms) {
  *ms = ac_now_ms() - timerStartMs;
  return AC_OK;
}

} // namespace

const autochunk::runtime::ModelDevice autochunk::runtime::modelDevice = {
    "cpu",          true,          allocateHost,    std::free,
    copyHost,       copyHost,      synchronizeHost, hostMemoryInUse,
    startHostTimer, stopHostTimer, nullptr,         nullptr,
    nullptr,        nullptr};
