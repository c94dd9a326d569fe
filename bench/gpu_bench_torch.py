#!/usr/bin/env python3
"""The PyTorch side of bench/gpu_bench.py: torch_reference.py at chosen sizes.

usage: gpu_bench_torch.py [--gpt 2048,4096] [--evo 256,384] [--time-limit S]

Imports torch_reference.py (copied beside this file by `gpu_bench.py
prepare`) and runs its blocks, variants and measure() exactly as its main()
does, at the sizes given here instead of its fixed lists, so that the Evoformer
series can go past N_r 1024 and a validation run can stay small. A variant
whose next size is predicted (from its last measured time, scaled by n^2 for
GPT and n^3 for the Evoformer, times the 6 runs of measure()) to take longer
than --time-limit seconds is not run: its line says so. Prints
torch_reference's JSON lines, each with "source": "torch".
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch_reference as ref  # noqa: E402

GPT_VARIANTS = [("eager", {}), ("eager_chunk1024", {"chunk": 1024}),
                ("sdpa", {"sdpa": True})]
EVO_VARIANTS = [("eager", {}), ("eager_chunk4", {"chunk": 4}),
                ("eager_chunk32", {"chunk": 32})]
RUNS_PER_MEASURE = 6  # measure(): one warm-up (the memory probe), 5 timed


def emit(**fields):
    print(json.dumps({"source": "torch", **fields}), flush=True)


def sizes(text):
    return [int(n) for n in text.split(",") if n] if text else []


class Budget:
    """Skips a variant's larger sizes once they would outlast the limit."""

    def __init__(self, limit_s, exponent):
        self.limit_s, self.exponent, self.last = limit_s, exponent, {}

    def predicted_s(self, variant, n):
        if variant not in self.last:
            return None
        last_n, last_ms = self.last[variant]
        return RUNS_PER_MEASURE * last_ms / 1e3 * (n / last_n) ** self.exponent

    def record(self, variant, n, ms):
        if ms is not None:
            self.last[variant] = (n, ms)


def run_series(model, ns, variants, exponent, limit_s, make_inputs, call,
               extra):
    budget = Budget(limit_s, exponent)
    out_of_memory = set()
    for n in ns:
        try:
            inputs = make_inputs(n)
        except torch.cuda.OutOfMemoryError:
            emit(model=model, n=n, **extra(n), variant="inputs",
                 peak_bytes=None, ms=None, skipped="inputs do not fit")
            break
        for variant, kwargs in variants:
            predicted = budget.predicted_s(variant, n)
            if variant in out_of_memory:
                continue
            if predicted is not None and predicted > limit_s:
                emit(model=model, n=n, **extra(n), variant=variant,
                     peak_bytes=None, ms=None,
                     skipped=f"over the time limit: predicted {predicted:.0f} s")
                continue
            start = time.time()
            peak, ms = ref.measure(lambda: call(inputs, kwargs), 0)
            budget.record(variant, n, ms)
            if peak is None:
                out_of_memory.add(variant)
            emit(model=model, n=n, **extra(n), variant=variant,
                 peak_bytes=peak, ms=ms, wall_s=round(time.time() - start, 1),
                 **({"skipped": "out of memory"} if peak is None else {}))
        del inputs
        torch.cuda.empty_cache()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpt", default="", help="GPT sequence lengths")
    parser.add_argument("--evo", default="", help="Evoformer N_r values")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    props = torch.cuda.get_device_properties(0)
    emit(device=props.name, mem_gib=round(props.total_memory / 2**30, 1),
         torch=torch.__version__, tf32=torch.backends.cuda.matmul.allow_tf32)
    if sizes(args.gpt):
        block = ref.GPTBlock(1024, 16).to(ref.DEV).eval()
        run_series("gpt_block_d1024_h16", sizes(args.gpt), GPT_VARIANTS, 2,
                   args.time_limit,
                   lambda n: torch.randn(1, n, 1024, device=ref.DEV),
                   lambda x, kwargs: block(x, **kwargs), lambda n: {})
        del block
    if sizes(args.evo):
        block = ref.EvoformerBlock().to(ref.DEV).eval()
        nseq = 128
        run_series("evoformer_block_cm256_cz128", sizes(args.evo),
                   EVO_VARIANTS, 3, args.time_limit,
                   lambda n: (torch.randn(nseq, n, 256, device=ref.DEV),
                              torch.randn(n, n, 128, device=ref.DEV)),
                   lambda mz, kwargs: block(*mz, **kwargs),
                   lambda n: {"nseq": nseq, "nres": n})
    return 0


if __name__ == "__main__":
    sys.exit(main())
