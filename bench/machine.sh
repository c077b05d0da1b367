# shellcheck shell=bash
# Sourced by the scripts that write bench/*.md: the lines naming the machine the figures come from.

# The CPU's model, its logical CPUs and the SIMD instruction sets it has (as /proc/cpuinfo names
# them), which decide what the runners' -march=native builds.
cpu_line() {
  local model flags isa=() f
  model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  flags=" $(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | cut -d: -f2-) "
  for f in sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 amx_tile \
    asimd sve sve2; do
    [[ $flags == *" $f "* ]] && isa+=("$f")
  done
  echo "${model:-unknown model}, $(nproc) logical CPUs; SIMD: ${isa[*]:-none of those listed}"
}

compiler_line() { echo "$(g++ --version | head -n1); generated code at -O3 -march=native"; }

package_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
