//===- seeded_fill.cpp - deterministic random values for missing tensors --===//
//
// A counter-based generator: element i of a tensor depends only on (seed,
// name, i), never on the order in which elements are produced, so the bits
// are the same on every machine and for any split of the work. Only integer
// arithmetic and one f32 multiply (exactly rounded under IEEE 754) are used;
// the f16 and bf16 roundings are done here in integers for the same reason.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/io.h"
#include "file_access.h"

#include <cmath>
#include <cstring>

using namespace autochunk::runtime_io;

namespace {

constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

/// The splitmix64 output function.
uint64_t mix64(uint64_t value) {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

/// The stream key: FNV-1a of the name's bytes, combined with the seed.
uint64_t streamKey(uint64_t seed, const char *name) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (const char *byte = name; *byte; ++byte) {
    hash ^= static_cast<unsigned char>(*byte);
    hash *= 0x100000001B3ull;
  }
  return mix64(mix64(seed + kGoldenGamma) ^ hash);
}

/// Element `index` of the stream: (2k - 2^24) / 2^24 * scale with k the top
/// 24 bits of a splitmix64 output; the first product is exact.
float streamValue(uint64_t key, uint64_t index, float scale) {
  uint64_t bits = mix64(key + (index + 1) * kGoldenGamma);
  int32_t centered = static_cast<int32_t>(bits >> 40) * 2 - (1 << 24);
  return static_cast<float>(centered) * 0x1p-24f * scale;
}

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// f32 to bf16, rounding to nearest even (finite inputs only here).
uint16_t floatToBfloat16(float value) {
  uint32_t bits = floatBits(value);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// f32 to IEEE binary16, rounding to nearest even, overflowing to infinity.
uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7FFFFFFFu;
  if (magnitude >= 0x7F800000u) // infinity or NaN
    return sign | 0x7C00u | (magnitude > 0x7F800000u ? 0x200u : 0u);
  if (magnitude >= 0x477FF000u) // at least 65520: rounds to infinity
    return sign | 0x7C00u;
  if (magnitude >= 0x38800000u) { // a normal half: rebias, round 13 bits
    uint32_t half = (magnitude - 0x38000000u) >> 13;
    uint32_t rest = magnitude & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
      ++half;
    return sign | static_cast<uint16_t>(half);
  }
  if (magnitude < 0x33000000u) // at most 2^-25: rounds to zero
    return sign;
  // A subnormal half counts units of 2^-24.
  uint32_t exponent = magnitude >> 23;
  uint32_t mantissa = (magnitude & 0x7FFFFFu) | 0x800000u;
  uint32_t shift = 126 - exponent;
  uint32_t half = mantissa >> shift;
  uint32_t rest = mantissa & ((1u << shift) - 1u);
  uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u)))
    ++half;
  return sign | static_cast<uint16_t>(half);
}

} // namespace

extern "C" {

ac_status ac_seeded_fill(const ac_tensor *tensor, uint64_t seed,
                         const char *name, float scale) {
  if (!name)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "ac_seeded_fill: null tensor name");
  if (ac_status status =
          validateTensor(tensor, std::string("seeded fill of '") + name + "'"))
    return status;
  if (!std::isfinite(scale) || scale < 0)
    return ac_set_error(AC_ERROR_INVALID_ARGUMENT,
                        "seeded fill of '%s': scale %g is not a finite "
                        "non-negative number",
                        name, static_cast<double>(scale));
  const uint64_t key = streamKey(seed, name);
  const int64_t count = ac_tensor_num_elements(tensor);
  const int32_t rank = tensor->rank;
  int64_t index[AC_MAX_RANK] = {0};
  for (int64_t element = 0; element < count; ++element) {
    int64_t offset = 0;
    for (int32_t dim = 0; dim < rank; ++dim)
      offset += index[dim] * tensor->strides[dim];
    float value = streamValue(key, static_cast<uint64_t>(element), scale);
    switch (tensor->dtype) {
    case AC_F32:
      static_cast<float *>(tensor->data)[offset] = value;
      break;
    case AC_F16:
      static_cast<uint16_t *>(tensor->data)[offset] = floatToHalf(value);
      break;
    case AC_BF16:
      static_cast<uint16_t *>(tensor->data)[offset] = floatToBfloat16(value);
      break;
    }
    for (int32_t dim = rank - 1; dim >= 0; --dim) {
      if (++index[dim] < tensor->sizes[dim])
        break;
      index[dim] = 0;
    }
  }
  return AC_OK;
}

} // extern "C"
