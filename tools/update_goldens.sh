#!/usr/bin/env bash
# Regenerates the checked-in expectations: tests/golden/expected/*.hpp (generated headers),
# *.ir.txt (the IR after the passes) and tests/errors/expected.txt (diagnostics). The only way
# they should change; review the diff.
# usage: tools/update_goldens.sh [path/to/castnet-gen]   (default: build/bin/castnet-gen; the
#        castnet CLI is expected beside it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen=$(realpath "${1:-$root/build/bin/castnet-gen}")
cli=$(dirname "$gen")/castnet

cd "$root/tests/golden/specs"
for spec in *.toml; do
  "$gen" "$spec" -o "$root/tests/golden/expected" --header-name "${spec%.toml}.hpp"
  "$cli" check "$spec" --ir > "$root/tests/golden/expected/${spec%.toml}.ir.txt"
done

cd "$root/tests/errors/specs"
{
  echo "# spec<TAB>exact first line of stderr from castnet-gen (run from this folder). Regenerate: tools/update_goldens.sh"
  for spec in *.toml; do
    printf '%s\t%s\n' "$spec" "$("$gen" "$spec" -o /nonexistent/never-written 2>&1 | head -n 1 || true)"
  done
} > "$root/tests/errors/expected.txt"
echo "goldens updated; review: git diff tests/"
