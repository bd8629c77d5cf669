#!/usr/bin/env bash
# The whole test suite: lint and type checks (scripts/lint.sh), the C++ tests (GoogleTest and the
# find_package consumer, via ctest) and again under AddressSanitizer + UBSan (scripts/sanitize.sh),
# the Python tests (pytest) against the installed opticore, then the wheel as a user gets it
# (scripts/wheel.sh: manylinux repair, a fresh environment without torch, the torch operators).
#
#   bash scripts/test.sh            (after scripts/install.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
BUILD_DIR=${BUILD_DIR:-build/ctest}

echo "== Lint and type checks (scripts/lint.sh)"
PYTHON="$PYTHON" bash scripts/lint.sh

echo "== C++ tests (ctest)"
# The C++ test build is torch-free: the torch operators are tested from Python.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DOPTICORE_BUILD_TESTS=ON -DOPTICORE_WITH_TORCH=OFF -DPython_EXECUTABLE="$(command -v "$PYTHON")" >/dev/null
cmake --build "$BUILD_DIR"
ctest --test-dir "$BUILD_DIR" --output-on-failure

echo "== C++ tests under the sanitizers (scripts/sanitize.sh)"
bash scripts/sanitize.sh

echo "== Python tests (pytest)"
"$PYTHON" -m pytest tests/python

echo "== The wheel (scripts/wheel.sh)"
PYTHON="$PYTHON" bash scripts/wheel.sh
