//===- GptBuilder.cpp - a GPT-2 style decoder stack in the graph dialect --===//
//
// x [batch, seq, hidden] -> L pre-LN blocks -> ln_f, without embeddings or the
// LM head (see ModelBuilders.h).
//
//===----------------------------------------------------------------------===//

#include "ModelEmitter.h"
#include "TransformerBlock.h"

#include "llvm/ADT/Twine.h"

using namespace mlir;

namespace autochunk::models {

std::optional<std::string> validate(const GptOptions &options) {
  if (auto error = checkPositiveSizes({{"--batch", options.batch},
                                       {"--seq", options.seq},
                                       {"--hidden", options.hidden},
                                       {"--heads", options.heads},
                                       {"--layers", options.layers}}))
    return error;
  if (options.hidden % options.heads != 0)
    return ("--hidden (" + Twine(options.hidden) +
            ") must be divisible by --heads (" + Twine(options.heads) + ")")
        .str();
  int64_t b = options.batch, s = options.seq, d = options.hidden;
  return checkTensorSizes(
      {{b, options.heads, s, s}, {b, s, 4 * d}, {4 * d, d}});
}

FailureOr<OwningOpRef<ModuleOp>>
buildGpt(MLIRContext &context, const GptOptions &options, std::string &error) {
  if (std::optional<std::string> invalid = validate(options)) {
    error = *invalid;
    return failure();
  }
  ModelEmitter emitter(context, "gpt", options.dtype);
  Value x = emitter.addInput("x", {options.batch, options.seq, options.hidden});

  TransformerBlockConfig config;
  config.heads = options.heads;
  config.causal = options.causal;
  config.layerNormEpsilon = 1e-5;
  config.geluApproximation = "tanh";
  config.norm1 = "ln_1";
  config.norm2 = "ln_2";
  config.mlpIn = "mlp.fc";
  config.mlpOut = "mlp.proj";
  for (int64_t layer = 0; layer < options.layers; ++layer)
    x = emitPreLnTransformerBlock(emitter, "blocks." + Twine(layer), x, config);
  x = emitter.layerNorm("ln_f", x, 1e-5);
  return emitter.finish({{x, "hidden_states"}}, error);
}

} // namespace autochunk::models
