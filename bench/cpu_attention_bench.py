"""CPU benchmark of the fused attention kernel against the unfused sequence.

For each shape, times ac_attention and the sequence it replaces,
ac_matmul(q, k, transpose_b) -> ac_scale_mask_softmax (in place) ->
ac_matmul(p, v), on the same random f32 inputs with the runtime's default
(packed) GEMM, and prints the median times, the speedup, the logits bytes
the fused kernel never writes, and the largest difference between the two
results (they are not meant to agree bit for bit).

usage: python3 bench/cpu_attention_bench.py BUILD_DIR [--threads N]
       [--repeat N] [--cases gpt1k,gpt4k,evoformer] [--dtype f32|f16|bf16]
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import numpy as np

# (q, k, v shape, bias shape or None, causal, description)
CASES = {
    "gpt1k": ((12, 1024, 64), None, True, "GPT, 12 heads, seq 1024, causal"),
    "gpt4k": ((16, 4096, 64), None, True, "GPT, 16 heads, seq 4096, causal"),
    "evoformer": ((64, 8, 256, 32), (8, 256, 256), False,
                  "Evoformer row attention, bias over dim 0"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--dtype", default="f32", choices=("f32", "f16",
                                                           "bf16"))
    args = parser.parse_args()

    library = os.path.join(args.build_dir, "runtime",
                           "libautochunk_runtime.so")
    if not os.path.exists(library):
        sys.exit(f"error: {library} not found (build autochunk_runtime_shared)")
    # test_kernels.py loads the library named by argv[1] at import.
    sys.argv = [sys.argv[0], library]
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "test", "runtime-kernels"))
    import test_kernels as base
    from test_kernels import LIB, check_status, decode, random, tensor

    T = ctypes.POINTER(base.AcTensor)
    LIB.ac_attention.argtypes = [T, T, T, T, T, ctypes.c_double,
                                 ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    LIB.ac_attention.restype = ctypes.c_int
    LIB.ac_scale_mask_softmax.argtypes = [T, T, T, ctypes.c_double,
                                          ctypes.c_int, ctypes.c_int64,
                                          ctypes.c_int64, ctypes.c_int64]
    LIB.ac_scale_mask_softmax.restype = ctypes.c_int
    check_status(LIB.ac_set_num_threads(args.threads), "set threads")
    dtype = {"f32": base.F32, "f16": base.F16, "bf16": base.BF16}[args.dtype]

    def ptr(t):
        return ctypes.pointer(t) if t is not None else None

    def median_seconds(fn):
        fn()  # warm up: page in the buffers, start the threads
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    print(f"threads {args.threads}, dtype {args.dtype}, median of "
          f"{args.repeat}")
    for name in args.cases.split(","):
        shape, bias_shape, causal, description = CASES[name]
        q, k, v = (random(shape, dtype) for _ in range(3))
        bias = random(bias_shape, dtype) if bias_shape else None
        scale = 1.0 / np.sqrt(shape[-1])
        storage = base.STORAGE[dtype]
        fused_out = np.empty(shape, dtype=storage)
        logits = np.empty(shape[:-1] + shape[-2:-1], dtype=storage)
        unfused_out = np.empty(shape, dtype=storage)
        tq, tk, tv = tensor(q, dtype), tensor(k, dtype), tensor(v, dtype)
        tbias = ptr(tensor(bias, dtype)) if bias is not None else None
        tfused, tlogits = tensor(fused_out, dtype), tensor(logits, dtype)
        tunfused = tensor(unfused_out, dtype)

        def fused():
            check_status(LIB.ac_attention(tq, tk, tv, tbias, tfused, scale,
                                          int(causal), 0, 0), "ac_attention")

        def unfused():
            check_status(LIB.ac_matmul(tq, tk, tlogits, 0, 1), "ac_matmul")
            check_status(LIB.ac_scale_mask_softmax(
                tlogits, tbias, tlogits, scale, int(causal), 0, 0, 0),
                "ac_scale_mask_softmax")
            check_status(LIB.ac_matmul(tlogits, tv, tunfused, 0, 0),
                         "ac_matmul")

        fused_s = median_seconds(fused)
        unfused_s = median_seconds(unfused)
        difference = np.max(np.abs(decode(fused_out, dtype)
                                   - decode(unfused_out, dtype)))
        print(f"{name:10s} {description}: q,k,v {list(shape)}"
              f"{' bias ' + str(list(bias_shape)) if bias_shape else ''}")
        print(f"  fused   {fused_s * 1e3:9.2f} ms")
        print(f"  unfused {unfused_s * 1e3:9.2f} ms   speedup "
              f"{unfused_s / fused_s:.2f}x, logits not written "
              f"{logits.nbytes / 2**20:.0f} MiB, max |fused - unfused| "
              f"{difference:.2e}")
        del logits


if __name__ == "__main__":
    main()
