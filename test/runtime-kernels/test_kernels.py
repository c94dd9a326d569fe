"""Checks the runtime's CPU kernels against numpy references.

Loads the runtime shared library given as argv[1] with ctypes, calls every
kernel on contiguous and non-contiguous views (transposed, step-sliced,
0-stride broadcast inputs, outputs inside a larger buffer), compares with a
float64 numpy reference, checks bitwise determinism across thread counts and
across chunked calls, and checks that bad arguments fail with a message.
"""

import ctypes
import math
import sys
import traceback

import numpy as np

AC_MAX_RANK = 8
F32, F16, BF16 = 0, 1, 2
UNARY = {"exp": 0, "sqrt": 1, "rsqrt": 2, "neg": 3, "relu": 4, "sigmoid": 5,
         "silu": 6, "tanh": 7, "gelu": 8, "gelu_tanh": 9}
BINARY = {"add": 0, "sub": 1, "mul": 2, "div": 3}
REDUCE = {"sum": 0, "mean": 1, "max": 2}
GEMM_PACKED, GEMM_OPENBLAS = 0, 1


class AcTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32),
                ("sizes", ctypes.c_int64 * AC_MAX_RANK),
                ("strides", ctypes.c_int64 * AC_MAX_RANK)]


def load_library(path):
    lib = ctypes.CDLL(path)
    T = ctypes.POINTER(AcTensor)
    I64P = ctypes.POINTER(ctypes.c_int64)
    signatures = {
        "ac_last_error": ([], ctypes.c_char_p),
        "ac_set_num_threads": ([ctypes.c_int], ctypes.c_int),
        "ac_get_num_threads": ([], ctypes.c_int),
        "ac_set_gemm_backend": ([ctypes.c_int], ctypes.c_int),
        "ac_get_gemm_backend": ([], ctypes.c_int),
        "ac_unary": ([ctypes.c_int, T, T], ctypes.c_int),
        "ac_scale": ([T, T, ctypes.c_double], ctypes.c_int),
        "ac_binary": ([ctypes.c_int, T, T, T], ctypes.c_int),
        "ac_causal_mask": ([T, T, ctypes.c_int64, ctypes.c_int64,
                            ctypes.c_int64], ctypes.c_int),
        "ac_matmul": ([T, T, T, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "ac_linear": ([T, T, T, T], ctypes.c_int),
        "ac_einsum": ([ctypes.c_char_p, ctypes.POINTER(T), ctypes.c_int, T],
                      ctypes.c_int),
        "ac_softmax": ([T, T, ctypes.c_int64], ctypes.c_int),
        "ac_layer_norm": ([T, T, T, T, ctypes.c_int64, ctypes.c_double],
                          ctypes.c_int),
        "ac_reduce": ([ctypes.c_int, T, T, I64P, ctypes.c_int, ctypes.c_int],
                      ctypes.c_int),
        "ac_copy": ([T, T], ctypes.c_int),
        "ac_transpose": ([T, T, I64P], ctypes.c_int),
        "ac_broadcast": ([T, T], ctypes.c_int),
        "ac_slice": ([T, T, I64P, I64P], ctypes.c_int),
        "ac_concat": ([ctypes.POINTER(T), ctypes.c_int, T, ctypes.c_int64],
                      ctypes.c_int),
        "ac_reshape": ([T, T], ctypes.c_int),
    }
    for name, (argtypes, restype) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = argtypes
        function.restype = restype
    return lib


LIB = load_library(sys.argv[1])
RNG = np.random.default_rng(1234)

# ---------------------------------------------------------------------------
# Tensors and dtypes
# ---------------------------------------------------------------------------


def f32_to_bf16(values):
    """Rounds to nearest even into bf16 bit patterns (uint16)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    bits = bits.astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(
        np.float32)


STORAGE = {F32: np.float32, F16: np.float16, BF16: np.uint16}
DTYPE_NAMES = {F32: "f32", F16: "f16", BF16: "bf16"}


def encode(values, dtype):
    """float values -> storage array of `dtype`."""
    if dtype == BF16:
        return f32_to_bf16(values)
    return np.asarray(values, dtype=STORAGE[dtype])


def decode(array, dtype):
    """storage array -> float64 values."""
    if dtype == BF16:
        return bf16_to_f32(array).astype(np.float64)
    return np.asarray(array, dtype=np.float64)


def tensor(array, dtype=None):
    """An ac_tensor viewing numpy `array` (any strides)."""
    if dtype is None:
        dtype = {np.dtype(np.float32): F32, np.dtype(np.float16): F16,
                 np.dtype(np.uint16): BF16}[array.dtype]
    assert array.ndim <= AC_MAX_RANK
    t = AcTensor()
    t.data = array.__array_interface__["data"][0]
    t.dtype = dtype
    t.rank = array.ndim
    for dim in range(array.ndim):
        t.sizes[dim] = array.shape[dim]
        assert array.strides[dim] % array.itemsize == 0
        t.strides[dim] = array.strides[dim] // array.itemsize
    t._keep = array  # keep the memory alive with the descriptor
    return t


def raw_tensor(data_array, dtype, sizes, strides):
    t = AcTensor()
    t.data = data_array.__array_interface__["data"][0]
    t.dtype = dtype
    t.rank = len(sizes)
    for dim, (size, stride) in enumerate(zip(sizes, strides)):
        t.sizes[dim] = size
        t.strides[dim] = stride
    t._keep = data_array
    return t


def random(shape, dtype=F32, low=-2.0, high=2.0):
    """Storage array of random values exactly representable in `dtype`."""
    return encode(RNG.uniform(low, high, size=shape), dtype)


def strided_output(shape, dtype=F32, layout="contiguous"):
    """(buffer, view): an output view inside a NaN-filled larger buffer."""
    sentinel = encode(np.full(1, np.nan), dtype)[0]
    if layout == "contiguous":
        buffer = np.full(shape, sentinel, dtype=STORAGE[dtype])
        return buffer, buffer
    if layout == "strided":
        # Every dimension padded by 1 and the last one stepped by 2.
        padded = tuple(s + 1 for s in shape[:-1]) + (2 * shape[-1] + 1,)
        buffer = np.full(padded, sentinel, dtype=STORAGE[dtype])
        index = tuple(slice(1, 1 + s) for s in shape[:-1]) + (
            slice(1, 1 + 2 * shape[-1], 2),)
        return buffer, buffer[index]
    if layout == "transposed":
        buffer = np.full(shape[::-1], sentinel, dtype=STORAGE[dtype])
        return buffer, buffer.T
    raise ValueError(layout)


def views(array):
    """The same values as contiguous, transposed and step-sliced views."""
    yield "contiguous", array
    if array.ndim >= 2:
        transposed_storage = np.ascontiguousarray(array.T)
        yield "transposed", transposed_storage.T
    big = np.zeros(tuple(2 * s + 1 for s in array.shape), dtype=array.dtype)
    index = tuple(slice(1, 1 + 2 * s, 2) for s in array.shape)
    big[index] = array
    yield "step-sliced", big[index]


def check_status(status, what):
    message = LIB.ac_last_error().decode()
    assert status == 0, f"{what}: status {status}: {message}"


def assert_close(actual, reference, dtype, what, rtol=None):
    """Compare against a float64 reference, tolerance scaled to the data."""
    if rtol is None:
        rtol = {F32: 1e-5, F16: 1e-2, BF16: 1.6e-2}[dtype]
    actual = decode(actual, dtype)
    reference = np.asarray(reference, dtype=np.float64)
    assert actual.shape == reference.shape, (
        f"{what}: shape {actual.shape} vs reference {reference.shape}")
    finite = np.isfinite(reference)
    assert np.array_equal(np.isfinite(actual), finite), (
        f"{what}: non-finite values differ")
    assert np.array_equal(actual[~finite], reference[~finite]), (
        f"{what}: infinities differ")
    scale = max(np.max(np.abs(reference[finite]), initial=0.0), 1e-30)
    error = np.abs(actual[finite] - reference[finite])
    limit = rtol * np.abs(reference[finite]) + rtol * scale
    worst = np.max(error - limit, initial=-1.0)
    assert worst <= 0, (
        f"{what}: max abs error {np.max(error):.3g} exceeds tolerance "
        f"(rtol {rtol}, scale {scale:.3g})")


def assert_untouched(buffer, view, what):
    """Everything in `buffer` outside `view` still holds the NaN sentinel."""
    itemsize = buffer.itemsize
    flat = np.full(view.shape, (view.__array_interface__["data"][0]
                                - buffer.__array_interface__["data"][0])
                   // itemsize, dtype=np.int64)
    for dim, (size, stride) in enumerate(zip(view.shape, view.strides)):
        shape = [1] * view.ndim
        shape[dim] = size
        flat = flat + np.arange(size).reshape(shape) * (stride // itemsize)
    outside = np.ones(buffer.size, dtype=bool)
    outside[flat.reshape(-1)] = False
    values = decode(buffer.reshape(-1), DTYPE_FOR_STORAGE[buffer.dtype])
    assert np.all(np.isnan(values[outside])), (
        f"{what}: wrote outside the output view")


DTYPE_FOR_STORAGE = {np.dtype(np.float32): F32, np.dtype(np.float16): F16,
                     np.dtype(np.uint16): BF16}


def i64_array(values):
    return (ctypes.c_int64 * max(len(values), 1))(*values)


def tensor_array(tensors):
    array = (ctypes.POINTER(AcTensor) * len(tensors))(
        *[ctypes.pointer(t) for t in tensors])
    array._keep = tensors
    return array


# ---------------------------------------------------------------------------
# Kernel wrappers: call with numpy arrays, return (buffer, view) of the output
# ---------------------------------------------------------------------------


def run_unary(kind, x, dtype, layout="contiguous"):
    buffer, out = strided_output(x.shape, dtype, layout)
    check_status(LIB.ac_unary(UNARY[kind], tensor(x, dtype), tensor(out, dtype)),
                 f"ac_unary {kind}")
    return buffer, out


def run_binary(kind, a, b, out_shape, dtype, layout="contiguous"):
    buffer, out = strided_output(out_shape, dtype, layout)
    check_status(LIB.ac_binary(BINARY[kind], tensor(a, dtype), tensor(b, dtype),
                               tensor(out, dtype)), f"ac_binary {kind}")
    return buffer, out


def run_matmul(a, b, out_shape, dtype, ta=False, tb=False,
               layout="contiguous"):
    buffer, out = strided_output(out_shape, dtype, layout)
    check_status(LIB.ac_matmul(tensor(a, dtype), tensor(b, dtype),
                               tensor(out, dtype), int(ta), int(tb)),
                 "ac_matmul")
    return buffer, out


def run_einsum(equation, operands, out_shape, dtype, layout="contiguous"):
    buffer, out = strided_output(out_shape, dtype, layout)
    inputs = tensor_array([tensor(o, dtype) for o in operands])
    check_status(LIB.ac_einsum(equation.encode(), inputs, len(operands),
                               tensor(out, dtype)), f"ac_einsum {equation}")
    return buffer, out


# ---------------------------------------------------------------------------
# Numerics against numpy
# ---------------------------------------------------------------------------

UNARY_REFERENCE = {
    "exp": np.exp,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x),
    "neg": np.negative,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "gelu": lambda x: 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(
        math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
}


def test_unary():
    for kind, reference in UNARY_REFERENCE.items():
        positive = kind in ("sqrt", "rsqrt")
        for dtype in (F32, F16, BF16):
            x = random((5, 7, 9), dtype, 0.1 if positive else -6.0, 6.0)
            expected = reference(decode(x, dtype))
            for name, view in views(x):
                for layout in ("contiguous", "strided", "transposed"):
                    buffer, out = run_unary(kind, view, dtype, layout)
                    what = f"{kind} {DTYPE_NAMES[dtype]} {name}->{layout}"
                    assert_close(out, expected, dtype, what)
                    assert_untouched(buffer, out, what)


def test_unary_broadcast_input():
    x = random((1, 9))
    view = np.broadcast_to(x, (6, 9))
    _, out = run_unary("tanh", view, F32)
    assert_close(out, np.tanh(decode(view, F32)), F32, "tanh of 0-stride input")


def test_scale():
    for dtype in (F32, F16, BF16):
        x = random((4, 33), dtype)
        for name, view in views(x):
            buffer, out = strided_output(x.shape, dtype, "strided")
            check_status(LIB.ac_scale(tensor(view, dtype), tensor(out, dtype),
                                      0.125), "ac_scale")
            assert_close(out, decode(x, dtype) * 0.125, dtype,
                         f"scale {DTYPE_NAMES[dtype]} {name}")
            assert_untouched(buffer, out, "scale")


def test_binary():
    cases = [((3, 4, 5), (3, 4, 5)), ((3, 1, 5), (4, 5)), ((5,), (3, 4, 1)),
             ((1,), (2, 3)), ((), (2, 3)), ((2, 1, 3, 1), (1, 4, 1, 6))]
    for kind, op in (("add", np.add), ("sub", np.subtract),
                     ("mul", np.multiply), ("div", np.divide)):
        for dtype in (F32, F16, BF16):
            for lhs_shape, rhs_shape in cases:
                a = random(lhs_shape, dtype)
                b = random(rhs_shape, dtype, 0.5, 2.0)
                out_shape = np.broadcast_shapes(lhs_shape, rhs_shape)
                expected = op(decode(a, dtype), decode(b, dtype))
                for (an, av), (bn, bv) in zip(views(a), views(b)):
                    for layout in ("contiguous", "strided"):
                        if layout == "strided" and not out_shape:
                            continue
                        buffer, out = run_binary(kind, av, bv, out_shape,
                                                 dtype, layout)
                        what = (f"{kind} {DTYPE_NAMES[dtype]} {lhs_shape} "
                                f"{an} x {rhs_shape} {bn} -> {layout}")
                        assert_close(out, expected, dtype, what)
                        assert_untouched(buffer, out, what)


def test_binary_explicit_broadcast_views():
    # 0-stride inputs made by numpy itself.
    a = np.broadcast_to(random((1, 6)), (5, 6))
    b = np.broadcast_to(random((5, 1)), (5, 6))
    _, out = run_binary("mul", a, b, (5, 6), F32)
    assert_close(out, decode(a, F32) * decode(b, F32), F32, "mul 0-stride")
    # Negative strides (reversed views).
    c = random((7, 8))
    _, out = run_binary("sub", c[::-1], c[:, ::-1], (7, 8), F32)
    assert_close(out, decode(c[::-1], F32) - decode(c[:, ::-1], F32), F32,
                 "sub reversed views")


def matmul_reference(a, b, ta, tb):
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def test_matmul():
    cases = [
        ((6, 5), (5, 7)),
        ((2, 3, 9, 11), (2, 3, 11, 4)),
        ((2, 1, 8, 16), (3, 16, 5)),     # broadcast batch
        ((4, 8, 16), (16, 5)),           # rhs without batch
        ((1, 1), (1, 1)),
        ((33, 600), (600, 17)),          # several K blocks
        ((3, 1, 40), (40, 1)),           # vector-like
    ]
    for dtype in (F32, F16, BF16):
        for lhs_shape, rhs_shape in cases:
            for ta in (False, True):
                for tb in (False, True):
                    a = random(lhs_shape[:-2] + (
                        lhs_shape[-1:] + lhs_shape[-2:-1] if ta
                        else lhs_shape[-2:]), dtype)
                    b = random(rhs_shape[:-2] + (
                        rhs_shape[-1:] + rhs_shape[-2:-1] if tb
                        else rhs_shape[-2:]), dtype)
                    expected = matmul_reference(decode(a, dtype),
                                                decode(b, dtype), ta, tb)
                    rtol = 2e-5 if dtype == F32 else None
                    for (an, av), (bn, bv) in zip(views(a), views(b)):
                        for layout in ("contiguous", "strided", "transposed"):
                            buffer, out = run_matmul(av, bv, expected.shape,
                                                     dtype, ta, tb, layout)
                            what = (f"matmul {DTYPE_NAMES[dtype]} {a.shape}"
                                    f"{'^T' if ta else ''} {an} x {b.shape}"
                                    f"{'^T' if tb else ''} {bn} -> {layout}")
                            assert_close(out, expected, dtype, what, rtol)
                            assert_untouched(buffer, out, what)


def test_matmul_broadcast_operand_views():
    # A 0-stride lhs (one row repeated) must be packed, not given to BLAS.
    row = random((1, 12))
    a = np.broadcast_to(row, (9, 12))
    b = random((12, 4))
    _, out = run_matmul(a, b, (9, 4), F32)
    assert_close(out, decode(a, F32) @ decode(b, F32), F32, "matmul 0-stride",
                 2e-5)


def run_linear(x, w, bias, out_shape, dtype, layout="contiguous"):
    buffer, out = strided_output(out_shape, dtype, layout)
    bias_tensor = ctypes.pointer(tensor(bias, dtype)) if bias is not None \
        else None
    check_status(LIB.ac_linear(tensor(x, dtype), tensor(w, dtype), bias_tensor,
                               tensor(out, dtype)), "ac_linear")
    return buffer, out


def test_linear():
    for dtype in (F32, F16, BF16):
        for x_shape in ((7,), (5, 24), (2, 3, 24), (2, 2, 3, 300)):
            features = x_shape[-1]
            x = random(x_shape, dtype)
            w = random((11, features), dtype)
            bias = random((11,), dtype)
            for with_bias in (True, False):
                expected = decode(x, dtype) @ decode(w, dtype).T
                if with_bias:
                    expected = expected + decode(bias, dtype)
                rtol = 2e-5 if dtype == F32 else None
                for (xn, xv), (wn, wv) in zip(views(x), views(w)):
                    for layout in ("contiguous", "strided", "transposed"):
                        buffer, out = run_linear(
                            xv, wv, bias if with_bias else None,
                            expected.shape, dtype, layout)
                        what = (f"linear {DTYPE_NAMES[dtype]} {x_shape} {xn} "
                                f"w {wn} bias={with_bias} -> {layout}")
                        assert_close(out, expected, dtype, what, rtol)
                        assert_untouched(buffer, out, what)


EINSUM_CASES = [
    ("ij,jk->ik", [(6, 5), (5, 7)]),
    ("bik,bkj->bij", [(3, 4, 6), (3, 6, 5)]),
    ("sic,sjd->ijcd", [(5, 4, 3), (5, 6, 2)]),     # outer product mean
    ("ikc,jkc->ijc", [(6, 7, 3), (5, 7, 3)]),      # triangle, outgoing
    ("kjc,kic->ijc", [(7, 5, 3), (7, 6, 3)]),      # triangle, incoming
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)]),
    ("ij,ij->", [(4, 5), (4, 5)]),
    ("i,j->ij", [(4,), (3,)]),
    ("abc,cd->da", [(3, 4, 5), (5, 6)]),            # b summed in lhs only
    ("ab,cd->ad", [(3, 4), (5, 6)]),                # both sides sum alone
    ("ij->j", [(5, 6)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ijk->", [(2, 3, 4)]),
    ("ijk->ki", [(2, 3, 4)]),
]


def test_einsum():
    for dtype in (F32, F16, BF16):
        for equation, shapes in EINSUM_CASES:
            operands = [random(shape, dtype) for shape in shapes]
            expected = np.einsum(equation,
                                 *[decode(o, dtype) for o in operands])
            view_sets = list(zip(*[list(views(o)) for o in operands]))
            rtol = 2e-5 if dtype == F32 else None
            for view_set in view_sets:
                names = [name for name, _ in view_set]
                arrays = [array for _, array in view_set]
                layouts = ("contiguous", "strided", "transposed") \
                    if expected.ndim else ("contiguous",)
                for layout in layouts:
                    buffer, out = run_einsum(equation, arrays, expected.shape,
                                             dtype, layout)
                    what = (f"einsum {equation} {DTYPE_NAMES[dtype]} {names} "
                            f"-> {layout}")
                    assert_close(out, expected, dtype, what, rtol)
                    assert_untouched(buffer, out, what)


def softmax_reference(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def test_softmax():
    for dtype in (F32, F16, BF16):
        x = random((4, 6, 10), dtype, -8.0, 8.0)
        for axis in range(3):
            expected = softmax_reference(decode(x, dtype), axis)
            for name, view in views(x):
                for layout in ("contiguous", "strided", "transposed"):
                    buffer, out = strided_output(x.shape, dtype, layout)
                    check_status(LIB.ac_softmax(tensor(view, dtype),
                                                tensor(out, dtype), axis),
                                 "ac_softmax")
                    what = f"softmax {DTYPE_NAMES[dtype]} axis {axis} {name}"
                    assert_close(out, expected, dtype, what)
                    assert_untouched(buffer, out, what)
    # Large logits stay finite thanks to the max subtraction; -inf is masked.
    x = np.array([[1000.0, 999.0, -np.inf], [-np.inf, 0.0, 1.0]],
                 dtype=np.float32)
    _, out = strided_output(x.shape)
    check_status(LIB.ac_softmax(tensor(x), tensor(out), 1), "ac_softmax")
    assert_close(out, softmax_reference(x.astype(np.float64), 1), F32,
                 "softmax large and -inf logits")


def layer_norm_reference(x, weight, bias, axis, eps):
    dims = tuple(range(axis, x.ndim))
    mean = np.mean(x, axis=dims, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=dims, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def test_layer_norm():
    for dtype in (F32, F16, BF16):
        x = random((3, 5, 16), dtype, -3.0, 5.0)
        for axis in (2, 1, 0):
            shape = x.shape[axis:]
            weight = random(shape, dtype, 0.5, 1.5)
            bias = random(shape, dtype)
            for use_weight, use_bias in ((True, True), (False, False),
                                         (True, False)):
                w = weight if use_weight else None
                b = bias if use_bias else None
                expected = layer_norm_reference(
                    decode(x, dtype), None if w is None else decode(w, dtype),
                    None if b is None else decode(b, dtype), axis, 1e-5)
                for (xn, xv), (_, wv) in zip(views(x), views(weight)):
                    for layout in ("contiguous", "strided", "transposed"):
                        buffer, out = strided_output(x.shape, dtype, layout)
                        w_t = ctypes.pointer(tensor(wv, dtype)) if use_weight \
                            else None
                        b_t = ctypes.pointer(tensor(b, dtype)) if use_bias \
                            else None
                        check_status(LIB.ac_layer_norm(
                            tensor(xv, dtype), w_t, b_t, tensor(out, dtype),
                            axis, 1e-5), "ac_layer_norm")
                        what = (f"layer_norm {DTYPE_NAMES[dtype]} axis {axis}"
                                f" {xn} weight={use_weight} bias={use_bias}")
                        assert_close(out, expected, dtype, what)
                        assert_untouched(buffer, out, what)


def test_reduce():
    references = {"sum": np.sum, "mean": np.mean, "max": np.max}
    for dtype in (F32, F16, BF16):
        x = random((3, 4, 5, 6), dtype)
        for kind, reference in references.items():
            for axes in ((3,), (0,), (1, 2), (0, 3), (0, 1, 2, 3)):
                for keep in (False, True):
                    expected = reference(decode(x, dtype), axis=axes,
                                         keepdims=keep)
                    for name, view in views(x):
                        layouts = ("contiguous", "strided") if \
                            expected.ndim else ("contiguous",)
                        for layout in layouts:
                            buffer, out = strided_output(expected.shape,
                                                         dtype, layout)
                            check_status(LIB.ac_reduce(
                                REDUCE[kind], tensor(view, dtype),
                                tensor(out, dtype), i64_array(axes),
                                len(axes), int(keep)), "ac_reduce")
                            what = (f"reduce {kind} {DTYPE_NAMES[dtype]} axes"
                                    f" {axes} keep={keep} {name} -> {layout}")
                            assert_close(out, expected, dtype, what)
                            assert_untouched(buffer, out, what)


# ---------------------------------------------------------------------------
# Data movement: exact copies, so compared bit for bit
# ---------------------------------------------------------------------------


def assert_bits_equal(actual, expected, what):
    assert actual.shape == expected.shape, (
        f"{what}: shape {actual.shape} vs {expected.shape}")
    assert np.array_equal(np.ascontiguousarray(actual).view(np.uint8),
                          np.ascontiguousarray(expected).view(np.uint8)), (
        f"{what}: bits differ")


def test_copy_transpose_broadcast():
    for dtype in (F32, F16, BF16):
        x = random((3, 4, 5), dtype)
        for name, view in views(x):
            for layout in ("contiguous", "strided", "transposed"):
                buffer, out = strided_output(x.shape, dtype, layout)
                check_status(LIB.ac_copy(tensor(view, dtype),
                                         tensor(out, dtype)), "ac_copy")
                assert_bits_equal(out, x, f"copy {name} -> {layout}")
                assert_untouched(buffer, out, "copy")
            perm = (2, 0, 1)
            expected = np.transpose(x, perm)
            buffer, out = strided_output(expected.shape, dtype, "strided")
            check_status(LIB.ac_transpose(tensor(view, dtype),
                                          tensor(out, dtype),
                                          i64_array(perm)), "ac_transpose")
            assert_bits_equal(out, expected, f"transpose {name}")
            assert_untouched(buffer, out, "transpose")
        small = random((4, 1), dtype)
        expected = np.broadcast_to(small, (2, 4, 3))
        buffer, out = strided_output((2, 4, 3), dtype, "strided")
        check_status(LIB.ac_broadcast(tensor(small, dtype), tensor(out, dtype)),
                     "ac_broadcast")
        assert_bits_equal(out, expected, "broadcast")
        assert_untouched(buffer, out, "broadcast")


def test_slice_concat_reshape():
    for dtype in (F32, F16, BF16):
        x = random((6, 7, 8), dtype)
        starts, steps = (1, 0, 2), (2, 3, 1)
        expected = x[1::2, 0::3, 2:7]
        for name, view in views(x):
            buffer, out = strided_output(expected.shape, dtype, "strided")
            check_status(LIB.ac_slice(tensor(view, dtype), tensor(out, dtype),
                                      i64_array(starts), i64_array(steps)),
                         "ac_slice")
            assert_bits_equal(out, expected, f"slice {name}")
            assert_untouched(buffer, out, "slice")
        _, out = strided_output((2, 3, 4), dtype)
        check_status(LIB.ac_slice(tensor(x, dtype), tensor(out, dtype),
                                  i64_array((4, 4, 4)), None), "ac_slice")
        assert_bits_equal(out, x[4:6, 4:7, 4:8], "slice unit strides")

        parts = [random((2, s, 3), dtype) for s in (1, 4, 2)]
        expected = np.concatenate(parts, axis=1)
        part_views = [list(views(p))[i % 3][1] for i, p in enumerate(parts)]
        for layout in ("contiguous", "strided", "transposed"):
            buffer, out = strided_output(expected.shape, dtype, layout)
            check_status(LIB.ac_concat(
                tensor_array([tensor(p, dtype) for p in part_views]), 3,
                tensor(out, dtype), 1), "ac_concat")
            assert_bits_equal(out, expected, f"concat -> {layout}")
            assert_untouched(buffer, out, "concat")

        y = random((4, 6, 5), dtype)
        expected = y.reshape(12, 10)
        for name, view in views(y):
            for layout in ("contiguous", "strided", "transposed"):
                buffer, out = strided_output((12, 10), dtype, layout)
                check_status(LIB.ac_reshape(tensor(view, dtype),
                                            tensor(out, dtype)), "ac_reshape")
                assert_bits_equal(out, expected, f"reshape {name} -> {layout}")
                assert_untouched(buffer, out, "reshape")


def causal_reference(x, row_offset, col_offset, diagonal):
    rows, cols = x.shape[-2:]
    i = np.arange(rows)[:, None]
    j = np.arange(cols)[None, :]
    masked = j + col_offset > i + row_offset + diagonal
    return np.where(masked, -np.inf, x)


def test_causal_mask():
    for dtype in (F32, F16, BF16):
        x = random((2, 5, 7), dtype)
        for row_offset, col_offset, diagonal in ((0, 0, 0), (3, 0, 0),
                                                 (0, 4, 1), (2, 1, -1),
                                                 (0, 20, 0), (20, 0, 0)):
            expected = causal_reference(decode(x, dtype), row_offset,
                                        col_offset, diagonal)
            for name, view in views(x):
                buffer, out = strided_output(x.shape, dtype, "strided")
                check_status(LIB.ac_causal_mask(
                    tensor(view, dtype), tensor(out, dtype), row_offset,
                    col_offset, diagonal), "ac_causal_mask")
                what = (f"causal_mask {DTYPE_NAMES[dtype]} {name} offsets "
                        f"{row_offset},{col_offset} diagonal {diagonal}")
                assert_close(out, expected, dtype, what, rtol=0.0)
                assert_untouched(buffer, out, what)


# ---------------------------------------------------------------------------
# Determinism: thread counts and chunked calls give the same bits
# ---------------------------------------------------------------------------


def bits(array):
    return np.ascontiguousarray(array).tobytes()


def determinism_cases():
    """(name, out_shape, extent, run): run(out, part) computes the slice
    `part` (of `extent`) of one parallel, non-reduced dimension of the output
    into `out`, reading the matching slices of the inputs."""
    a = random((96, 600))
    b = random((600, 80))
    bt = np.ascontiguousarray(b.T)
    batched_a = random((4, 50, 300))
    batched_b = random((4, 300, 40))
    w = random((72, 600))
    bias = random((72,))
    e1 = random((48, 64, 16))
    e2 = random((40, 64, 16))
    logits = random((64, 200), F32, -10, 10)
    ln_w = random((200,))
    ln_b = random((200,))
    wide = random((64, 500))
    cases = []

    def matmul_rows(out, rows):
        check_status(LIB.ac_matmul(tensor(a[rows]), tensor(b), tensor(out[rows]),
                                   0, 0), "matmul")
    cases.append(("matmul rows", (96, 80), 96, matmul_rows))

    def matmul_cols(out, cols):
        check_status(LIB.ac_matmul(tensor(a), tensor(bt[cols]),
                                   tensor(out[:, cols]), 0, 1), "matmul")
    cases.append(("matmul^T columns", (96, 80), 80, matmul_cols))

    def matmul_batch(out, batch):
        check_status(LIB.ac_matmul(tensor(batched_a[batch]),
                                   tensor(batched_b[batch]),
                                   tensor(out[batch]), 0, 0), "matmul")
    cases.append(("batched matmul", (4, 50, 40), 4, matmul_batch))

    def linear_rows(out, rows):
        check_status(LIB.ac_linear(tensor(a[rows]), tensor(w),
                                   ctypes.pointer(tensor(bias)),
                                   tensor(out[rows])), "linear")
    cases.append(("linear rows", (96, 72), 96, linear_rows))

    def einsum_rows(out, rows):
        inputs = tensor_array([tensor(e1[rows]), tensor(e2)])
        check_status(LIB.ac_einsum(b"ikc,jkc->ijc", inputs, 2,
                                   tensor(out[rows])), "einsum")
    cases.append(("einsum ikc,jkc->ijc over i", (48, 40, 16), 48,
                  einsum_rows))

    def einsum_channels(out, channels):
        inputs = tensor_array([tensor(e1[:, :, channels]),
                               tensor(e2[:, :, channels])])
        check_status(LIB.ac_einsum(b"ikc,jkc->ijc", inputs, 2,
                                   tensor(out[:, :, channels])), "einsum")
    cases.append(("einsum ikc,jkc->ijc over c", (48, 40, 16), 16,
                  einsum_channels))

    def softmax_rows(out, rows):
        check_status(LIB.ac_softmax(tensor(logits[rows]), tensor(out[rows]), 1),
                     "softmax")
    cases.append(("softmax rows", (64, 200), 64, softmax_rows))

    def layer_norm_rows(out, rows):
        check_status(LIB.ac_layer_norm(tensor(logits[rows]),
                                       ctypes.pointer(tensor(ln_w)),
                                       ctypes.pointer(tensor(ln_b)),
                                       tensor(out[rows]), 1, 1e-5),
                     "layer_norm")
    cases.append(("layer_norm rows", (64, 200), 64, layer_norm_rows))

    def reduce_columns(out, cols):
        check_status(LIB.ac_reduce(REDUCE["sum"], tensor(wide[:, cols]),
                                   tensor(out[cols]), i64_array((0,)), 1, 0),
                     "reduce")
    cases.append(("reduce_sum over axis 0, chunked columns", (500,), 500,
                  reduce_columns))

    def gelu_rows(out, rows):
        check_status(LIB.ac_unary(UNARY["gelu"], tensor(wide[rows]),
                                  tensor(out[rows])), "gelu")
    cases.append(("gelu rows", (64, 500), 64, gelu_rows))

    def mask_rows(out, rows):
        check_status(LIB.ac_causal_mask(tensor(logits[rows]), tensor(out[rows]),
                                        rows.start or 0, 0, 0), "causal_mask")
    cases.append(("causal_mask rows", (64, 200), 64, mask_rows))
    return cases


def test_determinism_across_threads():
    original = LIB.ac_get_num_threads()
    try:
        for name, shape, extent, run in determinism_cases():
            results = {}
            for threads in (1, 2, 4):
                check_status(LIB.ac_set_num_threads(threads), "set threads")
                out = np.zeros(shape, dtype=np.float32)
                run(out, slice(0, extent))
                results[threads] = bits(out)
            assert results[1] == results[2] == results[4], (
                f"{name}: results differ between 1, 2 and 4 threads")
    finally:
        LIB.ac_set_num_threads(original)


def test_determinism_across_chunks():
    original = LIB.ac_get_num_threads()
    try:
        for threads in (1, 3):
            check_status(LIB.ac_set_num_threads(threads), "set threads")
            for name, shape, extent, run in determinism_cases():
                whole = np.zeros(shape, dtype=np.float32)
                run(whole, slice(0, extent))
                for chunk in (1, 7, 32):
                    chunked = np.full(shape, np.nan, dtype=np.float32)
                    for start in range(0, extent, chunk):
                        run(chunked, slice(start, min(start + chunk, extent)))
                    assert bits(chunked) == bits(whole), (
                        f"{name}: chunks of {chunk} differ from one call "
                        f"({threads} threads)")
    finally:
        LIB.ac_set_num_threads(original)


def test_openblas_backend():
    """The opt-in OpenBLAS backend: same numerics, and thread-count (not
    chunk) determinism."""
    assert LIB.ac_get_gemm_backend() == GEMM_PACKED, "packed is the default"
    original = LIB.ac_get_num_threads()
    check_status(LIB.ac_set_gemm_backend(GEMM_OPENBLAS), "set backend")
    try:
        for dtype in (F32, BF16):
            a = random((2, 33, 600), dtype)
            b = random((2, 17, 600), dtype)
            expected = matmul_reference(decode(a, dtype), decode(b, dtype),
                                        False, True)
            rtol = 2e-5 if dtype == F32 else None
            for (an, av), (bn, bv) in zip(views(a), views(b)):
                for layout in ("contiguous", "transposed"):
                    _, out = run_matmul(av, bv, expected.shape, dtype, False,
                                        True, layout)
                    assert_close(out, expected, dtype,
                                 f"openblas matmul {an} x {bn} -> {layout}",
                                 rtol)
            x = random((3, 5, 40), dtype)
            w = random((9, 40), dtype)
            bias = random((9,), dtype)
            _, out = run_linear(x, w, bias, (3, 5, 9), dtype, "strided")
            assert_close(out, decode(x, dtype) @ decode(w, dtype).T
                         + decode(bias, dtype), dtype, "openblas linear",
                         rtol)
            operands = [random((6, 7, 3), dtype), random((5, 7, 3), dtype)]
            _, out = run_einsum("ikc,jkc->ijc", operands, (6, 5, 3), dtype)
            assert_close(out, np.einsum("ikc,jkc->ijc",
                                        *[decode(o, dtype) for o in operands]),
                         dtype, "openblas einsum", rtol)
        for name, shape, extent, run in determinism_cases()[:4]:
            results = set()
            for threads in (1, 2, 4):
                check_status(LIB.ac_set_num_threads(threads), "set threads")
                out = np.zeros(shape, dtype=np.float32)
                run(out, slice(0, extent))
                results.add(bits(out))
            assert len(results) == 1, (
                f"openblas {name}: results differ across thread counts")
    finally:
        LIB.ac_set_gemm_backend(GEMM_PACKED)
        LIB.ac_set_num_threads(original)


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


def expect_error(status, what):
    message = LIB.ac_last_error().decode()
    assert status != 0, f"{what}: expected an error, got status 0"
    assert message, f"{what}: error status {status} without a message"


def test_errors():
    x = random((3, 4))
    y = random((4, 3))
    out = np.zeros((3, 4), dtype=np.float32)
    half = random((3, 4), F16)
    expect_error(LIB.ac_binary(BINARY["add"], tensor(x), tensor(y),
                               tensor(out)), "add of 3x4 and 4x3")
    expect_error(LIB.ac_binary(BINARY["add"], tensor(x), tensor(x),
                               tensor(np.zeros((4, 3), np.float32))),
                 "add into the wrong output shape")
    expect_error(LIB.ac_binary(BINARY["mul"], tensor(x), tensor(half),
                               tensor(out)), "f32 times f16")
    expect_error(LIB.ac_binary(7, tensor(x), tensor(x), tensor(out)),
                 "unknown binary kind")
    expect_error(LIB.ac_unary(UNARY["exp"], tensor(x), tensor(y)),
                 "exp into another shape")
    expect_error(LIB.ac_unary(42, tensor(x), tensor(out)), "unknown unary kind")
    expect_error(LIB.ac_unary(UNARY["exp"], tensor(half), tensor(out)),
                 "exp from f16 into f32")
    expect_error(LIB.ac_unary(UNARY["exp"], None, tensor(out)), "NULL input")
    expect_error(LIB.ac_softmax(tensor(x), tensor(out), 2), "softmax axis 2")
    expect_error(LIB.ac_softmax(tensor(x), tensor(out), -1), "softmax axis -1")
    bad_rank = tensor(x)
    bad_rank.rank = 9
    expect_error(LIB.ac_unary(UNARY["neg"], bad_rank, tensor(out)), "rank 9")
    bad_dtype = tensor(x)
    bad_dtype.dtype = 7
    expect_error(LIB.ac_copy(bad_dtype, tensor(out)), "unknown dtype")
    broadcast_out = tensor(np.broadcast_to(np.zeros((1, 4), np.float32),
                                           (3, 4)))
    expect_error(LIB.ac_copy(tensor(x), broadcast_out), "0-stride output")
    expect_error(LIB.ac_matmul(tensor(x), tensor(x), tensor(out), 0, 0),
                 "matmul 3x4 by 3x4")
    expect_error(LIB.ac_matmul(tensor(random((4,))), tensor(y),
                               tensor(out), 0, 0), "matmul of rank 1")
    expect_error(LIB.ac_matmul(tensor(random((2, 3, 4))),
                               tensor(random((3, 4, 5))),
                               tensor(np.zeros((3, 3, 5), np.float32)), 0, 0),
                 "matmul batch 2 vs 3")
    expect_error(LIB.ac_linear(tensor(x), tensor(random((5, 3))), None,
                               tensor(np.zeros((3, 5), np.float32))),
                 "linear with 3 in-features for 4")
    expect_error(LIB.ac_linear(tensor(x), tensor(random((5, 4))),
                               ctypes.pointer(tensor(random((4,)))),
                               tensor(np.zeros((3, 5), np.float32))),
                 "linear bias of 4 for 5")
    for equation, operands, out_shape in (
            ("ij,jk", [x, y], (3, 3)),          # no ->
            ("ij,jk->ik", [x, x], (3, 4)),      # j is 4 and 3
            ("ii->i", [random((3, 3))], (3,)),  # repeated label
            ("ij,jk->iz", [x, y], (3, 3)),      # z in no input
            ("iJ->i", [x], (3,)),               # not a-z
            ("ij->i", [x, y], (3,)),            # 2 inputs, 1 subscript
            ("ijk->i", [x], (3,)),              # rank 2 with 3 labels
            ("ij->i", [x], (4,))):              # wrong output size
        inputs = tensor_array([tensor(o) for o in operands])
        expect_error(LIB.ac_einsum(equation.encode(), inputs, len(operands),
                                   tensor(np.zeros(out_shape, np.float32))),
                     f"einsum {equation}")
    expect_error(LIB.ac_reduce(REDUCE["sum"], tensor(x),
                               tensor(np.zeros((1,), np.float32)),
                               i64_array((1, 0)), 2, 0), "reduce axes 1, 0")
    expect_error(LIB.ac_reduce(REDUCE["sum"], tensor(x),
                               tensor(np.zeros((4,), np.float32)),
                               i64_array((1,)), 1, 0), "reduce output shape")
    expect_error(LIB.ac_reduce(REDUCE["sum"], tensor(x),
                               tensor(np.zeros((3,), np.float32)),
                               i64_array((2,)), 1, 0), "reduce axis 2")
    expect_error(LIB.ac_layer_norm(tensor(x), ctypes.pointer(tensor(random((3,)))),
                                   None, tensor(out), 1, 1e-5),
                 "layer_norm weight of 3 for 4")
    expect_error(LIB.ac_slice(tensor(x), tensor(np.zeros((2, 2), np.float32)),
                              i64_array((2, 0)), None), "slice past the end")
    expect_error(LIB.ac_slice(tensor(x), tensor(np.zeros((2, 2), np.float32)),
                              i64_array((0, 0)), i64_array((0, 1))),
                 "slice stride 0")
    expect_error(LIB.ac_transpose(tensor(x), tensor(y), i64_array((0, 0))),
                 "transpose with a repeated axis")
    expect_error(LIB.ac_concat(tensor_array([tensor(x), tensor(y)]), 2,
                               tensor(np.zeros((7, 4), np.float32)), 0),
                 "concat of 3x4 and 4x3")
    expect_error(LIB.ac_concat(tensor_array([tensor(x)]), 1,
                               tensor(out), 2), "concat axis 2")
    expect_error(LIB.ac_reshape(tensor(x), tensor(np.zeros((5,), np.float32))),
                 "reshape 12 elements to 5")
    expect_error(LIB.ac_broadcast(tensor(x), tensor(np.zeros((3, 5),
                                                             np.float32))),
                 "broadcast 3x4 to 3x5")
    expect_error(LIB.ac_causal_mask(tensor(random((4,))),
                                    tensor(np.zeros((4,), np.float32)), 0, 0,
                                    0), "causal_mask of rank 1")
    expect_error(LIB.ac_set_num_threads(0), "zero threads")
    expect_error(LIB.ac_set_gemm_backend(5), "unknown GEMM backend")


# ---------------------------------------------------------------------------


def run_tests(namespace):
    """Runs every test_* function of `namespace` (a module's globals());
    the exit status: 1 if one failed or crashed, else 0."""
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
        except AssertionError as error:
            failed += 1
            print(f"FAIL {name}: {error}")
        except Exception:  # a crash in the harness is a failure too
            failed += 1
            print(f"ERROR {name}:")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    return run_tests(globals())


if __name__ == "__main__":
    sys.exit(main())
