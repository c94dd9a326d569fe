#!/usr/bin/env python3
"""Checks the CUDA kernels' results (written by cuda-kernel-check) against numpy.

Usage: check_cuda_kernels.py OUTDIR

Reads OUTDIR/manifest.jsonl, recomputes every case's result from its input
.npy files in float64 and compares: f32 cases must agree to a relative error
of 1e-5 (max |gpu - ref| / max |ref|), f16 to 2e-3 and bf16 to 1.6e-2 (a few
units in the last place). Infinities must match exactly. Prints each failure,
then "N passed, M failed"; exits 1 when any case fails.
"""

import json
import math
import os
import sys

import numpy as np

TOLERANCE = {"f32": 1e-5, "f16": 2e-3, "bf16": 1.6e-2}

_erf = np.vectorize(math.erf)


def round_to(dtype, values):
    """Rounds float64 values to the case's dtype, as the kernel's store does."""
    if dtype == "f16":
        return values.astype(np.float16).astype(np.float64)
    if dtype == "bf16":
        # Round to nearest even on the f32 bit pattern.
        bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
        return bits.astype(np.uint32).view(np.float32).astype(np.float64)
    return values


def unary(kind, x):
    if kind == "exp":
        return np.exp(x)
    if kind == "sqrt":
        return np.sqrt(x)
    if kind == "rsqrt":
        return 1.0 / np.sqrt(x)
    if kind == "neg":
        return -x
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if kind == "silu":
        return x / (1.0 + np.exp(-x))
    if kind == "tanh":
        return np.tanh(x)
    if kind == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if kind == "gelu_tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) *
                                        (x + 0.044715 * x ** 3)))
    raise ValueError(f"unknown unary kind {kind}")


def reference(case, inputs, out_shape):
    kernel, p = case["kernel"], case["params"]
    if kernel == "unary":
        return unary(p["kind"], inputs[0])
    if kernel == "scale":
        return inputs[0] * p["factor"]
    if kernel == "binary":
        a, b = inputs
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                "div": np.divide}[p["kind"]](a, b)
    if kernel == "causal_mask":
        x = inputs[0].copy()
        rows, cols = x.shape[-2:]
        i = np.arange(rows)[:, None] + p["row_offset"] + p["diagonal"]
        j = np.arange(cols)[None, :] + p["col_offset"]
        x[..., j > i] = -np.inf
        return x
    if kernel == "matmul":
        a, b = inputs
        if p["transpose_a"]:
            a = np.swapaxes(a, -1, -2)
        if p["transpose_b"]:
            b = np.swapaxes(b, -1, -2)
        return np.matmul(a, b)
    if kernel == "linear":
        result = np.matmul(inputs[0], inputs[1].T)
        if len(inputs) > 2:
            result = result + inputs[2]
        return result
    if kernel == "einsum":
        return np.einsum(p["equation"], *inputs)
    if kernel == "softmax":
        x = inputs[0]
        e = np.exp(x - x.max(axis=p["axis"], keepdims=True))
        return e / e.sum(axis=p["axis"], keepdims=True)
    if kernel == "layer_norm":
        x = inputs[0]
        axes = tuple(range(p["axis"], x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        result = (x - mean) / np.sqrt(var + p["eps"])
        rest = list(inputs[1:])
        if p["has_weight"]:
            result = result * rest.pop(0)
        if p["has_bias"]:
            result = result + rest.pop(0)
        return result
    if kernel == "reduce":
        fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[p["kind"]]
        return fn(inputs[0], axis=tuple(p["axes"]),
                  keepdims=bool(p["keep_dims"]))
    if kernel == "copy":
        return inputs[0]
    if kernel == "transpose":
        return np.transpose(inputs[0], p["perm"])
    if kernel == "broadcast":
        return np.broadcast_to(inputs[0], out_shape)
    if kernel == "slice":
        index = tuple(slice(start, start + step * size, step)
                      for start, step, size in zip(p["starts"], p["strides"],
                                                   out_shape))
        return inputs[0][index]
    if kernel == "concat":
        return np.concatenate(inputs, axis=p["axis"])
    if kernel == "reshape":
        return np.reshape(inputs[0], out_shape)
    if kernel == "attention":
        q, k, v = inputs[:3]
        first, stop = p["q_rows"]
        q = q[..., first:stop, :]
        t = p["scale"] * np.matmul(q, np.swapaxes(k, -1, -2))
        if p["causal"]:
            i = np.arange(q.shape[-2])[:, None] + p["row_offset"] + \
                p["diagonal"]
            j = np.arange(k.shape[-2])[None, :]
            t = np.where(j > i, -np.inf, t)
        if p["has_bias"]:
            t = t + inputs[3]
        e = np.exp(t - t.max(axis=-1, keepdims=True))
        return np.matmul(e / e.sum(axis=-1, keepdims=True), v)
    raise ValueError(f"unknown kernel {kernel}")


def load_view(directory, entry):
    array = np.load(os.path.join(directory, entry["file"])).astype(np.float64)
    if entry["perm"] is not None:
        array = np.transpose(array, entry["perm"])
    return array


def compare(case, got, want):
    """An error message, or None when `got` matches `want`."""
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    want_inf = np.isinf(want)
    if not np.array_equal(want_inf, np.isinf(got)) or not np.array_equal(
            np.sign(want[want_inf]), np.sign(got[want_inf])):
        return "infinities differ"
    if np.isnan(got).any():
        return "NaN in the result"
    finite = ~want_inf
    if not finite.any():
        return None
    scale = max(np.abs(want[finite]).max(), 1e-30)
    error = np.abs(got[finite] - want[finite]).max() / scale
    tolerance = TOLERANCE[case["dtype"]]
    if error > tolerance:
        return f"relative error {error:.3g} > {tolerance:g}"
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = argv[1]
    manifest = os.path.join(directory, "manifest.jsonl")
    try:
        with open(manifest) as file:
            cases = [json.loads(line) for line in file if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        print(f"cannot read {manifest}: {error}", file=sys.stderr)
        return 2
    passed = failed = 0
    for case in cases:
        name = case["name"]
        if case["kernel"] == "error_check":
            message = None if case["passed"] else "an invalid call was accepted"
        elif case["kernel"] == "bitwise_check":
            message = None if case["passed"] else "results differ in their bits"
        else:
            try:
                inputs = [load_view(directory, entry)
                          for entry in case["inputs"]]
                got = load_view(directory, case["output"])
                with np.errstate(over="ignore", invalid="ignore"):
                    want = round_to(case["dtype"],
                                    np.asarray(reference(case, inputs,
                                                         got.shape),
                                               dtype=np.float64))
                message = compare(case, got, want)
            except (OSError, ValueError, KeyError) as error:
                message = f"cannot check: {error}"
        if message is None:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name} ({case['kernel']}): {message}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
