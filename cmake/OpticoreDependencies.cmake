# Outside dependencies, all taken from registries at build time (see third_party/README.md).

# --- Eigen (header-only): the system's libeigen3-dev, or the cmeel-eigen wheel from PyPI.
find_package(Eigen3 3.3 CONFIG QUIET)
if(NOT Eigen3_FOUND)
  find_package(Python COMPONENTS Interpreter QUIET)
  if(Python_FOUND)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -m cmeel cmake
      OUTPUT_VARIABLE _cmeel_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_cmeel_prefix)
      find_package(Eigen3 3.3 CONFIG QUIET HINTS "${_cmeel_prefix}")
    endif()
  endif()
endif()
if(NOT Eigen3_FOUND)
  message(FATAL_ERROR
    "opticore needs Eigen >= 3.3. Install it from a registry: `pip install cmeel-eigen` "
    "or `apt-get install libeigen3-dev`, then configure again.")
endif()

# --- LibTorch (optional): the installed Python torch, found through torch.utils.cmake_prefix_path.
# torch is deliberately NOT a build requirement of the wheel: build with
# `pip install --no-build-isolation .` so that the torch already installed is the one built against.
set(OPTICORE_HAVE_TORCH OFF)
if(NOT OPTICORE_WITH_TORCH STREQUAL "OFF")
  if(NOT Torch_DIR)
    find_package(Python COMPONENTS Interpreter QUIET)
    if(Python_FOUND)
      execute_process(
        COMMAND "${Python_EXECUTABLE}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
        OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE _torch_rc ERROR_QUIET)
      if(_torch_rc EQUAL 0 AND _torch_prefix)
        list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
      endif()
    endif()
  endif()
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(OPTICORE_HAVE_TORCH ON)
    message(STATUS "opticore: building opticore::torch against torch ${Torch_VERSION}")
  elseif(OPTICORE_WITH_TORCH STREQUAL "ON")
    message(FATAL_ERROR
      "OPTICORE_WITH_TORCH=ON but torch was not found. Install torch first "
      "(`pip install torch==2.13.0`) and build with `pip install --no-build-isolation .` "
      "so the build sees the installed torch, or pass -DTorch_DIR=...")
  else()
    message(STATUS "opticore: torch not importable at build time; building without opticore::torch. "
                   "To get the torch operators, install torch and rebuild with --no-build-isolation.")
  endif()
endif()

if(OPTICORE_WITH_CUDA AND NOT OPTICORE_HAVE_TORCH)
  message(FATAL_ERROR "OPTICORE_WITH_CUDA=ON needs torch (with CUDA) to be found.")
endif()
