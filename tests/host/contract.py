#!/usr/bin/env python3
"""The tracepoint contract, checked where it is written down.

    contract.py TOP

VP_EVENTS (bpf/vfiopin.h) is the contract: each event's name, its fields
after cid and tgid, their display formats.  Checked against it:

- every kernel series (kernel-patch/*/): the vfio_type1_* events its
  patches add are exactly the table's, and each one's TP_PROTO is
  (cid, tgid, FIELD...), an _end event's ending in duration_ns;
- the raw_tp programs (bpf/type1.bpf.c): each attaches to an event of
  the table and takes its TP_PROTO's arguments, by name, in order;
- each FMT has one letter per field;
- kernel-patch/README.md's table of events names the same fields;
- the series add the same lines apart from the per-base differences
  declared below.

Prints one "ok: ..." or "FAIL: ..." line per check; exit 1 on a failure.
"""
import collections
import glob
import os
import re
import sys

# What one kernel line's series adds that the other's does not, by file:
# since 6.2 mdev has no prompt and its users select it (lab-6.12.config).
PER_BASE = {
    '6.1': {('samples/Kconfig', '\tdepends on VFIO_MDEV && m')},
    '6.12': {('samples/Kconfig', '\tdepends on VFIO && m'), ('samples/Kconfig', '\tselect VFIO_MDEV')},
}

failed = 0


def say(ok, what):
    global failed
    print('%s: contract: %s' % ('ok' if ok else 'FAIL', what))
    failed += not ok


def table(top):
    text = open(os.path.join(top, 'bpf', 'vfiopin.h'), encoding='utf-8').read()
    body = text[text.index('#define VP_EVENTS(X)'):]
    body = body[:body.index('\n\n')].replace('\\\n', ' ')
    rows = {}
    for m in re.finditer(r'X\((\w+),\s*(\w+),\s*(\w+),\s*"(\w*)"((?:,\s*"\w+")*)\s*\)', body):
        rows[m.group(2)] = (m.group(4), re.findall(r'"(\w+)"', m.group(5)))
    return rows


def params(proto):
    """The argument names of a C parameter list."""
    out = []
    for p in proto.split(','):
        words = re.findall(r'\w+', p)
        if words:
            out.append(words[-1])
    return out


def added(base_dir):
    """{file: [added lines]} of a series, in order."""
    lines = collections.defaultdict(list)
    for p in sorted(glob.glob(os.path.join(base_dir, '0*.patch'))):
        f = None
        for l in open(p, encoding='utf-8', errors='replace'):
            if l.startswith('+++ '):
                f = l[6:].strip()
            elif l.startswith('+') and f:
                lines[f].append(l[1:].rstrip('\n'))
    return lines


def series_events(lines):
    """{event: TP_PROTO argument names} of the trace events a series adds."""
    text = '\n'.join(l for f, ls in lines.items() if f.endswith('.h') for l in ls)
    classes, events = {}, {}
    for m in re.finditer(r'DECLARE_EVENT_CLASS\(\s*(\w+),\s*TP_PROTO\(([^)]*)\)', text):
        classes[m.group(1)] = params(m.group(2))
    for m in re.finditer(r'DEFINE_EVENT\(\s*(\w+),\s*(\w+),\s*TP_PROTO\(([^)]*)\)', text):
        events[m.group(2)] = params(m.group(3))
        if m.group(1) in classes and classes[m.group(1)] != events[m.group(2)]:
            say(False, '%s: its TP_PROTO is not its class %s\'s' % (m.group(2), m.group(1)))
    for m in re.finditer(r'TRACE_EVENT\(\s*(\w+),\s*TP_PROTO\(([^)]*)\)', text):
        events[m.group(1)] = params(m.group(2))
    return {k[len('vfio_type1_'):]: v for k, v in events.items() if k.startswith('vfio_type1_')}


def main(argv):
    top = argv[1]
    rows = table(top)
    say(len(rows) >= 20, 'VP_EVENTS read: %d events' % len(rows))
    odd = [n for n, (fmt, f) in rows.items() if len(fmt) != len(f)]
    say(not odd, 'every FMT has one letter per field%s' % (': not ' + ', '.join(odd) if odd else ''))
    # the README's table: | `vfio_type1_NAME` [/ `_end`] | field, field (note) | ... |
    doc = {}
    for line in open(os.path.join(top, 'kernel-patch', 'README.md'), encoding='utf-8'):
        m = re.match(r'\| `vfio_type1_(\w+)`(?: / `(_\w+)`)? \| ([^|]*)\|', line)
        if not m:
            continue
        fields = [re.sub(r'\s*\(.*\)', '', f).strip() for f in m.group(3).split(',')]
        fields = [f for f in fields if f and f != 'duration_ns']
        doc[m.group(1)] = fields
        if m.group(2):  # "dma_map_begin / _end": the other of the pair
            doc[re.sub(r'_[a-z]+$', m.group(2), m.group(1))] = fields
    bad = sorted(n for n in set(rows) | set(doc) if doc.get(n) != rows.get(n, (0, None))[1])
    say(not bad, "kernel-patch/README.md's table names every event with the table's fields%s"
        % (': not ' + ', '.join(bad) if bad else ''))
    bases = sorted(os.path.basename(os.path.dirname(p))
                   for p in glob.glob(os.path.join(top, 'kernel-patch', '*', 'series')))
    all_lines = {}
    for base in bases:
        lines = added(os.path.join(top, 'kernel-patch', base))
        all_lines[base] = lines
        ev = series_events(lines)
        say(set(ev) == set(rows), '[%s] the series adds the table\'s %d events (missing %s, extra %s)'
            % (base, len(rows), sorted(set(rows) - set(ev)) or 'none', sorted(set(ev) - set(rows)) or 'none'))
        bad = []
        for name, (fmt, fields) in rows.items():
            want = ['cid', 'tgid'] + fields
            got = ev.get(name)
            if got is None:
                continue
            if name.endswith('_end') and got[-1:] == ['duration_ns']:
                got = got[:-1]
            if got != want:
                bad.append('%s: TP_PROTO %s, the table %s' % (name, got, want))
        say(not bad, '[%s] every TP_PROTO is (cid, tgid, the table\'s fields)%s'
            % (base, ': ' + '; '.join(bad) if bad else ''))
    # the raw_tp programs, against the default line's TP_PROTOs
    src = open(os.path.join(top, 'bpf', 'type1.bpf.c'), encoding='utf-8').read()
    progs = re.findall(r'SEC\("raw_tp/vfio_type1_(\w+)"\)\s*int\s+BPF_PROG\(\s*\w+\s*,([^)]*)\)', src)
    protos = series_events(all_lines[bases[0]])
    bad = [n for n, p in progs if n not in rows or params(p) != protos.get(n)]
    say(len(progs) >= 10 and not bad,
        '%d raw_tp programs, each on an event of the table with its TP_PROTO\'s arguments%s'
        % (len(progs), ': not so for ' + ', '.join(bad) if bad else ''))
    # the series alike apart from the declared per-base lines
    if len(bases) > 1:
        count = {b: collections.Counter((f, l) for f, ls in all_lines[b].items() for l in ls)
                 for b in bases}
        for b in bases:
            others = [o for o in bases if o != b]
            extra = set()
            for o in others:
                extra |= set((count[b] - count[o]).keys())
            undeclared = sorted(extra - PER_BASE.get(b, set()))
            say(not undeclared, '[%s] adds the other series\' lines but for its declared '
                'per-base ones (%d)%s' % (b, len(extra), ': undeclared ' + repr(undeclared[:3])
                                          if undeclared else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
