//===- safetensors.cpp - reading and writing .safetensors files -----------===//
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
// mapping names to {dtype, shape, data_offsets}, then the data section. The
// whole header is validated when the file is opened, so that loads only
// compare the caller's expectations and copy bytes.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/io.h"
#include "file_access.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

using namespace autochunk::runtime_io;

namespace {

/// The reference implementation's limit; it keeps a corrupt length from
/// turning into a huge allocation.
constexpr uint64_t kMaxHeaderBytes = 100000000;

struct TensorEntry {
  std::string name;
  ac_dtype dtype = AC_F32;
  int32_t rank = 0;
  int64_t sizes[AC_MAX_RANK] = {0};
  uint64_t begin = 0, end = 0;
};

const char *safetensorsDtypeName(ac_dtype dtype) {
  return dtype == AC_F32 ? "F32" : dtype == AC_F16 ? "F16" : "BF16";
}

/// Rejects duplicate top-level names, which nlohmann::json would silently
/// merge (the last one winning).
struct DuplicateKeyGuard {
  std::set<std::string> seen;
  std::string duplicate;

  bool operator()(int depth, nlohmann::json::parse_event_t event,
                  nlohmann::json &parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
        duplicate.empty() && !seen.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  }
};

/// Reads one unsigned JSON integer that fits in int64.
bool readSize(const nlohmann::json &value, uint64_t &out) {
  if (!value.is_number_unsigned() &&
      !(value.is_number_integer() && value.get<int64_t>() >= 0))
    return false;
  out = value.get<uint64_t>();
  return out <= static_cast<uint64_t>(INT64_MAX);
}

} // namespace

struct ac_safetensors {
  InputFile file;
  uint64_t dataStart = 0;
  std::vector<TensorEntry> entries; // ordered by data offset
  std::unordered_map<std::string, size_t> indexByName;

  /// Validates one entry of the header; `error` says what is wrong.
  bool parseEntry(const std::string &name, const nlohmann::json &value,
                  uint64_t dataSize, TensorEntry &entry, std::string &error) {
    entry.name = name;
    if (!value.is_object()) {
      error = "is not an object";
      return false;
    }
    for (const auto &field : value.items())
      if (field.key() != "dtype" && field.key() != "shape" &&
          field.key() != "data_offsets") {
        error = "has an unexpected field '" + field.key() + "'";
        return false;
      }
    auto dtype = value.find("dtype");
    auto shape = value.find("shape");
    auto offsets = value.find("data_offsets");
    if (dtype == value.end() || shape == value.end() ||
        offsets == value.end()) {
      error = "lacks one of 'dtype', 'shape', 'data_offsets'";
      return false;
    }
    if (!dtype->is_string()) {
      error = "has a 'dtype' that is not a string";
      return false;
    }
    const std::string &dtypeName = dtype->get_ref<const std::string &>();
    if (dtypeName == "F32") {
      entry.dtype = AC_F32;
    } else if (dtypeName == "F16") {
      entry.dtype = AC_F16;
    } else if (dtypeName == "BF16") {
      entry.dtype = AC_BF16;
    } else {
      error = "has unsupported dtype '" + dtypeName +
              "' (only F32, F16 and BF16 are)";
      return false;
    }
    if (!shape->is_array() || shape->size() > AC_MAX_RANK) {
      error = "has a 'shape' that is not an array of at most " +
              std::to_string(AC_MAX_RANK) + " sizes";
      return false;
    }
    entry.rank = static_cast<int32_t>(shape->size());
    for (int32_t dim = 0; dim < entry.rank; ++dim) {
      uint64_t size = 0;
      if (!readSize((*shape)[dim], size)) {
        error = "has a 'shape' entry that is not a non-negative integer";
        return false;
      }
      entry.sizes[dim] = static_cast<int64_t>(size);
    }
    if (!offsets->is_array() || offsets->size() != 2 ||
        !readSize((*offsets)[0], entry.begin) ||
        !readSize((*offsets)[1], entry.end) || entry.begin > entry.end) {
      error = "has 'data_offsets' that are not [begin, end] with begin <= end";
      return false;
    }
    if (entry.end > dataSize) {
      error = "has data_offsets [" + std::to_string(entry.begin) + ", " +
              std::to_string(entry.end) +
              "] out of range of the data section (" +
              std::to_string(dataSize) + " bytes)";
      return false;
    }
    uint64_t elements = 0, bytes = 0;
    if (!shapeByteSize(entry.rank, entry.sizes, ac_dtype_size(entry.dtype),
                       &elements, &bytes)) {
      error = "has shape " + formatShape(entry.rank, entry.sizes) +
              " with too many elements";
      return false;
    }
    if (bytes != entry.end - entry.begin) {
      error = "has data_offsets spanning " +
              std::to_string(entry.end - entry.begin) + " bytes but " +
              dtypeName + " shape " + formatShape(entry.rank, entry.sizes) +
              " needs " + std::to_string(bytes);
      return false;
    }
    return true;
  }

  ac_status parseHeader(const std::string &text) {
    const char *path = file.path().c_str();
    uint64_t dataSize = file.size() - dataStart;
    nlohmann::json header;
    DuplicateKeyGuard guard;
    try {
      header = nlohmann::json::parse(
          text, [&guard](int depth, nlohmann::json::parse_event_t event,
                         nlohmann::json &parsed) {
            return guard(depth, event, parsed);
          });
    } catch (const nlohmann::json::exception &error) {
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': the safetensors header is not valid JSON: %s",
                          path, error.what());
    }
    if (!header.is_object())
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': the safetensors header is not a JSON object",
                          path);
    if (!guard.duplicate.empty())
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': the safetensors header names '%s' twice", path,
                          guard.duplicate.c_str());
    for (const auto &item : header.items()) {
      if (item.key() == "__metadata__") {
        bool stringsOnly = item.value().is_object();
        for (const auto &meta : item.value().items())
          stringsOnly = stringsOnly && meta.value().is_string();
        if (!stringsOnly)
          return ac_set_error(AC_ERROR_FORMAT,
                              "'%s': __metadata__ is not an object of strings",
                              path);
        continue;
      }
      TensorEntry entry;
      std::string error;
      if (!parseEntry(item.key(), item.value(), dataSize, entry, error))
        return ac_set_error(AC_ERROR_FORMAT, "'%s': tensor '%s' %s", path,
                            item.key().c_str(), error.c_str());
      entries.push_back(std::move(entry));
    }

    // The entries must tile the data section: sorted by offset, each starts
    // where the previous one ended, and the last ends at the file's end.
    std::sort(entries.begin(), entries.end(),
              [](const TensorEntry &lhs, const TensorEntry &rhs) {
                return lhs.begin != rhs.begin ? lhs.begin < rhs.begin
                                              : lhs.end < rhs.end;
              });
    uint64_t expected = 0;
    const TensorEntry *previous = nullptr;
    for (const TensorEntry &entry : entries) {
      if (entry.begin < expected)
        return ac_set_error(
            AC_ERROR_FORMAT,
            "'%s': tensor '%s' (bytes %" PRIu64 "..%" PRIu64
            ") overlaps tensor '%s' (bytes %" PRIu64 "..%" PRIu64 ")",
            path, entry.name.c_str(), entry.begin, entry.end,
            previous->name.c_str(), previous->begin, previous->end);
      if (entry.begin > expected)
        return ac_set_error(AC_ERROR_FORMAT,
                            "'%s': %" PRIu64 " unused bytes before tensor "
                            "'%s' in the data section",
                            path, entry.begin - expected, entry.name.c_str());
      expected = entry.end;
      previous = &entry;
    }
    if (expected != dataSize)
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': %" PRIu64
                          " trailing bytes after the last tensor's data",
                          path, dataSize - expected);
    for (size_t index = 0; index < entries.size(); ++index)
      indexByName.emplace(entries[index].name, index);
    return AC_OK;
  }

  const TensorEntry *find(const char *name) const {
    auto found = indexByName.find(name);
    return found == indexByName.end() ? nullptr : &entries[found->second];
  }
};

extern "C" {

ac_status ac_safetensors_open(const char *path, ac_safetensors **out) {
  if (!path || !out)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_safetensors_open: null argument");
  *out = nullptr;
  try {
    auto file = std::make_unique<ac_safetensors>();
    if (ac_status status = file->file.open(path))
      return status;
    uint64_t fileSize = file->file.size();
    if (fileSize < 8)
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': too short (%" PRIu64
                          " bytes) for a safetensors header length",
                          path, fileSize);
    unsigned char lengthBytes[8];
    if (ac_status status = file->file.readAt(0, lengthBytes, 8,
                                             "the safetensors header length"))
      return status;
    uint64_t headerLength = 0;
    for (int byte = 7; byte >= 0; --byte)
      headerLength = (headerLength << 8) | lengthBytes[byte];
    if (headerLength > kMaxHeaderBytes)
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': safetensors header length %" PRIu64
                          " exceeds the limit of %" PRIu64 " bytes",
                          path, headerLength, kMaxHeaderBytes);
    if (8 + headerLength > fileSize)
      return ac_set_error(AC_ERROR_FORMAT,
                          "'%s': safetensors header length %" PRIu64
                          " goes beyond the end of the file (%" PRIu64
                          " bytes)",
                          path, headerLength, fileSize);
    std::string headerText(headerLength, '\0');
    if (ac_status status = file->file.readAt(8, headerText.data(), headerLength,
                                             "the safetensors header"))
      return status;
    file->dataStart = 8 + headerLength;
    if (ac_status status = file->parseHeader(headerText))
      return status;
    *out = file.release();
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  } catch (const std::exception &error) {
    return ac_set_error(AC_ERROR_FORMAT, "'%s': %s", path, error.what());
  }
}

void ac_safetensors_close(ac_safetensors *file) { delete file; }

int64_t ac_safetensors_count(const ac_safetensors *file) {
  return file ? static_cast<int64_t>(file->entries.size()) : 0;
}

const char *ac_safetensors_name(const ac_safetensors *file, int64_t index) {
  if (!file || index < 0 || index >= ac_safetensors_count(file))
    return nullptr;
  return file->entries[index].name.c_str();
}

ac_status ac_safetensors_info(const ac_safetensors *file, const char *name,
                              ac_dtype *dtype, int32_t *rank, int64_t *sizes) {
  if (!file || !name || !dtype || !rank || !sizes)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_safetensors_info: null argument");
  const TensorEntry *entry = file->find(name);
  if (!entry)
    return ac_set_error(AC_ERROR_NOT_FOUND, "'%s': no tensor named '%s'",
                        file->file.path().c_str(), name);
  *dtype = entry->dtype;
  *rank = entry->rank;
  for (int32_t dim = 0; dim < AC_MAX_RANK; ++dim)
    sizes[dim] = dim < entry->rank ? entry->sizes[dim] : 0;
  return AC_OK;
}

ac_status ac_safetensors_load(const ac_safetensors *file, const char *name,
                              ac_dtype dtype, int32_t rank,
                              const int64_t *sizes, void *dst,
                              size_t dst_bytes) {
  if (!file || !name)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_safetensors_load: null argument");
  const TensorEntry *entry = file->find(name);
  if (!entry)
    return ac_set_error(AC_ERROR_NOT_FOUND, "'%s': no tensor named '%s'",
                        file->file.path().c_str(), name);
  try {
    std::string what = std::string("tensor '") + name + "'";
    if (ac_status status =
            checkExpected(file->file.path(), what, entry->dtype,
                          safetensorsDtypeName(entry->dtype), entry->rank,
                          entry->sizes, dtype, rank, sizes, dst, dst_bytes))
      return status;
    return file->file.readAt(file->dataStart + entry->begin, dst,
                             entry->end - entry->begin, what.c_str());
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory",
                        file->file.path().c_str());
  }
}

ac_status ac_safetensors_save(const char *path, int64_t count,
                              const char *const *names,
                              const ac_tensor *tensors) {
  if (!path || count < 0 || (count > 0 && (!names || !tensors)))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_safetensors_save: invalid arguments");
  try {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    uint64_t offset = 0;
    for (int64_t index = 0; index < count; ++index) {
      const char *name = names[index];
      if (!name || name[0] == '\0' || std::strcmp(name, "__metadata__") == 0)
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "'%s': tensor %" PRId64
                            " has an empty or reserved name",
                            path, index);
      if (header.contains(name))
        return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                            "'%s': tensor name '%s' is given twice", path,
                            name);
      const ac_tensor &tensor = tensors[index];
      if (ac_status status = validateTensor(
              &tensor, std::string("'") + path + "': tensor '" + name + "'"))
        return status;
      uint64_t elements = 0, bytes = 0;
      shapeByteSize(tensor.rank, tensor.sizes, ac_dtype_size(tensor.dtype),
                    &elements, &bytes);
      std::vector<int64_t> shape(tensor.sizes, tensor.sizes + tensor.rank);
      header[name] = {{"dtype", safetensorsDtypeName(tensor.dtype)},
                      {"shape", shape},
                      {"data_offsets", {offset, offset + bytes}}};
      offset += bytes;
    }
    std::string text;
    try {
      text = header.dump(-1, ' ', false,
                         nlohmann::ordered_json::error_handler_t::strict);
    } catch (const nlohmann::json::exception &error) {
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "'%s': a tensor name is not valid UTF-8 (%s)", path,
                          error.what());
    }
    // Pad with spaces so that the data section starts 8-byte aligned.
    text.append((8 - text.size() % 8) % 8, ' ');
    unsigned char lengthBytes[8];
    for (int byte = 0; byte < 8; ++byte)
      lengthBytes[byte] =
          static_cast<unsigned char>(uint64_t(text.size()) >> (8 * byte));

    AtomicFile file;
    if (ac_status status = file.open(path))
      return status;
    if (ac_status status = file.write(lengthBytes, 8))
      return status;
    if (ac_status status = file.write(text.data(), text.size()))
      return status;
    for (int64_t index = 0; index < count; ++index)
      if (ac_status status = file.writeElements(tensors[index]))
        return status;
    return file.commit();
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  } catch (const std::exception &error) {
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "'%s': %s", path,
                        error.what());
  }
}

} // extern "C"
