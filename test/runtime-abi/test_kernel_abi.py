"""Checks the kernel entry points compiled code calls against numpy.

Loads the runtime shared library given as argv[1] with ctypes and calls
ac_kernel_<kernel>_<dtype> exactly as lowered MLIR does: every buffer is two
arguments, a rank and a pointer to a ranked memref descriptor
{allocated, aligned, offset, sizes[rank], strides[rank]}, built here by hand
for strided numpy views (transposed, step-sliced, broadcast, at an offset of
a larger buffer). Each kernel's parameter encoding (packed permutation, axis
mask, i8 equation buffer, causal-mask offsets, gelu flag) is checked for f32
and for f16 or bf16, as are the error recording of a run and the arena's
high water mark.
"""

import ctypes
import math
import sys
import traceback

import numpy as np

F32, F16, BF16 = 0, 1, 2
SUFFIX = {F32: "f32", F16: "f16", BF16: "bf16"}
STORAGE = {F32: np.float32, F16: np.float16, BF16: np.uint16}
# Relative tolerances of one rounding to the dtype (plus slack for sums).
TOLERANCE = {F32: 2e-6, F16: 2e-3, BF16: 1.6e-2}

LIB = ctypes.CDLL(sys.argv[1])
LIB.ac_abi_begin.argtypes = [ctypes.c_void_p]
LIB.ac_abi_begin.restype = None
LIB.ac_abi_end.restype = ctypes.c_int
LIB.ac_abi_status.restype = ctypes.c_int
LIB.ac_abi_error_message.restype = ctypes.c_char_p
LIB.ac_last_error.restype = ctypes.c_char_p
LIB.ac_arena_create.argtypes = [ctypes.c_size_t, ctypes.c_size_t,
                                ctypes.POINTER(ctypes.c_void_p)]
LIB.ac_arena_create.restype = ctypes.c_int
LIB.ac_arena_destroy.argtypes = [ctypes.c_void_p]
LIB.ac_arena_base.argtypes = [ctypes.c_void_p]
LIB.ac_arena_base.restype = ctypes.c_void_p
LIB.ac_arena_high_water_bytes.argtypes = [ctypes.c_void_p]
LIB.ac_arena_high_water_bytes.restype = ctypes.c_size_t
RNG = np.random.default_rng(99)

# ---------------------------------------------------------------------------
# dtypes and descriptors
# ---------------------------------------------------------------------------


def f32_to_bf16(values):
    """Rounds to nearest even into bf16 bit patterns (uint16)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    bits = bits.astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def encode(values, dtype):
    if dtype == BF16:
        return f32_to_bf16(values)
    return np.asarray(values, dtype=STORAGE[dtype])


def decode(array, dtype):
    if dtype == BF16:
        return (np.asarray(array, np.uint16).astype(np.uint32) << np.uint32(16)).view(
            np.float32).astype(np.float64)
    return np.asarray(array, dtype=np.float64)


def descriptor_type(rank):
    class Descriptor(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p),
                    ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64),
                    ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]
    return Descriptor


class Buffer:
    """A memref descriptor of a numpy view: `aligned` is the start of the
    view's root array and `offset` the view's element offset from it."""

    def __init__(self, view, rank=None):
        root = view
        while isinstance(root.base, np.ndarray):
            root = root.base
        start = view.__array_interface__["data"][0]
        base = root.__array_interface__["data"][0]
        itemsize = view.itemsize
        assert (start - base) % itemsize == 0
        self.view = view
        self.rank = view.ndim if rank is None else rank
        self.descriptor = descriptor_type(max(view.ndim, self.rank, 1))()
        self.descriptor.allocated = base
        self.descriptor.aligned = base
        self.descriptor.offset = (start - base) // itemsize
        for dim in range(view.ndim):
            self.descriptor.sizes[dim] = view.shape[dim]
            assert view.strides[dim] % itemsize == 0
            self.descriptor.strides[dim] = view.strides[dim] // itemsize


def call(name, *arguments):
    """Calls `name` with buffers as (rank, descriptor) pairs, Python ints as
    int64_t and floats as double."""
    argtypes, values = [], []
    for argument in arguments:
        if isinstance(argument, Buffer):
            argtypes += [ctypes.c_int64, ctypes.c_void_p]
            values += [argument.rank, ctypes.addressof(argument.descriptor)]
        elif isinstance(argument, float):
            argtypes.append(ctypes.c_double)
            values.append(argument)
        else:
            argtypes.append(ctypes.c_int64)
            values.append(int(argument))
    function = getattr(LIB, name)
    function.argtypes = argtypes
    function.restype = None
    function(*values)


def run_kernel(name, dtype, *arguments):
    """One kernel call in a run of its own; fails on a recorded error."""
    LIB.ac_abi_begin(None)
    call("ac_kernel_%s_%s" % (name, SUFFIX[dtype]), *arguments)
    status = LIB.ac_abi_end()
    assert status == 0, "%s failed: %s" % (
        name, LIB.ac_abi_error_message().decode())


def strided(values, dtype, kind):
    """Storage holding `values` as a non-contiguous view: 'T' a transposed
    view of the reversed-axes array, 'step' every other element of a larger
    buffer along the last axis at an offset."""
    stored = encode(values, dtype)
    if kind == "T":
        return np.ascontiguousarray(stored.transpose()).transpose()
    if kind == "step":
        shape = list(stored.shape)
        big = np.zeros(shape[:-1] + [2 * shape[-1] + 3], dtype=stored.dtype)
        view = big[..., 3::2]
        view[...] = stored
        return view
    return np.ascontiguousarray(stored)


def output_view(shape, dtype):
    """An output inside a larger, NaN-filled buffer (offset and row
    stride), so that writes outside the view would show."""
    shape = list(shape)
    if not shape:
        big = encode(np.full(3, np.nan), dtype)
        return big[1:2].reshape(())
    big = encode(np.full(shape[:-1] + [shape[-1] + 5], np.nan), dtype)
    return big[..., 2:2 + shape[-1]]


def close(actual, expected, dtype, what, scale=None):
    actual = decode(actual, dtype)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape,
                                            expected.shape)
    magnitude = np.abs(expected) if scale is None else scale
    limit = TOLERANCE[dtype] * (magnitude + 1e-3) * 4
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(actual), finite), what
    assert np.array_equal(actual[~finite], expected[~finite]), what
    error = np.abs(actual - expected)[finite]
    bound = np.broadcast_to(limit, expected.shape)[finite]
    assert np.all(error <= bound), "%s: max error %g" % (
        what, float((error - bound).max()))


def rand(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def rounded(values, dtype):
    """What the kernel sees: values rounded to the dtype, in float64."""
    return decode(encode(values, dtype), dtype)


# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------

ERF = np.vectorize(math.erf)
UNARY = {
    "exp": np.exp,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "neg": np.negative,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "tanh": np.tanh,
}


def gelu_exact(x):
    return 0.5 * x * (1 + ERF(x / math.sqrt(2)))


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                  (x + 0.044715 * x ** 3)))


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------


def test_unary():
    for dtype in (F32, BF16):
        for name, reference in UNARY.items():
            positive = name in ("sqrt", "rsqrt")
            values = rand((3, 4), 0.1 if positive else -2.0, 2.0)
            x = strided(values, dtype, "T")
            out = output_view((3, 4), dtype)
            run_kernel(name, dtype, Buffer(x), Buffer(out))
            close(out, reference(rounded(values, dtype)), dtype,
                  "%s %s" % (name, SUFFIX[dtype]))


def test_gelu_flag():
    values = np.linspace(-3, 3, 24).reshape(4, 6)
    for dtype in (F32, F16):
        for flag, reference in ((0, gelu_exact), (1, gelu_tanh)):
            x = strided(values, dtype, "step")
            out = output_view((4, 6), dtype)
            run_kernel("gelu", dtype, Buffer(x), Buffer(out), flag)
            close(out, reference(rounded(values, dtype)), dtype,
                  "gelu flag %d %s" % (flag, SUFFIX[dtype]), scale=1.0)
    # The two formulas differ by far more than the f32 tolerance here, so
    # the checks above tell which one the flag chose.
    assert np.abs(gelu_exact(values) - gelu_tanh(values)).max() > 1e-4


def test_scale():
    for dtype in (F32, BF16):
        values = rand((2, 3, 4))
        x = strided(values, dtype, "T")
        out = output_view((2, 3, 4), dtype)
        run_kernel("scale", dtype, Buffer(x), Buffer(out), -0.375)
        close(out, rounded(values, dtype) * -0.375, dtype, "scale")


def test_binary_broadcasting():
    ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
           "div": np.divide}
    for dtype in (F32, F16):
        for name, reference in ops.items():
            lhs_values = rand((3, 4, 5))
            rhs_values = rand((4, 1), 0.5, 2.0)
            lhs = strided(lhs_values, dtype, "step")
            rhs = strided(rhs_values, dtype, "T")
            out = output_view((3, 4, 5), dtype)
            run_kernel(name, dtype, Buffer(lhs), Buffer(rhs), Buffer(out))
            expected = reference(rounded(lhs_values, dtype),
                                 rounded(rhs_values, dtype))
            close(out, expected, dtype, "%s %s" % (name, SUFFIX[dtype]))


def test_matmul_transpose_flags():
    for dtype in (F32, F16):
        for ta in (0, 1):
            for tb in (0, 1):
                a_values = rand((2, 5, 3) if ta else (2, 3, 5))
                b_values = rand((4, 5) if tb else (5, 4))
                a = strided(a_values, dtype, "step")
                b = strided(b_values, dtype, "T")
                out = output_view((2, 3, 4), dtype)
                run_kernel("matmul", dtype, Buffer(a), Buffer(b), Buffer(out),
                           ta, tb)
                am = rounded(a_values, dtype)
                bm = rounded(b_values, dtype)
                am = np.swapaxes(am, -1, -2) if ta else am
                bm = bm.T if tb else bm
                close(out, am @ bm, dtype,
                      "matmul ta=%d tb=%d %s" % (ta, tb, SUFFIX[dtype]),
                      scale=4.0)


def test_linear():
    for dtype in (F32, BF16):
        x_values, w_values, b_values = rand((2, 3, 6)), rand((5, 6)), rand(5)
        x = strided(x_values, dtype, "step")
        w = strided(w_values, dtype, "T")
        b = strided(b_values, dtype, "step")
        xr, wr, br = (rounded(v, dtype) for v in (x_values, w_values,
                                                  b_values))
        out = output_view((2, 3, 5), dtype)
        run_kernel("linear", dtype, Buffer(x), Buffer(w), Buffer(b),
                   Buffer(out))
        close(out, xr @ wr.T + br, dtype, "linear", scale=4.0)
        out = output_view((2, 3, 5), dtype)
        run_kernel("linear_nobias", dtype, Buffer(x), Buffer(w), Buffer(out))
        close(out, xr @ wr.T, dtype, "linear_nobias", scale=4.0)


def equation_buffer(text, offset=3):
    """An i8 buffer holding `text` NUL-terminated at element `offset` of a
    larger array, as a one-dimensional memref of exactly its length."""
    raw = np.full(offset + len(text) + 4, ord("#"), dtype=np.int8)
    encoded = np.frombuffer(text.encode() + b"\0", dtype=np.int8)
    raw[offset:offset + len(encoded)] = encoded
    return Buffer(raw[offset:offset + len(encoded)]), raw


def test_einsum_equation_buffer():
    for dtype in (F32, BF16):
        a_values, b_values = rand((2, 3, 4)), rand((2, 4, 5))
        a = strided(a_values, dtype, "T")
        b = strided(b_values, dtype, "step")
        equation, keep = equation_buffer("bik,bkj->bij")
        out = output_view((2, 3, 5), dtype)
        run_kernel("einsum", dtype, Buffer(a), Buffer(b), Buffer(out),
                   equation)
        expected = np.einsum("bik,bkj->bij", rounded(a_values, dtype),
                             rounded(b_values, dtype))
        close(out, expected, dtype, "einsum two operands", scale=4.0)
        # One operand: the second buffer repeats the first.
        equation, keep = equation_buffer("ij->j", offset=0)
        m_values = rand((3, 4))
        m = strided(m_values, dtype, "T")
        out = output_view((4,), dtype)
        run_kernel("einsum", dtype, Buffer(m), Buffer(m), Buffer(out),
                   equation)
        close(out, rounded(m_values, dtype).sum(axis=0), dtype,
              "einsum one operand", scale=4.0)
        del keep


def test_softmax_and_layer_norm():
    for dtype in (F32, F16):
        values = rand((3, 4, 6))
        for axis in (0, 2):
            x = strided(values, dtype, "T")
            out = output_view((3, 4, 6), dtype)
            run_kernel("softmax", dtype, Buffer(x), Buffer(out), axis)
            close(out, softmax(rounded(values, dtype), axis), dtype,
                  "softmax axis %d" % axis)
        gain_values, shift_values = rand((4, 6)), rand((4, 6))
        x = strided(values, dtype, "step")
        gain = strided(gain_values, dtype, "T")
        shift = strided(shift_values, dtype, "T")
        out = output_view((3, 4, 6), dtype)
        run_kernel("layer_norm", dtype, Buffer(x), Buffer(gain),
                   Buffer(shift), Buffer(out), 1, 1e-3)
        xr = rounded(values, dtype)
        mean = xr.mean(axis=(1, 2), keepdims=True)
        var = xr.var(axis=(1, 2), keepdims=True)
        expected = ((xr - mean) / np.sqrt(var + 1e-3) *
                    rounded(gain_values, dtype) + rounded(shift_values, dtype))
        close(out, expected, dtype, "layer_norm", scale=4.0)


def test_reduce_axis_mask():
    reductions = {"reduce_sum": np.sum, "reduce_mean": np.mean,
                  "reduce_max": np.max}
    values = rand((3, 4, 5, 2))
    for dtype in (F32, BF16):
        for name, reference in reductions.items():
            for axes in ((1,), (0, 2), (0, 1, 2, 3)):
                mask = sum(1 << axis for axis in axes)
                for keep in (0, 1):
                    expected = reference(rounded(values, dtype), axis=axes,
                                         keepdims=bool(keep))
                    x = strided(values, dtype, "T")
                    out = output_view(expected.shape, dtype)
                    run_kernel(name, dtype, Buffer(x), Buffer(out), mask,
                               keep)
                    close(out, expected, dtype,
                          "%s axes %s keep %d" % (name, axes, keep),
                          scale=8.0)


def pack(permutation):
    return sum(source << (4 * index)
               for index, source in enumerate(permutation))


def test_transpose_packed_permutation():
    for dtype in (F32, F16):
        for shape, permutation in (((3, 4, 5), (2, 0, 1)),
                                   ((2, 3, 4, 5), (1, 3, 0, 2)),
                                   ((2, 1, 2, 1, 2, 1, 2, 3),
                                    (7, 6, 5, 4, 3, 2, 1, 0))):
            values = rand(shape)
            x = strided(values, dtype, "step")
            expected = np.transpose(rounded(values, dtype), permutation)
            out = output_view(expected.shape, dtype)
            run_kernel("transpose", dtype, Buffer(x), Buffer(out),
                       pack(permutation))
            assert np.array_equal(decode(out, dtype), expected), permutation


def test_copy_and_broadcast():
    for dtype in (F32, BF16):
        values = rand((4, 5))
        x = strided(values, dtype, "T")
        out = output_view((4, 5), dtype)
        run_kernel("copy", dtype, Buffer(x), Buffer(out))
        assert np.array_equal(decode(out, dtype), rounded(values, dtype))
        row_values = rand((1, 5))
        row = strided(row_values, dtype, "step")
        out = output_view((3, 4, 5), dtype)
        run_kernel("broadcast", dtype, Buffer(row), Buffer(out))
        assert np.array_equal(
            decode(out, dtype),
            np.broadcast_to(rounded(row_values, dtype), (3, 4, 5)))


def test_causal_mask_offsets():
    for dtype in (F32, F16):
        values = rand((2, 5, 7))
        for row_offset, col_offset, diagonal in ((0, 0, 0), (3, 1, 0),
                                                 (2, 4, -1), (0, 2, 1)):
            x = strided(values, dtype, "T")
            out = output_view((2, 5, 7), dtype)
            run_kernel("causal_mask", dtype, Buffer(x), row_offset,
                       col_offset, Buffer(out), diagonal)
            i = np.arange(5)[:, None]
            j = np.arange(7)[None, :]
            masked = j + col_offset > i + row_offset + diagonal
            expected = np.where(masked, -np.inf, rounded(values, dtype))
            assert np.array_equal(decode(out, dtype), expected), (
                row_offset, col_offset, diagonal)


# ---------------------------------------------------------------------------
# Errors and the arena
# ---------------------------------------------------------------------------


def expect_error(name, arguments, needle):
    LIB.ac_abi_begin(None)
    call(name, *arguments)
    status = LIB.ac_abi_end()
    message = LIB.ac_abi_error_message().decode()
    assert status != 0, "%s accepted bad arguments" % name
    kernel = name[len("ac_kernel_"):].rsplit("_", 1)
    prefix = "%s (%s): " % (kernel[0], kernel[1])
    assert message.startswith(prefix), (message, prefix)
    assert needle in message, (message, needle)
    assert LIB.ac_last_error().decode() == message


def test_errors_name_the_kernel():
    x = np.zeros((2, 3), np.float32)
    out = np.zeros((2, 3), np.float32)
    expect_error("ac_kernel_relu_f32", [Buffer(x, rank=9), Buffer(out)],
                 "rank 9")
    expect_error("ac_kernel_relu_bf16", [Buffer(x, rank=-1), Buffer(out)],
                 "rank -1")
    expect_error("ac_kernel_reduce_sum_f32",
                 [Buffer(x), Buffer(np.zeros(3, np.float32)), 0b100, 0],
                 "axis mask")
    expect_error("ac_kernel_reduce_max_f16",
                 [Buffer(x.astype(np.float16)),
                  Buffer(np.zeros(3, np.float16)), 0, 0], "axis mask")
    expect_error("ac_kernel_transpose_f32",
                 [Buffer(x), Buffer(np.zeros((3, 2), np.float32)),
                  pack((1, 0, 2))], "permutation")
    expect_error("ac_kernel_transpose_f32",
                 [Buffer(x), Buffer(np.zeros((3, 2), np.float32)),
                  pack((1, 1))], "")
    unterminated = np.frombuffer(b"ij->j", dtype=np.int8).copy()
    expect_error("ac_kernel_einsum_f32",
                 [Buffer(x), Buffer(x), Buffer(np.zeros(3, np.float32)),
                  Buffer(unterminated)], "NUL")
    three, keep = equation_buffer("i,i,i->i")
    expect_error("ac_kernel_einsum_f32",
                 [Buffer(x), Buffer(x), Buffer(np.zeros(3, np.float32)),
                  three], "operands")
    del keep
    expect_error("ac_kernel_matmul_f32",
                 [Buffer(x), Buffer(x), Buffer(out), 0, 0], "matmul")
    expect_error("ac_kernel_softmax_bf16",
                 [Buffer(x.view(np.uint16)[:, :3]),
                  Buffer(out.view(np.uint16)[:, :3]), 5], "axis")

    # A null descriptor.
    LIB.ac_abi_begin(None)
    function = LIB.ac_kernel_exp_f32
    function.argtypes = [ctypes.c_int64, ctypes.c_void_p] * 2
    function.restype = None
    function(2, None, 2, ctypes.addressof(Buffer(out).descriptor))
    assert LIB.ac_abi_end() != 0
    assert "null descriptor" in LIB.ac_abi_error_message().decode()


def test_first_error_stops_the_run():
    x = np.ones((2, 3), np.float32)
    out = np.full((2, 3), 7.0, np.float32)
    LIB.ac_abi_begin(None)
    call("ac_kernel_softmax_f32", Buffer(x), Buffer(out), 4)  # bad axis
    call("ac_kernel_neg_f32", Buffer(x, rank=12), Buffer(out))  # bad too
    call("ac_kernel_neg_f32", Buffer(x), Buffer(out))  # valid, skipped
    assert LIB.ac_abi_status() != 0
    status = LIB.ac_abi_end()
    message = LIB.ac_abi_error_message().decode()
    assert status != 0 and message.startswith("softmax (f32): "), message
    assert np.all(out == 7.0), "a call after the first error ran"
    # The next run starts clean.
    LIB.ac_abi_begin(None)
    assert LIB.ac_abi_status() == 0
    assert LIB.ac_abi_error_message().decode() == ""
    call("ac_kernel_neg_f32", Buffer(x), Buffer(out))
    assert LIB.ac_abi_end() == 0
    assert np.all(out == -1.0)


def test_arena_high_water_mark():
    arena = ctypes.c_void_p()
    assert LIB.ac_arena_create(1024, 64, ctypes.byref(arena)) == 0
    try:
        base = LIB.ac_arena_base(arena)
        arena_f32 = np.ctypeslib.as_array(
            ctypes.cast(base, ctypes.POINTER(ctypes.c_float)), shape=(256,))
        x_values = rand((3, 4))
        x = strided(x_values, F32, "T")
        LIB.ac_abi_begin(arena)
        # A [3, 4] output transposed in the arena: element (i, j) at
        # 40 + i + 5 j floats; its highest element is (2, 3) at 57.
        transposed = np.lib.stride_tricks.as_strided(
            arena_f32[40:], shape=(3, 4), strides=(4, 20))
        call("ac_kernel_exp_f32", Buffer(x), Buffer(transposed))
        assert LIB.ac_arena_high_water_bytes(arena) == (57 + 1) * 4
        # An output outside the arena is not recorded.
        call("ac_kernel_exp_f32", Buffer(x), Buffer(output_view((3, 4), F32)))
        assert LIB.ac_arena_high_water_bytes(arena) == (57 + 1) * 4
        # A bf16 output higher up raises it.
        arena_u16 = np.ctypeslib.as_array(
            ctypes.cast(base, ctypes.POINTER(ctypes.c_uint16)),
            shape=(512,))
        call("ac_kernel_exp_bf16", Buffer(strided(x_values, BF16, "T")),
             Buffer(arena_u16[300:312].reshape(3, 4)))
        assert LIB.ac_arena_high_water_bytes(arena) == 312 * 2
        assert LIB.ac_abi_end() == 0
        close(transposed, np.exp(x_values), F32, "exp into the arena")
        # After the run, writes are no longer recorded.
        call("ac_kernel_exp_f32", Buffer(x),
             Buffer(arena_f32[240:252].reshape(3, 4)))
        assert LIB.ac_arena_high_water_bytes(arena) == 312 * 2
    finally:
        LIB.ac_arena_destroy(arena)


def test_every_entry_point_exists():
    kernels = ("exp sqrt rsqrt neg relu sigmoid silu tanh gelu scale add sub "
               "mul div matmul linear linear_nobias einsum softmax layer_norm "
               "reduce_sum reduce_mean reduce_max transpose broadcast copy "
               "causal_mask").split()
    missing = ["ac_kernel_%s_%s" % (kernel, suffix)
               for kernel in kernels for suffix in SUFFIX.values()
               if not hasattr(LIB, "ac_kernel_%s_%s" % (kernel, suffix))]
    assert not missing, missing


def main():
    tests = [(name, function) for name, function in sorted(globals().items())
             if name.startswith("test_") and callable(function)]
    passed = failed = 0
    for name, function in tests:
        try:
            function()
            passed += 1
            print("PASS", name)
        except Exception:  # pylint: disable=broad-except
            failed += 1
            print("FAIL", name)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
