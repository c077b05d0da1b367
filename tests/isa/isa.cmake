# Instruction sets mixed in one program (isa/isa_link_test.cpp): isa/specs/isa_link.toml generated
# for each instruction set under one namespace, each model compiled into an object of its own
# with its ARCH's flags (they apply to whole translation units), and all linked into the test.
set(isa_link_arches scalar)
set(isa_link_x86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(isa_link_x86 ON)
  list(APPEND isa_link_arches sse4 avx2 avx512)
endif()
set(isa_link_units "")
set(isa_link_defs "")
foreach(arch IN LISTS isa_link_arches)
  castnet_add_model(isa_link_${arch} SPEC isa/specs/isa_link.toml NAMESPACE isa_link ARCH ${arch})
  add_library(castnet_isa_link_${arch} OBJECT isa/link/unit.cpp)
  target_include_directories(castnet_isa_link_${arch} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(castnet_isa_link_${arch} PRIVATE isa_link_${arch} castnet_warnings)
  target_compile_definitions(castnet_isa_link_${arch} PRIVATE
    CASTNET_ISA_LINK_HEADER="isa_link_${arch}.hpp" CASTNET_ISA_LINK_ARCH=${arch})
  list(APPEND isa_link_units castnet_isa_link_${arch})
  list(APPEND isa_link_defs "CASTNET_ISA_LINK_OBJECT_${arch}=\"$<TARGET_OBJECTS:castnet_isa_link_${arch}>\"")
endforeach()

# The check's own test: probe.cpp compiled for two instruction sets, into objects it only reads.
set(isa_probe_units "")
if(isa_link_x86)
  foreach(probe IN ITEMS a b)
    add_library(castnet_isa_probe_${probe} OBJECT isa/link/probe.cpp)
    target_link_libraries(castnet_isa_probe_${probe} PRIVATE castnet_simd castnet_warnings)
    list(APPEND isa_probe_units castnet_isa_probe_${probe})
    list(APPEND isa_link_defs "CASTNET_ISA_PROBE_OBJECT_${probe}=\"$<TARGET_OBJECTS:castnet_isa_probe_${probe}>\"")
  endforeach()
  target_compile_definitions(castnet_isa_probe_a PRIVATE CASTNET_SIMD_SCALAR)
  target_compile_options(castnet_isa_probe_b PRIVATE -mavx2 -mfma -mno-avx512f)
endif()

# An exported header, compiled for AVX2 and for the baseline (SSE2 on x86-64), into objects it only
# reads; at -O0, so that every inline function it holds is there, none inlined away.
set(isa_export_units "")
if(isa_link_x86)
  foreach(unit IN ITEMS baseline avx2)
    add_library(castnet_isa_export_${unit} OBJECT isa/link/export_unit.cpp)
    target_include_directories(castnet_isa_export_${unit} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/golden/expected)
    target_link_libraries(castnet_isa_export_${unit} PRIVATE castnet_warnings)
    target_compile_options(castnet_isa_export_${unit} PRIVATE -O0)
    list(APPEND isa_export_units castnet_isa_export_${unit})
    list(APPEND isa_link_defs "CASTNET_ISA_EXPORT_OBJECT_${unit}=\"$<TARGET_OBJECTS:castnet_isa_export_${unit}>\"")
  endforeach()
  target_compile_options(castnet_isa_export_avx2 PRIVATE -mavx2 -mfma)
endif()

castnet_test_folder(isa isa)
target_link_libraries(castnet_isa_tests PRIVATE ${isa_link_units})
target_compile_definitions(castnet_isa_tests PRIVATE ${isa_link_defs}
  CASTNET_ISA_LINK_SPEC="${CMAKE_CURRENT_SOURCE_DIR}/isa/specs/isa_link.toml" CASTNET_NM="${CMAKE_NM}")
if(isa_link_x86)
  add_dependencies(castnet_isa_tests ${isa_probe_units} ${isa_export_units})
  target_compile_definitions(castnet_isa_tests PRIVATE CASTNET_ISA_LINK_X86)
  foreach(arch IN LISTS isa_link_arches)
    target_compile_definitions(castnet_isa_link_${arch} PRIVATE CASTNET_ISA_LINK_X86)
  endforeach()
endif()

# Run-time dispatch (isa/dispatch_test.cpp): the same spec built with ARCH dispatch into a program of
# its own, which the test runs under every CASTNET_ISA, and whose library it reads with nm and objdump.
castnet_add_model(isa_dispatch SPEC isa/specs/isa_link.toml ARCH dispatch)
target_link_libraries(isa_dispatch PRIVATE castnet_warnings)  # its units compile warning-free
add_executable(castnet_isa_dispatch_driver isa/dispatch/driver.cpp)
target_link_libraries(castnet_isa_dispatch_driver PRIVATE isa_dispatch castnet_warnings)
add_dependencies(castnet_isa_tests castnet_isa_dispatch_driver)
target_compile_definitions(castnet_isa_tests PRIVATE
  CASTNET_ISA_DISPATCH_DRIVER="$<TARGET_FILE:castnet_isa_dispatch_driver>"
  CASTNET_ISA_DISPATCH_LIBRARY="$<TARGET_FILE:isa_dispatch>" CASTNET_OBJDUMP="${CMAKE_OBJDUMP}")
castnet_add_model(isa_export_dispatch SPEC golden/specs/xor.toml WEIGHTS golden/weights/xor.safetensors NAMESPACE xor_net
                  ARCH dispatch)
target_link_libraries(isa_export_dispatch PRIVATE castnet_warnings)
add_executable(castnet_isa_export_dispatch_driver isa/dispatch/export_driver.cpp)
target_link_libraries(castnet_isa_export_dispatch_driver PRIVATE isa_export_dispatch castnet_warnings)
add_dependencies(castnet_isa_tests castnet_isa_export_dispatch_driver)
target_compile_definitions(castnet_isa_tests PRIVATE
  CASTNET_ISA_EXPORT_DISPATCH_DRIVER="$<TARGET_FILE:castnet_isa_export_dispatch_driver>")
