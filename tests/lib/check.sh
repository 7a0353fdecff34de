# The one pass/fail vocabulary of the shell tests, host and guest alike.
# Source it.  pass, fail and skip print one line each ("ok: ...",
# "FAIL: ...", "skip: ..."), and summary the line tests/run-tiers.sh and
# tests/host/lab/run-in-lab.sh read: "[WHO: ]N passed, N failed[, N skipped]"
# (skipped when a check was skipped or SKIP_TAGS says checks may be); its
# status is 0 when nothing failed.

T_PASS=0 T_FAIL=0 T_SKIP=0

pass() { echo "ok: $*"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL: $*"; T_FAIL=$((T_FAIL + 1)); }
skip() { echo "skip: $*"; T_SKIP=$((T_SKIP + 1)); }

# summary [WHO]
summary() {
	local skipped=
	[ "$T_SKIP" -gt 0 ] || [ -n "${SKIP_TAGS:-}" ] && skipped=", $T_SKIP skipped"
	echo "${1:+$1: }$T_PASS passed, $T_FAIL failed$skipped"
	[ "$T_FAIL" -eq 0 ]
}
