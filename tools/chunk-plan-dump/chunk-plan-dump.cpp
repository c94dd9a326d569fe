//===- chunk-plan-dump.cpp - show an AutoChunk plan and its exact memory --===//
//
// chunk-plan-dump model.mlir [--memory-budget=SIZE] [--target=cpu|h100]
//   [--format=text|json|svg] [--timeline=N] [-o FILE]
//
// Reports what AutoChunk would do to a model: the exact planned arena of the
// unchunked graph, and under a budget the regions the search selects, the
// exact arena once they are rewritten into chunk loops (on a copy of the
// module), and the live bytes of every op before and after. The exact
// numbers come from the memory estimate (the real lowering and planner); the
// search's own predictions are shown beside them.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Compiler/Compiler.h"
#include "autochunk/Passes/ChunkRewrite.h"
#include "autochunk/Passes/ChunkSearch.h"
#include "autochunk/Passes/CostModel.h"
#include "autochunk/Passes/MemoryEstimate.h"
#include "autochunk/Passes/Pipelines.h"
#include "autochunk/Passes/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

using namespace mlir;
using namespace autochunk;

namespace cl = llvm::cl;

static cl::OptionCategory category("chunk-plan-dump options");

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("Output file (default: stdout)"),
               cl::value_desc("path"), cl::init("-"), cl::cat(category));
static cl::opt<std::string>
    memoryBudget("memory-budget",
                 cl::desc("Activation memory budget to plan for: bytes, "
                          "512KiB, 2GiB, 500MB or a fraction of the unchunked "
                          "peak such as 0.5x (default: no chunking)"),
                 cl::init(""), cl::cat(category));
static cl::opt<std::string> targetName("target",
                                       cl::desc("Cost model target: cpu or "
                                                "h100"),
                                       cl::init("cpu"), cl::cat(category));
static cl::opt<bool> fuseAttention(
    "fuse-attention",
    cl::desc("Fuse attention chains first, as chunk-compile does (default "
             "on)"),
    cl::init(true), cl::cat(category));
static cl::opt<std::string> formatName("format",
                                       cl::desc("Output format: text, json or "
                                                "svg"),
                                       cl::init("text"), cl::cat(category));
static cl::opt<unsigned> timelineLimit(
    "timeline",
    cl::desc("Text format: list only the N ops with the most live bytes "
             "(0: no timeline; default: every op)"),
    cl::value_desc("N"), cl::cat(category));

/// Marks the ops of the chunked copy with the index of their original in the
/// unchunked timeline; the rewrite's clones keep it.
static constexpr llvm::StringLiteral kOriginAttr = "autochunk.dump_origin";

namespace {

enum class Format { Text, Json, Svg };

/// One op of the unchunked function and the bytes live while it runs.
struct TimelineEntry {
  std::string opName;
  std::string location;
  int64_t bytesBefore = 0;
  /// The largest over the op's copies in the chunked function (its chunks and
  /// the slices and copies around them); none without a plan.
  std::optional<int64_t> bytesAfter;
  /// The plan region the op belongs to, if any.
  std::optional<size_t> region;
};

struct RegionReport {
  /// Indices of the region's ops in the timeline, in block order.
  SmallVector<size_t> ops;
  int64_t chunkDim = 0;
  int64_t extent = 0;
  int64_t chunkSize = 0;
  int64_t numChunks = 0;
  /// Exact: the largest live bytes at the region's ops before chunking, and
  /// in its chunk loop (and remainder) after.
  int64_t exactBytesBefore = 0;
  int64_t exactBytesAfter = 0;
  /// The search's prediction of the same.
  int64_t predictedBytesBefore = 0;
  int64_t predictedBytesAfter = 0;
  double secondsBefore = 0;
  double secondsAfter = 0;
};

/// The arena and peak of one version of the function.
struct ArenaReport {
  int64_t arenaBytes = 0;
  int64_t peakLiveBytes = 0;
  int64_t predictedPeakBytes = 0;
  double predictedSeconds = 0;
};

struct Report {
  std::string model;
  std::string file;
  std::string target;
  int64_t inputBytes = 0;
  int64_t weightBytes = 0;
  ArenaReport unchunked;
  std::optional<std::string> budgetText;
  int64_t budgetBytes = 0;
  std::optional<ArenaReport> chunked;
  std::vector<RegionReport> regions;
  std::vector<TimelineEntry> timeline;
};

} // namespace

static int fail(const llvm::Twine &message) {
  llvm::errs() << "chunk-plan-dump: error: " << message << "\n";
  return 1;
}

static double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 1.0;
}

/// "12.5 KiB", "3 B": the size in the largest binary unit it reaches.
static std::string humanBytes(double bytes) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  while (std::fabs(bytes) >= 1024 && unit + 1 < std::size(units)) {
    bytes /= 1024;
    ++unit;
  }
  if (unit == 0)
    return llvm::formatv("{0} B", static_cast<int64_t>(bytes)).str();
  return llvm::formatv("{0:f1} {1}", bytes, units[unit]).str();
}

/// "model.mlir:12:3" for the first file location inside `loc`.
static std::string describeLocation(Location loc) {
  std::string text;
  loc->walk([&](Location nested) {
    if (auto file = dyn_cast<FileLineColLoc>(nested)) {
      text = llvm::formatv("{0}:{1}:{2}",
                           llvm::sys::path::filename(file.getFilename()),
                           file.getLine(), file.getColumn())
                 .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!text.empty())
    return text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

/// Applies `plan` to a copy of `module`, records the chunked function's exact
/// estimate in `report` (per original op and per region). `indexOf` numbers
/// the original function's timeline ops.
static LogicalResult
applyPlanToCopy(ModuleOp module, func::FuncOp func, const ChunkPlan &plan,
                const DenseMap<Operation *, size_t> &indexOf, Report &report) {
  IRMapping mapping;
  OwningOpRef<ModuleOp> copy(
      cast<ModuleOp>(module.getOperation()->clone(mapping)));
  // Operation::clone maps every op it copies; a miss would be a bug here.
  auto copyOf = [&](Operation *op) {
    Operation *copied = mapping.lookupOrNull(op);
    if (!copied)
      llvm::report_fatal_error("chunk-plan-dump: an op was not copied");
    return copied;
  };
  auto chunkedFunc = cast<func::FuncOp>(copyOf(func.getOperation()));
  Builder builder(module.getContext());
  for (auto [op, index] : indexOf)
    copyOf(op)->setAttr(kOriginAttr, builder.getI64IntegerAttr(int64_t(index)));

  SmallVector<ChunkRegion> regions;
  for (const PlannedRegion &planned : plan.regions) {
    ChunkRegion region;
    region.extent = planned.region.extent;
    region.chunkSize = planned.region.chunkSize;
    for (Operation *op : planned.region.ops)
      region.ops.push_back(copyOf(op));
    for (Operation *op : planned.region.recomputedOps)
      region.recomputedOps.push_back(copyOf(op));
    for (auto [value, dim] : planned.region.chunkDims)
      if (Value copied = mapping.lookupOrNull(value))
        region.chunkDims[copied] = dim;
      else
        llvm::report_fatal_error("chunk-plan-dump: a value was not copied");
    regions.push_back(std::move(region));
  }
  IRRewriter rewriter(module.getContext());
  for (size_t index : chunkRewriteOrder(regions)) {
    FailureOr<ChunkLoop> loop = rewriteChunkRegion(rewriter, regions[index]);
    if (failed(loop))
      return failure();
    report.regions[index].numChunks = loop->numChunks;
  }
  if (failed(verify(*copy)))
    return failure();

  FailureOr<MemoryEstimate> estimate = estimateMemory(chunkedFunc);
  if (failed(estimate))
    return failure();
  ArenaReport &chunked = report.chunked.emplace();
  chunked.arenaBytes = estimate->arenaBytes;
  chunked.peakLiveBytes = estimate->peakLiveBytes;
  chunked.predictedPeakBytes = plan.peakAfter;
  chunked.predictedSeconds = plan.secondsAfter;

  // An op the rewrite made (a slice, a copy into the result, the loop) counts
  // for the original op before it: the one whose chunk it moves.
  std::optional<size_t> current;
  for (const MemoryEstimate::OpLiveBytes &entry : estimate->timeline) {
    if (auto origin = entry.op->getAttrOfType<IntegerAttr>(kOriginAttr))
      current = origin.getInt();
    if (!current)
      continue;
    TimelineEntry &original = report.timeline[*current];
    original.bytesAfter =
        std::max(original.bytesAfter.value_or(0), entry.liveBytes);
  }
  for (TimelineEntry &entry : report.timeline)
    if (entry.region && entry.bytesAfter) {
      int64_t &after = report.regions[*entry.region].exactBytesAfter;
      after = std::max(after, *entry.bytesAfter);
    }
  return success();
}

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

static std::string regionOpNames(const Report &report,
                                 const RegionReport &region) {
  std::string names;
  for (auto [position, index] : llvm::enumerate(region.ops))
    names += (position ? ", " : "") + report.timeline[index].opName;
  return names;
}

static void printText(const Report &report, llvm::raw_ostream &os) {
  const ArenaReport &unchunked = report.unchunked;
  os << "model: @" << report.model << " (" << report.file << ")\n"
     << "target: " << report.target << "\n"
     << "inputs: " << report.inputBytes
     << " bytes, weights: " << report.weightBytes << " bytes\n"
     << "unchunked arena: " << unchunked.arenaBytes << " bytes ("
     << humanBytes(unchunked.arenaBytes) << "), peak live "
     << unchunked.peakLiveBytes << " bytes, predicted peak "
     << unchunked.predictedPeakBytes << " bytes\n";
  if (!report.budgetText) {
    os << "budget: none (nothing chunked)\n";
  } else {
    const ArenaReport &chunked = *report.chunked;
    os << "budget: " << report.budgetBytes << " bytes ("
       << humanBytes(report.budgetBytes) << ", from '" << *report.budgetText
       << "')\n"
       << "chunked arena: " << chunked.arenaBytes << " bytes ("
       << humanBytes(chunked.arenaBytes) << "), peak live "
       << chunked.peakLiveBytes << " bytes, predicted peak "
       << chunked.predictedPeakBytes << " bytes, "
       << llvm::formatv("{0:f1}",
                        100.0 * ratio(chunked.arenaBytes, unchunked.arenaBytes))
       << "% of unchunked, "
       << (chunked.arenaBytes <= report.budgetBytes ? "within" : "OVER")
       << " the budget\n"
       << "predicted slowdown: "
       << llvm::formatv("{0:f3}x", ratio(chunked.predictedSeconds,
                                         unchunked.predictedSeconds))
       << "\n";
    os << "regions: " << report.regions.size() << "\n";
    if (!report.regions.empty())
      os << llvm::formatv("  {0,6} {1,4} {2,4} {3,7} {4,6} {5,7} {6,13} "
                          "{7,13} {8,13} {9,13} {10,9}\n",
                          "region", "ops", "dim", "extent", "chunk", "chunks",
                          "exact-before", "exact-after", "pred-before",
                          "pred-after", "slowdown");
    for (auto [index, region] : llvm::enumerate(report.regions)) {
      os << llvm::formatv("  {0,6} {1,4} {2,4} {3,7} {4,6} {5,7} {6,13} "
                          "{7,13} {8,13} {9,13} {10,9}\n",
                          index, region.ops.size(), region.chunkDim,
                          region.extent, region.chunkSize, region.numChunks,
                          region.exactBytesBefore, region.exactBytesAfter,
                          region.predictedBytesBefore,
                          region.predictedBytesAfter,
                          llvm::formatv("{0:f3}x", ratio(region.secondsAfter,
                                                         region.secondsBefore))
                              .str());
      os << "         ops " << regionOpNames(report, region) << "\n"
         << "         from " << report.timeline[region.ops.front()].location
         << " to " << report.timeline[region.ops.back()].location << "\n";
    }
  }

  // The timeline, possibly only its largest entries (in graph order).
  SmallVector<size_t> shown;
  for (size_t index = 0; index < report.timeline.size(); ++index)
    shown.push_back(index);
  if (timelineLimit.getNumOccurrences() && timelineLimit < shown.size()) {
    auto largest = [&](size_t index) {
      const TimelineEntry &entry = report.timeline[index];
      return std::max(entry.bytesBefore, entry.bytesAfter.value_or(0));
    };
    std::stable_sort(shown.begin(), shown.end(), [&](size_t a, size_t b) {
      return largest(a) > largest(b);
    });
    shown.resize(timelineLimit);
    llvm::sort(shown);
  }
  if (shown.empty())
    return;
  os << "timeline: " << shown.size() << " of " << report.timeline.size()
     << " ops, live bytes\n"
     << llvm::formatv("  {0,5} {1,-22} {2,-24} {3,12} {4,12} {5,6}\n", "op",
                      "name", "location", "before", "after", "region");
  for (size_t index : shown) {
    const TimelineEntry &entry = report.timeline[index];
    os << llvm::formatv("  {0,5} {1,-22} {2,-24} {3,12} {4,12} {5,6}\n", index,
                        entry.opName, entry.location, entry.bytesBefore,
                        entry.bytesAfter ? std::to_string(*entry.bytesAfter)
                                         : "-",
                        entry.region ? std::to_string(*entry.region) : "-");
  }
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

static llvm::json::Value arenaJson(const ArenaReport &arena) {
  return llvm::json::Object{
      {"arena_bytes", arena.arenaBytes},
      {"peak_live_bytes", arena.peakLiveBytes},
      {"predicted_peak_bytes", arena.predictedPeakBytes},
      {"predicted_seconds", arena.predictedSeconds},
  };
}

static void printJson(const Report &report, llvm::raw_ostream &os) {
  llvm::json::Array regions;
  for (const RegionReport &region : report.regions) {
    llvm::json::Array ops;
    for (size_t index : region.ops)
      ops.push_back(llvm::json::Object{
          {"index", int64_t(index)},
          {"name", report.timeline[index].opName},
          {"location", report.timeline[index].location},
      });
    regions.push_back(llvm::json::Object{
        {"num_ops", int64_t(region.ops.size())},
        {"ops", std::move(ops)},
        {"chunk_dim", region.chunkDim},
        {"extent", region.extent},
        {"chunk_size", region.chunkSize},
        {"num_chunks", region.numChunks},
        {"exact_bytes_before", region.exactBytesBefore},
        {"exact_bytes_after", region.exactBytesAfter},
        {"predicted_bytes_before", region.predictedBytesBefore},
        {"predicted_bytes_after", region.predictedBytesAfter},
        {"predicted_seconds_before", region.secondsBefore},
        {"predicted_seconds_after", region.secondsAfter},
        {"predicted_slowdown",
         ratio(region.secondsAfter, region.secondsBefore)},
    });
  }
  llvm::json::Array timeline;
  for (auto [index, entry] : llvm::enumerate(report.timeline)) {
    llvm::json::Object object{
        {"index", int64_t(index)},     {"name", entry.opName},
        {"location", entry.location},  {"live_bytes_before", entry.bytesBefore},
        {"live_bytes_after", nullptr}, {"region", nullptr},
    };
    if (entry.bytesAfter)
      object["live_bytes_after"] = *entry.bytesAfter;
    if (entry.region)
      object["region"] = int64_t(*entry.region);
    timeline.push_back(std::move(object));
  }
  llvm::json::Object root{
      {"model", report.model},
      {"file", report.file},
      {"target", report.target},
      {"input_bytes", report.inputBytes},
      {"weight_bytes", report.weightBytes},
      {"unchunked", arenaJson(report.unchunked)},
      {"budget", nullptr},
      {"chunked", nullptr},
      {"predicted_slowdown", nullptr},
      {"regions", std::move(regions)},
      {"timeline", std::move(timeline)},
  };
  if (report.budgetText) {
    root["budget"] = llvm::json::Object{{"text", *report.budgetText},
                                        {"bytes", report.budgetBytes}};
    root["chunked"] = arenaJson(*report.chunked);
    root["predicted_slowdown"] = ratio(report.chunked->predictedSeconds,
                                       report.unchunked.predictedSeconds);
  }
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
}

//===----------------------------------------------------------------------===//
// SVG
//===----------------------------------------------------------------------===//

static std::string escapeXml(StringRef text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
    case '&':
      escaped += "&amp;";
      break;
    case '<':
      escaped += "&lt;";
      break;
    case '>':
      escaped += "&gt;";
      break;
    case '"':
      escaped += "&quot;";
      break;
    case '\'':
      escaped += "&apos;";
      break;
    default:
      escaped += c;
    }
  }
  return escaped;
}

/// `value` with at most `decimals` decimals, without trailing zeros.
static std::string number(double value, int decimals = 1) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.*f", decimals, value);
  if (StringRef(text).contains('.'))
    text = StringRef(text).rtrim('0').rtrim('.').str();
  return text == "-0" ? "0" : text;
}

/// A tick step of 1, 2 or 5 times a power of ten of `unit`, giving at most
/// about `maxTicks` ticks up to `top`.
static double tickStep(double top, double unit, int maxTicks) {
  double raw = top / unit / maxTicks;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * power >= raw)
      return factor * power * unit;
  return 10 * power * unit;
}

static void printSvg(const Report &report, llvm::raw_ostream &os) {
  // Whole pixels for the frame; coordinates in the plot go through number().
  const int width = 960, height = 520;
  const int left = 100, right = 30, top = 70, bottom = 70;
  const int plotWidth = width - left - right;
  const int plotHeight = height - top - bottom;
  size_t numOps = std::max<size_t>(report.timeline.size(), 1);

  int64_t highest = 1;
  for (const TimelineEntry &entry : report.timeline)
    highest =
        std::max({highest, entry.bytesBefore, entry.bytesAfter.value_or(0)});
  if (report.budgetText)
    highest = std::max(highest, report.budgetBytes);
  double unit = 1;
  const char *unitName = "B";
  for (auto [scale, name] : {std::pair<double, const char *>{1024.0, "KiB"},
                             {1024.0 * 1024, "MiB"},
                             {1024.0 * 1024 * 1024, "GiB"}})
    if (highest >= scale) {
      unit = scale;
      unitName = name;
    }
  double step = tickStep(highest * 1.05, unit, 6);
  double yMax = std::ceil(highest * 1.05 / step) * step;
  auto x = [&](double opIndex) {
    return left + opIndex * plotWidth / double(numOps);
  };
  auto y = [&](double bytes) {
    return top + plotHeight - bytes * plotHeight / yMax;
  };

  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width
     << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " "
     << height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
     << "  <title>" << escapeXml("@" + report.model)
     << ": live activation bytes per op</title>\n"
     << "  <rect width=\"" << width << "\" height=\"" << height
     << "\" fill=\"white\"/>\n"
     << "  <text class=\"title\" x=\"" << width / 2
     << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">"
     << escapeXml("@" + report.model + " (" + report.target +
                  "): live activation bytes per op")
     << "</text>\n";

  // Region spans, behind everything else.
  for (auto [index, region] : llvm::enumerate(report.regions)) {
    double first = *llvm::min_element(region.ops);
    double last = *llvm::max_element(region.ops);
    os << "  <rect class=\"region\" x=\"" << number(x(first)) << "\" y=\""
       << top << "\" width=\"" << number(x(last + 1) - x(first))
       << "\" height=\"" << plotHeight
       << "\" fill=\"#2ca02c\" fill-opacity=\"0.12\"><title>"
       << escapeXml(llvm::formatv("region {0}: {1} ops, dim {2}, chunk {3} of "
                                  "{4}",
                                  index, region.ops.size(), region.chunkDim,
                                  region.chunkSize, region.extent)
                        .str())
       << "</title></rect>\n"
       << "  <text class=\"region-label\" x=\"" << number(x(first) + 3)
       << "\" y=\"" << top + 14 << "\" fill=\"#2ca02c\">region " << index
       << "</text>\n";
  }

  // Axes, ticks and their labels.
  os << "  <g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n"
     << "    <line x1=\"" << left << "\" y1=\"" << top + plotHeight
     << "\" x2=\"" << left + plotWidth << "\" y2=\"" << top + plotHeight
     << "\"/>\n"
     << "    <line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left
     << "\" y2=\"" << top + plotHeight << "\"/>\n"
     << "  </g>\n";
  os << "  <g class=\"y-ticks\" text-anchor=\"end\">\n";
  for (double tick = 0; tick <= yMax + step / 2; tick += step)
    os << "    <line x1=\"" << left - 5 << "\" y1=\"" << number(y(tick))
       << "\" x2=\"" << left + plotWidth << "\" y2=\"" << number(y(tick))
       << "\" stroke=\"#dddddd\"/>\n"
       << "    <text x=\"" << left - 8 << "\" y=\"" << number(y(tick) + 4)
       << "\">" << number(tick / unit, 2) << " " << unitName << "</text>\n";
  os << "  </g>\n";
  double opStep = std::max(1.0, tickStep(numOps, 1, 10));
  os << "  <g class=\"x-ticks\" text-anchor=\"middle\">\n";
  for (double tick = 0; tick < numOps; tick += opStep)
    os << "    <line x1=\"" << number(x(tick + 0.5)) << "\" y1=\""
       << top + plotHeight << "\" x2=\"" << number(x(tick + 0.5)) << "\" y2=\""
       << top + plotHeight + 5 << "\" stroke=\"black\"/>\n"
       << "    <text x=\"" << number(x(tick + 0.5)) << "\" y=\""
       << top + plotHeight + 20 << "\">" << int64_t(tick) << "</text>\n";
  os << "  </g>\n"
     << "  <text class=\"x-label\" x=\"" << left + plotWidth / 2 << "\" y=\""
     << height - 20
     << "\" text-anchor=\"middle\">op index (unchunked graph)</text>\n"
     << "  <text class=\"y-label\" x=\"20\" y=\"" << top + plotHeight / 2
     << "\" text-anchor=\"middle\" transform=\"rotate(-90 20 "
     << top + plotHeight / 2 << ")\">live activation bytes (" << unitName
     << ")</text>\n";

  // The two series as step lines: each op holds its value over [i, i + 1).
  auto series = [&](StringRef name, StringRef color,
                    function_ref<std::optional<int64_t>(size_t)> value) {
    os << "  <polyline class=\"series " << name << "\" fill=\"none\" stroke=\""
       << color << "\" stroke-width=\"2\" points=\"";
    bool firstPoint = true;
    for (size_t index = 0; index < report.timeline.size(); ++index) {
      std::optional<int64_t> bytes = value(index);
      if (!bytes)
        continue;
      os << (firstPoint ? "" : " ") << number(x(index)) << ","
         << number(y(*bytes)) << " " << number(x(index + 1)) << ","
         << number(y(*bytes));
      firstPoint = false;
    }
    os << "\"/>\n";
  };
  series("before", "#1f77b4", [&](size_t index) -> std::optional<int64_t> {
    return report.timeline[index].bytesBefore;
  });
  if (report.chunked)
    series("after", "#d62728",
           [&](size_t index) { return report.timeline[index].bytesAfter; });
  if (report.budgetText)
    os << "  <line class=\"budget\" x1=\"" << left << "\" y1=\""
       << number(y(report.budgetBytes)) << "\" x2=\"" << left + plotWidth
       << "\" y2=\"" << number(y(report.budgetBytes))
       << "\" stroke=\"#ff7f0e\" stroke-width=\"1.5\" "
          "stroke-dasharray=\"6 4\"/>\n";

  // The legend, above the plot.
  struct LegendItem {
    std::string label;
    StringRef color;
    StringRef dash;
  };
  SmallVector<LegendItem> legend = {
      {"before: unchunked, arena " + humanBytes(report.unchunked.arenaBytes),
       "#1f77b4", ""}};
  if (report.chunked)
    legend.push_back(
        {"after: chunked, arena " + humanBytes(report.chunked->arenaBytes),
         "#d62728", ""});
  if (report.budgetText)
    legend.push_back(
        {"budget " + humanBytes(report.budgetBytes), "#ff7f0e", "6 4"});
  os << "  <g class=\"legend\">\n";
  for (auto [index, item] : llvm::enumerate(legend)) {
    int64_t itemX = left + int64_t(index) * 260;
    os << "    <line x1=\"" << itemX << "\" y1=\"46\" x2=\"" << itemX + 30
       << "\" y2=\"46\" stroke=\"" << item.color << "\" stroke-width=\"2\"";
    if (!item.dash.empty())
      os << " stroke-dasharray=\"" << item.dash << "\"";
    os << "/>\n    <text x=\"" << itemX + 36 << "\" y=\"50\">"
       << escapeXml(item.label) << "</text>\n";
  }
  os << "  </g>\n</svg>\n";
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

/// Writes `text` to `path` through a temporary file renamed into place, so a
/// failure leaves no partial output.
static LogicalResult writeOutput(StringRef path, StringRef text,
                                 std::string &error) {
  if (path == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return success();
  }
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + "-%%%%%%.tmp");
  if (!temp) {
    error = "cannot write '" + path.str() +
            "': " + llvm::toString(temp.takeError());
    return failure();
  }
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    os << text;
    os.flush();
    if (os.has_error()) {
      error = "cannot write '" + path.str() + "': " + os.error().message();
      os.clear_error();
      llvm::consumeError(temp->discard());
      return failure();
    }
  }
  if (llvm::Error keepError = temp->keep(path)) {
    error = "cannot write '" + path.str() +
            "': " + llvm::toString(std::move(keepError));
    return failure();
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "AutoChunk plan dump: the regions a budget "
                              "selects and the exact memory before and "
                              "after\n");

  std::optional<Format> format =
      llvm::StringSwitch<std::optional<Format>>(formatName)
          .Case("text", Format::Text)
          .Case("json", Format::Json)
          .Case("svg", Format::Svg)
          .Default(std::nullopt);
  if (!format)
    return fail("unknown format '" + formatName +
                "' (expected text, json or svg)");
  std::optional<Target> target = getTarget(targetName);
  if (!target)
    return fail("unknown target '" + targetName + "' (expected cpu or h100)");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllPasses();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A diagnostic names its location; printing the whole op (a function of
  // thousands of lines) under it helps nobody.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string errorMessage;
  OwningOpRef<ModuleOp> module =
      readModelFile(inputPath, context, sourceMgr, errorMessage);
  if (!module)
    return errorMessage.empty() ? 1 : fail(errorMessage);
  // The graph chunk-compile plans: canonicalized, einsums batch-major,
  // attention fused.
  PassManager prepare(&context, ModuleOp::getOperationName());
  if (failed(parsePassPipeline(getGraphPreparationPipeline(fuseAttention),
                               prepare)) ||
      failed(prepare.run(*module)))
    return 1;
  FailureOr<func::FuncOp> func = findModelFunction(*module);
  if (failed(func))
    return 1;

  Report report;
  report.model = func->getSymName().str();
  report.file = inputPath;
  report.target = target->name;

  // Before: the exact estimate of the unchunked function.
  FailureOr<MemoryEstimate> before = estimateMemory(*func);
  if (failed(before))
    return 1;
  report.inputBytes = before->inputBytes;
  report.weightBytes = before->weightBytes;
  report.unchunked.arenaBytes = before->arenaBytes;
  report.unchunked.peakLiveBytes = before->peakLiveBytes;
  DenseMap<Operation *, size_t> indexOf;
  for (const MemoryEstimate::OpLiveBytes &entry : before->timeline) {
    indexOf[entry.op] = report.timeline.size();
    TimelineEntry &added = report.timeline.emplace_back();
    added.opName = entry.op->getName().getStringRef().str();
    added.location = describeLocation(entry.op->getLoc());
    added.bytesBefore = entry.liveBytes;
  }

  ChunkSearch search(*func, *target);
  report.unchunked.predictedPeakBytes = search.unchunkedPeak();
  report.unchunked.predictedSeconds = search.unchunkedSeconds();

  if (!memoryBudget.empty()) {
    std::string error;
    FailureOr<int64_t> budget =
        parseMemoryBudget(memoryBudget, search.unchunkedPeak(), &error);
    if (failed(budget))
      return fail("cannot read the memory budget '" + memoryBudget +
                  "': " + error);
    report.budgetText = memoryBudget;
    report.budgetBytes = *budget;
    int64_t smallestPeak = 0;
    FailureOr<ChunkPlan> plan = search.select(*budget, smallestPeak);
    if (failed(plan))
      return fail(llvm::formatv("cannot meet the budget of {0} bytes ({1}): "
                                "the smallest activation peak AutoChunk "
                                "reaches is {2} bytes ({3})",
                                *budget, humanBytes(*budget), smallestPeak,
                                humanBytes(smallestPeak)));

    for (auto [index, planned] : llvm::enumerate(plan->regions)) {
      RegionReport &region = report.regions.emplace_back();
      for (Operation *op : planned.region.ops) {
        auto it = indexOf.find(op);
        if (it == indexOf.end())
          return fail("a planned region holds an op the memory estimate does "
                      "not list");
        region.ops.push_back(it->second);
        report.timeline[it->second].region = index;
        region.exactBytesBefore = std::max(
            region.exactBytesBefore, report.timeline[it->second].bytesBefore);
      }
      if (region.ops.empty())
        return fail("the plan holds an empty region");
      region.chunkDim = planned.seedDim;
      region.extent = planned.region.extent;
      region.chunkSize = planned.region.chunkSize;
      region.predictedBytesBefore = planned.bytesBefore;
      region.predictedBytesAfter = planned.bytesAfter;
      region.secondsBefore = planned.secondsBefore;
      region.secondsAfter = planned.secondsAfter;
    }
    if (failed(applyPlanToCopy(*module, *func, *plan, indexOf, report)))
      return fail("cannot apply the plan to a copy of the model");
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  switch (*format) {
  case Format::Text:
    printText(report, os);
    break;
  case Format::Json:
    printJson(report, os);
    break;
  case Format::Svg:
    printSvg(report, os);
    break;
  }
  os.flush();
  std::string error;
  if (failed(writeOutput(outputPath, text, error)))
    return fail(error);
  return 0;
}
