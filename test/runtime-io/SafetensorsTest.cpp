// Tests of the safetensors reader and writer: round trips, a hand-written
// file, and every kind of malformed header.
#include "IoTestSupport.h"

#include "autochunk/runtime/io.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using namespace iotest;

namespace {

struct OpenFile {
  ac_safetensors *file = nullptr;
  ~OpenFile() { ac_safetensors_close(file); }
};

/// Writes `bytes` as bad.safetensors and checks that opening it fails with
/// `status` and a message naming the file and mentioning `detail`.
void expectRejected(const std::string &bytes, ac_status status,
                    const std::string &detail) {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  writeBytes(path, bytes);
  OpenFile opened;
  CHECK(ac_safetensors_open(path.c_str(), &opened.file) == status);
  CHECK(opened.file == nullptr);
  INFO(ac_last_error());
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions(detail));
}

std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":[" + std::to_string(begin) + "," +
         std::to_string(end) + "]}";
}

} // namespace

TEST_CASE("safetensors round trip for every dtype and rank 0..4",
          "[safetensors]") {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {5}, {2, 3}, {2, 1, 3}, {2, 3, 1, 4}, {0, 3}};
  std::vector<std::string> names;
  std::vector<std::vector<unsigned char>> buffers;
  std::vector<ac_tensor> tensors;
  for (ac_dtype dtype : {AC_F32, AC_F16, AC_BF16}) {
    for (const std::vector<int64_t> &shape : shapes) {
      size_t count = 1;
      for (int64_t size : shape)
        count *= static_cast<size_t>(size);
      std::vector<unsigned char> data(count * ac_dtype_size(dtype));
      for (size_t index = 0; index < data.size(); ++index)
        data[index] = static_cast<unsigned char>(index * 13 + names.size());
      buffers.push_back(std::move(data));
      names.push_back(std::string(ac_dtype_name(dtype)) + ".rank" +
                      std::to_string(shape.size()) +
                      (count == 0 ? ".empty" : ""));
      ac_tensor tensor;
      ac_tensor_init_contiguous(&tensor, buffers.back().data(), dtype,
                                static_cast<int32_t>(shape.size()),
                                shape.data());
      tensors.push_back(tensor);
    }
  }
  // A transposed view is written row-major.
  std::vector<float> matrix = {0, 1, 2, 3, 4, 5};
  int64_t matrixShape[] = {2, 3};
  ac_tensor transposed;
  ac_tensor_init_contiguous(&transposed, matrix.data(), AC_F32, 2, matrixShape);
  transposed.sizes[0] = 3;
  transposed.sizes[1] = 2;
  transposed.strides[0] = 1;
  transposed.strides[1] = 3;
  tensors.push_back(transposed);
  names.push_back("transposed");

  std::vector<const char *> namePointers;
  for (const std::string &name : names)
    namePointers.push_back(name.c_str());
  std::string path = dir.file("all.safetensors");
  REQUIRE(ac_safetensors_save(path.c_str(),
                              static_cast<int64_t>(tensors.size()),
                              namePointers.data(), tensors.data()) == AC_OK);
  std::string bytes = readBytes(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t headerLength = 0;
  std::memcpy(&headerLength, bytes.data(), 8);
  CHECK(headerLength % 8 == 0);
  CHECK(bytes[8] == '{');

  OpenFile opened;
  REQUIRE(ac_safetensors_open(path.c_str(), &opened.file) == AC_OK);
  REQUIRE(ac_safetensors_count(opened.file) ==
          static_cast<int64_t>(tensors.size()));
  CHECK(ac_safetensors_name(opened.file, -1) == nullptr);
  CHECK(ac_safetensors_name(opened.file, 1000) == nullptr);
  for (size_t index = 0; index + 1 < tensors.size(); ++index) {
    CAPTURE(names[index]);
    const ac_tensor &tensor = tensors[index];
    ac_dtype dtype;
    int32_t rank = -1;
    int64_t sizes[AC_MAX_RANK];
    REQUIRE(ac_safetensors_info(opened.file, names[index].c_str(), &dtype,
                                &rank, sizes) == AC_OK);
    CHECK(dtype == tensor.dtype);
    REQUIRE(rank == tensor.rank);
    for (int32_t dim = 0; dim < rank; ++dim)
      CHECK(sizes[dim] == tensor.sizes[dim]);
    std::vector<unsigned char> back(buffers[index].size());
    REQUIRE(ac_safetensors_load(opened.file, names[index].c_str(), tensor.dtype,
                                tensor.rank, tensor.sizes, back.data(),
                                back.size()) == AC_OK);
    CHECK(back == buffers[index]);
  }
  std::vector<float> back(6);
  int64_t transposedShape[] = {3, 2};
  REQUIRE(ac_safetensors_load(opened.file, "transposed", AC_F32, 2,
                              transposedShape, back.data(),
                              back.size() * 4) == AC_OK);
  CHECK(back == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("safetensors reader accepts a hand-written file with metadata",
          "[safetensors]") {
  TempDir dir;
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
                       entry("b", "F16", "[2]", 8, 12) + "," +
                       entry("a", "F32", "[2]", 0, 8) + "}    ";
  std::string data = rawBytes(std::vector<float>{1.5f, -2}) +
                     rawBytes(std::vector<uint16_t>{0x3C00, 0xC000});
  std::string path = dir.file("m.safetensors");
  writeBytes(path, safetensorsFile(header, data));
  OpenFile opened;
  REQUIRE(ac_safetensors_open(path.c_str(), &opened.file) == AC_OK);
  REQUIRE(ac_safetensors_count(opened.file) == 2);
  CHECK(std::string(ac_safetensors_name(opened.file, 0)) == "a");
  CHECK(std::string(ac_safetensors_name(opened.file, 1)) == "b");
  std::vector<float> floats(2);
  int64_t two = 2;
  REQUIRE(ac_safetensors_load(opened.file, "a", AC_F32, 1, &two, floats.data(),
                              8) == AC_OK);
  CHECK(floats == std::vector<float>{1.5f, -2});
  std::vector<uint16_t> halves(2);
  REQUIRE(ac_safetensors_load(opened.file, "b", AC_F16, 1, &two, halves.data(),
                              4) == AC_OK);
  CHECK(halves == std::vector<uint16_t>{0x3C00, 0xC000});

  // Expectations the file does not meet.
  CHECK(ac_safetensors_load(opened.file, "a", AC_F16, 1, &two, halves.data(),
                            4) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions("tensor 'a' holds F32 but f16 was expected"));
  int64_t wrong[] = {1, 2};
  CHECK(ac_safetensors_load(opened.file, "a", AC_F32, 2, wrong, floats.data(),
                            8) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("has shape (2,) but (1, 2) was expected"));
  CHECK(ac_safetensors_load(opened.file, "a", AC_F32, 1, &two, floats.data(),
                            7) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(ac_safetensors_load(opened.file, "c", AC_F32, 1, &two, floats.data(),
                            8) == AC_ERROR_NOT_FOUND);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions("no tensor named 'c'"));
}

TEST_CASE("safetensors reader rejects bad header lengths",
          "[safetensors][errors]") {
  std::string header = "{" + entry("a", "F32", "[2]", 0, 8) + "}";
  std::string data(8, '\0');
  std::string good = safetensorsFile(header, data);
  expectRejected("", AC_ERROR_FORMAT, "too short");
  expectRejected(good.substr(0, 7), AC_ERROR_FORMAT, "too short");
  expectRejected(littleEndian(1000, 8) + header + data, AC_ERROR_FORMAT,
                 "header length 1000 goes beyond the end of the file");
  expectRejected(good.substr(0, 8 + header.size() / 2), AC_ERROR_FORMAT,
                 "goes beyond the end of the file");
  expectRejected(littleEndian(uint64_t(1) << 62, 8) + header, AC_ERROR_FORMAT,
                 "exceeds the limit");
}

TEST_CASE("safetensors reader rejects malformed JSON and entries",
          "[safetensors][errors]") {
  std::string eight(8, '\0');
  struct Case {
    std::string header;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {"{\"a\":{\"dtype\":\"F32\",", "not valid JSON"},
      {"[1, 2]", "not a JSON object"},
      {"{" + entry("a", "F32", "[2]", 0, 8) + "} x", "not valid JSON"},
      {"{\"a\": 3}", "tensor 'a' is not an object"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "lacks one of"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
       "\"extra\":1}}",
       "unexpected field 'extra'"},
      {"{" + entry("a", "I64", "[1]", 0, 8) + "}", "unsupported dtype 'I64'"},
      {"{" + entry("a", "F64", "[1]", 0, 8) + "}", "unsupported dtype 'F64'"},
      {"{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}",
       "'dtype' that is not a string"},
      {"{" + entry("a", "F32", "[-2]", 0, 8) + "}",
       "not a non-negative integer"},
      {"{" + entry("a", "F32", "[2.0]", 0, 8) + "}",
       "not a non-negative integer"},
      {"{" + entry("a", "F32", "2", 0, 8) + "}", "'shape' that is not"},
      {"{" + entry("a", "F32", "[1,1,1,1,1,1,1,1,2]", 0, 8) + "}", "at most 8"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}",
       "not [begin, end]"},
      {"{" + entry("a", "F32", "[2]", 8, 0) + "}", "not [begin, end]"},
      {"{" + entry("a", "F32", "[4]", 0, 16) + "}",
       "out of range of the data section (8 bytes)"},
      {"{" + entry("a", "F32", "[3]", 0, 8) + "}",
       "spanning 8 bytes but F32 shape (3,) needs 12"},
      {"{" + entry("a", "BF16", "[2]", 0, 8) + "}",
       "spanning 8 bytes but BF16 shape (2,) needs 4"},
      {"{" + entry("a", "F32", "[4294967296,4294967296]", 0, 8) + "}",
       "too many elements"},
      {"{" + entry("a", "F32", "[1]", 0, 4) + "," +
           entry("b", "F32", "[1]", 2, 6) + "," +
           entry("c", "F16", "[1]", 6, 8) + "}",
       "tensor 'b' (bytes 2..6) overlaps tensor 'a' (bytes 0..4)"},
      {"{" + entry("a", "F32", "[1]", 4, 8) + "}",
       "4 unused bytes before tensor 'a'"},
      {"{" + entry("a", "F32", "[1]", 0, 4) + "}", "4 trailing bytes"},
      {"{" + entry("a", "F32", "[1]", 0, 4) + "," +
           entry("a", "F32", "[1]", 4, 8) + "}",
       "names 'a' twice"},
      {"{\"__metadata__\":{\"k\":1}," + entry("a", "F32", "[2]", 0, 8) + "}",
       "__metadata__ is not an object of strings"},
  };
  for (const Case &bad : cases) {
    CAPTURE(bad.header);
    expectRejected(safetensorsFile(bad.header, eight), AC_ERROR_FORMAT,
                   bad.detail);
  }
  TempDir dir;
  OpenFile opened;
  CHECK(ac_safetensors_open(dir.file("none.safetensors").c_str(),
                            &opened.file) == AC_ERROR_IO);
  CHECK(lastErrorMentions(dir.file("none.safetensors")));
}

TEST_CASE("a failed safetensors write leaves nothing behind",
          "[safetensors][errors]") {
  TempDir dir;
  std::vector<float> values = {1, 2};
  int64_t two = 2;
  ac_tensor tensor;
  ac_tensor_init_contiguous(&tensor, values.data(), AC_F32, 1, &two);
  ac_tensor both[] = {tensor, tensor};

  const char *duplicate[] = {"x", "x"};
  std::string path = dir.file("d.safetensors");
  CHECK(ac_safetensors_save(path.c_str(), 2, duplicate, both) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  CHECK(lastErrorMentions("'x' is given twice"));
  const char *reserved[] = {"__metadata__"};
  CHECK(ac_safetensors_save(path.c_str(), 1, reserved, both) ==
        AC_ERROR_INVALID_ARGUMENT);
  const char *notUtf8[] = {"\xFF\xFE"};
  CHECK(ac_safetensors_save(path.c_str(), 1, notUtf8, both) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(path));
  ac_tensor noData = tensor;
  noData.data = nullptr;
  const char *one[] = {"x"};
  CHECK(ac_safetensors_save(path.c_str(), 1, one, &noData) ==
        AC_ERROR_INVALID_ARGUMENT);
  std::string missingDir = dir.file("no/dir/x.safetensors");
  CHECK(ac_safetensors_save(missingDir.c_str(), 1, one, both) == AC_ERROR_IO);
  CHECK(lastErrorMentions(missingDir));
  ::mkdir(dir.file("taken.safetensors").c_str(), 0755);
  CHECK(ac_safetensors_save(dir.file("taken.safetensors").c_str(), 1, one,
                            both) == AC_ERROR_IO);
  CHECK(listDir(dir.path()) == std::vector<std::string>{"taken.safetensors"});
}
