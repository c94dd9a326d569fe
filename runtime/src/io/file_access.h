//===- file_access.h - checked file reads and atomic writes of the runtime ===//
//
// Internal to the runtime's IO: every read checks it got every byte, and
// every writer goes through AtomicFile so that a failed write leaves nothing
// behind. All errors are reported through ac_set_error with the file path.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_RUNTIME_IO_FILE_ACCESS_H
#define AUTOCHUNK_RUNTIME_IO_FILE_ACCESS_H

#include "autochunk/runtime/tensor.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace autochunk::runtime_io {

/// A regular file opened for reading, with its size taken at open time.
class InputFile {
public:
  InputFile() = default;
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile();

  /// Opens `path`; fails on anything but a readable regular file.
  ac_status open(const std::string &path);
  /// Reads exactly `bytes` bytes at `offset`, or fails naming `what`.
  ac_status readAt(uint64_t offset, void *dst, size_t bytes,
                   const char *what) const;

  uint64_t size() const { return fileSize; }
  const std::string &path() const { return filePath; }

private:
  int fd = -1;
  uint64_t fileSize = 0;
  std::string filePath;
};

/// A file written under a temporary name in the destination's directory and
/// renamed over the destination by commit(); destroyed uncommitted, it
/// removes the temporary file.
class AtomicFile {
public:
  AtomicFile() = default;
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;
  ~AtomicFile();

  ac_status open(const std::string &path);
  ac_status write(const void *data, size_t bytes);
  /// Writes the elements of `tensor` in row-major order, whatever its strides.
  ac_status writeElements(const ac_tensor &tensor);
  ac_status commit();

private:
  void discard();

  int fd = -1;
  std::string finalPath;
  std::string tempPath;
};

/// Checks that `tensor` is a usable descriptor (dtype, rank, sizes, data)
/// whose byte size fits in 64 bits; `context` starts the error message.
ac_status validateTensor(const ac_tensor *tensor, const std::string &context);

/// Element count and byte size of a shape, or false on a negative size or an
/// overflow of int64.
bool shapeByteSize(int32_t rank, const int64_t *sizes, size_t elementSize,
                   uint64_t *elements, uint64_t *bytes);

/// "(3, 4)", "(3,)" or "()": the shape as Python prints a tuple.
std::string formatShape(int32_t rank, const int64_t *sizes);

/// Checks an expected (dtype, rank, sizes, dst_bytes) against what a file
/// holds; the message names `path` and `what` (e.g. "tensor 'w'").
ac_status checkExpected(const std::string &path, const std::string &what,
                        ac_dtype heldDtype, const char *heldDtypeText,
                        int32_t heldRank, const int64_t *heldSizes,
                        ac_dtype dtype, int32_t rank, const int64_t *sizes,
                        const void *dst, size_t dstBytes);

/// Non-zero-size buffers allocated with this alignment by the IO library.
constexpr size_t kBufferAlignment = 64;

} // namespace autochunk::runtime_io

#endif // AUTOCHUNK_RUNTIME_IO_FILE_ACCESS_H
