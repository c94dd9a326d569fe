#!/usr/bin/env bash
# Runs, on a GPU machine, the GPU check that test/cuda/prepare.sh built into
# this folder: every op and model on CUDA against the CPU executables, and the
# per-kernel numpy checks. Exit 0: all passed; 1: a failure; 77: no GPU.
# usage: OUT_DIR/run.sh [--jobs N] [--threads N] [--filter REGEX]
#                       [--results FILE.jsonl] [--work DIR]
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 "$dir/run_gpu_check.py" "$dir" "$@"
