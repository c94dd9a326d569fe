//===- ModelDeviceCuda.cpp - CUDA models: buffers in device memory --------===//

#include "../abi/ModelDevice.h"

#include "autochunk/runtime/cuda.h"

#include <cuda_runtime.h>

namespace {

ac_status failed(const char *what, cudaError_t error) {
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: %s", what,
                      cudaGetErrorString(error));
}

void *allocateDevice(size_t bytes) {
  void *pointer = nullptr;
  // cudaMalloc aligns to at least 256 bytes.
  if (cudaError_t error = cudaMalloc(&pointer, bytes ? bytes : 64)) {
    failed("cudaMalloc", error);
    return nullptr;
  }
  return pointer;
}

void releaseDevice(void *pointer) { cudaFree(pointer); }

ac_status copyToDevice(void *device, const void *host, size_t bytes) {
  if (cudaError_t error =
          cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice))
    return failed("cudaMemcpy (to the device)", error);
  return AC_OK;
}

ac_status copyToHost(void *host, const void *device, size_t bytes) {
  if (cudaError_t error =
          cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost))
    return failed("cudaMemcpy (to the host)", error);
  return AC_OK;
}

ac_status synchronizeDevice() { return ac_cuda_synchronize(); }

int64_t deviceMemoryInUse() {
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess)
    return -1;
  return static_cast<int64_t>(total - free);
}

} // namespace

const autochunk::runtime::ModelDevice autochunk::runtime::modelDevice = {
    "cuda",       false,      allocateDevice,    releaseDevice,
    copyToDevice, copyToHost, synchronizeDevice, deviceMemoryInUse};
