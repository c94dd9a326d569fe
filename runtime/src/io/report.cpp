//===- report.cpp - timing and the JSON run report ------------------------===//

#include "autochunk/runtime/report.h"
#include "file_access.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <vector>

using namespace autochunk::runtime_io;

struct ac_report {
  // Keeps insertion order so that the file reads in the order fields were set.
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
};

namespace {

const char *const kRequiredFields[] = {"device",
                                       "planned_activation_bytes",
                                       "measured_activation_bytes",
                                       "weights_bytes",
                                       "median_ms",
                                       "repeat"};

bool isReservedKey(const char *key) {
  return std::strcmp(key, "outputs") == 0 ||
         std::strcmp(key, "samples_ms") == 0;
}

/// Sets `key` to `value`, turning any exception into a status.
template <typename Value>
ac_status setField(ac_report *report, const char *key, Value &&value) {
  if (!report || !key || key[0] == '\0')
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "report: a field needs a report and a non-empty key");
  if (isReservedKey(key))
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "report: '%s' is set by its own call", key);
  try {
    report->fields[key] = std::forward<Value>(value);
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "report: out of memory");
  } catch (const std::exception &error) {
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "report: field '%s': %s",
                        key, error.what());
  }
}

} // namespace

extern "C" {

double ac_now_ms(void) {
  struct timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3 +
         static_cast<double>(now.tv_nsec) * 1e-6;
}

ac_status ac_median(const double *samples, int64_t count, double *median) {
  if (!samples || !median || count <= 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "median of %lld samples: need at least one",
                        static_cast<long long>(count));
  try {
    std::vector<double> sorted(samples, samples + count);
    std::sort(sorted.begin(), sorted.end());
    size_t middle = sorted.size() / 2;
    *median = sorted.size() % 2 == 1
                  ? sorted[middle]
                  : (sorted[middle - 1] + sorted[middle]) / 2;
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "median: out of memory");
  }
}

ac_status ac_report_create(ac_report **out) {
  if (!out)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "ac_report_create: null");
  *out = new (std::nothrow) ac_report;
  if (!*out)
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "report: out of memory");
  return AC_OK;
}

void ac_report_destroy(ac_report *report) { delete report; }

ac_status ac_report_set_string(ac_report *report, const char *key,
                               const char *value) {
  if (!value)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "report: field '%s' has a null string",
                        key ? key : "(null)");
  return setField(report, key, std::string(value));
}

ac_status ac_report_set_int(ac_report *report, const char *key, int64_t value) {
  return setField(report, key, value);
}

ac_status ac_report_set_double(ac_report *report, const char *key,
                               double value) {
  return setField(report, key, value);
}

ac_status ac_report_set_bool(ac_report *report, const char *key, int value) {
  return setField(report, key, value != 0);
}

ac_status ac_report_set_arena(ac_report *report, const ac_arena *arena) {
  if (!arena)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "report: null arena");
  if (ac_status status = ac_report_set_int(
          report, "measured_activation_bytes",
          static_cast<int64_t>(ac_arena_high_water_bytes(arena))))
    return status;
  if (ac_status status = ac_report_set_int(
          report, "peak_live_bytes",
          static_cast<int64_t>(ac_arena_peak_live_bytes(arena))))
    return status;
  if (ac_status status = ac_report_set_int(
          report, "arena_bytes", static_cast<int64_t>(ac_arena_size(arena))))
    return status;
  int64_t peakRss = ac_peak_rss_bytes();
  if (peakRss >= 0)
    return ac_report_set_int(report, "peak_rss_bytes", peakRss);
  return AC_OK;
}

ac_status ac_report_set_samples_ms(ac_report *report, const double *samples,
                                   int64_t count) {
  if (!report)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT, "report: null report");
  double median = 0;
  if (ac_status status = ac_median(samples, count, &median))
    return status;
  try {
    std::vector<double> values(samples, samples + count);
    auto [minimum, maximum] = std::minmax_element(values.begin(), values.end());
    report->fields["median_ms"] = median;
    report->fields["min_ms"] = *minimum;
    report->fields["max_ms"] = *maximum;
    report->fields["samples_ms"] = values;
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "report: out of memory");
  }
}

ac_status ac_report_add_output(ac_report *report, const char *name,
                               const ac_tensor *tensor) {
  if (!report || !name)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "report: an output needs a report and a name");
  try {
    if (ac_status status = validateTensor(
            tensor, std::string("report: output '") + name + "'"))
      return status;
    std::vector<int64_t> shape(tensor->sizes, tensor->sizes + tensor->rank);
    nlohmann::ordered_json output = {{"name", name},
                                     {"dtype", ac_dtype_name(tensor->dtype)},
                                     {"shape", shape}};
    nlohmann::ordered_json &outputs = report->fields["outputs"];
    if (outputs.is_null())
      outputs = nlohmann::ordered_json::array();
    outputs.push_back(std::move(output));
    return AC_OK;
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "report: out of memory");
  }
}

ac_status ac_report_write(const ac_report *report, const char *path) {
  if (!report || !path)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_report_write: null argument");
  try {
    std::string missing;
    for (const char *field : kRequiredFields)
      if (!report->fields.contains(field))
        missing += std::string(missing.empty() ? "" : ", ") + field;
    if (!missing.empty())
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "'%s': the report lacks required fields: %s", path,
                          missing.c_str());
    std::string text;
    try {
      text =
          report->fields.dump(2, ' ', false,
                              nlohmann::ordered_json::error_handler_t::strict) +
          "\n";
    } catch (const nlohmann::json::exception &error) {
      return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                          "'%s': the report holds a string that is not valid "
                          "UTF-8 (%s)",
                          path, error.what());
    }
    AtomicFile file;
    if (ac_status status = file.open(path))
      return status;
    if (ac_status status = file.write(text.data(), text.size()))
      return status;
    return file.commit();
  } catch (const std::bad_alloc &) {
    return ac_set_error(AC_ERROR_OUT_OF_MEMORY, "'%s': out of memory", path);
  }
}

} // extern "C"
