"""Checks what a chunk-models graph computes against numpy references.

Runs the emitted graph-dialect text with the numpy interpreter of the graph
ops (test/reference/graph_interpreter.py), on random inputs and weights
looked up by graph.name, and compares with the independent numpy models of
test/reference/numpy_models.py. Everything runs in float64.

usage: graph_reference.py {gpt,vit,evoformer} FILE.mlir --heads H
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, os.pardir, os.pardir, "test",
                                "reference"))
from graph_interpreter import InterpreterError, interpret, parse_signature  # noqa: E402
from numpy_models import (count_blocks, evoformer_reference, gpt_reference,  # noqa: E402
                          random_parameters, vit_reference)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["gpt", "vit", "evoformer"])
    parser.add_argument("file")
    parser.add_argument("--heads", type=int, default=0)
    parser.add_argument("--causal", action="store_true")
    args = parser.parse_args()
    text = open(args.file).read()

    signature = parse_signature(text)
    by_name = random_parameters(signature, np.random.default_rng(0))
    by_ssa = {ssa: by_name[name] for ssa, name, _, _ in signature}
    blocks = count_blocks(by_name)

    try:
        graph = interpret(text, by_ssa)
    except InterpreterError as error:
        sys.exit(f"graph_reference.py: {error}")
    if args.model == "gpt":
        reference = gpt_reference(by_name, by_name["x"], args.heads, blocks,
                                  args.causal)
    elif args.model == "vit":
        reference = vit_reference(by_name, by_name["image"], args.heads, blocks)
    else:
        reference = evoformer_reference(by_name, by_name["msa"], by_name["pair"],
                                        blocks)
    for index, (got, want) in enumerate(zip(graph, reference)):
        error = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30)
        print(f"result {index}: shape {list(got.shape)} relative error {error:.3e}")
        if got.shape != want.shape or not error < 1e-9:
            print(f"MISMATCH in result {index}")
            return 1
    print(f"{args.model}: {len(reference)} result(s) match the numpy reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
