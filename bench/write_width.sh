#!/usr/bin/env bash
# Writes bench/WIDTH.md: batch-1 latency across widths, the 8-W-W-1 tanh MLPs of
# bench/specs/width/ (mse, batch 64), with the contenders generated, export and Eigen (where castnet
# was built with it). Each width is one `castnet bench` process, so its contenders are interleaved
# in one run and compared with each other only; a summary table gathers the widths' medians (from
# the suite's --csv lines), then each width's own table follows. Run it through
# `./castnet bench --width`, which installs the peers and builds castnet first. Each instruction
# set of --arch (castnet bench's default: every one the CPU runs) gets its own summary and tables.
#   bench/write_width.sh CASTNET_CLI [--out FILE] [--repetitions N] [--min-time S] [--arch A,B] [WIDTH...]
# Defaults: bench/WIDTH.md, 11 repetitions of 0.1 s, every width that has a spec.
set -euo pipefail
cli=$(readlink -f -- "$1")
shift
bench=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
# shellcheck source=bench/machine.sh
source "$bench/machine.sh"
out=$bench/WIDTH.md reps=11 min_time=0.1 arch=() widths=()
while (($#)); do
  case $1 in
    --out) out=$(readlink -f -- "$2"); shift ;;
    --repetitions) reps=$2; shift ;;
    --min-time) min_time=$2; shift ;;
    --arch) arch=(--arch "$2"); shift ;;
    -*) echo "usage: write_width.sh CASTNET_CLI [--out FILE] [--repetitions N] [--min-time S] [--arch A,B] [WIDTH...]" >&2; exit 2 ;;
    *) widths+=("$1") ;;
  esac
  shift
done
# The tables name the specs relative to the repository.
cd -- "$bench/.."
specs=bench/specs/width
if ((${#widths[@]} == 0)); then
  for f in "$specs"/width_*.toml; do
    f=${f##*/width_}
    widths+=("${f%.toml}")
  done
  mapfile -t widths < <(printf '%s\n' "${widths[@]}" | sort -n)
fi
for w in "${widths[@]}"; do
  [[ -f $specs/width_$w.toml ]] || { echo "write_width.sh: no spec $specs/width_$w.toml" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

for w in "${widths[@]}"; do
  echo "castnet: width $w" >&2
  "$cli" bench "$specs/width_$w.toml" --workloads latency --contenders generated,export,eigen "${arch[@]}" \
    --repetitions "$reps" --min-time "$min_time" --title "W = $w: MLP 8-$w-$w-1, tanh" \
    --markdown "$work/tables.md" --csv "$work/$w.csv" >&2
done

# The instruction sets the runs timed, in order: the "(avx2)" that castnet bench appends to each
# one's title (none when it ran the machine's own build alone).
mapfile -t isas < <(awk -F, '{ if (match($0, /\(([a-z0-9]+)\)",/)) t = substr($0, RSTART, RLENGTH - 2); else t = ""; if (!(t in seen)) { seen[t]; print t } }' "$work/${widths[0]}.csv")

# One width's median, min and max of a contender on instruction set $2 ("(avx2)" or empty), in ns,
# from its CSV lines (the contender's name is the fourth field from the end; the title before it may
# hold commas). Empty if it was not timed.
ns() {
  awk -F, -v isa="$2" -v who="\"$3\"" '$(NF - 3) == who && (isa == "" || index($0, isa "\",")) {
      printf "%.17g %.17g %.17g", $(NF - 2) * 1e9, $(NF - 1) * 1e9, $NF * 1e9 }' "$work/$1.csv"
}
# "median (min–max)", each rounded as the suite's tables round (suite.cpp's sig()), and the ratio
# of median a to median b.
cell() {
  [[ -n $1 ]] || { echo "–"; return; }
  awk -v m="$1" -v lo="$2" -v hi="$3" '
    function sig(v,  a) { a = v < 0 ? -v : v; return sprintf("%." (a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3) "f", v) }
    BEGIN { printf "%s (%s–%s)", sig(m), sig(lo), sig(hi) }'
}
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }' || echo "–"; }

{
  echo "<!-- Written by \`./castnet bench --width\` (bench/write_width.sh); do not edit by hand. -->"
  echo "# Batch-1 latency across widths"
  echo
  echo "Run on $(date -u +%Y-%m-%d) by \`./castnet bench --width\`. How to read the tables: bench/README.md."
  echo
  echo "- CPU: $(cpu_line)"
  echo "- Compiler: $(compiler_line)"
  echo "- Debian packages: libxsimd-dev $(package_version libxsimd-dev), libbenchmark-dev" \
    "$(package_version libbenchmark-dev), libeigen3-dev $(package_version libeigen3-dev)"
  echo
  echo "The nets: \`$specs/width_W.toml\`, input 8, dense W tanh, dense W tanh, dense 1 (mse, batch 64)."
  echo "One call is one sample's forward pass, each call's input depending on the previous output. Each"
  echo "width is one run, its contenders interleaved ($reps repetitions of at least $min_time s each); ratios"
  echo "are of medians of the same run. export is the header \`castnet export\` writes (its predict())."
  echo
  for isa in "${isas[@]}"; do
    [[ -z $isa ]] || { echo "## Summary $isa"; echo; }
    echo "| W | generated ns: median (min–max) | export ns | export / generated | Eigen 1T ns | Eigen 1T / generated |"
    echo "|---:|---|---|---:|---|---:|"
    for w in "${widths[@]}"; do
      read -r g g_lo g_hi <<<"$(ns "$w" "$isa" generated)" || true
      read -r e e_lo e_hi <<<"$(ns "$w" "$isa" export)" || true
      read -r k k_lo k_hi <<<"$(ns "$w" "$isa" "Eigen 1T")" || true
      echo "| $w | $(cell "$g" "$g_lo" "$g_hi") | $(cell "$e" "$e_lo" "$e_hi") | $(ratio "$e" "$g") |" \
        "$(cell "$k" "$k_lo" "$k_hi") | $(ratio "$k" "$g") |"
    done
    echo
  done
  cat "$work/tables.md"
} >"$work/WIDTH.md"
mv -- "$work/WIDTH.md" "$out"
echo "castnet: wrote $out" >&2
