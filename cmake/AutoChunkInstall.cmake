# Install rules: headers, libraries, tools, the mlir-opt plugin, the runtime
# and a find_package(AutoChunk CONFIG) package with AutoChunk:: targets.
#
# Included from the top-level CMakeLists.txt after every target exists.
#
# Approach: add_mlir_library already installs each library and puts it in
# MLIR's own export set (MLIRTargets, or none at all when LLVM was built with
# LLVM_DISTRIBUTION_COMPONENTS or LLVM_INSTALL_TOOLCHAIN_ONLY). Rather than
# depend on which of those the installed LLVM chose, the libraries are
# installed once more, to the same place, into an export set of our own,
# AutoChunkTargets. Their link interfaces name upstream MLIR/LLVM targets
# (MLIRIR, LLVM, ...) that AutoChunkConfig.cmake gets from find_dependency(MLIR).
# Include directories are not usage requirements in this build
# (include_directories() is used), so AutoChunkConfig.cmake adds them to the
# imported targets.

include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

# project() carries no version; this is the package's.
set(AUTOCHUNK_PACKAGE_VERSION 0.1.0)
set(AUTOCHUNK_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/AutoChunk)

# Every add_mlir_library/add_mlir_dialect_library of this project (MLIR's own
# libraries are imported, so they are not recorded here).
get_property(AUTOCHUNK_MLIR_LIBRARIES GLOBAL PROPERTY MLIR_EXPORTS)
if(NOT AUTOCHUNK_MLIR_LIBRARIES)
  message(FATAL_ERROR "AutoChunkInstall.cmake: no MLIR libraries recorded; "
    "include it after the add_subdirectory() calls that define them")
endif()
install(TARGETS ${AUTOCHUNK_MLIR_LIBRARIES}
  EXPORT AutoChunkTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT AutoChunkTargets
  NAMESPACE AutoChunk::
  FILE AutoChunkTargets.cmake
  DESTINATION ${AUTOCHUNK_INSTALL_CMAKE_DIR})

# Public headers, the TableGen sources they come from, and the generated .inc
# files next to them.
foreach(header_root IN ITEMS dialects passes compiler runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${header_root}/include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
endforeach()
foreach(generated_root IN ITEMS dialects passes)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/${generated_root}/include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.inc"
    PATTERN "CMakeFiles" EXCLUDE)
endforeach()

# The tools. add_llvm_executable gives them an install RPATH of $ORIGIN/../lib;
# LLVM's library directory is added so that libLLVM is found where it is not
# on the default search path.
set(AUTOCHUNK_TOOLS chunk-opt chunk-models chunk-compile chunk-plan-dump)
set_property(TARGET ${AUTOCHUNK_TOOLS} APPEND PROPERTY
  INSTALL_RPATH ${LLVM_LIBRARY_DIR})
install(TARGETS ${AUTOCHUNK_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The plugin for mlir-opt links the libMLIR/libLLVM that mlir-opt has already
# loaded; the RPATH lets other hosts that dlopen it find them too.
set_property(TARGET AutoChunkPlugin APPEND PROPERTY
  INSTALL_RPATH ${LLVM_LIBRARY_DIR})
install(TARGETS AutoChunkPlugin LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The runtime, as plain files: compiled models link it by path. It is not in
# the export set, as its link interface (OpenMP, OpenBLAS, an object library)
# would have to be found again by consumers that only want the compiler.
install(TARGETS autochunk_runtime autochunk_runtime_shared autochunk_model_main
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/AutoChunkConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/AutoChunkConfig.cmake
  INSTALL_DESTINATION ${AUTOCHUNK_INSTALL_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/AutoChunkConfigVersion.cmake
  VERSION ${AUTOCHUNK_PACKAGE_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/AutoChunkConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/AutoChunkConfigVersion.cmake
  DESTINATION ${AUTOCHUNK_INSTALL_CMAKE_DIR})
