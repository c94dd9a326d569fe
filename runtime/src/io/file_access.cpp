//===- file_access.cpp - checked file reads and atomic writes -------------===//

#include "file_access.h"

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace autochunk::runtime_io {

//===----------------------------------------------------------------------===//
// InputFile
//===----------------------------------------------------------------------===//

InputFile::~InputFile() {
  if (fd >= 0)
    ::close(fd);
}

ac_status InputFile::open(const std::string &path) {
  filePath = path;
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ac_set_error(AC_ERROR_IO, "'%s': cannot open for reading: %s",
                        path.c_str(), std::strerror(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return ac_set_error(AC_ERROR_IO, "'%s': cannot stat: %s", path.c_str(),
                        std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return ac_set_error(AC_ERROR_IO, "'%s': not a regular file", path.c_str());
  fileSize = static_cast<uint64_t>(info.st_size);
  return AC_OK;
}

ac_status InputFile::readAt(uint64_t offset, void *dst, size_t bytes,
                            const char *what) const {
  auto *out = static_cast<char *>(dst);
  size_t done = 0;
  while (done < bytes) {
    ssize_t got = ::pread(fd, out + done, bytes - done,
                          static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return ac_set_error(AC_ERROR_IO, "'%s': cannot read %s: %s",
                          filePath.c_str(), what, std::strerror(errno));
    // The size was checked at open: a short read means the file shrank.
    if (got == 0)
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': file ended while reading %s (%zu of %zu "
                          "bytes read)",
                          filePath.c_str(), what, done, bytes);
    done += static_cast<size_t>(got);
  }
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// AtomicFile
//===----------------------------------------------------------------------===//

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
  if (!tempPath.empty())
    ::unlink(tempPath.c_str());
  tempPath.clear();
}

ac_status AtomicFile::open(const std::string &path) {
  discard();
  finalPath = path;
  // A unique name next to the destination, so that rename() stays within one
  // file system; O_EXCL guards against a name already taken.
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string candidate = path + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(counter.fetch_add(1));
    fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                0666);
    if (fd >= 0) {
      tempPath = candidate;
      return AC_OK;
    }
    if (errno != EEXIST)
      return ac_set_error(AC_ERROR_IO,
                          "'%s': cannot create a temporary file next to it: "
                          "%s",
                          path.c_str(), std::strerror(errno));
  }
  return ac_set_error(AC_ERROR_IO,
                      "'%s': cannot find a free temporary file name next to it",
                      path.c_str());
}

ac_status AtomicFile::write(const void *data, size_t bytes) {
  if (fd < 0)
    return ac_set_error(AC_ERROR_IO, "'%s': write to a file that is not open",
                        finalPath.c_str());
  const auto *in = static_cast<const char *>(data);
  size_t done = 0;
  while (done < bytes) {
    ssize_t put = ::write(fd, in + done, bytes - done);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0) {
      int error = put < 0 ? errno : EIO;
      discard();
      return ac_set_error(AC_ERROR_IO, "'%s': cannot write: %s",
                          finalPath.c_str(), std::strerror(error));
    }
    done += static_cast<size_t>(put);
  }
  return AC_OK;
}

ac_status AtomicFile::writeElements(const ac_tensor &tensor) {
  const size_t elementSize = ac_dtype_size(tensor.dtype);
  int64_t count = ac_tensor_num_elements(&tensor);
  if (count == 0)
    return AC_OK;
  if (ac_tensor_is_contiguous(&tensor))
    return write(tensor.data, static_cast<size_t>(count) * elementSize);

  // Gather rows of the innermost dimension into a staging buffer, walking the
  // outer dimensions like an odometer.
  const int32_t rank = tensor.rank;
  const int64_t rowLength = rank == 0 ? 1 : tensor.sizes[rank - 1];
  const int64_t rowStride = rank == 0 ? 0 : tensor.strides[rank - 1];
  const size_t stagingBytes = size_t(1) << 20;
  std::vector<char> staging(stagingBytes);
  size_t filled = 0;
  int64_t index[AC_MAX_RANK] = {0};
  const char *base = static_cast<const char *>(tensor.data);
  for (int64_t row = 0, rows = count / rowLength; row < rows; ++row) {
    int64_t rowOffset = 0;
    for (int32_t dim = 0; dim + 1 < rank; ++dim)
      rowOffset += index[dim] * tensor.strides[dim];
    for (int64_t column = 0; column < rowLength; ++column) {
      if (filled + elementSize > stagingBytes) {
        if (ac_status status = write(staging.data(), filled))
          return status;
        filled = 0;
      }
      std::memcpy(staging.data() + filled,
                  base + (rowOffset + column * rowStride) *
                             static_cast<int64_t>(elementSize),
                  elementSize);
      filled += elementSize;
    }
    for (int32_t dim = rank - 2; dim >= 0; --dim) {
      if (++index[dim] < tensor.sizes[dim])
        break;
      index[dim] = 0;
    }
  }
  return write(staging.data(), filled);
}

ac_status AtomicFile::commit() {
  if (fd < 0)
    return ac_set_error(AC_ERROR_IO, "'%s': commit of a file that is not open",
                        finalPath.c_str());
  int closeResult = ::close(fd);
  fd = -1;
  if (closeResult != 0) {
    int error = errno;
    discard();
    return ac_set_error(AC_ERROR_IO, "'%s': cannot finish writing: %s",
                        finalPath.c_str(), std::strerror(error));
  }
  if (::rename(tempPath.c_str(), finalPath.c_str()) != 0) {
    int error = errno;
    discard();
    return ac_set_error(AC_ERROR_IO, "'%s': cannot replace it: %s",
                        finalPath.c_str(), std::strerror(error));
  }
  tempPath.clear();
  return AC_OK;
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

bool shapeByteSize(int32_t rank, const int64_t *sizes, size_t elementSize,
                   uint64_t *elements, uint64_t *bytes) {
  uint64_t count = 1;
  for (int32_t dim = 0; dim < rank; ++dim) {
    if (sizes[dim] < 0)
      return false;
    uint64_t size = static_cast<uint64_t>(sizes[dim]);
    if (size != 0 && count > static_cast<uint64_t>(INT64_MAX) / size)
      return false;
    count *= size;
  }
  if (count != 0 && count > static_cast<uint64_t>(INT64_MAX) / elementSize)
    return false;
  *elements = count;
  *bytes = count * elementSize;
  return true;
}

std::string formatShape(int32_t rank, const int64_t *sizes) {
  std::string text = "(";
  for (int32_t dim = 0; dim < rank; ++dim) {
    if (dim > 0)
      text += ", ";
    text += std::to_string(sizes[dim]);
  }
  if (rank == 1)
    text += ",";
  return text + ")";
}

static bool isKnownDtype(int dtype) {
  return dtype == AC_F32 || dtype == AC_F16 || dtype == AC_BF16;
}

ac_status validateTensor(const ac_tensor *tensor, const std::string &context) {
  if (!tensor)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: no tensor given",
                        context.c_str());
  if (!isKnownDtype(tensor->dtype))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "%s: unknown dtype %d",
                        context.c_str(), static_cast<int>(tensor->dtype));
  if (tensor->rank < 0 || tensor->rank > AC_MAX_RANK)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: rank %d is outside 0..%d", context.c_str(),
                        tensor->rank, AC_MAX_RANK);
  uint64_t elements = 0, bytes = 0;
  if (!shapeByteSize(tensor->rank, tensor->sizes, ac_dtype_size(tensor->dtype),
                     &elements, &bytes))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: shape %s has a negative size or too many elements",
                        context.c_str(),
                        formatShape(tensor->rank, tensor->sizes).c_str());
  if (elements > 0 && !tensor->data)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "%s: tensor of shape %s has no data", context.c_str(),
                        formatShape(tensor->rank, tensor->sizes).c_str());
  return AC_OK;
}

ac_status checkExpected(const std::string &path, const std::string &what,
                        ac_dtype heldDtype, const char *heldDtypeText,
                        int32_t heldRank, const int64_t *heldSizes,
                        ac_dtype dtype, int32_t rank, const int64_t *sizes,
                        const void *dst, size_t dstBytes) {
  if (!isKnownDtype(dtype))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': %s requested with unknown dtype %d",
                        path.c_str(), what.c_str(), static_cast<int>(dtype));
  if (rank < 0 || rank > AC_MAX_RANK || (rank > 0 && !sizes))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': %s requested with an invalid rank %d",
                        path.c_str(), what.c_str(), rank);
  if (heldDtype != dtype)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': %s holds %s but %s was expected", path.c_str(),
                        what.c_str(), heldDtypeText, ac_dtype_name(dtype));
  bool sameShape = heldRank == rank;
  for (int32_t dim = 0; sameShape && dim < rank; ++dim)
    sameShape = heldSizes[dim] == sizes[dim];
  if (!sameShape)
    return ac_set_error(
        AC_ERROR_INVALID_ARGUMENT, "'%s': %s has shape %s but %s was expected",
        path.c_str(), what.c_str(), formatShape(heldRank, heldSizes).c_str(),
        formatShape(rank, sizes).c_str());
  uint64_t elements = 0, bytes = 0;
  shapeByteSize(rank, sizes, ac_dtype_size(dtype), &elements, &bytes);
  if (dstBytes < bytes)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': %s needs %" PRIu64
                        " bytes but the destination holds %zu",
                        path.c_str(), what.c_str(), bytes, dstBytes);
  if (bytes > 0 && !dst)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': %s has no destination buffer", path.c_str(),
                        what.c_str());
  return AC_OK;
}

} // namespace autochunk::runtime_io
