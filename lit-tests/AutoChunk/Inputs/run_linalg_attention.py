"""Runs the linalg attention of linalg-attention.mlir, unchunked and chunked,
through upstream MLIR (mlir-opt lowering to LLVM, mlir-runner) and checks
both outputs against numpy.

usage: run_linalg_attention.py CHUNK_OPT MLIR_OPT ATTENTION_MLIR INPUTS_DIR
       SCRATCH

mlir-runner and the runner utility libraries come from MLIR_OPT's LLVM
installation (../bin, ../lib).
"""
import os
import re
import subprocess
import sys

import numpy as np

chunk_opt, mlir_opt, attention, inputs, scratch = sys.argv[1:]
mlir_runner = os.path.join(os.path.dirname(mlir_opt), "mlir-runner")
lib_dir = os.path.join(os.path.dirname(os.path.dirname(mlir_opt)), "lib")
os.makedirs(scratch, exist_ok=True)
with open(os.path.join(inputs, "linalg-attention-main.mlir")) as f:
    driver = f.read()
LOWERING = [
    "--transform-preload-library=transform-library-paths=" +
    os.path.join(inputs, "decompose-softmax.mlir"), "--transform-interpreter",
    "--one-shot-bufferize=bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map",
    "--convert-linalg-to-loops", "--convert-scf-to-cf",
    "--expand-strided-metadata", "--lower-affine", "--convert-math-to-llvm",
    "--convert-math-to-libm", "--finalize-memref-to-llvm",
    "--convert-arith-to-llvm", "--convert-index-to-llvm",
    "--convert-cf-to-llvm", "--convert-func-to-llvm",
    "--reconcile-unrealized-casts"]


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")
    return result.stdout


def make(seed):
    h, i, d = np.meshgrid(np.arange(2), np.arange(128), np.arange(16),
                          indexing="ij")
    x = (h * 101 + i * 37 + d).astype(np.float32) * np.float32(seed)
    return np.sin(x.astype(np.float64))


q, k, v = make(0.731), make(1.377), make(0.291)
scores = np.einsum("hid,hjd->hij", q, k) * 0.25
weights = np.exp(scores - scores.max(-1, keepdims=True))
weights /= weights.sum(-1, keepdims=True)
reference = weights @ v

for name, passes in [("unchunked", []),
                     ("chunked", ["--pass-pipeline=builtin.module(func.func("
                                  "autochunk-chunk{memory-budget=65536}))"])]:
    module = run([chunk_opt, attention, *passes]).rstrip()
    loops = module.count("scf.for")
    # The driver's functions go into the module (before its closing brace).
    full = os.path.join(scratch, f"{name}.mlir")
    with open(full, "w") as f:
        f.write(module[:-1] + driver + "\n}\n")
    lowered = os.path.join(scratch, f"{name}.llvm.mlir")
    run([mlir_opt, full, *LOWERING, "-o", lowered])
    printed = run([mlir_runner, lowered, "-e", "main",
                   "-entry-point-result=void",
                   "-shared-libs=" + ",".join(
                       os.path.join(lib_dir, lib) for lib in
                       ["libmlir_c_runner_utils.so", "libmlir_runner_utils.so"])])
    data = printed.split("data =", 1)[1]
    got = np.array([float(t) for t in re.findall(
        r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", data)]).reshape(reference.shape)
    error = float(np.abs(got - reference).max())
    print(f"{name}: {loops} chunk loop(s), max abs error {error:.3g}")
    if error > 1e-5:
        sys.exit(f"{name}: the output differs from numpy by {error}")
