// Tests of tensor sources: a directory of .npy files and a safetensors file
// serve named tensors, and names nobody asked for are reported as unknown.
#include "IoTestSupport.h"

#include "autochunk/runtime/io.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace iotest;

namespace {

struct OpenSource {
  ac_tensor_source *source = nullptr;
  ~OpenSource() { ac_tensor_source_close(source); }
};

std::vector<std::string> unrequested(const ac_tensor_source *source) {
  std::vector<std::string> names;
  for (int64_t index = 0, count = ac_tensor_source_unrequested_count(source);
       index < count; ++index)
    names.push_back(ac_tensor_source_unrequested_name(source, index));
  return names;
}

const std::string kWeightName = "blocks.0.attn.qkv.weight";

/// Checks a source holding kWeightName (f32, (2, 3), values 1..6) and
/// "extra" (f32, (1,)); `fileOfWeight` is what errors about it must name.
void checkSource(ac_tensor_source *source, const std::string &fileOfWeight) {
  CHECK(ac_tensor_source_has(source, kWeightName.c_str()));
  CHECK_FALSE(ac_tensor_source_has(source, "absent"));
  CHECK(unrequested(source) == std::vector<std::string>{"extra"});

  int64_t shape[] = {2, 3};
  std::vector<float> values(6);
  REQUIRE(ac_tensor_source_load(source, kWeightName.c_str(), AC_F32, 2, shape,
                                values.data(), 24) == AC_OK);
  CHECK(values == std::vector<float>{1, 2, 3, 4, 5, 6});

  int64_t wrongShape[] = {3, 2};
  CHECK(ac_tensor_source_load(source, kWeightName.c_str(), AC_F32, 2,
                              wrongShape, values.data(),
                              24) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(fileOfWeight));
  CHECK(lastErrorMentions("but (3, 2) was expected"));
  CHECK(ac_tensor_source_load(source, kWeightName.c_str(), AC_BF16, 2, shape,
                              values.data(), 24) == AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions(fileOfWeight));
  CHECK(lastErrorMentions("bf16 was expected"));
  CHECK(ac_tensor_source_load(source, "absent", AC_F32, 2, shape, values.data(),
                              24) == AC_ERROR_NOT_FOUND);
  CHECK(lastErrorMentions(ac_tensor_source_path(source)));
  CHECK(lastErrorMentions("'absent'"));

  CHECK(ac_tensor_source_check_all_requested(source) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(ac_last_error()) ==
        std::string("unknown input 'extra' in ") +
            ac_tensor_source_path(source));
  CHECK(ac_tensor_source_has(source, "extra"));
  CHECK(unrequested(source).empty());
  CHECK(ac_tensor_source_check_all_requested(source) == AC_OK);
}

} // namespace

TEST_CASE("a directory source serves DIR/NAME.npy", "[source]") {
  TempDir dir;
  writeBytes(dir.file(kWeightName + ".npy"),
             npyFile("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (2, 3), }",
                     rawBytes(std::vector<float>{1, 2, 3, 4, 5, 6})));
  writeBytes(dir.file("extra.npy"),
             npyFile("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (1,), }",
                     rawBytes(std::vector<float>{9})));
  writeBytes(dir.file("notes.txt"), "not a tensor");
  ::mkdir(dir.file("subdir.npy").c_str(), 0755);
  OpenSource opened;
  REQUIRE(ac_tensor_source_open(dir.path().c_str(), &opened.source) == AC_OK);
  CHECK(std::string(ac_tensor_source_path(opened.source)) == dir.path());
  checkSource(opened.source, dir.file(kWeightName + ".npy"));
  CHECK_FALSE(ac_tensor_source_has(opened.source, "notes"));
  CHECK_FALSE(ac_tensor_source_has(opened.source, "subdir"));
  CHECK_FALSE(ac_tensor_source_has(opened.source, "../extra"));
}

TEST_CASE("a safetensors source serves its entries", "[source]") {
  TempDir dir;
  std::vector<float> weight = {1, 2, 3, 4, 5, 6};
  std::vector<float> extra = {9};
  int64_t weightShape[] = {2, 3};
  int64_t extraShape[] = {1};
  ac_tensor tensors[2];
  ac_tensor_init_contiguous(&tensors[0], weight.data(), AC_F32, 2, weightShape);
  ac_tensor_init_contiguous(&tensors[1], extra.data(), AC_F32, 1, extraShape);
  const char *names[] = {kWeightName.c_str(), "extra"};
  std::string path = dir.file("weights.safetensors");
  REQUIRE(ac_safetensors_save(path.c_str(), 2, names, tensors) == AC_OK);
  OpenSource opened;
  REQUIRE(ac_tensor_source_open(path.c_str(), &opened.source) == AC_OK);
  checkSource(opened.source, path);
}

TEST_CASE("tensor sources report what cannot be opened", "[source][errors]") {
  TempDir dir;
  OpenSource opened;
  std::string missing = dir.file("missing");
  CHECK(ac_tensor_source_open(missing.c_str(), &opened.source) == AC_ERROR_IO);
  CHECK(lastErrorMentions(missing));
  CHECK(opened.source == nullptr);
  std::string garbage = dir.file("garbage.safetensors");
  writeBytes(garbage, "garbage!garbage");
  CHECK(ac_tensor_source_open(garbage.c_str(), &opened.source) ==
        AC_ERROR_FORMAT);
  CHECK(lastErrorMentions(garbage));

  // Several unknown names: the first is named and the rest counted.
  writeBytes(dir.file("a.npy"), "");
  writeBytes(dir.file("b.npy"), "");
  REQUIRE(ac_tensor_source_open(dir.path().c_str(), &opened.source) == AC_OK);
  CHECK(ac_tensor_source_check_all_requested(opened.source) ==
        AC_ERROR_INVALID_ARGUMENT);
  CHECK(lastErrorMentions("unknown input 'a' in " + dir.path() +
                          " (and 1 more)"));
  // A listed file that is not a valid .npy fails when it is loaded.
  float value;
  int64_t one = 1;
  CHECK(ac_tensor_source_load(opened.source, "a", AC_F32, 1, &one, &value, 4) ==
        AC_ERROR_FORMAT);
  CHECK(lastErrorMentions(dir.file("a.npy")));
}
