"""Checks the runtime's fused CPU attention kernel ac_attention.

Loads the runtime shared library given as argv[1] with ctypes (through the
helpers of test_kernels.py) and checks ac_attention for f32, f16 and bf16
against a float64 numpy reference: causal or not, with row_offset and
diagonal, without a bias, with a full one and with broadcast ones, on
contiguous, transposed and step-sliced views, with D != E and M != N. Then
its determinism: the rows of one call equal bit for bit the same rows
computed by calls on row slices (with the matching row_offset), with 1, 2 or
3 threads and with either GEMM backend selected. Then bad arguments.
"""

import ctypes
import sys

import numpy as np

import test_kernels as base
from test_kernels import (BF16, DTYPE_NAMES, F16, F32, GEMM_OPENBLAS,
                          GEMM_PACKED, LIB, assert_bits_equal,
                          assert_untouched, check_status, decode,
                          expect_error, random, strided_output, tensor, views)

T = ctypes.POINTER(base.AcTensor)
LIB.ac_attention.argtypes = [T, T, T, T, T, ctypes.c_double, ctypes.c_int,
                             ctypes.c_int64, ctypes.c_int64]
LIB.ac_attention.restype = ctypes.c_int

DTYPES = (F32, F16, BF16)
# Norm-wise relative error bounds against float64. The kernel accumulates in
# f32 and rounds each output once, so f32 is bounded by f32 accumulation and
# f16/bf16 by their final rounding (2^-11 and 2^-8 relative per element).
NORM_TOLERANCE = {F32: 1e-5, F16: 1e-3, BF16: 8e-3}


def visible_mask(rows, keys, causal, row_offset, diagonal):
    """[rows, keys] booleans: key j visible to query row i."""
    if not causal:
        return np.ones((rows, keys), dtype=bool)
    i = np.arange(rows)[:, None]
    j = np.arange(keys)[None, :]
    return j <= i + row_offset + diagonal


def attention_reference(q, k, v, bias, scale, causal, row_offset, diagonal):
    """softmax(scale q k^T, masked, + bias) v in float64 (inputs float64).
    Rows without a visible key come out NaN (the kernel leaves them
    undefined; callers compare only the other rows)."""
    t = scale * np.matmul(q, np.swapaxes(k, -1, -2))
    visible = visible_mask(q.shape[-2], k.shape[-2], causal, row_offset,
                           diagonal)
    t = np.where(visible, t, -np.inf)
    if bias is not None:
        t = t + bias
    with np.errstate(invalid="ignore"):
        e = np.exp(t - np.max(t, axis=-1, keepdims=True))
        return np.matmul(e / np.sum(e, axis=-1, keepdims=True), v)


def optional(t):
    return ctypes.pointer(t) if t is not None else None


def call_attention(q, k, v, bias, out, dtype, scale, causal, row_offset,
                   diagonal):
    """ac_attention on numpy arrays; dtype None takes each one's own."""
    return LIB.ac_attention(
        tensor(q, dtype), tensor(k, dtype), tensor(v, dtype),
        optional(tensor(bias, dtype) if bias is not None else None),
        tensor(out, dtype), scale, int(causal), row_offset, diagonal)


def assert_norm_close(actual, reference, rows_defined, dtype, what):
    """Norm-wise relative error of the defined rows within NORM_TOLERANCE."""
    actual = decode(actual, dtype)[..., rows_defined, :]
    reference = reference[..., rows_defined, :]
    assert np.all(np.isfinite(actual)), f"{what}: non-finite output"
    error = np.linalg.norm(actual - reference) / max(
        np.linalg.norm(reference), 1e-30)
    assert error <= NORM_TOLERANCE[dtype], (
        f"{what}: norm-wise relative error {error:.3g} exceeds "
        f"{NORM_TOLERANCE[dtype]:g}")


# (q shape, k shape, v shape, bias shape or None, scale, causal, row_offset,
#  diagonal)
CASES = [
    # Odd sizes, M != N, D != E: a query chunk of a causal GPT.
    ((2, 3, 37, 24), (2, 3, 53, 24), (2, 3, 53, 40), None, 0.2, True, 16, 0),
    # Full bias, no mask.
    ((2, 3, 37, 24), (2, 3, 53, 24), (2, 3, 53, 40), (2, 3, 37, 53), 0.5,
     False, 0, 0),
    # Evoformer's pair bias, broadcast over the leading dimension.
    ((4, 3, 19, 8), (4, 3, 19, 8), (4, 3, 19, 8), (3, 19, 19), 1.0, False,
     0, 0),
    # A key mask broadcast over batches and rows, with a causal mask too.
    ((2, 3, 21, 16), (2, 3, 29, 16), (2, 3, 29, 12), (2, 1, 1, 29), 0.25,
     True, 8, 0),
    # A key bias (rank 1), diagonal above and below.
    ((3, 13, 10), (3, 13, 10), (3, 13, 6), (13,), 0.3, True, 0, 2),
    ((3, 13, 10), (3, 20, 10), (3, 20, 6), None, 0.3, True, 9, -2),
    # Rank 2, and rank 5.
    ((37, 24), (53, 24), (53, 40), (37, 53), 0.2, True, 20, 1),
    ((2, 1, 2, 9, 4), (2, 1, 2, 11, 4), (2, 1, 2, 11, 5), (9, 11), 0.7,
     False, 0, 0),
    # Several row blocks, N and D beyond one 256 deep GEMM block, a row
    # offset that is not block aligned.
    ((1, 150, 300), (1, 290, 300), (1, 290, 24), None, 0.05, True, 70, 0),
    ((2, 130, 8), (2, 130, 8), (2, 130, 8), (2, 130, 130), 0.5, True, 0, 0),
]


def case_name(case, dtype):
    qs, ks, vs, bias_shape, scale, causal, row_offset, diagonal = case
    return (f"{DTYPE_NAMES[dtype]} q{list(qs)} k{list(ks)} v{list(vs)} "
            f"bias {list(bias_shape) if bias_shape else None} "
            f"causal {causal} offset {row_offset} diagonal {diagonal}")


def test_attention_numpy():
    for dtype in DTYPES:
        for case in CASES:
            qs, ks, vs, bias_shape, scale, causal, row_offset, diagonal = case
            q, k, v = (random(s, dtype) for s in (qs, ks, vs))
            bias = random(bias_shape, dtype) if bias_shape else None
            expected = attention_reference(
                decode(q, dtype), decode(k, dtype), decode(v, dtype),
                decode(bias, dtype) if bias is not None else None, scale,
                causal, row_offset, diagonal)
            rows_defined = visible_mask(qs[-2], ks[-2], causal, row_offset,
                                        diagonal).any(axis=1)
            out_shape = qs[:-1] + vs[-1:]
            # The same view kind for every input, each output layout.
            input_views = zip(views(q), views(k), views(v),
                              views(bias) if bias is not None
                              else iter(lambda: (None, None), 0))
            for (name, qv), (_, kv), (_, vv), (_, bv) in input_views:
                for layout in ("contiguous", "strided", "transposed"):
                    buffer, out = strided_output(out_shape, dtype, layout)
                    what = f"{case_name(case, dtype)} {name}->{layout}"
                    check_status(call_attention(qv, kv, vv, bv, out, dtype,
                                                scale, causal, row_offset,
                                                diagonal), what)
                    assert_norm_close(out, expected, rows_defined, dtype,
                                      what)
                    assert_untouched(buffer, out, what)


def test_attention_elementwise_f32():
    """Beyond the norm: every f32 element close to float64."""
    q, k, v = random((2, 45, 32)), random((2, 77, 32)), random((2, 77, 20))
    bias = random((45, 77))
    out = np.full((2, 45, 20), np.nan, dtype=np.float32)
    check_status(call_attention(q, k, v, bias, out, F32, 0.3, True, 40, 0),
                 "attention f32 elementwise")
    expected = attention_reference(*(x.astype(np.float64)
                                     for x in (q, k, v, bias)), 0.3, True,
                                   40, 0)
    error = np.max(np.abs(out - expected))
    assert error <= 1e-5 * np.max(np.abs(expected)), (
        f"max abs error {error:.3g} against float64")


def test_attention_masked_keys_ignored():
    """The keys of masked positions may hold anything, infinities included:
    the result is the one of the visible keys alone. (Values are not
    promised as much: a masked value inside a row block meets p = +0, and
    0 * inf is NaN, as in the plain formula.)"""
    q, k, v = random((30, 16)), random((40, 16)), random((40, 8))
    row_offset = 5
    masked_k = k.copy()
    masked_k[row_offset + 30:] = np.inf
    out = np.full((30, 8), np.nan, dtype=np.float32)
    check_status(call_attention(q, masked_k, v, None, out, F32, 0.5,
                                True, row_offset, 0), "non-finite masked keys")
    expected = attention_reference(q.astype(np.float64), k.astype(np.float64),
                                   v.astype(np.float64), None, 0.5, True,
                                   row_offset, 0)
    assert_norm_close(out, expected, np.ones(30, dtype=bool), F32,
                      "non-finite masked keys")


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------

# (q, k, v shapes, bias shape or None, causal, row_offset, diagonal, chunk
#  boundaries along M)
DETERMINISM_CASES = [
    ((12, 200, 64), (12, 200, 64), (12, 200, 64), None, True, 0, 0,
     (0, 1, 37, 64, 100, 129, 200)),
    ((3, 150, 24), (3, 161, 24), (3, 161, 40), (150, 161), True, 11, -3,
     (0, 50, 53, 150)),
    ((4, 2, 90, 32), (4, 2, 90, 32), (4, 2, 90, 16), (2, 90, 90), False, 0,
     0, (0, 17, 64, 90)),
    ((2, 70, 300), (2, 300, 300), (2, 300, 8), None, True, 230, 0,
     (0, 7, 70)),
]


def determinism_inputs(case, dtype):
    qs, ks, vs, bias_shape = case[:4]
    q, k, v = (random(s, dtype) for s in (qs, ks, vs))
    bias = random(bias_shape, dtype) if bias_shape else None
    return q, k, v, bias


def whole_call(case, dtype, q, k, v, bias):
    qs, _, vs, _, causal, row_offset, diagonal, _ = case
    out = np.zeros(qs[:-1] + vs[-1:], dtype=base.STORAGE[dtype])
    check_status(call_attention(q, k, v, bias, out, dtype, 0.125, causal,
                                row_offset, diagonal), "whole call")
    return out


def test_determinism_across_chunks():
    for dtype in DTYPES:
        for case in DETERMINISM_CASES:
            q, k, v, bias = determinism_inputs(case, dtype)
            expected = whole_call(case, dtype, q, k, v, bias)
            qs, _, vs, _, causal, row_offset, diagonal, bounds = case
            # Chunks write into slices of one output, reading row slices of
            # q (and of the bias where it has rows): strided views.
            out = np.zeros_like(expected)
            for start, end in zip(bounds[:-1], bounds[1:]):
                rows = (Ellipsis, slice(start, end), slice(None))
                chunk_bias = bias
                if bias is not None and bias.ndim >= 2 and bias.shape[-2] > 1:
                    chunk_bias = bias[rows]
                check_status(call_attention(
                    q[rows], k, v, chunk_bias, out[rows], dtype, 0.125,
                    causal, row_offset + start, diagonal),
                    f"chunk {start}:{end}")
            assert_bits_equal(out, expected,
                              f"{DTYPE_NAMES[dtype]} q{list(qs)} chunks "
                              f"{bounds}")


def test_determinism_across_threads_and_backends():
    original = LIB.ac_get_num_threads()
    try:
        for dtype in DTYPES:
            for case in DETERMINISM_CASES:
                q, k, v, bias = determinism_inputs(case, dtype)
                check_status(LIB.ac_set_num_threads(1), "set threads")
                expected = whole_call(case, dtype, q, k, v, bias)
                for threads in (2, 3):
                    check_status(LIB.ac_set_num_threads(threads),
                                 "set threads")
                    assert_bits_equal(
                        whole_call(case, dtype, q, k, v, bias), expected,
                        f"{DTYPE_NAMES[dtype]} q{list(case[0])} "
                        f"{threads} threads vs 1")
                check_status(LIB.ac_set_gemm_backend(GEMM_OPENBLAS),
                             "set backend")
                try:
                    assert_bits_equal(
                        whole_call(case, dtype, q, k, v, bias), expected,
                        f"{DTYPE_NAMES[dtype]} q{list(case[0])} with the "
                        "OpenBLAS backend selected")
                finally:
                    LIB.ac_set_gemm_backend(GEMM_PACKED)
    finally:
        LIB.ac_set_num_threads(original)


def test_fully_masked_rows_do_not_fail():
    """Rows that see no key are undefined, but the call succeeds and the
    other rows are right."""
    q, k, v = random((2, 10, 4)), random((2, 10, 4)), random((2, 10, 3))
    out = np.full((2, 10, 3), np.nan, dtype=np.float32)
    check_status(call_attention(q, k, v, None, out, F32, 1.0, True, 0, -4),
                 "fully masked rows")
    expected = attention_reference(q.astype(np.float64), k.astype(np.float64),
                                   v.astype(np.float64), None, 1.0, True, 0,
                                   -4)
    defined = visible_mask(10, 10, True, 0, -4).any(axis=1)
    assert_norm_close(out, expected, defined, F32, "fully masked rows")


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


def expect_attention_error(what, q, k, v, bias, out, dtype=None,
                           causal=False, row_offset=0, diagonal=0,
                           mentions=None):
    before = np.copy(out)
    expect_error(call_attention(q, k, v, bias, out, dtype, 1.0, causal,
                                row_offset, diagonal), what)
    message = LIB.ac_last_error().decode()
    assert message.startswith("ac_attention"), (
        f"{what}: error not named after the kernel: {message}")
    if mentions:
        assert mentions in message, (
            f"{what}: message {message!r} does not mention {mentions!r}")
    assert np.array_equal(before, out, equal_nan=True), (
        f"{what}: a failed call wrote its output")


def test_errors():
    q, k, v = random((2, 5, 4)), random((2, 6, 4)), random((2, 6, 3))
    out = np.full((2, 5, 3), np.nan, dtype=np.float32)
    expect_attention_error("depth mismatch", q, random((2, 6, 5)), v, None,
                           out, mentions="[..., M, D]")
    expect_attention_error("key count mismatch", q, k, random((2, 7, 3)),
                           None, out)
    expect_attention_error("leading dims differ", q, random((3, 6, 4)),
                           random((3, 6, 3)), None, out)
    expect_attention_error("output shape", q, k, v, None,
                           np.full((2, 5, 4), np.nan, dtype=np.float32))
    expect_attention_error("rank 1", random((4,)), random((4,)),
                           random((4,)), None,
                           np.full((4,), np.nan, dtype=np.float32))
    expect_attention_error("rank differs", q, random((6, 4)), v, None, out)
    expect_attention_error("bias does not broadcast", q, k, v,
                           random((5, 5)), out, mentions="bias")
    expect_attention_error("bias over too many dims", q, k, v,
                           random((3, 2, 5, 6)), out, mentions="bias")
    expect_attention_error("f16 key", q, random((2, 6, 4), F16), v, None,
                           out, mentions="f16")
    expect_attention_error("f16 bias", q, k, v, random((5, 6), F16), out,
                           mentions="bias")
    expect_attention_error("f16 output", q, k, v, None, out.astype(
        np.float16))
    expect_attention_error("absurd row offset", q, k, v, None, out,
                           causal=True, row_offset=-(1 << 62))
    # A repeated output element (0 stride).
    repeated = np.lib.stride_tricks.as_strided(
        np.full(3, np.nan, dtype=np.float32), (2, 5, 3), (0, 0, 4))
    expect_error(call_attention(q, k, v, None, repeated, F32, 1.0, False, 0,
                                0), "output with 0 strides")
    # Null tensors.
    null = ctypes.POINTER(base.AcTensor)()
    for index, name in enumerate(("query", "key", "value", "output")):
        args = [ctypes.pointer(tensor(x)) for x in (q, k, v)] + [
            None, ctypes.pointer(tensor(out))]
        args[index if index < 3 else 4] = null
        expect_error(LIB.ac_attention(*args, 1.0, 0, 0, 0), f"null {name}")
        message = LIB.ac_last_error().decode()
        assert message.startswith("ac_attention") and name in message, (
            f"null {name}: unclear message {message!r}")
    assert np.all(np.isnan(out)), "a failed call wrote its output"


def main():
    return base.run_tests(globals())


if __name__ == "__main__":
    sys.exit(main())
