//===- ModelMain.cpp - the main() of compiled model executables -----------===//
//
// Linked with the object code and the description (model_abi.h) that
// chunk-compile generates for one model: loads or seeds the model's inputs
// and weights, runs it on one activation arena, times repeated runs (on a
// device that can capture, as replays of one captured graph, timed on the
// device's clock) and writes the outputs and a JSON report.
//
//===----------------------------------------------------------------------===//

#include "autochunk/runtime/io.h"
#include "autochunk/runtime/kernels.h"
#include "autochunk/runtime/mlir_abi.h"
#include "autochunk/runtime/model_abi.h"
#include "autochunk/runtime/report.h"

#include "ModelDevice.h"

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <vector>

using autochunk::runtime::ModelDevice;
using autochunk::runtime::modelDevice;

namespace {

/// A failure that ends the program with "error: <message>" and status 1.
struct Fatal {
  std::string message;
};

std::string format(const char *pattern, ...)
    __attribute__((format(printf, 1, 2)));

std::string format(const char *pattern, ...) {
  char buffer[2048];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof(buffer), pattern, args);
  va_end(args);
  return buffer;
}

/// Throws Fatal with `context: <last runtime error>` unless `status` is OK.
void check(ac_status status, const std::string &context) {
  if (status != AC_OK)
    throw Fatal{context.empty() ? ac_last_error()
                                : context + ": " + ac_last_error()};
}

const char *const usage = R"(usage: %s [options]

Runs the compiled model '%s' on the CPU and reports its time and memory.

options:
  --inputs DIR|FILE    read inputs and weights by name from DIR/<name>.npy or
                       from one .safetensors file; every tensor there must be
                       an input or weight of the model
  --outputs DIR        write each output to DIR/<name>.npy (DIR is created)
  --seed N             seed of the tensors --inputs does not provide (0)
  --repeat N           timed runs, N >= 1; the report gives their median (1)
  --warmup N           untimed runs before them, N >= 0 (1)
  --threads N          kernel threads, N >= 1 (OMP_NUM_THREADS or all cores)
  --report FILE.json   write the run report (times, planned and measured
                       activation bytes, outputs) to FILE.json
  --help               print this help

Tensors not found in --inputs are filled with seeded values uniform in
[-s, s), the same on every machine for a given seed and name:
  inputs                                         s = 1
  weights of rank 1 whose name ends in "weight"
    (layer norm gains) and weights of rank 0     s = 1
  other weights (matrices, biases)               s = 1/sqrt(last dimension)
)";

struct Options {
  std::string inputs;
  std::string outputs;
  std::string report;
  uint64_t seed = 0;
  int64_t repeat = 1;
  int64_t warmup = 1;
  int64_t threads = 0; // 0: the kernels' default
  bool help = false;
};

/// Parses a whole decimal integer in [minimum, maximum] for `flag`.
int64_t parseInteger(const std::string &flag, const std::string &text,
                     int64_t minimum, int64_t maximum) {
  const char *begin = text.c_str();
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(begin, &end, 10);
  bool whole =
      !text.empty() && *end == '\0' &&
      (text[0] == '-' || std::isdigit(static_cast<unsigned char>(text[0])));
  if (!whole || errno == ERANGE || value < minimum || value > maximum) {
    std::string range = maximum == INT64_MAX
                            ? format("an integer >= %" PRId64, minimum)
                            : format("an integer in [%" PRId64 ", %" PRId64 "]",
                                     minimum, maximum);
    throw Fatal{format("%s expects %s, got '%s'", flag.c_str(), range.c_str(),
                       text.c_str())};
  }
  return value;
}

Options parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      continue;
    }
    // Both "--flag value" and "--flag=value".
    std::string value;
    size_t equals = flag.find('=');
    if (flag.rfind("--", 0) == 0 && equals != std::string::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    } else if (flag == "--inputs" || flag == "--outputs" || flag == "--seed" ||
               flag == "--repeat" || flag == "--warmup" ||
               flag == "--threads" || flag == "--report") {
      if (i + 1 >= argc)
        throw Fatal{flag + " expects a value"};
      value = argv[++i];
    }
    if (flag == "--inputs" || flag == "--outputs" || flag == "--report") {
      if (value.empty())
        throw Fatal{flag + " expects a non-empty path"};
      (flag == "--inputs"    ? options.inputs
       : flag == "--outputs" ? options.outputs
                             : options.report) = value;
    } else if (flag == "--seed") {
      // Seeds are unsigned 64-bit; a leading '-' is rejected.
      const char *text = value.c_str();
      char *end = nullptr;
      errno = 0;
      unsigned long long seed = std::strtoull(text, &end, 10);
      if (value.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) ||
          *end != '\0' || errno == ERANGE)
        throw Fatal{"--seed expects an integer in [0, 2^64), got '" + value +
                    "'"};
      options.seed = seed;
    } else if (flag == "--repeat") {
      options.repeat = parseInteger(flag, value, 1, 1000000000);
    } else if (flag == "--warmup") {
      options.warmup = parseInteger(flag, value, 0, 1000000000);
    } else if (flag == "--threads") {
      options.threads = parseInteger(flag, value, 1, 1 << 16);
    } else {
      throw Fatal{"unknown option '" + std::string(argv[i]) + "' (see --help)"};
    }
  }
  return options;
}

const char *roleName(ac_tensor_role role) {
  switch (role) {
  case AC_ROLE_INPUT:
    return "input";
  case AC_ROLE_WEIGHT:
    return "weight";
  case AC_ROLE_OUTPUT:
    return "output";
  }
  return "tensor";
}

/// The byte size of a described tensor, after checking that the generated
/// description is well formed (it comes from another compilation unit).
int64_t checkedBytes(const ac_model_tensor_info &info) {
  const char *name = info.name ? info.name : "(unnamed)";
  if (!info.name || !*info.name)
    throw Fatal{"malformed model description: a tensor has no name"};
  if (info.dtype != AC_F32 && info.dtype != AC_F16 && info.dtype != AC_BF16)
    throw Fatal{format("malformed model description: '%s' has dtype %d", name,
                       static_cast<int>(info.dtype))};
  if (info.rank < 0 || info.rank > AC_MAX_RANK)
    throw Fatal{format("malformed model description: '%s' has rank %d", name,
                       info.rank)};
  int64_t bytes = static_cast<int64_t>(ac_dtype_size(info.dtype));
  for (int32_t dim = 0; dim < info.rank; ++dim)
    if (info.sizes[dim] < 0 ||
        __builtin_mul_overflow(bytes, info.sizes[dim], &bytes))
      throw Fatal{
          format("malformed model description: '%s' has a bad shape", name)};
  return bytes;
}

std::string shapeText(const ac_model_tensor_info &info) {
  std::string text = "[";
  for (int32_t dim = 0; dim < info.rank; ++dim)
    text += (dim ? ", " : "") + std::to_string(info.sizes[dim]);
  return text + "]";
}

/// The scale of the seeded fill of an argument the inputs do not provide
/// (the rule --help states): inputs and layer-norm-like gains get values of
/// order one; weight matrices 1/sqrt(fan_in), their last dimension, so that
/// activations keep their magnitude through deep models; biases the same.
float fillScale(const ac_model_tensor_info &info) {
  if (info.role == AC_ROLE_INPUT || info.rank == 0)
    return 1.0f;
  std::string name = info.name;
  const std::string gainSuffix = "weight";
  if (info.rank == 1 && name.size() >= gainSuffix.size() &&
      name.compare(name.size() - gainSuffix.size(), gainSuffix.size(),
                   gainSuffix) == 0)
    return 1.0f;
  int64_t lastDim = info.sizes[info.rank - 1];
  return lastDim > 0 ? 1.0f / std::sqrt(static_cast<float>(lastDim)) : 1.0f;
}

struct FreeDeleter {
  void operator()(void *pointer) const { std::free(pointer); }
};
using AlignedBuffer = std::unique_ptr<void, FreeDeleter>;

AlignedBuffer allocateAligned(int64_t bytes, const char *name) {
  // aligned_alloc wants a non-zero multiple of the alignment.
  size_t rounded = (static_cast<size_t>(bytes) + 63) & ~size_t(63);
  void *pointer = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!pointer)
    throw Fatal{
        format("cannot allocate %" PRId64 " bytes for '%s'", bytes, name)};
  return AlignedBuffer(pointer);
}

struct DeviceDeleter {
  void operator()(void *pointer) const { modelDevice.release(pointer); }
};
using DeviceBuffer = std::unique_ptr<void, DeviceDeleter>;

DeviceBuffer allocateOnDevice(const ModelDevice &device, size_t bytes,
                              const char *name) {
  void *pointer = device.allocate(bytes);
  if (!pointer)
    throw Fatal{format("cannot allocate %zu bytes on the device for '%s': %s",
                       bytes, name, ac_last_error())};
  return DeviceBuffer(pointer);
}

template <typename T, void (*Destroy)(T *)> struct Handle {
  T *pointer = nullptr;
  Handle() = default;
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() {
    if (pointer)
      Destroy(pointer);
  }
};

/// Rejects output and report paths that cannot be written before anything
/// runs, so that a typo costs no model run and leaves no partial results.
void checkDestinations(const Options &options) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!options.outputs.empty() && fs::exists(options.outputs, error) &&
      !fs::is_directory(options.outputs, error))
    throw Fatal{format("--outputs: '%s' exists and is not a directory",
                       options.outputs.c_str())};
  if (!options.report.empty()) {
    fs::path parent = fs::path(options.report).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, error))
      throw Fatal{
          format("--report: directory '%s' does not exist", parent.c_str())};
    if (fs::is_directory(options.report, error))
      throw Fatal{
          format("--report: '%s' is a directory", options.report.c_str())};
  }
}

int run(int argc, char **argv) {
  const ac_model_info &model = ac_compiled_model;
  const char *modelName = model.name ? model.name : "model";
  Options options = parseOptions(argc, argv);
  if (options.help) {
    std::printf(usage, argc > 0 ? argv[0] : "model", modelName);
    return 0;
  }
  const ModelDevice &device = modelDevice;
  if (!model.device || std::strcmp(model.device, device.name) != 0)
    throw Fatal{format("model '%s' was compiled for '%s'; this executable "
                       "runs %s models",
                       modelName, model.device ? model.device : "?",
                       device.name)};
  if (model.num_args < 0 || model.num_outputs < 0 || model.arena_bytes < 0 ||
      (model.num_args > 0 && !model.args) ||
      (model.num_outputs > 0 && !model.outputs))
    throw Fatal{"malformed model description: bad counts or arena size"};
  checkDestinations(options);
  // What the device had in use before this program allocated anything (the
  // report gives what the run added).
  const int64_t memoryBefore = device.memoryInUse();
  if (options.threads > 0)
    check(ac_set_num_threads(static_cast<int>(options.threads)), "--threads");

  // Arguments: contiguous, 64-byte aligned, loaded by name or seeded.
  Handle<ac_tensor_source, ac_tensor_source_close> source;
  if (!options.inputs.empty())
    check(ac_tensor_source_open(options.inputs.c_str(), &source.pointer),
          "--inputs");
  std::vector<AlignedBuffer> buffers;
  std::vector<void *> argumentData;
  int64_t weightsBytes = 0, inputsBytes = 0;
  for (int32_t index = 0; index < model.num_args; ++index) {
    const ac_model_tensor_info &info = model.args[index];
    int64_t bytes = checkedBytes(info);
    if (info.role != AC_ROLE_INPUT && info.role != AC_ROLE_WEIGHT)
      throw Fatal{format("malformed model description: argument '%s' is "
                         "neither an input nor a weight",
                         info.name)};
    (info.role == AC_ROLE_WEIGHT ? weightsBytes : inputsBytes) += bytes;
    buffers.push_back(allocateAligned(bytes, info.name));
    ac_tensor view;
    ac_tensor_init_contiguous(&view, buffers.back().get(), info.dtype,
                              info.rank, info.sizes);
    if (source.pointer && ac_tensor_source_has(source.pointer, info.name)) {
      check(ac_tensor_source_load(source.pointer, info.name, info.dtype,
                                  info.rank, info.sizes, view.data,
                                  static_cast<size_t>(bytes)),
            format("%s '%s' (%s %s)", roleName(info.role), info.name,
                   ac_dtype_name(info.dtype), shapeText(info).c_str()));
    } else {
      check(ac_seeded_fill(&view, options.seed, info.name, fillScale(info)),
            format("cannot fill %s '%s'", roleName(info.role), info.name));
    }
    argumentData.push_back(view.data);
  }
  if (source.pointer)
    check(ac_tensor_source_check_all_requested(source.pointer), "");

  // On a device with memory of its own the model reads copies there.
  std::vector<DeviceBuffer> deviceBuffers;
  if (!device.isHost) {
    for (int32_t index = 0; index < model.num_args; ++index) {
      size_t bytes = static_cast<size_t>(checkedBytes(model.args[index]));
      deviceBuffers.push_back(
          allocateOnDevice(device, bytes, model.args[index].name));
      check(device.toDevice(deviceBuffers.back().get(), argumentData[index],
                            bytes),
            format("cannot copy '%s' to the device", model.args[index].name));
      argumentData[index] = deviceBuffers.back().get();
    }
  }

  // Outputs must lie inside the arena; check before running.
  for (int32_t index = 0; index < model.num_outputs; ++index) {
    const ac_model_tensor_info &info = model.outputs[index];
    int64_t bytes = checkedBytes(info);
    if (info.arena_offset < 0 || info.arena_offset > model.arena_bytes ||
        bytes > model.arena_bytes - info.arena_offset)
      throw Fatal{format("malformed model description: output '%s' does not "
                         "fit the %" PRId64 "-byte arena",
                         info.name, model.arena_bytes)};
  }

  Handle<ac_arena, ac_arena_destroy> arena;
  DeviceBuffer deviceArena;
  if (device.isHost) {
    check(ac_arena_create(static_cast<size_t>(model.arena_bytes), 64,
                          &arena.pointer),
          "cannot create the activation arena");
  } else {
    // The arena is device memory; the ac_arena over it only records what
    // the kernels write (the high-water mark).
    deviceArena = allocateOnDevice(
        device, static_cast<size_t>(model.arena_bytes), "the arena");
    check(ac_arena_create_external(deviceArena.get(),
                                   static_cast<size_t>(model.arena_bytes),
                                   &arena.pointer),
          "cannot create the activation arena");
  }
  auto failRun = [](ac_status status) {
    (void)status;
    const char *message = ac_abi_error_message();
    throw Fatal{*message ? message : ac_last_error()};
  };
  auto runOnce = [&]() {
    ac_status status = ac_compiled_model_run(
        argumentData.data(), ac_arena_base(arena.pointer), arena.pointer);
    if (status == AC_OK)
      status = device.synchronize();
    if (status != AC_OK)
      failRun(status);
  };
  // Devices that can capture a run replay it as one graph for the timed
  // runs, unless the switch is 0 or the per-kernel profile (which times
  // each call) is on.
  const char *captureSwitch =
      device.captureSwitch ? std::getenv(device.captureSwitch) : nullptr;
  const bool replayGraph =
      device.beginCapture &&
      !(captureSwitch && std::strcmp(captureSwitch, "0") == 0) &&
      !std::getenv("AUTOCHUNK_PROFILE");
  for (int64_t i = 0; i < options.warmup; ++i)
    runOnce();
  // Grow-only scratch memory and GEMM workspaces reach their size in an
  // eager run, so a capture needs one even without warm-ups.
  if (replayGraph && options.warmup == 0)
    runOnce();
  // The measurements cover the timed runs only (a warm-up writes the same
  // bytes, so this changes nothing but makes the claim exact). A captured
  // run records them while it is captured: replays run no host code.
  ac_arena_reset_measurements(arena.pointer);
  if (replayGraph) {
    check(device.beginCapture(), "cannot capture the model run");
    ac_status status = ac_compiled_model_run(
        argumentData.data(), ac_arena_base(arena.pointer), arena.pointer);
    if (status != AC_OK) {
      std::string message = ac_abi_error_message();
      if (message.empty())
        message = ac_last_error();
      (void)device.endCapture(false);
      throw Fatal{"while capturing the model run into a graph: " + message};
    }
    check(device.endCapture(true), "cannot capture the model run");
  }
  std::vector<double> samples;
  for (int64_t i = 0; i < options.repeat; ++i) {
    double ms = 0;
    check(device.timerStart(), "timer");
    if (replayGraph) {
      check(device.replay(), "graph replay");
    } else {
      ac_status status = ac_compiled_model_run(
          argumentData.data(), ac_arena_base(arena.pointer), arena.pointer);
      if (status != AC_OK)
        failRun(status);
    }
    ac_status stopped = device.timerStop(&ms);
    if (stopped == AC_OK)
      stopped = device.synchronize();
    if (stopped != AC_OK)
      failRun(stopped);
    samples.push_back(ms);
  }
  double medianMs = 0;
  check(ac_median(samples.data(), static_cast<int64_t>(samples.size()),
                  &medianMs),
        "median");
  const int64_t memoryAfter = device.memoryInUse();
  size_t measuredBytes = ac_arena_high_water_bytes(arena.pointer);

  // Outputs are views of the arena at their planned offsets (copied to the
  // host first when the arena is device memory).
  std::vector<ac_tensor> outputs(static_cast<size_t>(model.num_outputs));
  std::vector<AlignedBuffer> hostOutputs;
  for (int32_t index = 0; index < model.num_outputs; ++index) {
    const ac_model_tensor_info &info = model.outputs[index];
    void *data =
        static_cast<char *>(ac_arena_base(arena.pointer)) + info.arena_offset;
    if (!device.isHost) {
      int64_t bytes = checkedBytes(info);
      hostOutputs.push_back(allocateAligned(bytes, info.name));
      check(device.toHost(hostOutputs.back().get(), data,
                          static_cast<size_t>(bytes)),
            format("cannot copy output '%s' from the device", info.name));
      data = hostOutputs.back().get();
    }
    ac_tensor_init_contiguous(&outputs[index], data, info.dtype, info.rank,
                              info.sizes);
  }
  if (!options.outputs.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.outputs, error);
    if (error)
      throw Fatal{format("--outputs: cannot create directory '%s': %s",
                         options.outputs.c_str(), error.message().c_str())};
    for (int32_t index = 0; index < model.num_outputs; ++index)
      check(ac_npy_save_named(options.outputs.c_str(),
                              model.outputs[index].name, &outputs[index]),
            format("cannot write output '%s'", model.outputs[index].name));
  }

  if (!options.report.empty()) {
    Handle<ac_report, ac_report_destroy> report;
    check(ac_report_create(&report.pointer), "report");
    ac_report *r = report.pointer;
    const char *context = "report";
    check(ac_report_set_string(r, "model", modelName), context);
    check(ac_report_set_string(r, "device", device.name), context);
    if (memoryAfter >= 0)
      check(ac_report_set_int(r, "device_memory_in_use_bytes", memoryAfter),
            context);
    if (memoryBefore >= 0 && memoryAfter >= 0) {
      // Everything this program holds on the device (arguments, arena,
      // scratch, library workspaces, the graph), as the driver counts it
      // (cudaMemGetInfo), and that less the arguments: the activations.
      int64_t added = memoryAfter - memoryBefore;
      check(ac_report_set_int(r, "device_memory_added_bytes", added), context);
      check(ac_report_set_int(r, "device_activation_bytes",
                              added - weightsBytes - inputsBytes),
            context);
    }
    if (device.beginCapture)
      check(ac_report_set_bool(r, "graph_replay", replayGraph), context);
    check(ac_report_set_bool(r, "chunked", model.chunked != 0), context);
    check(ac_report_set_int(r, "planned_activation_bytes", model.arena_bytes),
          context);
    // Set by hand rather than with ac_report_set_arena: the kernel calls
    // mark each write live and dead at once (they cannot know when a buffer
    // dies), so the arena's peak live bytes would mean nothing here.
    check(ac_report_set_int(r, "measured_activation_bytes",
                            static_cast<int64_t>(measuredBytes)),
          context);
    check(ac_report_set_int(r, "arena_bytes", model.arena_bytes), context);
    int64_t peakRss = ac_peak_rss_bytes();
    if (peakRss >= 0)
      check(ac_report_set_int(r, "peak_rss_bytes", peakRss), context);
    check(ac_report_set_int(r, "weights_bytes", weightsBytes), context);
    check(ac_report_set_int(r, "inputs_bytes", inputsBytes), context);
    check(ac_report_set_samples_ms(r, samples.data(),
                                   static_cast<int64_t>(samples.size())),
          context);
    check(ac_report_set_int(r, "repeat", options.repeat), context);
    check(ac_report_set_int(r, "warmup", options.warmup), context);
    check(ac_report_set_int(r, "threads", ac_get_num_threads()), context);
    if (options.seed <= static_cast<uint64_t>(INT64_MAX))
      check(ac_report_set_int(r, "seed", static_cast<int64_t>(options.seed)),
            context);
    else
      check(
          ac_report_set_string(r, "seed", std::to_string(options.seed).c_str()),
          context);
    if (!options.inputs.empty())
      check(ac_report_set_string(r, "inputs", options.inputs.c_str()), context);
    for (int32_t index = 0; index < model.num_outputs; ++index)
      check(ac_report_add_output(r, model.outputs[index].name, &outputs[index]),
            context);
    check(ac_report_write(r, options.report.c_str()), "--report");
  }

  std::printf("%s: planned activation bytes %" PRId64
              ", measured %zu; median %.3f ms over %" PRId64
              " run(s), %d thread(s)\n",
              modelName, model.arena_bytes, measuredBytes, medianMs,
              options.repeat, ac_get_num_threads());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const Fatal &fatal) {
    std::fprintf(stderr, "error: %s\n", fatal.message.c_str());
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "error: out of memory\n");
  } catch (const std::exception &exception) {
    std::fprintf(stderr, "error: %s\n", exception.what());
  }
  return 1;
}
