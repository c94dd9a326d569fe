"""GPT, ViT and Evoformer compiled by chunk-compile, against numpy models.

usage: test_models.py CHUNK_MODELS CHUNK_COMPILE SCRATCH_DIR

For each model: chunk-models emits the graph, chunk-compile builds an
executable and a shared library. Random f32 weights and inputs, named by
the graph.name of the function's arguments, go to an inputs folder as .npy
files and to one .safetensors file. Every output of the executable is
compared with the independent float64 numpy model of
test/reference/numpy_models.py; the run report's planned and measured
activation bytes must agree; the .safetensors run and the library (called
through ctypes on numpy buffers) must give bitwise the executable's outputs.
"""
import ctypes
import json
import os
import re
import sys

import numpy as np

from e2e_support import (Tally, compare, describe, fresh_dir, load_npy,
                         memory_report_matches, round_to, run, storage,
                         write_safetensors)
from graph_interpreter import parse_result_names, parse_signature
from numpy_models import (count_blocks, evoformer_reference, gpt_reference,
                          random_parameters, vit_reference)

CHUNK_MODELS, CHUNK_COMPILE, SCRATCH = sys.argv[1:4]
# Float64 reference against f32 kernels through two blocks: the error is
# accumulated rounding, well below these.
RTOL, ATOL = 1e-4, 1e-5

MODELS = [
    ("gpt_causal", ["gpt", "--batch", "2", "--seq", "10", "--hidden", "12",
                    "--heads", "3", "--layers", "2", "--causal"],
     lambda p: gpt_reference(p, p["x"], 3, count_blocks(p), causal=True)),
    ("gpt", ["gpt", "--batch", "2", "--seq", "10", "--hidden", "12",
             "--heads", "3", "--layers", "2"],
     lambda p: gpt_reference(p, p["x"], 3, count_blocks(p), causal=False)),
    ("vit", ["vit", "--batch", "2", "--image", "24", "--patch", "8",
             "--hidden", "12", "--heads", "2", "--layers", "2",
             "--classes", "5"],
     lambda p: vit_reference(p, p["image"], 2, count_blocks(p))),
    # chunk-models uses AF2's 8 MSA and 4 pair heads: c_m 16 and c_z 12
    # give head widths of 2 and 3.
    ("evoformer", ["evoformer", "--n-seq", "5", "--n-res", "7", "--c-m", "16",
                   "--c-z", "12", "--blocks", "2"],
     lambda p: evoformer_reference(p, p["msa"], p["pair"], count_blocks(p))),
]


class Model:
    def __init__(self, name, arguments, reference):
        self.name, self.reference = name, reference
        self.dir = fresh_dir(os.path.join(SCRATCH, name))
        self.mlir = os.path.join(self.dir, "model.mlir")
        self.exe = os.path.join(self.dir, "model")
        self.lib = os.path.join(self.dir, "libmodel.so")
        self.generated = run([CHUNK_MODELS] + arguments + ["-o", self.mlir])

    def load_text(self):
        with open(self.mlir) as f:
            self.text = f.read()
        self.signature = parse_signature(self.text)
        self.output_names = parse_result_names(self.text)
        # Values f32 can hold, kept in float64 for the reference.
        rng = np.random.default_rng(len(self.name))
        self.values = {name: round_to(value, "f32") for name, value in
                       random_parameters(self.signature, rng).items()}


def run_executable(tally, model, inputs, label):
    """Runs with --inputs; returns ({name: array} of outputs, report) or None."""
    outputs = fresh_dir(os.path.join(model.dir, f"outputs-{label}"))
    report_path = os.path.join(model.dir, f"report-{label}.json")
    result = run([model.exe, "--inputs", inputs, "--outputs", outputs,
                  "--report", report_path])
    if not tally.check(result.returncode == 0,
                       f"{model.name}: runs with {label} inputs", describe(result)):
        return None
    got = {name: load_npy(os.path.join(outputs, name + ".npy"), "f32")
           for name in model.output_names}
    with open(report_path) as f:
        return got, json.load(f)


def check_model(tally, model):
    name = model.name
    if not tally.check(model.generated.returncode == 0,
                       f"{name}: chunk-models emits it", describe(model.generated)):
        return
    model.load_text()
    tally.check(len(model.signature) > 0 and len(model.output_names) > 0,
                f"{name}: the signature names its arguments and results")

    npy_dir = fresh_dir(os.path.join(model.dir, "inputs"))
    for tensor, value in model.values.items():
        np.save(os.path.join(npy_dir, tensor + ".npy"), storage(value, "f32"))
    safetensors = os.path.join(model.dir, "inputs.safetensors")
    write_safetensors(safetensors, {tensor: (value, "f32") for tensor, value
                                    in model.values.items()})

    compiled = run([CHUNK_COMPILE, model.mlir, "-o", model.exe])
    if not tally.check(compiled.returncode == 0, f"{name}: compiles to an "
                       "executable", describe(compiled)):
        return
    ran = run_executable(tally, model, npy_dir, "npy")
    if ran is None:
        return
    got, report = ran
    want = model.reference(model.values)
    tally.check(len(want) == len(model.output_names),
                f"{name}: as many outputs as the reference",
                f"{len(model.output_names)} outputs, reference {len(want)}")
    for output, expected in zip(model.output_names, want):
        ok, message = compare(got[output], expected, RTOL, ATOL)
        tally.check(ok, f"{name}: output {output} matches the numpy model",
                    message)
    ok, message = memory_report_matches(report)
    tally.check(ok, f"{name}: planned activation bytes match the measured "
                "ones", message)
    print(f"{name}: {message}")

    ran = run_executable(tally, model, safetensors, "safetensors")
    if ran is not None:
        for output in model.output_names:
            tally.check(np.array_equal(ran[0][output], got[output]),
                        f"{name}: output {output} from .safetensors inputs is "
                        "bitwise that of .npy inputs")

    check_library(tally, model, got)


def parse_header(path, model):
    """(C prefix, workspace bytes, [argument names]) from the generated header."""
    with open(path) as f:
        header = f.read()
    prefix = re.search(r"^int (\w+)_run\(const void \*const \*args, "
                       r"void \*const \*outputs, void \*workspace\);",
                       header, re.M).group(1)
    defines = dict(re.findall(r"^#define (\w+) (\d+)$", header, re.M))
    upper = prefix.upper()
    arguments = re.findall(r"^ \*   \[\d+\] ([\w.-]+): f32\[[0-9x]*\] "
                           r"\((?:input|weight)\)$", header, re.M)
    return (prefix, int(defines[upper + "_WORKSPACE_BYTES"]),
            int(defines[upper + "_NUM_ARGS"]),
            int(defines[upper + "_NUM_OUTPUTS"]), arguments)


def aligned_zeros(nbytes, alignment=64):
    raw = np.zeros(nbytes + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start:start + nbytes]


def check_library(tally, model, executable_outputs):
    name = model.name
    compiled = run([CHUNK_COMPILE, model.mlir, "--emit=lib", "-o", model.lib])
    header_path = os.path.join(model.dir, "libmodel.h")
    if not tally.check(compiled.returncode == 0 and os.path.exists(header_path),
                       f"{name}: compiles to a library and header",
                       describe(compiled)):
        return
    prefix, workspace_bytes, num_args, num_outputs, header_args = \
        parse_header(header_path, model)
    argument_names = [n for _, n, _, _ in model.signature]
    tally.check(header_args == argument_names and num_args == len(argument_names)
                and num_outputs == len(model.output_names),
                f"{name}: the header lists the arguments in signature order",
                f"header {header_args[:4]}..., signature {argument_names[:4]}...")

    library = ctypes.CDLL(os.path.abspath(model.lib))
    run_model = getattr(library, prefix + "_run")
    run_model.restype = ctypes.c_int
    run_model.argtypes = [ctypes.POINTER(ctypes.c_void_p)] * 2 + [ctypes.c_void_p]
    last_error = getattr(library, prefix + "_last_error")
    last_error.restype = ctypes.c_char_p

    arguments = [np.ascontiguousarray(storage(model.values[n], "f32"))
                 for n in argument_names]
    want = [executable_outputs[n] for n in model.output_names]
    outputs = [np.full(w.shape, np.nan, dtype=np.float32) for w in want]
    argument_pointers = (ctypes.c_void_p * len(arguments))(
        *(a.ctypes.data for a in arguments))
    output_pointers = (ctypes.c_void_p * len(outputs))(
        *(o.ctypes.data for o in outputs))
    # Garbage in the workspace must not matter: run twice, second time dirty.
    workspace = aligned_zeros(max(workspace_bytes, 1))
    for attempt in ("clean", "reused"):
        status = run_model(argument_pointers, output_pointers,
                           ctypes.c_void_p(workspace.ctypes.data))
        if not tally.check(status == 0, f"{name}: {prefix}_run returns 0 "
                           f"({attempt} workspace)",
                           f"status {status}: {last_error()}"):
            return
        for output, got, expected in zip(model.output_names, outputs, want):
            tally.check(np.array_equal(got.astype(np.float64), expected),
                        f"{name}: library output {output} is bitwise the "
                        f"executable's ({attempt} workspace)")
        workspace[:] = 0xA5


def main():
    tally = Tally()
    fresh_dir(SCRATCH)
    for name, arguments, reference in MODELS:
        model = Model(name, arguments, reference)
        tally.guard(f"{name}: checks run", check_model, tally, model)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
