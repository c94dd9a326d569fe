#!/usr/bin/env bash
# Runs every AutoChunk test (lit and Catch2 through ctest) after installing
# and building what is needed; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ctest --test-dir "$AUTOCHUNK_BUILD_DIR" --output-on-failure -j 2
