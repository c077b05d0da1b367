# castnet_warnings: the warning set every castnet target and every generated model compiles with.
add_library(castnet_warnings INTERFACE)
target_compile_options(castnet_warnings INTERFACE -Wall -Wextra -Werror
  # GCC 12 reports a false -Wrestrict inside libstdc++'s std::string operator+ at -O3 (GCC bug
  # 105329, fixed in 13); the warning stays on for every other compiler.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
add_library(castnet::warnings ALIAS castnet_warnings)
