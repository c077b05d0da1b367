#!/usr/bin/env bash
# Run-time dispatch's cost at batch 1: castnet_bench_dispatch (bench/dispatch/) once per
# instruction set this CPU runs that a single-ISA build exists for (AVX-512, AVX2), each forced with
# CASTNET_ISA and pinned to one CPU, its contenders interleaved at random over the repetitions.
# Prints a table of the medians (ns per dependent forward() call) and the dispatching build's ratio.
# Run it through `./castnet bench --dispatch`, which builds it first.
#   bench/dispatch.sh BUILD_DIR [--repetitions N] [--min-time S]     (defaults: 21 of 0.05 s)
set -euo pipefail
build=$(readlink -f -- "$1")
shift
bench=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
# shellcheck source=bench/machine.sh
source "$bench/machine.sh"
reps=21 min_time=0.05
while (($#)); do
  case $1 in
    --repetitions) reps=$2; shift ;;
    --min-time) min_time=$2; shift ;;
    *) echo "usage: dispatch.sh BUILD_DIR [--repetitions N] [--min-time S]" >&2; exit 2 ;;
  esac
  shift
done
exe=$build/bench/castnet_bench_dispatch
[[ -x $exe ]] || { echo "dispatch.sh: $exe is not built (./castnet bench --dispatch builds it)" >&2; exit 1; }
flags=" $(grep -m1 -E '^flags' /proc/cpuinfo | cut -d: -f2-) "
isas=()
[[ $flags == *" avx512f "* && $flags == *" avx512bw "* && $flags == *" avx512dq "* && $flags == *" avx512vl "* ]] && isas+=(avx512)
[[ $flags == *" avx2 "* && $flags == *" fma "* ]] && isas+=(avx2)
((${#isas[@]})) || { echo "dispatch.sh: this CPU runs neither AVX-512 nor AVX2, the single-ISA builds the bench has" >&2; exit 1; }
cpu=$(($(nproc) - 1))

echo "CPU: $(cpu_line)"
echo
echo "| workload | instruction set | single-ISA build | dispatch | dispatch / single |"
echo "|---|---|---:|---:|---:|"
for isa in "${isas[@]}"; do
  CASTNET_ISA=$isa taskset -c "$cpu" "$exe" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
    awk -F, -v isa="$isa" '
      # name,iterations,real_time,cpu_time,time_unit,... ; real_time is ns per 1000 calls
      $1 ~ /_median"?$/ { name = $1; gsub(/"/, "", name); split(name, p, "/"); sub(/_median$/, "", p[3]); t[p[1] "," p[3]] = $3 / 1000 }
      END {
        for (w = 1; w <= 2; ++w) {
          k = "W" w
          printf "| %s | %s | %.2f ns | %.2f ns | %.3f |\n", k, isa, t[k ",single"], t[k ",dispatch"], t[k ",dispatch"] / t[k ",single"]
        }
      }'
done
