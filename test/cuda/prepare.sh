#!/usr/bin/env bash
# Builds the GPU check here (chunk-compile, no GPU needed) into OUT_DIR, which
# OUT_DIR/run.sh then runs on a GPU machine; see docs/gpu-testing.md.
# usage: test/cuda/prepare.sh BUILD_DIR OUT_DIR [--jobs N] [--dtypes f32,bf16,f16]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR [--jobs N] [--dtypes f32,bf16,f16]" >&2
  exit 2
fi
exec python3 "$(dirname "${BASH_SOURCE[0]}")/prepare_gpu_check.py" "$@"
