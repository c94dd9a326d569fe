// Tests of the seeded fill: reproducible, sensitive to seed and name, in
// range, independent of strides. Exact values are checked against an
// independent numpy implementation in test_io_numpy.py.
#include "autochunk/runtime/io.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

namespace {

std::vector<float> fillF32(uint64_t seed, const char *name, size_t count,
                           float scale) {
  std::vector<float> values(count);
  int64_t size = static_cast<int64_t>(count);
  ac_tensor tensor;
  ac_tensor_init_contiguous(&tensor, values.data(), AC_F32, 1, &size);
  REQUIRE(ac_seeded_fill(&tensor, seed, name, scale) == AC_OK);
  return values;
}

bool sameBits(const std::vector<float> &lhs, const std::vector<float> &rhs) {
  return lhs.size() == rhs.size() &&
         std::memcmp(lhs.data(), rhs.data(), lhs.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("seeded fill is reproducible and keyed by seed and name",
          "[seeded]") {
  std::vector<float> first = fillF32(42, "w", 1000, 1.0f);
  CHECK(sameBits(first, fillF32(42, "w", 1000, 1.0f)));
  CHECK_FALSE(sameBits(first, fillF32(43, "w", 1000, 1.0f)));
  CHECK_FALSE(sameBits(first, fillF32(42, "w2", 1000, 1.0f)));
  CHECK_FALSE(sameBits(first, fillF32(42, "", 1000, 1.0f)));
  // A prefix of a longer fill is the shorter fill: element i depends on i.
  std::vector<float> longer = fillF32(42, "w", 2000, 1.0f);
  CHECK(std::memcmp(longer.data(), first.data(), 1000 * sizeof(float)) == 0);
  // Elements are not all equal.
  CHECK(first[0] != first[1]);
}

TEST_CASE("seeded fill is uniform between -scale and scale", "[seeded]") {
  const float scale = 0.125f;
  std::vector<float> values = fillF32(7, "uniform", 200000, scale);
  double sum = 0, minimum = 1, maximum = -1;
  size_t negative = 0;
  for (float value : values) {
    REQUIRE(value >= -scale);
    REQUIRE(value < scale);
    sum += value;
    minimum = std::min<double>(minimum, value);
    maximum = std::max<double>(maximum, value);
    negative += value < 0;
  }
  // For 200000 uniform samples the mean's standard deviation is
  // scale / sqrt(3 * 200000) ~ 1.6e-4: these bounds are about 6 sigma.
  CHECK(std::abs(sum / values.size()) < 0.001);
  CHECK(minimum < -0.999 * scale);
  CHECK(maximum > 0.999 * scale);
  CHECK(negative > 99000);
  CHECK(negative < 101000);
  std::vector<float> zeros = fillF32(7, "uniform", 10, 0.0f);
  for (float value : zeros)
    CHECK(value == 0.0f);
}

TEST_CASE("seeded fill follows logical order through strides", "[seeded]") {
  // A transposed 3x4 view is filled like a contiguous 3x4 tensor, element by
  // logical (row-major) index.
  std::vector<float> contiguous(12), storage(12);
  int64_t shape[] = {3, 4};
  ac_tensor dense;
  ac_tensor_init_contiguous(&dense, contiguous.data(), AC_F32, 2, shape);
  REQUIRE(ac_seeded_fill(&dense, 5, "t", 1.0f) == AC_OK);
  ac_tensor transposedView = dense;
  transposedView.data = storage.data();
  transposedView.strides[0] = 1;
  transposedView.strides[1] = 3;
  REQUIRE(ac_seeded_fill(&transposedView, 5, "t", 1.0f) == AC_OK);
  for (int64_t row = 0; row < 3; ++row)
    for (int64_t column = 0; column < 4; ++column)
      CHECK(storage[row + column * 3] == contiguous[row * 4 + column]);
}

TEST_CASE("seeded fill of 16-bit types stays in range", "[seeded]") {
  for (ac_dtype dtype : {AC_F16, AC_BF16}) {
    std::vector<uint16_t> bits(4096), again(4096);
    int64_t size = 4096;
    ac_tensor tensor;
    ac_tensor_init_contiguous(&tensor, bits.data(), dtype, 1, &size);
    REQUIRE(ac_seeded_fill(&tensor, 1, "h", 2.0f) == AC_OK);
    tensor.data = again.data();
    REQUIRE(ac_seeded_fill(&tensor, 1, "h", 2.0f) == AC_OK);
    CHECK(bits == again);
    size_t distinct = 0;
    for (size_t index = 1; index < bits.size(); ++index) {
      // |value| <= 2: 2.0 is 0x4000 in both f16 and bf16, and magnitudes
      // order like their bit patterns.
      uint16_t magnitude = bits[index] & 0x7FFF;
      CHECK(magnitude <= 0x4000);
      distinct += bits[index] != bits[index - 1];
    }
    CHECK(distinct > 4000);
  }
}

TEST_CASE("seeded fill rejects bad arguments", "[seeded][errors]") {
  float value = 0;
  ac_tensor tensor;
  ac_tensor_init_contiguous(&tensor, &value, AC_F32, 0, nullptr);
  CHECK(ac_seeded_fill(&tensor, 1, "w", -1.0f) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ac_last_error()).find("'w'") != std::string::npos);
  CHECK(ac_seeded_fill(&tensor, 1, "w", NAN) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_seeded_fill(&tensor, 1, "w", INFINITY) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_seeded_fill(&tensor, 1, nullptr, 1.0f) == AC_ERROR_INVALID_ARGUMENT);
  tensor.data = nullptr;
  CHECK(ac_seeded_fill(&tensor, 1, "w", 1.0f) == AC_ERROR_INVALID_ARGUMENT);
}
