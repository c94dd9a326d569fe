"""Checks the runtime's fused CPU kernels against numpy and the unfused ones.

Loads the runtime shared library given as argv[1] with ctypes (through the
helpers of test_kernels.py) and checks ac_scale_mask_softmax,
ac_linear_activation and ac_sigmoid_gate for f32, f16 and bf16 on contiguous
and strided views: against a float64 numpy reference, bit for bit against
the unfused sequence of kernels they replace (the lowering relies on that for
chunked == unchunked), in place, across thread counts, and with bad
arguments.
"""

import ctypes
import math
import sys

import numpy as np

import test_kernels as base
from test_kernels import (BF16, DTYPE_NAMES, F16, F32, LIB, UNARY, BINARY,
                          assert_bits_equal, assert_close, assert_untouched,
                          check_status, decode, encode, expect_error, random,
                          strided_output, tensor, views)

T = ctypes.POINTER(base.AcTensor)
LIB.ac_scale_mask_softmax.argtypes = [T, T, T, ctypes.c_double, ctypes.c_int,
                                      ctypes.c_int64, ctypes.c_int64,
                                      ctypes.c_int64]
LIB.ac_scale_mask_softmax.restype = ctypes.c_int
LIB.ac_linear_activation.argtypes = [T, T, T, T, ctypes.c_int]
LIB.ac_linear_activation.restype = ctypes.c_int
LIB.ac_sigmoid_gate.argtypes = [T, T, T]
LIB.ac_sigmoid_gate.restype = ctypes.c_int

DTYPES = (F32, F16, BF16)


def round_to(values, dtype):
    """float64 values rounded to `dtype` (as a kernel stores them)."""
    return decode(encode(values, dtype), dtype)


def optional(t):
    return ctypes.pointer(t) if t is not None else None


# ---------------------------------------------------------------------------
# scale + causal mask + bias + softmax
# ---------------------------------------------------------------------------


def attention_reference(x, bias, factor, mask, dtype):
    """The unfused chain in float64, rounded to `dtype` where the unfused
    kernels store: scale, mask, add, then softmax over the last axis."""
    t = round_to(x * factor, dtype)
    if mask is not None:
        row_offset, col_offset, diagonal = mask
        rows, cols = t.shape[-2:]
        i = np.arange(rows)[:, None]
        j = np.arange(cols)[None, :]
        t = np.where(j + col_offset > i + row_offset + diagonal, -np.inf, t)
    if bias is not None:
        t = round_to(t + bias, dtype)
    shifted = t - np.max(t, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def run_fused_softmax(x, bias, out, dtype, factor, mask):
    causal = mask is not None
    row_offset, col_offset, diagonal = mask if causal else (0, 0, 0)
    return LIB.ac_scale_mask_softmax(
        tensor(x, dtype), optional(tensor(bias, dtype) if bias is not None
                                   else None),
        tensor(out, dtype), factor, int(causal), row_offset, col_offset,
        diagonal)


def run_unfused_softmax(x, bias, dtype, factor, mask):
    """ac_scale, ac_causal_mask, ac_binary(ADD), ac_softmax in sequence."""
    t = np.empty_like(np.ascontiguousarray(x))
    check_status(LIB.ac_scale(tensor(x, dtype), tensor(t, dtype), factor),
                 "ac_scale")
    if mask is not None:
        check_status(LIB.ac_causal_mask(tensor(t, dtype), tensor(t, dtype),
                                        *mask), "ac_causal_mask")
    if bias is not None:
        check_status(LIB.ac_binary(BINARY["add"], tensor(t, dtype),
                                   tensor(bias, dtype), tensor(t, dtype)),
                     "ac_binary add")
    out = np.empty_like(t)
    check_status(LIB.ac_softmax(tensor(t, dtype), tensor(out, dtype),
                                t.ndim - 1), "ac_softmax")
    return out


# (x shape, bias shape or None, factor, mask or None)
SOFTMAX_CASES = [
    ((2, 3, 7, 7), None, 0.125, (0, 0, 0)),           # GPT scores
    ((2, 3, 5, 9), None, 0.5, (4, 0, 0)),             # a query chunk
    ((2, 3, 5, 9), None, 1.0, (0, 3, 1)),             # a key chunk, diagonal
    ((4, 3, 6, 6), (3, 6, 6), 1.0, None),             # pair bias over batch
    ((2, 3, 6, 6), (6,), 0.25, (1, 0, -1)),           # everything
    ((5, 33), (1, 33), 2.0, None),                    # rank 2, long rows
    ((3, 4, 4), (4, 4), 1.0, (0, 10, 0)),             # fully masked rows
]


def test_scale_mask_softmax_numpy():
    for dtype in DTYPES:
        for shape, bias_shape, factor, mask in SOFTMAX_CASES:
            x = random(shape, dtype, -6.0, 6.0)
            bias = random(bias_shape, dtype) if bias_shape else None
            with np.errstate(invalid="ignore"):
                expected = attention_reference(
                    decode(x, dtype),
                    decode(bias, dtype) if bias is not None else None,
                    factor, mask, dtype)
            for name, view in views(x):
                for layout in ("contiguous", "strided", "transposed"):
                    buffer, out = strided_output(shape, dtype, layout)
                    check_status(run_fused_softmax(view, bias, out, dtype,
                                                   factor, mask),
                                 "ac_scale_mask_softmax")
                    what = (f"scale_mask_softmax {DTYPE_NAMES[dtype]} {shape} "
                            f"bias {bias_shape} mask {mask} {name}->{layout}")
                    finite = np.isfinite(expected)
                    assert np.array_equal(np.isnan(decode(out, dtype)),
                                          ~finite), f"{what}: NaN rows differ"
                    assert_close(np.where(finite, out, 0),
                                 np.where(finite, expected, 0), dtype, what)
                    assert_untouched(buffer, out, what)


def test_scale_mask_softmax_bitwise_unfused():
    for dtype in DTYPES:
        for shape, bias_shape, factor, mask in SOFTMAX_CASES:
            x = random(shape, dtype, -6.0, 6.0)
            bias = random(bias_shape, dtype) if bias_shape else None
            unfused = run_unfused_softmax(x, bias, dtype, factor, mask)
            for name, view in views(x):
                out = np.empty_like(x)
                check_status(run_fused_softmax(view, bias, out, dtype, factor,
                                               mask), "ac_scale_mask_softmax")
                assert_bits_equal(out, unfused,
                                  f"scale_mask_softmax {DTYPE_NAMES[dtype]} "
                                  f"{shape} mask {mask} {name} vs unfused")


def test_scale_mask_softmax_in_place():
    for dtype in DTYPES:
        x = random((2, 3, 8, 8), dtype, -6.0, 6.0)
        bias = random((3, 8, 8), dtype)
        unfused = run_unfused_softmax(x, bias, dtype, 0.5, (0, 0, 0))
        inout = x.copy()
        check_status(run_fused_softmax(inout, bias, inout, dtype, 0.5,
                                       (0, 0, 0)), "in place")
        assert_bits_equal(inout, unfused,
                          f"scale_mask_softmax {DTYPE_NAMES[dtype]} in place")


def test_scale_mask_softmax_threads():
    original = LIB.ac_get_num_threads()
    x = random((4, 4, 64, 200), F32, -6.0, 6.0)
    bias = random((4, 64, 200), F32)
    try:
        results = []
        for threads in (1, 2, 3):
            check_status(LIB.ac_set_num_threads(threads), "set threads")
            out = np.empty_like(x)
            check_status(run_fused_softmax(x, bias, out, F32, 0.3, (0, 0, 0)),
                         "ac_scale_mask_softmax")
            results.append(out)
        for other in results[1:]:
            assert_bits_equal(other, results[0], "threads 1 vs 2 and 3")
    finally:
        LIB.ac_set_num_threads(original)


# ---------------------------------------------------------------------------
# linear + activation
# ---------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": lambda y: np.maximum(y, 0.0),
    "gelu": lambda y: 0.5 * y * (1.0 + np.vectorize(math.erf)(
        y / math.sqrt(2.0))),
    "gelu_tanh": lambda y: 0.5 * y * (1.0 + np.tanh(
        math.sqrt(2.0 / math.pi) * (y + 0.044715 * y ** 3))),
    "silu": lambda y: y / (1.0 + np.exp(-y)),
}


def test_linear_activation():
    for dtype in DTYPES:
        for x_shape in ((5, 24), (2, 3, 40)):
            x = random(x_shape, dtype)
            w = random((13, x_shape[-1]), dtype)
            bias = random((13,), dtype)
            out_shape = x_shape[:-1] + (13,)
            for kind, activation in ACTIVATIONS.items():
                for with_bias in (True, False):
                    b = bias if with_bias else None
                    # The activation applies to the product as stored.
                    product = decode(x, dtype) @ decode(w, dtype).T
                    if with_bias:
                        product = product + decode(bias, dtype)
                    expected = activation(round_to(product, dtype))
                    # The unfused pair: ac_linear, then ac_unary in place.
                    unfused = np.empty(out_shape, dtype=x.dtype)
                    check_status(LIB.ac_linear(
                        tensor(x, dtype), tensor(w, dtype),
                        optional(tensor(b, dtype) if with_bias else None),
                        tensor(unfused, dtype)), "ac_linear")
                    check_status(LIB.ac_unary(UNARY[kind],
                                              tensor(unfused, dtype),
                                              tensor(unfused, dtype)),
                                 "ac_unary")
                    for layout in ("contiguous", "strided", "transposed"):
                        buffer, out = strided_output(out_shape, dtype, layout)
                        check_status(LIB.ac_linear_activation(
                            tensor(x, dtype), tensor(w, dtype),
                            optional(tensor(b, dtype) if with_bias else None),
                            tensor(out, dtype), UNARY[kind]),
                            "ac_linear_activation")
                        what = (f"linear_{kind} {DTYPE_NAMES[dtype]} "
                                f"{x_shape} bias={with_bias} -> {layout}")
                        rtol = 2e-5 if dtype == F32 else None
                        assert_close(out, expected, dtype, what, rtol)
                        assert_untouched(buffer, out, what)
                        assert_bits_equal(np.ascontiguousarray(out), unfused,
                                          f"{what} vs unfused")


# ---------------------------------------------------------------------------
# sigmoid gating
# ---------------------------------------------------------------------------

GATE_CASES = [((4, 6, 9), (4, 6, 9)), ((4, 6, 9), (9,)), ((1, 9), (5, 9)),
              ((6, 1), (6, 7))]


def test_sigmoid_gate():
    for dtype in DTYPES:
        for gate_shape, value_shape in GATE_CASES:
            gate = random(gate_shape, dtype, -6.0, 6.0)
            value = random(value_shape, dtype)
            out_shape = np.broadcast_shapes(gate_shape, value_shape)
            sigmoid = round_to(1.0 / (1.0 + np.exp(-decode(gate, dtype))),
                               dtype)
            expected = sigmoid * decode(value, dtype)
            # The unfused pair: ac_unary sigmoid, then ac_binary mul.
            stored = np.empty_like(gate)
            check_status(LIB.ac_unary(UNARY["sigmoid"], tensor(gate, dtype),
                                      tensor(stored, dtype)), "ac_unary")
            unfused = np.empty(out_shape, dtype=gate.dtype)
            check_status(LIB.ac_binary(BINARY["mul"], tensor(stored, dtype),
                                       tensor(value, dtype),
                                       tensor(unfused, dtype)), "ac_binary")
            for name, view in views(gate):
                for layout in ("contiguous", "strided", "transposed"):
                    buffer, out = strided_output(out_shape, dtype, layout)
                    check_status(LIB.ac_sigmoid_gate(
                        tensor(view, dtype), tensor(value, dtype),
                        tensor(out, dtype)), "ac_sigmoid_gate")
                    what = (f"sigmoid_gate {DTYPE_NAMES[dtype]} {gate_shape} "
                            f"x {value_shape} {name}->{layout}")
                    assert_close(out, expected, dtype, what)
                    assert_untouched(buffer, out, what)
                    assert_bits_equal(np.ascontiguousarray(out), unfused,
                                      f"{what} vs unfused")


def test_sigmoid_gate_in_place():
    for dtype in DTYPES:
        gate = random((5, 8), dtype, -6.0, 6.0)
        value = random((5, 8), dtype)
        expected = np.empty_like(gate)
        check_status(LIB.ac_sigmoid_gate(tensor(gate, dtype),
                                         tensor(value, dtype),
                                         tensor(expected, dtype)), "gate")
        for target in ("gate", "value"):
            g, v = gate.copy(), value.copy()
            inout = g if target == "gate" else v
            check_status(LIB.ac_sigmoid_gate(tensor(g, dtype),
                                             tensor(v, dtype),
                                             tensor(inout, dtype)), target)
            assert_bits_equal(inout, expected,
                              f"sigmoid_gate {DTYPE_NAMES[dtype]} into "
                              f"{target}")


# ---------------------------------------------------------------------------
# Bad arguments: an error with a message, the output untouched
# ---------------------------------------------------------------------------


def test_errors():
    x = random((2, 4, 4))
    sentinel = np.full((2, 4, 4), np.nan, dtype=np.float32)

    def softmax_error(inp, bias, out, causal, what):
        expect_error(LIB.ac_scale_mask_softmax(
            tensor(inp), optional(tensor(bias) if bias is not None else None),
            tensor(out), 1.0, causal, 0, 0, 0), what)

    softmax_error(x, None, np.zeros((2, 4, 5), np.float32), 0,
                  "softmax output of another shape")
    softmax_error(x, random((3, 4)), sentinel, 0, "bias 3x4 on 2x4x4")
    softmax_error(x, random((2, 2, 4, 4)), sentinel, 0,
                  "bias of a higher rank")
    softmax_error(x, random((4, 4), F16), sentinel, 0, "f16 bias, f32 input")
    softmax_error(random((5,)), None, np.zeros((5,), np.float32), 1,
                  "causal mask of rank 1")
    assert np.all(np.isnan(sentinel)), "a failed call wrote its output"
    expect_error(LIB.ac_scale_mask_softmax(None, None, tensor(sentinel), 1.0,
                                           0, 0, 0, 0), "null input")

    w = random((3, 4))
    out = np.zeros((2, 4, 3), np.float32)
    expect_error(LIB.ac_linear_activation(tensor(x), tensor(w), None,
                                          tensor(out), UNARY["sigmoid"]),
                 "linear with a sigmoid activation")
    expect_error(LIB.ac_linear_activation(tensor(x), tensor(random((3, 5))),
                                          None, tensor(out), UNARY["relu"]),
                 "linear with mismatched features")
    message = LIB.ac_last_error().decode()
    assert message.startswith("ac_linear_activation"), (
        f"error not named after the fused kernel: {message}")

    gate_out = np.full((2, 4, 4), np.nan, dtype=np.float32)
    expect_error(LIB.ac_sigmoid_gate(tensor(x), tensor(random((3, 4))),
                                     tensor(gate_out)), "gate 2x4x4 x 3x4")
    expect_error(LIB.ac_sigmoid_gate(tensor(x), tensor(random((2, 4, 4),
                                                              F16)),
                                     tensor(gate_out)), "f16 value")
    assert np.all(np.isnan(gate_out)), "a failed gate wrote its output"


def main():
    return base.run_tests(globals())


if __name__ == "__main__":
    sys.exit(main())
