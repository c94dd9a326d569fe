#!/usr/bin/env python3
"""Cross-checks the runtime's tensor IO against numpy through ctypes.

numpy writes .npy files (np.save, np.lib.format) and this script writes
.safetensors files with its own small writer; the runtime must read them
exactly. The runtime writes .npy and .safetensors files; np.load and this
script's own reader must read them back exactly. The seeded fill is checked
bit for bit against an independent implementation of its documented
definition. Usage: test_io_numpy.py PATH/TO/libautochunk_runtime.so
"""

import ctypes
import json
import os
import struct
import sys
import tempfile
import traceback

import numpy as np

AC_MAX_RANK = 8
AC_F32, AC_F16, AC_BF16 = 0, 1, 2
AC_OK, AC_INVALID, AC_IO, AC_FORMAT, AC_OOM, AC_NOT_FOUND = range(6)
SHAPES = [(), (5,), (2, 3), (2, 1, 3), (2, 3, 1, 4)]
RNG = np.random.default_rng(1234)


class Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int32),
        ("sizes", ctypes.c_int64 * AC_MAX_RANK),
        ("strides", ctypes.c_int64 * AC_MAX_RANK),
    ]


class NpyInfo(ctypes.Structure):
    _fields_ = [
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int32),
        ("sizes", ctypes.c_int64 * AC_MAX_RANK),
        ("data_offset", ctypes.c_uint64),
        ("data_bytes", ctypes.c_uint64),
    ]


def load_library(path):
    lib = ctypes.CDLL(path)
    lib.ac_last_error.restype = ctypes.c_char_p
    i64p = ctypes.POINTER(ctypes.c_int64)
    signatures = {
        "ac_npy_read_info": [ctypes.c_char_p, ctypes.POINTER(NpyInfo)],
        "ac_npy_load": [ctypes.c_char_p, ctypes.c_int, ctypes.c_int32, i64p,
                        ctypes.c_void_p, ctypes.c_size_t],
        "ac_npy_save": [ctypes.c_char_p, ctypes.POINTER(Tensor)],
        "ac_safetensors_open": [ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_void_p)],
        "ac_safetensors_close": [ctypes.c_void_p],
        "ac_safetensors_count": [ctypes.c_void_p],
        "ac_safetensors_name": [ctypes.c_void_p, ctypes.c_int64],
        "ac_safetensors_info": [ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_int),
                                ctypes.POINTER(ctypes.c_int32), i64p],
        "ac_safetensors_load": [ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.c_int, ctypes.c_int32, i64p,
                                ctypes.c_void_p, ctypes.c_size_t],
        "ac_safetensors_save": [ctypes.c_char_p, ctypes.c_int64,
                                ctypes.POINTER(ctypes.c_char_p),
                                ctypes.POINTER(Tensor)],
        "ac_tensor_source_open": [ctypes.c_char_p,
                                  ctypes.POINTER(ctypes.c_void_p)],
        "ac_tensor_source_close": [ctypes.c_void_p],
        "ac_tensor_source_has": [ctypes.c_void_p, ctypes.c_char_p],
        "ac_tensor_source_load": [ctypes.c_void_p, ctypes.c_char_p,
                                  ctypes.c_int, ctypes.c_int32, i64p,
                                  ctypes.c_void_p, ctypes.c_size_t],
        "ac_tensor_source_check_all_requested": [ctypes.c_void_p],
        "ac_seeded_fill": [ctypes.POINTER(Tensor), ctypes.c_uint64,
                           ctypes.c_char_p, ctypes.c_float],
    }
    for name, argtypes in signatures.items():
        getattr(lib, name).argtypes = argtypes
    lib.ac_safetensors_count.restype = ctypes.c_int64
    lib.ac_safetensors_name.restype = ctypes.c_char_p
    return lib


LIB = load_library(sys.argv[1])


def last_error():
    return LIB.ac_last_error().decode()


def runtime_dtype(array):
    return {np.dtype("<f4"): AC_F32, np.dtype("<f2"): AC_F16,
            np.dtype("<u2"): AC_BF16}[array.dtype]


def tensor_of(array, dtype=None):
    """An ac_tensor viewing `array` with its own strides (no copy)."""
    tensor = Tensor()
    tensor.data = array.ctypes.data
    tensor.dtype = runtime_dtype(array) if dtype is None else dtype
    tensor.rank = array.ndim
    for dim in range(array.ndim):
        tensor.sizes[dim] = array.shape[dim]
        tensor.strides[dim] = array.strides[dim] // array.itemsize
    return tensor


def shape_arg(shape):
    return (ctypes.c_int64 * max(1, len(shape)))(*shape)


def random_array(shape, numpy_dtype):
    if numpy_dtype == np.uint16:  # bf16 bit patterns of random floats
        floats = RNG.standard_normal(shape).astype(np.float32)
        return np.asarray(floats.view(np.uint32) >> 16).astype(np.uint16)
    return np.asarray(RNG.standard_normal(shape).astype(numpy_dtype))


def runtime_npy_load(path, dtype, shape, numpy_dtype):
    out = np.zeros(shape, dtype=numpy_dtype)
    status = LIB.ac_npy_load(path.encode(), dtype, len(shape),
                             shape_arg(shape), out.ctypes.data, out.nbytes)
    return status, out


CASES = [(np.float32, AC_F32), (np.float16, AC_F16), (np.uint16, AC_BF16)]


def test_runtime_reads_numpy_npy(tmp):
    for numpy_dtype, dtype in CASES:
        for shape in SHAPES:
            expected = random_array(shape, numpy_dtype)
            path = os.path.join(tmp, "np.npy")
            np.save(path, expected)
            info = NpyInfo()
            assert LIB.ac_npy_read_info(path.encode(), ctypes.byref(info)) \
                == AC_OK, last_error()
            assert info.dtype == dtype and info.rank == len(shape)
            assert tuple(info.sizes[:info.rank]) == shape
            assert info.data_bytes == expected.nbytes
            status, got = runtime_npy_load(path, dtype, shape, numpy_dtype)
            assert status == AC_OK, last_error()
            assert got.tobytes() == expected.tobytes(), (numpy_dtype, shape)


def test_runtime_reads_every_npy_version(tmp):
    expected = random_array((3, 4), np.float32)
    for version in [(1, 0), (2, 0), (3, 0)]:
        path = os.path.join(tmp, "v.npy")
        with open(path, "wb") as handle:
            np.lib.format.write_array(handle, expected, version=version)
        status, got = runtime_npy_load(path, AC_F32, (3, 4), np.float32)
        assert status == AC_OK, (version, last_error())
        assert np.array_equal(got, expected)


def test_runtime_rejects_what_it_must(tmp):
    path = os.path.join(tmp, "bad.npy")
    cases = [
        (np.asfortranarray(random_array((3, 4), np.float32)), "fortran_order"),
        (random_array((3, 4), np.float32).astype(">f4"), "big-endian"),
        (random_array((3, 4), np.float64), "unsupported dtype '<f8'"),
        (np.arange(12, dtype=np.int32).reshape(3, 4), "unsupported dtype"),
    ]
    for array, detail in cases:
        np.save(path, array)
        status, _ = runtime_npy_load(path, AC_F32, (3, 4), np.float32)
        assert status == AC_FORMAT, detail
        assert path in last_error() and detail in last_error(), last_error()
    # '<u2' is bf16 bits only when bf16 is expected.
    np.save(path, np.arange(12, dtype=np.uint16).reshape(3, 4))
    status, _ = runtime_npy_load(path, AC_F16, (3, 4), np.float16)
    assert status == AC_INVALID and path in last_error()
    # A file numpy wrote, cut short by one byte.
    np.save(path, random_array((3, 4), np.float32))
    with open(path, "rb+") as handle:
        handle.truncate(os.path.getsize(path) - 1)
    status, _ = runtime_npy_load(path, AC_F32, (3, 4), np.float32)
    assert status == AC_FORMAT and "truncated" in last_error()


def test_numpy_reads_runtime_npy(tmp):
    for numpy_dtype, _ in CASES:
        for shape in SHAPES:
            expected = random_array(shape, numpy_dtype)
            path = os.path.join(tmp, "rt.npy")
            assert LIB.ac_npy_save(path.encode(),
                                   ctypes.byref(tensor_of(expected))) == AC_OK
            got = np.load(path)
            assert got.dtype == np.dtype(numpy_dtype).newbyteorder("<")
            assert got.shape == shape
            assert got.tobytes() == expected.tobytes()


def test_numpy_reads_runtime_strided_npy(tmp):
    base = random_array((4, 6, 5), np.float32)
    views = [
        base.transpose(2, 0, 1),
        base[::2, 1::3, ::-1],
        base[:, 2, :],
        np.broadcast_to(base[0, 0], (3, 5)),
        base.astype(np.float16).transpose(1, 2, 0)[::-1],
    ]
    for view in views:
        path = os.path.join(tmp, "view.npy")
        assert LIB.ac_npy_save(path.encode(),
                               ctypes.byref(tensor_of(view))) == AC_OK
        got = np.load(path)
        assert got.shape == view.shape
        assert np.array_equal(got, view) and got.dtype == view.dtype


def write_safetensors(path, named_arrays, metadata=None):
    """An independent writer: 8-byte length, JSON header, packed data."""
    header, blobs, offset = {}, [], 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
             np.dtype(np.uint16): "BF16"}
    for name, array in named_arrays:
        data = np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """An independent reader: name -> (dtype name, shape, raw bytes)."""
    with open(path, "rb") as handle:
        blob = handle.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    return {name: (entry["dtype"], tuple(entry["shape"]),
                   data[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items() if name != "__metadata__"}


def named_cases():
    cases = []
    for numpy_dtype, dtype in CASES:
        for shape in SHAPES:
            name = "layer.%s.rank%d" % (np.dtype(numpy_dtype).name, len(shape))
            cases.append((name, random_array(shape, numpy_dtype), dtype))
    return cases


def test_runtime_reads_independent_safetensors(tmp):
    cases = named_cases()
    path = os.path.join(tmp, "w.safetensors")
    write_safetensors(path, [(name, array) for name, array, _ in cases],
                      metadata={"format": "pt"})
    handle = ctypes.c_void_p()
    assert LIB.ac_safetensors_open(path.encode(), ctypes.byref(handle)) \
        == AC_OK, last_error()
    try:
        assert LIB.ac_safetensors_count(handle) == len(cases)
        for name, expected, dtype in cases:
            got_dtype, rank = ctypes.c_int(), ctypes.c_int32()
            sizes = (ctypes.c_int64 * AC_MAX_RANK)()
            assert LIB.ac_safetensors_info(handle, name.encode(),
                                           ctypes.byref(got_dtype),
                                           ctypes.byref(rank), sizes) == AC_OK
            assert got_dtype.value == dtype
            assert tuple(sizes[:rank.value]) == expected.shape
            out = np.zeros_like(expected)
            assert LIB.ac_safetensors_load(
                handle, name.encode(), dtype, expected.ndim,
                shape_arg(expected.shape), out.ctypes.data,
                out.nbytes) == AC_OK, last_error()
            assert out.tobytes() == expected.tobytes(), name
    finally:
        LIB.ac_safetensors_close(handle)


def test_independent_reader_reads_runtime_safetensors(tmp):
    cases = named_cases()
    cases.append(("strided", random_array((4, 5), np.float32).T[::2], AC_F32))
    path = os.path.join(tmp, "rt.safetensors")
    tensors = (Tensor * len(cases))(*[tensor_of(a) for _, a, _ in cases])
    names = (ctypes.c_char_p * len(cases))(*[n.encode() for n, _, _ in cases])
    assert LIB.ac_safetensors_save(path.encode(), len(cases), names,
                                   tensors) == AC_OK, last_error()
    read = read_safetensors(path)
    assert len(read) == len(cases)
    dtype_names = {AC_F32: "F32", AC_F16: "F16", AC_BF16: "BF16"}
    for name, expected, dtype in cases:
        got_dtype, shape, data = read[name]
        assert got_dtype == dtype_names[dtype] and shape == expected.shape
        assert data == np.ascontiguousarray(expected).tobytes(), name


def test_directory_source_serves_numpy_files(tmp):
    weight = random_array((3, 4), np.float32)
    np.save(os.path.join(tmp, "blocks.0.attn.qkv.weight.npy"), weight)
    np.save(os.path.join(tmp, "stray.npy"), weight)
    source = ctypes.c_void_p()
    assert LIB.ac_tensor_source_open(tmp.encode(),
                                     ctypes.byref(source)) == AC_OK
    try:
        name = b"blocks.0.attn.qkv.weight"
        assert LIB.ac_tensor_source_has(source, name)
        out = np.zeros((3, 4), np.float32)
        assert LIB.ac_tensor_source_load(source, name, AC_F32, 2,
                                         shape_arg((3, 4)), out.ctypes.data,
                                         out.nbytes) == AC_OK, last_error()
        assert np.array_equal(out, weight)
        assert LIB.ac_tensor_source_check_all_requested(source) == AC_INVALID
        assert last_error() == "unknown input 'stray' in " + tmp
    finally:
        LIB.ac_tensor_source_close(source)


MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix64(value):
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def reference_fill(seed, name, count, scale):
    """The documented definition, in Python integers and numpy float32."""
    hashed = 0xCBF29CE484222325
    for byte in name.encode():
        hashed = ((hashed ^ byte) * 0x100000001B3) & MASK
    key = mix64(mix64((seed + GAMMA) & MASK) ^ hashed)
    top = np.array([mix64((key + (i + 1) * GAMMA) & MASK) >> 40
                    for i in range(count)], dtype=np.int64)
    centered = (2 * top - (1 << 24)).astype(np.float32)
    return centered * np.float32(2.0 ** -24) * np.float32(scale)


def bf16_round_nearest_even(values):
    """bf16 bits of float32 `values`: pick the nearer of the two bf16
    neighbours in float64, ties to the even one."""
    bits = values.view(np.uint32)
    low = (bits >> 16).astype(np.uint32)
    high = low + 1
    as_float = lambda b: (b.astype(np.uint32) << np.uint32(16)).view(np.float32)
    exact = values.astype(np.float64)
    distance_low = np.abs(exact - as_float(low).astype(np.float64))
    distance_high = np.abs(as_float(high).astype(np.float64) - exact)
    pick_high = (distance_high < distance_low) | (
        (distance_high == distance_low) & (low % 2 == 1))
    return np.where(pick_high, high, low).astype(np.uint16)


def runtime_fill(shape, dtype, numpy_dtype, seed, name, scale):
    out = np.zeros(shape, dtype=numpy_dtype)
    assert LIB.ac_seeded_fill(ctypes.byref(tensor_of(out, dtype)), seed,
                              name.encode(), scale) == AC_OK, last_error()
    return out


def test_seeded_fill_matches_its_definition(tmp):
    for seed, name, scale in [(0, "w", 1.0), (42, "blocks.0.mlp.fc1.weight",
                                              0.03125), (2**63 + 5, "", 3.7)]:
        shape = (7, 33)
        expected = reference_fill(seed, name, 7 * 33, scale).reshape(shape)
        got = runtime_fill(shape, AC_F32, np.float32, seed, name, scale)
        assert got.tobytes() == expected.tobytes(), (seed, name)
        assert np.all(got >= -np.float32(scale)) and np.all(
            got < np.float32(scale))
        got16 = runtime_fill(shape, AC_F16, np.float16, seed, name, scale)
        assert got16.tobytes() == expected.astype(np.float16).tobytes()
        got_bf16 = runtime_fill(shape, AC_BF16, np.uint16, seed, name, scale)
        assert np.array_equal(got_bf16, bf16_round_nearest_even(expected))


def test_fp16_rounding_covers_edge_cases(tmp):
    # Large scales reach f16 overflow; tiny ones its subnormals. numpy's
    # float32 -> float16 cast rounds to nearest even.
    for scale in [70000.0, 65519.0, 1e-5, 3e-8, 6.1e-5]:
        expected = reference_fill(9, "edge", 4096, scale)
        got16 = runtime_fill((4096,), AC_F16, np.float16, 9, "edge", scale)
        with np.errstate(over="ignore"):
            reference = expected.astype(np.float16)
        assert got16.tobytes() == reference.tobytes(), scale


def main():
    tests = [(name, test) for name, test in sorted(globals().items())
             if name.startswith("test_") and callable(test)]
    passed = failed = 0
    for name, test in tests:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                test(tmp)
                leftovers = [f for f in os.listdir(tmp) if ".tmp." in f]
                assert not leftovers, "temporary files left: %s" % leftovers
                passed += 1
                print("PASS", name)
            except Exception:  # report every failure, then keep going
                failed += 1
                print("FAIL", name)
                traceback.print_exc(file=sys.stdout)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
