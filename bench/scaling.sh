#!/usr/bin/env bash
# Writes bench/SCALING.md: data-parallel training throughput of `castnet train` on MNIST
# (specs/mnist_mlp.toml, batch 64): samples/s at 1 and 2 threads, and at 1 and 2 MPI ranks
# (mpirun on this machine), with 2 threads per rank as well. The configurations take turns, each
# repeated, and every epoch's samples/s (metrics.csv; the epoch's training steps only, not the
# validation pass) counts; the table gives the median and the ratio to the 1-thread median of the
# same run. Run it through `./castnet bench --scaling`, which builds castnet (with MPI) first.
#   bench/scaling.sh CASTNET_CLI [REPETITIONS (3)] [EPOCHS per run (2)]
set -euo pipefail
cli=$(readlink -f -- "$1")
reps=${2:-3}
epochs=${3:-2}
bench=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
cd -- "$bench/.."
spec=specs/mnist_mlp.toml
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# Open MPI refuses to run as root unless told (containers). It binds each of 2 ranks to a core,
# which keeps the shared-memory allreduce of the gradients fast (0.48 ms for mnist_mlp's 3.7 MB
# here, against 2.6 ms with --bind-to none); ranks with 2 threads need --bind-to none to use both.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --oversubscribe)

configs=("1 thread" "2 threads" "1 rank (MPI)" "2 ranks (MPI)" "2 ranks x 2 threads")
run_config() {  # run_config INDEX OUT_DIR
  local train=(train "$spec" --epochs "$epochs" --out "$2")
  case $1 in
    0) "$cli" "${train[@]}" ;;
    1) "$cli" "${train[@]}" --threads 2 ;;
    2) "${mpirun[@]}" -np 1 "$cli" "${train[@]}" ;;
    3) "${mpirun[@]}" -np 2 "$cli" "${train[@]}" ;;
    4) "${mpirun[@]}" --bind-to none -np 2 "$cli" "${train[@]}" --threads 2 ;;
  esac
}

if ! command -v mpirun >/dev/null 2>&1; then
  echo "scaling: mpirun not found (Debian: openmpi-bin); ./castnet bench --scaling installs it" >&2
  exit 1
fi
# Compile every runner (and fetch MNIST) before timing anything.
for i in "${!configs[@]}"; do run_config "$i" "$work/warm$i" >/dev/null 2>&1 || {
  echo "scaling: '${configs[$i]}' failed:" >&2
  run_config "$i" "$work/warm$i" >&2
  exit 1
}; done

for ((r = 1; r <= reps; ++r)); do
  for i in "${!configs[@]}"; do
    echo "scaling: repetition $r/$reps: ${configs[$i]}" >&2
    run_config "$i" "$work/run$i-$r" >/dev/null 2>&1
    # samples_per_s is the 7th column of metrics.csv.
    tail -n +2 "$work/run$i-$r/metrics.csv" | cut -d, -f7 >>"$work/samples$i"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
base=$(median <"$work/samples0")
{
  echo "<!-- Written by \`./castnet bench --scaling\` (bench/scaling.sh); do not edit by hand. -->"
  echo "# Data-parallel scaling: castnet train on MNIST"
  echo
  echo "\`$spec\` (784-512-512-512-10, batch 64, momentum SGD), $epochs epochs per run, $reps runs per"
  echo "configuration, taking turns; samples/s of each epoch's training steps (54,000 rows), median over"
  echo "the $((reps * epochs)) epochs. Every configuration trains with the same global batch of 64 and ends"
  echo "with the same weights to float rounding."
  echo
  echo "| configuration | workers | samples/s (median) | min | max | vs 1 thread |"
  echo "|---|---:|---:|---:|---:|---:|"
  workers=(1 2 1 2 4)
  for i in "${!configs[@]}"; do
    m=$(median <"$work/samples$i")
    lo=$(sort -g "$work/samples$i" | head -n1)
    hi=$(sort -g "$work/samples$i" | tail -n1)
    printf '| %s | %s | %.0f | %.0f | %.0f | %.2fx |\n' "${configs[$i]}" "${workers[$i]}" "$m" "$lo" "$hi" \
      "$(awk -v a="$m" -v b="$base" 'BEGIN { print a / b }')"
  done
  echo
  echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
       "$(mpirun --version 2>/dev/null | head -n1); $(date -u +%Y-%m-%d)."
} >bench/SCALING.md
echo "scaling: wrote bench/SCALING.md" >&2
