//===- ModelDeviceCuda.cpp - CUDA models: buffers in device memory --------===//
//
// Device buffers come from cudaMalloc; runs are timed with CUDA events on
// the kernels' stream; one run can be captured into a CUDA Graph (global
// capture mode, so that any allocation or synchronization during the run
// fails the capture instead of passing unnoticed) and replayed.
//
//===----------------------------------------------------------------------===//

#include "../abi/ModelDevice.h"

#include "autochunk/runtime/cuda.h"

#include <cuda_runtime.h>

namespace {

ac_status failed(const char *what, cudaError_t error) {
  return ac_set_error(
      error == cudaErrorMemoryAllocation ? AC_ERROR_OUT_OF_MEMORY
                                         : AC_ERROR_INVALID_ARGUMENT,
      "%s: %s (%s)", what, cudaGetErrorString(error), cudaGetErrorName(error));
}

void *allocateDevice(size_t bytes) {
  void *pointer = nullptr;
  // cudaMalloc aligns to at least 256 bytes.
  if (cudaError_t error = cudaMalloc(&pointer, bytes ? bytes : 64)) {
    (void)cudaGetLastError(); // an allocation failure is not sticky
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
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    (void)cudaGetLastError();
    return -1;
  }
  return static_cast<int64_t>(total - free);
}

cudaStream_t kernelStream() {
  return static_cast<cudaStream_t>(ac_cuda_stream());
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

cudaEvent_t startEvent = nullptr, stopEvent = nullptr;

ac_status startTimer() {
  if (!startEvent) {
    if (cudaError_t error = cudaEventCreate(&startEvent))
      return failed("cudaEventCreate", error);
    if (cudaError_t error = cudaEventCreate(&stopEvent))
      return failed("cudaEventCreate", error);
  }
  if (cudaError_t error = cudaEventRecord(startEvent, kernelStream()))
    return failed("cudaEventRecord (start of a timed run)", error);
  return AC_OK;
}

ac_status stopTimer(double *ms) {
  if (cudaError_t error = cudaEventRecord(stopEvent, kernelStream()))
    return failed("cudaEventRecord (end of a timed run)", error);
  // A kernel that faulted during the run reports here.
  if (cudaError_t error = cudaEventSynchronize(stopEvent))
    return failed("the timed run", error);
  float elapsed = 0;
  if (cudaError_t error = cudaEventElapsedTime(&elapsed, startEvent, stopEvent))
    return failed("cudaEventElapsedTime", error);
  *ms = elapsed;
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// CUDA Graph capture and replay
//===----------------------------------------------------------------------===//

cudaGraph_t capturedGraph = nullptr;
cudaGraphExec_t replayableGraph = nullptr;

ac_status beginCapture() {
  cudaStream_t stream = kernelStream();
  if (!stream)
    return AC_ERROR_INVALID_ARGUMENT; // ac_cuda_stream set the error
  // Global mode: an unsafe call (cudaMalloc, a synchronization) from any
  // thread during the capture makes the capture fail.
  if (cudaError_t error =
          cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal))
    return failed("cudaStreamBeginCapture", error);
  return AC_OK;
}

ac_status endCapture(bool keep) {
  cudaGraph_t graph = nullptr;
  cudaError_t error = cudaStreamEndCapture(kernelStream(), &graph);
  if (!keep || error != cudaSuccess) {
    if (graph)
      cudaGraphDestroy(graph);
    (void)cudaGetLastError();
    if (!keep)
      return AC_OK;
    return failed("cudaStreamEndCapture (something in the run allocated, "
                  "synchronized or used another stream while it was being "
                  "captured)",
                  error);
  }
  cudaGraphExec_t exec = nullptr;
  if (cudaError_t instantiate = cudaGraphInstantiate(&exec, graph, 0)) {
    cudaGraphDestroy(graph);
    return failed("cudaGraphInstantiate", instantiate);
  }
  if (cudaError_t upload = cudaGraphUpload(exec, kernelStream())) {
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    return failed("cudaGraphUpload", upload);
  }
  capturedGraph = graph;
  replayableGraph = exec;
  return AC_OK;
}

ac_status replay() {
  if (!replayableGraph)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "no CUDA Graph was captured to replay");
  if (cudaError_t error = cudaGraphLaunch(replayableGraph, kernelStream()))
    return failed("cudaGraphLaunch", error);
  return AC_OK;
}

} // namespace

const autochunk::runtime::ModelDevice autochunk::runtime::modelDevice = {
    "cuda",
    false,
    allocateDevice,
    releaseDevice,
    copyToDevice,
    copyToHost,
    synchronizeDevice,
    deviceMemoryInUse,
    startTimer,
    stopTimer,
    beginCapture,
    endCapture,
    replay,
    "AUTOCHUNK_CUDA_GRAPH"};
