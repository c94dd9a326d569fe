//===- tensor.cpp - tensor descriptors and errors of the runtime ----------===//

#include "autochunk/runtime/tensor.h"

#include <cstdarg>
#include <cstdio>

namespace {
// Per-thread, so that kernels on worker threads never garble the message a
// caller reads.
thread_local char lastError[1024] = "";
} // namespace

extern "C" {

const char *ac_last_error(void) { return lastError; }

ac_status ac_set_error(ac_status status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(lastError, sizeof(lastError), format, args);
  va_end(args);
  return status;
}

size_t ac_dtype_size(ac_dtype dtype) { return dtype == AC_F32 ? 4 : 2; }

const char *ac_dtype_name(ac_dtype dtype) {
  switch (dtype) {
  case AC_F32:
    return "f32";
  case AC_F16:
    return "f16";
  case AC_BF16:
    return "bf16";
  }
  return "unknown";
}

void ac_tensor_init_contiguous(ac_tensor *tensor, void *data, ac_dtype dtype,
                               int32_t rank, const int64_t *sizes) {
  tensor->data = data;
  tensor->dtype = dtype;
  tensor->rank = rank;
  int64_t stride = 1;
  for (int32_t dim = rank - 1; dim >= 0; --dim) {
    tensor->sizes[dim] = sizes[dim];
    tensor->strides[dim] = stride;
    stride *= sizes[dim];
  }
}

int64_t ac_tensor_num_elements(const ac_tensor *tensor) {
  int64_t count = 1;
  for (int32_t dim = 0; dim < tensor->rank; ++dim)
    count *= tensor->sizes[dim];
  return count;
}

int ac_tensor_is_contiguous(const ac_tensor *tensor) {
  int64_t expected = 1;
  for (int32_t dim = tensor->rank - 1; dim >= 0; --dim) {
    // A size-1 dimension's stride is never used to address anything.
    if (tensor->sizes[dim] != 1 && tensor->strides[dim] != expected)
      return 0;
    expected *= tensor->sizes[dim];
  }
  return 1;
}

} // extern "C"
