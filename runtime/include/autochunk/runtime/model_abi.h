/*===- model_abi.h - what a compiled model exports -----------------*- C -*-===*
 *
 * chunk-compile emits, next to the model's object code, a small C file that
 * defines the symbols below: a description of the model's tensors and an
 * entry point that runs the model on caller-provided buffers. The runtime's
 * `main` (model_main) and the generated shared-library header build on it.
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_MODEL_ABI_H
#define AUTOCHUNK_RUNTIME_MODEL_ABI_H

#include "autochunk/runtime/arena.h"
#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ac_tensor_role {
  AC_ROLE_INPUT = 0,
  AC_ROLE_WEIGHT = 1,
  AC_ROLE_OUTPUT = 2,
} ac_tensor_role;

/* One model argument or output: contiguous row-major, static shape. */
typedef struct ac_model_tensor_info {
  const char *name;
  ac_dtype dtype;
  ac_tensor_role role;
  int32_t rank;
  int64_t sizes[AC_MAX_RANK];
  /* Outputs live in the arena at this byte offset; -1 for arguments. */
  int64_t arena_offset;
} ac_model_tensor_info;

typedef struct ac_model_info {
  const char *name;   /* the compiled function's name */
  const char *device; /* "cpu" or "cuda" */
  int32_t num_args;   /* inputs and weights, in call order */
  const ac_model_tensor_info *args;
  int32_t num_outputs;
  const ac_model_tensor_info *outputs;
  int64_t arena_bytes; /* the planned activation bytes */
  int32_t chunked;     /* non-zero when AutoChunk rewrote the graph */
} ac_model_info;

/* Defined by the generated C file. */
extern const ac_model_info ac_compiled_model;

/* Runs the model: `args[i]` points to argument i's contiguous data, `arena`
 * to at least arena_bytes bytes aligned to 64 that the caller owns. When
 * `measurement` is not NULL (an ac_arena over the same bytes), the kernels
 * record what they write in it. Outputs are left in the arena at their
 * offsets. Returns AC_OK or the status of the first kernel that failed
 * (message in ac_last_error()). The generated definition brackets the call
 * of the compiled function with ac_abi_begin(measurement) / ac_abi_end(). */
ac_status ac_compiled_model_run(void *const *args, void *arena,
                                ac_arena *measurement);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_MODEL_ABI_H */
