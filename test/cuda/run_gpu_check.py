#!/usr/bin/env python3
"""Runs the GPU check that test/cuda/prepare.sh built, on a GPU machine.

usage: run_gpu_check.py DIR [--work DIR] [--jobs N] [--threads N]
                        [--filter REGEX] [--results FILE.jsonl]

DIR is the prepared folder (cases.json, cases.tar.xz). Unpacks the archive
into --work (a fresh temporary folder by default), then
- runs cuda-kernel-check and checks its results with check_cuda_kernels.py
  against numpy;
- runs every case's CPU executable (on this machine's CPU: the reference)
  and its CUDA executable, unchunked and chunked, and compares every output:
  the relative error ||cuda - cpu|| / ||cpu|| (2-norms over the finite
  values) must be at most 1e-5 for f32, 1e-2 for bf16 and 2e-3 for f16, and
  max |cuda - cpu| / max |cpu| at most 1e-5, 2e-2 and 4e-3 (this catches a
  few wrong elements that the norm would average away; in bf16 and f16 it
  is a few units in the last place of the largest value, which rounding
  differences between the devices reach through a model's dozens of ops);
  infinities must be equal and NaN never passes; the CUDA run's planned
  and measured activation bytes must agree, and equal the CPU run's planned
  bytes (the same program);
- for op cases, also compares the CPU outputs with the float64 numpy
  references written at prepare time (the tolerances of test_ops.py), so
  the reference itself is checked on this machine.
Prints one line per case and variant, then "N passed, M failed"; exits 1 on
any failure, 77 (skipped) when there is no NVIDIA GPU, 2 on bad usage.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# Beside this script in a prepared folder; in test/e2e in the source tree.
sys.path[:0] = [HERE, os.path.join(HERE, os.pardir, "e2e")]
from e2e_support import compare, load_npy  # noqa: E402

# ||cuda - cpu|| / ||cpu|| and max |cuda - cpu| / max |cpu|, per output.
TOLERANCE = {"f32": 1e-5, "bf16": 1e-2, "f16": 2e-3}
ELEMENT_TOLERANCE = {"f32": 1e-5, "bf16": 2e-2, "f16": 4e-3}
SKIPPED = 77


def gpu_description():
    """'name, driver, memory' of GPU 0, or None when there is none."""
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], capture_output=True, text=True,
            timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0] if result.returncode == 0 and lines else None


def execute(command, timeout=600):
    """(exit code, output tail): a crash or a timeout is a failure too."""
    try:
        result = subprocess.run([str(c) for c in command], capture_output=True,
                                text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout} s: {' '.join(map(str, command))}"
    output = (result.stdout + result.stderr).strip()
    return result.returncode, output[-1500:]


def relative_error(got, want):
    """((norm-wise, element-wise) error, problem) over the finite values:
    ||got - want|| / ||want|| and max |got - want| / max |want|.

    `problem` names a mismatch no tolerance excuses (shape, infinities, NaN).
    """
    if got.shape != want.shape:
        return None, f"shape {list(got.shape)}, expected {list(want.shape)}"
    if np.isnan(got).any() or np.isnan(want).any():
        return None, "NaN in an output"
    infinite = np.isinf(want)
    if not np.array_equal(infinite, np.isinf(got)) or not np.array_equal(
            got[infinite], want[infinite]):
        return None, "infinities differ"
    finite = ~infinite
    if not finite.any():
        return (0.0, 0.0), None
    difference = got[finite] - want[finite]
    norm = float(np.linalg.norm(difference)) / max(
        float(np.linalg.norm(want[finite])), 1e-30)
    scale = max(float(np.max(np.abs(want[finite]))), 1e-30)
    return (norm, float(np.max(np.abs(difference))) / scale), None


def run_executable(exe, inputs, seed, threads, out_dir, device):
    command = [exe, "--outputs", out_dir, "--report", out_dir + ".json"]
    command += ["--inputs", inputs] if inputs else ["--seed", seed]
    if device == "cpu":
        command += ["--threads", threads]
    code, output = execute(command)
    if code != 0:
        return None, f"{device} run failed (exit {code}): {output}"
    with open(out_dir + ".json") as report:
        return json.load(report), None


def check_variant(case, variant, work, threads):
    """Runs one variant on both devices; returns a result record."""
    dtype = case["dtype"]
    label = f"{case['name']} {variant['label']}"
    record = {"case": case["name"], "variant": variant["label"],
              "dtype": dtype, "problems": []}
    problems = record["problems"]
    base = os.path.join(work, "runs", re.sub(r"\W+", "_", label))
    inputs = os.path.join(work, "cases", case["inputs"]) \
        if case.get("inputs") else None
    reports = {}
    for device in ("cpu", "cuda"):
        exe = os.path.join(work, "cases", variant[device])
        report, problem = run_executable(exe, inputs, case.get("seed", 0),
                                         threads, f"{base}-{device}", device)
        if problem:
            problems.append(problem)
            return record
        reports[device] = report
    names = case.get("outputs") or [
        output["name"] for output in reports["cpu"]["outputs"]]
    worst, worst_element = 0.0, 0.0
    for name in names:
        cpu = load_npy(f"{base}-cpu/{name}.npy", dtype)
        cuda = load_npy(f"{base}-cuda/{name}.npy", dtype)
        errors, problem = relative_error(cuda, cpu)
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        error, element_error = errors
        worst = max(worst, error)
        worst_element = max(worst_element, element_error)
        if error > TOLERANCE[dtype]:
            problems.append(f"{name}: cuda vs cpu {error:.2e} > "
                            f"{TOLERANCE[dtype]:g}")
        if element_error > ELEMENT_TOLERANCE[dtype]:
            problems.append(f"{name}: cuda vs cpu element-wise "
                            f"{element_error:.2e} > "
                            f"{ELEMENT_TOLERANCE[dtype]:g}")
        if case.get("numpy") and variant["label"] == "unchunked":
            want = np.load(os.path.join(work, "cases", case["numpy"],
                                        name + ".npy"))
            ok, message = compare(cpu, want, *case["numpy_tolerance"])
            if not ok:
                problems.append(f"{name}: cpu vs numpy: {message}")
    record["relative_error"] = worst
    record["max_relative_error"] = worst_element
    record["outputs"] = len(names)
    cuda, cpu = reports["cuda"], reports["cpu"]
    record["activation_bytes"] = cuda["planned_activation_bytes"]
    if cuda["planned_activation_bytes"] != cuda["measured_activation_bytes"]:
        problems.append(f"cuda activation bytes: planned "
                        f"{cuda['planned_activation_bytes']}, measured "
                        f"{cuda['measured_activation_bytes']}")
    if cuda["planned_activation_bytes"] != cpu["planned_activation_bytes"]:
        problems.append(f"planned activation bytes: cuda "
                        f"{cuda['planned_activation_bytes']}, cpu "
                        f"{cpu['planned_activation_bytes']}")
    if cuda["device"] == cpu["device"]:
        problems.append(f"the cuda executable ran on '{cuda['device']}'")
    return record


def check_kernels(directory, work):
    """Runs cuda-kernel-check and its numpy check; returns a result record."""
    record = {"case": "cuda-kernel-check", "variant": "", "dtype": "all",
              "problems": []}
    out = os.path.join(work, "kernels")
    os.makedirs(out, exist_ok=True)
    code, output = execute([os.path.join(work, "cases", "cuda-kernel-check"),
                            out])
    if code != 0:
        record["problems"].append(f"cuda-kernel-check failed (exit {code}): "
                                  f"{output}")
        return record
    code, output = execute([sys.executable,
                            os.path.join(directory, "check_cuda_kernels.py"),
                            out])
    summary = re.search(r"(\d+) passed, (\d+) failed", output)
    record["kernel_cases"] = int(summary.group(1)) if summary else 0
    if code != 0 or not summary:
        record["problems"].append(output)
    return record


def describe(record):
    if record["case"] == "cuda-kernel-check":
        return f"{record.get('kernel_cases', 0)} kernel cases match numpy"
    if "relative_error" not in record:
        return ""
    dtype = record["dtype"]
    return (f"{record['outputs']} outputs, cuda vs cpu "
            f"{record['relative_error']:.1e} (tol {TOLERANCE[dtype]:g}), "
            f"element-wise {record['max_relative_error']:.1e} (tol "
            f"{ELEMENT_TOLERANCE[dtype]:g}), "
            f"{record['activation_bytes']} activation bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--work", help="scratch folder (default: a new "
                        "temporary one, removed at the end)")
    parser.add_argument("--jobs", type=int, default=8,
                        help="cases run at the same time (default 8)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of each CPU executable (default 2)")
    parser.add_argument("--filter", default="",
                        help="run only cases whose name matches this regex")
    parser.add_argument("--results", help="write one JSON line per check here")
    args = parser.parse_args()
    manifest_path = os.path.join(args.dir, "cases.json")
    try:
        with open(manifest_path) as manifest_file:
            manifest = json.load(manifest_file)
    except (OSError, ValueError) as error:
        print(f"run: error: cannot read {manifest_path}: {error} (run "
              "test/cuda/prepare.sh BUILD_DIR OUT_DIR first)", file=sys.stderr)
        return 2
    gpu = gpu_description()
    if gpu is None:
        print("SKIP: no NVIDIA GPU (nvidia-smi found none)")
        return SKIPPED
    print(f"GPU: {gpu}", flush=True)

    work = args.work or tempfile.mkdtemp(prefix="autochunk-gpu-check-")
    start = time.time()
    try:
        with tarfile.open(os.path.join(args.dir, "cases.tar.xz")) as archive:
            if hasattr(tarfile, "data_filter"):  # Python 3.12 and later
                archive.extractall(work, filter="data")
            else:
                archive.extractall(work)
        os.makedirs(os.path.join(work, "runs"), exist_ok=True)
        cases = [case for case in manifest["cases"]
                 if re.search(args.filter, case["name"])]
        records = [check_kernels(args.dir, work)] if not args.filter else []
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(check_variant, case, variant, work,
                                   args.threads)
                       for case in cases for variant in case["variants"]]
            records += [future.result() for future in futures]
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    failed = 0
    for record in records:
        ok = not record["problems"]
        failed += not ok
        name = f"{record['case']} {record['variant']}".strip()
        print(f"{'PASS' if ok else 'FAIL'} {name}: {describe(record)}")
        for problem in record["problems"]:
            print("    " + problem.replace("\n", "\n    "))
    if args.results:
        with open(args.results, "w") as results:
            for record in records:
                results.write(json.dumps(record) + "\n")
    print(f"GPU check on {gpu}: {len(records) - failed} passed, {failed} "
          f"failed ({time.time() - start:.0f} s)")
    return 1 if failed or not records else 0


if __name__ == "__main__":
    sys.exit(main())
