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

# --- torch (optional): the installed Python torch's stable-ABI headers and libtorch_cpu
# (cmake/OpticoreTorch.cmake). torch is deliberately NOT a build requirement of the wheel: build
# with `pip install --no-build-isolation .` so that the torch already installed is found; the
# library built then loads on every torch >= OPTICORE_TORCH_MIN_VERSION.
include(OpticoreTorch)
set(OPTICORE_HAVE_TORCH OFF)
if(NOT OPTICORE_WITH_TORCH STREQUAL "OFF")
  find_package(Python COMPONENTS Interpreter QUIET)
  opticore_find_torch(_torch_found)
  if(_torch_found)
    set(OPTICORE_HAVE_TORCH ON)
    message(STATUS "opticore: building the torch operators (stable ABI >= ${OPTICORE_TORCH_MIN_VERSION}) with the headers of torch ${OPTICORE_TORCH_VERSION}")
  elseif(OPTICORE_WITH_TORCH STREQUAL "ON")
    message(FATAL_ERROR "OPTICORE_WITH_TORCH=ON but ${OPTICORE_TORCH_NOT_FOUND}")
  else()
    message(STATUS "opticore: building without the torch operators: ${OPTICORE_TORCH_NOT_FOUND}")
  endif()
endif()
