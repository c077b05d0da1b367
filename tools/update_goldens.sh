#!/usr/bin/env bash
# Regenerates the checked-in expectations: tests/golden/expected/*.hpp (generated headers, and an
# exported one), *.ir.txt (the IR after the passes) and tests/errors/expected.txt (diagnostics).
# The only way they should change; review the diff.
# usage: tools/update_goldens.sh [path/to/castnet-gen]   (default: build/bin/castnet-gen; the
#        castnet CLI is expected beside it)
#
# Any failure stops the script with a non-zero exit: a golden spec that castnet-gen or castnet
# rejects, or an error spec that castnet-gen does not reject with exit code 1 and a first stderr
# line "<spec>:<line>:...". expected.txt is replaced only when every error spec passes, and an
# .ir.txt only when its command succeeded.
set -euo pipefail
shopt -s nullglob
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=$(realpath -m "${1:-$root/build/bin/castnet-gen}")  # -m: a missing path gets the message below
cli=$(dirname "$gen")/castnet

for tool in "$gen" "$cli"; do
  if [[ ! -x $tool ]]; then
    echo "update_goldens: $tool not found or not executable (build first, or pass the path to castnet-gen)" >&2
    exit 1
  fi
done

tmp_files=()
tmp_dir=$(mktemp -d)
cleanup() {
  rm -rf "$tmp_dir"
  if ((${#tmp_files[@]})); then rm -f "${tmp_files[@]}"; fi
}
trap cleanup EXIT

cd "$root/tests/golden/specs"
golden_specs=(*.toml)
if ((${#golden_specs[@]} == 0)); then
  echo "update_goldens: no specs in tests/golden/specs" >&2
  exit 1
fi
for spec in "${golden_specs[@]}"; do
  name=${spec%.toml}
  "$gen" "$spec" -o "$root/tests/golden/expected" --header-name "$name.hpp"
  # Written beside its destination and moved into place only when castnet succeeded.
  ir=$(mktemp "$root/tests/golden/expected/.$name.ir.txt.XXXXXX")
  tmp_files+=("$ir")
  chmod 0644 "$ir"  # mktemp makes it 0600
  "$cli" check "$spec" --ir > "$ir"
  mv -f "$ir" "$root/tests/golden/expected/$name.ir.txt"
done
# Goldens of options: golden_test.cpp's kVariants, the same list.
"$gen" xor.toml -o "$root/tests/golden/expected" --header-name xor_arch_scalar.hpp --arch scalar
"$gen" xor.toml -o "$root/tests/golden/expected" --header-name xor_export.hpp --weights ../weights/xor.safetensors

cd "$root/tests/errors/specs"
error_specs=(*.toml)
if ((${#error_specs[@]} == 0)); then
  echo "update_goldens: no specs in tests/errors/specs" >&2
  exit 1
fi
expected=$(mktemp "$root/tests/errors/.expected.txt.XXXXXX")
tmp_files+=("$expected")
chmod 0644 "$expected"
echo "# spec<TAB>exact first line of stderr from castnet-gen (run from this folder). Regenerate: tools/update_goldens.sh" > "$expected"
failures=0
for spec in "${error_specs[@]}"; do
  out="$tmp_dir/gen-${spec%.toml}"
  # stderr only (stdout discarded); the exit code is kept rather than stopping set -e.
  if err=$("$gen" "$spec" -o "$out" 2>&1 >/dev/null); then rc=0; else rc=$?; fi
  first=${err%%$'\n'*}
  rest=${first#"$spec:"}
  problem=""
  if ((rc != 1)); then
    problem="castnet-gen exited with code $rc, expected exactly 1"
  elif [[ $first != "$spec:"* ]] || ! [[ $rest =~ ^[0-9]+: ]]; then
    problem="the first stderr line does not start with '$spec:<line>:'"
  elif [[ -e $out ]]; then
    problem="castnet-gen rejected the spec but wrote $out"
  fi
  if [[ -n $problem ]]; then
    echo "update_goldens: tests/errors/specs/$spec: $problem" >&2
    echo "  first stderr line: ${first:-<empty>}" >&2
    failures=$((failures + 1))
    continue
  fi
  printf '%s\t%s\n' "$spec" "$first" >> "$expected"
done
if ((failures)); then
  echo "update_goldens: $failures error spec(s) failed; tests/errors/expected.txt left unchanged" >&2
  exit 1
fi
mv -f "$expected" "$root/tests/errors/expected.txt"
echo "goldens updated; review: git diff tests/"
