"""What the end-to-end tests share: running tools, tensor files, comparisons.

The end-to-end tests compile graph-dialect modules with chunk-compile, run
the executables (or load the shared libraries) and compare what comes out
with numpy. Everything here is independent of the code under test: the .npy
and .safetensors writers, bf16 rounding and the comparisons are written
from the formats' specifications.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "reference"))

class Tally:
    """Counts named checks; prints `N passed, M failed` at the end."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, condition, label, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failures.append(label)
            print(f"FAIL: {label}" + (f"\n  {detail}" if detail else ""),
                  flush=True)
        return condition

    def guard(self, label, function, *args):
        """Runs one group of checks; an exception in it counts as a failure."""
        try:
            function(*args)
        except Exception:  # noqa: BLE001 - any crash of a case is its failure
            self.check(False, label, traceback.format_exc())

    def finish(self):
        print(f"{self.passed} passed, {len(self.failures)} failed")
        return 1 if self.failures else 0


def run(command, timeout=300, **kwargs):
    return subprocess.run([str(c) for c in command], capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def describe(result):
    return (f"command: {' '.join(result.args)}\nexit {result.returncode}\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}")


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


# ----------------------------------------------------------------------------
# Element types
# ----------------------------------------------------------------------------


def round_to_bf16(values):
    """float64 -> the nearest bf16 values (round half to even), as float64."""
    return bf16_bits_to_float(float_to_bf16_bits(values))


def float_to_bf16_bits(values):
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_float(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)) \
        .view(np.float32).astype(np.float64)


def round_to(values, dtype):
    """The float64 values a tensor of `dtype` (f32, f16, bf16) can hold."""
    if dtype == "f32":
        return np.asarray(values, dtype=np.float32).astype(np.float64)
    if dtype == "f16":
        return np.asarray(values, dtype=np.float16).astype(np.float64)
    return round_to_bf16(values)


def storage(values, dtype):
    """The array to write to a file for a tensor of `dtype`; bf16 is '<u2'."""
    if dtype == "f32":
        return np.asarray(values, dtype=np.float32)
    if dtype == "f16":
        return np.asarray(values, dtype=np.float16)
    return float_to_bf16_bits(values)


def load_npy(path, dtype):
    """Reads an output file as float64, bf16 from its '<u2' bit patterns."""
    array = np.load(path)
    expected = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16}[dtype]
    if array.dtype != np.dtype(expected):
        raise AssertionError(f"{path}: dtype {array.dtype}, expected {dtype}")
    return bf16_bits_to_float(array) if dtype == "bf16" else array.astype(np.float64)


SAFETENSORS_DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def write_safetensors(path, tensors):
    """An independent .safetensors writer: {name: (float64 values, dtype)}.

    The layout: an 8-byte little-endian header length, a JSON header mapping
    names to dtype, shape and data_offsets, then the data section.
    """
    header, blobs, offset = {}, [], 0
    for name, (values, dtype) in tensors.items():
        data = np.ascontiguousarray(storage(values, dtype)).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[dtype],
                        "shape": list(np.shape(values)),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ----------------------------------------------------------------------------
# Comparisons
# ----------------------------------------------------------------------------


def compare(got, want, rtol, atol):
    """(ok, message): |got - want| <= atol * max|want| + rtol * |want|.

    atol is relative to the largest magnitude of the reference, so one
    tolerance fits tensors of any scale. Infinities must match exactly.
    """
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False, f"shape {list(got.shape)}, expected {list(want.shape)}"
    infinite = ~np.isfinite(want)
    if not np.array_equal(got[infinite], want[infinite]):
        return False, "infinities or NaNs differ from the reference"
    if np.isnan(got).any():
        return False, "NaN where the reference is finite"
    finite = ~infinite
    if not finite.any():
        return True, "all infinite, matching"
    scale = max(float(np.max(np.abs(want[finite]))), 1e-30)
    error = np.abs(got[finite] - want[finite])
    allowed = atol * scale + rtol * np.abs(want[finite])
    worst = float(np.max(error / allowed))
    message = (f"max abs error {float(np.max(error)):.3e} "
               f"(scale {scale:.3e}), {worst:.2f} of the tolerance")
    return worst <= 1.0, message


def memory_report_matches(report):
    """(ok, message): the report's planned and measured activation bytes agree.

    The planned bytes are the arena the memory planner laid out (the end of
    its highest buffer, not padded); the measured bytes are the arena's
    high-water mark, the end of the highest byte a kernel wrote. A kernel
    writing outside the plan, or a planned byte no kernel writes, shows here.
    """
    planned = report["planned_activation_bytes"]
    measured = report["measured_activation_bytes"]
    return planned == measured, f"planned {planned}, measured {measured}"
