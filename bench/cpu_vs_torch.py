"""CPU benchmark: AutoChunk's unchunked executables against PyTorch CPU eager.

For each case, builds the graph with chunk-models, compiles it with
chunk-compile, writes one set of random weights by graph.name, runs the
executable (--inputs, warm-up, repeats, a report) and a PyTorch eager version
of the same model on the same weights, checks that both give the same output,
and prints one JSON line per case plus a markdown table.

usage: python3 bench/cpu_vs_torch.py BUILD_DIR [--threads N] [--repeat N]
       [--cases gpt,evoformer]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "reference"))
from graph_interpreter import parse_result_names, parse_signature  # noqa: E402
from numpy_models import random_parameters  # noqa: E402

CASES = {
    "gpt": (["gpt", "--seq", "1024", "--hidden", "768", "--heads", "12",
             "--layers", "1", "--causal"],
            "GPT block (seq 1024, hidden 768, 12 heads, causal)"),
    "evoformer": (["evoformer", "--n-seq", "64", "--n-res", "128"],
                  "Evoformer block (N_s 64, N_r 128, c_m 256, c_z 128)"),
}

# ---------------------------------------------------------------------------
# PyTorch eager versions of the chunk-models graphs, on the same named
# weights (test/reference/numpy_models.py is the float64 numpy twin).
# ---------------------------------------------------------------------------


def linear(p, name, x, bias=True):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"] if bias else None)


def ln(p, name, x, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"], eps)


def gpt_torch(p, x, heads, layers, causal):
    B, T, D = x.shape
    dh = D // heads
    mask = torch.full((T, T), float("-inf")).triu(1) if causal else None
    for i in range(layers):
        b = f"blocks.{i}"
        q, k, v = linear(p, b + ".attn.qkv", ln(p, b + ".ln_1", x)).split(D, -1)
        q, k, v = (t.view(B, T, heads, dh).transpose(1, 2) for t in (q, k, v))
        logits = q @ k.transpose(-1, -2) / math.sqrt(dh)
        if mask is not None:
            logits = logits + mask
        o = (logits.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + linear(p, b + ".attn.proj", o)
        h = F.gelu(linear(p, b + ".mlp.fc", ln(p, b + ".ln_2", x)), approximate="tanh")
        x = x + linear(p, b + ".mlp.proj", h)
    return [ln(p, "ln_f", x)]


def gated(p, name, x, heads):
    def split(t):
        return t.view(*t.shape[:-1], heads, t.shape[-1] // heads)
    return (split(linear(p, name + ".linear_q", x, False)),
            split(linear(p, name + ".linear_k", x, False)),
            split(linear(p, name + ".linear_v", x, False)),
            split(torch.sigmoid(linear(p, name + ".linear_g", x))))


def evoformer_torch(p, m, z, blocks, mh=8, ph=4):
    for i in range(blocks):
        b = f"blocks.{i}"
        n = b + ".msa_att_row"
        mm = ln(p, n + ".layer_norm_m", m)
        q, k, v, g = gated(p, n, mm, mh)
        bias = linear(p, n + ".linear_z", ln(p, n + ".layer_norm_z", z), False)
        a = (torch.einsum("sihc,sjhc->sijh", q, k) / math.sqrt(q.shape[-1]) + bias).softmax(2)
        o = g * torch.einsum("sijh,sjhc->sihc", a, v)
        m = m + linear(p, n + ".linear_o", o.flatten(2))
        n = b + ".msa_att_col"
        mm = ln(p, n + ".layer_norm_m", m)
        q, k, v, g = gated(p, n, mm, mh)
        a = (torch.einsum("sihc,tihc->isth", q, k) / math.sqrt(q.shape[-1])).softmax(2)
        o = g * torch.einsum("isth,tihc->sihc", a, v)
        m = m + linear(p, n + ".linear_o", o.flatten(2))
        n = b + ".msa_transition"
        m = m + linear(p, n + ".linear_2", F.relu(linear(p, n + ".linear_1", ln(p, n + ".layer_norm", m))))
        n = b + ".outer_product_mean"
        mm = ln(p, n + ".layer_norm", m)
        o = torch.einsum("sic,sjd->ijcd", linear(p, n + ".linear_1", mm),
                         linear(p, n + ".linear_2", mm)) / m.shape[0]
        z = z + linear(p, n + ".linear_out", o.flatten(2))
        for name, eq in ((".tri_mul_out", "ikc,jkc->ijc"), (".tri_mul_in", "kic,kjc->ijc")):
            n = b + name
            zz = ln(p, n + ".layer_norm_in", z)
            a = torch.sigmoid(linear(p, n + ".linear_a_g", zz)) * linear(p, n + ".linear_a_p", zz)
            bb = torch.sigmoid(linear(p, n + ".linear_b_g", zz)) * linear(p, n + ".linear_b_p", zz)
            x = torch.einsum(eq, a, bb)
            z = z + torch.sigmoid(linear(p, n + ".linear_g", zz)) * linear(
                p, n + ".linear_z", ln(p, n + ".layer_norm_out", x))
        for name, starting in ((".tri_att_start", True), (".tri_att_end", False)):
            n = b + name
            zz = ln(p, n + ".layer_norm", z)
            q, k, v, g = gated(p, n, zz, ph)
            bias = linear(p, n + ".linear", zz, False)
            c = math.sqrt(q.shape[-1])
            if starting:
                a = (torch.einsum("ijhc,ikhc->ijkh", q, k) / c + bias[None]).softmax(2)
                o = torch.einsum("ijkh,ikhc->ijhc", a, v)
            else:
                a = (torch.einsum("ijhc,kjhc->ijkh", q, k) / c + bias.transpose(0, 1)[:, None]).softmax(2)
                o = torch.einsum("ijkh,kjhc->ijhc", a, v)
            z = z + linear(p, n + ".linear_o", (g * o).flatten(2))
        n = b + ".pair_transition"
        z = z + linear(p, n + ".linear_2", F.relu(linear(p, n + ".linear_1", ln(p, n + ".layer_norm", z))))
    return [m, z]


def run_torch(model, args, p, inputs, warmup, repeat):
    with torch.no_grad():
        if model == "gpt":
            fn = lambda: gpt_torch(p, inputs["x"], int(args[args.index("--heads") + 1]), 1, True)  # noqa: E731
        else:
            fn = lambda: evoformer_torch(p, inputs["msa"], inputs["pair"], 1)  # noqa: E731
        for _ in range(warmup):
            outputs = fn()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            outputs = fn()
            samples.append((time.perf_counter() - start) * 1e3)
    return outputs, float(np.median(samples))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--cases", default="gpt,evoformer")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    bin_dir = os.path.join(options.build_dir, "bin")
    rows = []
    for case in options.cases.split(","):
        args, title = CASES[case]
        with tempfile.TemporaryDirectory() as work:
            graph = os.path.join(work, case + ".mlir")
            exe = os.path.join(work, case)
            subprocess.run([os.path.join(bin_dir, "chunk-models"), *args, "-o", graph], check=True)
            subprocess.run([os.path.join(bin_dir, "chunk-compile"), graph, "-o", exe],
                           check=True, stdout=subprocess.DEVNULL)
            text = open(graph).read()
            signature = parse_signature(text)
            values = random_parameters(signature, np.random.default_rng(0), np.float32)
            inputs_dir = os.path.join(work, "inputs")
            os.makedirs(inputs_dir)
            for name, value in values.items():
                np.save(os.path.join(inputs_dir, name + ".npy"), value.astype(np.float32))
            out_dir = os.path.join(work, "outputs")
            report_path = os.path.join(work, "report.json")
            subprocess.run([exe, "--inputs", inputs_dir, "--outputs", out_dir,
                            "--threads", str(options.threads), "--warmup", str(options.warmup),
                            "--repeat", str(options.repeat), "--report", report_path],
                           check=True, stdout=subprocess.DEVNULL)
            report = json.load(open(report_path))
            ours = [np.load(os.path.join(out_dir, n + ".npy")) for n in parse_result_names(text)]
            p = {name: torch.from_numpy(v.astype(np.float32)) for name, v in values.items()}
            inputs = {name: p[name] for _, name, role, _ in signature if role == "input"}
            theirs, torch_ms = run_torch(case, args, p, inputs, options.warmup, options.repeat)
            error = max(float(np.max(np.abs(a - b.numpy())) / (np.max(np.abs(b.numpy())) + 1e-30))
                        for a, b in zip(ours, theirs))
            row = {"case": case, "title": title, "threads": options.threads,
                   "autochunk_ms": report["median_ms"], "torch_ms": torch_ms,
                   "ratio": report["median_ms"] / torch_ms,
                   "planned_activation_bytes": report["planned_activation_bytes"],
                   "measured_activation_bytes": report["measured_activation_bytes"],
                   "max_relative_difference": error}
            print(json.dumps(row), flush=True)
            if error > 1e-3:
                sys.exit(f"{case}: outputs differ from PyTorch by {error:.2e}")
            rows.append(row)
    print()
    print("| case | threads | AutoChunk ms | PyTorch eager ms | ratio | planned = measured activation bytes | max rel. diff |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        same = r["planned_activation_bytes"] == r["measured_activation_bytes"]
        print(f"| {r['title']} | {r['threads']} | {r['autochunk_ms']:.1f} | {r['torch_ms']:.1f} | "
              f"{r['ratio']:.2f} | {r['planned_activation_bytes']} ({'equal' if same else 'DIFFERENT'}) | "
              f"{r['max_relative_difference']:.1e} |")


if __name__ == "__main__":
    main()
