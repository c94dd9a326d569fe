#!/usr/bin/env bash
# The main job: builds AutoChunk, generates the bundled GPT, ViT and
# Evoformer graphs, prints what the pipeline knows about them, then compiles
# GPT and Evoformer to native CPU executables, runs them and prints their
# planned and measured activation memory and their time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

bin="$AUTOCHUNK_BUILD_DIR/bin"
models="$AUTOCHUNK_BUILD_DIR/models"
mkdir -p "$models"

"$bin/chunk-models" gpt --seq 1024 --hidden 768 --heads 12 --layers 2 \
  --causal -o "$models/gpt.mlir"
"$bin/chunk-models" vit --image 384 --patch 16 --hidden 768 --heads 12 \
  --layers 2 -o "$models/vit.mlir"
"$bin/chunk-models" evoformer --n-seq 64 --n-res 128 -o "$models/evoformer.mlir"

for model in gpt vit evoformer; do
  echo "== $model ($models/$model.mlir)"
  "$bin/chunk-opt" --autochunk-graph-summary "$models/$model.mlir" -o /dev/null
done

for model in gpt evoformer; do
  echo "== $model: compile and run on the CPU (unchunked; seeded random weights)"
  "$bin/chunk-compile" "$models/$model.mlir" -o "$models/$model"
  "$models/$model" --repeat 3 --report "$models/$model.report.json"
done
