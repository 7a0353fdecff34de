#!/usr/bin/env python3
"""The lab tiers' Python modules (tests/guest/*.py) on inputs whose answers
are known: each query, report and benchmark summary on files written here,
a right one and a wrong one, and their usage errors.

    guestpy.py TOP

Prints one "ok: ..." or "FAIL: ..." line per check; exit 1 on a failure.
"""
import io
import json
import os
import subprocess
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
sys.path.insert(0, os.path.join(TOP, "tests", "guest"))
import bench_report  # noqa: E402
import report  # noqa: E402
import vpq  # noqa: E402

failed = 0


def say(ok, what):
    global failed
    print("%s: guestpy: %s" % ("ok" if ok else "FAIL", what))
    failed += not ok


def eq(what, got, want):
    say(got == want, what if got == want else "%s: %r, want %r" % (what, got, want))


def run(main, *argv):
    """(status, stdout, stderr) of a module's main."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main(["x"] + [str(a) for a in argv])
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


class Dir:
    def __init__(self):
        self.t = tempfile.TemporaryDirectory()
        self.path = self.t.name

    def write(self, name, text):
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def lines(self, name, objs, head=""):
        return self.write(name, head + "".join(json.dumps(o) + "\n" for o in objs))


def container(cid, tgid, **kw):
    c = {"cid": cid, "tgid": tgid, "released": False, "limit_hits": 0, "leaked_pins": None,
         "mdev": {"pin_calls": 0, "pin_refs": 0}, "refcount": {"live": 0}}
    c.update(kw)
    return c


def test_vpq(d):
    snap = {"mode": "fentry", "containers": [
        container(1, 100, mdev={"pin_calls": 3, "pin_refs": 5}, leaked_pins=2),
        container(2, 100, mdev={"pin_calls": 4, "pin_refs": 1}, leaked_pins=None),
        container(3, 200, mdev={"pin_calls": 7, "pin_refs": 0}, leaked_pins=0)],
        "vms": [{"tgid": 100, "name": "web", "cids": [1, 2]}]}
    # a snapshot file's last line is the snapshot
    p = d.lines("snap.json", [{"mode": "old"}, snap])
    q = vpq.query
    eq("vpq stat: the last line is the snapshot", q(p, "top", "mode"), "fentry")
    eq("vpq stat: cid=N", q(p, "cid=2", "mdev.pin_calls"), "4")
    eq("vpq stat: tgid=N of one container", q(p, "tgid=200", "mdev.pin_calls"), "7")
    eq("vpq stat: owner=N sums its containers", q(p, "owner=100", "mdev.pin_calls"), "7")
    eq("vpq stat: all sums every container", q(p, "all", "mdev.pin_calls"), "14")
    eq("vpq stat: a sum over a null is null", q(p, "owner=100", "leaked_pins"), "null")
    eq("vpq stat: vm=N", q(p, "vm=100", "name"), "web")
    eq("vpq stat: a dict as sorted compact JSON", q(p, "cid=1", "mdev"), '{"pin_calls":3,"pin_refs":5}')
    eq("vpq stat: an absent container", q(p, "cid=9", "mdev.pin_calls"), "none")
    for sel, path, what in (("tgid=100", "mdev.pin_calls", "2 containers match"),
                            ("pid=1", "mode", "bad selector"),
                            ("cid=1", "mdev.nope", "no field")):
        try:
            got = q(p, sel, path)
        except vpq.QueryError as e:
            got = str(e)
        say(what in got, "vpq stat %s %s: %s" % (sel, path, got))
    bad = d.write("bad.json", "{not json\n")
    rc, out, err = run(vpq.main, "stat", bad, "top", "mode")
    say(rc == 1 and "not JSON" in err, "vpq stat on a file that is not JSON: exit %r, %r" % (rc, err))
    rc, _, err = run(vpq.main, "frob")
    say(rc == 2 and "vpq.py stat" in err, "vpq: an unknown query is a usage error (exit %r)" % rc)
    # serve: one answer a line, an error as a line too, in one process
    r = subprocess.run([sys.executable, os.path.join(TOP, "tests/guest/vpq.py"), "serve"],
                       input="%s\tcid=1\tmdev.pin_calls\n%s\tcid=1\n%s\tall\tmdev.pin_refs\n" % (p, p, p),
                       capture_output=True, text=True, timeout=60)
    eq("vpq serve: three queries, three answers", r.stdout.splitlines(),
       ["3", "vpq: a query is 3 fields, not 2", "6"])

    ev = [{"event": "pin_page", "tgid": 100}] * 5 + [{"event": "unpin_page", "tgid": 100}] * 3 + \
        [{"event": "pin_page", "tgid": 200}] * 7 + [{"event": "container_open", "tgid": 100}]
    t = d.lines("trace.json", ev)
    eq("vpq trace-pages: one process's pages only", vpq.trace_pages(t, 100), (5, 3))
    eq("vpq trace-pages: printed", run(vpq.main, "trace-pages", t, 200)[1], "7 0\n")

    cmp_ = d.write("cmp.json", json.dumps({"metrics": [
        {"metric": "a", "verdict": "regressed"}, {"metric": "b", "verdict": "same"},
        {"metric": "c", "verdict": "regressed"}, {"metric": "d", "verdict": "improved"}]}))
    eq("vpq compare verdicts", run(vpq.main, "compare", "verdicts", cmp_)[1], "a,c d\n")
    eq("vpq compare count", run(vpq.main, "compare", "count", cmp_)[1], "4\n")
    none = d.write("cmp0.json", json.dumps({"metrics": [{"metric": "a", "verdict": "same"}]}))
    eq("vpq compare verdicts, none either way", run(vpq.main, "compare", "verdicts", none)[1], "- -\n")

    cap = {"containers": [
        {"tgid": 7, "released": True, "totals": {"pin_calls": 1, "pin_pages": 1, "unpin_pages": 0,
                                                   "locked_peak_kb": 4, "locked_last_kb": 0, "leaked": 0,
                                                   "replays": 0, "reaccounts": 0}, "phases": []},
        {"tgid": 42, "released": True, "phases": [
            {"phase": "attach", "iommu_maps": 0, "pages": 0}, {"phase": "map", "iommu_maps": 3, "pages": 8},
            {"phase": "replay", "iommu_maps": 2, "pages": 16}],
         "totals": {"pin_calls": 2, "pin_pages": 9, "unpin_pages": 9, "locked_peak_kb": 36,
                    "locked_last_kb": 0, "leaked": 0, "replays": 1, "reaccounts": 0}}]}
    d.write("cap/timeline.json", json.dumps(cap))
    client = d.lines("client.json", [{"event": "start", "pid": 42}, {"op": "pin", "vmlck_kb": 36},
                                     {"op": "pin", "vmlck_kb": 20, "pages_pinned": 9}],
                     head="not a step line\n")
    c = os.path.join(d.path, "cap")
    eq("vpq capture phases: the client's container", run(vpq.main, "capture", c, client, "phases")[1],
       "attach map replay\n")
    eq("vpq capture client-pins", vpq.capture_query(c, client, "client-pins"), (2, 9))
    eq("vpq capture client-vmlck-peak-kb", vpq.capture_query(c, client, "client-vmlck-peak-kb"), 36)
    eq("vpq capture replay-pages", vpq.capture_query(c, client, "replay-pages"), [16])
    rc, _, _ = run(vpq.main, "capture", c, client, "__import__('os')")
    eq("vpq capture: a query that is not a name is refused", rc, 2)


def test_bench(d):
    calls, rep, pages = 6, 2, 12
    b = {"schema": "vfiopin.bench", "version": 1, "containers": rep, "run": {"warmup": 1},
         "environment": {"kernel_build": "lab-6.1", "type1_disable_hugepages": False},
         "metrics": {"pin_call_ns": {"samples": [1] * calls, "per_run": [calls // rep] * rep},
                     "unpin_call_ns": {"samples": [1] * calls},
                     "pin_pages_per_s": {"samples": [1] * calls},
                     "map_ns": {"samples": [1] * rep, "per_run": [1] * rep},
                     "unmap_ns": {"samples": [1] * rep}},
         "vfiopin": {"mdev": {"pin_calls": calls, "new_pins": rep * pages},
                     "histograms": {"pin_ns": {}}}}
    p = d.write("b.json", json.dumps(b))
    eq("bench samples: a file that matches its client", run(bench_report.main, "samples", p, calls, rep, pages),
       (0, "", ""))
    b["vfiopin"]["mdev"]["new_pins"] = 5
    b["metrics"]["map_ns"]["samples"] = [1]
    p = d.write("b2.json", json.dumps(b))
    rc, out, _ = run(bench_report.main, "samples", p, calls, rep, pages)
    say(rc == 1 and "map_ns: 1 samples, want 2" in out and "new_pins 5, want 24" in out,
        "bench samples: a short metric and wrong pages are said (exit %r)" % rc)

    d.write("s/cmp-x-y.json", json.dumps({"metrics": [dict(
        metric="map_ns", n_base=8, n_new=8, change=0.5, ci_low=0.4, ci_high=0.6, p=0.001,
        p_adjusted=0.002, verdict="regressed", extra="dropped")]}))
    rc, out, _ = run(bench_report.main, "summary", os.path.join(d.path, "s"), 1, 12, 0, 0.01, 4, 3)
    s = json.loads(out)
    eq("bench summary: the A/A counts", (s["aa_false_regressions"], s["aa_metric_comparisons"], s["rounds"]),
       (1, 12, 4))
    eq("bench summary: a comparison by name, its verdict", s["comparisons"]["x-y"]["map_ns"]["verdict"],
       "regressed")

    c = bench_report.overhead_case(1, 50, {"detached": [100, 100, 90], "tracepoint": [200, 300, 200],
                                           "fentry": [150] * 3, "kprobe": [400] * 3, "ftrace": [100] * 3})
    eq("overhead-case: throughput ratio = median untraced / median traced",
       (c["tracepoint_throughput_ratio"], c["kprobe_throughput_ratio"]), (0.5, 0.25))
    eq("overhead-case: extra ns per call over 2 calls a pair", (c["tracepoint_extra_ns_per_call"],
                                                                  c["fentry_extra_ns_per_call"]), (1.0, 0.5))
    eq("overhead-case: calls per second untraced", c["detached_calls_per_s"], 1e9)
    rc, out, _ = run(bench_report.main, "overhead-case", 1, 50, "detached=100 100", "tracepoint=200 200",
                     "kprobe-base=1")
    say(rc == 0 and out.endswith("},\n") and json.loads(out[:-2])["kprobe-base_throughput_ratio"] == 100,
        "overhead-case: a JSON object and a comma, the modes as given (a base build's among them)")
    rc, _, _ = run(bench_report.main, "overhead-case", 1, 50, "tracepoint=200 200")
    eq("overhead-case: without the detached times, an error", rc, 2)
    line = bench_report.overhead_lines({"clocksource": "tsc", "cases": [c]})
    eq("overhead-report: one ok: line a case", line,
       ["ok: 1-page calls, throughput of untraced (extra ns per call): tracepoint 0.500 (+1), "
        "fentry 0.667 (+0), kprobe 0.250 (+3), ftrace 1.000 (+0) (clocksource tsc)"])
    rc, _, err = run(bench_report.main, "samples", p, "x", rep, pages)
    say(rc == 2 and "invalid literal" in err, "bench_report: a count that is not a number (exit %r)" % rc)


def vm_view(tgid, name, peak_kb, hits=0):
    return {"tgid": tgid, "name": name, "comm": "qemu", "cids": [tgid * 10],
            "locked_peak_bytes": peak_kb * 1024, "limit_bytes": None,
            "needed_limit_bytes": peak_kb * 1024, "limit_hits": hits}


def test_demo(d):
    cs = [container(t * 10, t, mdev={"pin_calls": 2, "pin_pages_requested": 8},
                    passthrough={"dma_maps": 1, "replays": 0, "reaccounts": None})
          for t in (11, 12)]
    snap = {"vms": [vm_view(11, "web", 64), vm_view(12, "db", 32, hits=1)], "containers": cs,
            "events": {"pin": 3}, "drops": {"map_full": 0, "ringbuf": 0, "inflight": 0}}
    st = d.lines("demo-stat.json", [snap])
    vl = d.write("vmlck.txt", "web 11 16\nweb 11 64\ndb 12 32\ndb 12\n")
    lines, ok = report.demo(st, vl, 1)
    say(ok and any("peak locked 64 KiB [QEMU's VmLck peak 64 KiB]" in l for l in lines),
        "demo: figures equal to each VM's VmLck peak pass")
    lines, ok = report.demo(st, vl, 2)
    say(not ok and lines[-1].endswith("for db"), "demo: db's limit hits not the ENOMEMs seen: %s" % lines[-1])
    vl = d.write("vmlck2.txt", "web 11 68\ndb 12 32\nmail 13 4\n")
    lines, ok = report.demo(st, vl, 1)
    say(not ok and lines[-1].endswith("for mail, web") and any("mail (pid 13): not seen" in l for l in lines),
        "demo: a VM vfiopin missed and a peak that differs: %s" % lines[-1])


def prom(containers, map_full=0):
    t = ["# HELP vfiopin_container_info c", "# TYPE vfiopin_container_info gauge"]
    t += ['vfiopin_container_info{cid="%d",tgid="%d",comm="q"} 1' % (c, g) for c, g, _, _ in containers]
    t += ["# HELP vfiopin_pin_calls_total p", "# TYPE vfiopin_pin_calls_total counter"]
    t += ['vfiopin_pin_calls_total{cid="%d"} %d' % (c, n) for c, _, n, _ in containers]
    t += ["# HELP vfiopin_container_released r", "# TYPE vfiopin_container_released gauge"]
    t += ['vfiopin_container_released{cid="%d"} %d' % (c, r) for c, _, _, r in containers]
    t += ["# HELP vfiopin_drops_total d", "# TYPE vfiopin_drops_total counter",
          'vfiopin_drops_total{reason="map_full"} %d' % map_full]
    return "\n".join(t) + "\n"


def churn_dir(d, twice=False):
    """Two waves, one short VM each (tgids 2 and 3), the long VM 1."""
    root = os.path.join(d.path, "churn-twice" if twice else "churn")
    sub = "churn-twice/" if twice else "churn/"
    for i in (2, 3):
        d.lines(sub + "clients/%d.json" % i, [{"op": "pin", "npages": 4, "ret": 4}])
    drops = {"map_full": 0, "inflight": 0, "ringbuf": 0}
    long_ = container(1, 1, mdev={"pin_calls": 1})
    snaps = [{"containers": [long_, container(20, 2, released=True, mdev={"pin_calls": 1})], "drops": drops},
             {"containers": [long_, container(30, 3, released=True, mdev={"pin_calls": 1})]
              + ([container(20, 2, released=True, mdev={"pin_calls": 1})] if twice else []), "drops": drops},
             {"containers": [dict(long_, released=True)], "drops": drops}]
    d.lines(sub + "stat.jsonl", snaps)
    d.write(sub + "prom/1.prom", prom([(1, 1, 1, 0), (20, 2, 1, 1)]))
    d.write(sub + "prom/2.prom", prom([(1, 1, 1, 0), (30, 3, 1, 1)]))
    d.write(sub + "prom/10.prom", prom([(1, 1, 1, 1)]))
    d.write(sub + "prom/11.prom", prom([]))
    d.write(sub + "scrape-times", "0.2\n0.1\n")
    return root


def test_churn(d):
    lines, ok = report.churn(churn_dir(d), 1, 2, 2)
    fails = [l for l in lines if l.startswith("FAIL")]
    say(ok and not fails and sum(l.startswith("ok: churn: ") for l in lines) == 10
        and lines[-1].startswith("=== churn: scrape time during the churn: median 0.200 s"),
        "churn: a churn whose figures are the clients' passes its 10 checks%s" % (
            ": " + fails[0] if fails else ""))
    lines, ok = report.churn(churn_dir(d, twice=True), 1, 2, 2)
    say(not ok and any(l.startswith("FAIL: churn: stat: 2 short VMs reported released (1 more than once)")
                       for l in lines), "churn: a VM reported released twice fails")


def put(c, path, v):
    for k in path[:-1]:
        c = c.setdefault(k, {})
    c[path[-1]] = v


def modes_dir(d, tamper=None):
    """The five VMs of modes.sh with results their clients and the leaking
    driver agree with (tamper: a mode whose VM 2 maps once more, or
    "leak": kprobe mode's VM 5 leaks a page more, or "devices": kprobe mode
    claims the devices an invalidation notified)."""
    sub = "modes%s/" % (tamper or "")
    vms = {
        1: [{"op": "pin", "ret": 1}, {"op": "pin", "ret": -12, "errno": "ENOMEM"}, {"op": "unpin", "ret": 1},
            {"op": "map", "ret": 0}],
        2: [{"op": "map", "ret": 0}, {"op": "map", "ret": 0}, {"op": "unmap", "ret": 0}],
        3: [{"op": "pin", "ret": 1}],
        4: [{"op": "map", "ret": 0}, {"op": "map", "ret": -1, "errno": "ENOMEM"}],
        5: [{"op": "pin", "ret": 16}, {"op": "pin", "ret": 8}],
    }
    drv = {"pages": 8, "pinned": 8}
    os.makedirs(os.path.join(d.path, sub), exist_ok=True)
    with open(os.path.join(d.path, sub, "modes-vm5-driver.txt"), "w") as f:
        f.write("pages=8 pinned=8\n")
    oracle = report.mode_oracle({i: {"steps": st} for i, st in vms.items()}, drv)
    conts = []
    for i, steps in vms.items():
        pid = 100 + i
        peak_kb = 8 * i
        d.lines(sub + "modes-vm%d.json" % i,
                [{"event": "start", "pid": pid, "memlock": 65536}] + steps + [{"vmlck_kb": peak_kb}])
        c = {"tgid": pid, "cid": i, "released": True, "locked_pages": 0, "locked_peak_pages": peak_kb // 4,
             "limit_hits": 0, "limit_bytes": 65536, "latency": {"invalidate": None}}
        for f in report.MODE_FIELDS:
            if f not in (("locked_pages",), ("locked_peak_pages",), ("limit_bytes",), ("released",)):
                put(c, f, 0)
        for f in report.FALLBACK_NULL:
            put(c, f, None)
        for f, v in oracle[i].items():
            put(c, f, v)
        conts.append(c)
    for m in ("fentry", "kprobe"):
        cs = json.loads(json.dumps(conts))
        if tamper == m:
            cs[1]["passthrough"]["dma_maps"] += 1
        if tamper == "leak" and m == "kprobe":
            cs[4]["leaked_pins"] += 1
        if tamper == "devices" and m == "kprobe":
            cs[4]["invalidations"]["devices_notified"] = 2
        d.lines(sub + "modes-%s.json" % m, [{"mode": m, "containers": cs, "unmatched_end": 0,
                                             "drops": {"map_full": 0, "ringbuf": 0, "inflight": 0}}])
    return os.path.join(d.path, sub)


def test_modes(d):
    lines, ok = report.modes(modes_dir(d), ["fentry", "kprobe"])
    say(ok and lines[-1] == "modes-compare: pass" and sum(l.startswith("ok: ") for l in lines) == 10,
        "modes: two modes that agree with every client pass (%s)" % lines[-1])
    lines, ok = report.modes(modes_dir(d, "kprobe"), ["fentry", "kprobe"])
    say(not ok and any("kprobe: VM 2 differs from fentry mode: [('passthrough.dma_maps', 2, 3)]" in l
                       for l in lines) and any("kprobe: VM 2 against its client" in l for l in lines),
        "modes: a figure one mode gets wrong fails against the reference and the client")
    lines, ok = report.modes(modes_dir(d, "fentry"), ["fentry", "kprobe"])
    say(not ok and any("fentry: VM 2 against its client" in l for l in lines),
        "modes: a wrong reference fails against the client even where the other mode agrees with it")
    lines, ok = report.modes(modes_dir(d, "leak"), ["fentry", "kprobe"])
    say(not ok and any("kprobe: VM 5 against its client" in l and "leaked_pins" in l for l in lines),
        "modes: a leak one more than the leaking driver holds fails")
    lines, ok = report.modes(modes_dir(d, "devices"), ["fentry", "kprobe"])
    say(not ok and any("unavailable figures not null" in l and "devices_notified" in l for l in lines),
        "modes: a figure no fallback source gives, not null, fails")


def test_rows(d):
    p = d.lines("rows.json", [{"scenario": "S1", "kernel": "6.1", "result": "pass", "vmlck_seen_kb": "4 8",
                               "vmlck_expected_kb": "4 8", "driver": "mpin 1/1", "seconds": 2.25}])
    eq("scenario-rows: one row a result", report.scenario_rows(p),
       ["S1   6.1                    pass   4 8                          4 8                          "
        "mpin 1/1                         2.2"])
    eq("report: an unknown report is a usage error", run(report.main, "frob")[0], 2)


def main():
    for t in (test_vpq, test_bench, test_demo, test_churn, test_modes, test_rows):
        d = Dir()
        try:
            t(d)
        except Exception as e:  # a module that crashes on a test's input fails it
            say(False, "%s: %s: %s" % (t.__name__, type(e).__name__, e))
        d.t.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
