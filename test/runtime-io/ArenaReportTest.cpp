// Tests of the arena's measurements, the timing helpers and the JSON report.
#include "IoTestSupport.h"

#include "autochunk/runtime/arena.h"
#include "autochunk/runtime/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace iotest;

TEST_CASE("the arena is aligned and records what was used", "[arena]") {
  ac_arena *arena = nullptr;
  REQUIRE(ac_arena_create(1000, 0, &arena) == AC_OK);
  CHECK(reinterpret_cast<uintptr_t>(ac_arena_base(arena)) % 64 == 0);
  CHECK(ac_arena_size(arena) == 1000);
  CHECK(ac_arena_high_water_bytes(arena) == 0);

  CHECK(ac_arena_mark_live(arena, 0, 100) == AC_OK);
  CHECK(ac_arena_mark_live(arena, 500, 200) == AC_OK);
  CHECK(ac_arena_high_water_bytes(arena) == 700);
  CHECK(ac_arena_peak_live_bytes(arena) == 300);
  CHECK(ac_arena_mark_dead(arena, 0, 100) == AC_OK);
  CHECK(ac_arena_mark_live(arena, 100, 50) == AC_OK);
  CHECK(ac_arena_high_water_bytes(arena) == 700);
  CHECK(ac_arena_peak_live_bytes(arena) == 300);
  CHECK(ac_arena_mark_live(arena, 0, 1000) == AC_OK);
  CHECK(ac_arena_high_water_bytes(arena) == 1000);
  CHECK(ac_arena_peak_live_bytes(arena) == 1250);

  // Ranges outside the arena are errors and change nothing.
  ac_arena_reset_measurements(arena);
  CHECK(ac_arena_mark_live(arena, 900, 101) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_arena_mark_live(arena, SIZE_MAX, 2) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ac_last_error()).find("exceeds the arena") !=
        std::string::npos);
  CHECK(ac_arena_high_water_bytes(arena) == 0);
  CHECK(ac_arena_mark_dead(arena, 0, 8) == AC_ERROR_INVALID_ARGUMENT);
  ac_arena_destroy(arena);

  REQUIRE(ac_arena_create(10, 4096, &arena) == AC_OK);
  CHECK(reinterpret_cast<uintptr_t>(ac_arena_base(arena)) % 4096 == 0);
  ac_arena_destroy(arena);
  CHECK(ac_arena_create(10, 48, &arena) == AC_ERROR_INVALID_ARGUMENT);
  REQUIRE(ac_arena_create(0, 0, &arena) == AC_OK);
  CHECK(ac_arena_base(arena) != nullptr);
  ac_arena_destroy(arena);

  std::vector<char> external(256);
  REQUIRE(ac_arena_create_external(external.data(), 256, &arena) == AC_OK);
  CHECK(ac_arena_base(arena) == external.data());
  CHECK(ac_arena_mark_live(arena, 128, 128) == AC_OK);
  CHECK(ac_arena_high_water_bytes(arena) == 256);
  ac_arena_destroy(arena);
  CHECK(ac_peak_rss_bytes() > 0);
}

TEST_CASE("median and the monotonic clock", "[timing]") {
  double median = 0;
  const double odd[] = {5, 1, 3};
  REQUIRE(ac_median(odd, 3, &median) == AC_OK);
  CHECK(median == 3);
  const double even[] = {4, 1, 10, 2};
  REQUIRE(ac_median(even, 4, &median) == AC_OK);
  CHECK(median == 3);
  CHECK(even[0] == 4); // the samples are left as they were
  const double single[] = {7.5};
  REQUIRE(ac_median(single, 1, &median) == AC_OK);
  CHECK(median == 7.5);
  CHECK(ac_median(odd, 0, &median) == AC_ERROR_INVALID_ARGUMENT);
  double before = ac_now_ms();
  double after = ac_now_ms();
  CHECK(after >= before);
}

namespace {

struct Report {
  ac_report *report = nullptr;
  Report() { REQUIRE(ac_report_create(&report) == AC_OK); }
  ~Report() { ac_report_destroy(report); }
};

nlohmann::json readJson(const std::string &path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

} // namespace

TEST_CASE("the report holds the required fields and what was measured",
          "[report]") {
  TempDir dir;
  Report built;
  ac_report *report = built.report;
  std::string path = dir.file("report.json");
  REQUIRE(ac_report_set_string(report, "device", "cpu") == AC_OK);
  CHECK(ac_report_write(report, path.c_str()) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions(
      "planned_activation_bytes, measured_activation_bytes, weights_bytes, "
      "median_ms, repeat"));
  CHECK(listDir(dir.path()).empty());

  ac_arena *arena = nullptr;
  REQUIRE(ac_arena_create(4096, 0, &arena) == AC_OK);
  REQUIRE(ac_arena_mark_live(arena, 1024, 1000) == AC_OK);
  REQUIRE(ac_report_set_arena(report, arena) == AC_OK);
  ac_arena_destroy(arena);
  REQUIRE(ac_report_set_int(report, "planned_activation_bytes", 4096) == AC_OK);
  REQUIRE(ac_report_set_int(report, "weights_bytes", 1 << 20) == AC_OK);
  const double samples[] = {3, 1, 2, 10};
  REQUIRE(ac_report_set_samples_ms(report, samples, 4) == AC_OK);
  REQUIRE(ac_report_set_int(report, "repeat", 4) == AC_OK);
  REQUIRE(ac_report_set_int(report, "threads", 2) == AC_OK);
  REQUIRE(ac_report_set_bool(report, "chunked", 1) == AC_OK);
  REQUIRE(ac_report_set_double(report, "ratio", 0.5) == AC_OK);
  REQUIRE(ac_report_set_string(report, "device", "cpu (x86_64)") == AC_OK);
  std::vector<float> output(6);
  int64_t shape[] = {2, 3};
  ac_tensor tensor;
  ac_tensor_init_contiguous(&tensor, output.data(), AC_F16, 2, shape);
  REQUIRE(ac_report_add_output(report, "logits", &tensor) == AC_OK);
  REQUIRE(ac_report_add_output(report, "hidden", &tensor) == AC_OK);
  REQUIRE(ac_report_write(report, path.c_str()) == AC_OK);
  CHECK(listDir(dir.path()) == std::vector<std::string>{"report.json"});

  nlohmann::json json = readJson(path);
  CHECK(json["device"] == "cpu (x86_64)");
  CHECK(json["planned_activation_bytes"] == 4096);
  CHECK(json["measured_activation_bytes"] == 2024);
  CHECK(json["peak_live_bytes"] == 1000);
  CHECK(json["arena_bytes"] == 4096);
  CHECK(json["peak_rss_bytes"].get<int64_t>() > 0);
  CHECK(json["weights_bytes"] == 1 << 20);
  CHECK(json["median_ms"] == 2.5);
  CHECK(json["min_ms"] == 1.0);
  CHECK(json["max_ms"] == 10.0);
  CHECK(json["samples_ms"] == nlohmann::json::array({3.0, 1.0, 2.0, 10.0}));
  CHECK(json["repeat"] == 4);
  CHECK(json["threads"] == 2);
  CHECK(json["chunked"] == true);
  CHECK(json["ratio"] == 0.5);
  REQUIRE(json["outputs"].size() == 2);
  CHECK(json["outputs"][0]["name"] == "logits");
  CHECK(json["outputs"][0]["dtype"] == "f16");
  CHECK(json["outputs"][0]["shape"] == nlohmann::json::array({2, 3}));
  CHECK(json["outputs"][1]["name"] == "hidden");
}

TEST_CASE("the report rejects bad fields and failed writes leave nothing",
          "[report][errors]") {
  TempDir dir;
  Report built;
  ac_report *report = built.report;
  CHECK(ac_report_set_int(report, "", 1) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_report_set_int(report, "outputs", 1) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_report_set_string(report, "device", nullptr) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_report_set_samples_ms(report, nullptr, 0) ==
        AC_ERROR_INVALID_ARGUMENT);
  for (const char *key :
       {"planned_activation_bytes", "measured_activation_bytes",
        "weights_bytes", "repeat"})
    REQUIRE(ac_report_set_int(report, key, 1) == AC_OK);
  REQUIRE(ac_report_set_double(report, "median_ms", 1.0) == AC_OK);
  REQUIRE(ac_report_set_string(report, "device", "\xFF") == AC_OK);
  std::string path = dir.file("r.json");
  CHECK(ac_report_write(report, path.c_str()) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions("UTF-8"));
  REQUIRE(ac_report_set_string(report, "device", "cpu") == AC_OK);
  std::string missingDir = dir.file("missing/r.json");
  CHECK(ac_report_write(report, missingDir.c_str()) == AC_ERROR_IO);
  CHECK(lastErrorMentions(missingDir));
  ::mkdir(dir.file("taken.json").c_str(), 0755);
  CHECK(ac_report_write(report, dir.file("taken.json").c_str()) == AC_ERROR_IO);
  CHECK(listDir(dir.path()) == std::vector<std::string>{"taken.json"});
}
