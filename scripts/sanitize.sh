#!/usr/bin/env bash
# The C++ tests (GoogleTest) under AddressSanitizer + UndefinedBehaviorSanitizer: out-of-bounds
# reads and writes, use after free, leaks, signed overflow, bad shifts, misaligned or null
# accesses, float-to-int conversions out of range. Any report fails the run.
#
#   bash scripts/sanitize.sh            (needs what scripts/install.sh installs; no torch, no Python)
#
# Builds in build/sanitize (BUILD_DIR to change it). The find_package consumer tests are left out:
# they link a plain program against the instrumented library, which ASan's runtime refuses.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build/sanitize}
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

echo "== configure and build $BUILD_DIR (-fsanitize=address,undefined)"
cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOPTICORE_SANITIZE=ON -DOPTICORE_BUILD_TESTS=ON -DOPTICORE_WITH_TORCH=OFF -DOPTICORE_BUILD_PYTHON=OFF -DOPTICORE_WITH_CUDA=OFF >/dev/null
cmake --build "$BUILD_DIR"

echo "== ctest under the sanitizers"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:check_initialization_order=1:detect_stack_use_after_return=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -E '^consumer_'
