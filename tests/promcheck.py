#!/usr/bin/env python3
"""Structural checks of a Prometheus text exposition (format 0.0.4).

    promcheck.py FILE [--get 'NAME{label="v",...}']...

Checks what promtool's linter does not: every line parses (label values
with only the format's escapes), one HELP and one TYPE per family before
its samples, a family's samples together, no series twice, counters named
*_total, histogram buckets per series with increasing `le`, cumulative
counts, +Inf present and equal to _count, _sum present, and no kernel
address anywhere.  Prints "promcheck: N families, M samples" or each
problem, exit 1.  With --get, prints the value of each named series
(exit 1 if absent), for tests that compare against an oracle; its labels
are matched against the series' own joined with its info series', as a
PromQL group_left join would add them: vfiopin_container_info's (tgid,
comm) to a series with a cid, then vfiopin_vm_info's (comm, vm) by tgid
to one with a tgid, so that NAME{tgid="N"} selects a container of VM N.
"""
import math
import re
import sys
from collections import defaultdict

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
KADDR = re.compile(r'(0x)?ffff[0-9a-f]{12}', re.I)
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


class Bad(Exception):
    pass


def parse_labels(s, i):
    """Parse '{a="b",...}' from s[i] == '{'; return (tuple of pairs, next i)."""
    assert s[i] == '{'
    i += 1
    out = []
    while True:
        if s[i] == '}':
            return tuple(out), i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad('bad label name at column %d' % (i + 1))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad('label %s: expected ="' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad('label %s: unterminated value' % name)
            c = s[i]
            if c == '\\':
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    raise Bad('label %s: invalid escape \\%s' % (name, e))
                val.append('\n' if e == 'n' else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise Bad('label %s: raw newline' % name)
            else:
                val.append(c)
                i += 1
        if any(k == name for k, _ in out):
            raise Bad('label %s twice' % name)
        out.append((name, ''.join(val)))
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            raise Bad('expected , or } after label %s' % name)


def parse_value(v):
    if v in ('+Inf', 'Inf'):
        return math.inf
    if v == '-Inf':
        return -math.inf
    if v == 'NaN':
        return math.nan
    return float(v)


def family_of(name, types):
    for suf in ('_bucket', '_count', '_sum'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == 'histogram':
            return name[:-len(suf)]
    return name


def check(text):
    errors = []
    helps, types = {}, {}
    samples = {}           # (name, labels) -> value
    order = []             # families in the order their samples appear
    done = set()           # families whose samples have ended
    current = None
    if not text.endswith('\n'):
        errors.append('the exposition does not end with a newline')
    for no, line in enumerate(text.split('\n')[:-1], 1):
        try:
            if KADDR.search(line):
                raise Bad('looks like a kernel address')
            if line.startswith('#'):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                    fam = parts[2]
                    if not NAME.fullmatch(fam):
                        raise Bad('bad metric name %r' % fam)
                    table = helps if parts[1] == 'HELP' else types
                    if fam in table:
                        raise Bad('second %s for %s' % (parts[1], fam))
                    if fam in done or fam == current:
                        raise Bad('%s for %s after its samples' % (parts[1], fam))
                    if parts[1] == 'TYPE':
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise Bad('bad TYPE line')
                    table[fam] = parts[3] if len(parts) > 3 else ''
                continue
            if not line.strip():
                continue
            m = NAME.match(line)
            if not m:
                raise Bad('bad sample line')
            name, i = m.group(0), m.end()
            labels = ()
            if i < len(line) and line[i] == '{':
                labels, i = parse_labels(line, i)
            rest = line[i:].split()
            if len(rest) not in (1, 2) or line[i:i + 1] != ' ':
                raise Bad('expected " VALUE [TIMESTAMP]"')
            value = parse_value(rest[0])
            fam = family_of(name, types)
            if fam not in types or fam not in helps:
                raise Bad('sample of %s before its HELP and TYPE' % fam)
            if fam != current:
                if fam in done:
                    raise Bad('samples of %s are not together' % fam)
                if current:
                    done.add(current)
                current = fam
                order.append(fam)
            key = (name, labels)
            if key in samples:
                raise Bad('series %s%s twice' % (name, dict(labels)))
            samples[key] = value
            if types[fam] == 'counter' and not name.endswith('_total'):
                raise Bad('counter %s is not named *_total' % name)
            if types[fam] == 'counter' and (value < 0 or math.isnan(value)):
                raise Bad('counter %s is %r' % (name, value))
        except Bad as e:
            errors.append('line %d: %s: %s' % (no, e, line[:120]))
        except (ValueError, IndexError) as e:
            errors.append('line %d: unparsable (%s): %s' % (no, e, line[:120]))
    for fam in set(helps) ^ set(types):
        errors.append('%s has a HELP or a TYPE, not both' % fam)
    errors += check_histograms(samples, types)
    return errors, order, samples


def check_histograms(samples, types):
    errors = []
    series = defaultdict(lambda: {'buckets': [], 'count': None, 'sum': None})
    for (name, labels), v in samples.items():
        fam = family_of(name, types)
        if types.get(fam) != 'histogram':
            continue
        base = tuple(p for p in labels if p[0] != 'le')
        s = series[(fam, base)]
        if name.endswith('_bucket'):
            le = dict(labels).get('le')
            if le is None:
                errors.append('%s%s: bucket without le' % (name, dict(labels)))
                continue
            s['buckets'].append((parse_value(le), v))
        elif name.endswith('_count'):
            s['count'] = v
        elif name.endswith('_sum'):
            s['sum'] = v
        else:
            errors.append('%s: a histogram sample not _bucket/_count/_sum' % name)
    for (fam, base), s in series.items():
        where = '%s%s' % (fam, dict(base))
        b = s['buckets']   # in the order they were written
        les = [le for le, _ in b]
        if les != sorted(les) or len(set(les)) != len(les):
            errors.append('%s: le not strictly increasing' % where)
        if not b or b[-1][0] != math.inf:
            errors.append('%s: no +Inf bucket last' % where)
        counts = [c for _, c in b]
        if any(x > y for x, y in zip(counts, counts[1:])):
            errors.append('%s: bucket counts not cumulative' % where)
        if s['count'] is None or s['sum'] is None:
            errors.append('%s: _count or _sum missing' % where)
        elif b and b[-1][1] != s['count']:
            errors.append('%s: +Inf bucket %g != _count %g' % (where, b[-1][1], s['count']))
    return errors


def with_info(samples):
    """{(name, labels): value} with each series' labels joined with its info
    series' (vfiopin_container_info by cid, then vfiopin_vm_info by tgid);
    a series' own labels win."""
    infos = {'cid': {}, 'tgid': {}}
    for (name, lb), _ in samples.items():
        for key, info in (('cid', 'vfiopin_container_info'), ('tgid', 'vfiopin_vm_info')):
            d = dict(lb)
            if name == info and key in d:
                infos[key][d[key]] = d
    out = {}
    for (name, lb), v in samples.items():
        d = dict(lb)
        for key in ('cid', 'tgid'):
            if key in d:
                d = dict(infos[key].get(d[key], {}), **d)
        out[(name, tuple(sorted(d.items())))] = v
    return out


def parse_selector(sel):
    m = NAME.match(sel)
    if not m:
        raise SystemExit('promcheck: bad --get %r' % sel)
    labels = ()
    if m.end() < len(sel):
        labels, end = parse_labels(sel, m.end())
        if end != len(sel):
            raise SystemExit('promcheck: bad --get %r' % sel)
    return m.group(0), dict(labels)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, gets = argv[1], []
    rest = argv[2:]
    while rest:
        if rest[0] != '--get' or len(rest) < 2:
            print('promcheck: unknown argument %r' % rest[0], file=sys.stderr)
            return 2
        gets.append(rest[1])
        rest = rest[2:]
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as e:
        print('promcheck: %s: not UTF-8 at byte %d' % (path, e.start))
        return 1
    errors, order, samples = check(text)
    for e in errors[:50]:
        print('promcheck: %s: %s' % (path, e))
    if errors:
        print('promcheck: %d problems' % len(errors))
        return 1
    rc = 0
    joined = with_info(samples) if gets else {}
    for g in gets:
        name, want = parse_selector(g)
        hits = [v for (n, lb), v in joined.items()
                if n == name and all(dict(lb).get(k) == v2 for k, v2 in want.items())]
        if len(hits) != 1:
            print('promcheck: --get %s matches %d series' % (g, len(hits)))
            rc = 1
        else:
            print('%s %s' % (g, repr(hits[0]) if math.isnan(hits[0]) else '%.17g' % hits[0]))
    if not gets:
        print('promcheck: %d families, %d samples' % (len(order), len(samples)))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
