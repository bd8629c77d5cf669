#include "opticore/core/build_info.hpp"

#include "opticore/core/threading.hpp"
#include "opticore/version.hpp"

// Filled in by CMake (cpp/CMakeLists.txt) from what the build found.
#ifndef OPTICORE_COMPILER
#define OPTICORE_COMPILER "unknown"
#endif
#ifndef OPTICORE_BUILD_TYPE
#define OPTICORE_BUILD_TYPE "unknown"
#endif
#ifndef OPTICORE_TORCH_VERSION
#define OPTICORE_TORCH_VERSION ""
#endif
#ifndef OPTICORE_WITH_CUDA_KERNELS
#define OPTICORE_WITH_CUDA_KERNELS 0
#endif

namespace opticore {

BuildInfo build_info() {
  BuildInfo info;
  info.version = OPTICORE_VERSION_STRING;
  info.compiler = OPTICORE_COMPILER;
  info.build_type = OPTICORE_BUILD_TYPE;
  info.torch_version = OPTICORE_TORCH_VERSION;
  info.cuda = OPTICORE_WITH_CUDA_KERNELS != 0;
  info.num_threads = get_num_threads();
  return info;
}

}  // namespace opticore
