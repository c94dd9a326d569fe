#!/usr/bin/env bash
# Superseded by test/cuda/prepare.sh (every op and model, bf16 and f16 too);
# kept because docs/benchmarks.md cites its first runs.
# Builds, on a machine with the CUDA toolkit (no GPU needed), what
# bench/gpu_run.sh runs on a GPU machine (which needs no MLIR): small GPT,
# ViT and Evoformer models compiled for the CPU (run here, as the reference)
# and for CUDA, unchunked and chunked, plus a GPT block at seq 4096.
# usage: bench/gpu_prepare.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$1 out=$2
bin="$build/bin"
rm -rf "$out" && mkdir -p "$out"
declare -A args=(
  [gpt]="gpt --seq 37 --hidden 24 --heads 3 --layers 2 --causal"
  [vit]="vit --image 56 --patch 8 --hidden 12 --heads 3 --layers 2 --classes 5"
  [evo]="evoformer --n-seq 5 --n-res 11 --c-m 16 --c-z 12"
)
declare -A budget=([gpt]=0.5x [vit]=0.7x [evo]=0.5x)
for model in gpt vit evo; do
  "$bin/chunk-models" ${args[$model]} -o "$out/$model.mlir"
  "$bin/chunk-compile" "$out/$model.mlir" -o "$out/$model-cpu" >/dev/null
  "$bin/chunk-compile" "$out/$model.mlir" --device=cuda -o "$out/$model-cuda" >/dev/null
  "$bin/chunk-compile" "$out/$model.mlir" --device=cuda \
    --memory-budget=${budget[$model]} -o "$out/$model-cuda-chunked" >/dev/null
  "$out/$model-cpu" --seed 3 --outputs "$out/$model-cpu-out" >/dev/null
done
"$bin/chunk-models" gpt --seq 4096 --hidden 768 --heads 12 --layers 1 --causal \
  -o "$out/gptbig.mlir"
"$bin/chunk-compile" "$out/gptbig.mlir" --device=cuda -o "$out/gptbig-cuda" >/dev/null
"$bin/chunk-compile" "$out/gptbig.mlir" --device=cuda --memory-budget=0.1x \
  -o "$out/gptbig-cuda-chunked" >/dev/null
rm -f "$out"/*.mlir
cp "$(dirname "${BASH_SOURCE[0]}")/gpu_run.sh" "$out/"
