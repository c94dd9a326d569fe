//===- tensor_source.cpp - named inputs from a directory or safetensors ---===//
//
// A compiled model asks its source for every input and weight by name; the
// source records what was asked so that anything left over (a misspelt name,
// a stale file) is reported as an unknown input instead of being ignored.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/io.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <dirent.h>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

constexpr char kNpySuffix[] = ".npy";
constexpr size_t kNpySuffixLength = 4;

bool endsWithNpy(const std::string &fileName) {
  return fileName.size() > kNpySuffixLength &&
         fileName.compare(fileName.size() - kNpySuffixLength, kNpySuffixLength,
                          kNpySuffix) == 0;
}

} // namespace

struct ac_tensor_source {
  std::string path;
  ac_safetensors *file = nullptr; // null for a directory source
  std::set<std::string> names;
  std::set<std::string> requested;
  // Rebuilt lazily so that the returned names stay valid between calls.
  mutable std::vector<std::string> unrequested;
  mutable bool unrequestedStale = true;

  ~ac_tensor_source() { ac_safetensors_close(file); }

  void markRequested(const char *name) {
    if (requested.insert(name).second)
      unrequestedStale = true;
  }

  const std::vector<std::string> &unrequestedNames() const {
    if (unrequestedStale) {
      unrequested.clear();
      for (const std::string &name : names)
        if (!requested.count(name))
          unrequested.push_back(name);
      unrequestedStale = false;
    }
    return unrequested;
  }

  ac_status listDirectory() {
    DIR *dir = ::opendir(path.c_str());
    if (!dir)
      return ac_set_error(AC_ERROR_IO, "'%s': cannot list the directory: %s",
                          path.c_str(), std::strerror(errno));
    std::unique_ptr<DIR, int (*)(DIR *)> closer(dir, ::closedir);
    errno = 0;
    while (struct dirent *entry = ::readdir(dir)) {
      std::string fileName = entry->d_name;
      if (!endsWithNpy(fileName))
        continue;
      // Follow symbolic links: a directory of links to weights is fine.
      struct stat info;
      std::string filePath = path + "/" + fileName;
      if (::stat(filePath.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
        continue;
      names.insert(fileName.substr(0, fileName.size() - kNpySuffixLength));
      errno = 0;
    }
    if (errno != 0)
      return ac_set_error(AC_ERROR_IO, "'%s': cannot list the directory: %s",
                          path.c_str(), std::strerror(errno));
    return AC_OK;
  }
};

extern "C" {

ac_status ac_tensor_source_open(const char *path, ac_tensor_source **out) {
  if (!path || !out)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_tensor_source_open: null argument");
  *out = nullptr;
  try {
    auto source = std::make_unique<ac_tensor_source>();
    source->path = path;
    struct stat info;
    if (::stat(path, &info) != 0)
      return ac_set_error(AC_ERROR_IO, "'%s': cannot open the inputs: %s", path,
                          std::strerror(errno));
    if (S_ISDIR(info.st_mode)) {
      if (ac_status status = source->listDirectory())
        return status;
    } else {
      if (ac_status status = ac_safetensors_open(path, &source->file))
        return status;
      for (int64_t index = 0, count = ac_safetensors_count(source->file);
           index < count; ++index)
        source->names.insert(ac_safetensors_name(source->file, index));
    }
    *out = source.release();
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  }
}

void ac_tensor_source_close(ac_tensor_source *source) { delete source; }

const char *ac_tensor_source_path(const ac_tensor_source *source) {
  return source ? source->path.c_str() : "";
}

int ac_tensor_source_has(ac_tensor_source *source, const char *name) {
  if (!source || !name)
    return 0;
  try {
    source->markRequested(name);
    return source->names.count(name) ? 1 : 0;
  } catch (const std::exception &) {
    return 0;
  }
}

ac_status ac_tensor_source_load(ac_tensor_source *source, const char *name,
                                ac_dtype dtype, int32_t rank,
                                const int64_t *sizes, void *dst,
                                size_t dst_bytes) {
  if (!source || !name)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_tensor_source_load: null argument");
  try {
    source->markRequested(name);
    if (!source->names.count(name)) {
      if (source->file)
        return ac_set_error(AC_ERROR_NOT_FOUND, "'%s': no tensor named '%s'",
                            source->path.c_str(), name);
      return ac_set_error(
          AC_ERROR_NOT_FOUND, "'%s': no tensor named '%s' (no file %s/%s.npy)",
          source->path.c_str(), name, source->path.c_str(), name);
    }
    if (source->file)
      return ac_safetensors_load(source->file, name, dtype, rank, sizes, dst,
                                 dst_bytes);
    std::string filePath = source->path + "/" + name + kNpySuffix;
    return ac_npy_load(filePath.c_str(), dtype, rank, sizes, dst, dst_bytes);
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory",
                        source->path.c_str());
  }
}

int64_t ac_tensor_source_unrequested_count(const ac_tensor_source *source) {
  if (!source)
    return 0;
  try {
    return static_cast<int64_t>(source->unrequestedNames().size());
  } catch (const std::exception &) {
    return 0;
  }
}

const char *ac_tensor_source_unrequested_name(const ac_tensor_source *source,
                                              int64_t index) {
  if (!source || index < 0)
    return nullptr;
  try {
    const std::vector<std::string> &names = source->unrequestedNames();
    return index < static_cast<int64_t>(names.size()) ? names[index].c_str()
                                                      : nullptr;
  } catch (const std::exception &) {
    return nullptr;
  }
}

ac_status ac_tensor_source_check_all_requested(const ac_tensor_source *source) {
  if (!source)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_tensor_source_check_all_requested: null source");
  try {
    const std::vector<std::string> &names = source->unrequestedNames();
    if (names.empty())
      return AC_OK;
    if (names.size() == 1)
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "unknown input '%s' in %s",
                          names[0].c_str(), source->path.c_str());
    return ac_set_error(
        AC_ERROR_INVALID_ARGUMENT, "unknown input '%s' in %s (and %zu more)",
        names[0].c_str(), source->path.c_str(), names.size() - 1);
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory",
                        source->path.c_str());
  }
}

} // extern "C"
