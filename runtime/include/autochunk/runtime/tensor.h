/*===- tensor.h - tensor descriptors of the AutoChunk runtime ------*- C -*-===*
 *
 * The C ABI every runtime entry point shares: element types, strided tensor
 * descriptors (so that a chunk of a larger buffer is a view, not a copy) and
 * status codes with a readable last error. No MLIR or LLVM dependency.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_TENSOR_H
#define AUTOCHUNK_RUNTIME_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest rank a runtime tensor may have. */
#define AC_MAX_RANK 8

typedef enum ac_dtype {
  AC_F32 = 0,
  AC_F16 = 1,
  AC_BF16 = 2,
} ac_dtype;

/* A strided view of elements: element (i0, ..., iR-1) lives at
 * data + sum_k ik * strides[k] elements (not bytes). A stride of 0 repeats an
 * element (a broadcast view). */
typedef struct ac_tensor {
  void *data;
  ac_dtype dtype;
  int32_t rank;
  int64_t sizes[AC_MAX_RANK];
  int64_t strides[AC_MAX_RANK];
} ac_tensor;

typedef enum ac_status {
  AC_OK = 0,
  AC_ERROR_INVALID_ARGUMENT = 1, /* shapes, dtypes, axes that do not fit */
  AC_ERROR_IO = 2,               /* a file that cannot be read or written */
  AC_ERROR_FORMAT = 3,           /* a file whose content is malformed */
  AC_ERROR_OUT_OF_MEMORY = 4,
  AC_ERROR_NOT_FOUND = 5,        /* a named tensor that is not there */
} ac_status;

/* The message of the last error on this thread ("" when none). */
const char *ac_last_error(void);

/* Sets the last error of this thread (printf-style) and returns `status`. */
ac_status ac_set_error(ac_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Bytes per element of `dtype`. */
size_t ac_dtype_size(ac_dtype dtype);

/* "f32", "f16" or "bf16". */
const char *ac_dtype_name(ac_dtype dtype);

/* Fills `tensor` as a contiguous row-major view of `data`. */
void ac_tensor_init_contiguous(ac_tensor *tensor, void *data, ac_dtype dtype,
                               int32_t rank, const int64_t *sizes);

/* The number of elements (the product of the sizes; 1 for rank 0). */
int64_t ac_tensor_num_elements(const ac_tensor *tensor);

/* Non-zero when the strides are those of a contiguous row-major layout. */
int ac_tensor_is_contiguous(const ac_tensor *tensor);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_TENSOR_H */
