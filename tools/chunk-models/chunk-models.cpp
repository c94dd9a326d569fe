//===- chunk-models.cpp - writes reference model graphs as MLIR -----------===//
//
// `chunk-models gpt|vit|evoformer [options]` builds one model with the
// AutoChunk model builders, verifies it and writes it in the graph dialect.
//
//===----------------------------------------------------------------------===//

#include "autochunk/Models/ModelBuilders.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace autochunk::models;
namespace cl = llvm::cl;

static cl::OptionCategory toolCategory("chunk-models options");

static cl::SubCommand
    gptCommand("gpt",
               "GPT-2 style decoder stack: x [batch, seq, hidden] -> L pre-LN "
               "blocks -> ln_f (no embeddings, no LM head)");
static cl::SubCommand
    vitCommand("vit",
               "ViT-B/16 style classifier: image [batch, 3, image, image] -> "
               "logits [batch, classes]");
static cl::SubCommand evoformerCommand(
    "evoformer", "AlphaFold2 Evoformer blocks: msa [n_seq, n_res, c_m], pair "
                 "[n_res, n_res, c_z] (no batch, no masks)");

// Options every model takes.
static cl::opt<std::string>
    outputFilename("o", cl::desc("Output file (default: stdout)"),
                   cl::value_desc("file"), cl::init("-"), cl::sub(gptCommand),
                   cl::sub(vitCommand), cl::sub(evoformerCommand),
                   cl::cat(toolCategory));
static cl::opt<std::string>
    dtypeName("dtype",
              cl::desc("Element type of every tensor: f32, f16 or bf16 "
                       "(default f32)"),
              cl::value_desc("type"), cl::init("f32"), cl::sub(gptCommand),
              cl::sub(vitCommand), cl::sub(evoformerCommand),
              cl::cat(toolCategory));
static cl::opt<bool> printLocations(
    "print-locations",
    cl::desc("Print each op's location (the model part it belongs to)"),
    cl::sub(gptCommand), cl::sub(vitCommand), cl::sub(evoformerCommand),
    cl::cat(toolCategory));

// Sizes are parsed here rather than by cl::opt<int64_t>, so that a bad value
// gets this tool's "error:" message and exit code.
using SizeOption = cl::opt<std::string>;

#define AUTOCHUNK_SIZE_OPTION(variable, flag, description, command, initial)   \
  static SizeOption variable(flag, cl::desc(description), cl::value_desc("N"), \
                             cl::init(initial), cl::sub(command),              \
                             cl::cat(toolCategory))

AUTOCHUNK_SIZE_OPTION(gptSeq, "seq", "Sequence length (required)", gptCommand,
                      "");
AUTOCHUNK_SIZE_OPTION(gptHidden, "hidden", "Hidden size (default 768)",
                      gptCommand, "768");
AUTOCHUNK_SIZE_OPTION(gptHeads, "heads",
                      "Attention heads; must divide --hidden (default 12)",
                      gptCommand, "12");
AUTOCHUNK_SIZE_OPTION(gptLayers, "layers", "Number of blocks (default 12)",
                      gptCommand, "12");
AUTOCHUNK_SIZE_OPTION(gptBatch, "batch", "Batch size (default 1)", gptCommand,
                      "1");
static cl::opt<bool> gptCausal("causal",
                               cl::desc("Mask attention causally (a decoder)"),
                               cl::sub(gptCommand), cl::cat(toolCategory));

AUTOCHUNK_SIZE_OPTION(vitImage, "image",
                      "Image height and width in pixels (default 384)",
                      vitCommand, "384");
AUTOCHUNK_SIZE_OPTION(vitPatch, "patch",
                      "Patch size; must divide --image (default 16)",
                      vitCommand, "16");
AUTOCHUNK_SIZE_OPTION(vitHidden, "hidden", "Hidden size (default 768)",
                      vitCommand, "768");
AUTOCHUNK_SIZE_OPTION(vitHeads, "heads",
                      "Attention heads; must divide --hidden (default 12)",
                      vitCommand, "12");
AUTOCHUNK_SIZE_OPTION(vitLayers, "layers",
                      "Number of encoder blocks (default 12)", vitCommand,
                      "12");
AUTOCHUNK_SIZE_OPTION(vitClasses, "classes",
                      "Number of output classes (default 1000)", vitCommand,
                      "1000");
AUTOCHUNK_SIZE_OPTION(vitBatch, "batch", "Batch size (default 1)", vitCommand,
                      "1");

AUTOCHUNK_SIZE_OPTION(evoNSeq, "n-seq", "MSA sequences (required)",
                      evoformerCommand, "");
AUTOCHUNK_SIZE_OPTION(evoNRes, "n-res", "Residues (required)", evoformerCommand,
                      "");
AUTOCHUNK_SIZE_OPTION(evoCM, "c-m", "MSA channels (default 256)",
                      evoformerCommand, "256");
AUTOCHUNK_SIZE_OPTION(evoCZ, "c-z", "Pair channels (default 128)",
                      evoformerCommand, "128");
AUTOCHUNK_SIZE_OPTION(evoBlocks, "blocks",
                      "Number of Evoformer blocks (default 1)",
                      evoformerCommand, "1");

#undef AUTOCHUNK_SIZE_OPTION

static cl::extrahelp modelSummary(R"(
MODELS (`chunk-models <model> --help` describes one):
  chunk-models gpt --seq N [--hidden 768] [--heads 12] [--layers 12]
                   [--batch 1] [--causal]
  chunk-models vit [--image 384] [--patch 16] [--hidden 768] [--heads 12]
                   [--layers 12] [--classes 1000] [--batch 1]
  chunk-models evoformer --n-seq S --n-res R [--c-m 256] [--c-z 128]
                   [--blocks 1]
  Every model also takes [--dtype f32|f16|bf16] [-o FILE] [--print-locations].
)");

[[noreturn]] static void fail(const llvm::Twine &message) {
  llvm::errs() << "chunk-models: error: " << message << "\n";
  std::exit(1);
}

/// The integer value of a size flag; fails on a missing or malformed value.
static int64_t parseSize(const SizeOption &option) {
  llvm::StringRef text = llvm::StringRef(option.getValue()).trim();
  if (text.empty())
    fail("--" + option.ArgStr + " is required");
  int64_t value = 0;
  if (text.getAsInteger(10, value))
    fail("--" + option.ArgStr + " expects an integer, but got '" + text + "'");
  return value;
}

/// Writes `module` to `path` ("-" is stdout) through a temporary file that is
/// renamed into place only when complete.
static void writeModule(mlir::ModuleOp module, llvm::StringRef path) {
  mlir::OpPrintingFlags flags;
  if (printLocations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  if (path == "-") {
    module->print(llvm::outs(), flags);
    llvm::outs() << "\n";
    llvm::outs().flush();
    if (llvm::outs().has_error())
      fail("cannot write to stdout");
    return;
  }
  llvm::Expected<llvm::sys::fs::TempFile> temporary =
      llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temporary)
    fail("cannot create a temporary file next to '" + path +
         "': " + llvm::toString(temporary.takeError()));
  {
    llvm::raw_fd_ostream stream(temporary->FD, /*shouldClose=*/false);
    module->print(stream, flags);
    stream << "\n";
    stream.flush();
    if (stream.has_error()) {
      std::string reason = stream.error().message();
      stream.clear_error();
      llvm::consumeError(temporary->discard());
      fail("cannot write '" + path + "': " + reason);
    }
  }
  if (llvm::Error error = temporary->keep(path)) {
    std::string reason = llvm::toString(std::move(error));
    fail("cannot write '" + path + "': " + reason);
  }
}

/// Builds the model the subcommand names, from its flags.
static mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildSelectedModel(mlir::MLIRContext &context, DType dtype,
                   std::string &error) {
  if (gptCommand) {
    GptOptions options;
    options.seq = parseSize(gptSeq);
    options.hidden = parseSize(gptHidden);
    options.heads = parseSize(gptHeads);
    options.layers = parseSize(gptLayers);
    options.batch = parseSize(gptBatch);
    options.causal = gptCausal;
    options.dtype = dtype;
    return buildGpt(context, options, error);
  }
  if (vitCommand) {
    VitOptions options;
    options.image = parseSize(vitImage);
    options.patch = parseSize(vitPatch);
    options.hidden = parseSize(vitHidden);
    options.heads = parseSize(vitHeads);
    options.layers = parseSize(vitLayers);
    options.classes = parseSize(vitClasses);
    options.batch = parseSize(vitBatch);
    options.dtype = dtype;
    return buildVit(context, options, error);
  }
  if (evoformerCommand) {
    EvoformerOptions options;
    options.nSeq = parseSize(evoNSeq);
    options.nRes = parseSize(evoNRes);
    options.cM = parseSize(evoCM);
    options.cZ = parseSize(evoCZ);
    options.blocks = parseSize(evoBlocks);
    options.dtype = dtype;
    return buildEvoformer(context, options, error);
  }
  error = "no model given (expected gpt, vit or evoformer; see --help)";
  return mlir::failure();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  for (cl::SubCommand *command : {&cl::SubCommand::getTopLevel(), &gptCommand,
                                  &vitCommand, &evoformerCommand})
    cl::HideUnrelatedOptions(toolCategory, *command);

  // cl would take an unknown model for a stray positional argument.
  if (argc >= 2 && argv[1][0] != '-' &&
      !llvm::is_contained({llvm::StringRef("gpt"), llvm::StringRef("vit"),
                           llvm::StringRef("evoformer")},
                          llvm::StringRef(argv[1])))
    fail(llvm::Twine("unknown model '") + argv[1] +
         "' (expected gpt, vit or evoformer)");

  // cl reports a flag missing its value straight to stderr in its own form,
  // so that case is caught first.
  if (argc >= 3) {
    llvm::StringRef last = argv[argc - 1];
    llvm::StringRef name = last.ltrim('-');
    cl::SubCommand *command = llvm::StringSwitch<cl::SubCommand *>(argv[1])
                                  .Case("gpt", &gptCommand)
                                  .Case("vit", &vitCommand)
                                  .Default(&evoformerCommand);
    auto &options = cl::getRegisteredOptions(*command);
    auto option = options.find(name);
    if (last.starts_with("-") && option != options.end() &&
        option->second->getValueExpectedFlag() == cl::ValueRequired)
      fail(last + " requires a value");
  }

  std::string parseErrors;
  llvm::raw_string_ostream parseErrorStream(parseErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv, "AutoChunk reference models in the graph dialect\n",
          &parseErrorStream)) {
    // Restate cl's "chunk-models: <message>" lines in this tool's form.
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(parseErrors).split(lines, '\n', -1, /*KeepEmpty=*/false);
    llvm::StringRef program = llvm::sys::path::filename(argv[0]);
    for (llvm::StringRef line : lines) {
      line.consume_front(program);
      line.consume_front(":");
      line = line.trim();
      llvm::errs() << "chunk-models: "
                   << (line.starts_with("Did you mean") ? "note: " : "error: ")
                   << line << "\n";
    }
    return 1;
  }

  std::optional<DType> dtype = parseDType(dtypeName);
  if (!dtype)
    fail("unknown --dtype '" + dtypeName + "' (expected f32, f16 or bf16)");

  mlir::MLIRContext context;
  std::string error;
  mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> module =
      buildSelectedModel(context, *dtype, error);
  if (failed(module))
    fail(error);
  // The builders verify too; this keeps the promise local to the writer.
  if (failed(mlir::verify(**module)))
    fail("the built module does not verify");
  writeModule(**module, outputFilename);
  return 0;
}
