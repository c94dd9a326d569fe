//===- cuda_kernel_check.cpp - runs the CUDA kernels and dumps their results =//
//
// For each case: random inputs from a fixed seed, uploaded (possibly as
// transposed views), one kernels.h call on the device, the output copied
// back. Inputs and outputs go to OUTDIR as .npy (f32; f16/bf16 values are
// widened exactly), with one JSON line per case in OUTDIR/manifest.jsonl;
// check_cuda_kernels.py computes the numpy references and compares. Error
// cases (bad shapes that must be rejected) are checked here and recorded in
// the manifest too. Exits non-zero when a CUDA call fails or a kernel rejects
// a valid case.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/cuda.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

//===----------------------------------------------------------------------===//
// f16 and bf16 on the host (round to nearest even, as the kernels)
//===----------------------------------------------------------------------===//

uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0) {
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return bitsToFloat(floatBits(magnitude) | sign);
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint32_t half;
  if (bits >= (127u + 16u) << 23) {
    half = bits > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (bits < 113u << 23) {
    const uint32_t magicBits = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    float rounded = bitsToFloat(bits) + bitsToFloat(magicBits);
    half = floatBits(rounded) - magicBits;
  } else {
    uint32_t mantissaOdd = (bits >> 13) & 1u;
    bits += ((15u - 127u) << 23) + 0xfffu;
    bits += mantissaOdd;
    half = bits >> 13;
  }
  return static_cast<uint16_t>(half | (sign >> 16));
}

float bf16ToFloat(uint16_t value) {
  return bitsToFloat(static_cast<uint32_t>(value) << 16);
}

uint16_t floatToBf16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// `value` rounded to `dtype` and back.
float roundTo(ac_dtype dtype, float value) {
  if (dtype == AC_F16)
    return halfToFloat(floatToHalf(value));
  if (dtype == AC_BF16)
    return bf16ToFloat(floatToBf16(value));
  return value;
}

//===----------------------------------------------------------------------===//
// .npy output (f32, C order), written to a temporary file and renamed
//===----------------------------------------------------------------------===//

bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const std::vector<float> &values) {
  // "(5,)" for rank 1, else "(2, 3)" or "()".
  std::string shapeText = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    shapeText += (i ? ", " : "") + std::to_string(shape[i]);
  shapeText += shape.size() == 1 ? ",)" : ")";
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText;
  dict += ", }";
  // Magic (6) + version (2) + length (2) + header, padded to 64 with '\n'.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string temporary = path + ".tmp";
  std::FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    return false;
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  uint16_t headerLength = static_cast<uint16_t>(dict.size());
  unsigned char lengthBytes[2] = {
      static_cast<unsigned char>(headerLength & 0xff),
      static_cast<unsigned char>(headerLength >> 8)};
  bool ok = std::fwrite(magic, 1, 8, file) == 8 &&
            std::fwrite(lengthBytes, 1, 2, file) == 2 &&
            std::fwrite(dict.data(), 1, dict.size(), file) == dict.size() &&
            std::fwrite(values.data(), sizeof(float), values.size(), file) ==
                values.size();
  ok &= std::fclose(file) == 0;
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Device tensors
//===----------------------------------------------------------------------===//

// A device buffer holding a contiguous "storage" array and the (possibly
// permuted) view of it a kernel sees: view dimension i is storage dimension
// perm[i], as numpy.transpose(storage, perm).
struct DeviceTensor {
  std::string file; // the .npy of the storage array
  std::vector<int64_t> storageShape;
  std::vector<int64_t> perm; // empty: the identity
  ac_tensor view{};
  void *device = nullptr;
  size_t count = 0;
};

std::string jsonInts(const std::vector<int64_t> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

class Checker {
public:
  explicit Checker(std::string directory) : directory(std::move(directory)) {}
  ~Checker() {
    for (void *buffer : buffers)
      cudaFree(buffer);
  }

  int failures = 0;
  int cases = 0;
  std::vector<std::string> manifest;

  // A random input of logical shape `shape` stored as its permutation by
  // `perm` (the view undoes it). Values in [low, high), rounded to `dtype`.
  DeviceTensor input(const std::string &name, std::vector<int64_t> shape,
                     ac_dtype dtype = AC_F32, std::vector<int64_t> perm = {},
                     float low = -2.0f, float high = 2.0f) {
    DeviceTensor tensor = allocate(name, shape, dtype, perm);
    std::uniform_real_distribution<float> distribution(low, high);
    std::vector<float> values(tensor.count);
    for (float &value : values)
      value = roundTo(dtype, distribution(rng));
    upload(tensor, values);
    if (!writeNpy(directory + "/" + tensor.file, tensor.storageShape, values))
      fail("cannot write " + tensor.file);
    return tensor;
  }

  // An output of logical shape `shape`, filled with a sentinel that no
  // kernel result equals.
  DeviceTensor output(const std::string &name, std::vector<int64_t> shape,
                      ac_dtype dtype = AC_F32, std::vector<int64_t> perm = {}) {
    DeviceTensor tensor = allocate(name, shape, dtype, perm);
    upload(tensor, std::vector<float>(tensor.count, 12345.0f));
    return tensor;
  }

  // Runs `call`; on success downloads `out` and records the case.
  void run(const std::string &name, const std::string &kernel,
           const std::string &params, const std::vector<DeviceTensor> &inputs,
           DeviceTensor &out, const std::function<ac_status()> &call) {
    ++cases;
    ac_status status = call();
    if (status != AC_OK) {
      fail(name + ": " + kernel + " failed: " + ac_last_error());
      return;
    }
    if (ac_cuda_synchronize() != AC_OK) {
      fail(name + ": " + ac_last_error());
      return;
    }
    std::vector<float> values = download(out);
    if (!writeNpy(directory + "/" + out.file, out.storageShape, values)) {
      fail("cannot write " + out.file);
      return;
    }
    std::ostringstream line;
    line << "{\"name\": \"" << name << "\", \"kernel\": \"" << kernel
         << "\", \"dtype\": \"" << ac_dtype_name(out.view.dtype)
         << "\", \"params\": {" << params << "}, \"inputs\": [";
    for (size_t i = 0; i < inputs.size(); ++i)
      line << (i ? ", " : "") << describeFile(inputs[i]);
    line << "], \"output\": " << describeFile(out) << "}";
    manifest.push_back(line.str());
  }

  // A call that must be rejected with an error status.
  void expectError(const std::string &name, ac_status status) {
    ++cases;
    bool rejected = status != AC_OK;
    if (!rejected)
      std::fprintf(stderr, "error check %s: accepted an invalid call\n",
                   name.c_str());
    else
      std::printf("error check %s: %s\n", name.c_str(), ac_last_error());
    manifest.push_back("{\"name\": \"" + name +
                       "\", \"kernel\": \"error_check\", \"passed\": " +
                       (rejected ? "true" : "false") + "}");
  }

  // Two device outputs must agree bit for bit in their first `count`
  // elements (the same dtype).
  void expectEqualBits(const std::string &name, const DeviceTensor &a,
                       const DeviceTensor &b, size_t count) {
    ++cases;
    const size_t bytes = count * ac_dtype_size(a.view.dtype);
    std::vector<unsigned char> first(bytes), second(bytes);
    bool equal = cudaMemcpy(first.data(), a.device, bytes,
                            cudaMemcpyDeviceToHost) == cudaSuccess &&
                 cudaMemcpy(second.data(), b.device, bytes,
                            cudaMemcpyDeviceToHost) == cudaSuccess &&
                 first == second;
    if (!equal)
      std::fprintf(stderr, "bitwise check %s: results differ\n", name.c_str());
    manifest.push_back("{\"name\": \"" + name +
                       "\", \"kernel\": \"bitwise_check\", \"passed\": " +
                       (equal ? "true" : "false") + "}");
  }

  bool writeManifest() {
    std::string path = directory + "/manifest.jsonl";
    std::string temporary = path + ".tmp";
    std::FILE *file = std::fopen(temporary.c_str(), "w");
    if (!file)
      return false;
    bool ok = true;
    for (const std::string &line : manifest)
      ok &= std::fprintf(file, "%s\n", line.c_str()) > 0;
    ok &= std::fclose(file) == 0;
    if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
      std::remove(temporary.c_str());
      return false;
    }
    return true;
  }

  void fail(const std::string &message) {
    std::fprintf(stderr, "FAILED: %s\n", message.c_str());
    ++failures;
  }

private:
  std::string directory;
  std::mt19937 rng{20261127};
  std::vector<void *> buffers;

  DeviceTensor allocate(const std::string &name,
                        const std::vector<int64_t> &shape, ac_dtype dtype,
                        const std::vector<int64_t> &perm) {
    DeviceTensor tensor;
    tensor.file = name + ".npy";
    tensor.perm = perm;
    int rank = static_cast<int>(shape.size());
    tensor.storageShape = shape;
    if (!perm.empty())
      for (int dim = 0; dim < rank; ++dim)
        tensor.storageShape[perm[dim]] = shape[dim];
    ac_tensor storage;
    ac_tensor_init_contiguous(&storage, nullptr, dtype, rank,
                              tensor.storageShape.data());
    tensor.count = static_cast<size_t>(ac_tensor_num_elements(&storage));
    size_t bytes = std::max<size_t>(tensor.count, 1) * ac_dtype_size(dtype);
    if (cudaMalloc(&tensor.device, bytes) != cudaSuccess) {
      fail("cudaMalloc of " + std::to_string(bytes) + " bytes");
      tensor.device = nullptr;
    } else {
      buffers.push_back(tensor.device);
    }
    storage.data = tensor.device;
    tensor.view = storage;
    for (int dim = 0; dim < rank; ++dim) {
      int64_t source = perm.empty() ? dim : perm[dim];
      tensor.view.sizes[dim] = storage.sizes[source];
      tensor.view.strides[dim] = storage.strides[source];
    }
    return tensor;
  }

  void upload(const DeviceTensor &tensor, const std::vector<float> &values) {
    if (!tensor.device)
      return;
    cudaError_t error;
    if (tensor.view.dtype == AC_F32) {
      error = cudaMemcpy(tensor.device, values.data(),
                         values.size() * sizeof(float), cudaMemcpyHostToDevice);
    } else {
      std::vector<uint16_t> bits(values.size());
      for (size_t i = 0; i < values.size(); ++i)
        bits[i] = tensor.view.dtype == AC_F16 ? floatToHalf(values[i])
                                              : floatToBf16(values[i]);
      error =
          cudaMemcpy(tensor.device, bits.data(), bits.size() * sizeof(uint16_t),
                     cudaMemcpyHostToDevice);
    }
    if (error != cudaSuccess)
      fail(std::string("cudaMemcpy to the device: ") +
           cudaGetErrorString(error));
  }

  std::vector<float> download(const DeviceTensor &tensor) {
    std::vector<float> values(tensor.count);
    if (!tensor.device)
      return values;
    cudaError_t error;
    if (tensor.view.dtype == AC_F32) {
      error = cudaMemcpy(values.data(), tensor.device,
                         values.size() * sizeof(float), cudaMemcpyDeviceToHost);
    } else {
      std::vector<uint16_t> bits(values.size());
      error =
          cudaMemcpy(bits.data(), tensor.device, bits.size() * sizeof(uint16_t),
                     cudaMemcpyDeviceToHost);
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = tensor.view.dtype == AC_F16 ? halfToFloat(bits[i])
                                                : bf16ToFloat(bits[i]);
    }
    if (error != cudaSuccess)
      fail(std::string("cudaMemcpy to the host: ") + cudaGetErrorString(error));
    return values;
  }

  static std::string describeFile(const DeviceTensor &tensor) {
    return "{\"file\": \"" + tensor.file + "\", \"perm\": " +
           (tensor.perm.empty() ? "null" : jsonInts(tensor.perm)) + "}";
  }
};

const char *const kUnaryNames[] = {"exp",  "sqrt",     "rsqrt", "neg",
                                   "relu", "sigmoid",  "silu",  "tanh",
                                   "gelu", "gelu_tanh"};
const char *const kBinaryNames[] = {"add", "sub", "mul", "div"};
const char *const kReduceNames[] = {"sum", "mean", "max"};

void addElementwiseCases(Checker &check) {
  for (int kind = AC_UNARY_EXP; kind <= AC_UNARY_GELU_TANH; ++kind) {
    std::string name = std::string("unary_") + kUnaryNames[kind];
    bool positive = kind == AC_UNARY_SQRT || kind == AC_UNARY_RSQRT;
    // Transposed input for every other kind.
    std::vector<int64_t> perm;
    if (kind % 2)
      perm = {1, 0};
    DeviceTensor in = check.input(name + "_in", {4, 33}, AC_F32, perm,
                                  positive ? 0.25f : -4.0f, 4.0f);
    DeviceTensor out = check.output(name + "_out", {4, 33});
    check.run(name, "unary",
              std::string("\"kind\": \"") + kUnaryNames[kind] + "\"", {in}, out,
              [&] {
                return ac_unary(static_cast<ac_unary_kind>(kind), &in.view,
                                &out.view);
              });
  }
  for (ac_dtype dtype : {AC_F16, AC_BF16}) {
    std::string name = std::string("unary_gelu_") + ac_dtype_name(dtype);
    DeviceTensor in = check.input(name + "_in", {3, 50}, dtype);
    DeviceTensor out = check.output(name + "_out", {3, 50}, dtype);
    check.run(name, "unary", "\"kind\": \"gelu\"", {in}, out,
              [&] { return ac_unary(AC_UNARY_GELU, &in.view, &out.view); });
  }
  {
    DeviceTensor in = check.input("scale_in", {5, 7}, AC_F32, {1, 0});
    DeviceTensor out = check.output("scale_out", {5, 7});
    check.run("scale", "scale", "\"factor\": 0.37", {in}, out,
              [&] { return ac_scale(&in.view, &out.view, 0.37); });
  }
  for (int kind = AC_BINARY_ADD; kind <= AC_BINARY_DIV; ++kind) {
    std::string name = std::string("binary_") + kBinaryNames[kind];
    DeviceTensor lhs = check.input(name + "_lhs", {3, 1, 5});
    DeviceTensor rhs =
        check.input(name + "_rhs", {4, 1}, AC_F32, {}, 0.5f, 2.0f);
    DeviceTensor out = check.output(name + "_out", {3, 4, 5});
    check.run(name, "binary",
              std::string("\"kind\": \"") + kBinaryNames[kind] + "\"",
              {lhs, rhs}, out, [&] {
                return ac_binary(static_cast<ac_binary_kind>(kind), &lhs.view,
                                 &rhs.view, &out.view);
              });
  }
  {
    DeviceTensor lhs =
        check.input("binary_strided_lhs", {6, 8}, AC_F32, {1, 0});
    DeviceTensor rhs = check.input("binary_strided_rhs", {8});
    DeviceTensor out =
        check.output("binary_strided_out", {6, 8}, AC_F32, {1, 0});
    check.run(
        "binary_strided", "binary", "\"kind\": \"mul\"", {lhs, rhs}, out, [&] {
          return ac_binary(AC_BINARY_MUL, &lhs.view, &rhs.view, &out.view);
        });
  }
  {
    DeviceTensor lhs = check.input("binary_f16_lhs", {4, 9}, AC_F16);
    DeviceTensor rhs = check.input("binary_f16_rhs", {4, 9}, AC_F16);
    DeviceTensor out = check.output("binary_f16_out", {4, 9}, AC_F16);
    check.run(
        "binary_f16", "binary", "\"kind\": \"add\"", {lhs, rhs}, out, [&] {
          return ac_binary(AC_BINARY_ADD, &lhs.view, &rhs.view, &out.view);
        });
  }
  struct MaskCase {
    const char *name;
    int64_t rowOffset, colOffset, diagonal;
  };
  for (MaskCase mask : {MaskCase{"causal_mask", 0, 0, 0},
                        MaskCase{"causal_mask_offsets", 3, 2, -1}}) {
    std::string name = mask.name;
    DeviceTensor in = check.input(name + "_in", {2, 5, 7});
    DeviceTensor out = check.output(name + "_out", {2, 5, 7});
    check.run(name, "causal_mask",
              "\"row_offset\": " + std::to_string(mask.rowOffset) +
                  ", \"col_offset\": " + std::to_string(mask.colOffset) +
                  ", \"diagonal\": " + std::to_string(mask.diagonal),
              {in}, out, [&] {
                return ac_causal_mask(&in.view, &out.view, mask.rowOffset,
                                      mask.colOffset, mask.diagonal);
              });
  }
}

void addContractionCases(Checker &check) {
  struct MatmulCase {
    std::string name;
    std::vector<int64_t> lhs, rhs, out;
    int transposeA, transposeB;
    std::vector<int64_t> lhsPerm, outPerm;
    ac_dtype dtype;
  };
  std::vector<MatmulCase> matmuls = {
      {"matmul",
       {2, 3, 16, 24},
       {24, 20},
       {2, 3, 16, 20},
       0,
       0,
       {},
       {},
       AC_F32},
      {"matmul_ta",
       {3, 24, 16},
       {3, 24, 20},
       {3, 16, 20},
       1,
       0,
       {},
       {},
       AC_F32},
      {"matmul_tb", {3, 16, 24}, {20, 24}, {3, 16, 20}, 0, 1, {}, {}, AC_F32},
      {"matmul_tab", {24, 16}, {20, 24}, {16, 20}, 1, 1, {}, {}, AC_F32},
      {"matmul_broadcast",
       {2, 1, 8, 12},
       {3, 12, 10},
       {2, 3, 8, 10},
       0,
       0,
       {},
       {},
       AC_F32},
      // Batch dimensions that do not collapse: packed first.
      {"matmul_packed",
       {4, 3, 8, 12},
       {4, 3, 12, 10},
       {4, 3, 8, 10},
       0,
       0,
       {1, 0, 2, 3},
       {},
       AC_F32},
      // A column-major output and a transposed-by-view lhs.
      {"matmul_col_out",
       {9, 13},
       {13, 11},
       {9, 11},
       0,
       0,
       {1, 0},
       {1, 0},
       AC_F32},
      // An output that is neither row- nor column-major: staged.
      {"matmul_staged_out",
       {2, 6, 5},
       {2, 5, 7},
       {2, 6, 7},
       0,
       0,
       {},
       {1, 0, 2},
       AC_F32},
      {"matmul_k0", {3, 0}, {0, 4}, {3, 4}, 0, 0, {}, {}, AC_F32},
      {"matmul_f16", {2, 16, 32}, {2, 32, 8}, {2, 16, 8}, 0, 0, {}, {}, AC_F16},
      {"matmul_bf16", {2, 16, 32}, {32, 8}, {2, 16, 8}, 0, 0, {}, {}, AC_BF16},
      // More batches than one cuBLAS call takes (groups of 65535).
      {"matmul_many_batches",
       {70000, 2, 3},
       {70000, 3, 2},
       {70000, 2, 2},
       0,
       0,
       {},
       {},
       AC_F32},
  };
  for (MatmulCase &c : matmuls) {
    DeviceTensor lhs = check.input(c.name + "_lhs", c.lhs, c.dtype, c.lhsPerm);
    DeviceTensor rhs = check.input(c.name + "_rhs", c.rhs, c.dtype);
    DeviceTensor out = check.output(c.name + "_out", c.out, c.dtype, c.outPerm);
    check.run(c.name, "matmul",
              "\"transpose_a\": " + std::to_string(c.transposeA) +
                  ", \"transpose_b\": " + std::to_string(c.transposeB),
              {lhs, rhs}, out, [&] {
                return ac_matmul(&lhs.view, &rhs.view, &out.view, c.transposeA,
                                 c.transposeB);
              });
  }

  struct LinearCase {
    std::string name;
    std::vector<int64_t> input;
    int64_t outFeatures;
    bool bias;
    std::vector<int64_t> inputPerm, outPerm;
    ac_dtype dtype;
  };
  std::vector<LinearCase> linears = {
      {"linear", {2, 5, 32}, 48, true, {}, {}, AC_F32},
      {"linear_nobias", {7, 32}, 16, false, {}, {}, AC_F32},
      {"linear_rank1", {32}, 16, true, {}, {}, AC_F32},
      // Leading dimensions that do not collapse: one GEMM per batch.
      {"linear_batched", {5, 2, 32}, 24, true, {1, 0, 2}, {}, AC_F32},
      {"linear_strided_out", {6, 32}, 12, true, {}, {1, 0}, AC_F32},
      {"linear_f16", {4, 64}, 32, true, {}, {}, AC_F16},
      {"linear_bf16", {4, 64}, 32, true, {}, {}, AC_BF16},
  };
  for (LinearCase &c : linears) {
    std::vector<int64_t> outShape = c.input;
    outShape.back() = c.outFeatures;
    DeviceTensor in =
        check.input(c.name + "_in", c.input, c.dtype, c.inputPerm);
    DeviceTensor weight = check.input(c.name + "_weight",
                                      {c.outFeatures, c.input.back()}, c.dtype);
    std::vector<DeviceTensor> inputs = {in, weight};
    if (c.bias)
      inputs.push_back(check.input(c.name + "_bias", {c.outFeatures}, c.dtype));
    DeviceTensor out =
        check.output(c.name + "_out", outShape, c.dtype, c.outPerm);
    check.run(c.name, "linear", "", inputs, out, [&] {
      return ac_linear(&in.view, &weight.view,
                       c.bias ? &inputs[2].view : nullptr, &out.view);
    });
  }

  struct EinsumCase {
    std::string name, equation;
    std::vector<std::vector<int64_t>> inputs;
    std::vector<int64_t> out;
    std::vector<int64_t> firstPerm;
  };
  std::vector<EinsumCase> einsums = {
      {"einsum_bmm", "bik,bkj->bij", {{3, 8, 12}, {3, 12, 10}}, {3, 8, 10}, {}},
      {"einsum_attention",
       "bhqd,bhkd->bhqk",
       {{2, 3, 9, 16}, {2, 3, 11, 16}},
       {2, 3, 9, 11},
       {}},
      {"einsum_private", "ijk,jl->il", {{5, 6, 4}, {6, 7}}, {5, 7}, {}},
      {"einsum_outer", "i,j->ij", {{5}, {7}}, {5, 7}, {}},
      {"einsum_permuted_out",
       "bij,bjk->kbi",
       {{2, 4, 6}, {2, 6, 5}},
       {5, 2, 4},
       {}},
      {"einsum_split_batch",
       "xayb,xbyc->xyac",
       {{2, 5, 3, 6}, {2, 6, 3, 4}},
       {2, 3, 5, 4},
       {}},
      {"einsum_transposed_in", "ij,jk->ik", {{6, 9}, {9, 4}}, {6, 4}, {1, 0}},
      {"einsum_sum", "ij->j", {{7, 9}}, {9}, {}},
      {"einsum_permute", "ijk->kij", {{3, 4, 5}}, {5, 3, 4}, {}},
  };
  for (EinsumCase &c : einsums) {
    std::vector<DeviceTensor> inputs;
    for (size_t i = 0; i < c.inputs.size(); ++i)
      inputs.push_back(
          check.input(c.name + "_in" + std::to_string(i), c.inputs[i], AC_F32,
                      i == 0 ? c.firstPerm : std::vector<int64_t>{}));
    DeviceTensor out = check.output(c.name + "_out", c.out);
    check.run(c.name, "einsum", "\"equation\": \"" + c.equation + "\"", inputs,
              out, [&] {
                const ac_tensor *views[2] = {&inputs[0].view,
                                             inputs.size() > 1 ? &inputs[1].view
                                                               : nullptr};
                return ac_einsum(c.equation.c_str(), views,
                                 static_cast<int>(inputs.size()), &out.view);
              });
  }
}

void addNormalizationCases(Checker &check) {
  struct SoftmaxCase {
    std::string name;
    std::vector<int64_t> shape;
    int64_t axis;
    std::vector<int64_t> perm;
    ac_dtype dtype;
  };
  for (SoftmaxCase &c : std::vector<SoftmaxCase>{
           {"softmax", {4, 6, 33}, 2, {}, AC_F32},
           {"softmax_axis1", {4, 6, 33}, 1, {}, AC_F32},
           {"softmax_strided", {5, 40}, 1, {1, 0}, AC_F32},
           {"softmax_long", {3, 1000}, 1, {}, AC_F32},
           {"softmax_f16", {4, 64}, 1, {}, AC_F16},
           // More rows than blocks: the grid-stride loop.
           {"softmax_many_rows", {1100000, 3}, 1, {}, AC_F32}}) {
    DeviceTensor in =
        check.input(c.name + "_in", c.shape, c.dtype, c.perm, -6.0f, 6.0f);
    DeviceTensor out = check.output(c.name + "_out", c.shape, c.dtype);
    check.run(c.name, "softmax", "\"axis\": " + std::to_string(c.axis), {in},
              out, [&] { return ac_softmax(&in.view, &out.view, c.axis); });
  }

  struct LayerNormCase {
    std::string name;
    std::vector<int64_t> shape;
    int64_t axis;
    bool weight, bias;
    std::vector<int64_t> perm;
    ac_dtype dtype;
  };
  for (LayerNormCase &c : std::vector<LayerNormCase>{
           {"layer_norm", {4, 7, 64}, 2, true, true, {}, AC_F32},
           {"layer_norm_axis1", {4, 7, 64}, 1, true, false, {}, AC_F32},
           {"layer_norm_plain", {6, 300}, 1, false, false, {}, AC_F32},
           {"layer_norm_strided", {8, 24}, 1, true, true, {1, 0}, AC_F32},
           {"layer_norm_f16", {4, 64}, 1, true, true, {}, AC_F16},
           {"layer_norm_bf16", {4, 64}, 1, true, true, {}, AC_BF16}}) {
    DeviceTensor in = check.input(c.name + "_in", c.shape, c.dtype, c.perm);
    std::vector<int64_t> affineShape(c.shape.begin() + c.axis, c.shape.end());
    std::vector<DeviceTensor> inputs = {in};
    const ac_tensor *weight = nullptr, *bias = nullptr;
    if (c.weight)
      inputs.push_back(check.input(c.name + "_weight", affineShape, c.dtype));
    if (c.bias)
      inputs.push_back(check.input(c.name + "_bias", affineShape, c.dtype));
    if (c.weight)
      weight = &inputs[1].view;
    if (c.bias)
      bias = &inputs.back().view;
    DeviceTensor out = check.output(c.name + "_out", c.shape, c.dtype);
    check.run(c.name, "layer_norm",
              "\"axis\": " + std::to_string(c.axis) +
                  ", \"eps\": 1e-05, \"has_weight\": " +
                  (c.weight ? "true" : "false") +
                  ", \"has_bias\": " + (c.bias ? "true" : "false"),
              inputs, out, [&] {
                return ac_layer_norm(&in.view, weight, bias, &out.view, c.axis,
                                     1e-5);
              });
  }

  struct ReduceCase {
    std::string name;
    ac_reduce_kind kind;
    std::vector<int64_t> shape, axes, out;
    int keepDims;
    std::vector<int64_t> perm;
  };
  for (ReduceCase &c : std::vector<ReduceCase>{
           {"reduce_sum", AC_REDUCE_SUM, {3, 5, 7}, {1}, {3, 7}, 0, {}},
           {"reduce_mean_keep",
            AC_REDUCE_MEAN,
            {3, 5, 7},
            {0, 2},
            {1, 5, 1},
            1,
            {}},
           {"reduce_max", AC_REDUCE_MAX, {3, 5, 7}, {2}, {3, 5}, 0, {}},
           {"reduce_all", AC_REDUCE_SUM, {4, 300}, {0, 1}, {}, 0, {}},
           {"reduce_strided", AC_REDUCE_MEAN, {6, 9}, {1}, {6}, 0, {1, 0}}}) {
    DeviceTensor in = check.input(c.name + "_in", c.shape, AC_F32, c.perm);
    DeviceTensor out = check.output(c.name + "_out", c.out);
    check.run(c.name, "reduce",
              std::string("\"kind\": \"") + kReduceNames[c.kind] +
                  "\", \"axes\": " + jsonInts(c.axes) +
                  ", \"keep_dims\": " + std::to_string(c.keepDims),
              {in}, out, [&] {
                return ac_reduce(c.kind, &in.view, &out.view, c.axes.data(),
                                 static_cast<int>(c.axes.size()), c.keepDims);
              });
  }
}

void addDataMovementCases(Checker &check) {
  {
    DeviceTensor in = check.input("copy_in", {4, 6, 5}, AC_F32, {2, 0, 1});
    DeviceTensor out = check.output("copy_out", {4, 6, 5});
    check.run("copy", "copy", "", {in}, out,
              [&] { return ac_copy(&in.view, &out.view); });
  }
  {
    DeviceTensor in = check.input("copy_f16_in", {7, 5}, AC_F16, {1, 0});
    DeviceTensor out = check.output("copy_f16_out", {7, 5}, AC_F16);
    check.run("copy_f16", "copy", "", {in}, out,
              [&] { return ac_copy(&in.view, &out.view); });
  }
  {
    std::vector<int64_t> perm = {2, 0, 1};
    DeviceTensor in = check.input("transpose_in", {3, 4, 5});
    DeviceTensor out = check.output("transpose_out", {5, 3, 4});
    check.run("transpose", "transpose", "\"perm\": [2, 0, 1]", {in}, out,
              [&] { return ac_transpose(&in.view, &out.view, perm.data()); });
  }
  {
    DeviceTensor in = check.input("broadcast_in", {1, 5});
    DeviceTensor out = check.output("broadcast_out", {3, 4, 5});
    check.run("broadcast", "broadcast", "", {in}, out,
              [&] { return ac_broadcast(&in.view, &out.view); });
  }
  {
    std::vector<int64_t> starts = {1, 2}, strides = {2, 3};
    DeviceTensor in = check.input("slice_in", {10, 12});
    DeviceTensor out = check.output("slice_out", {4, 3});
    check.run("slice", "slice", "\"starts\": [1, 2], \"strides\": [2, 3]", {in},
              out, [&] {
                return ac_slice(&in.view, &out.view, starts.data(),
                                strides.data());
              });
  }
  {
    DeviceTensor a = check.input("concat_in0", {3, 2, 4});
    DeviceTensor b = check.input("concat_in1", {3, 5, 4}, AC_F32, {1, 0, 2});
    DeviceTensor c = check.input("concat_in2", {3, 1, 4});
    DeviceTensor out = check.output("concat_out", {3, 8, 4});
    check.run("concat", "concat", "\"axis\": 1", {a, b, c}, out, [&] {
      const ac_tensor *views[3] = {&a.view, &b.view, &c.view};
      return ac_concat(views, 3, &out.view, 1);
    });
  }
  struct ReshapeCase {
    std::string name;
    std::vector<int64_t> in, out, inPerm, outPerm;
  };
  for (ReshapeCase &c : std::vector<ReshapeCase>{
           {"reshape", {3, 4, 5}, {6, 10}, {}, {}},
           {"reshape_strided_in", {4, 6}, {2, 12}, {1, 0}, {}},
           {"reshape_strided_out", {4, 6}, {3, 8}, {}, {1, 0}},
           {"reshape_staged", {4, 6}, {3, 8}, {1, 0}, {1, 0}}}) {
    DeviceTensor in = check.input(c.name + "_in", c.in, AC_F32, c.inPerm);
    DeviceTensor out = check.output(c.name + "_out", c.out, AC_F32, c.outPerm);
    check.run(c.name, "reshape", "", {in}, out,
              [&] { return ac_reshape(&in.view, &out.view); });
  }
}

// A view of rows [first, first + count) along dimension rank - 2 of `view`
// (a query chunk of a larger tensor).
ac_tensor rowSlice(const ac_tensor &view, int64_t first, int64_t count) {
  ac_tensor slice = view;
  const int rows = view.rank - 2;
  slice.data = static_cast<char *>(view.data) +
               first * view.strides[rows] * ac_dtype_size(view.dtype);
  slice.sizes[rows] = count;
  return slice;
}

void addAttentionCases(Checker &check) {
  struct AttentionCase {
    std::string name;
    ac_dtype dtype;
    std::vector<int64_t> batch; // leading dimensions
    int64_t queries, keys, depth, valueDepth;
    bool causal;
    int64_t rowOffset, diagonal;
    std::vector<int64_t> biasShape; // empty: no bias
    // Rows [sliceFirst, sliceFirst + queries) of a query tensor with
    // `sliceRows` rows (0: no slice, q has `queries` rows).
    int64_t sliceRows, sliceFirst;
    std::vector<int64_t> qPerm, kPerm, vPerm;
  };
  const std::vector<int64_t> none;
  const std::vector<AttentionCase> cases = {
      {"attention_plain",
       AC_F32,
       {2, 3},
       70,
       90,
       64,
       64,
       false,
       0,
       0,
       {},
       0,
       0,
       none,
       none,
       none},
      {"attention_causal",
       AC_F32,
       {3},
       130,
       130,
       64,
       64,
       true,
       0,
       0,
       {},
       0,
       0,
       none,
       none,
       none},
      // A query chunk: rows 64..135 of 200, with the chunk's row offset and
      // a negative diagonal.
      {"attention_causal_chunk",
       AC_F32,
       {2},
       72,
       200,
       64,
       64,
       true,
       64,
       -3,
       {},
       200,
       64,
       none,
       none,
       none},
      // Evoformer-style pair bias [heads, M, N] broadcast over dim 0.
      {"attention_bias_broadcast",
       AC_F32,
       {5, 2},
       40,
       50,
       32,
       32,
       false,
       0,
       0,
       {2, 40, 50},
       0,
       0,
       none,
       none,
       none},
      // D != E, odd sizes, a bias broadcast along the keys, diagonal > 0.
      {"attention_odd_depths",
       AC_F32,
       {2},
       33,
       77,
       24,
       40,
       true,
       0,
       5,
       {33, 1},
       0,
       0,
       none,
       none,
       none},
      // [B, M, H, D] storage viewed as [B, H, M, D]; keys with a strided
      // last dimension (the element-wise load path).
      {"attention_transposed",
       AC_F32,
       {2, 3},
       50,
       45,
       32,
       32,
       false,
       0,
       0,
       {3, 50, 45},
       0,
       0,
       {0, 2, 1, 3},
       {0, 1, 3, 2},
       {0, 2, 1, 3}},
      // More value columns than one slice (128), and a D not a multiple of 4.
      {"attention_wide_values",
       AC_F32,
       {2},
       20,
       30,
       6,
       160,
       false,
       0,
       0,
       {},
       0,
       0,
       none,
       none,
       none},
      {"attention_depth128",
       AC_F32,
       {2},
       100,
       100,
       128,
       128,
       true,
       0,
       0,
       {100, 100},
       0,
       0,
       none,
       none,
       none},
      // Enough query tiles for the 128-row tiles; keys past a diagonal.
      {"attention_tall_tiles",
       AC_F32,
       {150, 2},
       130,
       150,
       32,
       32,
       true,
       20,
       0,
       {2, 130, 150},
       0,
       0,
       none,
       none,
       none},
      {"attention_single",
       AC_F32,
       {},
       1,
       1,
       1,
       1,
       false,
       0,
       0,
       {},
       0,
       0,
       none,
       none,
       none},
      {"attention_f16",
       AC_F16,
       {2, 2},
       64,
       64,
       64,
       64,
       true,
       0,
       0,
       {2, 64, 64},
       0,
       0,
       none,
       none,
       none},
      {"attention_bf16",
       AC_BF16,
       {2, 2},
       64,
       64,
       64,
       64,
       true,
       0,
       0,
       {2, 64, 64},
       0,
       0,
       none,
       none,
       none},
      {"attention_bf16_odd",
       AC_BF16,
       {3},
       40,
       57,
       24,
       40,
       false,
       0,
       0,
       {40, 57},
       0,
       0,
       none,
       none,
       none},
      {"attention_f16_strided",
       AC_F16,
       {2, 3},
       50,
       45,
       32,
       32,
       true,
       0,
       0,
       {},
       0,
       0,
       {0, 2, 1, 3},
       {0, 1, 3, 2},
       {0, 2, 1, 3}},
  };
  for (const AttentionCase &c : cases) {
    auto shapeOf = [&](int64_t rows, int64_t columns) {
      std::vector<int64_t> shape = c.batch;
      shape.push_back(rows);
      shape.push_back(columns);
      return shape;
    };
    const int64_t qRows = c.sliceRows ? c.sliceRows : c.queries;
    DeviceTensor q =
        check.input(c.name + "_q", shapeOf(qRows, c.depth), c.dtype, c.qPerm);
    DeviceTensor k =
        check.input(c.name + "_k", shapeOf(c.keys, c.depth), c.dtype, c.kPerm);
    DeviceTensor v = check.input(c.name + "_v", shapeOf(c.keys, c.valueDepth),
                                 c.dtype, c.vPerm);
    std::vector<DeviceTensor> inputs = {q, k, v};
    if (!c.biasShape.empty())
      inputs.push_back(
          check.input(c.name + "_bias", c.biasShape, c.dtype, {}, -3.0f, 3.0f));
    DeviceTensor out = check.output(c.name + "_out",
                                    shapeOf(c.queries, c.valueDepth), c.dtype);
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.depth));
    std::ostringstream params;
    params << "\"scale\": " << std::setprecision(17) << scale
           << ", \"causal\": " << (c.causal ? "true" : "false")
           << ", \"row_offset\": " << c.rowOffset
           << ", \"diagonal\": " << c.diagonal
           << ", \"has_bias\": " << (c.biasShape.empty() ? "false" : "true")
           << ", \"q_rows\": [" << c.sliceFirst << ", "
           << c.sliceFirst + c.queries << "]";
    check.run(c.name, "attention", params.str(), inputs, out, [&] {
      const ac_tensor query =
          c.sliceRows ? rowSlice(q.view, c.sliceFirst, c.queries) : q.view;
      return ac_attention(&query, &k.view, &v.view,
                          c.biasShape.empty() ? nullptr : &inputs[3].view,
                          &out.view, scale, c.causal, c.rowOffset, c.diagonal);
    });
  }

  // Chunked calls give the unchunked call's bits: query chunks (at offsets
  // that no tile height divides, so tiles hold other rows) and a chunk of
  // the leading dimension, with causal masking and a broadcast bias; the
  // whole call runs with 128-row tiles, the chunks with 64-row ones.
  {
    const int64_t batch = 600, rows = 256, depth = 32;
    DeviceTensor q = check.input("attention_bits_q", {batch, rows, depth});
    DeviceTensor k = check.input("attention_bits_k", {batch, rows, depth});
    DeviceTensor v = check.input("attention_bits_v", {batch, rows, depth});
    DeviceTensor bias = check.input("attention_bits_bias", {rows, rows});
    DeviceTensor whole =
        check.output("attention_bits_whole", {batch, rows, depth});
    DeviceTensor part =
        check.output("attention_bits_part", {batch, rows, depth});
    const double scale = 0.17677669529663687;
    bool ok = ac_attention(&q.view, &k.view, &v.view, &bias.view, &whole.view,
                           scale, 1, 0, 0) == AC_OK;
    // Rows in chunks of 80 (the last one 16), each batch entry on its own.
    for (int64_t entry = 0; ok && entry < 8; ++entry)
      for (int64_t first = 0; ok && first < rows; first += 80) {
        const int64_t count = std::min<int64_t>(80, rows - first);
        auto entryView = [&](const ac_tensor &view) {
          ac_tensor one = view;
          one.data = static_cast<char *>(view.data) +
                     entry * view.strides[0] * ac_dtype_size(view.dtype);
          one.sizes[0] = 1;
          return one;
        };
        ac_tensor qChunk = rowSlice(entryView(q.view), first, count);
        ac_tensor outChunk = rowSlice(entryView(part.view), first, count);
        ac_tensor kEntry = entryView(k.view), vEntry = entryView(v.view);
        ac_tensor biasChunk = rowSlice(bias.view, first, count);
        ok = ac_attention(&qChunk, &kEntry, &vEntry, &biasChunk, &outChunk,
                          scale, 1, first, 0) == AC_OK;
      }
    if (!ok)
      check.fail(std::string("attention_bits: ") + ac_last_error());
    else if (ac_cuda_synchronize() != AC_OK)
      check.fail(std::string("attention_bits: ") + ac_last_error());
    else
      check.expectEqualBits("attention_chunked_bits", whole, part,
                            8 * rows * depth);
  }
}

// Invalid calls must come back as errors, before any launch.
void addErrorCases(Checker &check) {
  DeviceTensor a = check.input("error_a", {3, 4});
  DeviceTensor b = check.input("error_b", {5, 6});
  DeviceTensor out = check.output("error_out", {3, 6});
  check.expectError("binary_no_broadcast",
                    ac_binary(AC_BINARY_ADD, &a.view, &b.view, &out.view));
  check.expectError("matmul_k_mismatch",
                    ac_matmul(&a.view, &b.view, &out.view, 0, 0));
  const ac_tensor *views[2] = {&a.view, &b.view};
  check.expectError("einsum_no_arrow", ac_einsum("ij,jk", views, 2, &out.view));
  check.expectError("einsum_size_mismatch",
                    ac_einsum("ij,jk->ik", views, 2, &out.view));
  check.expectError("softmax_bad_axis", ac_softmax(&a.view, &a.view, 2));
  int64_t axes[1] = {3};
  check.expectError("reduce_bad_axis",
                    ac_reduce(AC_REDUCE_SUM, &a.view, &out.view, axes, 1, 0));
  ac_tensor f16 = out.view;
  f16.dtype = AC_F16;
  check.expectError("copy_dtype_mismatch", ac_copy(&a.view, &f16));
  check.expectError("num_threads_zero", ac_set_num_threads(0));

  DeviceTensor query = check.input("error_query", {2, 5, 8});
  DeviceTensor key = check.input("error_key", {2, 6, 8});
  DeviceTensor value = check.input("error_value", {2, 6, 4});
  DeviceTensor result = check.output("error_attention_out", {2, 5, 4});
  DeviceTensor narrowKey = check.input("error_narrow_key", {2, 6, 7});
  check.expectError("attention_depth_mismatch",
                    ac_attention(&query.view, &narrowKey.view, &value.view,
                                 nullptr, &result.view, 1.0, 0, 0, 0));
  DeviceTensor shortValue = check.input("error_short_value", {2, 5, 4});
  check.expectError("attention_keys_mismatch",
                    ac_attention(&query.view, &key.view, &shortValue.view,
                                 nullptr, &result.view, 1.0, 0, 0, 0));
  DeviceTensor wrongOut = check.output("error_attention_wrong_out", {2, 5, 8});
  check.expectError("attention_output_shape",
                    ac_attention(&query.view, &key.view, &value.view, nullptr,
                                 &wrongOut.view, 1.0, 0, 0, 0));
  DeviceTensor otherBatch = check.input("error_other_batch", {3, 6, 8});
  check.expectError("attention_batch_mismatch",
                    ac_attention(&query.view, &otherBatch.view, &value.view,
                                 nullptr, &result.view, 1.0, 0, 0, 0));
  DeviceTensor badBias = check.input("error_bad_bias", {5, 5});
  check.expectError("attention_bad_bias",
                    ac_attention(&query.view, &key.view, &value.view,
                                 &badBias.view, &result.view, 1.0, 0, 0, 0));
  ac_tensor f16Value = value.view;
  f16Value.dtype = AC_F16;
  check.expectError("attention_dtype_mismatch",
                    ac_attention(&query.view, &key.view, &f16Value, nullptr,
                                 &result.view, 1.0, 0, 0, 0));
  ac_tensor flatQuery = query.view;
  flatQuery.rank = 1;
  check.expectError("attention_rank1",
                    ac_attention(&flatQuery, &key.view, &value.view, nullptr,
                                 &result.view, 1.0, 0, 0, 0));
  check.expectError("attention_offset_overflow",
                    ac_attention(&query.view, &key.view, &value.view, nullptr,
                                 &result.view, 1.0, 1, INT64_MAX, 1));
  DeviceTensor deepQuery = check.input("error_deep_query", {1, 2, 136});
  DeviceTensor deepKey = check.input("error_deep_key", {1, 3, 136});
  DeviceTensor deepValue = check.input("error_deep_value", {1, 3, 4});
  DeviceTensor deepOut = check.output("error_deep_out", {1, 2, 4});
  check.expectError("attention_depth_over_limit",
                    ac_attention(&deepQuery.view, &deepKey.view,
                                 &deepValue.view, nullptr, &deepOut.view, 1.0,
                                 0, 0, 0));
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: %s OUTDIR\n  Runs every CUDA kernel on fixed "
                 "inputs and writes .npy files and manifest.jsonl "
                 "into the existing directory OUTDIR.\n",
                 argv[0]);
    return 2;
  }
  int devices = 0;
  cudaError_t error = cudaGetDeviceCount(&devices);
  if (error != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "cuda-kernel-check: no CUDA device (%s)\n",
                 error != cudaSuccess ? cudaGetErrorString(error)
                                      : "0 devices");
    return 1;
  }
  Checker check(argv[1]);
  addElementwiseCases(check);
  addContractionCases(check);
  addNormalizationCases(check);
  addDataMovementCases(check);
  addAttentionCases(check);
  addErrorCases(check);
  if (!check.writeManifest())
    check.fail(std::string("cannot write ") + argv[1] + "/manifest.jsonl");
  std::printf("%d cases run, %d failures\n", check.cases, check.failures);
  return check.failures == 0 ? 0 : 1;
}
