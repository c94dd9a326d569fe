//===- npy.cpp - reading and writing .npy files ---------------------------===//
//
// The .npy format: "\x93NUMPY", a version byte pair, a little-endian header
// length (2 bytes in version 1.0, 4 in 2.0 and 3.0), a Python dict literal
// {'descr': ..., 'fortran_order': ..., 'shape': (...)} padded with spaces
// and a newline, then the raw elements. The header is parsed by a strict
// recursive-descent reader rather than anything resembling eval.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/io.h"
#include "file_access.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

using namespace autochunk::runtime_io;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLength = 6;

/// The dict an .npy header holds, as far as this runtime accepts it.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  int32_t rank = 0;
  int64_t sizes[AC_MAX_RANK] = {0};
};

/// A strict reader of the header's Python literal. Errors carry the column.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  /// Parses the whole header into `header`, or returns false with `error`.
  bool parse(NpyHeader &header) {
    bool sawDescr = false, sawFortran = false, sawShape = false;
    skipSpace();
    if (!expect('{'))
      return false;
    skipSpace();
    while (!atEnd() && peek() != '}') {
      std::string key;
      if (!parseString(key))
        return false;
      skipSpace();
      if (!expect(':'))
        return false;
      skipSpace();
      if (key == "descr") {
        if (sawDescr)
          return fail("duplicate key 'descr'");
        sawDescr = true;
        if (atEnd() || (peek() != '\'' && peek() != '"'))
          return fail("'descr' is not a plain dtype string (structured "
                      "dtypes are not supported)");
        if (!parseString(header.descr))
          return false;
      } else if (key == "fortran_order") {
        if (sawFortran)
          return fail("duplicate key 'fortran_order'");
        sawFortran = true;
        if (!parseBool(header.fortranOrder))
          return false;
      } else if (key == "shape") {
        if (sawShape)
          return fail("duplicate key 'shape'");
        sawShape = true;
        if (!parseShape(header))
          return false;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      skipSpace();
      if (!atEnd() && peek() == ',') {
        ++position;
        skipSpace();
        continue;
      }
      if (atEnd() || peek() != '}')
        return fail("expected ',' or '}'");
    }
    if (!expect('}'))
      return false;
    skipSpace();
    if (!atEnd())
      return fail("unexpected text after the dictionary");
    if (!sawDescr || !sawFortran || !sawShape)
      return fail(std::string("missing key '") +
                  (!sawDescr     ? "descr"
                   : !sawFortran ? "fortran_order"
                                 : "shape") +
                  "'");
    return true;
  }

  std::string error;

private:
  bool atEnd() const { return position >= text.size(); }
  char peek() const { return text[position]; }

  void skipSpace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' ||
                        peek() == '\r'))
      ++position;
  }

  bool fail(const std::string &message) {
    error = message + " at column " + std::to_string(position + 1);
    return false;
  }

  bool expect(char wanted) {
    if (atEnd() || peek() != wanted)
      return fail(std::string("expected '") + wanted + "'");
    ++position;
    return true;
  }

  bool parseString(std::string &out) {
    if (atEnd() || (peek() != '\'' && peek() != '"'))
      return fail("expected a quoted string");
    char quote = text[position++];
    size_t start = position;
    while (!atEnd() && peek() != quote) {
      if (peek() == '\\' || peek() == '\n')
        return fail("unsupported character in a string");
      ++position;
    }
    if (atEnd())
      return fail("unterminated string");
    out = text.substr(start, position - start);
    ++position;
    return true;
  }

  bool parseBool(bool &out) {
    if (text.compare(position, 4, "True") == 0) {
      position += 4;
      out = true;
      return true;
    }
    if (text.compare(position, 5, "False") == 0) {
      position += 5;
      out = false;
      return true;
    }
    return fail("expected True or False");
  }

  /// A tuple of non-negative integers: (), (3,), (3, 4) or (3, 4,). "(3)" is
  /// an int in Python, not a tuple, so it is rejected.
  bool parseShape(NpyHeader &header) {
    if (!expect('('))
      return false;
    skipSpace();
    header.rank = 0;
    bool sawComma = false;
    while (!atEnd() && peek() != ')') {
      if (header.rank == AC_MAX_RANK)
        return fail("shape has more than " + std::to_string(AC_MAX_RANK) +
                    " dimensions");
      if (!parseSize(header.sizes[header.rank]))
        return false;
      ++header.rank;
      skipSpace();
      sawComma = false;
      if (!atEnd() && peek() == ',') {
        ++position;
        sawComma = true;
        skipSpace();
      } else if (atEnd() || peek() != ')') {
        return fail("expected ',' or ')' in the shape");
      }
    }
    if (header.rank == 1 && !sawComma)
      return fail("shape '(n)' is not a tuple (write '(n,)')");
    return expect(')');
  }

  bool parseSize(int64_t &out) {
    if (!atEnd() && peek() == '-')
      return fail("negative dimension in the shape");
    size_t start = position;
    uint64_t value = 0;
    while (!atEnd() && peek() >= '0' && peek() <= '9') {
      unsigned digit = static_cast<unsigned>(peek() - '0');
      if (value > (static_cast<uint64_t>(INT64_MAX) - digit) / 10)
        return fail("dimension does not fit in 64 bits");
      value = value * 10 + digit;
      ++position;
    }
    if (position == start)
      return fail("expected a dimension");
    if (position - start > 1 && text[start] == '0')
      return fail("dimension with a leading zero");
    out = static_cast<int64_t>(value);
    return true;
  }

  const std::string &text;
  size_t position = 0;
};

uint32_t readLittleEndian(const unsigned char *bytes, int count) {
  uint32_t value = 0;
  for (int index = count - 1; index >= 0; --index)
    value = (value << 8) | bytes[index];
  return value;
}

/// Reads and validates the header of an open file.
ac_status readInfo(const InputFile &file, ac_npy_info &info) {
  const char *path = file.path().c_str();
  unsigned char prefix[12];
  if (file.size() < 10)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': too short (%" PRIu64
                        " bytes) to be an .npy file",
                        path, file.size());
  if (ac_status status = file.readAt(0, prefix, 10, "the .npy preamble"))
    return status;
  if (std::memcmp(prefix, kMagic, kMagicLength) != 0)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': not an .npy file (bad magic string)", path);
  unsigned major = prefix[6], minor = prefix[7];
  if (minor != 0 || major < 1 || major > 3)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': unsupported .npy version %u.%u (1.0, 2.0 and "
                        "3.0 are)",
                        path, major, minor);
  uint64_t headerStart = major == 1 ? 10 : 12;
  if (file.size() < headerStart)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': too short for an .npy %u.0 header length", path,
                        major);
  if (major > 1)
    if (ac_status status =
            file.readAt(10, prefix + 10, 2, "the .npy header length"))
      return status;
  uint64_t headerLength = readLittleEndian(prefix + 8, major == 1 ? 2 : 4);
  if (headerStart + headerLength > file.size())
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': header length %" PRIu64
                        " goes beyond the end of the file (%" PRIu64 " bytes)",
                        path, headerLength, file.size());
  std::string headerText(headerLength, '\0');
  if (ac_status status = file.readAt(headerStart, headerText.data(),
                                     headerLength, "the .npy header"))
    return status;

  NpyHeader header;
  HeaderParser parser(headerText);
  if (!parser.parse(header))
    return ac_set_error(AC_ERROR_FORMAT, "'%s': malformed .npy header: %s",
                        path, parser.error.c_str());
  if (header.fortranOrder)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': fortran_order=True is not supported (save a "
                        "C-contiguous array)",
                        path);
  if (header.descr == "<f4") {
    info.dtype = AC_F32;
  } else if (header.descr == "<f2") {
    info.dtype = AC_F16;
  } else if (header.descr == "<u2") {
    info.dtype = AC_BF16;
  } else if (!header.descr.empty() && header.descr[0] == '>') {
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': big-endian dtype '%s' is not supported", path,
                        header.descr.c_str());
  } else {
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': unsupported dtype '%s' (only '<f4', '<f2' and "
                        "'<u2' as bf16 bits are)",
                        path, header.descr.c_str());
  }

  uint64_t elements = 0, bytes = 0;
  if (!shapeByteSize(header.rank, header.sizes, ac_dtype_size(info.dtype),
                     &elements, &bytes))
    return ac_set_error(AC_ERROR_FORMAT, "'%s': shape %s has too many elements",
                        path, formatShape(header.rank, header.sizes).c_str());
  uint64_t dataOffset = headerStart + headerLength;
  uint64_t available = file.size() - dataOffset;
  if (available < bytes)
    return ac_set_error(AC_ERROR_FORMAT,
                        "'%s': truncated data: shape %s of '%s' needs %" PRIu64
                        " bytes but only %" PRIu64 " follow the header",
                        path, formatShape(header.rank, header.sizes).c_str(),
                        header.descr.c_str(), bytes, available);
  if (available > bytes)
    return ac_set_error(
        AC_ERROR_FORMAT,
        "'%s': %" PRIu64 " trailing bytes after the data of shape %s", path,
        available - bytes, formatShape(header.rank, header.sizes).c_str());
  info.rank = header.rank;
  for (int32_t dim = 0; dim < AC_MAX_RANK; ++dim)
    info.sizes[dim] = dim < header.rank ? header.sizes[dim] : 0;
  info.data_offset = dataOffset;
  info.data_bytes = bytes;
  return AC_OK;
}

/// How the error messages describe what a file holds.
const char *heldDtypeText(ac_dtype dtype) {
  switch (dtype) {
  case AC_F32:
    return "f32 ('<f4')";
  case AC_F16:
    return "f16 ('<f2')";
  case AC_BF16:
    return "'<u2' (read only as bf16 bit patterns)";
  }
  return "an unknown dtype";
}

const char *descrOf(ac_dtype dtype) {
  return dtype == AC_F32 ? "<f4" : dtype == AC_F16 ? "<f2" : "<u2";
}

bool isValidTensorName(const char *name) {
  return name && name[0] != '\0' && std::strchr(name, '/') == nullptr &&
         std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0;
}

} // namespace

extern "C" {

ac_status ac_npy_read_info(const char *path, ac_npy_info *info) {
  if (!path || !info)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_npy_read_info: null argument");
  InputFile file;
  if (ac_status status = file.open(path))
    return status;
  return readInfo(file, *info);
}

ac_status ac_npy_load(const char *path, ac_dtype dtype, int32_t rank,
                      const int64_t *sizes, void *dst, size_t dst_bytes) {
  if (!path)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_npy_load: null path");
  InputFile file;
  if (ac_status status = file.open(path))
    return status;
  ac_npy_info info;
  if (ac_status status = readInfo(file, info))
    return status;
  if (ac_status status = checkExpected(
          path, "the array", info.dtype, heldDtypeText(info.dtype), info.rank,
          info.sizes, dtype, rank, sizes, dst, dst_bytes))
    return status;
  return file.readAt(info.data_offset, dst, info.data_bytes, "the data");
}

ac_status ac_npy_load_alloc(const char *path, ac_dtype dtype, ac_tensor *out) {
  if (!path || !out)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_npy_load_alloc: null argument");
  InputFile file;
  if (ac_status status = file.open(path))
    return status;
  ac_npy_info info;
  if (ac_status status = readInfo(file, info))
    return status;
  if (info.dtype != dtype)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': the array holds %s but %s was expected", path,
                        heldDtypeText(info.dtype), ac_dtype_name(dtype));
  if (info.data_bytes > SIZE_MAX - kBufferAlignment)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "'%s': %" PRIu64 " bytes cannot be allocated", path,
                        info.data_bytes);
  // aligned_alloc wants a multiple of the alignment (and non-zero).
  size_t allocation =
      (static_cast<size_t>(info.data_bytes) + kBufferAlignment) &
      ~(kBufferAlignment - 1);
  void *data = std::aligned_alloc(kBufferAlignment, allocation);
  if (!data)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY,
                        "'%s': cannot allocate %" PRIu64 " bytes", path,
                        info.data_bytes);
  if (ac_status status =
          file.readAt(info.data_offset, data, info.data_bytes, "the data")) {
    std::free(data);
    return status;
  }
  ac_tensor_init_contiguous(out, data, dtype, info.rank, info.sizes);
  return AC_OK;
}

void ac_io_free(void *data) { std::free(data); }

ac_status ac_npy_save(const char *path, const ac_tensor *tensor) {
  if (!path)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_npy_save: null path");
  if (ac_status status = validateTensor(tensor, std::string("'") + path + "'"))
    return status;
  try {
    std::string dict = std::string("{'descr': '") + descrOf(tensor->dtype) +
                       "', 'fortran_order': False, 'shape': " +
                       formatShape(tensor->rank, tensor->sizes) + ", }";
    // Pad so that the data starts on a 64-byte boundary, as numpy does; the
    // header ends with a newline.
    auto paddedTotal = [&](size_t preamble) {
      return (preamble + dict.size() + 1 + 63) / 64 * 64;
    };
    // Version 1.0 stores the header length in 2 bytes, 2.0 in 4.
    size_t preamble = paddedTotal(10) - 10 <= 65535 ? 10 : 12;
    size_t total = preamble + dict.size() + 1;
    size_t padded = paddedTotal(preamble);
    std::string header = dict + std::string(padded - total, ' ') + "\n";
    unsigned char start[12];
    std::memcpy(start, kMagic, kMagicLength);
    start[6] = preamble == 10 ? 1 : 2;
    start[7] = 0;
    uint32_t headerLength = static_cast<uint32_t>(header.size());
    for (size_t byte = 0; byte < preamble - 8; ++byte)
      start[8 + byte] = static_cast<unsigned char>(headerLength >> (8 * byte));

    AtomicFile file;
    if (ac_status status = file.open(path))
      return status;
    if (ac_status status = file.write(start, preamble))
      return status;
    if (ac_status status = file.write(header.data(), header.size()))
      return status;
    if (ac_status status = file.writeElements(*tensor))
      return status;
    return file.commit();
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  }
}

ac_status ac_npy_save_named(const char *dir, const char *name,
                            const ac_tensor *tensor) {
  if (!dir)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_npy_save_named: null directory");
  if (!isValidTensorName(name))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "'%s': '%s' cannot name a tensor file (empty, '.', "
                        "'..' or holding '/')",
                        dir, name ? name : "(null)");
  try {
    std::string path = std::string(dir) + "/" + name + ".npy";
    return ac_npy_save(path.c_str(), tensor);
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", dir);
  }
}

} // extern "C"
