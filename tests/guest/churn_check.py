#!/usr/bin/env python3
"""The churn test's figures against its clients' own results (churn.sh).

    churn_check.py DIR LONG_TGID LIFETIMES WAVES

DIR holds stat.jsonl (one `vfiopin stat --json` snapshot a line),
prom/N.prom (the exporter's scrapes, in order), clients/N.json (each short
VM's own step lines) and long.json (the long-lived VM's).  Prints one
"ok: ..." or "FAIL: ..." line per check.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from promcheck import check, with_info  # noqa: E402


def say(ok, what):
    print('%s: churn: %s' % ('ok' if ok else 'FAIL', what))


def client_pins(path):
    """Successful 4-page pins of one client, from its own step lines."""
    n = 0
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if line.startswith('{'):
            step = json.loads(line)
            n += step.get('op') == 'pin' and step.get('ret') == step.get('npages')
    return n


def main(argv):
    d, long_tgid, lifetimes, waves = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    clients = glob.glob(os.path.join(d, 'clients', '*.json'))
    pins = sum(client_pins(p) for p in clients)
    say(len(clients) == lifetimes and pins == lifetimes,
        '%d clients, %d pin calls that succeeded (want %d each)' % (len(clients), pins, lifetimes))

    # stat: a snapshot per wave, then the one at exit
    snaps = [json.loads(l) for l in open(os.path.join(d, 'stat.jsonl'), encoding='utf-8')
             if l.strip()]
    say(len(snaps) >= waves, '%d stat snapshots for %d waves' % (len(snaps), waves))
    released, missing_long, bad_long = {}, 0, 0
    for s in snaps[:waves]:
        rows = [c for c in s['containers'] if c['tgid'] == long_tgid]
        missing_long += not rows
        bad_long += bool(rows) and rows[0]['mdev']['pin_calls'] != 1
    for s in snaps:
        for c in s['containers']:
            if c['released'] and c['tgid'] != long_tgid:
                released.setdefault(c['cid'], []).append(c['mdev']['pin_calls'])
    say(missing_long == 0 and bad_long == 0,
        'stat: the long-lived VM in every snapshot with its 1 pin call '
        '(missing from %d, wrong in %d)' % (missing_long, bad_long))
    twice = sum(len(v) > 1 for v in released.values())
    total = sum(sum(v) for v in released.values())
    say(len(released) == lifetimes and twice == 0 and total == pins,
        'stat: %d short VMs reported released (%d more than once), %d pin calls in them; '
        'the clients: %d, %d' % (len(released), twice, total, lifetimes, pins))
    last = snaps[-1]
    say(last['drops']['map_full'] == 0 and last['drops']['inflight'] == 0,
        'stat: drops %s' % json.dumps(last['drops'], sort_keys=True))

    # the exporter: a scrape per wave, then two after the long VM left
    proms = sorted(glob.glob(os.path.join(d, 'prom', '*.prom')),
                   key=lambda p: int(os.path.basename(p).split('.')[0]))
    say(len(proms) == waves + 2, '%d scrapes for %d waves' % (len(proms), waves))
    seen, bad, missing_long, last_drops = {}, [], 0, None
    for i, p in enumerate(proms):
        errors, _, samples = check(open(p, encoding='utf-8').read())
        if errors:
            bad.append('%s: %s' % (os.path.basename(p), errors[0]))
            continue
        by = {}
        for (name, labels), v in with_info(samples).items():
            lb = dict(labels)
            if 'cid' in lb:
                by.setdefault(lb['cid'], {'tgid': int(lb['tgid'])})[name] = v
            if name == 'vfiopin_drops_total' and lb.get('reason') == 'map_full':
                last_drops = v
        longs = [c for c in by.values() if c['tgid'] == long_tgid]
        if i < waves and not (longs and longs[0].get('vfiopin_pin_calls_total') == 1):
            missing_long += 1
        for cid, c in by.items():
            if c.get('vfiopin_container_released') == 1 and c['tgid'] != long_tgid:
                seen.setdefault(cid, []).append(c.get('vfiopin_pin_calls_total', 0))
    say(not bad, 'export: every scrape a valid exposition%s' % ('' if not bad else ': ' + bad[0]))
    say(missing_long == 0,
        'export: the long-lived VM in every scrape during the churn with its 1 pin call '
        '(missing or wrong in %d)' % missing_long)
    twice = sum(len(v) > 1 for v in seen.values())
    total = sum(sum(v) for v in seen.values())
    say(len(seen) == lifetimes and twice == 0 and total == pins,
        'export: %d short VMs served released (%d more than once), %d pin calls in them; '
        'the clients: %d, %d' % (len(seen), twice, total, lifetimes, pins))
    say(last_drops == 0, 'export: map_full drops %s' % last_drops)
    # reported, not judged: the machine's load decides it
    times = sorted(float(t) for t in open(os.path.join(d, 'scrape-times')) if t.strip())
    if times:
        print('=== churn: scrape time during the churn: median %.3f s, slowest %.3f s' %
              (times[len(times) // 2], times[-1]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
