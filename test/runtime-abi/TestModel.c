/*===- TestModel.c - a hand-written stand-in for a compiled model ---------===*
 *
 * Plays the part of the C file and object code chunk-compile generates:
 * describes the model (model_abi.h) and runs it by calling the kernel entry
 * points with memref descriptors, as lowered code does (mlir_abi.h):
 *   y = linear(x, fc.weight, fc.bias)   [4, 5] at arena byte 0
 *   z = softmax(y, axis 1)              [4, 5] at arena byte 128
 * With AC_TEST_MODEL_FAIL set in the environment, softmax gets axis 7 so
 * that the error path of the kernel calls can be tested.
 *
 *===----------------------------------------------------------------------===*/

#include "autochunk/runtime/mlir_abi.h"
#include "autochunk/runtime/model_abi.h"

#include <stdlib.h>

static const ac_model_tensor_info testModelArgs[] = {
    {"x", AC_F32, AC_ROLE_INPUT, 2, {4, 6}, -1},
    {"fc.weight", AC_F32, AC_ROLE_WEIGHT, 2, {5, 6}, -1},
    {"fc.bias", AC_F32, AC_ROLE_WEIGHT, 1, {5}, -1},
};

static const ac_model_tensor_info testModelOutputs[] = {
    {"y", AC_F32, AC_ROLE_OUTPUT, 2, {4, 5}, 0},
    {"z", AC_F32, AC_ROLE_OUTPUT, 2, {4, 5}, 128},
};

const ac_model_info ac_compiled_model = {
    "test_model", "cpu", 3, testModelArgs, 2, testModelOutputs, 256, 0,
};

/* The ranked descriptors of memref<...xf32> of rank 1 and 2. */
typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} Memref1;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} Memref2;

static Memref2 matrix(void *base, int64_t offset, int64_t rows, int64_t cols) {
  Memref2 memref = {base, base, offset, {rows, cols}, {cols, 1}};
  return memref;
}

ac_status ac_compiled_model_run(void *const *args, void *arena,
                                ac_arena *measurement) {
  ac_abi_begin(measurement);
  Memref2 x = matrix(args[0], 0, 4, 6);
  Memref2 weight = matrix(args[1], 0, 5, 6);
  Memref1 bias = {args[2], args[2], 0, {5}, {1}};
  /* Outputs address the arena's base plus an element offset, as a
   * memref.view of the planned arena does. */
  Memref2 y = matrix(arena, 0, 4, 5);
  Memref2 z = matrix(arena, 128 / sizeof(float), 4, 5);
  ac_kernel_linear_f32(2, &x, 2, &weight, 1, &bias, 2, &y);
  int64_t axis = getenv("AC_TEST_MODEL_FAIL") ? 7 : 1;
  ac_kernel_softmax_f32(2, &y, 2, &z, axis);
  return ac_abi_end();
}
