/*===- io.h - tensor files of the AutoChunk runtime ----------------*- C -*-===*
 *
 * Reading and writing tensors as .npy files and .safetensors files, a
 * "tensor source" that serves named inputs and weights from a directory of
 * .npy files or from one .safetensors file, and a deterministic seeded fill
 * for the tensors a source does not hold.
 *
 * Every fallible call returns an ac_status; on failure ac_last_error() names
 * the file and what is wrong with it. Status codes:
 *   AC_ERROR_IO               the file cannot be opened, read or written;
 *   AC_ERROR_FORMAT           its content is malformed (bad magic, header,
 *                             JSON, truncated or trailing data, ...);
 *   AC_ERROR_INVALID_ARGUMENT it is well formed but does not hold what the
 *                             caller expects (dtype, shape, buffer size), or
 *                             an argument itself is bad;
 *   AC_ERROR_NOT_FOUND        a named tensor is not there;
 *   AC_ERROR_OUT_OF_MEMORY    an allocation failed.
 *
 * Every writer is atomic: it writes a temporary file in the destination's
 * directory and renames it over the destination only once everything was
 * written; on failure the temporary file is removed and the destination is
 * left as it was.
 *
 * bfloat16 in .npy files: numpy has no bfloat16, so a bf16 tensor is written
 * as '<u2' (its raw 16-bit patterns), and a '<u2' file is read ONLY when the
 * caller expects AC_BF16 (any other '<u2' use is a dtype mismatch). Accepted
 * .npy dtypes are '<f4' (f32), '<f2' (f16) and '<u2' (bf16 bits).
 *
 *===----------------------------------------------------------------------===*/

#ifndef AUTOCHUNK_RUNTIME_IO_H
#define AUTOCHUNK_RUNTIME_IO_H

#include "autochunk/runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/*===------------------------------ .npy ---------------------------------===*/

/* What an .npy header declares. */
typedef struct ac_npy_info {
  ac_dtype dtype;             /* '<u2' is reported as AC_BF16 */
  int32_t rank;               /* 0 .. AC_MAX_RANK */
  int64_t sizes[AC_MAX_RANK]; /* the first `rank` entries are set */
  uint64_t data_offset;       /* where the elements start in the file */
  uint64_t data_bytes;        /* exactly the bytes that follow the header */
} ac_npy_info;

/* Reads and validates only the header of `path` (magic, version, header
 * dictionary, dtype, shape, and that the file holds exactly the data the
 * shape needs). */
ac_status ac_npy_read_info(const char *path, ac_npy_info *info);

/* Reads `path` into the contiguous row-major buffer `dst` of `dst_bytes`
 * bytes, after checking that it holds `dtype` elements of shape
 * `sizes[0..rank)`. */
ac_status ac_npy_load(const char *path, ac_dtype dtype, int32_t rank,
                      const int64_t *sizes, void *dst, size_t dst_bytes);

/* Reads `path`, which must hold `dtype` elements, into a buffer the library
 * allocates (64-byte aligned); `out` becomes a contiguous view of it with
 * the file's shape. Release the buffer with ac_io_free(out->data). */
ac_status ac_npy_load_alloc(const char *path, ac_dtype dtype, ac_tensor *out);

/* Frees a buffer allocated by this library (NULL is fine). */
void ac_io_free(void *data);

/* Writes `tensor` (any strides, broadcast views included) to `path` as a
 * row-major .npy file (version 1.0, or 2.0 when the header needs it). */
ac_status ac_npy_save(const char *path, const ac_tensor *tensor);

/* Writes `tensor` to `dir`/`name`.npy, the file a directory tensor source
 * serves as `name`. `name` must be non-empty, hold no '/', and not be "." or
 * "..". */
ac_status ac_npy_save_named(const char *dir, const char *name,
                            const ac_tensor *tensor);

/*===--------------------------- safetensors -----------------------------===*/

/* An open, fully validated .safetensors file: an 8-byte little-endian header
 * length N, N bytes of JSON, then the data section. Validation: N within the
 * file and at most 100 MB, the JSON an object whose entries (other than
 * "__metadata__", an object of strings) each have exactly "dtype" ("F32",
 * "F16" or "BF16"), "shape" (non-negative integers, at most AC_MAX_RANK) and
 * "data_offsets" ([begin, end] relative to the data section, end - begin ==
 * elements * dtype size), no duplicate names, and the entries tile the data
 * section exactly (no overlap, no gap, no trailing bytes), as the reference
 * implementation requires. */
typedef struct ac_safetensors ac_safetensors;

ac_status ac_safetensors_open(const char *path, ac_safetensors **out);
void ac_safetensors_close(ac_safetensors *file);

/* The number of tensors and the name of the `index`-th one, in the order of
 * their data offsets (NULL when `index` is out of range). */
int64_t ac_safetensors_count(const ac_safetensors *file);
const char *ac_safetensors_name(const ac_safetensors *file, int64_t index);

/* The dtype and shape of tensor `name` (`sizes` holds AC_MAX_RANK entries). */
ac_status ac_safetensors_info(const ac_safetensors *file, const char *name,
                              ac_dtype *dtype, int32_t *rank, int64_t *sizes);

/* Copies tensor `name` into the contiguous buffer `dst` of `dst_bytes`
 * bytes, after checking that it holds `dtype` elements of shape
 * `sizes[0..rank)`. */
ac_status ac_safetensors_load(const ac_safetensors *file, const char *name,
                              ac_dtype dtype, int32_t rank,
                              const int64_t *sizes, void *dst,
                              size_t dst_bytes);

/* Writes `count` tensors (any strides) named `names[i]` (unique, non-empty,
 * not "__metadata__") to `path`. The header is padded with spaces to a
 * multiple of 8 bytes so that the data section stays aligned. */
ac_status ac_safetensors_save(const char *path, int64_t count,
                              const char *const *names,
                              const ac_tensor *tensors);

/*===-------------------------- tensor source ----------------------------===*/

/* Named tensors from a directory (tensor "a.b" is DIR/a.b.npy; files not
 * ending in ".npy" are ignored) or from one .safetensors file (chosen when
 * `path` is a regular file). The set of names is taken when it is opened.
 * The source remembers every name it was asked about (has or load), so that
 * the names nobody asked for can be rejected as unknown inputs. */
typedef struct ac_tensor_source ac_tensor_source;

ac_status ac_tensor_source_open(const char *path, ac_tensor_source **out);
void ac_tensor_source_close(ac_tensor_source *source);

/* The path the source was opened from. */
const char *ac_tensor_source_path(const ac_tensor_source *source);

/* Non-zero when the source holds `name`; marks `name` as requested. */
int ac_tensor_source_has(ac_tensor_source *source, const char *name);

/* Copies `name` into `dst` (as ac_npy_load / ac_safetensors_load); marks
 * `name` as requested. AC_ERROR_NOT_FOUND when the source lacks it. */
ac_status ac_tensor_source_load(ac_tensor_source *source, const char *name,
                                ac_dtype dtype, int32_t rank,
                                const int64_t *sizes, void *dst,
                                size_t dst_bytes);

/* The names the source holds that were never requested, sorted. */
int64_t ac_tensor_source_unrequested_count(const ac_tensor_source *source);
const char *ac_tensor_source_unrequested_name(const ac_tensor_source *source,
                                              int64_t index);

/* AC_OK when every name in the source was requested; otherwise
 * AC_ERROR_INVALID_ARGUMENT with "unknown input 'NAME' in PATH" (the first
 * such name, and how many more there are). */
ac_status ac_tensor_source_check_all_requested(const ac_tensor_source *source);

/*===--------------------------- seeded fill -----------------------------===*/

/* Fills `tensor` (any strides) with values uniform in [-scale, scale),
 * determined only by (seed, name, the element's row-major index): the same
 * bits on every machine and for every thread count. Each element is a
 * splitmix64 output at counter (index + 1) of a stream whose key hashes seed
 * and name; its top 24 bits give u in [0, 1), the value is
 * (2u - 1) * scale computed in f32, then rounded to nearest even for f16 and
 * bf16. `scale` must be finite and non-negative (e.g. 1/sqrt(fan_in)). */
ac_status ac_seeded_fill(const ac_tensor *tensor, uint64_t seed,
                         const char *name, float scale);

#ifdef __cplusplus
}
#endif

#endif /* AUTOCHUNK_RUNTIME_IO_H */
