#!/usr/bin/env python3
"""vfiopin's own host benchmarks, one tree against another (make bench-self).

    bench_self.py BASE_TREE WORK_TREE OUT_DIR [--rounds N] [--containers N]

Each tree has built build/bench_top, build/bench_events and
build/export_synth.  Every round runs all three from one tree, then from
the other (which goes first alternates, so a drift of the machine lands on
both sides), and takes from each run one sample per metric:

  top_refresh_cpu_ms    CPU per vfiopin-top refresh over N containers
  bpf_<config>_<event>  an event's BPF program run time as the kernel
                        counts it (BPF_ENABLE_STATS), the empty program's
                        included: net figures can be 0 or less, and a
                        bench file holds durations only
  export_scrape_cpu_ms  the exporter's CPU per /metrics scrape (utime +
                        stime over SCRAPES scrapes, from /proc)
  export_bytes, export_gzip_bytes   the response's size

OUT_DIR gets base.json and work.json (vfiopin bench files) for
`vfiopin compare`.  Exit 2 when a benchmark fails.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

SCRAPES = 20


def run_json_lines(cmd):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith('{')]


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid, encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def scrape(port, gzip):
    req = urllib.request.Request('http://127.0.0.1:%d/metrics' % port)
    if gzip:
        req.add_header('Accept-Encoding', 'gzip')
    with urllib.request.urlopen(req, timeout=120) as r:
        return len(r.read())


def export_sample(tree, containers):
    """CPU per scrape and the two sizes, from one export_synth run."""
    p = subprocess.Popen([os.path.join(tree, 'build', 'export_synth'), str(containers)],
                         stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in p.stdout:
            if line.startswith('port '):
                port = int(line.split()[1])
                break
        if port is None:
            raise RuntimeError('export_synth did not say its port')
        size = scrape(port, False)
        gz = scrape(port, True)
        t0 = cpu_ticks(p.pid)
        for _ in range(SCRAPES):
            scrape(port, False)
        ticks = cpu_ticks(p.pid) - t0
    finally:
        p.terminate()
        p.wait()
    hz = os.sysconf('SC_CLK_TCK')
    # a tick is the resolution: never a 0 sample
    return max(ticks, 1) / hz / SCRAPES, size, gz


def one_run(tree, containers):
    m = {}
    top = run_json_lines([os.path.join(tree, 'build', 'bench_top'), str(containers), '50'])[0]
    m['top_refresh_cpu_ms'] = ('ms', top['cpu_s_per_refresh'] * 1e3)
    ev = run_json_lines([os.path.join(tree, 'build', 'bench_events'), '50000', '3'])[0]
    empty = ev['empty_program_ns']
    for config, events in sorted(ev['net_ns'].items()):
        for name, net in sorted(events.items()):
            if net is not None and name != '1page_pin_unpin':
                m['bpf_%s_%s_ns' % (config, name)] = ('ns', net + empty)
    cpu, size, gz = export_sample(tree, containers)
    m['export_scrape_cpu_ms'] = ('ms', cpu * 1e3)
    m['export_bytes'] = ('bytes', float(size))
    m['export_gzip_bytes'] = ('bytes', float(gz))
    return m


def bench_file(side, rev, runs, containers):
    metrics = {}
    for run in runs:
        for name, (unit, v) in run.items():
            metrics.setdefault(name, {'unit': unit, 'better': 'lower', 'samples': [],
                                      'what': name})['samples'].append(v)
    for mt in metrics.values():
        mt['per_run'] = [1] * len(mt['samples'])
    return {'schema': 'vfiopin.bench', 'version': 1,
            'workload': {'mode': 'host-self', 'containers': containers},
            'environment': {'side': side, 'tree': rev, 'cpus': os.cpu_count(),
                            'kernel_release': os.uname().release},
            'metrics': metrics}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('base')
    ap.add_argument('work')
    ap.add_argument('out')
    ap.add_argument('--rounds', type=int, default=8)
    ap.add_argument('--containers', type=int, default=1000)
    a = ap.parse_args()
    runs = {'base': [], 'work': []}
    t0 = time.time()
    for r in range(a.rounds):
        order = ['base', 'work'] if r % 2 == 0 else ['work', 'base']
        for side in order:
            try:
                runs[side].append(one_run(getattr(a, side), a.containers))
            except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError,
                    KeyError, IndexError) as e:
                print('bench-self: the %s tree\'s benchmarks failed: %s' % (side, e),
                      file=sys.stderr)
                return 2
        print('bench-self: round %d of %d, %.0f s' % (r + 1, a.rounds, time.time() - t0),
              file=sys.stderr)
    os.makedirs(a.out, exist_ok=True)
    for side in runs:
        with open(os.path.join(a.out, side + '.json'), 'w', encoding='utf-8') as f:
            json.dump(bench_file(side, getattr(a, side), runs[side], a.containers), f,
                      indent=1, sort_keys=True)
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
