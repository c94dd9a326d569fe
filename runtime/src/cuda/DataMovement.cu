//===- DataMovement.cu - copy, transpose, broadcast, slice, concat, reshape =//
//
// Every kernel here builds a strided view of its input shaped like its output
// and hands both to one strided bit copy kernel.
//
//===----------------------------------------------------------------------===//

#include "CudaSupport.h"

using namespace autochunk::runtime::cuda;

namespace {

ac_status checkMove(const char *kernel, const ac_tensor *&in,
                    const ac_tensor *out) {
  if (ac_status status = checkInput(kernel, "input", in))
    return status;
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  return checkSameDtype(kernel, "input", in, "output", out);
}

} // namespace

extern "C" {

ac_status ac_copy(const ac_tensor *in, ac_tensor *out) {
  KernelTimer timer("ac_copy", out);
  const char *kernel = "ac_copy";
  if (ac_status status = checkMove(kernel, in, out))
    return status;
  if (ac_status status = checkSameShape(kernel, "input", in, "output", out))
    return status;
  return copyStrided(kernel, in, out);
}

ac_status ac_transpose(const ac_tensor *in, ac_tensor *out,
                       const int64_t *perm) {
  KernelTimer timer("ac_transpose", out);
  const char *kernel = "ac_transpose";
  if (ac_status status = checkMove(kernel, in, out))
    return status;
  if (!perm && in->rank > 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: permutation is NULL",
                        kernel);
  if (in->rank != out->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s and output %s differ in rank", kernel,
                        describe(in).text, describe(out).text);
  bool seen[AC_MAX_RANK] = {false};
  ac_tensor permuted = *in;
  for (int dim = 0; dim < in->rank; ++dim) {
    int64_t source = perm[dim];
    if (source < 0 || source >= in->rank || seen[source])
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: entry %d (%lld) makes the permutation invalid "
                          "for rank %d",
                          kernel, dim, static_cast<long long>(source),
                          in->rank);
    seen[source] = true;
    permuted.sizes[dim] = in->sizes[source];
    permuted.strides[dim] = in->strides[source];
  }
  if (ac_status status =
          checkSameShape(kernel, "permuted input", &permuted, "output", out))
    return status;
  return copyStrided(kernel, &permuted, out);
}

ac_status ac_broadcast(const ac_tensor *in, ac_tensor *out) {
  KernelTimer timer("ac_broadcast", out);
  const char *kernel = "ac_broadcast";
  if (ac_status status = checkMove(kernel, in, out))
    return status;
  ac_tensor view;
  if (!broadcastView(in, out->rank, out->sizes, &view))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s does not broadcast to output %s", kernel,
                        describe(in).text, describe(out).text);
  return copyStrided(kernel, &view, out);
}

ac_status ac_slice(const ac_tensor *in, ac_tensor *out, const int64_t *starts,
                   const int64_t *strides) {
  KernelTimer timer("ac_slice", out);
  const char *kernel = "ac_slice";
  if (ac_status status = checkMove(kernel, in, out))
    return status;
  if (in->rank != out->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s and output %s differ in rank", kernel,
                        describe(in).text, describe(out).text);
  if (!starts && in->rank > 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: starts is NULL",
                        kernel);
  ac_tensor view = *in;
  int64_t offset = 0;
  for (int dim = 0; dim < in->rank; ++dim) {
    int64_t step = strides ? strides[dim] : 1;
    int64_t start = starts[dim], extent = out->sizes[dim];
    if (step < 1)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: stride %lld of dimension %d must be positive",
                          kernel, static_cast<long long>(step), dim);
    bool fits = extent == 0
                    ? start >= 0 && start <= in->sizes[dim]
                    : start >= 0 && start < in->sizes[dim] &&
                          (extent - 1) <= (in->sizes[dim] - 1 - start) / step;
    if (!fits)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: %lld elements from %lld by %lld leave input %s "
                          "in dimension %d",
                          kernel, static_cast<long long>(extent),
                          static_cast<long long>(start),
                          static_cast<long long>(step), describe(in).text, dim);
    offset += start * in->strides[dim];
    view.sizes[dim] = extent;
    view.strides[dim] = in->strides[dim] * step;
  }
  if (ac_tensor_num_elements(out) == 0)
    return AC_OK;
  view.data = static_cast<char *>(in->data) +
              offset * static_cast<int64_t>(ac_dtype_size(in->dtype));
  return copyStrided(kernel, &view, out);
}

ac_status ac_concat(const ac_tensor *const *inputs, int num_inputs,
                    ac_tensor *out, int64_t axis) {
  KernelTimer timer("ac_concat", out);
  const char *kernel = "ac_concat";
  if (ac_status status = checkOutput(kernel, "output", out))
    return status;
  if (num_inputs < 1 || !inputs)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: needs at least one input", kernel);
  if (axis < 0 || axis >= out->rank)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: axis %lld is outside [0, %d) for output %s",
                        kernel, static_cast<long long>(axis), out->rank,
                        describe(out).text);
  int64_t total = 0;
  for (int i = 0; i < num_inputs; ++i) {
    const ac_tensor *in = inputs[i];
    if (ac_status status = checkInput(kernel, "an input", in))
      return status;
    if (ac_status status =
            checkSameDtype(kernel, "an input", in, "output", out))
      return status;
    bool matches = in->rank == out->rank;
    for (int dim = 0; matches && dim < out->rank; ++dim)
      matches = dim == axis || in->sizes[dim] == out->sizes[dim];
    if (!matches)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "%s: input %d %s must match output %s except in "
                          "axis %lld",
                          kernel, i, describe(in).text, describe(out).text,
                          static_cast<long long>(axis));
    total += in->sizes[axis];
  }
  if (total != out->sizes[axis])
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: inputs add up to %lld along axis %lld but output "
                        "%s has %lld",
                        kernel, static_cast<long long>(total),
                        static_cast<long long>(axis), describe(out).text,
                        static_cast<long long>(out->sizes[axis]));
  int64_t position = 0;
  for (int i = 0; i < num_inputs; ++i) {
    // The device view of an input in host memory (found again, not copied
    // again: see checkInput).
    const ac_tensor *in = inputs[i];
    if (ac_status status = checkInput(kernel, "an input", in))
      return status;
    ac_tensor part = *out;
    part.sizes[axis] = in->sizes[axis];
    part.data = static_cast<char *>(out->data) +
                position * out->strides[axis] *
                    static_cast<int64_t>(ac_dtype_size(out->dtype));
    if (ac_status status = copyStrided(kernel, in, &part))
      return status;
    position += part.sizes[axis];
  }
  return AC_OK;
}

ac_status ac_reshape(const ac_tensor *in, ac_tensor *out) {
  KernelTimer timer("ac_reshape", out);
  const char *kernel = "ac_reshape";
  if (ac_status status = checkMove(kernel, in, out))
    return status;
  int64_t count = ac_tensor_num_elements(in);
  if (count != ac_tensor_num_elements(out))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: input %s and output %s differ in element count",
                        kernel, describe(in).text, describe(out).text);
  if (count == 0)
    return AC_OK;
  // A contiguous side can take the other's shape as a view.
  if (ac_tensor_is_contiguous(in)) {
    ac_tensor view;
    ac_tensor_init_contiguous(&view, in->data, in->dtype, out->rank,
                              out->sizes);
    return copyStrided(kernel, &view, out);
  }
  if (ac_tensor_is_contiguous(out)) {
    ac_tensor view;
    ac_tensor_init_contiguous(&view, out->data, out->dtype, in->rank,
                              in->sizes);
    return copyStrided(kernel, in, &view);
  }
  size_t bytes = static_cast<size_t>(count) * ac_dtype_size(in->dtype);
  void *staging;
  if (ac_status status =
          scratchBuffer(kernel, Scratch::Reshape, bytes, &staging))
    return status;
  ac_tensor packed;
  ac_tensor_init_contiguous(&packed, staging, in->dtype, in->rank, in->sizes);
  if (ac_status status = copyStrided(kernel, in, &packed))
    return status;
  ac_tensor_init_contiguous(&packed, staging, in->dtype, out->rank, out->sizes);
  return copyStrided(kernel, &packed, out);
}

} // extern "C"
