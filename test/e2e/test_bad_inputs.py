"""Bad inputs to chunk-compile and to the executables it builds.

usage: test_bad_inputs.py CHUNK_COMPILE SCRATCH_DIR

Each bad input must end with exit status 1 (not a crash), an `error:`
message that names the problem (the file, tensor or flag at fault), and no
output left behind: no --outputs files or report for an executable; for
chunk-compile neither the -o path, nor a library's header, nor a `*.tmp*`
file next to them.
"""
import json
import os
import re
import struct
import sys

import numpy as np

from e2e_support import Tally, describe, fresh_dir, run, write_safetensors

CHUNK_COMPILE, SCRATCH = sys.argv[1:3]

MODEL = """\
func.func @mlp(%x: tensor<4x8xf32> {graph.name = "x", graph.role = "input"},
               %w: tensor<16x8xf32> {graph.name = "fc.weight", graph.role = "weight"},
               %b: tensor<16xf32> {graph.name = "fc.bias", graph.role = "weight"})
    -> (tensor<4x16xf32> {graph.name = "y"}) {
  %0 = graph.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = graph.gelu %0 {approximate = "tanh"} : tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}
"""
SHAPES = {"x": (4, 8), "fc.weight": (16, 8), "fc.bias": (16,)}
RNG = np.random.default_rng(3)


def path(*parts):
    return os.path.join(SCRATCH, *parts)


def write_inputs(directory, replace=None, extra=None):
    """Good .npy inputs, except `replace` {name: array}; `extra` adds files."""
    fresh_dir(directory)
    arrays = {n: RNG.standard_normal(s).astype(np.float32)
              for n, s in SHAPES.items()}
    arrays.update(replace or {})
    arrays.update(extra or {})
    for name, array in arrays.items():
        np.save(os.path.join(directory, name + ".npy"), array)
    return directory


def truncate(file_name, keep):
    with open(file_name, "rb") as f:
        data = f.read()
    with open(file_name, "wb") as f:
        f.write(data[:keep] if keep >= 0 else data[:len(data) + keep])


def raw_safetensors(file_name, header_bytes, data=b"", claimed_length=None):
    """A .safetensors file with the given header text (and stated length)."""
    length = len(header_bytes) if claimed_length is None else claimed_length
    with open(file_name, "wb") as f:
        f.write(struct.pack("<Q", length) + header_bytes + data)
    return file_name


# ----------------------------------------------------------------------------
# The executable
# ----------------------------------------------------------------------------


def executable_cases():
    """[(label, --inputs value or None, extra flags, words the error names)]."""
    cases = []
    cases.append(("missing --inputs folder", path("no-such-folder"), [],
                  ["no-such-folder"]))
    cases.append(("missing --inputs file", path("no-such.safetensors"), [],
                  ["no-such.safetensors"]))
    cases.append(("weight of the wrong dtype", write_inputs(
        path("in-dtype"), {"fc.weight": np.ones((16, 8), np.float16)}), [],
        ["fc.weight", "f16"]))
    cases.append(("weight stored as float64", write_inputs(
        path("in-f64"), {"fc.weight": np.ones((16, 8), np.float64)}), [],
        ["fc.weight", "<f8"]))
    cases.append(("weight of the wrong shape", write_inputs(
        path("in-shape"), {"fc.weight": np.ones((8, 16), np.float32)}), [],
        ["fc.weight", "shape"]))
    truncated = write_inputs(path("in-truncated"))
    truncate(os.path.join(truncated, "fc.weight.npy"), -10)
    cases.append(("truncated .npy data", truncated, [],
                  ["fc.weight", "truncated"]))
    cut_header = write_inputs(path("in-cut-header"))
    truncate(os.path.join(cut_header, "fc.bias.npy"), 40)
    cases.append(("truncated .npy header", cut_header, [], ["fc.bias"]))
    cases.append(("unknown input name in the folder", write_inputs(
        path("in-unknown"), extra={"fc.wieght": np.ones(3, np.float32)}), [],
        ["fc.wieght"]))
    cases.append(("safetensors header that is not JSON", raw_safetensors(
        path("not-json.safetensors"),
        b'{"x": {"dtype": "F32", "shape": [4, 8], oops}}      ', bytes(128)),
        [], ["not-json.safetensors", "JSON"]))
    cases.append(("safetensors header longer than the file", raw_safetensors(
        path("short.safetensors"), b'{"x": {"dtype":', claimed_length=4096),
        [], ["short.safetensors"]))
    header = json.dumps({"x": {"dtype": "F32", "shape": [4, 8],
                               "data_offsets": [0, 128]},
                         "fc.weight": {"dtype": "F32", "shape": [16, 8],
                                       "data_offsets": [128, 640]}}).encode()
    cases.append(("safetensors offsets beyond the data", raw_safetensors(
        path("offsets.safetensors"), header + b" " * (-len(header) % 8),
        bytes(200)), [], ["fc.weight"]))
    wrong = path("wrong-dtype.safetensors")
    write_safetensors(wrong, {"x": (np.ones((4, 8)), "f32"),
                              "fc.weight": (np.ones((16, 8)), "bf16")})
    cases.append(("safetensors weight of the wrong dtype", wrong, [],
                  ["fc.weight", "bf16"]))
    for value in ("0", "-1", "abc", "1.5", ""):
        cases.append((f"--repeat '{value}'", None, ["--repeat", value],
                      ["--repeat", f"'{value}'"]))
    cases.append(("--repeat without a value", None, ["--repeat"], ["--repeat"]))
    cases.append(("--warmup '-1'", None, ["--warmup", "-1"], ["--warmup"]))
    cases.append(("--threads '0'", None, ["--threads", "0"], ["--threads"]))
    cases.append(("unknown flag", None, ["--repaet", "2"], ["--repaet"]))
    return cases


def check_executable(tally):
    directory = fresh_dir(path("model"))
    source = os.path.join(directory, "mlp.mlir")
    with open(source, "w") as f:
        f.write(MODEL)
    executable = os.path.join(directory, "mlp")
    compiled = run([CHUNK_COMPILE, source, "-o", executable])
    if not tally.check(compiled.returncode == 0, "the test model compiles",
                       describe(compiled)):
        return
    # The good run, so that each failure below is the bad input's doing.
    good_outputs = path("good-outputs")
    result = run([executable, "--inputs", write_inputs(path("in-good")),
                  "--outputs", good_outputs, "--report", path("good.json")])
    tally.check(result.returncode == 0 and
                os.path.exists(os.path.join(good_outputs, "y.npy")) and
                os.path.exists(path("good.json")),
                "good inputs run and write the output and report",
                describe(result))

    for label, inputs, flags, words in executable_cases():
        outputs = path("outputs-" + re.sub(r"\W+", "_", label))
        report = outputs + ".json"
        command = [executable, "--outputs", outputs, "--report", report] + flags
        if inputs is not None:
            command += ["--inputs", inputs]
        result = run(command)
        tally.check(result.returncode == 1, f"executable, {label}: exit 1",
                    describe(result))
        tally.check("error:" in result.stderr and
                    all(w.lower() in result.stderr.lower() for w in words),
                    f"executable, {label}: the error names {words}",
                    describe(result))
        left = os.listdir(outputs) if os.path.isdir(outputs) else []
        tally.check(not left and not os.path.exists(report),
                    f"executable, {label}: no output or report left",
                    f"left: {left}, report exists: {os.path.exists(report)}")


# ----------------------------------------------------------------------------
# chunk-compile
# ----------------------------------------------------------------------------


def write_model(name, text):
    file_name = path("models", name)
    with open(file_name, "w") as f:
        f.write(text)
    return file_name


def compiler_cases():
    """[(label, arguments before -o, -o path or None, error pattern, emit lib)]."""
    fresh_dir(path("models"))
    good = write_model("mlp.mlir", MODEL)
    unparseable = write_model("unparseable.mlir", MODEL.replace(
        "return %1 : tensor<4x16xf32>", "return %1 tensor<4x16xf32>"))
    two = write_model("two.mlir", MODEL + MODEL.replace("@mlp", "@other"))
    slash = write_model("slash.mlir", MODEL.replace('"fc.weight"', '"fc/weight"'))
    with open(path("a-file"), "w") as f:
        f.write("not a folder\n")
    fresh_dir(path("a-folder"))
    return [
        ("a missing model file", [path("models", "missing.mlir")], None,
         r"error: .*missing\.mlir", False),
        ("an unparseable model", [unparseable], None,
         r"unparseable\.mlir:7:\d+: error: ", False),
        ("two public functions", [two], None,
         r"two\.mlir:\d+:\d+: error: expected one public function.*@mlp and @other",
         False),
        ("a '/' in a graph.name", [slash], None,
         r"slash\.mlir:\d+:\d+: error: tensor name 'fc/weight'", False),
        ("--compile-to=bogus", [good, "--compile-to=bogus"], None,
         r"error: unknown phase 'bogus'", False),
        ("--emit=bogus", [good, "--emit=bogus"], None,
         r"error: unknown --emit kind 'bogus'", False),
        ("--target=tpu", [good, "--memory-budget=0.5x", "--target=tpu"], None,
         r"error: unknown target 'tpu'", False),
        ("--device=tpu", [good, "--device=tpu"], None,
         r"error: unknown device 'tpu'", False),
        ("--memory-budget=abc", [good, "--memory-budget=abc"], None,
         r"error: cannot read the memory budget 'abc'", False),
        ("--emit=exe with --compile-to=kernels",
         [good, "--emit=exe", "--compile-to=kernels"], None,
         r"error: --emit=exe needs the whole pipeline", False),
        ("-o in a missing folder", [good], path("no-such-folder", "model"),
         r"error: cannot write .*no-such-folder", False),
        ("-o under a file", [good], path("a-file", "model"),
         r"error: .*a-file", False),
        ("-o naming a folder", [good], path("a-folder"),
         r"error: cannot write .*a-folder", False),
        ("--emit=lib, -o under a file", [good, "--emit=lib"],
         path("a-file", "libm.so"), r"error: .*a-file", True),
        ("--emit=lib, -o naming a folder", [good, "--emit=lib"],
         path("a-folder"), r"error: cannot write .*a-folder", True),
        ("--emit=obj, -o naming a folder", [good, "--emit=obj"],
         path("a-folder"), r"error: cannot write .*a-folder", False),
        ("--emit=llvm, -o in a missing folder", [good, "--emit=llvm"],
         path("no-such-folder", "m.ll"), r"error: .*no-such-folder", False),
    ]


def leftovers(output, library):
    """Files the failed compilation left: the output, a header, temporaries."""
    parent = os.path.dirname(output) or "."
    base = os.path.basename(output)
    found = []
    if os.path.isfile(output):
        found.append(output)
    if library:
        header = os.path.splitext(output)[0] + ".h"
        if os.path.exists(header):
            found.append(header)
    if os.path.isdir(parent):
        stem = os.path.splitext(base)[0]
        found += [os.path.join(parent, n) for n in os.listdir(parent)
                  if ".tmp" in n and (n.startswith(base) or n.startswith(stem))]
    if os.path.isdir(output):
        found += [os.path.join(output, n) for n in os.listdir(output)]
    return found


def check_compiler(tally):
    for label, arguments, output, pattern, library in compiler_cases():
        output = output or path("compiled", re.sub(r"\W+", "_", label))
        os.makedirs(path("compiled"), exist_ok=True)
        result = run([CHUNK_COMPILE] + arguments + ["-o", output])
        tally.check(result.returncode == 1, f"chunk-compile, {label}: exit 1",
                    describe(result))
        tally.check(re.search(pattern, result.stderr) is not None,
                    f"chunk-compile, {label}: the error matches '{pattern}'",
                    describe(result))
        left = leftovers(output, library)
        tally.check(not left, f"chunk-compile, {label}: nothing left behind",
                    f"left: {left}")


def main():
    tally = Tally()
    fresh_dir(SCRATCH)
    tally.guard("executable checks run", check_executable, tally)
    tally.guard("chunk-compile checks run", check_compiler, tally)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
