//===- CudaSupport.cu - stream, scratch and strided copies ----------------===//

#include "CudaSupport.h"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace autochunk::runtime::cuda {

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

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
    // Growing allocates and synchronizes: neither may happen while a CUDA
    // Graph is being captured.
    cudaStream_t stream;
    if (ac_status status = currentStream(kernel, &stream))
      return status;
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &capture) != cudaSuccess ||
        capture != cudaStreamCaptureStatusNone)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: scratch memory would grow to %zu bytes during "
                          "CUDA Graph capture (it must reach its size in an "
                          "eager run first)",
                          kernel, bytes);
    if (slot.data) {
      // Work queued on the old buffer must finish before it goes.
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
// Host inputs (graph constants)
//===----------------------------------------------------------------------===//

namespace {

// A view's identity: data address, dtype, sizes and strides.
using ViewKey = std::vector<int64_t>;

ViewKey keyOf(const ac_tensor *tensor) {
  ViewKey key = {static_cast<int64_t>(reinterpret_cast<intptr_t>(tensor->data)),
                 static_cast<int64_t>(tensor->dtype), tensor->rank};
  key.insert(key.end(), tensor->sizes, tensor->sizes + tensor->rank);
  key.insert(key.end(), tensor->strides, tensor->strides + tensor->rank);
  return key;
}

// Host byte ranges copied to the device, and the device views made of them.
struct HostCopy {
  const char *begin, *end; // host bytes [begin, end)
  char *device;
};
std::mutex hostInputsMutex;
std::vector<HostCopy> hostCopies;
std::map<ViewKey, ac_tensor> stagedViews; // nodes are stable: pointers stay

// Copies the host bytes `tensor` spans to the device (reusing a copy that
// holds them) and returns the view of the copy in `*staged`.
ac_status stageHostView(const char *kernel, const ac_tensor *tensor,
                        cudaStream_t stream, ac_tensor *staged) {
  int64_t lowest = 0, highest = 0; // element offsets the view reaches
  for (int dim = 0; dim < tensor->rank; ++dim) {
    const int64_t reach = (tensor->sizes[dim] - 1) * tensor->strides[dim];
    (reach < 0 ? lowest : highest) += reach;
  }
  const int64_t elementBytes = ac_dtype_size(tensor->dtype);
  const char *begin =
      static_cast<const char *>(tensor->data) + lowest * elementBytes;
  const char *end =
      static_cast<const char *>(tensor->data) + (highest + 1) * elementBytes;
  char *device = nullptr;
  for (const HostCopy &copy : hostCopies)
    if (copy.begin <= begin && end <= copy.end)
      device = copy.device + (begin - copy.begin);
  if (!device) {
    const size_t bytes = static_cast<size_t>(end - begin);
    if (ac_status status = checkCuda(kernel, "cudaMalloc (host input copy)",
                                     cudaMalloc(&device, bytes)))
      return status;
    // Ordered before the kernels that read it, on their stream.
    if (ac_status status =
            checkCuda(kernel, "cudaMemcpyAsync (host input copy)",
                      cudaMemcpyAsync(device, begin, bytes,
                                      cudaMemcpyHostToDevice, stream)))
      return status;
    hostCopies.push_back({begin, end, device});
  }
  *staged = *tensor;
  staged->data = device - lowest * elementBytes;
  return AC_OK;
}

} // namespace

ac_status checkInput(const char *kernel, const char *name,
                     const ac_tensor *&tensor) {
  if (ac_status status = autochunk::runtime::checkInput(kernel, name, tensor))
    return status;
  if (!tensor->data || ac_tensor_num_elements(tensor) == 0)
    return AC_OK;
  cudaStream_t stream;
  if (ac_status status = currentStream(kernel, &stream))
    return status;
  std::lock_guard<std::mutex> lock(hostInputsMutex);
  // During capture nothing may allocate or copy, and the pointer query is
  // left out too: a host view there is one the eager run already staged.
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capture) != cudaSuccess ||
      capture != cudaStreamCaptureStatusNone) {
    auto found = stagedViews.find(keyOf(tensor));
    if (found != stagedViews.end())
      tensor = &found->second;
    return AC_OK;
  }
  cudaPointerAttributes attributes;
  if (ac_status status =
          checkCuda(kernel, "cudaPointerGetAttributes",
                    cudaPointerGetAttributes(&attributes, tensor->data)))
    return status;
  if (attributes.type != cudaMemoryTypeUnregistered)
    return AC_OK; // device, managed, or host memory the device maps
  ViewKey key = keyOf(tensor);
  auto found = stagedViews.find(key);
  if (found == stagedViews.end()) {
    ac_tensor staged;
    if (ac_status status = stageHostView(kernel, tensor, stream, &staged))
      return status;
    found = stagedViews.emplace(std::move(key), staged).first;
  }
  tensor = &found->second;
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

template <typename Storage> struct CopyMap {
  __device__ Storage operator()(const Storage *values) const {
    return values[0];
  }
};

template <typename Element> struct FillOp {
  typename Element::Storage *out;
  float value;
  __device__ void operator()(int64_t, const int64_t *offsets) const {
    Element::store(out + offsets[0], value);
  }
};

// Bits are copied as unsigned integers of the element's width.
template <typename Storage>
ac_status copyAs(const char *kernel, const StridedIndexer<2> &indexer,
                 const ac_tensor *in, const ac_tensor *out) {
  Storage *outData = static_cast<Storage *>(out->data);
  const Storage *inData = static_cast<const Storage *>(in->data);
  if (isContiguousIndexSpace(indexer))
    return launchContiguousMap(kernel, outData, MapInputs<Storage, 1>{{inData}},
                               indexer.numElements(), CopyMap<Storage>{});
  return launchStrided(kernel, indexer, CopyOp<Storage>{outData, inData});
}

} // namespace

ac_status copyStrided(const char *kernel, const ac_tensor *in,
                      const ac_tensor *out) {
  const ac_tensor *const operands[2] = {out, in};
  StridedIndexer<2> indexer = makeIndexer(out->rank, out->sizes, operands);
  if (in->dtype == AC_F32)
    return copyAs<uint32_t>(kernel, indexer, in, out);
  return copyAs<uint16_t>(kernel, indexer, in, out);
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
