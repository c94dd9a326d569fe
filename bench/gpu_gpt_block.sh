#!/usr/bin/env bash
# Superseded by bench/gpu_bench.py (all sizes and budgets, PyTorch in the
# same run, the longest size); kept because docs/benchmarks.md cites its runs.
# GPT block (hidden 1024, 16 heads, not causal: the configuration of
# ../shared/bench/torch_reference.py) on a GPU: AutoChunk unchunked and at
# 0.05x of its unchunked peak (and 0.03x at seq 16384), for several
# sequence lengths.
#   bench/gpu_gpt_block.sh prepare BUILD_DIR DIR   (here: needs chunk-compile)
#   DIR/gpu_gpt_block.sh run DIR                   (on the GPU machine)
# Run torch_reference.py gpt in the same session for the peers.
set -euo pipefail
mode=$1
if [ "$mode" = prepare ]; then
  build=$2 out=$3
  mkdir -p "$out"
  for n in 4096 8192 16384; do
    "$build/bin/chunk-models" gpt --seq $n --hidden 1024 --heads 16 --layers 1 \
      -o "$out/gpt$n.mlir"
    "$build/bin/chunk-compile" "$out/gpt$n.mlir" --device=cuda --target=h100 \
      -o "$out/gpt$n-cuda" >/dev/null
    budgets="0.05x"
    [ $n = 16384 ] && budgets="0.05x 0.03x"
    for budget in $budgets; do
      "$build/bin/chunk-compile" "$out/gpt$n.mlir" --device=cuda --target=h100 \
        --memory-budget=$budget -o "$out/gpt$n-cuda-$budget" >/dev/null
    done
    rm "$out/gpt$n.mlir"
  done
  cp "${BASH_SOURCE[0]}" "$out/"
else
  dir=$2
  for exe in "$dir"/gpt*-cuda*; do
    echo -n "$(basename "$exe"): "
    "$exe" --seed 1 --warmup 2 --repeat 10
  done
fi
