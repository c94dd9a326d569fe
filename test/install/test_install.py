"""Installs the build into a scratch prefix and builds a project against it.

usage: test_install.py --cmake CMAKE --build-dir DIR --consumer SRC_DIR
                       --scratch DIR --cxx CXX [--generator G]
                       [--make-program P] [--launcher CCACHE]
                       [--mlir-opt MLIR_OPT]

`cmake --install` puts headers, libraries, tools, the plugin and the
AutoChunk package into SCRATCH/prefix; the consumer project (consumer/) finds
it with find_package(AutoChunk CONFIG) alone and runs buildAutoChunkPipeline.
The checks: the installed layout, the consumer's arena sizes (a hand-computed
one, and chunking under a budget shrinking the arena), agreement with the
installed chunk-opt and with the installed plugin in the stock mlir-opt,
a bad budget failing cleanly, and no path into the build or source tree
leaking into what a consumer uses. Last, the prefix is moved elsewhere and
its chunk-compile builds and runs a small model with the runtime of the
moved prefix (its link command names neither the build tree, the source
tree nor the old prefix), giving the same bits as the build tree's.
"""
import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--cmake", required=True)
parser.add_argument("--build-dir", required=True)
parser.add_argument("--consumer", required=True)
parser.add_argument("--scratch", required=True)
parser.add_argument("--cxx", required=True)
parser.add_argument("--generator")
parser.add_argument("--make-program")
parser.add_argument("--launcher")
parser.add_argument("--mlir-opt")
args = parser.parse_args()

PREFIX = os.path.join(args.scratch, "prefix")
CONSUMER_BUILD = os.path.join(args.scratch, "consumer-build")
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__))))
passed = 0
failed = 0


def check(condition, what):
    global passed, failed
    if condition:
        passed += 1
        print(f"PASS {what}")
    else:
        failed += 1
        print(f"FAIL {what}")
    return condition


def run(command, timeout=600):
    """Runs `command`, returning (exit status, stdout, stderr)."""
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def run_or_die(command, what):
    status, out, err = run(command)
    if not check(status == 0, what):
        print(" ".join(command))
        print(out[-4000:], err[-4000:], sep="\n")
        finish()
    return out


def finish():
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def arena_of(text):
    """The autochunk.arena_bytes of printed IR, or None."""
    match = re.search(r"autochunk\.arena_bytes = (\d+) : i64", text)
    return int(match.group(1)) if match else None


def consumer(*arguments):
    """Runs the consumer: (status, {function: (arena bytes, loops)}, stderr)."""
    status, out, err = run([os.path.join(CONSUMER_BUILD, "autochunk-consumer"),
                            *arguments])
    results = {name: (int(arena), int(loops)) for name, arena, loops in
               re.findall(r"@(\w+) arena_bytes=(\d+) chunk_loops=(\d+)", out)}
    return status, results, err


shutil.rmtree(args.scratch, ignore_errors=True)
os.makedirs(args.scratch)

# --- Install -----------------------------------------------------------------
run_or_die([args.cmake, "--install", args.build_dir, "--prefix", PREFIX],
           "cmake --install into a fresh prefix")
for relative in [
        "include/autochunk/Passes/Registration.h",
        "include/autochunk/Passes/Pipelines.h",
        "include/autochunk/Passes/Passes.h.inc",
        "include/autochunk/Dialect/Graph/GraphOps.h.inc",
        "include/autochunk/Dialect/Graph/DimensionFlowOpInterface.h.inc",
        "include/autochunk/Dialect/Kernel/KernelOps.h.inc",
        "lib/libAutoChunkPasses.a",
        "lib/libAutoChunkGraphDialect.a",
        "lib/libAutoChunkCompiler.a",
        "lib/libautochunk_runtime.a",
        "lib/AutoChunkPlugin.so",
        "lib/cmake/AutoChunk/AutoChunkConfig.cmake",
        "lib/cmake/AutoChunk/AutoChunkConfigVersion.cmake",
        "lib/cmake/AutoChunk/AutoChunkTargets.cmake",
        "bin/chunk-opt", "bin/chunk-models", "bin/chunk-compile",
        "bin/chunk-plan-dump"]:
    check(os.path.isfile(os.path.join(PREFIX, relative)),
          f"installed {relative}")
check(not any(name == "CMakeFiles" or name.endswith(".cpp")
              for _, dirs, files in os.walk(os.path.join(PREFIX, "include"))
              for name in dirs + files),
      "no build-system files or sources under include/")

# The version file accepts the installed 0.1 series and refuses a newer one.
version_file = os.path.join(PREFIX,
                            "lib/cmake/AutoChunk/AutoChunkConfigVersion.cmake")
for requested, compatible in [("0.1", "TRUE"), ("99.0", "FALSE")]:
    probe = os.path.join(args.scratch, "version-probe.cmake")
    with open(probe, "w") as f:
        major, minor = requested.split(".")
        # What find_package(AutoChunk <requested>) sets before including it.
        f.write(f'set(PACKAGE_FIND_VERSION "{requested}")\n'
                f'set(PACKAGE_FIND_VERSION_MAJOR "{major}")\n'
                f'set(PACKAGE_FIND_VERSION_MINOR "{minor}")\n'
                'set(CMAKE_SIZEOF_VOID_P 8)\n'
                f'include("{version_file}")\n'
                'message("compatible=${PACKAGE_VERSION_COMPATIBLE}")\n')
    status, out, err = run([args.cmake, "-P", probe])
    check(status == 0 and f"compatible={compatible}" in err,
          f"a request for version {requested} is "
          f"{'accepted' if compatible == 'TRUE' else 'refused'} ({err.strip()})")

# --- Consumer project ----------------------------------------------------------
# MLIR_DIR is not passed: AutoChunkConfig.cmake has to find MLIR itself.
configure = [args.cmake, "-S", args.consumer, "-B", CONSUMER_BUILD,
             f"-DCMAKE_PREFIX_PATH={PREFIX}",
             f"-DCMAKE_CXX_COMPILER={args.cxx}",
             "-DCMAKE_BUILD_TYPE=Release"]
if args.generator:
    configure.append(f"-G{args.generator}")
if args.make_program:
    configure.append(f"-DCMAKE_MAKE_PROGRAM={args.make_program}")
if args.launcher:
    configure.append(f"-DCMAKE_CXX_COMPILER_LAUNCHER={args.launcher}")
run_or_die(configure, "consumer configures with find_package(AutoChunk)")
run_or_die([args.cmake, "--build", CONSUMER_BUILD, "-j2"],
           "consumer builds and links")

# What the consumer compiles and links with must come from the prefix (and
# MLIR), not from the tree AutoChunk was built in.
build_rules = ""
for file_name in ["build.ninja", "CMakeFiles/autochunk-consumer.dir/flags.make",
                  "CMakeFiles/autochunk-consumer.dir/link.txt"]:
    full_name = os.path.join(CONSUMER_BUILD, file_name)
    if os.path.isfile(full_name):
        with open(full_name) as f:
            build_rules += f.read()
with open(os.path.join(PREFIX, "lib/cmake/AutoChunk/AutoChunkTargets.cmake")) as f:
    targets_file = f.read()
# The scratch folder and the consumer's sources may lie inside those trees.
used = build_rules + targets_file
for allowed in [os.path.realpath(args.scratch),
                os.path.realpath(args.consumer)]:
    used = used.replace(allowed, "<allowed>")
build_tree = os.path.realpath(args.build_dir)
check(build_tree + os.sep not in used,
      "the consumer's build and the exported targets do not use the build tree")
# The build tree may lie inside the source tree.
check(SOURCE_DIR + os.sep not in used.replace(build_tree, "<build>"),
      "the consumer's build and the exported targets do not use the source tree")

# --- What the consumer computes ------------------------------------------------
# One relu on 4x8xf32: the arena holds only its output, 4 * 8 * 4 = 128 bytes
# (a multiple of the 64-byte alignment already).
status, results, err = consumer("relu")
check(status == 0 and results == {"relu": (128, 0)},
      f"relu without a budget plans a 128-byte arena (got {results} {err})")

status, results, err = consumer("attention")
unchunked = results.get("attention", (None, None))
check(status == 0 and unchunked[0] is not None and unchunked[1] == 0,
      f"attention without a budget: no chunk loop (got {results} {err})")

status, results, err = consumer("attention", "0.7x")
chunked = results.get("attention", (None, None))
check(status == 0 and chunked[1] is not None and chunked[1] >= 1 and
      unchunked[0] is not None and 0 < chunked[0] < unchunked[0],
      f"attention under 0.7x is chunked into a smaller arena "
      f"(got {chunked}, unchunked {unchunked}) {err}")

status, results, err = consumer("attention", "banana")
check(status == 1 and "invalid memory budget 'banana'" in err and not results,
      f"a bad budget fails with a message (status {status}: {err.strip()})")

# --- The installed tools agree with the consumer --------------------------------
with open(os.path.join(args.consumer, "main.cpp")) as f:
    attention = re.search(r'kAttentionSource = R"mlir\((.*?)\)mlir"',
                          f.read(), re.S).group(1)
attention_file = os.path.join(args.scratch, "attention.mlir")
with open(attention_file, "w") as f:
    f.write(attention)
pipeline = ("--pass-pipeline=builtin.module(autochunk-pipeline"
            "{memory-budget=0.7x fuse-attention=false lower-to-llvm=false})")
status, out, err = run([os.path.join(PREFIX, "bin/chunk-opt"), attention_file,
                        pipeline])
check(status == 0 and arena_of(out) == chunked[0],
      f"installed chunk-opt plans the same arena ({arena_of(out)} {err})")

if args.mlir_opt:
    plugin = os.path.join(PREFIX, "lib/AutoChunkPlugin.so")
    status, out, err = run([args.mlir_opt, f"--load-dialect-plugin={plugin}",
                            f"--load-pass-plugin={plugin}", attention_file,
                            pipeline])
    check(status == 0 and arena_of(out) == chunked[0],
          f"installed plugin in {os.path.basename(args.mlir_opt)} plans the "
          f"same arena ({arena_of(out)} {err})")

# --- A moved prefix compiles and runs models with its own runtime --------------
# Outside the build and source trees (the scratch folder lies in the build
# tree), so that any path into them in the link command is a leak.
moved_root = tempfile.mkdtemp(prefix="autochunk-moved-")
atexit.register(shutil.rmtree, moved_root, True)
MOVED = os.path.join(moved_root, "autochunk")
shutil.move(PREFIX, MOVED)
model = os.path.join(moved_root, "gpt.mlir")
run_or_die([os.path.join(MOVED, "bin/chunk-models"), "gpt", "--seq", "24",
            "--hidden", "16", "--heads", "2", "--layers", "1", "--causal",
            "-o", model], "the moved chunk-models writes a small GPT")
moved_exe = os.path.join(moved_root, "gpt-moved")
environment = dict(os.environ, AUTOCHUNK_PRINT_LINK_COMMAND="1")
result = subprocess.run([os.path.join(MOVED, "bin/chunk-compile"), model,
                         "--emit=exe", "--memory-budget=0.6x", "-o",
                         moved_exe], capture_output=True, text=True,
                        env=environment, timeout=600)
check(result.returncode == 0 and os.path.isfile(moved_exe),
      f"the moved chunk-compile builds an executable ({result.stderr[-2000:]})")
link = "".join(line for line in result.stderr.splitlines()
               if "link command:" in line)
check(os.path.join(MOVED, "lib", "libautochunk_runtime.a") in link and
      "-I" + os.path.join(MOVED, "include") in link,
      f"it links with the moved prefix's runtime and headers ({link})")
check(build_tree + os.sep not in link and SOURCE_DIR + os.sep not in link and
      PREFIX + os.sep not in link,
      "its link command names neither the build tree, the source tree nor "
      "the old prefix")

# The same model from the build tree's chunk-compile: the same bits.
tree_exe = os.path.join(moved_root, "gpt-tree")
run_or_die([os.path.join(args.build_dir, "bin/chunk-compile"), model,
            "--emit=exe", "--memory-budget=0.6x", "-o", tree_exe],
           "the build tree's chunk-compile builds the same model")
outputs = {}
for name, exe in [("moved", moved_exe), ("tree", tree_exe)]:
    folder = os.path.join(moved_root, f"out-{name}")
    run_or_die([exe, "--seed", "5", "--threads", "1", "--outputs", folder],
               f"the {name} executable runs")
    outputs[name] = {entry: open(os.path.join(folder, entry), "rb").read()
                     for entry in sorted(os.listdir(folder))}
check(outputs["moved"] and outputs["moved"] == outputs["tree"],
      f"the moved prefix's executable writes the build tree's bits "
      f"({sorted(outputs['moved'])})")

finish()
