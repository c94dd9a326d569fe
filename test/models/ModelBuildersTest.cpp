// Unit tests of the model builders: verified modules, argument layout, unique
// names and parameter counts checked against the published models.
#include "autochunk/Models/ModelBuilders.h"

#include "autochunk/Dialect/Graph/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

using namespace mlir;
using namespace autochunk;
using namespace autochunk::models;

namespace {
/// What a test reads off one built function.
struct FunctionSummary {
  std::vector<std::string> inputNames;
  std::vector<std::string> weightNames;
  std::vector<std::string> resultNames;
  std::map<std::string, std::vector<int64_t>> shapes;
  int64_t weightParameters = 0;
  bool allNamesUnique = true;
  bool everyArgumentHasNameAndRole = true;
  std::vector<std::string> einsumEquations;
  int causalMasks = 0;
};
} // namespace

static func::FuncOp getOnlyFunction(ModuleOp module) {
  auto functions = module.getOps<func::FuncOp>();
  REQUIRE(std::distance(functions.begin(), functions.end()) == 1);
  return *functions.begin();
}

static FunctionSummary summarize(ModuleOp module) {
  REQUIRE(succeeded(verify(module)));
  func::FuncOp function = getOnlyFunction(module);
  FunctionSummary summary;
  llvm::StringSet<> seen;
  for (BlockArgument argument : function.getArguments()) {
    auto name = function.getArgAttrOfType<StringAttr>(
        argument.getArgNumber(), graph::GraphDialect::kNameAttrName);
    auto role = function.getArgAttrOfType<StringAttr>(
        argument.getArgNumber(), graph::GraphDialect::kRoleAttrName);
    if (!name || !role) {
      summary.everyArgumentHasNameAndRole = false;
      continue;
    }
    std::string text = name.getValue().str();
    summary.allNamesUnique &= seen.insert(text).second;
    auto type = cast<RankedTensorType>(argument.getType());
    summary.shapes[text] =
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
    if (role.getValue() == "weight") {
      summary.weightNames.push_back(text);
      summary.weightParameters += type.getNumElements();
    } else {
      summary.inputNames.push_back(text);
    }
  }
  for (unsigned index = 0; index < function.getNumResults(); ++index) {
    auto name = function.getResultAttrOfType<StringAttr>(
        index, graph::GraphDialect::kNameAttrName);
    REQUIRE(name);
    summary.resultNames.push_back(name.getValue().str());
    summary.allNamesUnique &= seen.insert(name.getValue()).second;
  }
  function.walk([&](graph::EinsumOp op) {
    summary.einsumEquations.push_back(op.getEquation().str());
  });
  function.walk([&](graph::CausalMaskOp) { ++summary.causalMasks; });
  return summary;
}

static int64_t countWithPrefix(const std::vector<std::string> &names,
                               llvm::StringRef prefix) {
  return llvm::count_if(names, [&](const std::string &name) {
    return llvm::StringRef(name).starts_with(prefix);
  });
}

static std::vector<int64_t> shapeOf(const FunctionSummary &summary,
                                    const std::string &name) {
  auto found = summary.shapes.find(name);
  REQUIRE(found != summary.shapes.end());
  return found->second;
}

//===----------------------------------------------------------------------===//
// GPT-2
//===----------------------------------------------------------------------===//

TEST_CASE("GPT-2 small has GPT-2 small's parameters without embeddings",
          "[models][gpt]") {
  MLIRContext context;
  GptOptions options; // Defaults are GPT-2 small: D 768, 12 heads, 12 layers.
  options.seq = 64;
  std::string error;
  auto module = buildGpt(context, options, error);
  REQUIRE(succeeded(module));
  FunctionSummary summary = summarize(**module);

  CHECK(summary.everyArgumentHasNameAndRole);
  CHECK(summary.allNamesUnique);
  CHECK(summary.inputNames == std::vector<std::string>{"x"});
  CHECK(summary.resultNames == std::vector<std::string>{"hidden_states"});
  CHECK(shapeOf(summary, "x") == std::vector<int64_t>{1, 64, 768});

  // Per block: ln_1, qkv, proj, ln_2, fc, proj, each a weight and a bias.
  for (int layer = 0; layer < 12; ++layer)
    CHECK(countWithPrefix(summary.weightNames,
                          "blocks." + std::to_string(layer) + ".") == 12);
  CHECK(summary.weightNames.size() == 12 * 12 + 2);

  // Per block: ln_1 2D + qkv (3D^2 + 3D) + proj (D^2 + D) + ln_2 2D
  // + fc (4D^2 + 4D) + proj (4D^2 + D) = 12 D^2 + 13 D; then ln_f 2D.
  const int64_t d = 768;
  const int64_t perBlock = 12 * d * d + 13 * d;
  CHECK(summary.weightParameters == 12 * perBlock + 2 * d);
  // Published GPT-2 small: 124,439,808 parameters, of which the token
  // embedding (50257 x 768) and position embedding (1024 x 768) are not part
  // of this graph.
  CHECK(summary.weightParameters == 124439808 - 50257 * 768 - 1024 * 768);
  CHECK(summary.causalMasks == 0);
}

TEST_CASE("GPT builder masks causally only when asked, at any size",
          "[models][gpt]") {
  MLIRContext context;
  GptOptions options;
  options.batch = 3;
  options.seq = 1000;
  options.hidden = 120;
  options.heads = 5;
  options.layers = 3;
  options.causal = true;
  options.dtype = DType::F16;
  std::string error;
  auto module = buildGpt(context, options, error);
  REQUIRE(succeeded(module));
  FunctionSummary summary = summarize(**module);
  CHECK(summary.causalMasks == 3);
  CHECK(shapeOf(summary, "x") == std::vector<int64_t>{3, 1000, 120});
  CHECK(shapeOf(summary, "blocks.2.attn.qkv.weight") ==
        std::vector<int64_t>{360, 120});
  func::FuncOp function = getOnlyFunction(**module);
  for (Type type : function.getArgumentTypes())
    CHECK(cast<RankedTensorType>(type).getElementType().isF16());
  const int64_t d = 120;
  CHECK(summary.weightParameters == 3 * (12 * d * d + 13 * d) + 2 * d);
}

TEST_CASE("GPT builder rejects bad options with a reason", "[models][gpt]") {
  MLIRContext context;
  std::string error;
  GptOptions options;

  options.seq = 0;
  CHECK(failed(buildGpt(context, options, error)));
  CHECK(error == "--seq must be positive, but is 0");

  options = GptOptions();
  options.hidden = 100;
  CHECK(failed(buildGpt(context, options, error)));
  CHECK(error == "--hidden (100) must be divisible by --heads (12)");

  options = GptOptions();
  options.layers = -1;
  CHECK(validate(options) ==
        std::string("--layers must be positive, but is -1"));

  options = GptOptions();
  options.seq = int64_t(1) << 40;
  REQUIRE(validate(options).has_value());
  CHECK(validate(options)->find("too large") != std::string::npos);

  CHECK_FALSE(validate(GptOptions()).has_value());
}

//===----------------------------------------------------------------------===//
// ViT
//===----------------------------------------------------------------------===//

TEST_CASE("ViT-B/16 at 384 has ViT-B/16's parameters and 577 tokens",
          "[models][vit]") {
  MLIRContext context;
  VitOptions options; // Defaults: ViT-B/16 at 384 x 384, 1000 classes.
  options.layers = 12;
  std::string error;
  auto module = buildVit(context, options, error);
  REQUIRE(succeeded(module));
  FunctionSummary summary = summarize(**module);

  CHECK(summary.everyArgumentHasNameAndRole);
  CHECK(summary.allNamesUnique);
  CHECK(summary.inputNames == std::vector<std::string>{"image"});
  CHECK(summary.resultNames == std::vector<std::string>{"logits"});
  CHECK(shapeOf(summary, "image") == std::vector<int64_t>{1, 3, 384, 384});
  CHECK(shapeOf(summary, "pos_embed") == std::vector<int64_t>{1, 577, 768});
  CHECK(shapeOf(summary, "patch_embed.proj.weight") ==
        std::vector<int64_t>{768, 768});
  for (int layer = 0; layer < 12; ++layer)
    CHECK(countWithPrefix(summary.weightNames,
                          "blocks." + std::to_string(layer) + ".") == 12);
  // patch_embed (2) + cls_token + pos_embed + 12 blocks + norm (2) + head (2).
  CHECK(summary.weightNames.size() == 2 + 1 + 1 + 12 * 12 + 2 + 2);

  const int64_t d = 768, patchPixels = 3 * 16 * 16, tokens = 24 * 24 + 1;
  const int64_t expected = (d * patchPixels + d)        // patch embedding conv
                           + d                          // class token
                           + tokens * d                 // position embedding
                           + 12 * (12 * d * d + 13 * d) // blocks
                           + 2 * d                      // final norm
                           + (1000 * d + 1000);         // head
  CHECK(summary.weightParameters == expected);
  // Published ViT-B/16 (224 x 224, 197 tokens): 86,567,656 parameters; at
  // 384 x 384 only the position embedding grows, by (577 - 197) x 768.
  CHECK(summary.weightParameters == 86567656 + (577 - 197) * 768);
}

TEST_CASE("ViT builder rejects bad options with a reason", "[models][vit]") {
  VitOptions options;
  options.image = 100;
  CHECK(validate(options) ==
        std::string("--image (100) must be divisible by --patch (16)"));
  options = VitOptions();
  options.heads = 7;
  CHECK(validate(options) ==
        std::string("--hidden (768) must be divisible by --heads (7)"));
  options = VitOptions();
  options.patch = 0;
  CHECK(validate(options) == std::string("--patch must be positive, but is 0"));

  MLIRContext context;
  std::string error;
  options = VitOptions();
  options.classes = 0;
  CHECK(failed(buildVit(context, options, error)));
  CHECK(error == "--classes must be positive, but is 0");
}

//===----------------------------------------------------------------------===//
// Evoformer
//===----------------------------------------------------------------------===//

/// Parameters of one Evoformer block with AF2's widths, written out from the
/// supplement's Algorithms 7-15 (LN: 2c; Linear: in*out (+ out with bias)).
static int64_t evoformerBlockParameters(int64_t cM, int64_t cZ) {
  auto ln = [](int64_t c) { return 2 * c; };
  auto linear = [](int64_t in, int64_t out, bool bias) {
    return in * out + (bias ? out : 0);
  };
  // Gated attention over channels c with h heads of width dh: q, k, v without
  // bias, the gate and the output with bias.
  auto attention = [&](int64_t c, int64_t h, int64_t dh) {
    return 3 * linear(c, h * dh, false) + linear(c, h * dh, true) +
           linear(h * dh, c, true);
  };
  auto transition = [&](int64_t c) {
    return ln(c) + linear(c, 4 * c, true) + linear(4 * c, c, true);
  };
  auto triangleMultiplication = [&]() {
    return ln(cZ) + 4 * linear(cZ, 128, true) + linear(cZ, cZ, true) + ln(128) +
           linear(128, cZ, true);
  };
  auto triangleAttention = [&]() {
    return ln(cZ) + linear(cZ, 4, false) + attention(cZ, 4, 32);
  };
  int64_t rowAttention =
      ln(cM) + ln(cZ) + linear(cZ, 8, false) + attention(cM, 8, 32);
  int64_t columnAttention = ln(cM) + attention(cM, 8, 32);
  int64_t outerProductMean =
      ln(cM) + 2 * linear(cM, 32, true) + linear(32 * 32, cZ, true);
  return rowAttention + columnAttention + transition(cM) + outerProductMean +
         2 * triangleMultiplication() + 2 * triangleAttention() +
         transition(cZ);
}

TEST_CASE("Evoformer block has AF2's weights and sub-algorithm order",
          "[models][evoformer]") {
  MLIRContext context;
  EvoformerOptions options; // c_m 256, c_z 128.
  options.nSeq = 12;
  options.nRes = 20;
  options.blocks = 2;
  std::string error;
  auto module = buildEvoformer(context, options, error);
  REQUIRE(succeeded(module));
  FunctionSummary summary = summarize(**module);

  CHECK(summary.everyArgumentHasNameAndRole);
  CHECK(summary.allNamesUnique);
  CHECK(summary.inputNames == std::vector<std::string>{"msa", "pair"});
  CHECK(summary.resultNames == std::vector<std::string>{"msa_out", "pair_out"});
  CHECK(shapeOf(summary, "msa") == std::vector<int64_t>{12, 20, 256});
  CHECK(shapeOf(summary, "pair") == std::vector<int64_t>{20, 20, 128});

  // Weight tensors per sub-module (LN: 2, Linear: 1 or 2).
  const std::map<std::string, int64_t> tensorsPerModule = {
      {"msa_att_row", 2 + 2 + 1 + 3 + 2 + 2},
      {"msa_att_col", 2 + 3 + 2 + 2},
      {"msa_transition", 2 + 2 + 2},
      {"outer_product_mean", 2 + 2 + 2 + 2},
      {"tri_mul_out", 2 + 4 * 2 + 2 + 2 + 2},
      {"tri_mul_in", 2 + 4 * 2 + 2 + 2 + 2},
      {"tri_att_start", 2 + 1 + 3 + 2 + 2},
      {"tri_att_end", 2 + 1 + 3 + 2 + 2},
      {"pair_transition", 2 + 2 + 2}};
  int64_t perBlock = 0;
  for (int block = 0; block < 2; ++block)
    for (const auto &[module, count] : tensorsPerModule) {
      INFO("block " << block << " " << module);
      CHECK(countWithPrefix(summary.weightNames,
                            "blocks." + std::to_string(block) + "." + module +
                                ".") == count);
      if (block == 0)
        perBlock += count;
    }
  CHECK(perBlock == 93);
  CHECK(summary.weightNames.size() == 2 * 93);
  CHECK(summary.weightParameters == 2 * evoformerBlockParameters(256, 128));

  CHECK(shapeOf(summary, "blocks.0.msa_att_row.linear_z.weight") ==
        std::vector<int64_t>{8, 128});
  CHECK(shapeOf(summary, "blocks.1.tri_att_end.linear.weight") ==
        std::vector<int64_t>{4, 128});
  CHECK(shapeOf(summary, "blocks.0.outer_product_mean.linear_out.weight") ==
        std::vector<int64_t>{128, 1024});

  // Outer product mean, then outgoing and incoming triangle multiplication,
  // in every block.
  CHECK(summary.einsumEquations ==
        std::vector<std::string>{"sic,sjd->ijcd", "ikc,jkc->ijc",
                                 "kic,kjc->ijc", "sic,sjd->ijcd",
                                 "ikc,jkc->ijc", "kic,kjc->ijc"});
}

TEST_CASE("Evoformer ops are named after the model part they belong to",
          "[models][evoformer]") {
  MLIRContext context;
  EvoformerOptions options;
  options.nSeq = 3;
  options.nRes = 5;
  options.cM = 10;
  options.cZ = 6;
  std::string error;
  auto module = buildEvoformer(context, options, error);
  REQUIRE(succeeded(module));
  std::vector<std::string> softmaxScopes;
  (*module)->walk([&](graph::SoftmaxOp op) {
    auto name = dyn_cast<NameLoc>(op.getLoc());
    REQUIRE(name);
    softmaxScopes.push_back(name.getName().str());
  });
  CHECK(softmaxScopes ==
        std::vector<std::string>{
            "blocks.0.msa_att_row.softmax", "blocks.0.msa_att_col.softmax",
            "blocks.0.tri_att_start.softmax", "blocks.0.tri_att_end.softmax"});
}

TEST_CASE("Evoformer builder rejects bad options with a reason",
          "[models][evoformer]") {
  EvoformerOptions options;
  options.nRes = 0;
  CHECK(validate(options) == std::string("--n-res must be positive, but is 0"));
  options = EvoformerOptions();
  options.cM = -4;
  CHECK(validate(options) == std::string("--c-m must be positive, but is -4"));
  options = EvoformerOptions();
  options.nRes = int64_t(1) << 30;
  REQUIRE(validate(options).has_value());
  CHECK(validate(options)->find("too large") != std::string::npos);

  MLIRContext context;
  std::string error;
  options = EvoformerOptions();
  options.blocks = 0;
  CHECK(failed(buildEvoformer(context, options, error)));
  CHECK(error == "--blocks must be positive, but is 0");
}

TEST_CASE("dtype names parse and print", "[models]") {
  CHECK(parseDType("f32") == DType::F32);
  CHECK(parseDType("f16") == DType::F16);
  CHECK(parseDType("bf16") == DType::BF16);
  CHECK_FALSE(parseDType("f64").has_value());
  CHECK_FALSE(parseDType("").has_value());
  for (DType dtype : {DType::F32, DType::F16, DType::BF16})
    CHECK(parseDType(toString(dtype)) == dtype);
}
