// What this build of opticore is: version, compiler, and the optional parts compiled in.
#pragma once

#include <string>

namespace opticore {

struct BuildInfo {
  std::string version;        ///< "MAJOR.MINOR.PATCH", from the top-level CMakeLists.txt
  std::string compiler;       ///< compiler id and version, e.g. "GNU 12.2.0"
  std::string build_type;     ///< CMake build type, e.g. "Release"
  std::string torch_version;  ///< torch version opticore::torch was built against; empty if none
  bool cuda = false;          ///< true when the CUDA kernels were built
  int num_threads = 1;        ///< current get_num_threads()
};

BuildInfo build_info();

}  // namespace opticore
