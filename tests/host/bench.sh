# Host tier, sourced by run.sh: `vfiopin compare` on bench files with known
# shifts (deterministic pseudo-random samples), its verdicts and exit
# statuses, its three output formats, and the input it must refuse; the
# arguments and missing pieces `vfiopin bench` and `vfiopin capture` refuse.

tmp=$(mktemp -d)
# mkbench FILE SCALE [N] [MODE]: a vfiopin.bench file whose latency samples
# are SCALE times a fixed noisy base (and pages/s divided by it)
mkbench() {
	python3 - "$@" <<-'PY'
	import json, random, sys
	path, scale = sys.argv[1], float(sys.argv[2])
	n = int(sys.argv[3]) if len(sys.argv) > 3 else 30
	mode = sys.argv[4] if len(sys.argv) > 4 else "mdev"
	rng = random.Random(7 if scale == 1.0 else 11)  # another draw of the same noise
	lat = [scale * 100000 * rng.lognormvariate(0, 0.05) for _ in range(n)]
	json.dump({"schema": "vfiopin.bench", "version": 1,
	           "workload": {"mode": mode, "pages_per_call": 64, "total_pages": 1024,
	                        "hugepages": False},
	           "run": {"repetitions": n},
	           "environment": {"kernel_release": "test"},
	           "metrics": {
	               "pin_call_ns": {"unit": "ns", "better": "lower", "samples": lat},
	               "pin_pages_per_s": {"unit": "1/s", "better": "higher",
	                                   "samples": [64e9 / v for v in lat]}}},
	          open(path, "w"))
	PY
}
mkbench "$tmp/base.json" 1.0
mkbench "$tmp/same.json" 1.0
mkbench "$tmp/aa.json" 1.0001       # another draw, no real shift
mkbench "$tmp/slow.json" 1.2
mkbench "$tmp/fast.json" 0.8
mkbench "$tmp/few-base.json" 1.0 3
mkbench "$tmp/few.json" 1.2 3
mkbench "$tmp/pt.json" 1.0 30 passthrough

cmp_rc() { build/vfiopin compare "$@" > "$tmp/out" 2> "$tmp/err"; echo $?; }
verdicts() { awk '$1 ~ /^pin_/ { print $NF }' "$tmp/out" | tr '\n' ' '; }

rc=$(cmp_rc "$tmp/base.json" "$tmp/same.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && ok "compare: identical files: unchanged, exit 0" ||
	bad "compare: identical: exit $rc, $(verdicts)"
rc=$(cmp_rc "$tmp/base.json" "$tmp/aa.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && ok "compare: two draws of the same noise: unchanged" ||
	bad "compare: A/A: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/base.json" "$tmp/slow.json")
[ "$rc $(verdicts)" = "1 regressed regressed " ] &&
	ok "compare: 20 % slower: both metrics regressed (latency up, pages/s down), exit 1" ||
	bad "compare: slow: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/base.json" "$tmp/fast.json")
[ "$rc $(verdicts)" = "0 improved improved " ] && ok "compare: 20 % faster: improved, exit 0" ||
	bad "compare: fast: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc --threshold 30 "$tmp/base.json" "$tmp/slow.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && ok "compare: a shift inside --threshold 30 is no verdict" ||
	bad "compare: threshold: exit $rc, $(cat "$tmp/out")"
# the estimate and its interval bracket the true +20 %
rc=$(cmp_rc --json "$tmp/base.json" "$tmp/slow.json")
if python3 -c '
import json, sys
m = {x["metric"]: x for x in json.load(open(sys.argv[1]))["metrics"]}["pin_call_ns"]
ok = m["ci_low"] < 0.2 < m["ci_high"] and abs(m["change"] - 0.2) < 0.03 and m["p"] < 1e-6
sys.exit(0 if ok and m["n_base"] == 30 and m["verdict"] == "regressed" else 1)' "$tmp/out"; then
	ok "compare --json: change ~ +20 % inside its interval, p < 1e-6"
else
	bad "compare --json: $(cat "$tmp/out")"
fi
rc=$(cmp_rc --format markdown "$tmp/base.json" "$tmp/slow.json")
grep -q '^| pin_call_ns | ns |.*| \*\*regressed\*\* |$' "$tmp/out" && ok "compare: markdown table" ||
	bad "compare: markdown: $(cat "$tmp/out")"
rc=$(cmp_rc "$tmp/few-base.json" "$tmp/few.json")
[ "$rc $(verdicts)" = "0 unchanged unchanged " ] && grep -q "too few samples (3 vs 3)" "$tmp/out" &&
	ok "compare: 3 samples: a warning, no verdict possible" || bad "compare: few: exit $rc, $(cat "$tmp/out")"

# six metrics, one of them shifted by 3.5 % (exact p = 0.029 on its own):
# significant alone, not once the six are tested together
python3 - "$tmp/h-base.json" "$tmp/h-new.json" <<-'PY'
	import json, sys
	for path, shift in zip(sys.argv[1:], (0, 3.5)):
	    ms = {"m%d" % j: {"unit": "ns", "better": "lower",
	                      "samples": [100 + i + (shift if j == 0 else 0.5) for i in range(10)]}
	          for j in range(6)}
	    json.dump({"schema": "vfiopin.bench", "version": 1, "workload": {"mode": "mdev"},
	               "metrics": ms}, open(path, "w"))
	PY
rc=$(cmp_rc --json --threshold 0.1 "$tmp/h-base.json" "$tmp/h-new.json")
if [ "$rc" = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); m = {x["metric"]: x for x in d["metrics"]}
ok = d["correction"] == "holm" and 0.02 < m["m0"]["p"] < 0.05
ok = ok and abs(m["m0"]["p_adjusted"] - 6 * m["m0"]["p"]) < 1e-12 and m["m0"]["verdict"] == "unchanged"
ok = ok and all(m["m%d" % j]["p_adjusted"] == 1 for j in range(1, 6))
sys.exit(0 if ok else 1)' "$tmp/out"; then
	ok "compare: Holm over 6 metrics: p 0.029 adjusted to 6p, no verdict, exit 0"
else
	bad "compare: Holm: exit $rc, $(cat "$tmp/out")"
fi
rc=$(cmp_rc --correction none --threshold 0.1 "$tmp/h-base.json" "$tmp/h-new.json")
[ "$rc" = 1 ] && grep -q '^m0 .* regressed$' "$tmp/out" && grep -q "alpha 0.05 per metric" "$tmp/out" &&
	ok "compare --correction none: the same shift regressed on its own, exit 1" ||
	bad "compare --correction none: exit $rc, $(cat "$tmp/out")"

# a machine that drifts 2 % slower per run of 5 samples: four runs of A and
# then four of B look like +8 %; the same eight runs taken A B A B ... and
# pooled with `vs` put the drift on both sides (B trails A by one run, 2 %,
# inside the threshold)
python3 - "$tmp" <<-'PY'
	import json, random, sys
	rng = random.Random(3)
	def run(path, t):
	    lat = [100000 * (1 + 0.02 * t) * rng.lognormvariate(0, 0.005) for _ in range(5)]
	    json.dump({"schema": "vfiopin.bench", "version": 1, "workload": {"mode": "mdev"},
	               "metrics": {"pin_call_ns": {"unit": "ns", "better": "lower", "samples": lat}}},
	              open(path, "w"))
	for t in range(8):
	    run("%s/seq-%s%d.json" % (sys.argv[1], "ab"[t // 4], t % 4), t)
	for t in range(8):
	    run("%s/alt-%s%d.json" % (sys.argv[1], "ab"[t % 2], t // 2), t)
	PY
rc=$(cmp_rc "$tmp"/seq-a*.json vs "$tmp"/seq-b*.json)
[ "$rc $(verdicts)" = "1 regressed " ] && grep -Eq "^pin_call_ns .* \+[78]\.[0-9]%" "$tmp/out" &&
	ok "compare: A then B on a drifting machine: the drift looks like ~+8 %, regressed" ||
	bad "compare: sequential drift: exit $rc, $(cat "$tmp/out")"
rc=$(cmp_rc --json "$tmp"/alt-a*.json vs "$tmp"/alt-b*.json)
if [ "$rc" = 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); m = d["metrics"][0]
ok = m["n_base"] == 20 and m["n_new"] == 20 and m["verdict"] == "unchanged" and 0 < m["change"] < 0.04
sys.exit(0 if ok and len(d["base"]) == 4 and d["new"][0].endswith("alt-b0.json") else 1)' "$tmp/out"; then
	ok "compare: the same runs in turn, pooled with vs: 20 vs 20 samples, unchanged"
else
	bad "compare: pooled: exit $rc, $(cat "$tmp/out")"
fi
# the kernels each side ran on are named; a side pooling two kernels is warned of
python3 - "$tmp/base.json" "$tmp/k2.json" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["environment"] = {"kernel_release": "6.1.0-vp", "kernel_build": "lab-0123"}
	json.dump(d, open(sys.argv[2], "w"))
	PY
rc=$(cmp_rc "$tmp/base.json" "$tmp/k2.json" vs "$tmp/k2.json")
[ "$rc" = 0 ] && grep -q "^base: 2 files, kernel test$" "$tmp/out" &&
	grep -q "^new: 1 file, kernel 6.1.0-vp (lab-0123)$" "$tmp/out" &&
	grep -q "warning: BASE pools runs of different kernels: test in .*base.json, 6.1.0-vp (lab-0123) in .*k2.json" "$tmp/err" &&
	ok "compare: each side's kernel named; a side of two kernels warned of" ||
	bad "compare: kernels: exit $rc, $(cat "$tmp/out" "$tmp/err")"
expect_fail "compare: pooled files of different workloads" \
	"seq-a0.json and .*/pt.json ran different workloads" build/vfiopin compare "$tmp/seq-a0.json" "$tmp/pt.json" vs "$tmp/seq-b0.json"
expect_fail "compare: vs with nothing after it" "needs files on both sides" build/vfiopin compare "$tmp/base.json" vs
expect_fail "compare: vs twice" "may appear once" build/vfiopin compare "$tmp/base.json" vs "$tmp/base.json" vs "$tmp/base.json"
expect_fail "compare: three files without vs" "or BASE.json... vs NEW.json..." \
	build/vfiopin compare "$tmp/base.json" "$tmp/base.json" "$tmp/base.json"

# three runs a side, 30 calls each, runs 8 % apart: as 90 vs 90 independent
# calls that is a sure regression; as the 3 vs 3 repetitions they are
# (per_run), it cannot be told from run-to-run variation
python3 - "$tmp" <<-'PY'
	import json, sys
	def f(path, offsets, per_run=True):
	    lat = [100000 * (1 + o) * (1 + 0.001 * (c % 7)) for o in offsets for c in range(30)]
	    m = {"unit": "ns", "better": "lower", "samples": lat}
	    if per_run:
	        m["per_run"] = [30] * len(offsets)
	    json.dump({"schema": "vfiopin.bench", "version": 1, "workload": {"mode": "mdev"},
	               "metrics": {"pin_call_ns": m}}, open(path, "w"))
	f(sys.argv[1] + "/runs-a.json", (0, 0.01, 0.02))
	f(sys.argv[1] + "/runs-b.json", (0.08, 0.09, 0.10))
	f(sys.argv[1] + "/calls-a.json", (0, 0.01, 0.02), False)
	f(sys.argv[1] + "/calls-b.json", (0.08, 0.09, 0.10), False)
	d = json.load(open(sys.argv[1] + "/runs-a.json"))
	d["metrics"]["pin_call_ns"]["per_run"] = [30, 30, 29]
	json.dump(d, open(sys.argv[1] + "/runs-bad.json", "w"))
	PY
rc=$(cmp_rc --json "$tmp/runs-a.json" "$tmp/runs-b.json")
if [ "$rc" = 0 ] && python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"][0]
ok = (m["n_base"], m["n_new"], m["samples_base"], m["samples_new"]) == (3, 3, 90, 90)
sys.exit(0 if ok and m["verdict"] == "unchanged" and "too few samples (3 vs 3)" in m["warning"] else 1)' "$tmp/out"; then
	ok "compare: per_run: 3 vs 3 repetitions of 30 calls tested as 3 vs 3, no verdict, a warning"
else
	bad "compare: per_run: exit $rc, $(cat "$tmp/out")"
fi
rc=$(cmp_rc "$tmp/calls-a.json" "$tmp/calls-b.json")
[ "$rc $(verdicts)" = "1 regressed " ] && ok "compare: the same calls without per_run: 90 vs 90, regressed" ||
	bad "compare: calls: exit $rc, $(cat "$tmp/out")"
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
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))["metrics"]
ok = c["pin"] == c["unpin"] == 50000 and m["pin_call_ns"]["per_run"] == [c["pin"]] * 2
sys.exit(0 if ok and m["unpin_call_ns"]["per_run"] == [c["unpin"]] * 2 else 1)' "$tmp/counts" "$tmp/many.json"; then
	ok "bench: 50,000 one-page calls a run: every one the client made is a sample"
else
	bad "bench: 50,000 calls: $(cat "$tmp/err")"
fi
expect_fail "capture: no COMMAND" "what to run while capturing" build/vfiopin capture -D "$tmp/c"
expect_exit "capture: -o is a file everywhere, not capture's directory" 2 "capture writes a directory: --output-dir DIR" \
	build/vfiopin capture -o "$tmp/c" -- true
expect_fail "capture: --report with a COMMAND" "takes neither" build/vfiopin capture --report "$tmp" -- true
expect_fail "capture --report: no perf.data" "no $tmp/nothere/perf.data" build/vfiopin capture --report "$tmp/nothere"
expect_fail "capture: perf missing" "perf not found: install Debian's linux-perf" \
	env PATH=/nonexistent "$PWD/build/vfiopin" capture -D "$tmp/c" -- true
if [ ! -d /sys/kernel/tracing/events/vfio_type1 ]; then
	expect_fail "capture: no tracepoints" "no vfio_type1 tracepoints" build/vfiopin capture -D "$tmp/c" -- true
fi
# hostile bench files (tests/host/hostile_bench.py): each gets exit 2 and a
# message, or the right verdict; never a crash or a verdict on nothing
python3 tests/host/hostile_bench.py "$tmp"
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
rc=$(cmp_rc "$tmp/version-real.json" "$tmp/version-real.json")
[ "$rc" = 0 ] && grep -q '^m .* unchanged$' "$tmp/out" && ok "compare: \"version\": 1.0 is version 1" ||
	bad "compare: version 1.0: exit $rc, $(cat "$tmp/err")"
# the file's strings reach a terminal or a Markdown table escaped: no ESC,
# BEL or C1 byte, and no '|' that would split a table cell
for fmt in text markdown; do
	rc=$(cmp_rc --format $fmt "$tmp/control.json" "$tmp/control.json")
	if [ "$rc" = 0 ] && ! grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$tmp/out" &&
		grep -qF 'pin\x1b[2J\x1b]0;owned\x07' "$tmp/out" && grep -qF 'kernel 6.1\x1b[2J' "$tmp/out"; then
		ok "compare --format $fmt: control bytes from the file are escaped"
	else
		bad "compare --format $fmt: control bytes: exit $rc, $(cat -v "$tmp/out")"
	fi
done
grep -qF '| pin\x1b[2J\x1b]0;owned\x07\|x | n\|s\xc2\x9b |' "$tmp/out" &&
	[ "$(grep '^| pin' "$tmp/out" | sed 's/\\|//g' | tr -cd '|' | wc -c)" = 10 ] &&
	ok "compare --format markdown: '|' from the file escaped, the row keeps its 9 cells" ||
	bad "compare --format markdown: $(cat -v "$tmp/out")"
# 100,000 samples a side, 20 % slower, in little memory: regressed, exit 1
rc=$( (ulimit -v 400000; cmp_rc --json "$tmp/large-base.json" "$tmp/large-slow.json") )
if [ "$rc" = 1 ] && python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["metrics"][0]
ok = m["n_base"] == m["n_new"] == 100000 and m["verdict"] == "regressed"
ok = ok and 0.19 < m["ci_low"] <= m["change"] <= m["ci_high"] < 0.21
sys.exit(0 if ok and abs(m["change"] - 0.2) < 0.005 else 1)' "$tmp/out"; then
	ok "compare: 100,000 vs 100,000 samples under a 400 MB limit: +20 % with a tight interval, exit 1"
else
	bad "compare: 100,000 a side: exit $rc, $(cat "$tmp/out" "$tmp/err")"
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
[ $oom -gt 0 ] && ok "compare under memory limits: exit 2 'out of memory' or the right verdict ($lims)" ||
	bad "compare under memory limits:$lims: $(cat "$tmp/out" "$tmp/err")"

rc=$(cmp_rc "$tmp/base.json" "$tmp/trunc.json")
[ "$rc" = 2 ] && ok "compare: bad input exits 2" || bad "compare: bad input exits $rc"
rm -rf "$tmp"
