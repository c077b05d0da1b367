#!/usr/bin/env bash
# Writes bench/RESULTS.md: the issue's five workloads (bench/specs/w*.toml), every contender in one
# process per table and instruction set (castnet bench's --arch, by default every one the CPU runs;
# each sets libtorch's ATEN_CPU_CAPABILITY and OPENBLAS_CORETYPE to match). Run it through
# `./castnet bench --results`, which installs the peers first.
#   bench/write_results.sh CASTNET_CLI [--arch A,B]
set -euo pipefail
cli=$(readlink -f -- "$1")
shift
arch=()
if (($# == 2)) && [[ $1 == --arch ]]; then
  arch=(--arch "$2")
elif (($#)); then
  echo "usage: write_results.sh CASTNET_CLI [--arch A,B]" >&2
  exit 2
fi
bench=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
# shellcheck source=bench/machine.sh
source "$bench/machine.sh"
# The tables name the specs relative to the repository.
cd -- "$bench/.."
specs=bench/specs
tables=$(mktemp)
trap 'rm -f -- "$tables" "$tables.md"' EXIT

run() { "$cli" bench "$@" "${arch[@]}" --markdown "$tables"; }

run "$specs/w1_mlp.toml" --workloads latency,tail --title "W1: MLP 8-32-32-1, tanh, one sample"
run "$specs/w2_mlp.toml" --workloads latency,tail --title "W2: MLP 784-128-10, ReLU, softmax, one sample"
run "$specs/w3_mlp.toml" --workloads step --title "W3: MLP 784-512-512-512-10, one SGD step at batch 64"
run "$specs/w3_mlp.toml" --workloads epoch --repetitions 5 --contenders generated,eigen,torch \
  --title "W3: one epoch over 60,000 shuffled samples"
run "$specs/w4_mlp.toml" --workloads batch --title "W4: the W3 net, forward, batch 256"
run "$specs/w5_cnn.toml" --workloads step --repetitions 7 --min-time 0.5 \
  --title "W5: ConvNet on 28x28x1, one SGD step at batch 64"
# The exported header's target: within 10% of the training header's forward at batch 1 and at the
# batch (W1, W2 and W4 above time the export too).
run "$specs/w2_mlp.toml" --workloads batch --contenders generated,export --title "W2 at batch 64, and its export"
run "$specs/w5_cnn.toml" --workloads batch --contenders generated,export --title "W5 at batch 64, and its export"


{
  echo "<!-- Written by \`./castnet bench --results\` (bench/write_results.sh); do not edit by hand. -->"
  echo "# Benchmark results"
  echo
  echo "Run on $(date -u +%Y-%m-%d) by \`./castnet bench --results\`. How to read the tables: bench/README.md."
  echo
  echo "- CPU: $(cpu_line)"
  echo "- Compiler: $(compiler_line)"
  echo "- Debian packages: libxsimd-dev $(package_version libxsimd-dev), libbenchmark-dev $(package_version libbenchmark-dev)," \
    "libeigen3-dev $(package_version libeigen3-dev), libtorch-dev $(package_version libtorch-dev)," \
    "libopenblas0-pthread $(package_version libopenblas0-pthread)"
  echo "- libblas.so.3 (what libtorch loads): $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
  echo
  cat "$tables"
} >"$tables.md"
mv -- "$tables.md" "$bench/RESULTS.md"
echo "castnet: wrote $bench/RESULTS.md" >&2
