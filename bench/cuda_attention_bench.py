#!/usr/bin/env python3
"""Times the CUDA ac_attention against PyTorch on the same card and stream.

Usage: cuda_attention_bench.py LIBRARY [--only NAME,...] [--ac-only]
                               [--iterations N]

LIBRARY is the build's lib/libautochunk_kernels_cuda_shared.so. For each
shape (the GPT block at seq 16384, the Evoformer MSA row and triangle
attentions, and chunks of them: query rows with a row offset, or a leading
dimension) it prints milliseconds per call, from CUDA events around
repeated calls after a warm-up, of:
  ac      ac_attention (one fused kernel, f32 FFMA)
  sdpa    torch.nn.functional.scaled_dot_product_attention (f32; a float
          attn_mask for a bias, a boolean one for a chunk's causal mask)
  unfused matmul, scale, mask or bias, softmax, matmul in torch
with TF32 off for torch, and the relative error of ac against sdpa
(||ac - sdpa|| / ||sdpa||). A chunk's ac result is also compared bit for
bit with the rows of the whole call. AUTOCHUNK_ATTENTION_TILE=64|128 forces
ac's query tile height.
"""
import argparse
import ctypes
import math
import sys

import torch
import torch.nn.functional as F

AC_MAX_RANK = 8


class AcTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32),
                ("sizes", ctypes.c_int64 * AC_MAX_RANK),
                ("strides", ctypes.c_int64 * AC_MAX_RANK)]


def ac_view(tensor):
    """The ac_tensor view of a torch f32 CUDA tensor (any strides)."""
    assert tensor.dtype == torch.float32 and tensor.is_cuda
    view = AcTensor()
    view.data = tensor.data_ptr()
    view.dtype = 0
    view.rank = tensor.dim()
    for dim in range(tensor.dim()):
        view.sizes[dim] = tensor.shape[dim]
        view.strides[dim] = tensor.stride(dim)
    return view


class Runtime:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.ac_attention.restype = ctypes.c_int
        self.lib.ac_attention.argtypes = [
            ctypes.POINTER(AcTensor)] * 5 + [
            ctypes.c_double, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
        self.lib.ac_last_error.restype = ctypes.c_char_p
        self.lib.ac_cuda_set_stream.argtypes = [ctypes.c_void_p]
        stream = torch.cuda.current_stream().cuda_stream
        if self.lib.ac_cuda_set_stream(ctypes.c_void_p(stream)) != 0:
            raise RuntimeError(self.lib.ac_last_error().decode())

    def attention_call(self, q, k, v, bias, out, scale, causal, row_offset):
        """A closure that enqueues one ac_attention call."""
        views = [ac_view(t) for t in (q, k, v)]
        bias_view = ac_view(bias) if bias is not None else None
        out_view = ac_view(out)
        pointers = [ctypes.byref(view) for view in views]
        bias_pointer = ctypes.byref(bias_view) if bias_view else None

        def call():
            status = self.lib.ac_attention(*pointers, bias_pointer,
                                           ctypes.byref(out_view), scale,
                                           int(causal), row_offset, 0)
            if status != 0:
                raise RuntimeError(self.lib.ac_last_error().decode())
        return call


def time_ms(fn, iterations):
    """Milliseconds per call of `fn`, from CUDA events, after a warm-up."""
    fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iterations


def causal_mask(rows, keys, row_offset):
    """True where key j is visible to row i (j <= i + row_offset)."""
    i = torch.arange(rows, device="cuda")[:, None] + row_offset
    j = torch.arange(keys, device="cuda")[None, :]
    return j <= i


def unfused(q, k, v, bias, scale, causal, row_offset):
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if causal:
        logits = logits.masked_fill(
            ~causal_mask(q.shape[-2], k.shape[-2], row_offset), -math.inf)
    if bias is not None:
        logits = logits + bias
    return torch.matmul(torch.softmax(logits, dim=-1), v)


def sdpa(q, k, v, bias, scale, causal, row_offset):
    if causal and row_offset == 0 and q.shape[-2] == k.shape[-2] and \
            bias is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                              scale=scale)
    mask = bias
    if causal:
        mask = causal_mask(q.shape[-2], k.shape[-2], row_offset)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)


def cases():
    """(name, q, k, v, bias, scale, causal, row_offset, whole) per shape;
    `whole` names the case whose result a chunk must reproduce and the
    slices of it (or None)."""
    generator = torch.Generator(device="cuda").manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, device="cuda", generator=generator)

    gq, gk, gv = (randn(16, 16384, 64) for _ in range(3))
    yield "gpt_16384", gq, gk, gv, None, 0.125, True, 0, None
    yield ("gpt_chunk_1024_at_8192", gq[:, 8192:9216], gk, gv, None, 0.125,
           True, 8192, ("gpt_16384", (slice(None), slice(8192, 9216))))
    yield ("gpt_chunk_512_at_15872", gq[:, 15872:], gk, gv, None, 0.125,
           True, 15872, ("gpt_16384", (slice(None), slice(15872, None))))
    del gq, gk, gv
    scale = 1.0 / math.sqrt(32.0)
    mq, mk, mv = (randn(128, 8, 1024, 32) for _ in range(3))
    mbias = randn(8, 1024, 1024)
    yield "msa_row", mq, mk, mv, mbias, scale, False, 0, None
    yield ("msa_row_chunk_16", mq[:16], mk[:16], mv[:16], mbias, scale, False,
           0, ("msa_row", (slice(0, 16),)))
    del mq, mk, mv, mbias
    tq, tk, tv = (randn(1024, 4, 1024, 32) for _ in range(3))
    tbias = randn(4, 1024, 1024)
    yield "triangle", tq, tk, tv, tbias, scale, False, 0, None
    yield ("triangle_chunk_128", tq[:128], tk[:128], tv[:128], tbias, scale,
           False, 0, ("triangle", (slice(0, 128),)))
    yield ("triangle_rows_512_at_256", tq[:, :, 256:768], tk, tv,
           tbias[:, 256:768], scale, False, 0,
           ("triangle", (slice(None), slice(None), slice(256, 768))))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--only", default="")
    parser.add_argument("--ac-only", action="store_true")
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args(argv[1:])
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    runtime = Runtime(args.library)
    only = set(filter(None, args.only.split(",")))
    print(f"card: {torch.cuda.get_device_name()}; torch {torch.__version__}")
    print(f"{'case':28s} {'ac ms':>9s} {'sdpa ms':>9s} {'unfused ms':>11s}"
          f" {'ac/sdpa':>8s} {'err vs sdpa':>12s}  bits")
    results = {}
    for name, q, k, v, bias, scale, causal, row_offset, whole in cases():
        if only and name not in only and not any(
                other.startswith(name) for other in only):
            continue
        out = torch.empty(*q.shape[:-1], v.shape[-1], device="cuda")
        call = runtime.attention_call(q, k, v, bias, out, scale, causal,
                                      row_offset)
        ac_ms = time_ms(call, args.iterations)
        call()
        torch.cuda.synchronize()
        results[name] = out
        bits = ""
        if whole and whole[0] in results:
            reference = results[whole[0]][whole[1]]
            bits = "equal" if torch.equal(reference, out) else "DIFFER"
        sdpa_ms = unfused_ms = float("nan")
        error = float("nan")
        if not args.ac_only:
            sdpa_ms = time_ms(
                lambda: sdpa(q, k, v, bias, scale, causal, row_offset),
                args.iterations)
            expected = sdpa(q, k, v, bias, scale, causal, row_offset)
            error = ((out - expected).norm() / expected.norm()).item()
            del expected
            try:
                unfused_ms = time_ms(
                    lambda: unfused(q, k, v, bias, scale, causal, row_offset),
                    max(1, args.iterations // 2))
            except torch.OutOfMemoryError:
                pass
            torch.cuda.empty_cache()
        print(f"{name:28s} {ac_ms:9.3f} {sdpa_ms:9.3f} {unfused_ms:11.3f}"
              f" {ac_ms / sdpa_ms:8.2f} {error:12.2e}  {bits}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
