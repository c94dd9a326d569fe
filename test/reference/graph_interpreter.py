"""A numpy interpreter of graph-dialect text, for reference checks.

Parses the one function of a module as printed by chunk-models or mlir-opt
(one op per line, generic SSA names) and evaluates it op by op in whatever
precision its inputs have (float64 for a reference). It reads the op
semantics from GraphOps.td, not from the compiler's kernels, so it can
disagree with them.
"""
import re

import numpy as np

from numpy_models import gelu, layer_norm, sigmoid, softmax

TENSOR = re.compile(r"tensor<((?:[0-9]+x)*)(f32|f16|bf16)>")


class InterpreterError(Exception):
    pass


def shape_of(text):
    """[sizes] of a `tensor<AxBxf32>` type (a rank-0 tensor gives [])."""
    match = TENSOR.fullmatch(text.strip())
    if not match:
        raise InterpreterError(f"not a ranked tensor type: {text}")
    return [int(d) for d in match.group(1).split("x") if d]


def int_array(attrs, name):
    match = re.search(r"\b" + name + r" = array<i64: ([-0-9, ]+)>", attrs)
    return [int(v) for v in match.group(1).split(",")] if match else None


def int_attr(attrs, name, default=None):
    match = re.search(r"\b" + name + r" = (-?[0-9]+) : i64", attrs)
    return int(match.group(1)) if match else default


def float_attr(attrs, name, default):
    match = re.search(r"\b" + name + r" = ([-0-9.eE+]+) : f64", attrs)
    return float(match.group(1)) if match else default


def parse_signature(text):
    """[(ssa name, graph.name, role, shape)] of the arguments of the function."""
    header = re.search(r"func\.func @[\w.]+\((.*?)\) -> ", text, re.S).group(1)
    arguments = []
    for match in re.finditer(
            r"(%[\w.]+): (tensor<[^>]+>) \{graph\.name = \"([^\"]+)\", "
            r"graph\.role = \"(\w+)\"\}", header):
        ssa, tensor, name, role = match.groups()
        arguments.append((ssa, name, role, shape_of(tensor)))
    return arguments


def parse_result_names(text):
    """The graph.name of each result of the function, in order."""
    results = re.search(r"\) -> \((.*?)\) \{\n", text, re.S)
    if not results:
        return []
    return re.findall(r'graph\.name = "([^"]+)"', results.group(1))


def causal_mask(x, diagonal=0, row_offset=0, col_offset=0):
    rows, cols = x.shape[-2:]
    i = np.arange(rows)[:, None] + row_offset
    j = np.arange(cols)[None, :] + col_offset
    return np.where(j > i + diagonal, -np.inf, x)


def evaluate(op, operands, body, attrs, result_shape):
    """The value of one graph op on numpy operands."""
    unary = {
        "exp": np.exp, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x),
        "neg": np.negative, "relu": lambda x: np.maximum(x, 0),
        "sigmoid": sigmoid, "silu": lambda x: x * sigmoid(x), "tanh": np.tanh,
    }
    binary = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
              "div": np.divide}
    if op in unary:
        return unary[op](operands[0])
    if op in binary:
        return binary[op](operands[0], operands[1])
    if op == "layer_norm":
        return layer_norm(*operands, int_attr(attrs, "axis"),
                          float_attr(attrs, "epsilon", 1e-5))
    if op == "linear":
        out = operands[0] @ operands[1].T
        return out + operands[2] if len(operands) == 3 else out
    if op == "matmul":
        a, b = operands
        if re.search(r"\btranspose_a\b", attrs):
            a = np.swapaxes(a, -1, -2)
        if re.search(r"\btranspose_b\b", attrs):
            b = np.swapaxes(b, -1, -2)
        return a @ b
    if op == "einsum":
        return np.einsum(re.match(r'"([^"]+)"', body).group(1), *operands)
    if op == "slice":
        starts, limits = int_array(attrs, "starts"), int_array(attrs, "limits")
        strides = int_array(attrs, "strides") or [1] * len(starts)
        return operands[0][tuple(slice(s, l, k)
                                 for s, l, k in zip(starts, limits, strides))]
    if op == "reshape":
        return operands[0].reshape(result_shape)
    if op == "broadcast":
        return np.broadcast_to(operands[0], result_shape)
    if op == "transpose":
        return operands[0].transpose(int_array(attrs, "permutation"))
    if op == "concat":
        return np.concatenate(operands, axis=int_attr(attrs, "axis"))
    if op == "scale":
        return operands[0] * float_attr(attrs, "factor", None)
    if op == "softmax":
        return softmax(operands[0], int_attr(attrs, "axis"))
    if op == "causal_mask":
        return causal_mask(operands[0], int_attr(attrs, "diagonal", 0))
    if op == "gelu":
        return gelu(operands[0], "tanh" if '"tanh"' in attrs else "none")
    if op in ("reduce_sum", "reduce_mean", "reduce_max"):
        reduce = {"reduce_sum": np.sum, "reduce_mean": np.mean,
                  "reduce_max": np.max}[op]
        return reduce(operands[0], axis=tuple(int_array(attrs, "axes")),
                      keepdims=bool(re.search(r"\bkeep_dims\b", attrs)))
    raise InterpreterError(f"no interpreter for graph.{op}")


def interpret(text, values):
    """Runs the function body; `values` maps SSA argument names to arrays.

    Returns the list of returned arrays.
    """
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("return"):
            names = re.match(r"return ([^:]+) :", line).group(1)
            return [values[n.strip()] for n in names.split(",")]
        match = re.match(r"(%[\w.]+) = graph\.(\w+) (.*)$", line)
        if not match:
            continue
        result, op, rest = match.groups()
        body, _, types = rest.rpartition(" : ")
        attrs = body[body.find("{"):] if "{" in body else ""
        operands = [values[o] for o in
                    re.findall(r"%[\w.]+", body.split("{")[0])]
        result_shape = shape_of(re.findall(r"tensor<[^>]+>", types)[-1])
        out = evaluate(op, operands, body, attrs, result_shape)
        if list(out.shape) != result_shape:
            raise InterpreterError(f"{line}\n  computed shape "
                                   f"{list(out.shape)}, declared {result_shape}")
        values[result] = out
    raise InterpreterError("no return found")
