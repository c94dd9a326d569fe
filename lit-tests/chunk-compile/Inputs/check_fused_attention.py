"""Inputs for, and the check of, fused-attention.test.

  inputs DIR: writes q, k, v (2x10x4, float32, fixed seed) as DIR/<name>.npy.
  check DIR CHUNKED_OUT FULL_OUT CHUNKED_REPORT FULL_REPORT: the chunked
  output equals the unchunked one bit for bit, both measured what they
  planned, and the output is within float32 rounding of causal attention
  (scale 0.5) computed in float64 by numpy.
"""
import json
import os
import sys

import numpy as np


def reference(q, k, v, scale):
    logits = scale * np.einsum("bid,bjd->bij", q, k)
    rows, keys = logits.shape[1:]
    visible = np.arange(keys)[None, :] <= np.arange(rows)[:, None]
    logits = np.where(visible, logits, -np.inf)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("bij,bjd->bid", weights, v)


def main():
    if sys.argv[1] == "inputs":
        os.makedirs(sys.argv[2], exist_ok=True)
        rng = np.random.default_rng(11)
        for name in "qkv":
            np.save(os.path.join(sys.argv[2], name + ".npy"),
                    rng.standard_normal((2, 10, 4)).astype(np.float32))
        return 0
    inputs, chunked_dir, full_dir, chunked_report, full_report = sys.argv[2:7]
    chunked = np.load(os.path.join(chunked_dir, "o.npy"))
    full = np.load(os.path.join(full_dir, "o.npy"))
    assert chunked.dtype == np.float32 and chunked.shape == (2, 10, 4)
    assert chunked.tobytes() == full.tobytes(), "chunked output differs"
    for path in (chunked_report, full_report):
        report = json.load(open(path))
        assert (report["planned_activation_bytes"] ==
                report["measured_activation_bytes"]), report
    q, k, v = (np.load(os.path.join(inputs, n + ".npy")).astype(np.float64)
               for n in "qkv")
    expected = reference(q, k, v, 0.5)
    error = np.linalg.norm(full - expected) / np.linalg.norm(expected)
    assert error <= 1e-6, f"relative error {error} vs numpy"
    print("chunked bitwise equal to unchunked; "
          f"max relative error vs numpy {error:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
