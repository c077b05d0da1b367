# castnet_add_model(): one CMake target per network spec.
#
#   castnet_add_model(<name> SPEC <file.toml>
#                     [REAL float|double]            # scalar type of the generated code
#                     [NAMESPACE <ns>]               # C++ namespace (default: <name>, so that a
#                                                    # training and a WEIGHTS target of one spec
#                                                    # can meet in one program)
#                     [BATCH <n>]                    # plan for n samples per step, not the spec's
#                                                    # batch (a data-parallel worker's shard; with
#                                                    # WEIGHTS: the rows predict_batch runs at once)
#                     [ARCH native|avx512|avx2|sse4|neon|scalar|dispatch]  # instruction set, see below
#                     [WEIGHTS <file.safetensors>]   # the standalone inference header instead (ARCH:
#                                                    # dispatch only),
#                                                    # these weights baked in (castnet export)
#                     [QUANTIZE int8|bf16])          # with WEIGHTS: dense and conv2d weights stored
#                                                    # as int8 (per output channel) or bf16
#                                                    # (castnet export --quantize)
#
# Creates
#   <name>         INTERFACE library: link it, then `#include "<name>.hpp"`. It brings castnet::simd,
#                  which imposes C++20 (the training header uses concepts) and, while castnet is
#                  configured with CASTNET_NATIVE (the default), -march=native: configure castnet
#                  with -DCASTNET_NATIVE=OFF, or give ARCH, for binaries that run on other CPUs.
#                  With WEIGHTS: C++17 and nothing else (the header needs only the standard library)
#   <name>_gen     the custom target that runs the generator
#   <name>.update  runs the generator unconditionally (e.g. `ninja <name>.update`)
#
# ARCH generates the header with `--arch` (it then refuses to compile without that instruction set)
# and adds the compile flags to the target: avx512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma
# -mavx2; avx2 -mavx2 -mfma -mno-avx512f; sse4 -msse4.2 -mno-avx; native -march=native; neon none
# (AArch64 only); scalar defines CASTNET_SIMD_SCALAR (plain C++ kernels, castnet/kernels/simd_scalar.hpp).
# The -mno-* flags cap the vector width even beside CASTNET_NATIVE's -march=native (GCC and Clang
# let an explicit -m flag win over -march in any order); for a binary that runs on other machines,
# configure castnet with -DCASTNET_NATIVE=OFF as well. The flags reach every file that links the
# target, so models with different ARCH go into different targets (and translation units); what is
# compiled per instruction set (the runtime's kernels, losses, dropout and random numbers, and the
# model's own functions) is named after it and the SIMD backend (kernels/simd_base.hpp), so they can
# share a program, even models of one spec under one NAMESPACE.
# Without ARCH the compile flags alone decide, as before.
#
# ARCH dispatch makes <name> a STATIC library instead: the header declares the model, and a unit per
# instruction set of the target's family (x86-64: scalar, sse4, avx2, avx512; AArch64: scalar, neon),
# each compiled with its flags, defines its functions; <name>_dispatch.cpp, compiled with no
# instruction-set flag, picks the widest the CPU runs at the first call (CASTNET_ISA=<isa> forces one).
# It builds on castnet::simd_portable, not castnet::simd, so CASTNET_NATIVE's -march=native reaches
# none of these units and the library runs on any CPU of the family. With WEIGHTS, the same for the
# exported header (castnet export --dispatch): C++17 and nothing else.
#
# The header is <current binary dir>/castnet_generated/<name>/<name>.hpp. It is regenerated when
# the spec, the weights or the generator change (the templates are embedded in the generator, so
# the generator target covers them); castnet-gen writes a depfile naming every file it read and
# rewrites the header only when its bytes change, so an unchanged spec never causes a recompile. A
# relative SPEC or WEIGHTS path is relative to CMAKE_CURRENT_SOURCE_DIR; the weights may be the
# OUTPUT of another custom command (a training step). Works in the castnet build tree (castnet::gen
# is a build target) and through find_package(castnet) (an imported one).
# Uses target-scoped commands only.

include_guard(GLOBAL)

# include() pushes a policy scope and functions keep the policies of their definition: DEPFILE
# paths are relative to the current binary dir (CMP0116), whatever the caller's minimum version.
if(POLICY CMP0116)
  cmake_policy(SET CMP0116 NEW)
endif()

# castnet_arch_flags(<arch> <var>): the compile flags of an x86 ARCH (avx512, avx2, sse4) into
# <var>, empty for any other: they select it even beside -march=native (the -mno-* keep the width).
# castnet's bench builds its per-instruction-set libraries with them too, and
# generator/emit/arch.cpp (build_flags) names the same: keep the two in step. A function, not
# variables: functions are global, and this file is included once (include_guard).
function(castnet_arch_flags arch var)
  set(flags "")
  if(arch STREQUAL "avx512")
    set(flags -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mavx2)
  elseif(arch STREQUAL "avx2")
    set(flags -mavx2 -mfma -mno-avx512f)
  elseif(arch STREQUAL "sse4")
    set(flags -msse4.2 -mno-avx)
  endif()
  set(${var} ${flags} PARENT_SCOPE)
endfunction()

function(castnet_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SPEC;WEIGHTS;REAL;NAMESPACE;BATCH;ARCH;QUANTIZE" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "castnet_add_model(${name}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "castnet_add_model(${name}): the name must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
  endif()
  if("WEIGHTS" IN_LIST arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "castnet_add_model(${name}): WEIGHTS needs a safetensors file")
  endif()
  if(NOT arg_SPEC)
    message(FATAL_ERROR "castnet_add_model(${name}): SPEC <file> is required")
  endif()
  if(NOT TARGET castnet::gen)
    message(FATAL_ERROR "castnet_add_model(${name}): no castnet::gen target; "
                        "use find_package(castnet) or add_subdirectory(castnet) first")
  endif()

  cmake_path(ABSOLUTE_PATH arg_SPEC BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
             OUTPUT_VARIABLE spec)
  if(NOT EXISTS "${spec}")
    message(FATAL_ERROR "castnet_add_model(${name}): spec not found: ${spec}")
  endif()

  set(gen_args "")
  set(weights "")
  set(weights_comment "")
  if(DEFINED arg_WEIGHTS)
    if(DEFINED arg_REAL OR (DEFINED arg_ARCH AND NOT arg_ARCH STREQUAL "dispatch"))
      message(FATAL_ERROR "castnet_add_model(${name}): REAL and ARCH do not apply with WEIGHTS, but ARCH dispatch "
                          "(an exported model is portable C++ in float; compile it with the flags of your choice)")
    endif()
    cmake_path(ABSOLUTE_PATH arg_WEIGHTS BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
               OUTPUT_VARIABLE weights)
    get_source_file_property(weights_generated "${weights}" GENERATED)
    if(NOT EXISTS "${weights}" AND NOT weights_generated)
      message(FATAL_ERROR "castnet_add_model(${name}): weights not found: ${weights}")
    endif()
    list(APPEND gen_args --weights "${weights}")
    set(weights_comment " with the weights of ${arg_WEIGHTS}")
  endif()
  if(DEFINED arg_QUANTIZE OR "QUANTIZE" IN_LIST arg_KEYWORDS_MISSING_VALUES)
    if(NOT DEFINED arg_WEIGHTS)
      message(FATAL_ERROR "castnet_add_model(${name}): QUANTIZE applies to an exported header: give WEIGHTS too")
    endif()
    if(NOT arg_QUANTIZE MATCHES "^(int8|bf16)$")
      message(FATAL_ERROR "castnet_add_model(${name}): QUANTIZE must be int8 or bf16, not '${arg_QUANTIZE}'")
    endif()
    list(APPEND gen_args --quantize "${arg_QUANTIZE}")
    string(APPEND weights_comment " (${arg_QUANTIZE})")
  endif()
  if(DEFINED arg_REAL)
    if(NOT arg_REAL MATCHES "^(float|double)$")
      message(FATAL_ERROR "castnet_add_model(${name}): REAL must be float or double, not '${arg_REAL}'")
    endif()
    list(APPEND gen_args --real "${arg_REAL}")
  endif()
  if(DEFINED arg_NAMESPACE)
    list(APPEND gen_args --namespace "${arg_NAMESPACE}")
  else()
    list(APPEND gen_args --namespace "${name}")
  endif()
  if(DEFINED arg_BATCH)
    if(NOT arg_BATCH MATCHES "^[1-9][0-9]*$")
      message(FATAL_ERROR "castnet_add_model(${name}): BATCH must be a positive integer, not '${arg_BATCH}'")
    endif()
    list(APPEND gen_args --batch "${arg_BATCH}")
  endif()
  set(arch_options "")
  set(arch_definitions "")
  if(DEFINED arg_ARCH OR "ARCH" IN_LIST arg_KEYWORDS_MISSING_VALUES)
    if(arg_ARCH MATCHES "^(avx512|avx2|sse4)$")
      castnet_arch_flags(${arg_ARCH} arch_options)
    elseif(arg_ARCH STREQUAL "native")
      set(arch_options -march=native)
    elseif(arg_ARCH STREQUAL "scalar")
      set(arch_definitions CASTNET_SIMD_SCALAR)
    elseif(NOT arg_ARCH MATCHES "^(neon|dispatch)$")
      message(FATAL_ERROR "castnet_add_model(${name}): ARCH must be one of native, avx512, avx2, sse4, neon, "
                          "scalar, dispatch, not '${arg_ARCH}'")
    endif()
    if(arg_ARCH MATCHES "^(avx512|avx2|sse4)$" AND
       NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
      message(FATAL_ERROR "castnet_add_model(${name}): ARCH ${arg_ARCH} is an x86 instruction set, but the "
                          "target processor is '${CMAKE_SYSTEM_PROCESSOR}' (use neon, native or scalar)")
    endif()
    if(arg_ARCH STREQUAL "neon" AND NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
      message(FATAL_ERROR "castnet_add_model(${name}): ARCH neon needs an AArch64 target, but the target "
                          "processor is '${CMAKE_SYSTEM_PROCESSOR}' (cross-compile with an AArch64 toolchain "
                          "file, or use native, avx512, avx2, sse4 or scalar)")
    endif()
    list(APPEND gen_args --arch "${arg_ARCH}")
  endif()

  set(outdir "${CMAKE_CURRENT_BINARY_DIR}/castnet_generated/${name}")
  set(header "${outdir}/${name}.hpp")
  set(depfile "${CMAKE_CURRENT_BINARY_DIR}/castnet_generated/${name}.d")
  set(command castnet::gen "${spec}" -o "${outdir}" --header-name "${name}.hpp" ${gen_args})

  # DEPFILE works with Ninja and (CMake >= 3.20) Makefile generators; elsewhere the explicit
  # DEPENDS below still cover the spec and the generator.
  set(depfile_args "")
  if(CMAKE_GENERATOR MATCHES "Ninja|Makefiles")
    set(depfile_args DEPFILE "${depfile}")
    list(APPEND command --depfile "${depfile}")
  endif()

  # ARCH dispatch: the units beside the header, and their family's instruction sets.
  set(units "")
  set(unit_arches "")
  if(arg_ARCH STREQUAL "dispatch")
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
      set(unit_arches scalar sse4 avx2 avx512)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
      set(unit_arches scalar neon)
    else()
      set(unit_arches scalar)
    endif()
    cmake_path(GET header STEM LAST_ONLY stem)
    foreach(arch IN LISTS unit_arches ITEMS dispatch)
      list(APPEND units "${outdir}/${stem}_${arch}.cpp")
    endforeach()
    if(weights)
      list(APPEND units "${outdir}/${stem}_impl.hpp")  # the export the units compile
    endif()
    # The generator writes every family's units; the other family's are outputs nobody compiles.
    foreach(arch IN ITEMS scalar sse4 avx2 avx512 neon)
      if(NOT arch IN_LIST unit_arches)
        list(APPEND units "${outdir}/${stem}_${arch}.cpp")
      endif()
    endforeach()
  endif()

  add_custom_command(
    OUTPUT "${header}" ${units}
    COMMAND ${command}
    DEPENDS castnet::gen "${spec}" ${weights}
    ${depfile_args}
    # From the source dir, the header's banner names the spec relative to the project.
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "castnet: generating ${name}.hpp from ${arg_SPEC}${weights_comment}"
    VERBATIM)
  add_custom_target(${name}_gen DEPENDS "${header}")

  add_custom_target(${name}.update
    COMMAND ${command}
    DEPENDS castnet::gen
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "castnet: regenerating ${name}.hpp from ${arg_SPEC}"
    VERBATIM)

  if(units)
    set(compiled "")
    foreach(arch IN LISTS unit_arches ITEMS dispatch)
      set(unit "${outdir}/${stem}_${arch}.cpp")
      list(APPEND compiled "${unit}")
      castnet_arch_flags(${arch} unit_flags)
      if(arch STREQUAL "scalar" AND NOT weights)  # an export's scalar unit defines what it needs
        set_source_files_properties("${unit}" PROPERTIES COMPILE_DEFINITIONS CASTNET_SIMD_SCALAR)
      elseif(unit_flags)
        set_source_files_properties("${unit}" PROPERTIES COMPILE_OPTIONS "${unit_flags}")
      endif()
    endforeach()
    add_library(${name} STATIC ${compiled})
    target_include_directories(${name} PUBLIC "${outdir}")
    if(weights)
      target_compile_features(${name} PUBLIC cxx_std_17)
    else()
      target_link_libraries(${name} PUBLIC castnet::simd_portable)
    endif()
    add_dependencies(${name} ${name}_gen)
    return()
  endif()

  add_library(${name} INTERFACE)
  target_include_directories(${name} INTERFACE "${outdir}")
  if(weights)
    target_compile_features(${name} INTERFACE cxx_std_17)
  else()
    target_link_libraries(${name} INTERFACE castnet::simd)
    target_compile_options(${name} INTERFACE ${arch_options})
    target_compile_definitions(${name} INTERFACE ${arch_definitions})
  endif()
  add_dependencies(${name} ${name}_gen)
endfunction()
