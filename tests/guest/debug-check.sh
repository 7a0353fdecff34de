#!/bin/bash
# The scenario matrix on the debug kernel (lockdep, KASAN, kmemleak): the
# scenarios must pass and the kernel must report nothing: no lockdep splat,
# KASAN report, kmemleak leak (after forced scans), WARN or BUG.
#   lab/run.sh --flavour debug -- tests/guest/debug-check.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KML=/sys/kernel/debug/kmemleak
[ -e "$KML" ] || die "no $KML: this is not the debug kernel (lab/run.sh --flavour debug)"
grep -q 'lock_stat\|lockdep' /proc/lockdep_stats 2>/dev/null || [ -e /proc/lockdep ] ||
	die "no lockdep in this kernel"
# Forget what boot left behind; only what the scenarios leak counts.
echo scan > "$KML"; echo clear > "$KML"
dmesg -c > "$OUT/dmesg-boot.txt"
grep -qE 'KASAN|kmemleak: .*leak|WARNING:|BUG:|possible circular|lockdep' "$OUT/dmesg-boot.txt" &&
	echo "note: boot already reported: $(grep -cE 'WARNING:|BUG:' "$OUT/dmesg-boot.txt") lines (see dmesg-boot.txt)"

"$(dirname "$0")/scenarios.sh" "$@"
scen=$?

# kmemleak reports an object only after it was seen unreferenced twice.
echo scan > "$KML"; sleep 5; echo scan > "$KML"
cat "$KML" > "$OUT/kmemleak.txt"
dmesg > "$OUT/dmesg.txt"
T_PASS=0 T_FAIL=0
check_eq "scenario matrix on the debug kernel (exit status)" "$scen" 0
check_eq "kmemleak: unreferenced objects" "$(grep -c '^unreferenced object' "$OUT/kmemleak.txt")" 0
check_eq "KASAN reports" "$(grep -c 'BUG: KASAN' "$OUT/dmesg.txt")" 0
check_eq "lockdep reports" "$(grep -cE 'possible circular locking|possible recursive locking|inconsistent lock state|lock held when returning|suspicious RCU usage|INFO: lockdep' "$OUT/dmesg.txt")" 0
check_eq "WARN/BUG reports" "$(grep -cE '(WARNING|BUG): ' "$OUT/dmesg.txt")" 0
check_eq "lockdep still enabled at the end" "$(grep -c 'debug_locks: *1' /proc/lockdep_stats)" 1
summary
