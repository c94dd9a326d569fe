# The lit configuration of the AutoChunk FileCheck suite.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "AUTOCHUNK"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.autochunk_obj_root, "lit-tests")

# CUDA executables can be built (not run: there may be no GPU) when the
# toolkit was found.
if config.autochunk_have_cuda:
    config.available_features.add("cuda")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.autochunk_tools_dir, config.llvm_tools_dir]
tools = ["chunk-opt", "chunk-models", "chunk-compile", "chunk-plan-dump", "FileCheck", "not", "count"]
llvm_config.add_tool_substitutions(
    [t for t in tools if t not in ("FileCheck", "not", "count")], tool_dirs)
# Ahead of the default %python (lit's own interpreter, which may lack numpy).
config.substitutions.insert(0, ("%python", config.python_executable))
config.substitutions.append(("%src_root", config.autochunk_src_root))
# The plugin for the stock mlir-opt (Debian's, from the LLVM tools folder).
config.substitutions.append(
    ("%autochunk_plugin",
     os.path.join(config.autochunk_obj_root, "lib", "AutoChunkPlugin.so")))
config.substitutions.append(
    ("%stock_mlir_opt", os.path.join(config.llvm_tools_dir, "mlir-opt")))
