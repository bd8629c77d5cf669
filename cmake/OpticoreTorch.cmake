# Finds what the stable-ABI operator library needs from an installed torch: its include folder
# (torch/csrc/stable, torch/headeronly) and libtorch_cpu (the stable C shims live there). Not
# find_package(Torch): that wants CUDA's toolkit beside a CUDA build of torch, and pins consumers
# to one torch. Used by the build and by the installed opticoreConfig.cmake alike.
#
#   opticore_find_torch(<result-var>)
#
# Looks in OPTICORE_TORCH_ROOT (the torch package folder, e.g. .../site-packages/torch) when set,
# else asks the Python interpreter (Python_EXECUTABLE, or python3 on PATH) where torch is, without
# importing it. On success defines the imported target opticore::libtorch_stable, sets
# <result-var> TRUE and OPTICORE_TORCH_VERSION; on failure sets <result-var> FALSE and
# OPTICORE_TORCH_NOT_FOUND to what is missing and how to point CMake at it.

# The oldest torch whose stable ABI the operators are written against (TORCH_TARGET_VERSION).
set(OPTICORE_TORCH_MIN_VERSION 2.10)

function(opticore_find_torch result_var)
  set(${result_var} FALSE PARENT_SCOPE)
  set(_how "Install torch >= ${OPTICORE_TORCH_MIN_VERSION} into the Python CMake uses (-DPython_EXECUTABLE=...), or point CMake at the torch package folder: -DOPTICORE_TORCH_ROOT=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')")
  set(_root "${OPTICORE_TORCH_ROOT}")
  set(_version "")
  if(NOT _root)
    set(_python "${Python_EXECUTABLE}")
    if(NOT _python)
      find_program(_opticore_python NAMES python3 python NO_CACHE)
      set(_python "${_opticore_python}")
    endif()
    if(NOT _python)
      set(OPTICORE_TORCH_NOT_FOUND "no Python interpreter found to ask where torch is. ${_how}" PARENT_SCOPE)
      return()
    endif()
    execute_process(
      COMMAND "${_python}" -c "import importlib.util as u, importlib.metadata as m, os; s = u.find_spec('torch'); print(os.path.dirname(s.origin) + ';' + m.version('torch'))"
      OUTPUT_VARIABLE _answer OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc ERROR_QUIET)
    if(NOT _rc EQUAL 0 OR NOT _answer)
      set(OPTICORE_TORCH_NOT_FOUND "torch is not installed in ${_python}. ${_how}" PARENT_SCOPE)
      return()
    endif()
    list(GET _answer 0 _root)
    list(GET _answer 1 _version)
  endif()
  if(NOT EXISTS "${_root}/include/torch/csrc/stable/library.h")
    set(OPTICORE_TORCH_NOT_FOUND "no stable-ABI headers (include/torch/csrc/stable/library.h) under ${_root}: torch >= ${OPTICORE_TORCH_MIN_VERSION} is needed. ${_how}" PARENT_SCOPE)
    return()
  endif()
  find_library(_torch_cpu NAMES torch_cpu PATHS "${_root}/lib" NO_DEFAULT_PATH NO_CACHE)
  if(NOT _torch_cpu)
    set(OPTICORE_TORCH_NOT_FOUND "no libtorch_cpu under ${_root}/lib. ${_how}" PARENT_SCOPE)
    return()
  endif()
  if(NOT _version)
    file(STRINGS "${_root}/include/torch/headeronly/version.h" _lines REGEX "#define TORCH_VERSION_(MAJOR|MINOR) ")
    string(REGEX REPLACE ".*TORCH_VERSION_MAJOR ([0-9]+).*" "\\1" _major "${_lines}")
    string(REGEX REPLACE ".*TORCH_VERSION_MINOR ([0-9]+).*" "\\1" _minor "${_lines}")
    if(NOT _major MATCHES "^[0-9]+$" OR NOT _minor MATCHES "^[0-9]+$")
      set(OPTICORE_TORCH_NOT_FOUND "cannot read torch's version from ${_root}/include/torch/headeronly/version.h. ${_how}" PARENT_SCOPE)
      return()
    endif()
    set(_version "${_major}.${_minor}")
  endif()
  if(_version VERSION_LESS OPTICORE_TORCH_MIN_VERSION)
    set(OPTICORE_TORCH_NOT_FOUND "torch ${_version} under ${_root} is older than ${OPTICORE_TORCH_MIN_VERSION}. ${_how}" PARENT_SCOPE)
    return()
  endif()
  if(NOT TARGET opticore::libtorch_stable)
    add_library(opticore::libtorch_stable INTERFACE IMPORTED)
    # The target version (major << 56 | minor << 48) makes the headers expose only what the
    # oldest supported torch has, so the library loads on it and every later torch.
    string(REPLACE "." ";" _min "${OPTICORE_TORCH_MIN_VERSION}")
    list(GET _min 0 _min_major)
    list(GET _min 1 _min_minor)
    math(EXPR _target "(${_min_major} << 56) | (${_min_minor} << 48)" OUTPUT_FORMAT HEXADECIMAL)
    set_target_properties(opticore::libtorch_stable PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${_root}/include"
      INTERFACE_COMPILE_DEFINITIONS "TORCH_TARGET_VERSION=${_target}"
      INTERFACE_LINK_LIBRARIES "${_torch_cpu}")
  endif()
  set(OPTICORE_TORCH_VERSION "${_version}" PARENT_SCOPE)
  set(OPTICORE_TORCH_PACKAGE_DIR "${_root}" PARENT_SCOPE)
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()

# The full LibTorch (ATen, c10, AOTInductor's package loader) of the torch that
# opticore_find_torch found, for opticore::runtime: unlike the stable-ABI operators, code built
# on it runs only with that torch release. An imported target over the wheel's own headers and
# libraries rather than find_package(Torch), which wants CUDA's toolkit beside a CUDA build of
# torch: the runner reaches CUDA through torch's libraries at run time, so one source builds
# against CPU-only and CUDA torch alike.
#
#   opticore_find_libtorch(<result-var>)    call after opticore_find_torch succeeded
#
# On success defines opticore::libtorch, sets <result-var> TRUE and OPTICORE_LIBTORCH_VERSION (the
# full release, e.g. 2.13.0+cpu); else sets
# OPTICORE_LIBTORCH_NOT_FOUND to what is missing.
function(opticore_find_libtorch result_var)
  set(${result_var} FALSE PARENT_SCOPE)
  set(_root "${OPTICORE_TORCH_PACKAGE_DIR}")
  if(NOT EXISTS "${_root}/include/torch/csrc/inductor/aoti_package/model_package_loader.h")
    set(OPTICORE_LIBTORCH_NOT_FOUND "no AOTInductor package loader header under ${_root}/include" PARENT_SCOPE)
    return()
  endif()
  foreach(_name torch torch_cpu c10)
    find_library(_lib_${_name} NAMES ${_name} PATHS "${_root}/lib" NO_DEFAULT_PATH NO_CACHE)
    if(NOT _lib_${_name})
      set(OPTICORE_LIBTORCH_NOT_FOUND "no lib${_name} under ${_root}/lib" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  # The full release (2.13.0+cpu) the runtime is pinned to, from the package's version.py.
  file(STRINGS "${_root}/version.py" _line REGEX "^__version__ *= *")
  string(REGEX REPLACE "^__version__ *= *['\"]([^'\"]+)['\"].*" "\\1" _full "${_line}")
  if(NOT _full)
    set(OPTICORE_LIBTORCH_NOT_FOUND "cannot read the torch release from ${_root}/version.py" PARENT_SCOPE)
    return()
  endif()
  set(OPTICORE_LIBTORCH_VERSION "${_full}" PARENT_SCOPE)
  # LibTorch's headers need C++20 from torch 2.14 on (operator<=>, requires-clauses,
  # string_view::starts_with); up to 2.13 C++17 does. Whatever includes them gets that standard.
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" _major_minor "${_full}")
  if(_major_minor VERSION_GREATER_EQUAL 2.14)
    set(_standard cxx_std_20)
  else()
    set(_standard cxx_std_17)
  endif()
  if(NOT TARGET opticore::libtorch)
    add_library(opticore::libtorch INTERFACE IMPORTED)
    set_target_properties(opticore::libtorch PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${_root}/include;${_root}/include/torch/csrc/api/include"
      INTERFACE_LINK_LIBRARIES "${_lib_torch};${_lib_torch_cpu};${_lib_c10}"
      INTERFACE_COMPILE_FEATURES "${_standard}")
  endif()
  set(${result_var} TRUE PARENT_SCOPE)
endfunction()
