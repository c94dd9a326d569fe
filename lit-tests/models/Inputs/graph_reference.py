"""Checks what a chunk-models graph computes against numpy references.

Runs the emitted graph-dialect text with a small numpy interpreter of the
graph ops, on random inputs and weights (looked up by graph.name), and
compares with an independent numpy implementation of the model written from
its paper: GPT-2 (Radford et al.), ViT (Dosovitskiy et al., the stride-p
convolution done patch by patch) and the AlphaFold2 Evoformer (supplement,
Algorithms 7-15, in its own index notation). Everything runs in float64.

usage: graph_reference.py {gpt,vit,evoformer} FILE.mlir --heads H
"""
import argparse
import math
import re
import sys

import numpy as np

# ----------------------------------------------------------------------------
# Parsing and interpreting graph-dialect text
# ----------------------------------------------------------------------------

TENSOR = re.compile(r"tensor<([0-9x]+)x(?:f32|f16|bf16)>")


def shape_of(text):
    return [int(d) for d in TENSOR.fullmatch(text).group(1).split("x")]


def int_array(attrs, name):
    match = re.search(name + r" = array<i64: ([0-9, ]+)>", attrs)
    return [int(v) for v in match.group(1).split(",")]


def int_attr(attrs, name):
    return int(re.search(name + r" = (-?[0-9]+) : i64", attrs).group(1))


def float_attr(attrs, name, default):
    match = re.search(name + r" = ([-0-9.eE+]+) : f64", attrs)
    return float(match.group(1)) if match else default


def parse_signature(text):
    """[(ssa name, graph.name, role, shape)] of the single function."""
    header = re.search(r"func\.func @\w+\((.*?)\) -> ", text, re.S).group(1)
    arguments = []
    for match in re.finditer(
            r"(%arg\d+): (tensor<[^>]+>) \{graph\.name = \"([^\"]+)\", "
            r"graph\.role = \"(\w+)\"\}", header):
        ssa, tensor, name, role = match.groups()
        arguments.append((ssa, name, role, shape_of(tensor)))
    return arguments


def layer_norm(x, w, b, axis, eps):
    axes = tuple(range(axis, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ERF = np.vectorize(math.erf)


def gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                      (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + ERF(x / math.sqrt(2)))


def interpret(text, values):
    """Runs the function body; `values` maps %argN to arrays."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("return"):
            names = re.match(r"return ([^:]+) :", line).group(1)
            return [values[n.strip()] for n in names.split(",")]
        match = re.match(r"(%\d+) = graph\.(\w+) (.*)$", line)
        if not match:
            continue
        result, op, rest = match.groups()
        body, _, types = rest.rpartition(" : ")
        attrs = body[body.find("{"):] if "{" in body else ""
        operands = [values[o] for o in re.findall(r"%[a-z0-9]+", body.split("{")[0])]
        result_shape = shape_of(TENSOR.findall(types)[-1].join(["tensor<", "xf32>"]))
        if op == "layer_norm":
            out = layer_norm(*operands, int_attr(attrs, "axis"),
                             float_attr(attrs, "epsilon", 1e-5))
        elif op == "linear":
            out = operands[0] @ operands[1].T
            if len(operands) == 3:
                out = out + operands[2]
        elif op == "matmul":
            a, b = operands
            if "transpose_a" in attrs:
                a = np.swapaxes(a, -1, -2)
            if "transpose_b" in attrs:
                b = np.swapaxes(b, -1, -2)
            out = a @ b
        elif op == "einsum":
            equation = re.match(r'"([^"]+)"', body).group(1)
            out = np.einsum(equation, *operands)
        elif op == "slice":
            starts, limits = int_array(attrs, "starts"), int_array(attrs, "limits")
            out = operands[0][tuple(slice(s, l) for s, l in zip(starts, limits))]
        elif op == "reshape":
            out = operands[0].reshape(result_shape)
        elif op == "broadcast":
            out = np.broadcast_to(operands[0], result_shape)
        elif op == "transpose":
            out = operands[0].transpose(int_array(attrs, "permutation"))
        elif op == "concat":
            out = np.concatenate(operands, axis=int_attr(attrs, "axis"))
        elif op == "scale":
            out = operands[0] * float_attr(attrs, "factor", None)
        elif op == "softmax":
            out = softmax(operands[0], int_attr(attrs, "axis"))
        elif op == "causal_mask":
            x = operands[0]
            rows, cols = x.shape[-2:]
            above = np.arange(cols)[None, :] > np.arange(rows)[:, None]
            out = np.where(above, -np.inf, x)
        elif op == "gelu":
            out = gelu(operands[0], "tanh" if '"tanh"' in attrs else "none")
        elif op in ("add", "mul"):
            out = operands[0] + operands[1] if op == "add" else operands[0] * operands[1]
        elif op == "sigmoid":
            out = 1 / (1 + np.exp(-operands[0]))
        elif op == "relu":
            out = np.maximum(operands[0], 0)
        else:
            sys.exit(f"graph_reference.py: no interpreter for graph.{op}")
        if list(out.shape) != result_shape:
            sys.exit(f"graph_reference.py: {line}\n  computed shape "
                     f"{list(out.shape)}, declared {result_shape}")
        values[result] = out
    sys.exit("graph_reference.py: no return found")


# ----------------------------------------------------------------------------
# Independent references
# ----------------------------------------------------------------------------

def linear(p, name, x, bias=True):
    y = x @ p[name + ".weight"].T
    return y + p[name + ".bias"] if bias else y


def ln(p, name, x, eps):
    return layer_norm(x, p[name + ".weight"], p[name + ".bias"], x.ndim - 1, eps)


def mha(p, name, x, heads, causal):
    """GPT-2/timm self-attention: x [B, T, D]."""
    B, T, D = x.shape
    dh = D // heads
    q, k, v = np.split(linear(p, name + ".qkv", x), 3, axis=-1)
    q, k, v = (t.reshape(B, T, heads, dh) for t in (q, k, v))
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dh)
    if causal:
        logits = logits + np.triu(np.full((T, T), -np.inf), k=1)
    out = np.einsum("bhqk,bkhd->bqhd", softmax(logits, -1), v)
    return linear(p, name + ".proj", out.reshape(B, T, D))


def gpt_reference(p, x, heads, layers, causal):
    for i in range(layers):
        b = f"blocks.{i}"
        x = x + mha(p, b + ".attn", ln(p, b + ".ln_1", x, 1e-5), heads, causal)
        h = gelu(linear(p, b + ".mlp.fc", ln(p, b + ".ln_2", x, 1e-5)), "tanh")
        x = x + linear(p, b + ".mlp.proj", h)
    return [ln(p, "ln_f", x, 1e-5)]


def vit_reference(p, image, heads, layers):
    B, C, H, W = image.shape
    D, patch_pixels = p["patch_embed.proj.weight"].shape
    patch = int(round(math.sqrt(patch_pixels // C)))
    kernel = p["patch_embed.proj.weight"].reshape(D, C, patch, patch)
    # The stride-p convolution, one output pixel at a time, row-major.
    tokens = []
    for gy in range(H // patch):
        for gx in range(W // patch):
            window = image[:, :, gy * patch:(gy + 1) * patch,
                           gx * patch:(gx + 1) * patch]
            tokens.append(np.einsum("bcyx,dcyx->bd", window, kernel) +
                          p["patch_embed.proj.bias"])
    x = np.stack(tokens, axis=1)
    cls = np.broadcast_to(p["cls_token"], (B, 1, D))
    x = np.concatenate([cls, x], axis=1) + p["pos_embed"]
    for i in range(layers):
        b = f"blocks.{i}"
        x = x + mha(p, b + ".attn", ln(p, b + ".norm1", x, 1e-6), heads, False)
        h = gelu(linear(p, b + ".mlp.fc1", ln(p, b + ".norm2", x, 1e-6)), "none")
        x = x + linear(p, b + ".mlp.fc2", h)
    x = ln(p, "norm", x, 1e-6)
    return [linear(p, "head", x[:, 0])]


def gated_attention_weights(p, name, x, heads):
    """q, k, v [.., h, c] and gate g [.., h, c] of AF2's attention modules."""
    split = lambda t: t.reshape(*t.shape[:-1], heads, t.shape[-1] // heads)
    q = split(linear(p, name + ".linear_q", x, bias=False))
    k = split(linear(p, name + ".linear_k", x, bias=False))
    v = split(linear(p, name + ".linear_v", x, bias=False))
    g = split(1 / (1 + np.exp(-linear(p, name + ".linear_g", x))))
    return q, k, v, g


def msa_row_attention(p, name, m, z):  # Algorithm 7
    m = ln(p, name + ".layer_norm_m", m, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, m, 8)
    b = linear(p, name + ".linear_z", ln(p, name + ".layer_norm_z", z, 1e-5),
               bias=False)
    c = q.shape[-1]
    a = softmax(np.einsum("sihc,sjhc->sijh", q, k) / math.sqrt(c) + b[None],
                axis=2)
    o = g * np.einsum("sijh,sjhc->sihc", a, v)
    return linear(p, name + ".linear_o", o.reshape(*o.shape[:2], -1))


def msa_column_attention(p, name, m):  # Algorithm 8
    m = ln(p, name + ".layer_norm_m", m, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, m, 8)
    c = q.shape[-1]
    a = softmax(np.einsum("sihc,tihc->isth", q, k) / math.sqrt(c), axis=2)
    # a[i, s, t, h]: attention of sequence s to sequence t in column i.
    o = g * np.einsum("isth,tihc->sihc", a, v)
    return linear(p, name + ".linear_o", o.reshape(*o.shape[:2], -1))


def transition(p, name, x):  # Algorithms 9 and 15
    x = ln(p, name + ".layer_norm", x, 1e-5)
    return linear(p, name + ".linear_2",
                  np.maximum(linear(p, name + ".linear_1", x), 0))


def outer_product_mean(p, name, m):  # Algorithm 10
    m = ln(p, name + ".layer_norm", m, 1e-5)
    a = linear(p, name + ".linear_1", m)
    b = linear(p, name + ".linear_2", m)
    o = np.einsum("sic,sjd->ijcd", a, b) / m.shape[0]
    return linear(p, name + ".linear_out", o.reshape(*o.shape[:2], -1))


def triangle_multiplication(p, name, z, outgoing):  # Algorithms 11 and 12
    z = ln(p, name + ".layer_norm_in", z, 1e-5)
    sig = lambda t: 1 / (1 + np.exp(-t))
    a = sig(linear(p, name + ".linear_a_g", z)) * linear(p, name + ".linear_a_p", z)
    b = sig(linear(p, name + ".linear_b_g", z)) * linear(p, name + ".linear_b_p", z)
    g = sig(linear(p, name + ".linear_g", z))
    if outgoing:
        x = np.einsum("ikc,jkc->ijc", a, b)
    else:
        x = np.einsum("kic,kjc->ijc", a, b)
    return g * linear(p, name + ".linear_z", ln(p, name + ".layer_norm_out", x, 1e-5))


def triangle_attention(p, name, z, starting):  # Algorithms 13 and 14
    z = ln(p, name + ".layer_norm", z, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, z, 4)
    b = linear(p, name + ".linear", z, bias=False)
    c = q.shape[-1]
    if starting:
        logits = np.einsum("ijhc,ikhc->ijkh", q, k) / math.sqrt(c) + b[None]
        o = np.einsum("ijkh,ikhc->ijhc", softmax(logits, axis=2), v)
    else:
        # b_ki: bias indexed [k, i] -> arranged as [i, ., k].
        logits = (np.einsum("ijhc,kjhc->ijkh", q, k) / math.sqrt(c) +
                  b.transpose(1, 0, 2)[:, None])
        o = np.einsum("ijkh,kjhc->ijhc", softmax(logits, axis=2), v)
    o = g * o
    return linear(p, name + ".linear_o", o.reshape(*o.shape[:2], -1))


def evoformer_reference(p, m, z, blocks):  # Algorithm 6
    for i in range(blocks):
        b = f"blocks.{i}"
        m = m + msa_row_attention(p, b + ".msa_att_row", m, z)
        m = m + msa_column_attention(p, b + ".msa_att_col", m)
        m = m + transition(p, b + ".msa_transition", m)
        z = z + outer_product_mean(p, b + ".outer_product_mean", m)
        z = z + triangle_multiplication(p, b + ".tri_mul_out", z, True)
        z = z + triangle_multiplication(p, b + ".tri_mul_in", z, False)
        z = z + triangle_attention(p, b + ".tri_att_start", z, True)
        z = z + triangle_attention(p, b + ".tri_att_end", z, False)
        z = z + transition(p, b + ".pair_transition", z)
    return [m, z]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["gpt", "vit", "evoformer"])
    parser.add_argument("file")
    parser.add_argument("--heads", type=int, default=0)
    parser.add_argument("--causal", action="store_true")
    args = parser.parse_args()
    text = open(args.file).read()

    rng = np.random.default_rng(0)
    signature = parse_signature(text)
    by_ssa, by_name = {}, {}
    for ssa, name, role, shape in signature:
        # Weights of LayerNorm scale near 1 keep activations in range.
        value = rng.standard_normal(shape) * (0.5 if role == "input" else 0.2)
        if name.endswith(".weight") and len(shape) == 1:
            value = value + 1.0
        by_ssa[ssa] = by_name[name] = value
    blocks = 1 + max(int(n.split(".")[1]) for _, n, _, _ in signature
                     if n.startswith("blocks."))

    graph = interpret(text, by_ssa)
    if args.model == "gpt":
        reference = gpt_reference(by_name, by_name["x"], args.heads, blocks,
                                  args.causal)
    elif args.model == "vit":
        reference = vit_reference(by_name, by_name["image"], args.heads, blocks)
    else:
        reference = evoformer_reference(by_name, by_name["msa"], by_name["pair"],
                                        blocks)
    for index, (got, want) in enumerate(zip(graph, reference)):
        error = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)
        print(f"result {index}: shape {list(got.shape)} relative error {error:.3e}")
        if got.shape != want.shape or not error < 1e-9:
            print(f"MISMATCH in result {index}")
            return 1
    print(f"{args.model}: {len(reference)} result(s) match the numpy reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
