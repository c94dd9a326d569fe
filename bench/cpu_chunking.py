"""CPU benchmark of AutoChunk: activation memory and time across budgets.

For each case, compiles the graph unchunked and at each budget (a fraction of
the unchunked planned peak), runs every executable on the same seeded
weights and prints, per budget, the planned and measured activation bytes,
the reduction, the median time and the slowdown against unchunked, plus
whether the outputs equal the unchunked ones bit for bit. Also times the
AutoChunk pass (search, selection and rewrite) on a 48-block Evoformer.
Budgets AutoChunk cannot reach are reported as such.

usage: python3 bench/cpu_chunking.py BUILD_DIR [--threads N] [--repeat N]
       [--cases gpt,evoformer] [--budgets 0.5,0.3,0.2,0.1,0.05]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

CASES = {
    "gpt": (["gpt", "--seq", "4096", "--hidden", "768", "--heads", "12",
             "--layers", "1", "--causal"], "GPT block, seq 4096, hidden 768, 12 heads"),
    "evoformer": (["evoformer", "--n-seq", "64", "--n-res", "256"],
                  "Evoformer block, N_s 64, N_r 256"),
}


def run_exe(exe, out_dir, options):
    report = out_dir + ".json"
    subprocess.run([exe, "--seed", "1", "--threads", str(options.threads),
                    "--warmup", "1", "--repeat", str(options.repeat),
                    "--outputs", out_dir, "--report", report],
                   check=True, stdout=subprocess.DEVNULL)
    return json.load(open(report))


def same_outputs(a_dir, b_dir):
    return all(np.load(os.path.join(a_dir, n)).tobytes() ==
               np.load(os.path.join(b_dir, n)).tobytes()
               for n in os.listdir(a_dir))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="gpt,evoformer")
    parser.add_argument("--budgets", default="0.5,0.3,0.2,0.1,0.05")
    options = parser.parse_args()
    bin_dir = os.path.join(options.build_dir, "bin")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for case in options.cases.split(","):
            args, title = CASES[case]
            graph = os.path.join(work, case + ".mlir")
            subprocess.run([os.path.join(bin_dir, "chunk-models"), *args, "-o", graph], check=True)
            full = os.path.join(work, case)
            subprocess.run([os.path.join(bin_dir, "chunk-compile"), graph, "-o", full],
                           check=True, stdout=subprocess.DEVNULL)
            base = run_exe(full, full + "-out", options)
            rows.append({"case": title, "budget": "none", **{
                k: base[k] for k in ("planned_activation_bytes", "measured_activation_bytes", "median_ms")},
                "reduction": 0.0, "slowdown": 1.0, "bitwise_equal": True})
            print(json.dumps(rows[-1]), flush=True)
            # The graph as written: attention unfused, its logits stored.
            unfused = full + "-unfused"
            subprocess.run([os.path.join(bin_dir, "chunk-compile"), graph,
                            "--fuse-attention=false", "-o", unfused],
                           check=True, stdout=subprocess.DEVNULL)
            written = run_exe(unfused, unfused + "-out", options)
            rows.append({"case": title, "budget": "none, attention unfused", **{
                k: written[k] for k in ("planned_activation_bytes", "measured_activation_bytes", "median_ms")},
                "reduction": 1 - written["planned_activation_bytes"] / base["planned_activation_bytes"],
                "slowdown": written["median_ms"] / base["median_ms"],
                "bitwise_equal": None})
            print(json.dumps(rows[-1]), flush=True)
            for row in rows[-2:]:
                row["vs_unfused_reduction"] = 1 - row["planned_activation_bytes"] / written["planned_activation_bytes"]
                row["vs_unfused_time"] = row["median_ms"] / written["median_ms"]
            for fraction in options.budgets.split(","):
                exe = os.path.join(work, f"{case}-{fraction}")
                start = time.perf_counter()
                result = subprocess.run(
                    [os.path.join(bin_dir, "chunk-compile"), graph,
                     f"--memory-budget={fraction}x", "-o", exe],
                    capture_output=True, text=True)
                compile_s = time.perf_counter() - start
                if result.returncode != 0:
                    reason = [line for line in result.stderr.splitlines() if "error:" in line]
                    rows.append({"case": title, "budget": fraction + "x",
                                 "unreachable": reason[0].split("error: ")[-1] if reason else "?"})
                    print(json.dumps(rows[-1]), flush=True)
                    continue
                report = run_exe(exe, exe + "-out", options)
                planned = report["planned_activation_bytes"]
                rows.append({
                    "case": title, "budget": fraction + "x",
                    "planned_activation_bytes": planned,
                    "measured_activation_bytes": report["measured_activation_bytes"],
                    "median_ms": report["median_ms"],
                    "reduction": 1 - planned / base["planned_activation_bytes"],
                    "slowdown": report["median_ms"] / base["median_ms"],
                    "bitwise_equal": same_outputs(exe + "-out", full + "-out"),
                    "vs_unfused_reduction": 1 - planned / written["planned_activation_bytes"],
                    "vs_unfused_time": report["median_ms"] / written["median_ms"],
                    "compile_s": compile_s})
                print(json.dumps(rows[-1]), flush=True)
        # Search time on a deep stack: the AutoChunk pass alone, timed by MLIR.
        stack = os.path.join(work, "evoformer48.mlir")
        subprocess.run([os.path.join(bin_dir, "chunk-models"), "evoformer", "--n-seq", "64",
                        "--n-res", "128", "--blocks", "48", "-o", stack], check=True)
        start = time.perf_counter()
        result = subprocess.run(
            [os.path.join(bin_dir, "chunk-opt"), stack, "--pass-pipeline=builtin.module("
             "canonicalize,func.func(autochunk-einsum-batch-major,autochunk-fuse-attention,"
             "autochunk-chunk{memory-budget=0.7x}))", "-o", os.devnull],
            capture_output=True, text=True)
        search = {"case": "Evoformer stack, 48 blocks, N_s 64, N_r 128", "budget": "0.7x",
                  "search_seconds": time.perf_counter() - start, "ok": result.returncode == 0}
        print(json.dumps(search), flush=True)

    print("\nReduction and slowdown against the unchunked (attention fused) "
          "executable, then against the graph as written (attention unfused, "
          "unchunked).\n")
    print("| case | budget | planned bytes | measured bytes | reduction | median ms | slowdown "
          "| less than unfused | time vs unfused | bitwise equal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "unreachable" in r:
            print(f"| {r['case']} | {r['budget']} | unreachable: {r['unreachable']} | | | | | | | |")
            continue
        equal = {True: "yes", False: "NO", None: "n/a"}[r["bitwise_equal"]]
        print(f"| {r['case']} | {r['budget']} | {r['planned_activation_bytes']} | "
              f"{r['measured_activation_bytes']} | {100 * r['reduction']:.1f}% | "
              f"{r['median_ms']:.1f} | {r['slowdown']:.3f} | "
              f"{100 * r['vs_unfused_reduction']:.1f}% | {r['vs_unfused_time']:.3f} | {equal} |")
    print(f"\nAutoChunk pass on {search['case']} at {search['budget']}: "
          f"{search['search_seconds']:.2f} s ({'ok' if search['ok'] else 'failed'})")


if __name__ == "__main__":
    main()
