# Installation and the find_package(castnet) package. Included at the end of the top-level
# CMakeLists.txt, once every target exists. `cmake --install <build> --prefix <dir>` then gives
#   <dir>/<bindir>/{castnet-gen,castnet}, <dir>/<includedir>/castnet/...,
#   <dir>/<libdir>/libcastnet_runtime.a (and libcastnet_mpi.so where MPI was found),
#   <dir>/<libdir>/cmake/castnet/{castnetConfig,castnetConfigVersion,castnetTargets,CastnetAddModel}.cmake
# so that find_package(castnet) imports castnet::gen, castnet::simd, castnet::simd_portable, castnet::runtime,
# castnet::warnings and castnet_add_model().

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(CASTNET_INSTALL "Generate castnet's install rules and package" ${PROJECT_IS_TOP_LEVEL})
if(NOT CASTNET_INSTALL)
  return()
endif()

# In the build tree the targets are castnet_<x> with ALIAS castnet::<x>; the exported names match
# the aliases, so code reads the same in-tree and through find_package.
set_target_properties(castnet_gen PROPERTIES EXPORT_NAME gen)
set_target_properties(castnet_simd PROPERTIES EXPORT_NAME simd)
set_target_properties(castnet_simd_portable PROPERTIES EXPORT_NAME simd_portable)
set_target_properties(castnet_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(castnet_warnings PROPERTIES EXPORT_NAME warnings)

install(TARGETS castnet_gen castnet_simd castnet_simd_portable castnet_runtime castnet_warnings
  EXPORT castnetTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/castnet
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The CLI is installed too, but is not part of the CMake package. It finds the headers and the
# library relative to its own location through the same GNUInstallDirs values (cli/CMakeLists.txt).
if(TARGET castnet_cli)
  install(TARGETS castnet_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# The CLI's MPI runners link libcastnet_mpi (where MPI was found); it too is found beside the prefix.
if(TARGET castnet_mpi)
  install(TARGETS castnet_mpi LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

set(CASTNET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/castnet)
install(EXPORT castnetTargets
  NAMESPACE castnet::
  DESTINATION ${CASTNET_CMAKE_DIR})
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/castnetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/castnetConfig.cmake
  INSTALL_DESTINATION ${CASTNET_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/castnetConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/castnetConfig.cmake
  ${PROJECT_BINARY_DIR}/castnetConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/CastnetAddModel.cmake
  DESTINATION ${CASTNET_CMAKE_DIR})
