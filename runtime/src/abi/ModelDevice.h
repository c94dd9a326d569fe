//===- ModelDevice.h - where a compiled model's buffers live ----*- C++ -*-===//
//
// The model main() runs the same way on every device: it loads arguments on
// the host, moves them to the device, runs the compiled model on device
// buffers, and moves the outputs back. Each device library (host: CPU
// kernels; CUDA: the CUDA kernels) defines `modelDevice`.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_ABI_MODELDEVICE_H
#define AUTOCHUNK_RUNTIME_ABI_MODELDEVICE_H

#include "autochunk/runtime/tensor.h"

#include <cstddef>
#include <cstdint>

namespace autochunk::runtime {

struct ModelDevice {
  /// "cpu" or "cuda": must match the compiled model's device.
  const char *name;
  /// True when device buffers are host memory (no copies needed).
  bool isHost;
  /// 64-byte aligned device memory, or null (with ac_last_error set).
  void *(*allocate)(size_t bytes);
  void (*release)(void *pointer);
  ac_status (*toDevice)(void *device, const void *host, size_t bytes);
  ac_status (*toHost)(void *host, const void *device, size_t bytes);
  /// Waits for the kernels of a run; reports an asynchronous failure.
  ac_status (*synchronize)();
  /// Device memory in use right now, or -1 when the device cannot say.
  int64_t (*memoryInUse)();
  /// Starts the clock of a timed run on the device's queue.
  ac_status (*timerStart)();
  /// Stops it, waits for the run and gives the milliseconds since the start.
  ac_status (*timerStop)(double *ms);
  /// Graph capture, null where the device has none: beginCapture records
  /// (without running) the kernels enqueued until endCapture, which turns
  /// them into one replayable graph when `keep` (else discards them);
  /// replay enqueues the whole graph once.
  ac_status (*beginCapture)();
  ac_status (*endCapture)(bool keep);
  ac_status (*replay)();
  /// The environment variable that turns capture off when set to 0.
  const char *captureSwitch;
};

extern const ModelDevice modelDevice;

} // namespace autochunk::runtime

#endif // AUTOCHUNK_RUNTIME_ABI_MODELDEVICE_H
