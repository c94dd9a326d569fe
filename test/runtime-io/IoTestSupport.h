//===- IoTestSupport.h - temporary directories and hand-made files --------===//
//
// Malformed files are built byte by byte here, independently of the runtime's
// writers, so that the readers are tested against the formats themselves.
//
//===----------------------------------------------------------------------===//

#ifndef AUTOCHUNK_TEST_RUNTIME_IO_IOTESTSUPPORT_H
#define AUTOCHUNK_TEST_RUNTIME_IO_IOTESTSUPPORT_H

#include "autochunk/runtime/tensor.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace iotest {

/// A fresh directory under /tmp, removed with its files when destroyed.
class TempDir {
public:
  TempDir() {
    char pattern[] = "/tmp/autochunk-io-test-XXXXXX";
    if (!::mkdtemp(pattern))
      throw std::runtime_error("mkdtemp failed");
    dirPath = pattern;
  }
  ~TempDir() { removeTree(dirPath); }
  const std::string &path() const { return dirPath; }
  std::string file(const std::string &name) const {
    return dirPath + "/" + name;
  }

private:
  static void removeTree(const std::string &path) {
    if (DIR *dir = ::opendir(path.c_str())) {
      while (struct dirent *entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..")
          continue;
        std::string child = path + "/" + name;
        struct stat info;
        if (::lstat(child.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
          removeTree(child);
        else
          ::unlink(child.c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path.c_str());
  }

  std::string dirPath;
};

/// The names in `dir` (without "." and ".."), sorted.
inline std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *handle = ::opendir(dir.c_str())) {
    while (struct dirent *entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        names.push_back(name);
    }
    ::closedir(handle);
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline bool fileExists(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

/// Little-endian bytes of `value`.
inline std::string littleEndian(uint64_t value, int bytes) {
  std::string out;
  for (int byte = 0; byte < bytes; ++byte)
    out.push_back(static_cast<char>((value >> (8 * byte)) & 0xFF));
  return out;
}

/// An .npy file of version `major`.0 with `dict` as its header (padded with
/// spaces and a newline to a multiple of 64 bytes), followed by `data`.
inline std::string npyFile(const std::string &dict, const std::string &data,
                           int major = 1) {
  size_t preamble = major == 1 ? 10 : 12;
  size_t total = (preamble + dict.size() + 1 + 63) / 64 * 64;
  std::string header =
      dict + std::string(total - preamble - dict.size() - 1, ' ') + "\n";
  return std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0' +
         littleEndian(header.size(), major == 1 ? 2 : 4) + header + data;
}

/// The raw bytes of `values`.
template <typename T> std::string rawBytes(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

/// A safetensors file: length prefix, `header` verbatim, then `data`.
inline std::string safetensorsFile(const std::string &header,
                                   const std::string &data) {
  return littleEndian(header.size(), 8) + header + data;
}

/// True when the runtime's last error mentions `text`.
inline bool lastErrorMentions(const std::string &text) {
  return std::string(ac_last_error()).find(text) != std::string::npos;
}

} // namespace iotest

#endif // AUTOCHUNK_TEST_RUNTIME_IO_IOTESTSUPPORT_H
