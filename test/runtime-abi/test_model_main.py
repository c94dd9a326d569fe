"""Checks the main() of compiled model executables against numpy.

argv[1] is an executable linked from TestModel.c (y = x fc.weight^T + fc.bias,
z = softmax(y, axis 1)), the model main and the runtime. The script writes
inputs as .npy files and as a .safetensors file (its own writer), runs the
executable, and checks the outputs against numpy, the reproducibility of
seeded runs, the seeded-fill scales, the report, and that every bad input
fails with exit code 1, an `error:` line naming the problem and no output.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import traceback

import numpy as np

EXECUTABLE = sys.argv[1]
RNG = np.random.default_rng(7)
SHAPES = {"x": (4, 6), "fc.weight": (5, 6), "fc.bias": (5,)}


def run(args, env=None):
    full_env = dict(os.environ)
    full_env.pop("AC_TEST_MODEL_FAIL", None)
    if env:
        full_env.update(env)
    return subprocess.run([EXECUTABLE] + args, capture_output=True, text=True,
                          env=full_env, timeout=120)


def reference(x, weight, bias):
    y = x.astype(np.float64) @ weight.astype(np.float64).T + bias
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return y, e / e.sum(axis=1, keepdims=True)


def random_tensors():
    return {name: RNG.standard_normal(shape).astype(np.float32)
            for name, shape in SHAPES.items()}


def write_npy_dir(directory, tensors):
    os.makedirs(directory, exist_ok=True)
    for name, array in tensors.items():
        np.save(os.path.join(directory, name + ".npy"), array)


SAFETENSORS_DTYPES = {np.dtype(np.float32): "F32",
                      np.dtype(np.float16): "F16"}


def write_safetensors(path, tensors):
    """A .safetensors writer independent of the runtime's."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[array.dtype],
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_outputs(directory):
    return (np.load(os.path.join(directory, "y.npy")),
            np.load(os.path.join(directory, "z.npy")))


def expect_success(result):
    assert result.returncode == 0, (
        "exit %d\nstdout: %s\nstderr: %s"
        % (result.returncode, result.stdout, result.stderr))


def check_outputs(directory, tensors):
    y, z = load_outputs(directory)
    assert y.dtype == np.float32 and y.shape == (4, 5), (y.dtype, y.shape)
    assert z.dtype == np.float32 and z.shape == (4, 5), (z.dtype, z.shape)
    y_ref, z_ref = reference(tensors["x"], tensors["fc.weight"],
                             tensors["fc.bias"])
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(z, z_ref, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


def test_npy_inputs_match_numpy(tmp):
    tensors = random_tensors()
    write_npy_dir(os.path.join(tmp, "in"), tensors)
    out = os.path.join(tmp, "out", "nested")  # created, parents included
    expect_success(run(["--inputs", os.path.join(tmp, "in"),
                        "--outputs", out]))
    check_outputs(out, tensors)


def test_safetensors_inputs_match_numpy(tmp):
    tensors = random_tensors()
    path = os.path.join(tmp, "model.safetensors")
    write_safetensors(path, tensors)
    out = os.path.join(tmp, "out")
    expect_success(run(["--inputs", path, "--outputs", out, "--threads", "1"]))
    check_outputs(out, tensors)


def test_partial_inputs_and_fill_scales(tmp):
    """Only x is given; the weights are seeded. With x rows 0 and e_j, the
    outputs expose fc.bias and columns of fc.weight, whose ranges must follow
    the documented rule: 1/sqrt(last dimension) for both."""
    x = np.zeros((4, 6), np.float32)
    for row in range(1, 4):
        x[row, row - 1] = 1.0
    write_npy_dir(os.path.join(tmp, "in"), {"x": x})
    out = os.path.join(tmp, "out")
    expect_success(run(["--inputs", os.path.join(tmp, "in"),
                        "--outputs", out, "--seed", "3"]))
    y, _ = load_outputs(out)
    bias = y[0].astype(np.float64)
    columns = y[1:].astype(np.float64) - bias
    for values, bound, name in ((bias, 1 / np.sqrt(5), "fc.bias"),
                                (columns, 1 / np.sqrt(6), "fc.weight")):
        largest = np.abs(values).max()
        assert largest <= bound * (1 + 1e-6), (name, largest, bound)
        assert largest > bound / 4, (name, largest, bound)


def test_seeded_runs_reproducible(tmp):
    def outputs(seed, threads):
        out = os.path.join(tmp, "s%s_t%s" % (seed, threads))
        expect_success(run(["--seed", seed, "--threads", threads,
                            "--outputs", out]))
        return load_outputs(out)

    first, again, other_threads = (outputs("5", "2"), outputs("5", "2"),
                                   outputs("5", "1"))
    for a, b in zip(first, again):
        assert a.tobytes() == b.tobytes(), "same seed, different outputs"
    for a, b in zip(first, other_threads):
        assert a.tobytes() == b.tobytes(), "thread count changed outputs"
    other_seed = outputs("6", "2")
    assert first[0].tobytes() != other_seed[0].tobytes(), \
        "a different seed gave the same outputs"


def test_report(tmp):
    report_path = os.path.join(tmp, "report.json")
    result = run(["--report", report_path, "--repeat", "3", "--warmup", "2",
                  "--threads", "1"])
    expect_success(result)
    with open(report_path) as f:
        report = json.load(f)
    for key in ("model", "device", "chunked", "planned_activation_bytes",
                "measured_activation_bytes", "weights_bytes", "inputs_bytes",
                "median_ms", "repeat", "threads", "outputs"):
        assert key in report, "report lacks %s: %s" % (key, report)
    assert report["device"] == "cpu"
    assert report["model"] == "test_model"
    assert report["chunked"] is False
    assert report["planned_activation_bytes"] == 256
    measured = report["measured_activation_bytes"]
    assert 0 < measured <= 256, measured
    # The highest arena byte written is the end of z: 128 + 4*5*4.
    assert measured == 128 + 4 * 5 * 4, measured
    assert report["weights_bytes"] == (5 * 6 + 5) * 4
    assert report["inputs_bytes"] == 4 * 6 * 4
    assert report["repeat"] == 3 and len(report["samples_ms"]) == 3
    assert report["median_ms"] == float(np.median(report["samples_ms"]))
    assert report["median_ms"] >= 0
    assert report["threads"] == 1
    assert [(o["name"], o["dtype"], o["shape"]) for o in report["outputs"]] \
        == [("y", "f32", [4, 5]), ("z", "f32", [4, 5])]
    # The human summary states the planned and measured bytes.
    assert "planned activation bytes 256" in result.stdout, result.stdout
    assert "measured 208" in result.stdout, result.stdout
    assert "median" in result.stdout, result.stdout


def test_help():
    result = run(["--help"])
    expect_success(result)
    for word in ("--inputs", "--outputs", "--seed", "--repeat", "--warmup",
                 "--threads", "--report", "1/sqrt(last dimension)",
                 "weight"):
        assert word in result.stdout, word


def bad_input_cases(tmp):
    """(label, args, env, text the error line must contain)."""
    good = random_tensors()
    cases = []

    def npy_dir(label, tensors):
        directory = os.path.join(tmp, label)
        write_npy_dir(directory, tensors)
        return directory

    cases.append(("missing inputs dir",
                  ["--inputs", os.path.join(tmp, "nowhere")], None,
                  "nowhere"))
    cases.append(("wrong dtype",
                  ["--inputs", npy_dir("dtype", dict(
                      good, x=good["x"].astype(np.float16)))], None, "'x'"))
    cases.append(("wrong shape",
                  ["--inputs", npy_dir("shape", dict(
                      good, **{"fc.weight": np.zeros((5, 7), np.float32)}))],
                  None, "fc.weight"))
    truncated = npy_dir("truncated", good)
    path = os.path.join(truncated, "x.npy")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-10])
    cases.append(("truncated npy", ["--inputs", truncated], None, "x.npy"))
    cases.append(("unknown input",
                  ["--inputs", npy_dir("unknown", dict(
                      good, extra=np.zeros(3, np.float32)))], None, "extra"))
    corrupt = os.path.join(tmp, "corrupt.safetensors")
    with open(corrupt, "wb") as f:
        f.write(struct.pack("<Q", 24) + b'{"x": {"dtype": "F32", ')
    cases.append(("corrupt safetensors header", ["--inputs", corrupt], None,
                  "corrupt.safetensors"))
    huge = os.path.join(tmp, "huge.safetensors")
    with open(huge, "wb") as f:
        f.write(struct.pack("<Q", 1 << 40) + b"{}")
    cases.append(("safetensors header past the end", ["--inputs", huge],
                  None, "huge.safetensors"))
    bad_shape = os.path.join(tmp, "shape.safetensors")
    write_safetensors(bad_shape, dict(good, x=np.zeros((6, 4), np.float32)))
    cases.append(("safetensors wrong shape", ["--inputs", bad_shape], None,
                  "'x'"))
    for flag, value in (("--repeat", "0"), ("--repeat", "abc"),
                        ("--repeat", "3x"), ("--repeat", ""),
                        ("--warmup", "-1"), ("--threads", "0"),
                        ("--seed", "-1"), ("--seed", "1.5"),
                        ("--repeat", "99999999999999999999")):
        cases.append(("bad %s %r" % (flag, value), [flag, value], None, flag))
    cases.append(("missing flag value", ["--repeat"], None, "--repeat"))
    cases.append(("unknown flag", ["--bogus"], None, "--bogus"))
    cases.append(("kernel failure", [], {"AC_TEST_MODEL_FAIL": "1"},
                  "softmax (f32)"))
    not_a_dir = os.path.join(tmp, "plain_file")
    with open(not_a_dir, "w") as f:
        f.write("x")
    cases.append(("outputs is a file", ["--outputs", not_a_dir], None,
                  "plain_file"))
    cases.append(("report in a missing directory",
                  ["--report", os.path.join(tmp, "no_dir", "r.json")], None,
                  "no_dir"))
    return cases


def test_bad_inputs(tmp):
    failures = []
    for index, (label, args, env, needle) in enumerate(bad_input_cases(tmp)):
        out = os.path.join(tmp, "bad_out_%d" % index)
        report = os.path.join(tmp, "bad_report_%d.json" % index)
        extra = []
        if "--outputs" not in args:
            extra += ["--outputs", out]
        if "--report" not in args:
            extra += ["--report", report]
        # The case's own arguments come last, so that a flag missing its
        # value really is the last argument.
        result = run(extra + args, env)
        problems = []
        if result.returncode != 1:
            problems.append("exit code %d" % result.returncode)
        error_lines = [line for line in result.stderr.splitlines()
                       if line.startswith("error: ")]
        if len(error_lines) != 1 or needle not in error_lines[0]:
            problems.append("no 'error:' line naming %r" % needle)
        if os.path.exists(out) and os.listdir(out):
            problems.append("wrote outputs %s" % os.listdir(out))
        if os.path.exists(report):
            problems.append("wrote a report")
        if problems:
            failures.append("%s: %s (stderr: %r)"
                            % (label, "; ".join(problems), result.stderr))
    assert not failures, "\n".join(failures)


def main():
    tests = [(name, function) for name, function in sorted(globals().items())
             if name.startswith("test_") and callable(function)]
    passed = failed = 0
    for name, function in tests:
        try:
            if function.__code__.co_argcount:
                with tempfile.TemporaryDirectory() as tmp:
                    function(tmp)
            else:
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
