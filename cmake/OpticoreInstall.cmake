# The installed CMake package: find_package(opticore) gives opticore::core (and opticore::torch,
# opticore::runtime when they were built). Inside a wheel the tree lives under site-packages/opticore/.
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/cpp/include/opticore"
        DESTINATION "${OPTICORE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_BINARY_DIR}/generated/opticore/version.hpp"
        DESTINATION "${OPTICORE_INSTALL_INCLUDEDIR}/opticore")

# Two export sets: the torch-free core always, the LibTorch targets only when built, so that a
# consumer without Torch never sees targets it cannot resolve.
function(opticore_install_export export_name)
  install(TARGETS ${ARGN}
          EXPORT ${export_name}
          LIBRARY DESTINATION "${OPTICORE_INSTALL_LIBDIR}"
          ARCHIVE DESTINATION "${OPTICORE_INSTALL_LIBDIR}"
          RUNTIME DESTINATION "${OPTICORE_INSTALL_LIBDIR}"
          INCLUDES DESTINATION "${OPTICORE_INSTALL_INCLUDEDIR}")
  install(EXPORT ${export_name}
          NAMESPACE opticore::
          DESTINATION "${OPTICORE_INSTALL_CMAKEDIR}")
endfunction()
opticore_install_export(opticoreTargets opticore_core)
if(OPTICORE_HAVE_TORCH)
  opticore_install_export(opticoreTorchTargets opticore_torch)
endif()
if(OPTICORE_HAVE_RUNTIME)
  opticore_install_export(opticoreRuntimeTargets opticore_runtime)
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/opticoreConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/opticoreConfig.cmake"
  INSTALL_DESTINATION "${OPTICORE_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/opticoreConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/opticoreConfig.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/OpticoreTorch.cmake"
              "${PROJECT_BINARY_DIR}/opticoreConfigVersion.cmake"
        DESTINATION "${OPTICORE_INSTALL_CMAKEDIR}")
