# Host tier, sourced by run.sh: the offline tools (tools/offline/).
# `vfiopin compare` on bench files with known shifts (deterministic
# pseudo-random samples), its verdicts and exit statuses, its three output
# formats, and the input it must refuse; the arguments and missing pieces
# `vfiopin bench` and `vfiopin capture` refuse.

tmp=$(mktemp -d)
# every fixture: files with known shifts (tests/host/bench_cases.py)
python3 tests/host/bench_cases.py write "$tmp"
cases() { python3 tests/host/bench_cases.py check "$@"; }

cmp_rc() { build/vfiopin compare "$@" > "$tmp/out" 2> "$tmp/err"; echo $?; }
verdicts() { awk '$1 ~ /^pin_/ { print $NF }' "$tmp/out" | tr '\n' ' '; }

rc=$(cmp_rc "$tmp/base.json" "$tmp/same.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && pass "compare: identical files: unchanged, exit 0" ||
	fail "compare: identical: exit $rc, $(verdicts)"
rc=$(cmp_rc "$tmp/base.json" "$tmp/aa.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && pass "compare: two draws of the same noise: unchanged" ||
	fail "compare: A/A: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/base.json" "$tmp/slow.json")
[ "$rc $(verdicts)" = "1 regressed regressed " ] &&
	pass "compare: 20 % slower: both metrics regressed (latency up, pages/s down), exit 1" ||
	fail "compare: slow: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/base.json" "$tmp/fast.json")
[ "$rc $(verdicts)" = "0 improved improved " ] && pass "compare: 20 % faster: improved, exit 0" ||
	fail "compare: fast: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc --threshold 30 "$tmp/base.json" "$tmp/slow.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && pass "compare: a shift inside --threshold 30 is no verdict" ||
	fail "compare: threshold: exit $rc, $(cat "$tmp/out")"
# the estimate and its interval bracket the true +20 %
rc=$(cmp_rc --json "$tmp/base.json" "$tmp/slow.json")
if cases slow-20 "$tmp/out"; then
	pass "compare --json: change ~ +20 % inside its interval, p < 1e-6"
else
	fail "compare --json: $(cat "$tmp/out")"
fi
rc=$(cmp_rc --format markdown "$tmp/base.json" "$tmp/slow.json")
grep -q '^| pin_call_ns | ns |.*| \*\*regressed\*\* |$' "$tmp/out" && pass "compare: markdown table" ||
	fail "compare: markdown: $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/few-base.json" "$tmp/few.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && grep -q "too few samples (3 vs 3)" "$tmp/out" &&
	pass "compare: 3 samples: a warning, no verdict possible" || fail "compare: few: exit $rc, $(cat "$tmp/out")"

# six metrics, one of them shifted by 3.5 % (exact p = 0.029 on its own):
# significant alone, not once the six are tested together
rc=$(cmp_rc --json --threshold 0.1 "$tmp/h-base.json" "$tmp/h-new.json")
if [ "$rc" = 0 ] && cases holm-6 "$tmp/out"; then
	pass "compare: Holm over 6 metrics: p 0.029 adjusted to 6p, no verdict, exit 0"
else
	fail "compare: Holm: exit $rc, $(cat "$tmp/out")"
fi
rc=$(cmp_rc --correction none --threshold 0.1 "$tmp/h-base.json" "$tmp/h-new.json")
[ "$rc" = 1 ] && grep -q '^m0 .* regressed$' "$tmp/out" && grep -q "alpha 0.05 per metric" "$tmp/out" &&
	pass "compare --correction none: the same shift regressed on its own, exit 1" ||
	fail "compare --correction none: exit $rc, $(cat "$tmp/out")"

# a machine that drifts 2 % slower per run of 5 samples: four runs of A and
# then four of B look like +8 %; the same eight runs taken A B A B ... and
# pooled with `vs` put the drift on both sides (B trails A by one run, 2 %,
# inside the threshold)
rc=$(cmp_rc "$tmp"/seq-a*.json vs "$tmp"/seq-b*.json)
[ "$rc $(verdicts)" = "1 regressed " ] && grep -Eq "^pin_call_ns .* \+[78]\.[0-9]%" "$tmp/out" &&
	pass "compare: A then B on a drifting machine: the drift looks like ~+8 %, regressed" ||
	fail "compare: sequential drift: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc --json "$tmp"/alt-a*.json vs "$tmp"/alt-b*.json)
if [ "$rc" = 0 ] && cases pooled "$tmp/out"; then
	pass "compare: the same runs in turn, pooled with vs: 20 vs 20 samples, unchanged"
else
	fail "compare: pooled: exit $rc, $(cat "$tmp/out")"
fi
# the kernels each side ran on are named; a side pooling two kernels is warned of
rc=$(cmp_rc "$tmp/base.json" "$tmp/k2.json" vs "$tmp/k2.json")
[ "$rc" = 0 ] && grep -q "^base: 2 files, kernel test$" "$tmp/out" &&
	grep -q "^new: 1 file, kernel 6.1.0-vp (lab-0123)$" "$tmp/out" &&
	grep -q "warning: BASE pools runs of different kernels: test in .*base.json, 6.1.0-vp (lab-0123) in .*k2.json" "$tmp/err" &&
	pass "compare: each side's kernel named; a side of two kernels warned of" ||
	fail "compare: kernels: exit $rc, $(cat "$tmp/out" "$tmp/err")"
expect_fail "compare: pooled files of different workloads" \
	"seq-a0.json and .*/pt.json ran different workloads" build/vfiopin compare "$tmp/seq-a0.json" "$tmp/pt.json" vs "$tmp/seq-b0.json"
expect_fail "compare: vs with nothing after it" "needs files on both sides" build/vfiopin compare "$tmp/base.json" vs
expect_fail "compare: vs twice" "may appear once" build/vfiopin compare "$tmp/base.json" vs "$tmp/base.json" vs "$tmp/base.json"
expect_fail "compare: three files without vs" "or BASE.json... vs NEW.json..." \
	build/vfiopin compare "$tmp/base.json" "$tmp/base.json" "$tmp/base.json"

# --bisect, as `git bisect run` reads it: bad 1, good 0, skip 125, and 255
# (stop) for what would make every step meaningless.  Good needs the whole
# interval short of the threshold; a 20 % slowdown is bad past 10 %, good
# against 30 %, and cannot be told against 20 % (its interval straddles it)
bis() {
	local want=$1 what=$2
	shift 2
	rc=$(cmp_rc --bisect "$@")
	[ "$rc" = "$want" ] && pass "compare --bisect: $what: exit $rc, $(grep '^bisect:' "$tmp/out")" ||
		fail "compare --bisect: $what: exit $rc (wanted $want): $(cat "$tmp/out" "$tmp/err")"
}
bis 1 "20 % slower, --threshold 10%" --threshold 10% "$tmp/base.json" "$tmp/slow.json"
bis 0 "20 % slower, --threshold 30" --threshold 30 "$tmp/base.json" "$tmp/slow.json"
bis 125 "20 % slower, --threshold 20: the interval straddles it" --threshold 20 "$tmp/base.json" "$tmp/slow.json"
bis 0 "A/A, --threshold 10%" --threshold 10% "$tmp/base.json" "$tmp/aa.json"
bis 0 "20 % faster is no regression" --threshold 10% "$tmp/base.json" "$tmp/fast.json"
bis 1 "--improvement: 20 % faster" --improvement --threshold 10% "$tmp/base.json" "$tmp/fast.json"
bis 0 "--improvement: 20 % slower is none" --improvement --threshold 10% "$tmp/base.json" "$tmp/slow.json"
bis 125 "3 vs 3 samples cannot tell" --threshold 10% "$tmp/few-base.json" "$tmp/few.json"
bis 125 "the candidate left no bench file" "$tmp/base.json" "$tmp/none.json"
bis 255 "an unreadable BASE stops the bisection" "$tmp/none.json" "$tmp/base.json"
bis 255 "a bad option stops it" --frob "$tmp/base.json" "$tmp/slow.json"
bis 255 "--metric BASE lacks stops it" --metric nope "$tmp/base.json" "$tmp/slow.json"
bis 1 "--metric pin_call_ns alone" --metric pin_call_ns --threshold 10% "$tmp/base.json" "$tmp/slow.json"
[ "$(awk '$1 ~ /^pin_/ { print $1 }' "$tmp/out" | tr '\n' ' ')" = "pin_call_ns " ] &&
	pass "compare --metric: that metric alone" || fail "compare --metric: $(cat "$tmp/out")"
rc=$(cmp_rc --bisect --json --threshold 10% "$tmp/base.json" "$tmp/slow.json")
[ "$rc" = 1 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["bisect"] == "bad" and all(m["bisect"] == "bad" for m in d["metrics"])))' "$tmp/out" &&
	pass "compare --bisect --json: \"bisect\": bad, per metric too" || fail "compare --bisect --json: $(cat "$tmp/out")"
expect_exit "compare: --improvement without --bisect" 2 "goes with --bisect" build/vfiopin compare --improvement "$tmp/base.json" "$tmp/slow.json"
expect_exit "compare: --threshold with two percent signs" 2 "takes a percentage" build/vfiopin compare --threshold 10%% "$tmp/base.json" "$tmp/slow.json"

# three runs a side, 30 calls each, runs 8 % apart: as 90 vs 90 independent
# calls that is a sure regression; as the 3 vs 3 repetitions they are
# (per_run), it cannot be told from run-to-run variation
rc=$(cmp_rc --json "$tmp/runs-a.json" "$tmp/runs-b.json")
if [ "$rc" = 0 ] && cases per-run "$tmp/out"; then
	pass "compare: per_run: 3 vs 3 repetitions of 30 calls tested as 3 vs 3, no verdict, a warning"
else
	fail "compare: per_run: exit $rc, $(cat "$tmp/out")"
fi
rc=$(cmp_rc "$tmp/calls-a.json" "$tmp/calls-b.json")
[ "$rc $(verdicts)" = "1 regressed " ] && pass "compare: the same calls without per_run: 90 vs 90, regressed" ||
	fail "compare: calls: exit $rc, $(cat "$tmp/out")"
expect_fail "compare: per_run not adding up to the samples" "per_run must be counts adding up" \
	build/vfiopin compare "$tmp/runs-bad.json" "$tmp/runs-a.json"

# refused input: exit 2 with the file and the position
expect_fail "compare: different workloads are refused" \
	"different workloads \(mode: \"mdev\" vs \"passthrough\"\)" build/vfiopin compare "$tmp/base.json" "$tmp/pt.json"
head -c 200 "$tmp/base.json" > "$tmp/trunc.json"
expect_fail "compare: a truncated file: file and position" "trunc.json:1:[0-9]+ \(byte 200\)" \
	build/vfiopin compare "$tmp/base.json" "$tmp/trunc.json"
printf '{"schema": "vfiopin.bench",\n "version": 1,\n "workload": {,}}\n' > "$tmp/bad.json"
expect_fail "compare: malformed JSON: file and line" "bad.json:3:" build/vfiopin compare "$tmp/bad.json" "$tmp/base.json"
sed 's/"samples": \[/"samples": ["x", /' "$tmp/base.json" > "$tmp/str.json"
expect_fail "compare: a sample that is not a number" "metrics.pin_call_ns.samples\[0\] is not a finite number" \
	build/vfiopin compare "$tmp/base.json" "$tmp/str.json"
echo '{"schema": "vfiopin.stat", "version": 1}' > "$tmp/stat.json"
expect_fail "compare: not a bench file" "not a vfiopin bench file" build/vfiopin compare "$tmp/stat.json" "$tmp/base.json"
expect_fail "compare: a missing file" "nosuch.json: unable to open" build/vfiopin compare "$tmp/nosuch.json" "$tmp/base.json"
expect_fail "compare: one file only" "takes two files" build/vfiopin compare "$tmp/base.json"
expect_fail "compare: no files" "takes two files" build/vfiopin compare
expect_fail "compare: bad --alpha" "alpha takes a probability" build/vfiopin compare --alpha 2 "$tmp/base.json" "$tmp/base.json"
expect_fail "compare: bad --correction" "correction takes holm or none" build/vfiopin compare --correction bonf "$tmp/base.json" "$tmp/base.json"
expect_fail "bench: mdev mode needs --mdev" "needs --mdev UUID" build/vfiopin bench
expect_fail "bench: passthrough needs --pci" "needs --pci ADDR" build/vfiopin bench --workload passthrough
expect_fail "bench: an unknown mode" "mdev, passthrough or mixed" build/vfiopin bench --workload gpu
expect_fail "bench: pages per call out of range" "takes 1..512" build/vfiopin bench --mdev x --pages-per-call 513
expect_fail "bench: warm-up runs out of range" "warmup takes 0..1000" build/vfiopin bench --mdev x --warmup 1001
expect_fail "bench: a client that is not there" "is not there" build/vfiopin bench --mdev x --vmm /nonexistent
if [ ! -e /dev/vfio/vfio ]; then
	expect_fail "bench: no VFIO here: the client says so" "client failed" build/vfiopin bench --mdev x --no-hists --repeat 1
fi
# more calls than a command line holds: the steps reach the client in a
# file; the bench file has a sample for every call the client made
# (tests/host/fake_vmm.py counts them)
if FAKE_VMM_COUNTS="$tmp/counts" build/vfiopin bench --vmm tests/host/fake_vmm.py --mdev x \
	--pages-per-call 1 --total-pages 50000 --repeat 2 --warmup 0 --no-hists -o "$tmp/many.json" 2> "$tmp/err" &&
	cases client-counts "$tmp/many.json" "$tmp/counts"; then
	pass "bench: 50,000 one-page calls a run: every one the client made is a sample"
else
	fail "bench: 50,000 calls: $(cat "$tmp/err")"
fi
# --backing: what backed the guest RAM, as the client read it from the
# kernel (smaps), in the file; none of it huge for thp: refused
expect_fail "bench: an unknown backing" "takes 4k, thp or hugetlb" build/vfiopin bench --mdev x --backing 1g
expect_fail "bench: hugetlb backing without hugetlbfs" "needs --hugetlb DIR" build/vfiopin bench --mdev x --backing hugetlb
expect_fail "bench: --size-mib and --total-pages both" "give one" build/vfiopin bench --mdev x --size-mib 4 --total-pages 1024
expect_fail "bench: --size-mib out of range" "takes 1..16384" build/vfiopin bench --mdev x --size-mib 16385
if build/vfiopin bench --vmm tests/host/fake_vmm.py --workload passthrough --pci 0000:00:03.0 --size-mib 4 \
	--backing thp --repeat 2 --warmup 1 --no-hists -o "$tmp/thp.json" 2> "$tmp/err"; then
	got=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); w=b["workload"]; k=b["backing"]
print(w["backing"], w["total_pages"], k["kind"], k["bytes"], k["huge_bytes_min"], k["as_asked"], len(b["metrics"]["map_ns"]["samples"]))' "$tmp/thp.json")
	[ "$got" = "thp 1024 thp 4194304 4194304 True 2" ] &&
		pass "bench --backing thp: the workload, the backing as the client saw it, a MAP_DMA sample a run" ||
		fail "bench --backing thp: $got"
else
	fail "bench --backing thp: $(cat "$tmp/err")"
fi
rm -f "$tmp/nohuge.json"
expect_exit "bench --backing thp: no huge page in a run: refused, nothing written" 1 "had no huge page" \
	env FAKE_VMM_HUGE=0 build/vfiopin bench --vmm tests/host/fake_vmm.py --workload passthrough \
	--pci 0000:00:03.0 --size-mib 4 --backing thp --repeat 1 --warmup 0 --no-hists -o "$tmp/nohuge.json"
[ ! -e "$tmp/nohuge.json" ] && pass "bench --backing thp refused: no file" || fail "bench --backing thp refused: a file was written"
if FAKE_VMM_HUGE=2097152 build/vfiopin bench --vmm tests/host/fake_vmm.py --workload passthrough --pci 0000:00:03.0 \
	--size-mib 4 --backing thp --repeat 1 --warmup 0 --no-hists -o "$tmp/half.json" 2> "$tmp/err" &&
	grep -q "as little as 2097152 of 4194304 bytes on huge pages" "$tmp/err"; then
	got=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["backing"]; print(k["as_asked"], k["huge_fraction_min"])' "$tmp/half.json")
	[ "$got" = "False 0.5" ] && pass "bench --backing thp: half of it huge: said, and flagged in the file" ||
		fail "bench --backing thp, half huge: $got"
else
	fail "bench --backing thp, half huge: $(cat "$tmp/err")"
fi
expect_fail "capture: no COMMAND" "what to run while capturing" build/vfiopin capture -D "$tmp/c"
expect_exit "capture: -o is a file everywhere, not capture's directory" 2 "capture writes a directory: --output-dir DIR" \
	build/vfiopin capture -o "$tmp/c" -- true
expect_fail "capture: --report with a COMMAND" "takes neither" build/vfiopin capture --report "$tmp" -- true
expect_fail "capture --report: no perf.data" "no $tmp/nothere/perf.data" build/vfiopin capture --report "$tmp/nothere"
if command -v perf > /dev/null; then
	# a corrupt perf.data: exit 1, and the earlier report stays whole
	mkdir "$tmp/rep"
	head -c 4096 /dev/urandom > "$tmp/rep/perf.data"
	for f in timeline.txt timeline.json capture.svg; do echo "earlier $f" > "$tmp/rep/$f"; done
	expect_exit "capture --report: a corrupt perf.data" 1 "perf script failed .*no output written" \
		build/vfiopin capture --report "$tmp/rep"
	n=0
	for f in timeline.txt timeline.json capture.svg; do
		[ "$(cat "$tmp/rep/$f")" = "earlier $f" ] && n=$((n + 1))
	done
	[ $n = 3 ] && [ -z "$(ls "$tmp/rep" | grep '\.tmp$')" ] &&
		pass "capture --report: the earlier timeline.txt, timeline.json and capture.svg kept, no .tmp left" ||
		fail "capture --report: $n of 3 earlier outputs kept: $(ls "$tmp/rep")"
fi
expect_fail "capture: perf missing" "perf not found: install Debian's linux-perf" \
	env PATH=/nonexistent "$PWD/build/vfiopin" capture -D "$tmp/c" -- true
if [ ! -d /sys/kernel/tracing/events/vfio_type1 ]; then
	expect_fail "capture: no tracepoints" "no vfio_type1 tracepoints" build/vfiopin capture -D "$tmp/c" -- true
fi
# hostile bench files (bench_cases.py's hostile()): each gets exit 2 and a
# message, or the right verdict; never a crash or a verdict on nothing
expect_exit "compare: per_run counts whose sum wraps" 2 "wrap.json: metrics.m.per_run must be counts adding up to the samples" \
	build/vfiopin compare "$tmp/wrap.json" "$tmp/wrap.json"
expect_exit "compare: a per_run count beyond the samples" 2 "overcount.json: metrics.m.per_run must be counts" \
	build/vfiopin compare "$tmp/overcount.json" "$tmp/overcount.json"
expect_exit "compare: no metric has samples: nothing compared" 2 \
	"^vfiopin compare: nothing to compare: none of the 2 metrics has samples on both sides$" \
	build/vfiopin compare "$tmp/empty.json" "$tmp/empty.json"
expect_exit "compare: version 2.5" 2 "version-2.5.json: bench file version 2.5; this vfiopin reads version 1" \
	build/vfiopin compare "$tmp/version-2.5.json" "$tmp/base.json"
expect_exit "compare: version a string" 2 'version-string.json: "version" is not a number' \
	build/vfiopin compare "$tmp/version-string.json" "$tmp/base.json"
expect_exit "compare: no version" 2 'version-none.json: no "version"; this vfiopin reads bench files of version 1' \
	build/vfiopin compare "$tmp/version-none.json" "$tmp/base.json"
expect_exit "compare: a sample of 0" 2 "zero.json: metrics.m.samples\[1\] is 0: samples are durations or rates, above 0" \
	build/vfiopin compare "$tmp/ones.json" "$tmp/zero.json"
expect_exit "compare: a negative sample" 2 "negative.json: metrics.m.samples\[2\] is -7: samples are durations or rates" \
	build/vfiopin compare "$tmp/negative.json" "$tmp/ones.json"
# one metric said two ways: refused whichever side says what
for pair in "lower higher better" "higher lower better" "lower in-us unit" "in-us lower unit" \
	"lower per-run per_run" "per-run lower per_run"; do
	set -- $pair
	expect_exit "compare: $1 vs $2: a metric with two $3s" 2 \
		"metric m has $3 .* in .*$1.json but .* in .*$2.json; refusing to compare" \
		build/vfiopin compare "$tmp/$1.json" "$tmp/$2.json"
done
expect_exit "compare: pooled files that mix units" 2 "metric m has unit \"ns\" in .*lower.json but \"us\" in .*in-us.json" \
	build/vfiopin compare "$tmp/lower.json" "$tmp/lower.json" vs "$tmp/lower.json" "$tmp/in-us.json"
rc=$(cmp_rc "$tmp/wl-int.json" "$tmp/wl-real.json")
[ "$rc" = 0 ] && pass "compare: a workload of 64 and one of 64.0 are the same workload" ||
	fail "compare: 64 vs 64.0: exit $rc, $(cat "$tmp/err")"
rc=$(cmp_rc "$tmp/esc-broken.json" "$tmp/lower.json")
if [ "$rc" = 2 ] && ! grep -q $'\e' "$tmp/err" && grep -q 'x1b' "$tmp/err"; then
	pass "compare: a parse error quoting an ESC byte shows it escaped (exit 2)"
else
	fail "compare: parse error of a file with ESC: exit $rc, $(od -c "$tmp/err" | head -3)"
fi
# a metric missing, empty or new on one side is named, and the empty one's
# row keeps the median its side has
rc=$(cmp_rc --json "$tmp/two.json" "$tmp/two-empty.json")
if [ "$rc" = 0 ] && grep -q "warning: metric gone: no samples in NEW" "$tmp/err" &&
	python3 -c '
import json, sys
m = {x["metric"]: x for x in json.load(open(sys.argv[1]))["metrics"]}["gone"]
assert m["verdict"] == "no data" and m["median_new"] is None and m["median_base"] > 0, m
' "$tmp/out"; then
	pass "compare: a metric empty in NEW: named on stderr, its base median kept, NEW's null"
else
	fail "compare: a metric empty in NEW: exit $rc, $(cat "$tmp/err" "$tmp/out")"
fi
rc=$(cmp_rc "$tmp/two.json" "$tmp/extra.json")
grep -q "extra.json has no metric gone" "$tmp/err" && grep -q "two.json has no metric fresh" "$tmp/err" &&
	pass "compare: metrics on one side only are named, either side (exit $rc)" ||
	fail "compare: one-sided metrics: exit $rc, $(cat "$tmp/err")"
rc=$(cmp_rc --json "$tmp/huge-base.json" "$tmp/huge-slow.json")
if [ "$rc" = 1 ] && cases huge-20 "$tmp/out"; then
	pass "compare: samples near 1e308, 20 % slower: finite medians, ~+20 %, regressed, exit 1"
else
	fail "compare: samples near 1e308: exit $rc, $(cat "$tmp/out" "$tmp/err")"
fi
rc=$(cmp_rc "$tmp/subnormal.json" "$tmp/ones.json")
[ "$rc" = 1 ] && grep -Eq '^m .* \+inf%  \[\+inf%, \+inf%\] .* regressed$' "$tmp/out" &&
	pass "compare: from 5e-324 to 1: a change of +inf%, regressed, exit 1" ||
	fail "compare: from 5e-324 to 1: exit $rc, $(cat "$tmp/out" "$tmp/err")"
rc=$(cmp_rc "$tmp/ones.json" "$tmp/subnormal.json")
[ "$rc" = 0 ] && grep -Eq '^m .* -100\.0%  .* improved$' "$tmp/out" &&
	pass "compare: from 1 to 5e-324: -100 %, improved, exit 0" ||
	fail "compare: from 1 to 5e-324: exit $rc, $(cat "$tmp/out" "$tmp/err")"
rc=$(cmp_rc "$tmp/version-real.json" "$tmp/version-real.json")
[ "$rc" = 0 ] && grep -q '^m .* unchanged$' "$tmp/out" && pass "compare: \"version\": 1.0 is version 1" ||
	fail "compare: version 1.0: exit $rc, $(cat "$tmp/err")"
# the file's strings reach a terminal or a Markdown table escaped: no ESC,
# BEL or C1 byte, and no '|' that would split a table cell
for fmt in text markdown; do
	rc=$(cmp_rc --format $fmt "$tmp/control.json" "$tmp/control.json")
	if [ "$rc" = 0 ] && ! grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$tmp/out" &&
		grep -qF 'pin\x1b[2J\x1b]0;owned\x07' "$tmp/out" && grep -qF 'kernel 6.1\x1b[2J' "$tmp/out"; then
		pass "compare --format $fmt: control bytes from the file are escaped"
	else
		fail "compare --format $fmt: control bytes: exit $rc, $(cat -v "$tmp/out")"
	fi
done
grep -qF '| pin\x1b[2J\x1b]0;owned\x07\|x | n\|s\xc2\x9b |' "$tmp/out" &&
	[ "$(grep '^| pin' "$tmp/out" | sed 's/\\|//g' | tr -cd '|' | wc -c)" = 10 ] &&
	pass "compare --format markdown: '|' from the file escaped, the row keeps its 9 cells" ||
	fail "compare --format markdown: $(cat -v "$tmp/out")"
# 100,000 samples a side, 20 % slower, in little memory: regressed, exit 1
rc=$( (ulimit -v 400000; cmp_rc --json "$tmp/large-base.json" "$tmp/large-slow.json") )
if [ "$rc" = 1 ] && cases large-20 "$tmp/out"; then
	pass "compare: 100,000 vs 100,000 samples under a 400 MB limit: +20 % with a tight interval, exit 1"
else
	fail "compare: 100,000 a side: exit $rc, $(cat "$tmp/out" "$tmp/err")"
fi
# short of memory at any point: a message and exit 2, never a verdict
oom=0 lims=""
for lim in 14000 16000 18000 20000 22000 24000 26000 28000 32000; do
	(ulimit -v $lim; build/vfiopin --version) > /dev/null 2>&1 || continue
	rc=$( (ulimit -v $lim; cmp_rc "$tmp/large-base.json" "$tmp/large-slow.json") )
	lims+=" $lim:$rc"
	if [ "$rc" = 2 ]; then
		grep -q "out of memory" "$tmp/err" || { oom=-1; break; }
		oom=$((oom + 1))
	elif [ "$rc" != 1 ] || ! grep -q '^m .* regressed$' "$tmp/out"; then
		oom=-1; break
	fi
done
[ $oom -gt 0 ] && pass "compare under memory limits: exit 2 'out of memory' or the right verdict ($lims)" ||
	fail "compare under memory limits:$lims: $(cat "$tmp/out" "$tmp/err")"

rc=$(cmp_rc "$tmp/base.json" "$tmp/trunc.json")
[ "$rc" = 2 ] && pass "compare: bad input exits 2" || fail "compare: bad input exits $rc"

# make bench-self's runner, the work tree against itself, two rounds of 50
# containers: bench files compare reads, with every benchmark's metrics
if python3 tests/host/bench/bench_self.py . . "$tmp/self" --rounds 2 --containers 50 2> "$tmp/err" &&
	build/vfiopin compare -j "$tmp/self/base.json" "$tmp/self/work.json" > "$tmp/out" 2>> "$tmp/err"; then
	got=$(python3 -c 'import json,sys; m=[r["metric"] for r in json.load(open(sys.argv[1]))["metrics"]]
print(sum(x.startswith(p) for x in m for p in ("top_", "bpf_aggregate_", "bpf_stream_", "export_")))' "$tmp/out")
	[ "$got" -ge 12 ] && pass "bench-self: an A/A run of 2 rounds is compared, nothing regressed ($got metrics)" ||
		fail "bench-self: $got metrics: $(head -c 300 "$tmp/out")"
else
	fail "bench-self A/A: $(tail -5 "$tmp/err")"
fi
rm -rf "$tmp"
