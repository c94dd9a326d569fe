#!/usr/bin/env bash
# Superseded by test/cuda/prepare.sh and OUT_DIR/run.sh; kept because
# docs/benchmarks.md cites its first runs.
# Runs, on a GPU machine, what bench/gpu_prepare.sh built: each CUDA model
# (unchunked and chunked) against the CPU executable's outputs, then the GPT
# block at seq 4096 unchunked and at 0.1x (time, activation memory, and
# whether the chunked outputs equal the unchunked ones).
# usage: DIR/gpu_run.sh DIR RESULTS_DIR
set -euo pipefail
dir=$1 results=$2
mkdir -p "$results"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
compare() {
  python3 - "$@" <<'PY'
import numpy as np, os, sys
ref, got = sys.argv[1:3]
worst = 0.0
for name in sorted(os.listdir(ref)):
    a = np.load(os.path.join(ref, name)).astype(np.float64)
    b = np.load(os.path.join(got, name)).astype(np.float64)
    worst = max(worst, np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-30))
print(f"  max relative difference {worst:.2e}: {'OK' if worst <= 1e-5 else 'TOO LARGE'}")
sys.exit(0 if worst <= 1e-5 else 1)
PY
}
for model in gpt vit evo; do
  for variant in cuda cuda-chunked; do
    echo "$model-$variant vs $model-cpu"
    "$dir/$model-$variant" --seed 3 --outputs "$results/$model-$variant" \
      --report "$results/$model-$variant.json" | sed 's/^/  /'
    compare "$dir/$model-cpu-out" "$results/$model-$variant"
  done
done
for variant in cuda cuda-chunked; do
  echo "gptbig-$variant"
  "$dir/gptbig-$variant" --seed 1 --warmup 2 --repeat 10 \
    --outputs "$results/gptbig-$variant" --report "$results/gptbig-$variant.json" | sed 's/^/  /'
done
echo "gptbig-cuda-chunked vs gptbig-cuda"
compare "$results/gptbig-cuda" "$results/gptbig-cuda-chunked"
