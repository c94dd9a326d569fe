#!/usr/bin/env bash
# Installs what AutoChunk needs on Debian bookworm (only what is missing),
# then configures and builds everything. Sourced or run by main.sh and
# test.sh; safe to run again and again.
set -euo pipefail

AUTOCHUNK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AUTOCHUNK_BUILD_DIR=${AUTOCHUNK_BUILD_DIR:-$AUTOCHUNK_ROOT/build}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_packages=(
  cmake ninja-build ccache g++ python3 python3-pip
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  catch2 libfmt-dev libopenblas-dev nlohmann-json3-dev clang-format
)
missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# numpy is the independent reference of the numeric tests.
if ! python3 -c "import numpy" 2>/dev/null; then
  echo "setup: installing numpy"
  python3 -m pip install -q numpy 2>/dev/null ||
    python3 -m pip install -q --break-system-packages numpy 2>/dev/null ||
    as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends python3-numpy
fi

cmake -G Ninja -S "$AUTOCHUNK_ROOT" -B "$AUTOCHUNK_BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build "$AUTOCHUNK_BUILD_DIR"
