//===- CudaSupport.cu - validation, stream, scratch and strided copies ----===//

#include "CudaSupport.h"

#include <atomic>
#include <cstdio>
#include <cstring>

namespace autochunk::runtime::cuda {

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

ShapeText describeSizes(const int64_t *sizes, int rank) {
  ShapeText shape;
  size_t used = 0;
  shape.text[used++] = '[';
  for (int dim = 0; dim < rank && used < sizeof(shape.text) - 24; ++dim)
    used += std::snprintf(shape.text + used, sizeof(shape.text) - used,
                          dim == 0 ? "%lld" : "x%lld",
                          static_cast<long long>(sizes[dim]));
  std::snprintf(shape.text + used, sizeof(shape.text) - used, "]");
  return shape;
}

ShapeText describe(const ac_tensor *tensor) {
  ShapeText shape = describeSizes(tensor->sizes, tensor->rank);
  size_t used = std::strlen(shape.text);
  std::snprintf(shape.text + used, sizeof(shape.text) - used, " %s",
                ac_dtype_name(tensor->dtype));
  return shape;
}

static ac_status checkTensor(const char *kernel, const char *name,
                             const ac_tensor *tensor, bool isOutput) {
  if (!tensor)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", kernel,
                        name);
  if (tensor->rank < 0 || tensor->rank > AC_MAX_RANK)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: %s has rank %d, outside [0, %d]", kernel, name,
                        tensor->rank, AC_MAX_RANK);
  if (tensor->dtype != AC_F32 && tensor->dtype != AC_F16 &&
      tensor->dtype != AC_BF16)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: %s has unknown dtype %d", kernel, name,
                        static_cast<int>(tensor->dtype));
  for (int dim = 0; dim < tensor->rank; ++dim) {
    if (tensor->sizes[dim] < 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: %s has negative size %lld in dimension %d",
                          kernel, name,
                          static_cast<long long>(tensor->sizes[dim]), dim);
    if (isOutput && tensor->sizes[dim] > 1 && tensor->strides[dim] == 0)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: output %s %s has stride 0 in dimension %d, so "
                          "it would write one element several times",
                          kernel, name, describe(tensor).text, dim);
  }
  if (!tensor->data && ac_tensor_num_elements(tensor) > 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: %s %s has no data",
                        kernel, name, describe(tensor).text);
  return AC_OK;
}

ac_status checkInput(const char *kernel, const char *name,
                     const ac_tensor *tensor) {
  return checkTensor(kernel, name, tensor, /*isOutput=*/false);
}

ac_status checkOutput(const char *kernel, const char *name,
                      const ac_tensor *tensor) {
  return checkTensor(kernel, name, tensor, /*isOutput=*/true);
}

ac_status checkSameDtype(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b) {
  if (a->dtype == b->dtype)
    return AC_OK;
  return ac_set_error(
      AC_ERROR_INVALID_ARGUMENT, "%s: %s is %s but %s is %s; dtypes must match",
      kernel, nameA, ac_dtype_name(a->dtype), nameB, ac_dtype_name(b->dtype));
}

bool sameShape(const ac_tensor *a, const ac_tensor *b) {
  if (a->rank != b->rank)
    return false;
  for (int dim = 0; dim < a->rank; ++dim)
    if (a->sizes[dim] != b->sizes[dim])
      return false;
  return true;
}

ac_status checkSameShape(const char *kernel, const char *nameA,
                         const ac_tensor *a, const char *nameB,
                         const ac_tensor *b) {
  if (sameShape(a, b))
    return AC_OK;
  return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                      "%s: %s %s and %s %s must have the same shape", kernel,
                      nameA, describe(a).text, nameB, describe(b).text);
}

bool broadcastView(const ac_tensor *tensor, int rank, const int64_t *sizes,
                   ac_tensor *view) {
  if (tensor->rank > rank)
    return false;
  *view = *tensor;
  view->rank = rank;
  int shift = rank - tensor->rank;
  for (int dim = rank - 1; dim >= 0; --dim) {
    int source = dim - shift;
    view->sizes[dim] = sizes[dim];
    if (source < 0 || tensor->sizes[source] == 1) {
      view->strides[dim] = 0;
    } else if (tensor->sizes[source] == sizes[dim]) {
      view->strides[dim] = tensor->strides[source];
    } else {
      return false;
    }
  }
  return true;
}

bool collapsesToOneDim(const ac_tensor *tensor, int first, int last,
                       int64_t *stride) {
  int64_t innerStride = 0, innerExtent = 0;
  bool any = false;
  for (int dim = last - 1; dim >= first; --dim) {
    if (tensor->sizes[dim] == 1)
      continue;
    if (!any) {
      innerStride = tensor->strides[dim];
      innerExtent = tensor->sizes[dim];
      any = true;
      continue;
    }
    if (tensor->strides[dim] != innerStride * innerExtent)
      return false;
    innerExtent *= tensor->sizes[dim];
  }
  *stride = any ? innerStride : 1;
  return true;
}

//===----------------------------------------------------------------------===//
// Stream, errors and scratch memory
//===----------------------------------------------------------------------===//

namespace {
cudaStream_t kernelStream = nullptr;
bool streamChosen = false;

struct ScratchSlot {
  void *data = nullptr;
  size_t capacity = 0;
};
ScratchSlot scratchSlots[static_cast<int>(Scratch::Count)];
} // namespace

ac_status checkCuda(const char *kernel, const char *what, cudaError_t error) {
  if (error == cudaSuccess)
    return AC_OK;
  return ac_set_error(error == cudaErrorMemoryAllocation
                          ? AC_ERROR_OUT_OF_MEMORY
                          : AC_ERROR_INVALID_ARGUMENT,
                      "%s: %s: %s (%s)", kernel, what,
                      cudaGetErrorString(error), cudaGetErrorName(error));
}

ac_status currentStream(const char *kernel, cudaStream_t *stream) {
  if (!streamChosen) {
    cudaStream_t created;
    if (ac_status status = checkCuda(
            kernel, "cudaStreamCreateWithFlags",
            cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking)))
      return status;
    kernelStream = created;
    streamChosen = true;
  }
  *stream = kernelStream;
  return AC_OK;
}

ac_status scratchBuffer(const char *kernel, Scratch role, size_t bytes,
                        void **data) {
  ScratchSlot &slot = scratchSlots[static_cast<int>(role)];
  if (bytes > slot.capacity || !slot.data) {
    if (slot.data) {
      // Work queued on the old buffer must finish before it goes.
      cudaStream_t stream;
      if (ac_status status = currentStream(kernel, &stream))
        return status;
      if (ac_status status = checkCuda(kernel, "cudaStreamSynchronize",
                                       cudaStreamSynchronize(stream)))
        return status;
      if (ac_status status =
              checkCuda(kernel, "cudaFree (scratch)", cudaFree(slot.data)))
        return status;
      slot.data = nullptr;
      slot.capacity = 0;
    }
    // Grow geometrically so that slowly growing requests settle quickly.
    size_t capacity = bytes < 256 ? 256 : bytes + bytes / 4;
    void *allocated = nullptr;
    cudaError_t error = cudaMalloc(&allocated, capacity);
    if (error != cudaSuccess) {
      (void)cudaGetLastError(); // an allocation failure is not sticky
      return ac_set_error(
          AC_ERROR_OUT_OF_MEMORY,
          "%s: cannot allocate %zu bytes of device scratch memory: %s", kernel,
          capacity, cudaGetErrorString(error));
    }
    slot.data = allocated;
    slot.capacity = capacity;
  }
  *data = slot.data;
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// Strided copies and fills
//===----------------------------------------------------------------------===//

namespace {

template <typename Storage> struct CopyOp {
  Storage *out;
  const Storage *in;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    out[offsets[0]] = in[offsets[1]];
  }
};

template <typename Element> struct FillOp {
  typename Element::Storage *out;
  float value;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    Element::store(out + offsets[0], value);
  }
};

} // namespace

ac_status copyStrided(const char *kernel, const ac_tensor *in,
                      const ac_tensor *out) {
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> indexer = makeIndexer(out->rank, out->sizes, operands);
  if (in->dtype == AC_F32)
    return launchStrided(kernel, indexer,
                         CopyOp<uint32_t>{static_cast<uint32_t *>(out->data),
                                          static_cast<uint32_t *>(in->data)});
  return launchStrided(kernel, indexer,
                       CopyOp<uint16_t>{static_cast<uint16_t *>(out->data),
                                        static_cast<uint16_t *>(in->data)});
}

ac_status fillTensor(const char *kernel, const ac_tensor *out, float value) {
  const ac_tensor *const operands[1] = {out};
  StridedIndexer<1> indexer = makeIndexer(out->rank, out->sizes, operands);
  ac_status result = AC_OK;
  dispatchDtype(out->dtype, [&](auto element) {
    using Element = decltype(element);
    result = launchStrided(kernel, indexer,
                           FillOp<Element>{typedData<Element>(out), value});
  });
  return result;
}

} // namespace autochunk::runtime::cuda

using namespace autochunk::runtime::cuda;

namespace {
std::atomic<int> configuredThreads{1};
std::atomic<int> gemmBackend{AC_GEMM_PACKED};
} // namespace

extern "C" {

void *ac_cuda_stream(void) {
  cudaStream_t stream = nullptr;
  if (currentStream("ac_cuda_stream", &stream) != AC_OK)
    return nullptr;
  return stream;
}

ac_status ac_cuda_set_stream(void *stream) {
  kernelStream = static_cast<cudaStream_t>(stream);
  streamChosen = true;
  return AC_OK;
}

ac_status ac_cuda_synchronize(void) {
  cudaStream_t stream;
  if (ac_status status = currentStream("ac_cuda_synchronize", &stream))
    return status;
  return checkCuda("ac_cuda_synchronize", "cudaStreamSynchronize",
                   cudaStreamSynchronize(stream));
}

// Threads and GEMM backends are CPU notions: accepted, validated, ignored.
ac_status ac_set_num_threads(int num_threads) {
  if (num_threads < 1)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_set_num_threads: %d threads; need at least 1",
                        num_threads);
  configuredThreads.store(num_threads);
  return AC_OK;
}

int ac_get_num_threads(void) { return configuredThreads.load(); }

ac_status ac_set_gemm_backend(ac_gemm_backend backend) {
  if (backend != AC_GEMM_PACKED && backend != AC_GEMM_OPENBLAS)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_set_gemm_backend: unknown backend %d",
                        static_cast<int>(backend));
  gemmBackend.store(backend);
  return AC_OK;
}

ac_gemm_backend ac_get_gemm_backend(void) {
  return static_cast<ac_gemm_backend>(gemmBackend.load());
}

} // extern "C"
