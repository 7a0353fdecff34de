#!/usr/bin/env python3
"""Check the Grafana dashboard and the Prometheus rules against the exporter.

    dashcheck.py DASHBOARD.json RULES.yml EXPOSITION OUTDIR

- the dashboard: a current schemaVersion, a Prometheus datasource
  variable that every panel and query uses, a host and a VM variable, ids
  unique, panels on the grid;
- every PromQL expression in it (panel targets and variable queries, with
  Grafana's variables replaced by sample values) parses: they are written
  to OUTDIR/dashboard-exprs.yml as recording rules for `promtool check
  rules`, which this script runs;
- every vfiopin metric the dashboard and the rules name is a family the
  exporter serves (its TYPE lines in EXPOSITION; _bucket/_sum/_count of
  histograms) or a series the rules record.
Prints one line per problem and exits 1, or a summary.
"""
import json
import re
import subprocess
import sys

METRIC = re.compile(r'\bvfiopin(?::[a-zA-Z0-9_:]+|_[a-zA-Z0-9_]+)')
VARS = {'$__rate_interval': '1m', '$__interval': '30s', '$__range': '1h',
        '${__range}': '1h', '$host': '.*', '$vm': '.*'}


def served_families(path):
    fams = {}
    for line in open(path, encoding='utf-8'):
        if line.startswith('# TYPE '):
            _, _, name, kind = line.split()
            fams[name] = kind
    names = set()
    for name, kind in fams.items():
        names.add(name)
        if kind == 'histogram':
            names |= {name + '_bucket', name + '_sum', name + '_count'}
    return names


def expand(expr):
    for k in sorted(VARS, key=len, reverse=True):
        expr = expr.replace(k, VARS[k])
    return expr


def label_values(q):
    """label_values(SELECTOR, label) -> SELECTOR (Grafana-only syntax)."""
    m = re.fullmatch(r'\s*label_values\((.*),\s*[a-zA-Z_]+\)\s*', q)
    return m.group(1) if m else q


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dash_path, rules_path, expo, outdir = argv[1:]
    errors = []
    try:
        dash = json.load(open(dash_path, encoding='utf-8'))
    except ValueError as e:
        print('dashcheck: %s: %s' % (dash_path, e))
        return 1
    if dash.get('schemaVersion', 0) < 36:
        errors.append('schemaVersion %s is not current (36 or later)' % dash.get('schemaVersion'))
    tvars = {v.get('name'): v for v in dash.get('templating', {}).get('list', [])}
    ds = tvars.get('datasource')
    if not ds or ds.get('type') != 'datasource' or ds.get('query') != 'prometheus':
        errors.append('no Prometheus datasource variable named "datasource"')
    for need in ('host', 'vm'):
        if need not in tvars:
            errors.append('no "%s" variable' % need)

    exprs = []   # (where, expr)
    for name, v in tvars.items():
        if v.get('type') != 'query':
            continue
        q = v.get('query')
        q = q.get('query') if isinstance(q, dict) else q
        exprs.append(('variable %s' % name, label_values(q or '')))
        if (v.get('datasource') or {}).get('uid') != '${datasource}':
            errors.append('variable %s does not use ${datasource}' % name)

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get('panels', []))

    ids = set()
    for p in walk(dash.get('panels', [])):
        where = 'panel %s "%s"' % (p.get('id'), p.get('title'))
        if p.get('id') in ids:
            errors.append('%s: id used twice' % where)
        ids.add(p.get('id'))
        g = p.get('gridPos', {})
        if not all(k in g for k in 'xywh') or g['x'] + g['w'] > 24:
            errors.append('%s: gridPos off the 24-column grid' % where)
        if p.get('type') == 'row':
            continue
        if (p.get('datasource') or {}).get('uid') != '${datasource}':
            errors.append('%s: does not use ${datasource}' % where)
        if not p.get('targets'):
            errors.append('%s: no query' % where)
        for t in p.get('targets', []):
            if (t.get('datasource') or {}).get('uid') != '${datasource}':
                errors.append('%s %s: does not use ${datasource}' % (where, t.get('refId')))
            exprs.append(('%s %s' % (where, t.get('refId')), t.get('expr', '')))

    served = served_families(expo)
    rules_text = open(rules_path, encoding='utf-8').read()
    recorded = set(re.findall(r'^\s*-?\s*record:\s*(\S+)', rules_text, re.M))
    known = served | recorded
    for where, e in exprs:
        for m in METRIC.findall(e):
            if m not in known:
                errors.append('%s: %s is not a metric the exporter serves' % (where, m))
    for m in set(METRIC.findall(rules_text)):
        if m not in known:
            errors.append('rules: %s is not a metric the exporter serves' % m)

    # every expression must parse: promtool checks them as recording rules
    out = '%s/dashboard-exprs.yml' % outdir
    with open(out, 'w', encoding='utf-8') as f:
        f.write('groups:\n  - name: dashboard\n    rules:\n')
        for i, (where, e) in enumerate(exprs):
            f.write('      # %s\n      - record: dashboard:expr:%d\n        expr: %s\n'
                    % (where, i, json.dumps(expand(e))))
    r = subprocess.run(['promtool', 'check', 'rules', out], capture_output=True, text=True)
    if r.returncode:
        errors.append('promtool rejects a dashboard expression:\n%s%s' % (r.stdout, r.stderr))

    for e in errors:
        print('dashcheck: %s' % e)
    if errors:
        return 1
    print('dashcheck: %d panels, %d expressions parse and name only served metrics'
          % (len(ids), len(exprs)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
