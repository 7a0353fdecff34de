// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "fields.h"
#include "output.h"
#include "vm.h"

/* The fields of each event after cid and tgid, with how to show each (VP_EVENTS). */
static const struct {
	const char *names[6];
	const char *fmt;
} fields[VP_EV_MAX] = {
#define VP_EV_FIELDS(id, name, phase, fmt_, ...) [VP_EV_##id] = {{__VA_ARGS__}, fmt_},
    VP_EVENTS(VP_EV_FIELDS)
#undef VP_EV_FIELDS
};

/* the length of the UTF-8 sequence at @s that is safe to print as is; 0 if none */
static size_t printable_len(const unsigned char *s)
{
	unsigned int cp, n, i;

	if (*s >= 0x20 && *s < 0x7f)
		return 1;
	if (*s < 0xc2 || *s > 0xf4)
		return 0; /* a control byte, a stray continuation, an overlong start */
	n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
	cp = *s & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogates, beyond Unicode, and the C1 controls */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

const char *vp_escape(char *buf, size_t len, const char *s, bool md)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return buf;
	/* each unit whole or not at all: a cut never leaves half an escape */
	while (*p) {
		size_t n = printable_len(p);

		if (n == 1 && (*p == '\\' || (md && *p == '|'))) {
			if (o + 2 >= len)
				break;
			buf[o++] = '\\';
			buf[o++] = (char)*p++;
		} else if (n) {
			if (o + n >= len)
				break;
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		} else {
			if (o + 4 >= len)
				break;
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p++);
		}
	}
	buf[o] = 0;
	return buf;
}

char *vp_printable(const char *s, bool md)
{
	size_t len = strlen(s);
	char *out;

	/* at most 4 bytes out for each byte in */
	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(4 * len + 1);
	if (out)
		vp_escape(out, 4 * len + 1, s, md);
	return out;
}

const char *vp_fmt_u64(char *buf, uint64_t u)
{
	char t[24];
	size_t k = 0, o = 0;

	do {
		t[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (k)
		buf[o++] = t[--k];
	buf[o] = 0;
	return buf;
}

const char *vp_fmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return vp_fmt_u64(buf, (uint64_t)v);
	buf[0] = '-';
	vp_fmt_u64(buf + 1, 0 - (uint64_t)v);
	return buf;
}

/* @t into @buf, cut to @len as snprintf cuts. */
static const char *put_str(char *buf, size_t len, const char *t)
{
	size_t n = strlen(t);

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = 0;
	return buf;
}

/*
 * @num / 2^@s rounded to an integer as printf rounds (to nearest, a tie
 * to even), @num below 2^63.
 */
static uint64_t round_shift(uint64_t num, unsigned int s)
{
	uint64_t q = num >> s, r = num & ((1ULL << s) - 1), half = 1ULL << (s - 1);

	return r > half || (r == half && (q & 1)) ? q + 1 : q;
}

const char *vp_fmt_bytes(char *buf, size_t len, uint64_t b)
{
	static const char unit[] = "KMGTPE";
	unsigned int s = 10;
	double v = (double)b;
	char t[32], *p = t;
	int u = 0;

	if (b < 1024) {
		p += strlen(vp_fmt_u64(p, b));
		*p++ = 'B';
		*p = 0;
		return put_str(buf, len, t);
	}
	if (b >= 1ULL << 53) {
		/* beyond a double's exact integers: as the exact path rounds, in floating point */
		for (u = -1; v >= 1024 && u < 5; u++)
			v /= 1024;
		snprintf(buf, len, v < 10 ? "%.1f%c" : "%.0f%c", v, unit[u]);
		return buf;
	}
	/* b / 2^s is exact in a double: the same figure as "%.1f" of it, in integers */
	while (b >> s >= 1024) {
		s += 10;
		u++;
	}
	if (b < 10ULL << s) {
		uint64_t q = round_shift(b * 10, s);

		p += strlen(vp_fmt_u64(p, q / 10));
		*p++ = '.';
		*p++ = (char)('0' + q % 10);
	} else {
		p += strlen(vp_fmt_u64(p, round_shift(b, s)));
	}
	*p++ = unit[u];
	*p = 0;
	return put_str(buf, len, t);
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *jnum_or_null(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *jhist(const struct vp_hist *h)
{
	json_t *a = json_array();

	for (int i = 0; h->count && i < VP_LAT_SLOTS; i++)
		if (h->slots[i])
			json_array_append_new(a, json_pack("{s:I,s:I,s:I}", "low",
							   (json_int_t)vp_lat_low(i), "high",
							   (json_int_t)vp_lat_high(i), "count",
							   (json_int_t)h->slots[i]));
	return json_pack("{s:I,s:I,s:o}", "count", (json_int_t)vp_hist_total(h), "sum",
			 (json_int_t)h->sum, "buckets", a);
}

static json_t *jrefhist(const struct vp_refhist *h)
{
	json_t *o = json_object();

	for (int i = 0; i < VP_REF_SLOTS; i++) {
		char k[16];

		if (!h->slots[i])
			continue;
		snprintf(k, sizeof(k), i == VP_REF_SLOTS - 1 ? "%d+" : "%d", i);
		json_object_set_new(o, k, jint(h->slots[i]));
	}
	return o;
}

static json_t *jlat(const struct vp_hist *h)
{
	return json_pack("{s:I,s:I,s:o,s:o}", "count", (json_int_t)vp_hist_total(h), "sum_ns",
			 (json_int_t)h->sum, "p50_ns", jnum_or_null(vp_hist_quantile(h, 0.5)),
			 "p99_ns", jnum_or_null(vp_hist_quantile(h, 0.99)));
}

/*
 * The "latency" object (@hists: the "histograms" object) of @r: null for
 * a histogram this mode cannot give or a row read without them.
 */
static json_t *jlats(const struct vp_row *r, bool hists)
{
	json_t *o = json_object();

	for (int k = 0; k < VP_LAT_MAX; k++) {
		const struct vp_lat_field *lf = &vp_lat_fields[k];
		bool none = !r->lat || !vp_flags_available(lf->flags, r->lacks);
		char key[32];

		snprintf(key, sizeof(key), hists ? "%s_ns" : "%s", lf->json);
		json_object_set_new(o, key,
				    none    ? json_null()
				    : hists ? jhist(&r->lat->h[k])
					    : jlat(&r->lat->h[k]));
	}
	return o;
}

/* A figure's JSON value: null where this mode cannot give it. */
static json_t *jfield(const struct vp_row *r, enum vp_field_id id)
{
	uint64_t v = vp_field_get(&r->c, id);

	if (!vp_field_available(id, r->lacks))
		return json_null();
	if (vp_fields[id].flags & VP_FF_SIGNED)
		return json_integer((json_int_t)(int64_t)v);
	return jint(v);
}

/*
 * The figures of one group (fields.h) into @o; a group other than the top
 * whose every figure is unavailable in this mode is null as a whole.
 */
static json_t *jgroup(const struct vp_row *r, enum vp_field_group g, json_t *o)
{
	bool any = false;

	for (int i = 0; i < VP_FLD_MAX; i++) {
		if (vp_fields[i].group != g)
			continue;
		json_object_set_new(o, vp_fields[i].json, jfield(r, i));
		any |= vp_field_available(i, r->lacks);
	}
	if (!any && g != VP_GRP_TOP && json_object_size(o)) {
		json_decref(o);
		return json_null();
	}
	return o;
}

/* An outside string as a JSON string: as is when it is UTF-8, else escaped. */
static json_t *jtext(const char *s)
{
	json_t *j = json_string(s);
	char *p;

	if (j)
		return j;
	p = vp_printable(s, false);
	j = p ? json_string(p) : NULL;
	free(p);
	return j ? j : json_null();
}

json_t *vp_json_row(const struct vp_row *r, bool hists)
{
	const struct vp_container *c = &r->c;
	json_t *o = json_object();

	json_object_set_new(o, "cid", jint(c->cid));
	json_object_set_new(o, "tgid", jint(c->tgid));
	json_object_set_new(o, "comm", jtext(r->comm));
	json_object_set_new(o, "seen_open", json_boolean(c->flags & VP_F_SEEN_OPEN));
	json_object_set_new(o, "released", json_boolean(c->flags & VP_F_RELEASED));
	/* the figures of fields.h, each group its object */
	jgroup(r, VP_GRP_TOP, o);
	for (int g = VP_GRP_TOP + 1; g < VP_GRP_MAX; g++) {
		json_t *go = json_object();

		if (g == VP_GRP_GROUPS) {
			/* groups attached now, by kind */
			json_object_set_new(go, "emulated", jint(c->groups_emulated));
			json_object_set_new(go, "iommu", jint(c->groups_iommu));
		}
		json_object_set_new(o, vp_field_group_names[g], jgroup(r, g, go));
	}
	/* derived from the figures */
	json_object_set_new(o, "locked_bytes", jint(r->locked_bytes));
	json_object_set_new(o, "limit_known", json_boolean(c->flags & VP_F_LIMIT_KNOWN));
	json_object_set_new(o, "unlimited", json_boolean(r->unlimited));
	json_object_set_new(o, "lock_cap", json_boolean(c->flags & VP_F_LOCK_CAP));
	json_object_set_new(o, "limit_bytes",
			    r->limit_bytes && !r->unlimited ? jint(r->limit_bytes) : json_null());
	json_object_set_new(o, "headroom_bytes",
			    isnan(r->headroom_ratio) ? json_null()
						     : json_integer(r->headroom_bytes));
	json_object_set_new(o, "headroom_ratio",
			    isnan(r->headroom_ratio) ? json_null() : json_real(r->headroom_ratio));
	json_object_set_new(o, "pins_per_s", json_real(r->pins_per_s));
	json_object_set_new(o, "latency", jlats(r, false));
	json_object_set_new(o, "refcount",
			    json_pack("{s:o,s:o}", "live", jrefhist(&c->ref_live), "bumps",
				      jrefhist(&c->ref_bump)));
	if (hists)
		json_object_set_new(o, "histograms", jlats(r, true));
	return o;
}

json_t *vp_json_snapshot(const struct vp_snapshot *s, bool hists)
{
	json_t *o = json_object(), *rows = json_array(), *ev = json_object(), *drops;

	json_object_set_new(o, "schema", json_string(VP_STAT_SCHEMA));
	json_object_set_new(o, "version", json_integer(VP_STAT_VERSION));
	json_object_set_new(o, "mode", s->mode ? json_string(s->mode) : json_null());
	json_object_set_new(o, "mlock_watch",
			    s->mlock_watch ? json_string(s->mlock_watch) : json_null());
	json_object_set_new(o, "ts_ns", jint(s->ts_ns));
	json_object_set_new(o, "interval_s", json_real(s->interval_s));
	drops = json_object();
	for (int i = 0; i < VP_GLOBALS_MAX; i++)
		json_object_set_new(vp_global_fields[i].drop ? drops : o, vp_global_fields[i].json,
				    jint(vp_global_get(&s->g, i)));
	json_object_set_new(o, "drops", drops);
	json_object_set_new(o, "retired", jint(s->retired));
	for (int i = 0; i < VP_EV_MAX; i++)
		json_object_set_new(ev, vp_event_names[i], jint(s->g.events[i]));
	json_object_set_new(o, "events", ev);
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(rows, vp_json_row(&s->rows[i], hists));
	json_object_set_new(o, "containers", rows);
	json_object_set_new(o, "vms", vp_json_vms(s));
	return o;
}

/* A VM name: null when unknown. */
static json_t *jname(const char *name)
{
	return name[0] ? jtext(name) : json_null();
}

json_t *vp_json_vm(const struct vp_snapshot *s, const struct vp_vm *vm)
{
	json_t *o = json_object(), *cids = json_array();

	json_object_set_new(o, "tgid", jint(vm->tgid));
	json_object_set_new(o, "comm", jtext(vm->comm));
	json_object_set_new(o, "name", jname(vm->name));
	json_object_set_new(o, "seen_open", json_boolean(vm->seen_open));
	json_object_set_new(o, "unlimited", json_boolean(vm->unlimited));
	json_object_set_new(o, "needed_from", json_string(vp_need_from_names[vm->need_from]));
	json_object_set_new(o, "next_passthrough_from",
			    json_string(vp_next_from_names[vm->next_from]));
	json_object_set_new(o, "process_vm_peak_bytes",
			    vm->sampled ? json_integer(vm->process_vm_peak) : json_null());
	for (size_t k = 0; k < vm->nrows; k++)
		json_array_append_new(cids, jint(s->rows[vm->rows[k]].c.cid));
	json_object_set_new(o, "cids", cids);
	/* the figures of vm.h; unknown (or the limit when unlimited): null */
	for (int k = 0; k < VP_VM_FLD_MAX; k++) {
		int64_t v;

		json_object_set_new(o, vp_vm_fields[k].json,
				    vp_vm_field_value(vm, k, &v) == VP_VM_NUMBER ? json_integer(v)
										 : json_null());
	}
	return o;
}

json_t *vp_json_vms(const struct vp_snapshot *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->vms.n; i++)
		json_array_append_new(a, vp_json_vm(s, &s->vms.vm[i]));
	return a;
}

json_t *vp_json_event(const struct vp_event *e)
{
	json_t *o = json_object();
	char comm[VP_COMM_LEN + 1];

	memcpy(comm, e->comm, VP_COMM_LEN);
	comm[VP_COMM_LEN] = 0;
	json_object_set_new(o, "ts_ns", jint(e->ts_ns));
	json_object_set_new(o, "event",
			    json_string(e->type < VP_EV_MAX ? vp_event_names[e->type] : "unknown"));
	json_object_set_new(o, "cid", jint(e->cid));
	json_object_set_new(o, "tgid", jint(e->tgid));
	json_object_set_new(o, "task_tgid", jint(e->cur_tgid));
	json_object_set_new(o, "task_comm", jtext(comm));
	if (e->type >= VP_EV_MAX)
		return o;
	for (int i = 0; i < 6 && fields[e->type].names[i]; i++) {
		const char *k = fields[e->type].names[i];
		uint64_t v = e->args[i];
		json_t *jv;

		switch (fields[e->type].fmt[i]) {
		case 'd':
			jv = json_integer((json_int_t)(int64_t)v);
			break;
		case 'b':
			jv = json_boolean(v);
			break;
		case 'l':
			jv = v == VP_LIMIT_UNLIMITED ? json_null() : jint(v);
			break;
		default:
			jv = jint(v);
		}
		json_object_set_new(o, k, jv);
	}
	if (e->dur_ns)
		json_object_set_new(o, "dur_ns", jint(e->dur_ns));
	return o;
}

int vp_json_print(FILE *f, json_t *j)
{
	int err = json_dumpf(j, f, JSON_COMPACT);

	if (!err && fputc('\n', f) == EOF)
		err = -1;
	fflush(f);
	return err;
}

int vp_format_event(char *buf, size_t len, const struct vp_event *e, uint64_t t0)
{
	char comm[VP_COMM_LEN + 1], safe[VP_ESC_LEN(VP_COMM_LEN)], dur[32];
	size_t off;
	int n;

	memcpy(comm, e->comm, VP_COMM_LEN);
	comm[VP_COMM_LEN] = 0;
	n = snprintf(buf, len, "%10.6f %-16s %7u cid=%-4u tgid=%-7u %-17s",
		     e->ts_ns >= t0 ? (double)(e->ts_ns - t0) / 1e9 : 0.0,
		     vp_escape(safe, sizeof(safe), comm, false), e->cur_tgid, e->cid, e->tgid,
		     e->type < VP_EV_MAX ? vp_event_names[e->type] : "unknown");
	if (n < 0 || (size_t)n >= len || e->type >= VP_EV_MAX)
		return n;
	off = (size_t)n;
	for (int i = 0; i < 6 && fields[e->type].names[i] && off < len; i++) {
		const char *k = fields[e->type].names[i];
		uint64_t v = e->args[i];

		switch (fields[e->type].fmt[i]) {
		case 'x':
			n = snprintf(buf + off, len - off, " %s=0x%" PRIx64, k, v);
			break;
		case 'd':
			n = snprintf(buf + off, len - off, " %s=%" PRId64, k, (int64_t)v);
			break;
		case 'b':
			n = snprintf(buf + off, len - off, " %s=%d", k, v ? 1 : 0);
			break;
		case 'l':
			if (v == VP_LIMIT_UNLIMITED)
				n = snprintf(buf + off, len - off, " %s=unlimited", k);
			else
				n = snprintf(buf + off, len - off, " %s=%" PRIu64, k, v);
			break;
		default:
			n = snprintf(buf + off, len - off, " %s=%" PRIu64, k, v);
		}
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	if (e->dur_ns && off < len)
		off += (size_t)snprintf(buf + off, len - off, " dur=%s",
					vp_fmt_ns(dur, sizeof(dur), (double)e->dur_ns));
	return (int)off;
}

/*
 * The table's columns, in order: those computed here, and figures of
 * fields.h under their COL heading ("-" where this mode cannot give them).
 */
enum col_kind { COL_LOCKED, COL_LIMIT, COL_HEAD, COL_RATE, COL_P50, COL_P99, COL_FIELD };

static const struct column {
	enum col_kind kind;
	enum vp_field_id field;
	const char *head; /* for the computed ones */
	int width;
} columns[] = {
    {COL_LOCKED, 0, "LOCKED", 8},
    {COL_LIMIT, 0, "LIMIT", 8},
    {COL_HEAD, 0, "HEAD%", 6},
    {COL_FIELD, VP_FLD_PAGES_PINNED, NULL, 7},
    {COL_FIELD, VP_FLD_PT_PAGES, NULL, 7},
    {COL_RATE, 0, "PINS/s", 8},
    {COL_P50, 0, "P50", 8},
    {COL_P99, 0, "P99", 8},
    {COL_FIELD, VP_FLD_INVALIDATIONS, NULL, 5},
    {COL_FIELD, VP_FLD_LIMIT_HITS, NULL, 5},
    {COL_FIELD, VP_FLD_LEAKED, NULL, 5},
};

/*
 * @n plus a cell: @s right-aligned in @width after a space, written at
 * @buf + @n as far as @len allows (NUL-terminated); the new length, as
 * snprintf counts it.  The table's hot path: no format string to parse.
 */
static int put_cell(char *buf, size_t len, int n, int width, const char *s)
{
	size_t sl = strlen(s), pad = width > 0 && (size_t)width > sl ? (size_t)width - sl : 0;
	size_t need = 1 + pad + sl, off = (size_t)n;
	char t[64];

	if (n < 0)
		return n;
	if (need >= sizeof(t)) {
		off = off < len ? off : len;
		return n + snprintf(buf + off, len - off, " %*s", width, s);
	}
	t[0] = ' ';
	memset(t + 1, ' ', pad);
	memcpy(t + 1 + pad, s, sl);
	if (off < len) {
		size_t k = need < len - 1 - off ? need : len - 1 - off;

		memcpy(buf + off, t, k);
		buf[off + k] = 0;
	}
	return n + (int)need;
}

int vp_format_heading(char *buf, size_t len)
{
	size_t off;
	int n = snprintf(buf, len, "%5s %7s %-15s", "CID", "TGID", "COMM");

	for (size_t i = 0; n >= 0 && i < sizeof(columns) / sizeof(columns[0]); i++) {
		const struct column *c = &columns[i];

		off = (size_t)n < len ? (size_t)n : len;
		n += snprintf(buf + off, len - off, " %*s", c->width,
			      c->kind == COL_FIELD ? vp_fields[c->field].col : c->head);
	}
	return n;
}

static void format_cell(char *cell, size_t len, const struct column *col, const struct vp_row *r)
{
	switch (col->kind) {
	case COL_LOCKED:
		/* the container's own charge: its VM's containers add up */
		if (r->charged_bytes < 0)
			snprintf(cell, len, "?");
		else
			vp_fmt_bytes(cell, len, (uint64_t)r->charged_bytes);
		break;
	case COL_LIMIT:
		if (r->unlimited)
			snprintf(cell, len, "unlim");
		else if (r->limit_bytes)
			vp_fmt_bytes(cell, len, r->limit_bytes);
		else
			snprintf(cell, len, "?");
		break;
	case COL_HEAD:
		if (!isnan(r->headroom_ratio))
			snprintf(cell, len, "%.1f", r->headroom_ratio * 100);
		else
			snprintf(cell, len, "-");
		break;
	case COL_RATE:
		snprintf(cell, len, "%.1f", r->pins_per_s);
		break;
	case COL_P50:
		vp_fmt_ns(cell, len, r->pin_p50_ns);
		break;
	case COL_P99:
		vp_fmt_ns(cell, len, r->pin_p99_ns);
		break;
	case COL_FIELD:
		if (!vp_field_available(col->field, r->lacks))
			snprintf(cell, len, "-");
		else if (len >= 21)
			vp_fmt_u64(cell, vp_field_get(&r->c, col->field));
		else
			snprintf(cell, len, "%llu",
				 (unsigned long long)vp_field_get(&r->c, col->field));
		break;
	}
}

int vp_format_row(char *buf, size_t len, const struct vp_row *r)
{
	const char *mark = (r->c.flags & VP_F_RELEASED)	   ? "x"
			   : (r->c.flags & VP_F_SEEN_OPEN) ? ""
							   : "~";
	char comm[16]; /* the column's 15 bytes, escaped, cut between units */
	int n = snprintf(buf, len, "%4u%-1s %7u %-15s", r->c.cid, mark, r->c.tgid,
			 vp_escape(comm, sizeof(comm), r->comm[0] ? r->comm : "?", false));

	for (size_t i = 0; n >= 0 && i < sizeof(columns) / sizeof(columns[0]); i++) {
		char cell[32];

		format_cell(cell, sizeof(cell), &columns[i], r);
		n = put_cell(buf, len, n, columns[i].width, cell);
	}
	return n;
}

/* The two header lines (the VMs' locked memory added up once each). */
static void print_header(FILE *f, const struct vp_snapshot *s)
{
	const struct vp_vms *v = &s->vms;
	struct vp_row t;
	char locked[16];
	uint64_t ev = 0;
	int64_t vm_locked = vp_vms_locked(v);

	vp_total(s, &t);
	for (int i = 0; i < VP_EV_MAX; i++)
		ev += s->g.events[i];
	fprintf(f,
		"vfiopin: %zu container%s, %zu VM%s, %s locked, %llu mdev pages, %llu passthrough "
		"pages, %.1f pins/s, %llu limit hits, %llu leaked pins\n",
		s->n, s->n == 1 ? "" : "s", v->n, v->n == 1 ? "" : "s",
		vp_fmt_bytes(locked, sizeof(locked), vm_locked > 0 ? (uint64_t)vm_locked : 0),
		(unsigned long long)t.c.pages_pinned, (unsigned long long)t.c.pt_pages,
		t.pins_per_s, (unsigned long long)t.c.limit_hits, (unsigned long long)t.c.leaked);
	/* the host-wide counters of fields.h: the drops, then the others */
	fprintf(f, "events %llu, drops:", (unsigned long long)ev);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0, n = 0; i < VP_GLOBALS_MAX; i++)
			if (vp_global_fields[i].drop == !pass)
				fprintf(f, "%s %s %llu",
					n++    ? ","
					: pass ? ";"
					       : "",
					vp_global_fields[i].text,
					(unsigned long long)vp_global_get(&s->g, i));
	fputc('\n', f);
}

void vp_print_table(FILE *f, const struct vp_snapshot *s)
{
	char line[256];
	const struct vp_vms *v = &s->vms;

	print_header(f, s);
	vp_format_heading(line, sizeof(line));
	fprintf(f, "%s\n", line);
	for (size_t i = 0; i < s->n; i++) {
		vp_format_row(line, sizeof(line), &s->rows[i]);
		fprintf(f, "%s\n", line);
	}
	if (v->n) {
		vp_format_vm_heading(line, sizeof(line));
		fprintf(f, "\n%s\n", line);
		for (size_t i = 0; i < v->n; i++) {
			vp_format_vm_row(line, sizeof(line), &v->vm[i]);
			fprintf(f, "%s\n", line);
		}
	}
}

/* The VM rows: TGID, COMM, the name, then every figure of vm.h with a column. */
#define VM_NAME_W 16
#define VM_COL_W  8

int vp_format_vm_heading(char *buf, size_t len)
{
	size_t off;
	int n = snprintf(buf, len, "%7s %-15s %-*s", "TGID", "COMM", VM_NAME_W, "VM");

	for (int k = 0; n >= 0 && k < VP_VM_FLD_MAX; k++) {
		if (!vp_vm_fields[k].col)
			continue;
		off = (size_t)n < len ? (size_t)n : len;
		n += snprintf(buf + off, len - off, " %*s", VM_COL_W, vp_vm_fields[k].col);
	}
	return n;
}

int vp_format_vm_row(char *buf, size_t len, const struct vp_vm *vm)
{
	char comm[16], name[VM_NAME_W + 1]; /* the columns' widths, escaped */
	int n =
	    snprintf(buf, len, "%7u%s%-15s %-*s", vm->tgid, vm->seen_open ? " " : "~",
		     vp_escape(comm, sizeof(comm), vm->comm[0] ? vm->comm : "?", false), VM_NAME_W,
		     vp_escape(name, sizeof(name), vm->name[0] ? vm->name : "-", false));

	for (int k = 0; n >= 0 && k < VP_VM_FLD_MAX; k++) {
		const struct vp_vm_field *fd = &vp_vm_fields[k];
		char cell[32];
		int64_t v;
		enum vp_vm_value how = vp_vm_field_value(vm, k, &v);

		if (!fd->col)
			continue;
		if (how == VP_VM_INFINITE)
			snprintf(cell, sizeof(cell), "unlim");
		else if (how == VP_VM_ABSENT)
			snprintf(cell, sizeof(cell), "?");
		else if (!strcmp(fd->unit, "bytes") && v >= 0)
			vp_fmt_bytes(cell, sizeof(cell), (uint64_t)v);
		else
			vp_fmt_i64(cell, v);
		n = put_cell(buf, len, n, VM_COL_W, cell);
	}
	return n;
}

static void print_lat(FILE *f, const char *what, const struct vp_hist *h)
{
	char p50[16], p99[16];

	fprintf(f, "\n%s: %llu samples, p50 %s, p99 %s\n", what,
		(unsigned long long)vp_hist_total(h),
		vp_fmt_ns(p50, sizeof(p50), vp_hist_quantile(h, 0.5)),
		vp_fmt_ns(p99, sizeof(p99), vp_hist_quantile(h, 0.99)));
	if (h->count)
		vp_hist_print(f, h, "nsecs", 1, 40);
}

void vp_print_hists(FILE *f, const struct vp_row *r)
{
	const struct vp_container *c = &r->c;

	char comm[VP_ESC_LEN(VP_COMM_LEN)];

	if (c->cid)
		fprintf(f, "container %u (tgid %u, %s)\n", c->cid, c->tgid,
			vp_escape(comm, sizeof(comm), r->comm[0] ? r->comm : "?", false));
	else
		fprintf(f, "all containers\n");
	for (int k = 0; k < VP_LAT_MAX; k++)
		if (!r->lat)
			fprintf(f, "\n%s: not read\n", vp_lat_fields[k].title);
		else if (vp_flags_available(vp_lat_fields[k].flags, r->lacks))
			print_lat(f, vp_lat_fields[k].title, &r->lat->h[k]);
	fprintf(f, "\nref_count of live pinned pages: %llu pages\n",
		(unsigned long long)vp_slots_total(c->ref_live.slots, VP_REF_SLOTS));
	vp_lin_print(f, c->ref_live.slots, VP_REF_SLOTS, "ref_count", 40);
	fprintf(f, "\nref_count after each page pin: %llu pins\n",
		(unsigned long long)vp_slots_total(c->ref_bump.slots, VP_REF_SLOTS));
	vp_lin_print(f, c->ref_bump.slots, VP_REF_SLOTS, "ref_count", 40);
}
