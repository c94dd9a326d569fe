// Tests of the .npy reader and writer: round trips, strided writes, hand-made
// valid files of every version, and every kind of malformed file.
#include "IoTestSupport.h"

#include "autochunk/runtime/io.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace iotest;

namespace {

const std::vector<std::vector<int64_t>> kShapesByRank = {
    {}, {5}, {2, 3}, {2, 1, 3}, {2, 3, 1, 4}};

/// Distinct bytes per element, so that a misplaced element is noticed.
std::vector<unsigned char> patternBytes(size_t bytes) {
  std::vector<unsigned char> data(bytes);
  for (size_t index = 0; index < bytes; ++index)
    data[index] = static_cast<unsigned char>((index * 37 + 11) % 251);
  return data;
}

ac_tensor contiguous(void *data, ac_dtype dtype,
                     const std::vector<int64_t> &shape) {
  ac_tensor tensor;
  ac_tensor_init_contiguous(&tensor, data, dtype,
                            static_cast<int32_t>(shape.size()), shape.data());
  return tensor;
}

/// Loads `path` as f32 of `shape` and returns the status.
ac_status loadF32(const std::string &path, const std::vector<int64_t> &shape,
                  std::vector<float> &out) {
  size_t count = 1;
  for (int64_t size : shape)
    count *= static_cast<size_t>(size);
  out.assign(count, 0.0f);
  return ac_npy_load(path.c_str(), AC_F32, static_cast<int32_t>(shape.size()),
                     shape.data(), out.data(), out.size() * sizeof(float));
}

const char *kF32Header23 = "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (2, 3), }";

std::string sixFloats() {
  return rawBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
}

} // namespace

TEST_CASE("npy round trip for every dtype and rank 0..4", "[npy]") {
  TempDir dir;
  for (ac_dtype dtype : {AC_F32, AC_F16, AC_BF16}) {
    for (const std::vector<int64_t> &shape : kShapesByRank) {
      CAPTURE(ac_dtype_name(dtype), shape.size());
      size_t count = 1;
      for (int64_t size : shape)
        count *= static_cast<size_t>(size);
      std::vector<unsigned char> data =
          patternBytes(count * ac_dtype_size(dtype));
      ac_tensor tensor = contiguous(data.data(), dtype, shape);
      std::string path = dir.file("t.npy");
      REQUIRE(ac_npy_save(path.c_str(), &tensor) == AC_OK);

      ac_npy_info info;
      REQUIRE(ac_npy_read_info(path.c_str(), &info) == AC_OK);
      CHECK(info.dtype == dtype);
      REQUIRE(info.rank == static_cast<int32_t>(shape.size()));
      for (size_t dim = 0; dim < shape.size(); ++dim)
        CHECK(info.sizes[dim] == shape[dim]);
      CHECK(info.data_bytes == data.size());
      CHECK(info.data_offset % 64 == 0);
      CHECK(info.data_offset + info.data_bytes == readBytes(path).size());

      std::vector<unsigned char> back(data.size() + 1, 0);
      REQUIRE(ac_npy_load(path.c_str(), dtype,
                          static_cast<int32_t>(shape.size()), shape.data(),
                          back.data(), back.size()) == AC_OK);
      back.pop_back();
      CHECK(back == data);

      ac_tensor loaded;
      REQUIRE(ac_npy_load_alloc(path.c_str(), dtype, &loaded) == AC_OK);
      CHECK(reinterpret_cast<uintptr_t>(loaded.data) % 64 == 0);
      CHECK(loaded.dtype == dtype);
      CHECK(loaded.rank == static_cast<int32_t>(shape.size()));
      CHECK(std::memcmp(loaded.data, data.data(), data.size()) == 0);
      ac_io_free(loaded.data);
    }
  }
}

TEST_CASE("npy writer emits numpy's header text", "[npy]") {
  TempDir dir;
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  std::vector<int64_t> shape = {2, 3};
  ac_tensor tensor = contiguous(values.data(), AC_F32, shape);
  REQUIRE(ac_npy_save(dir.file("a.npy").c_str(), &tensor) == AC_OK);
  CHECK(readBytes(dir.file("a.npy")) == npyFile(kF32Header23, sixFloats()));

  std::vector<uint16_t> one = {0x3C00};
  std::vector<int64_t> vector = {1};
  ac_tensor half = contiguous(one.data(), AC_F16, vector);
  REQUIRE(ac_npy_save(dir.file("h.npy").c_str(), &half) == AC_OK);
  CHECK(readBytes(dir.file("h.npy")) ==
        npyFile("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
                rawBytes(one)));
  ac_tensor bf16 = contiguous(one.data(), AC_BF16, {});
  REQUIRE(ac_npy_save(dir.file("b.npy").c_str(), &bf16) == AC_OK);
  CHECK(readBytes(dir.file("b.npy")) ==
        npyFile("{'descr': '<u2', 'fortran_order': False, 'shape': (), }",
                rawBytes(std::vector<uint16_t>{0x3C00})));
}

TEST_CASE("npy writer walks strided and broadcast views", "[npy]") {
  TempDir dir;
  // A 3x4 matrix holding 0..11; its transpose is a 4x3 view.
  std::vector<float> matrix(12);
  for (size_t index = 0; index < matrix.size(); ++index)
    matrix[index] = static_cast<float>(index);

  ac_tensor transposed = contiguous(matrix.data(), AC_F32, {3, 4});
  transposed.sizes[0] = 4;
  transposed.sizes[1] = 3;
  transposed.strides[0] = 1;
  transposed.strides[1] = 4;
  REQUIRE(ac_npy_save(dir.file("t.npy").c_str(), &transposed) == AC_OK);
  std::vector<float> back;
  REQUIRE(loadF32(dir.file("t.npy"), {4, 3}, back) == AC_OK);
  CHECK(back == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});

  // Every other column of rows 1..2: a slice with a step.
  ac_tensor slice = contiguous(matrix.data() + 4, AC_F32, {2, 2});
  slice.strides[0] = 4;
  slice.strides[1] = 2;
  REQUIRE(ac_npy_save(dir.file("s.npy").c_str(), &slice) == AC_OK);
  REQUIRE(loadF32(dir.file("s.npy"), {2, 2}, back) == AC_OK);
  CHECK(back == std::vector<float>{4, 6, 8, 10});

  // Row 2 broadcast three times (stride 0), and a reversed row.
  ac_tensor broadcast = contiguous(matrix.data() + 8, AC_F32, {3, 4});
  broadcast.strides[0] = 0;
  REQUIRE(ac_npy_save(dir.file("b.npy").c_str(), &broadcast) == AC_OK);
  REQUIRE(loadF32(dir.file("b.npy"), {3, 4}, back) == AC_OK);
  CHECK(back == std::vector<float>{8, 9, 10, 11, 8, 9, 10, 11, 8, 9, 10, 11});
  ac_tensor reversed = contiguous(matrix.data() + 3, AC_F32, {4});
  reversed.strides[0] = -1;
  REQUIRE(ac_npy_save(dir.file("r.npy").c_str(), &reversed) == AC_OK);
  REQUIRE(loadF32(dir.file("r.npy"), {4}, back) == AC_OK);
  CHECK(back == std::vector<float>{3, 2, 1, 0});

  // A strided 16-bit view larger than the writer's staging buffer.
  std::vector<uint16_t> wide(2 * 700000);
  for (size_t index = 0; index < wide.size(); ++index)
    wide[index] = static_cast<uint16_t>(index * 3);
  ac_tensor everyOther = contiguous(wide.data(), AC_F16, {700000});
  everyOther.strides[0] = 2;
  REQUIRE(ac_npy_save(dir.file("w.npy").c_str(), &everyOther) == AC_OK);
  std::vector<uint16_t> wideBack(700000);
  int64_t wideShape = 700000;
  REQUIRE(ac_npy_load(dir.file("w.npy").c_str(), AC_F16, 1, &wideShape,
                      wideBack.data(), wideBack.size() * 2) == AC_OK);
  bool allMatch = true;
  for (size_t index = 0; index < wideBack.size(); ++index)
    allMatch = allMatch && wideBack[index] == wide[2 * index];
  CHECK(allMatch);
}

TEST_CASE("npy reader accepts versions 1.0 2.0 3.0 and header variants",
          "[npy]") {
  TempDir dir;
  const char *dicts[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",
      "{'shape': (2, 3,), 'fortran_order': False, 'descr': '<f4'}",
      "  {  'descr' :'<f4' ,'fortran_order':False,'shape':( 2 , 3 ) , }  ",
  };
  for (int major = 1; major <= 3; ++major) {
    for (const char *dict : dicts) {
      CAPTURE(major, dict);
      writeBytes(dir.file("v.npy"), npyFile(dict, sixFloats(), major));
      std::vector<float> back;
      REQUIRE(loadF32(dir.file("v.npy"), {2, 3}, back) == AC_OK);
      CHECK(back == std::vector<float>{1, 2, 3, 4, 5, 6});
    }
  }
  // Rank 0 and an empty array.
  writeBytes(dir.file("scalar.npy"),
             npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                     rawBytes(std::vector<float>{7})));
  std::vector<float> back;
  REQUIRE(loadF32(dir.file("scalar.npy"), {}, back) == AC_OK);
  CHECK(back == std::vector<float>{7});
  writeBytes(dir.file("empty.npy"),
             npyFile("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (0, 3)}",
                     ""));
  REQUIRE(loadF32(dir.file("empty.npy"), {0, 3}, back) == AC_OK);
}

namespace {

/// Writes `bytes` as bad.npy, checks that loading it as f32 (2, 3) fails with
/// `status`, and that the message names the file and mentions `detail`.
void expectNpyRejected(const std::string &bytes, ac_status status,
                       const std::string &detail) {
  TempDir dir;
  std::string path = dir.file("bad.npy");
  writeBytes(path, bytes);
  std::vector<float> back;
  CHECK(loadF32(path, {2, 3}, back) == status);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions(detail));
  INFO(ac_last_error());
  ac_npy_info info;
  if (status == AC_ERROR_FORMAT) {
    CHECK(ac_npy_read_info(path.c_str(), &info) == status);
    CHECK(lastErrorMentions(path));
  }
}

std::string npyWithDict(const std::string &dict) {
  return npyFile(dict, sixFloats());
}

} // namespace

TEST_CASE("npy reader rejects malformed preambles", "[npy][errors]") {
  std::string good = npyFile(kF32Header23, sixFloats());
  expectNpyRejected("", AC_ERROR_FORMAT, "too short");
  expectNpyRejected(good.substr(0, 9), AC_ERROR_FORMAT, "too short");
  std::string badMagic = good;
  badMagic[1] = 'M';
  expectNpyRejected(badMagic, AC_ERROR_FORMAT, "magic");
  std::string version4 = good;
  version4[6] = 4;
  expectNpyRejected(version4, AC_ERROR_FORMAT, "version 4.0");
  std::string version11 = good;
  version11[7] = 1;
  expectNpyRejected(version11, AC_ERROR_FORMAT, "version 1.1");
  // Truncated inside the header: the declared length reaches past the end.
  expectNpyRejected(good.substr(0, 40), AC_ERROR_FORMAT,
                    "goes beyond the end of the file");
  std::string hugeLength = good;
  hugeLength[8] = '\xFF';
  hugeLength[9] = '\xFF';
  expectNpyRejected(hugeLength, AC_ERROR_FORMAT,
                    "header length 65535 goes beyond");
  std::string version2 = npyFile(kF32Header23, sixFloats(), 2);
  version2[11] = 0x10; // a 4-byte length of 256 MiB and more
  expectNpyRejected(version2, AC_ERROR_FORMAT, "goes beyond");
}

TEST_CASE("npy reader rejects malformed header dictionaries", "[npy][errors]") {
  struct Case {
    const char *dict;
    const char *detail;
  };
  const Case cases[] = {
      {"'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
       "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
       "expected ',' or '}'"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}",
       "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'fortran_order': False, 'shape': (2, 3)}", "missing key 'descr'"},
      {"{'descr': '<f4', 'shape': (2, 3)}", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
       "'shape': (2, 3)}",
       "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}",
       "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}",
       "expected '('"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}",
       "is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}",
       "negative dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3.0)}",
       "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3)}",
       "leading zero"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x",
       "unexpected text after"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}",
       "expected ',' or '}'"},
      {"{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}",
       "expected ':'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
       "structured"},
      {"{'descr': '<f4', 'fortran_order': False, "
       "'shape': (99999999999999999999, 3)}",
       "does not fit in 64 bits"},
      {"{'descr': '<f4', 'fortran_order': False, "
       "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}",
       "more than 8 dimensions"},
  };
  for (const Case &bad : cases) {
    CAPTURE(bad.dict);
    expectNpyRejected(npyWithDict(bad.dict), AC_ERROR_FORMAT, bad.detail);
  }
}

TEST_CASE("npy reader rejects unsupported layouts and dtypes",
          "[npy][errors]") {
  expectNpyRejected(
      npyWithDict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}"),
      AC_ERROR_FORMAT, "fortran_order=True");
  expectNpyRejected(
      npyWithDict("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}"),
      AC_ERROR_FORMAT, "big-endian dtype '>f4'");
  for (const char *descr : {"<f8", "|u1", "<i4", "|b1", "f4", "=f4"}) {
    CAPTURE(descr);
    expectNpyRejected(npyWithDict(std::string("{'descr': '") + descr +
                                  "', 'fortran_order': False, "
                                  "'shape': (2, 3)}"),
                      AC_ERROR_FORMAT,
                      std::string("unsupported dtype '") + descr + "'");
  }
  // A product of sizes that overflows int64 is rejected before any
  // arithmetic on the data size.
  expectNpyRejected(npyWithDict("{'descr': '<f4', 'fortran_order': False, "
                                "'shape': (4294967296, 4294967296)}"),
                    AC_ERROR_FORMAT, "too many elements");
}

TEST_CASE("npy reader rejects truncated data and trailing garbage",
          "[npy][errors]") {
  std::string data = sixFloats();
  expectNpyRejected(npyFile(kF32Header23, data.substr(0, 23)), AC_ERROR_FORMAT,
                    "truncated data");
  expectNpyRejected(npyFile(kF32Header23, ""), AC_ERROR_FORMAT,
                    "truncated data");
  expectNpyRejected(npyFile(kF32Header23, data + "x"), AC_ERROR_FORMAT,
                    "1 trailing bytes");
}

TEST_CASE("npy loads check the expected dtype and shape and buffer",
          "[npy][errors]") {
  TempDir dir;
  std::string path = dir.file("a.npy");
  writeBytes(path, npyFile(kF32Header23, sixFloats()));
  std::vector<float> back;
  CHECK(loadF32(path, {3, 2}, back) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions("has shape (2, 3) but (3, 2) was expected"));
  CHECK(loadF32(path, {6}, back) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("(6,) was expected"));

  std::vector<uint16_t> halves(6);
  int64_t shape[] = {2, 3};
  CHECK(ac_npy_load(path.c_str(), AC_F16, 2, shape, halves.data(), 12) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("holds f32 ('<f4') but f16 was expected"));
  CHECK(ac_npy_load(path.c_str(), AC_BF16, 2, shape, halves.data(), 12) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(ac_npy_load(path.c_str(), AC_F32, 2, shape, back.data(), 23) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("needs 24 bytes but the destination holds 23"));

  // '<u2' is bf16 bits only: as f16 or f32 it is a mismatch.
  std::string bits = dir.file("bits.npy");
  writeBytes(bits, npyFile("{'descr': '<u2', 'fortran_order': False, "
                           "'shape': (2, 3)}",
                           rawBytes(std::vector<uint16_t>{1, 2, 3, 4, 5, 6})));
  CHECK(ac_npy_load(bits.c_str(), AC_F16, 2, shape, halves.data(), 12) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("'<u2' (read only as bf16 bit patterns)"));
  CHECK(lastErrorMentions(bits));
  ac_tensor loaded;
  CHECK(ac_npy_load_alloc(bits.c_str(), AC_F32, &loaded) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(bits));
  REQUIRE(ac_npy_load(bits.c_str(), AC_BF16, 2, shape, halves.data(), 12) ==
          AC_OK);
  CHECK(halves == std::vector<uint16_t>{1, 2, 3, 4, 5, 6});

  CHECK(loadF32(dir.file("missing.npy"), {2, 3}, back) == AC_ERROR_IO);
  CHECK(lastErrorMentions(dir.file("missing.npy")));
  CHECK(loadF32(dir.path(), {2, 3}, back) == AC_ERROR_IO);
  CHECK(lastErrorMentions("not a regular file"));
}

TEST_CASE("a failed npy write leaves nothing behind", "[npy][errors]") {
  TempDir dir;
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  ac_tensor tensor = contiguous(values.data(), AC_F32, {2, 3});

  std::string missingDir = dir.file("no/such/dir/a.npy");
  CHECK(ac_npy_save(missingDir.c_str(), &tensor) == AC_ERROR_IO);
  CHECK(lastErrorMentions(missingDir));

  // The destination is a directory: the data is written, the rename fails,
  // and the temporary file must go.
  ::mkdir(dir.file("taken.npy").c_str(), 0755);
  std::string taken = dir.file("taken.npy");
  CHECK(ac_npy_save(taken.c_str(), &tensor) == AC_ERROR_IO);
  CHECK(lastErrorMentions(taken));
  CHECK(listDir(dir.path()) == std::vector<std::string>{"taken.npy"});

  // An invalid descriptor writes nothing at all.
  ac_tensor badRank = tensor;
  badRank.rank = AC_MAX_RANK + 1;
  CHECK(ac_npy_save(dir.file("r.npy").c_str(), &badRank) ==
        AC_ERROR_INVALID_ARGUMENT);
  ac_tensor negative = tensor;
  negative.sizes[0] = -1;
  CHECK(ac_npy_save(dir.file("n.npy").c_str(), &negative) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(dir.file("n.npy")));
  CHECK(listDir(dir.path()) == std::vector<std::string>{"taken.npy"});

  // A successful write replaces an older file whole.
  writeBytes(dir.file("old.npy"), "stale");
  REQUIRE(ac_npy_save(dir.file("old.npy").c_str(), &tensor) == AC_OK);
  CHECK(readBytes(dir.file("old.npy")) == npyFile(kF32Header23, sixFloats()));
  CHECK(listDir(dir.path()) ==
        std::vector<std::string>{"old.npy", "taken.npy"});
}

TEST_CASE("npy_save_named writes DIR/NAME.npy and rejects bad names", "[npy]") {
  TempDir dir;
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  ac_tensor tensor = contiguous(values.data(), AC_F32, {2, 3});
  REQUIRE(ac_npy_save_named(dir.path().c_str(), "blocks.0.attn.qkv.weight",
                            &tensor) == AC_OK);
  CHECK(fileExists(dir.file("blocks.0.attn.qkv.weight.npy")));
  for (const char *bad : {"", ".", "..", "a/b"}) {
    CAPTURE(bad);
    CHECK(ac_npy_save_named(dir.path().c_str(), bad, &tensor) ==
          AC_ERROR_INVALID_ARGUMENT);
    CHECK(lastErrorMentions(dir.path()));
  }
  CHECK(listDir(dir.path()) ==
        std::vector<std::string>{"blocks.0.attn.qkv.weight.npy"});
}
