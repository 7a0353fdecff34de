#!/bin/bash
# Write the table of per-container figures (build/fields_md, from
# tools/core/fields.h) into tools/README.md between its fields markers.
# With --check, change nothing and fail if the README's copy differs.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
readme=$TOP/tools/README.md
begin='<!-- fields: generated from tools/core/fields.h by make docs; do not edit -->'
end='<!-- fields: end -->'
grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" ||
	{ echo "update-readme: no fields markers in $readme" >&2; exit 1; }
new=$(mktemp)
trap 'rm -f "$new"' EXIT
awk -v b="$begin" -v e="$end" -v gen="$TOP/build/fields_md" '
	$0 == b { print; while ((gen | getline l) > 0) print l; close(gen); skip = 1; next }
	$0 == e { skip = 0 }
	!skip' "$readme" > "$new"
if [ "${1:-}" = --check ]; then
	cmp -s "$new" "$readme" || { echo "tools/README.md's table of figures is not tools/core/fields.h's: run make docs"; exit 1; }
	exit 0
fi
cp "$new" "$readme"
