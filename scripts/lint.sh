#!/usr/bin/env bash
# Style and type checks, as CI runs them: ruff (Python lint), mypy (the typed wrappers and the
# compiled module's stubs), clang-format (C++ formatting, .clang-format). Configuration lives in
# pyproject.toml and .clang-format. Fix formatting with `clang-format -i FILE` / `ruff check --fix`.
#
#   bash scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

echo "== ruff"
"$PYTHON" -m ruff check python tests scripts benchmarks examples
echo "== mypy"
"$PYTHON" -m mypy
echo "== clang-format"
git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' | xargs clang-format --dry-run -Werror
echo "lint ok"
