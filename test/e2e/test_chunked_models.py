"""AutoChunk end to end: each model family, chunked under several budgets.

For GPT, ViT and Evoformer graphs at small sizes that are not powers of two,
compiles the unchunked graph and the graph chunked at each budget, runs both
on the same seeded weights and checks that
- the chunked outputs equal the unchunked ones bit for bit (the CPU kernels
  give the same bits whatever the chunking along parallel dimensions),
- the measured activation peak equals the planned one (within 2% is the
  requirement; the arena model makes it exact) and is under the budget,
- the chunked peak is below the unchunked one and the plan JSON agrees with
  what chunk-compile reported.
A budget AutoChunk cannot reach must fail cleanly with its reason; each model
must reach at least one budget.

usage: test_chunked_models.py CHUNK_MODELS CHUNK_COMPILE SCRATCH_DIR
"""
import json
import os
import sys

import numpy as np

from e2e_support import Tally, describe, fresh_dir, run

# (graph arguments, chunk-compile flags). Fused attention (the default) never
# stores the logits; the unfused cases keep the logits' chunk loops (causal
# mask offsets, the fused softmax) covered.
MODELS = {
    "gpt": (["gpt", "--seq", "37", "--hidden", "24", "--heads", "3",
             "--layers", "2", "--causal"], []),
    "gpt-unfused": (["gpt", "--seq", "37", "--hidden", "24", "--heads", "3",
                     "--layers", "2", "--causal"], ["--fuse-attention=false"]),
    # 64 patches + the class token; with attention fused the MLP's hidden
    # layer holds the peak.
    "vit": (["vit", "--image", "32", "--patch", "4", "--hidden", "24",
             "--heads", "3", "--layers", "2", "--classes", "5"], []),
    # 49 patches + the class token: unfused, attention, not the patch
    # embedding, holds the peak.
    "vit-unfused": (["vit", "--image", "56", "--patch", "8", "--hidden", "12",
                     "--heads", "3", "--layers", "2", "--classes", "5"],
                    ["--fuse-attention=false"]),
    "evoformer": (["evoformer", "--n-seq", "5", "--n-res", "11", "--c-m", "16",
                   "--c-z", "12", "--blocks", "1"], []),
    "evoformer-unfused": (["evoformer", "--n-seq", "5", "--n-res", "11",
                           "--c-m", "16", "--c-z", "12", "--blocks", "1"],
                          ["--fuse-attention=false"]),
}
BUDGETS = ["0.8x", "0.6x", "0.45x"]


def run_model(tally, label, exe, out_dir):
    report = out_dir + ".json"
    result = run([exe, "--seed", "3", "--threads", "2", "--outputs", out_dir,
                  "--report", report])
    if not tally.check(result.returncode == 0, f"{label}: runs",
                       describe(result)):
        return None
    return json.load(open(report))


def main():
    chunk_models, chunk_compile, scratch = sys.argv[1:4]
    tally = Tally()
    fresh_dir(scratch)
    for model, (args, flags) in MODELS.items():
        graph = os.path.join(scratch, model + ".mlir")
        result = run([chunk_models, *args, "-o", graph])
        tally.check(result.returncode == 0, f"{model}: built", describe(result))
        full_exe = os.path.join(scratch, model + "-full")
        result = run([chunk_compile, graph, *flags, "-o", full_exe])
        if not tally.check(result.returncode == 0, f"{model}: compiles",
                           describe(result)):
            continue
        full_report = run_model(tally, f"{model} unchunked", full_exe,
                                os.path.join(scratch, model + "-full-out"))
        if not full_report:
            continue
        unchunked = full_report["planned_activation_bytes"]
        names = sorted(os.listdir(os.path.join(scratch, model + "-full-out")))
        reached = 0
        for budget in BUDGETS:
            label = f"{model} at {budget}"
            exe = os.path.join(scratch, f"{model}-{budget}")
            plan_path = exe + ".plan.json"
            result = run([chunk_compile, graph, *flags,
                          "--memory-budget=" + budget,
                          "--plan-out", plan_path, "-o", exe])
            if result.returncode != 0:
                # An unreachable budget is an error that says why, and leaves
                # no executable behind.
                tally.check("error:" in result.stderr and
                            ("cannot meet the budget" in result.stderr or
                             "over the budget" in result.stderr),
                            f"{label}: a failure says why", describe(result))
                tally.check(not os.path.exists(exe),
                            f"{label}: no executable after a failure")
                continue
            reached += 1
            plan = json.load(open(plan_path))
            budget_bytes = plan["budget_bytes"]
            tally.check(plan.get("predicted_slowdown", 0) > 0,
                        f"{label}: the plan JSON has a predicted slowdown",
                        json.dumps(plan)[:300])
            tally.check(abs(budget_bytes - float(budget[:-1]) * unchunked) <= 1,
                        f"{label}: the budget is the fraction of the "
                        f"unchunked arena", f"{budget_bytes} vs {unchunked}")
            tally.check(plan["unchunked_planned_activation_bytes"] == unchunked,
                        f"{label}: plan JSON has the unchunked arena")
            tally.check(plan["chunked"] and len(plan["regions"]) > 0,
                        f"{label}: chunked", json.dumps(plan)[:2000])
            out_dir = os.path.join(scratch, f"{model}-{budget}-out")
            report = run_model(tally, label, exe, out_dir)
            if not report:
                continue
            planned = report["planned_activation_bytes"]
            measured = report["measured_activation_bytes"]
            tally.check(planned == plan["planned_activation_bytes"],
                        f"{label}: the report and the plan agree")
            tally.check(abs(measured - planned) <= 0.02 * planned,
                        f"{label}: measured within 2% of the estimate",
                        f"planned {planned}, measured {measured}")
            tally.check(measured <= budget_bytes,
                        f"{label}: measured under the budget",
                        f"measured {measured}, budget {budget_bytes}")
            tally.check(planned < unchunked, f"{label}: less than unchunked",
                        f"{planned} vs {unchunked}")
            for name in names:
                a = np.load(os.path.join(out_dir, name))
                b = np.load(os.path.join(scratch, model + "-full-out", name))
                tally.check(a.dtype == b.dtype and a.shape == b.shape and
                            a.tobytes() == b.tobytes(),
                            f"{label}: {name} bitwise equal to unchunked",
                            f"max abs diff {np.max(np.abs(a - b)) if a.shape == b.shape else 'shape'}")
        tally.check(reached > 0, f"{model}: at least one budget is reached")
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
