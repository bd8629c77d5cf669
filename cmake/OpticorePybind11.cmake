# pybind11 for the Python modules (_core, _runtime): the installed package's CMake config, found
# through `python -m pybind11 --cmakedir` when it is not on CMake's search path.
find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
find_package(pybind11 CONFIG QUIET)
if(NOT pybind11_FOUND)
  execute_process(COMMAND "${Python_EXECUTABLE}" -m pybind11 --cmakedir
                  OUTPUT_VARIABLE _pybind11_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  find_package(pybind11 CONFIG REQUIRED HINTS "${_pybind11_dir}")
endif()
