"""Independent numpy implementations of the models chunk-models builds.

Written from the papers, not from the graph builders: GPT-2 (Radford et al.),
ViT (Dosovitskiy et al., the stride-p convolution done patch by patch) and
the AlphaFold2 Evoformer (supplement, Algorithms 6-15, in its own index
notation). Parameters are looked up by their PyTorch-style names, the
graph.name attributes of the model's arguments. Callers pass float64 arrays
to get a float64 reference.
"""
import math

import numpy as np

# ----------------------------------------------------------------------------
# Primitives
# ----------------------------------------------------------------------------


def layer_norm(x, w, b, axis, eps):
    """PyTorch's LayerNorm over the dimensions [axis, rank)."""
    axes = tuple(range(axis, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ERF = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x, approximate):
    """GELU with the exact normal CDF ("none") or its tanh approximation."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                      (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + ERF(x / math.sqrt(2)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ----------------------------------------------------------------------------
# Building blocks
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


# ----------------------------------------------------------------------------
# Models: each returns the list of the model's results
# ----------------------------------------------------------------------------


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
    def split(t):
        return t.reshape(*t.shape[:-1], heads, t.shape[-1] // heads)
    q = split(linear(p, name + ".linear_q", x, bias=False))
    k = split(linear(p, name + ".linear_k", x, bias=False))
    v = split(linear(p, name + ".linear_v", x, bias=False))
    g = split(sigmoid(linear(p, name + ".linear_g", x)))
    return q, k, v, g


def msa_row_attention(p, name, m, z, heads):  # Algorithm 7
    m = ln(p, name + ".layer_norm_m", m, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, m, heads)
    b = linear(p, name + ".linear_z", ln(p, name + ".layer_norm_z", z, 1e-5),
               bias=False)
    c = q.shape[-1]
    a = softmax(np.einsum("sihc,sjhc->sijh", q, k) / math.sqrt(c) + b[None],
                axis=2)
    o = g * np.einsum("sijh,sjhc->sihc", a, v)
    return linear(p, name + ".linear_o", o.reshape(*o.shape[:2], -1))


def msa_column_attention(p, name, m, heads):  # Algorithm 8
    m = ln(p, name + ".layer_norm_m", m, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, m, heads)
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
    a = sigmoid(linear(p, name + ".linear_a_g", z)) * linear(p, name + ".linear_a_p", z)
    b = sigmoid(linear(p, name + ".linear_b_g", z)) * linear(p, name + ".linear_b_p", z)
    g = sigmoid(linear(p, name + ".linear_g", z))
    if outgoing:
        x = np.einsum("ikc,jkc->ijc", a, b)
    else:
        x = np.einsum("kic,kjc->ijc", a, b)
    return g * linear(p, name + ".linear_z", ln(p, name + ".layer_norm_out", x, 1e-5))


def triangle_attention(p, name, z, starting, heads):  # Algorithms 13 and 14
    z = ln(p, name + ".layer_norm", z, 1e-5)
    q, k, v, g = gated_attention_weights(p, name, z, heads)
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


def evoformer_reference(p, m, z, blocks, msa_heads=8, pair_heads=4):
    """Algorithm 6; the head counts are those of AF2 (chunk-models' defaults)."""
    for i in range(blocks):
        b = f"blocks.{i}"
        m = m + msa_row_attention(p, b + ".msa_att_row", m, z, msa_heads)
        m = m + msa_column_attention(p, b + ".msa_att_col", m, msa_heads)
        m = m + transition(p, b + ".msa_transition", m)
        z = z + outer_product_mean(p, b + ".outer_product_mean", m)
        z = z + triangle_multiplication(p, b + ".tri_mul_out", z, True)
        z = z + triangle_multiplication(p, b + ".tri_mul_in", z, False)
        z = z + triangle_attention(p, b + ".tri_att_start", z, True, pair_heads)
        z = z + triangle_attention(p, b + ".tri_att_end", z, False, pair_heads)
        z = z + transition(p, b + ".pair_transition", z)
    return [m, z]


def count_blocks(names):
    """How many `blocks.<i>.` prefixes the parameter names use."""
    return 1 + max(int(n.split(".")[1]) for n in names if n.startswith("blocks."))


def random_parameters(signature, rng, dtype=np.float64):
    """Random values for [(..., name, role, shape)] by graph.name.

    Inputs are N(0, 0.25), weights N(0, 0.04); rank-1 weights named
    `*.weight` (layer norm gains) get 1 added, which keeps activations in
    range through deep models.
    """
    values = {}
    for _, name, role, shape in signature:
        value = rng.standard_normal(shape) * (0.5 if role == "input" else 0.2)
        if name.endswith(".weight") and len(shape) == 1:
            value = value + 1.0
        values[name] = value.astype(dtype)
    return values
