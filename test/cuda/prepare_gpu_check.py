#!/usr/bin/env python3
"""Builds the GPU check on a machine with chunk-compile and the CUDA toolkit.

usage: prepare_gpu_check.py BUILD_DIR OUT_DIR [--jobs N] [--dtypes f32,bf16,f16]

Writes OUT_DIR (replaced as a whole, only once everything is built) holding
what OUT_DIR/run.sh runs on a GPU machine, which needs neither MLIR nor a
build tree there, only python3 with numpy:

- every op case of the CPU end-to-end op test (test/e2e/test_ops.py: its
  graph builders, inputs and float64 numpy references) in f32, bf16 and f16,
  compiled for the CPU and for CUDA (unchunked: an op graph's peak is its
  inputs and outputs, which no budget can chunk);
- GPT, ViT and Evoformer graphs (small ones and medium ones) in the same
  dtypes, compiled for the CPU and for CUDA, unchunked and at budgets that
  chunk them (f16 unchunked only);
- bin/cuda-kernel-check and check_cuda_kernels.py (per-kernel numpy checks).

The executables (about 1-2 MB each, mostly the same runtime) go into one
solid xz archive, which compresses them about 20-fold; OUT_DIR/cases.json
lists every case. Every graph op of GraphOps.td must appear in some op case:
prepare fails and names the missing ones otherwise.
"""
import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
E2E = os.path.join(ROOT, "test", "e2e")
GRAPH_OPS_TD = os.path.join(ROOT, "dialects", "include", "autochunk",
                            "Dialect", "Graph", "GraphOps.td")

DTYPES = ("f32", "bf16", "f16")
# Cost model target for every chunked compile, CPU and CUDA alike, so that
# both devices run the same chunked program.
TARGET = "h100"
# The models: chunk-models arguments, the budgets to chunk them at and, for
# the "_unfused" ones, chunk-compile flags (attention unfused: its logits
# exist and chunk loops slice them). Sizes
# are not powers of two; the medium ones reach larger GEMMs and longer rows
# than the small ones (other kernel code paths). The seed fills weights and
# inputs the same way on both devices.
MODELS = {
    "gpt_causal": (["gpt", "--seq", "37", "--hidden", "24", "--heads", "3",
                    "--layers", "2", "--causal"], ["0.6x", "0.5x"]),
    "gpt_batch2": (["gpt", "--batch", "2", "--seq", "10", "--hidden", "12",
                    "--heads", "3", "--layers", "2"], ["0.7x"]),
    "gpt_causal_unfused": (["gpt", "--seq", "37", "--hidden", "24", "--heads",
                            "3", "--layers", "2", "--causal"], ["0.6x", "0.5x"],
                           ["--fuse-attention=false"]),
    # With attention fused, the MLP's hidden layer holds a ViT's peak only
    # once it outgrows the patches.
    "vit": (["vit", "--image", "32", "--patch", "4", "--hidden", "24",
             "--heads", "3", "--layers", "2", "--classes", "5"], ["0.7x"]),
    "vit_unfused": (["vit", "--image", "56", "--patch", "8", "--hidden", "12",
                     "--heads", "3", "--layers", "2", "--classes", "5"],
                    ["0.7x"], ["--fuse-attention=false"]),
    "evoformer": (["evoformer", "--n-seq", "5", "--n-res", "11", "--c-m", "16",
                   "--c-z", "12", "--blocks", "2"], ["0.6x", "0.35x"]),
    "gpt_medium": (["gpt", "--seq", "333", "--hidden", "256", "--heads", "4",
                    "--layers", "1"], ["0.6x", "0.4x"]),
    "evoformer_medium": (["evoformer", "--n-seq", "19", "--n-res", "45",
                          "--c-m", "64", "--c-z", "32"], ["0.5x", "0.35x"]),
    "evoformer_medium_unfused": (["evoformer", "--n-seq", "19", "--n-res",
                                  "45", "--c-m", "64", "--c-z", "32"],
                                 ["0.5x", "0.35x"], ["--fuse-attention=false"]),
}
MODEL_SEED = 3
# The runtime's files the run needs besides the archive.
RUN_FILES = [(os.path.join(HERE, "run.sh"), "run.sh"),
             (os.path.join(HERE, "run_gpu_check.py"), "run_gpu_check.py"),
             (os.path.join(HERE, "check_cuda_kernels.py"),
              "check_cuda_kernels.py"),
             (os.path.join(E2E, "e2e_support.py"), "e2e_support.py")]


class PrepareError(Exception):
    pass


def run(command):
    return subprocess.run([str(c) for c in command], capture_output=True,
                          text=True, timeout=600)


def load_test_ops(chunk_compile, scratch):
    """Imports test/e2e/test_ops.py (it reads its tool paths from argv)."""
    sys.path.insert(0, E2E)
    saved = sys.argv
    sys.argv = [os.path.join(E2E, "test_ops.py"), chunk_compile, scratch]
    try:
        return importlib.import_module("test_ops")
    finally:
        sys.argv = saved


def op_builders(test_ops):
    """[(name, build, named)]: test_ops' cases, one per builder, any dtype.

    test_ops repeats some builders in other dtypes ("concat_f16", "f16",
    "binary_bf16"); here every builder runs in every dtype, so those collapse
    into one case named without the dtype.
    """
    seen, builders = set(), []
    for name, _dtype, build, named in test_ops.CASES:
        base = re.sub(r"_?(b?f16)$", "", name) or "low_precision"
        if base not in seen:
            seen.add(base)
            builders.append((base, build, named))
    return builders


def graph_op_names():
    """Every op mnemonic GraphOps.td defines (graph.<name>)."""
    with open(GRAPH_OPS_TD) as td:
        text = td.read()
    return set(re.findall(r'^def Graph_\w+\s*:\s*Graph_\w*Op<"(\w+)"', text,
                          re.MULTILINE))


def compile_model(chunk_compile, mlir, exe, device, budget=None, flags=()):
    """Compiles; returns (ok, unreachable budget, message)."""
    command = [chunk_compile, mlir, f"--device={device}", *flags, "-o", exe]
    if budget:
        command += [f"--memory-budget={budget}", f"--target={TARGET}"]
    result = run(command)
    if result.returncode == 0:
        return True, False, result.stdout.strip()
    # A budget AutoChunk cannot reach is an error that talks of the budget
    # (its wording varies with the phase that gave up).
    unreachable = budget is not None and "budget" in result.stderr
    if unreachable:
        reason = next((line for line in result.stderr.splitlines()
                       if "error:" in line), result.stderr.strip())
        return False, True, reason.split("error:", 1)[-1].strip()
    return False, False, (f"{' '.join(command)}: exit "
                          f"{result.returncode}\n{result.stderr[-2000:]}")


def build_variants(chunk_compile, mlir, directory, budgets, flags=()):
    """Compiles cpu and cuda executables unchunked and at each budget.

    Returns (variants, notes): variants name their executables relative to
    the cases folder; a budget AutoChunk cannot reach is a note, not an
    error; any other compile failure raises.
    """
    variants, notes = [], []
    for budget in [None] + list(budgets):
        label = budget or "unchunked"
        paths = {}
        for device in ("cpu", "cuda"):
            exe = os.path.join(directory, f"{device}-{label}")
            ok, unreachable, message = compile_model(chunk_compile, mlir, exe,
                                                     device, budget, flags)
            if not ok:
                if unreachable:
                    notes.append(f"{label} not reachable ({message[:160]})")
                    break
                raise PrepareError(message)
            paths[device] = exe
        if len(paths) == 2:
            variants.append({"label": label, "cpu": paths["cpu"],
                             "cuda": paths["cuda"]})
    return variants, notes


def prepare_op_case(test_ops, chunk_compile, cases_dir, index, name, build,
                    named, dtype):
    f = test_ops.Function(name, dtype, seed=index, named=named)
    build(f)
    directory = os.path.join(cases_dir, "ops", f"{name}-{dtype}")
    os.makedirs(os.path.join(directory, "inputs"))
    os.makedirs(os.path.join(directory, "numpy"))
    mlir = os.path.join(directory, "model.mlir")
    with open(mlir, "w") as out:
        out.write(f.text())
    for file_name, array in f.input_files().items():
        np.save(os.path.join(directory, "inputs", file_name + ".npy"), array)
    outputs = f.output_names()
    for (value, _), file_name in zip(f.results, outputs):
        np.save(os.path.join(directory, "numpy", file_name + ".npy"),
                value.ref)
    # Unchunked only: an op graph's peak is its inputs and outputs, which
    # AutoChunk cannot chunk (0.5x is out of reach for every one of them).
    # The chunked models run the kernels on chunk views instead.
    variants, notes = build_variants(chunk_compile, mlir, directory, [])
    ops = sorted(set(re.findall(r"graph\.(\w+)", f.text())))
    os.remove(mlir)
    return {"name": f"op {name} {dtype}", "kind": "op", "dtype": dtype,
            "inputs": os.path.join(directory, "inputs"),
            "numpy": os.path.join(directory, "numpy"),
            "numpy_tolerance": list(test_ops.TOLERANCES[dtype]),
            "outputs": outputs, "variants": variants, "notes": notes,
            "ops": ops}


def prepare_model_case(chunk_models, chunk_compile, cases_dir, name, dtype):
    arguments, budgets, *rest = MODELS[name]
    flags = rest[0] if rest else []
    directory = os.path.join(cases_dir, "models", f"{name}-{dtype}")
    os.makedirs(directory)
    mlir = os.path.join(directory, "model.mlir")
    result = run([chunk_models, *arguments, "--dtype", dtype, "-o", mlir])
    if result.returncode != 0:
        raise PrepareError(f"chunk-models {' '.join(arguments)}: "
                           f"{result.stderr[-2000:]}")
    variants, notes = build_variants(chunk_compile, mlir, directory,
                                     budgets if dtype != "f16" else [], flags)
    if dtype != "f16" and len(variants) < 2:
        raise PrepareError(f"model {name} {dtype}: no budget of {budgets} "
                           f"is reachable; {'; '.join(notes)}")
    os.remove(mlir)
    return {"name": f"model {name} {dtype}", "kind": "model", "dtype": dtype,
            "seed": MODEL_SEED, "arguments": arguments, "flags": flags,
            "variants": variants,
            "notes": notes}


def relative_paths(case, cases_dir):
    """Paths in a case made relative to the cases folder."""
    def rel(path):
        return os.path.relpath(path, cases_dir)
    for key in ("inputs", "numpy"):
        if key in case:
            case[key] = rel(case[key])
    for variant in case["variants"]:
        variant["cpu"], variant["cuda"] = rel(variant["cpu"]), rel(variant["cuda"])
    return case


def strip(paths):
    """Drops symbols from the executables (a third of their size)."""
    if shutil.which("strip"):
        for start in range(0, len(paths), 200):
            subprocess.run(["strip", *paths[start:start + 200]], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    args = parser.parse_args()
    dtypes = args.dtypes.split(",")
    if not set(dtypes) <= set(DTYPES) or not dtypes:
        raise PrepareError(f"--dtypes: expected a list of {', '.join(DTYPES)}")
    tools = {name: os.path.join(args.build_dir, "bin", name)
             for name in ("chunk-compile", "chunk-models",
                          "cuda-kernel-check")}
    for name, path in tools.items():
        if not os.access(path, os.X_OK):
            raise PrepareError(
                f"{path} not found: build it first (ninja -C {args.build_dir} "
                f"{name}; cuda-kernel-check needs the CUDA toolkit)")

    out_dir = os.path.abspath(args.out_dir.rstrip("/"))
    staging = out_dir + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        prepare(args, dtypes, tools, out_dir, staging)
    finally:
        # No half-written output: whatever failed, the staging folder goes.
        shutil.rmtree(staging, ignore_errors=True)
    return 0


def prepare(args, dtypes, tools, out_dir, staging):
    """Builds everything in `staging`, then moves it to `out_dir`."""
    cases_dir = os.path.join(staging, "cases")
    os.makedirs(cases_dir)
    test_ops = load_test_ops(tools["chunk-compile"],
                             os.path.join(staging, "unused"))
    builders = op_builders(test_ops)

    jobs = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for index, (name, build, named) in enumerate(builders):
            for dtype in dtypes:
                jobs.append(pool.submit(prepare_op_case, test_ops,
                                        tools["chunk-compile"], cases_dir,
                                        index, name, build, named, dtype))
        for name in MODELS:
            for dtype in dtypes:
                jobs.append(pool.submit(prepare_model_case,
                                        tools["chunk-models"],
                                        tools["chunk-compile"], cases_dir,
                                        name, dtype))
        cases = [job.result() for job in jobs]

    covered = set().union(*(case.get("ops", []) for case in cases))
    missing = sorted(graph_op_names() - covered)
    if missing:
        raise PrepareError("graph ops no op case exercises (add them to "
                           f"test/e2e/test_ops.py): {', '.join(missing)}")

    executables = [os.path.join(cases_dir, v[device]) for case in cases
                   for v in case["variants"] for device in ("cpu", "cuda")]
    strip(executables)
    kernel_check = os.path.join(cases_dir, "cuda-kernel-check")
    shutil.copy2(tools["cuda-kernel-check"], kernel_check)
    strip([kernel_check])
    cases = [relative_paths(case, cases_dir) for case in cases]
    with open(os.path.join(staging, "cases.json"), "w") as manifest:
        json.dump({"graph_ops": sorted(graph_op_names()), "cases": cases},
                  manifest, indent=1)
    # One solid archive: the executables share most of their bytes.
    with tarfile.open(os.path.join(staging, "cases.tar.xz"), "w:xz",
                      preset=9) as archive:
        archive.add(cases_dir, arcname="cases")
    shutil.rmtree(cases_dir)
    shutil.rmtree(os.path.join(staging, "unused"), ignore_errors=True)
    for source, name in RUN_FILES:
        shutil.copy2(source, os.path.join(staging, name))

    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(staging, out_dir)
    variants = sum(len(case["variants"]) for case in cases)
    size = os.path.getsize(os.path.join(out_dir, "cases.tar.xz"))
    print(f"{len(cases)} cases, {variants} variants, {2 * variants} "
          f"executables; archive {size / 2**20:.1f} MiB in {out_dir}")
    for case in cases:
        if case["notes"]:
            print(f"  {case['name']}: {'; '.join(case['notes'])}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PrepareError as error:
        print(f"prepare: error: {error}", file=sys.stderr)
        sys.exit(1)
