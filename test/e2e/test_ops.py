"""Every graph op compiled by chunk-compile, run, and compared with numpy.

usage: test_ops.py CHUNK_COMPILE SCRATCH_DIR

Each case builds one graph-dialect function (several ops, several results)
together with a float64 numpy reference of each result written here from
the op definitions in GraphOps.td, compiles it to an executable, runs it on
.npy inputs and compares every output (f32: 1e-5 relative; f16 and bf16:
about 1e-2). It also checks the run report's planned against measured
activation bytes.
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from e2e_support import (Tally, compare, describe, fresh_dir, load_npy,
                         memory_report_matches, round_to, run, storage)
from numpy_models import gelu, layer_norm, sigmoid, softmax

CHUNK_COMPILE = sys.argv[1]
SCRATCH = sys.argv[2]
TOLERANCES = {"f32": (1e-5, 1e-5), "f16": (1e-2, 1e-2), "bf16": (2e-2, 2e-2)}


class Value:
    """An SSA value of the function being built and its numpy reference."""

    def __init__(self, ssa, ref):
        self.ssa, self.ref = ssa, np.asarray(ref, dtype=np.float64)

    @property
    def shape(self):
        return list(self.ref.shape)

    def __str__(self):
        return self.ssa


class Function:
    """Builds the text of one model function and the references it needs."""

    def __init__(self, name, dtype, seed, named=True):
        self.name, self.dtype, self.named = name, dtype, named
        self.rng = np.random.default_rng(seed)
        self.arguments = []  # (Value, graph.name)
        self.lines = []
        self.results = []  # (Value, graph.name)

    def t(self, value):
        shape = value.shape if hasattr(value, "shape") else value
        return "tensor<" + "".join(f"{d}x" for d in shape) + self.dtype + ">"

    def arg(self, name, shape, low=-1.0, high=1.0):
        """An input with values uniform in [low, high), as the dtype holds them."""
        values = round_to(self.rng.uniform(low, high, shape), self.dtype)
        value = Value(f"%{name}", values)
        self.arguments.append((value, name))
        return value

    def emit(self, text, ref):
        value = Value(f"%v{len(self.lines)}", ref)
        self.lines.append(f"{value.ssa} = {text}")
        return value

    def same(self, op, x, ref, attrs=""):
        """An op whose assembly gives the one operand type."""
        return self.emit(f"graph.{op} {x}{' ' + attrs if attrs else ''} : "
                         f"{self.t(x)}", ref)

    def call(self, op, operands, ref, attrs="", prefix=""):
        """An op whose assembly gives a functional type."""
        types = ", ".join(self.t(o) for o in operands)
        names = ", ".join(str(o) for o in operands)
        return self.emit(f"graph.{op} {prefix}{names}"
                         f"{' ' + attrs if attrs else ''} : ({types}) -> "
                         f"{self.t(np.shape(ref))}", ref)

    def result(self, value, name):
        self.results.append((value, name))

    def text(self):
        def attrs(name, role=None):
            if not self.named:
                return ""
            extra = f', graph.role = "{role}"' if role else ""
            return f' {{graph.name = "{name}"{extra}}}'
        arguments = ", ".join(f"{v}: {self.t(v)}{attrs(n, 'input')}"
                              for v, n in self.arguments)
        results = ", ".join(f"{self.t(v)}{attrs(n)}" for v, n in self.results)
        body = "".join(f"    {line}\n" for line in self.lines)
        returned = ", ".join(str(v) for v, _ in self.results)
        types = ", ".join(self.t(v) for v, _ in self.results)
        return (f"module {{\n  func.func @{self.name}({arguments}) -> "
                f"({results}) {{\n{body}    return {returned} : {types}\n  }}\n}}\n")

    def input_files(self):
        """{file name: array}: arguments are arg<i> without graph.name."""
        return {(n if self.named else f"arg{i}"): storage(v.ref, self.dtype)
                for i, (v, n) in enumerate(self.arguments)}

    def output_names(self):
        return [n if self.named else f"output{i}"
                for i, (_, n) in enumerate(self.results)]


# ----------------------------------------------------------------------------
# Cases: each fills a Function
# ----------------------------------------------------------------------------


def unary_ops(f):
    x = f.arg("x", [3, 7], -3.0, 3.0)
    positive = f.arg("positive", [3, 7], 0.1, 4.0)
    r = x.ref
    f.result(f.same("exp", x, np.exp(r)), "exp")
    f.result(f.same("sqrt", positive, np.sqrt(positive.ref)), "sqrt")
    f.result(f.same("rsqrt", positive, 1 / np.sqrt(positive.ref)), "rsqrt")
    f.result(f.same("neg", x, -r), "neg")
    f.result(f.same("relu", x, np.maximum(r, 0)), "relu")
    f.result(f.same("sigmoid", x, sigmoid(r)), "sigmoid")
    f.result(f.same("silu", x, r * sigmoid(r)), "silu")
    f.result(f.same("tanh", x, np.tanh(r)), "tanh")
    f.result(f.same("gelu", x, gelu(r, "none")), "gelu")
    f.result(f.same("gelu", x, gelu(r, "tanh"), '{approximate = "tanh"}'),
             "gelu_tanh")
    f.result(f.same("scale", x, r * -0.375, "{factor = -3.750000e-01 : f64}"),
             "scale")


BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
          "div": np.divide}
# Operand shapes: same shape, lower rank on either side, both sides stretched.
BROADCASTS = [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([4], [2, 3, 4]),
              ([2, 1, 4], [3, 1]), ([3, 1], [2, 1, 5])]


def binary_ops(f, ops=tuple(BINARY)):
    for index, (lhs_shape, rhs_shape) in enumerate(BROADCASTS):
        lhs = f.arg(f"lhs{index}", lhs_shape)
        # Denominators away from zero: |rhs| in [0.5, 1.5).
        rhs = f.arg(f"rhs{index}", rhs_shape, 0.5, 1.5)
        for op in ops:
            ref = BINARY[op](lhs.ref, rhs.ref)
            f.result(f.call(op, [lhs, rhs], ref), f"{op}{index}")


def matmul_ops(f):
    a = f.arg("a", [2, 3, 4])
    b = f.arg("b", [4, 5])
    f.result(f.call("matmul", [a, b], a.ref @ b.ref), "batch_lhs")
    c = f.arg("c", [3, 4])
    d = f.arg("d", [2, 4, 5])
    f.result(f.call("matmul", [c, d], c.ref @ d.ref), "batch_rhs")
    e = f.arg("e", [2, 1, 3, 4])
    g = f.arg("g", [3, 4, 5])
    f.result(f.call("matmul", [e, g], e.ref @ g.ref), "batch_both")
    at = f.arg("at", [2, 4, 3])  # [K, M]
    f.result(f.call("matmul", [at, d], np.swapaxes(at.ref, -1, -2) @ d.ref,
                    "{transpose_a}"), "transpose_a")
    bt = f.arg("bt", [5, 4])  # [N, K]
    f.result(f.call("matmul", [a, bt], a.ref @ bt.ref.T, "{transpose_b}"),
             "transpose_b")
    f.result(f.call("matmul", [at, bt], np.swapaxes(at.ref, -1, -2) @ bt.ref.T,
                    "{transpose_a, transpose_b}"), "transpose_ab")


EINSUMS = [("bij->bj", [[2, 3, 4]]), ("ijk->ki", [[3, 4, 5]]),
           ("bik,bkj->bij", [[2, 3, 4], [2, 4, 5]]),
           ("sic,sjd->ijcd", [[3, 4, 2], [3, 5, 3]]),
           ("ikc,jkc->ijc", [[4, 5, 3], [6, 5, 3]]),
           ("kic,kjc->ijc", [[5, 4, 3], [5, 6, 3]]),
           ("sihc,sjhc->sijh", [[2, 3, 2, 4], [2, 5, 2, 4]])]


def einsum_ops(f):
    for index, (equation, shapes) in enumerate(EINSUMS):
        operands = [f.arg(f"e{index}_{k}", shape)
                    for k, shape in enumerate(shapes)]
        ref = np.einsum(equation, *(o.ref for o in operands))
        f.result(f.call("einsum", operands, ref, prefix=f'"{equation}" '),
                 f"einsum{index}")


def linear_ops(f):
    x = f.arg("x", [2, 3, 6])
    w = f.arg("w", [5, 6])
    b = f.arg("b", [5])
    f.result(f.call("linear", [x, w, b], x.ref @ w.ref.T + b.ref), "with_bias")
    f.result(f.call("linear", [x, w], x.ref @ w.ref.T), "without_bias")


def normalization_ops(f):
    x = f.arg("x", [2, 5, 3], -2.0, 2.0)
    f.result(f.same("softmax", x, softmax(x.ref, 1), "{axis = 1 : i64}"),
             "softmax_middle")
    f.result(f.same("softmax", x, softmax(x.ref, 2), "{axis = 2 : i64}"),
             "softmax_last")
    w = f.arg("ln_w", [5, 3], 0.5, 1.5)
    b = f.arg("ln_b", [5, 3])
    f.result(f.call("layer_norm", [x, w, b], layer_norm(x.ref, w.ref, b.ref, 1, 1e-5),
                    "{axis = 1 : i64}"), "layer_norm_axis1")
    w2 = f.arg("ln2_w", [3], 0.5, 1.5)
    b2 = f.arg("ln2_b", [3])
    f.result(f.call("layer_norm", [x, w2, b2],
                    layer_norm(x.ref, w2.ref, b2.ref, 2, 1e-3),
                    "{axis = 2 : i64, epsilon = 1.000000e-03 : f64}"),
             "layer_norm_axis2_eps")


def reduction_ops(f):
    x = f.arg("x", [2, 3, 4])
    for op, reduce in (("reduce_sum", np.sum), ("reduce_mean", np.mean),
                       ("reduce_max", np.max)):
        f.result(f.call(op, [x], reduce(x.ref, axis=1, keepdims=True),
                        "{axes = array<i64: 1>, keep_dims}"), f"{op}_keep")
        f.result(f.call(op, [x], reduce(x.ref, axis=(0, 2)),
                        "{axes = array<i64: 0, 2>}"), f"{op}_drop")


def reduce_to_scalar(f):
    x = f.arg("x", [3, 4])
    f.result(f.call("reduce_sum", [x], np.sum(x.ref),
                    "{axes = array<i64: 0, 1>}"), "total")


def data_movement_ops(f):
    x = f.arg("x", [2, 3, 4])
    t = f.call("transpose", [x], x.ref.transpose(2, 0, 1),
               "{permutation = array<i64: 2, 0, 1>}")
    f.result(t, "transpose")
    # The reshape's source is the transpose: a non-contiguous view of x.
    f.result(f.call("reshape", [t], t.ref.reshape(4, 6)), "reshape_of_transpose")
    f.result(f.call("reshape", [x], x.ref.reshape(6, 2, 2)), "reshape")
    y = f.arg("y", [3, 1])
    f.result(f.call("broadcast", [y], np.broadcast_to(y.ref, (2, 3, 4))),
             "broadcast")


def slices_returned(f):
    """Slices whose result is an output: the slice itself is materialized."""
    z = f.arg("z", [5, 7, 6])
    f.result(f.call("slice", [z], z.ref[1:5:2, 0:7:3, 2:6],
                    "{limits = array<i64: 5, 7, 6>, starts = array<i64: 1, 0, 2>, "
                    "strides = array<i64: 2, 3, 1>}"), "slice_strided")
    f.result(f.call("slice", [z], z.ref[:, 2:4],
                    "{limits = array<i64: 5, 4, 6>, starts = array<i64: 0, 2, 0>}"),
             "slice")


def slices_consumed(f):
    """Slices read by a kernel: the kernel reads the strided view."""
    z = f.arg("z", [5, 7, 6])
    strided = f.call("slice", [z], z.ref[1:5:2, 0:7:3, 2:6],
                     "{limits = array<i64: 5, 7, 6>, starts = array<i64: 1, 0, 2>, "
                     "strides = array<i64: 2, 3, 1>}")
    f.result(f.same("exp", strided, np.exp(strided.ref)), "exp_of_strided_slice")
    plain = f.call("slice", [z], z.ref[:, 2:4],
                   "{limits = array<i64: 5, 4, 6>, starts = array<i64: 0, 2, 0>}")
    f.result(f.same("neg", plain, -plain.ref), "neg_of_slice")


def concat_op(f):
    a, b, c = (f.arg(n, [2, k, 3]) for n, k in (("c0", 1), ("c1", 4), ("c2", 2)))
    f.result(f.call("concat", [a, b, c],
                    np.concatenate([a.ref, b.ref, c.ref], axis=1),
                    "{axis = 1 : i64}"), "concat")


def causal_masks(f):
    x = f.arg("x", [2, 4, 6])
    rows, cols = np.arange(4)[:, None], np.arange(6)[None, :]

    def masked(diagonal):
        return np.where(cols > rows + diagonal, -np.inf, x.ref)
    f.result(f.same("causal_mask", x, masked(0)), "mask")
    f.result(f.same("causal_mask", x, masked(1), "{diagonal = 1 : i64}"),
             "mask_above")
    f.result(f.same("causal_mask", x, masked(-2), "{diagonal = -2 : i64}"),
             "mask_below")


def attention_reference(q, k, v, scale, bias=None, causal=False, diagonal=0):
    logits = scale * np.einsum("...id,...jd->...ij", q, k)
    if causal:
        rows = np.arange(logits.shape[-2])[:, None]
        cols = np.arange(logits.shape[-1])[None, :]
        logits = np.where(cols > rows + diagonal, -np.inf, logits)
    if bias is not None:
        logits = logits + bias
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("...ij,...je->...ie", weights, v)


def attention_ops(f):
    """graph.attention: causal with a diagonal, a broadcast bias, D != E,
    M != N."""
    q = f.arg("q", [2, 3, 5, 4])
    k = f.arg("k", [2, 3, 7, 4])
    v = f.arg("v", [2, 3, 7, 6])
    bias = f.arg("bias", [3, 5, 7])

    def attention(operands, ref, attrs, bias_value=None):
        names = ", ".join(str(o) for o in operands)
        types = ", ".join(f.t(o) for o in operands)
        biased = f" bias({bias_value} : {f.t(bias_value)})" if bias_value else ""
        return f.emit(f"graph.attention {names}{biased} {attrs} : {types} -> "
                      f"{f.t(np.shape(ref))}", ref)

    f.result(attention([q, k, v], attention_reference(
        q.ref, k.ref, v.ref, 0.5, causal=True, diagonal=2),
        "{causal, diagonal = 2 : i64, scale = 5.000000e-01 : f64}"),
        "causal")
    f.result(attention([q, k, v], attention_reference(
        q.ref, k.ref, v.ref, 1.0, bias=bias.ref), "{scale = 1.0 : f64}", bias),
        "biased")


def constants(f):
    x = f.arg("x", [2, 3])
    table = np.array([[1.5, -2.0, 0.25], [3.0, 0.0, -0.5]])
    c = f.emit("graph.constant dense<[[1.500000e+00, -2.000000e+00, "
               "2.500000e-01], [3.000000e+00, 0.000000e+00, -5.000000e-01]]> : "
               f"{f.t([2, 3])}", table)
    f.result(f.call("add", [x, c], x.ref + table), "plus_table")
    splat = f.emit(f"graph.constant dense<0.75> : {f.t([3])}", np.full(3, 0.75))
    f.result(f.call("mul", [x, splat], x.ref * 0.75), "times_splat")
    f.result(c, "table")


def returned_values(f):
    """Several results, one op result returned twice, an argument returned."""
    x = f.arg("x", [3, 4])
    y = f.same("tanh", x, np.tanh(x.ref))
    f.result(y, "first")
    f.result(y, "again")
    f.result(x, "argument")
    f.result(f.call("add", [y, x], np.tanh(x.ref) + x.ref), "sum")


def low_precision_ops(f):
    """The ops of transformer blocks, for f16 and bf16."""
    x = f.arg("x", [2, 5, 8], -2.0, 2.0)
    r = x.ref
    f.result(f.same("exp", x, np.exp(r)), "exp")
    f.result(f.same("sigmoid", x, sigmoid(r)), "sigmoid")
    f.result(f.same("gelu", x, gelu(r, "tanh"), '{approximate = "tanh"}'),
             "gelu_tanh")
    f.result(f.same("gelu", x, gelu(r, "none")), "gelu")
    bias = f.arg("bias", [8])
    f.result(f.call("add", [x, bias], r + bias.ref), "add_broadcast")
    w = f.arg("w", [6, 8], -0.5, 0.5)
    b = f.arg("b", [6])
    f.result(f.call("linear", [x, w, b], r @ w.ref.T + b.ref), "linear")
    m = f.arg("m", [2, 8, 3])
    f.result(f.call("matmul", [x, m], r @ m.ref), "matmul")
    f.result(f.same("softmax", x, softmax(r, 2), "{axis = 2 : i64}"), "softmax")
    gain = f.arg("gain", [8], 0.5, 1.5)
    f.result(f.call("layer_norm", [x, gain, bias],
                    layer_norm(r, gain.ref, bias.ref, 2, 1e-5),
                    "{axis = 2 : i64}"), "layer_norm")
    f.result(f.call("reduce_sum", [x], r.sum(axis=2),
                    "{axes = array<i64: 2>}"), "reduce_sum")
    t = f.call("transpose", [x], r.transpose(0, 2, 1),
               "{permutation = array<i64: 0, 2, 1>}")
    f.result(f.call("reshape", [t], t.ref.reshape(16, 5)), "transpose_reshape")


CASES = [
    ("unary", "f32", unary_ops, True),
    ("binary", "f32", binary_ops, True),
    ("matmul", "f32", matmul_ops, True),
    ("einsum", "f32", einsum_ops, True),
    ("linear", "f32", linear_ops, True),
    ("normalization", "f32", normalization_ops, True),
    ("reductions", "f32", reduction_ops, True),
    ("reduce_to_scalar", "f32", reduce_to_scalar, True),
    ("data_movement", "f32", data_movement_ops, True),
    ("slices_returned", "f32", slices_returned, True),
    ("slices_consumed", "f32", slices_consumed, True),
    ("concat", "f32", concat_op, True),
    ("concat_f16", "f16", concat_op, True),
    ("causal_mask", "f32", causal_masks, True),
    ("attention", "f32", attention_ops, True),
    ("attention_bf16", "bf16", attention_ops, True),
    ("constants", "f32", constants, True),
    ("returned_values", "f32", returned_values, True),
    ("unnamed", "f32", lambda f: binary_ops(f, ("add", "div")), False),
    ("f16", "f16", low_precision_ops, True),
    ("bf16", "bf16", low_precision_ops, True),
    ("binary_f16", "f16", lambda f: binary_ops(f, ("sub", "mul")), True),
    ("binary_bf16", "bf16", lambda f: binary_ops(f, ("add", "div")), True),
]


def prepare(index, name, dtype, build, named):
    """Writes the case's module and inputs, compiles it; returns its state."""
    f = Function(name, dtype, seed=index, named=named)
    build(f)
    directory = fresh_dir(os.path.join(SCRATCH, name))
    with open(os.path.join(directory, "model.mlir"), "w") as out:
        out.write(f.text())
    inputs = fresh_dir(os.path.join(directory, "inputs"))
    for file_name, array in f.input_files().items():
        np.save(os.path.join(inputs, file_name + ".npy"), array)
    executable = os.path.join(directory, "model")
    compiled = run([CHUNK_COMPILE, os.path.join(directory, "model.mlir"),
                    "-o", executable])
    return f, directory, compiled


def check_case(tally, f, directory, compiled):
    name = f.name
    if not tally.check(compiled.returncode == 0, f"{name}: compiles",
                       describe(compiled)):
        return
    outputs = os.path.join(directory, "outputs")
    report_path = os.path.join(directory, "report.json")
    result = run([os.path.join(directory, "model"), "--inputs",
                  os.path.join(directory, "inputs"), "--outputs", outputs,
                  "--report", report_path])
    if not tally.check(result.returncode == 0, f"{name}: runs", describe(result)):
        return
    rtol, atol = TOLERANCES[f.dtype]
    for (value, _), file_name in zip(f.results, f.output_names()):
        got = load_npy(os.path.join(outputs, file_name + ".npy"), f.dtype)
        ok, message = compare(got, value.ref, rtol, atol)
        tally.check(ok, f"{name}: {file_name} matches numpy", message)
    with open(report_path) as report_file:
        report = json.load(report_file)
    ok, message = memory_report_matches(report)
    tally.check(ok, f"{name}: planned activation bytes match the measured ones",
                message)


def main():
    tally = Tally()
    fresh_dir(SCRATCH)
    # Two compilations at a time: chunk-compile is single-threaded.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(case[0], pool.submit(prepare, index, *case))
                   for index, case in enumerate(CASES)]
        for name, future in futures:
            try:
                prepared = future.result()
            except Exception as error:  # noqa: BLE001
                tally.check(False, f"{name}: prepares", repr(error))
                continue
            tally.guard(f"{name}: checks run", check_case, tally, *prepared)
    return tally.finish()


if __name__ == "__main__":
    sys.exit(main())
