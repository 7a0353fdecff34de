// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus exposition of a snapshot.  One HELP and one TYPE line per
 * family, then that family's samples for every container.  A container
 * series carries the label cid, a VM series tgid: what identifies it.
 * What describes them (a container's owner and comm, a VM's comm and
 * name) is said once, in vfiopin_container_info and vfiopin_vm_info, to
 * be joined on (the "info metric" pattern).  Sizes in bytes, times in
 * seconds (base units); a figure a container does not have yet (its
 * RLIMIT_MEMLOCK before the first accounting) is left out, never 0.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fields.h"
#include "hist.h"
#include "output.h"
#include "prom.h"
#include "vm.h"

#define P "vfiopin_"

void vp_prom_label(char *out, size_t len, const char *in)
{
	size_t k = 0;

	if (!len)
		return;
	for (; *in && k + 3 < len; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch == '\\' || ch == '"') {
			out[k++] = '\\';
			out[k++] = (char)ch;
		} else if (ch == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else {
			out[k++] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
		}
	}
	out[k] = 0;
}

/* A row's label set, rendered once per row. */
struct labels {
	char s[24];
};

static void row_labels(struct labels *lb, const struct vp_row *r)
{
	snprintf(lb->s, sizeof(lb->s), "cid=\"%u\"", r->c.cid);
}

/*
 * One sample line, "vfiopin_NAME{LABELS[,EXTRA]} VALUE", written whole:
 * the exposition's hot path, tens of thousands of lines a scrape, without
 * a format string to parse.  @labels and @extra are rendered label pairs
 * (NULL: none); @neg: @v is an int64_t's bits.
 */
static void sample(FILE *f, const char *name, const char *labels, const char *extra, uint64_t v,
		   bool neg)
{
	char line[512], num[24];
	const char *parts[8] = {P,
				name,
				labels ? "{" : "",
				labels ? labels : "",
				extra ? "," : "",
				extra ? extra : "",
				labels ? "} " : " ",
				neg ? vp_fmt_i64(num, (int64_t)v) : vp_fmt_u64(num, v)};
	size_t n = 0;

	for (size_t i = 0; i < 8; i++) {
		size_t l = strlen(parts[i]);

		if (n + l + 2 > sizeof(line)) {
			/* a label set this long is not ours to hurry: the slow way */
			fprintf(f, P "%s%s%s%s%s%s%s\n", name, parts[2], parts[3], parts[4],
				parts[5], parts[6], parts[7]);
			return;
		}
		memcpy(line + n, parts[i], l);
		n += l;
	}
	line[n++] = '\n';
	fwrite(line, 1, n, f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

/* A float sample value: Prometheus spells the infinities +Inf / -Inf. */
static void value(FILE *f, double v)
{
	if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.17g", v);
}

/*
 * The `le` bounds of the latency histograms, in seconds: round numbers
 * from a microsecond to five minutes, for dashboards and alerts.  Each of
 * the BPF side's log-linear slots is counted under the first bound at or
 * above its middle, so a bound is off by at most 1/16 of its value.
 */
static const double le_s[] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
			      1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   0.5,
			      1,    2.5,    5,	  10,	30,	60,   300};
#define NLE (sizeof(le_s) / sizeof(le_s[0]))

/* @lb: the row's labels, or NULL for a host-wide histogram. */
static void write_hist(FILE *f, const char *name, const struct vp_hist *h, const struct labels *lb)
{
	__u64 cum[NLE] = {0}, count = 0;
	const char *l = lb ? lb->s : "", *sep = lb ? "," : "";
	size_t b = 0;

	/* the slots' own total: a read racing an update never breaks +Inf == count */
	for (int i = 0; h->count && i < VP_LAT_SLOTS; i++) {
		double mid;

		if (!h->slots[i])
			continue;
		mid = ((double)vp_lat_low(i) + (double)vp_lat_high(i)) / 2 / 1e9;
		while (b < NLE && le_s[b] < mid)
			b++;
		if (b < NLE)
			cum[b] += h->slots[i];
		count += h->slots[i];
	}
	for (size_t k = 1; k < NLE; k++)
		cum[k] += cum[k - 1];
	for (size_t k = 0; k < NLE; k++)
		fprintf(f, P "%s_bucket{%s%sle=\"%g\"} %llu\n", name, l, sep, le_s[k],
			(unsigned long long)cum[k]);
	fprintf(f, P "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, l, sep, (unsigned long long)count);
	fprintf(f, P "%s_sum%s%s%s %.9g\n", name, lb ? "{" : "", l, lb ? "}" : "",
		(double)h->sum / 1e9);
	fprintf(f, P "%s_count%s%s%s %llu\n", name, lb ? "{" : "", l, lb ? "}" : "",
		(unsigned long long)count);
}

/* The refcount="N" label of @slot ("15+": 15 or more). */
static void refcount_label(char *buf, size_t len, int slot)
{
	snprintf(buf, len, "refcount=\"%d%s\"", slot, slot == VP_REF_SLOTS - 1 ? "+" : "");
}

/* The highest ref_count a pin of this container reached (0: no pins). */
static int ref_top(const struct vp_row *r)
{
	for (int b = VP_REF_SLOTS - 1; b > 0; b--)
		if (r->c.ref_bump.slots[b] || r->c.ref_live.slots[b])
			return b;
	return 0;
}

static void write_refcounts(FILE *f, const char *name, const struct vp_snapshot *s,
			    const struct labels *lb, size_t off)
{
	char buf[32];

	for (size_t i = 0; i < s->n; i++) {
		const struct vp_refhist *h = (const void *)((const char *)&s->rows[i].c + off);

		for (int b = 1; b <= ref_top(&s->rows[i]); b++) {
			refcount_label(buf, sizeof(buf), b);
			sample(f, name, lb[i].s, buf, h->slots[b], false);
		}
	}
}

/*
 * The VMs: one series per process owning containers, labelled tgid (its
 * comm and name in vfiopin_vm_info), so that a sum over VMs counts no
 * memory twice.  The headroom ratio is derived here for alerts.
 */
static int write_vms(FILE *f, const struct vp_snapshot *s)
{
	const struct vp_vms v = s->vms;
	struct labels *lb = v.n ? calloc(v.n, sizeof(*lb)) : NULL;

	if (v.n && !lb)
		return -1;
	for (size_t i = 0; i < v.n; i++)
		snprintf(lb[i].s, sizeof(lb[i].s), "tgid=\"%u\"", v.vm[i].tgid);

	family(f, "vm_info", "gauge",
	       "Constant 1 per VM (tgid): its process's comm and its name (QEMU's -name; \"\" when "
	       "unknown), to join the VM series on (group_left).");
	for (size_t i = 0; i < v.n; i++) {
		char comm[3 * VP_COMM_LEN + 1], name[2 * VP_VM_NAME_LEN + 1];

		vp_prom_label(comm, sizeof(comm), v.vm[i].comm);
		vp_prom_label(name, sizeof(name), v.vm[i].name);
		fprintf(f, P "vm_info{tgid=\"%u\",comm=\"%s\",vm=\"%s\"} 1\n", v.vm[i].tgid, comm,
			name);
	}
	family(f, "vms", "gauge", "VMs (processes owning containers) the exporter reports now.");
	fprintf(f, P "vms %zu\n", v.n);
	for (int k = 0; k < VP_VM_FLD_MAX; k++) {
		const struct vp_vm_field *fd = &vp_vm_fields[k];

		family(f, fd->prom, fd->counter ? "counter" : "gauge", fd->help);
		for (size_t i = 0; i < v.n; i++) {
			const struct vp_vm *vm = &v.vm[i];
			int64_t val;
			enum vp_vm_value how = vp_vm_field_value(vm, k, &val);

			if (how == VP_VM_INFINITE)
				fprintf(f, P "%s{%s} +Inf\n", fd->prom, lb[i].s);
			else if (how == VP_VM_NUMBER)
				sample(f, fd->prom, lb[i].s, NULL, (uint64_t)val, true);
		}
	}
	family(f, "vm_headroom_ratio", "gauge",
	       "The VM's headroom as a fraction of its RLIMIT_MEMLOCK (1: nothing locked, 0: at "
	       "the limit); absent when unknown or unlimited.");
	for (size_t i = 0; i < v.n; i++) {
		const struct vp_vm *vm = &v.vm[i];

		if (!vp_vm_field_known(vm, VP_VM_FLD_HEADROOM) || vm->limit <= 0)
			continue;
		fprintf(f, P "vm_headroom_ratio{%s} ", lb[i].s);
		value(f, (double)vm->headroom / (double)vm->limit);
		fputc('\n', f);
	}
	free(lb);
	return 0;
}

int vp_prom_write(FILE *f, const struct vp_snapshot *s, const struct vp_prom_info *info)
{
	struct labels *lb = s->n ? calloc(s->n, sizeof(*lb)) : NULL;

	if (s->n && !lb)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		row_labels(&lb[i], &s->rows[i]);

	family(f, "info", "gauge",
	       "Constant 1; the exporter's version and how it observes the kernel.");
	fprintf(f, P "info{version=\"%s\",mode=\"%s\"} 1\n", info->version, info->mode);
	family(f, "containers", "gauge", "Containers the exporter reports now.");
	fprintf(f, P "containers %zu\n", s->n);
	family(f, "retired_containers_total", "counter",
	       "Released containers whose last figures were served, then dropped.");
	fprintf(f, P "retired_containers_total %llu\n", (unsigned long long)s->retired);
	/* the host-wide counters of fields.h; the drops one family by reason */
	for (int i = 0; i < VP_GLOBALS_MAX; i++) {
		const struct vp_global_field *gf = &vp_global_fields[i];
		unsigned long long v = vp_global_get(&s->g, i);

		if (!i || strcmp(gf->prom, vp_global_fields[i - 1].prom))
			family(f, gf->prom, "counter", gf->help);
		if (gf->drop)
			fprintf(f, P "%s{reason=\"%s\"} %llu\n", gf->prom, gf->json, v);
		else
			fprintf(f, P "%s %llu\n", gf->prom, v);
	}
	family(f, "events_total", "counter", "vfio_type1 events observed, by event.");
	for (int i = 0; i < VP_EV_MAX; i++)
		fprintf(f, P "events_total{event=\"%s\"} %llu\n", vp_event_names[i],
			(unsigned long long)s->g.events[i]);
	if (info->scrape_prev_s >= 0) {
		family(f, "exporter_last_render_seconds", "gauge",
		       "Time the previous /metrics response took to build.");
		fprintf(f, P "exporter_last_render_seconds %.9g\n", info->scrape_prev_s);
	}

	family(f, "container_info", "gauge",
	       "Constant 1 per container (cid): the process whose memory it charges (tgid, its "
	       "VM) and the comm of the thread that opened it, to join the container series on "
	       "(group_left).");
	for (size_t i = 0; i < s->n; i++) {
		char comm[3 * VP_COMM_LEN + 1];

		vp_prom_label(comm, sizeof(comm), s->rows[i].comm);
		fprintf(f, P "container_info{%s,tgid=\"%u\",comm=\"%s\"} 1\n", lb[i].s,
			s->rows[i].c.tgid, comm);
	}
	family(f, "container_seen_from_open", "gauge",
	       "1 when the container was observed from its open on; 0 when first seen mid-life "
	       "(vfiopin started later, or its events were dropped): its figures miss what came "
	       "before.");
	for (size_t i = 0; i < s->n; i++)
		sample(f, "container_seen_from_open", lb[i].s, NULL,
		       !!(s->rows[i].c.flags & VP_F_SEEN_OPEN), false);
	family(f, "container_released", "gauge",
	       "1 once the container has been released: its last figures, served until it is "
	       "dropped.");
	for (size_t i = 0; i < s->n; i++)
		sample(f, "container_released", lb[i].s, NULL,
		       !!(s->rows[i].c.flags & VP_F_RELEASED), false);

	/* every served figure of fields.h; none where this mode cannot give it */
	for (int k = 0; k < VP_FLD_MAX; k++) {
		const struct vp_field *fd = &vp_fields[k];

		if (!fd->prom)
			continue;
		family(f, fd->prom, fd->type == VP_FT_COUNTER ? "counter" : "gauge", fd->help);
		for (size_t i = 0; i < s->n; i++) {
			uint64_t v = vp_field_get(&s->rows[i].c, k);

			if (!vp_field_available(k, s->rows[i].lacks))
				continue;
			if (fd->flags & VP_FF_BYTES)
				v <<= VP_PAGE_SHIFT;
			sample(f, fd->prom, lb[i].s, NULL, v, fd->flags & VP_FF_SIGNED);
		}
	}

	if (write_vms(f, s)) {
		free(lb);
		return -1;
	}

	/* refcount series from 1 up to the highest ref_count each container reached */
	family(f, "pinned_pages_by_refcount", "gauge",
	       "mdev-pinned pages now, by their vfio_pfn ref_count (\"15+\": 15 or more).");
	write_refcounts(f, "pinned_pages_by_refcount", s, lb,
			offsetof(struct vp_container, ref_live));
	family(f, "pins_by_refcount_total", "counter",
	       "Pages pinned through vfio_pin_pages, by the ref_count the pin left.");
	write_refcounts(f, "pins_by_refcount_total", s, lb,
			offsetof(struct vp_container, ref_bump));

	/* latency: host-wide, every container since the exporter started */
	for (int k = 0; k < VP_LAT_MAX; k++) {
		const struct vp_lat_field *lf = &vp_lat_fields[k];
		char help[256];

		if (s->n && !vp_flags_available(lf->flags, s->rows[0].lacks))
			continue;
		snprintf(help, sizeof(help), "%s All containers.", lf->help);
		family(f, lf->prom, "histogram", help);
		if (s->lat_all)
			write_hist(f, lf->prom, &s->lat_all->h[k], NULL);
	}
	/* and per container, when asked for (--container-histograms) */
	for (int k = 0; info->container_hists && k < VP_LAT_MAX; k++) {
		const struct vp_lat_field *lf = &vp_lat_fields[k];
		char name[96];

		snprintf(name, sizeof(name), "container_%s", lf->prom);
		family(f, name, "histogram", lf->help);
		for (size_t i = 0; i < s->n; i++) {
			const struct vp_row *r = &s->rows[i];

			/* a container's histogram appears with its first observation */
			if (r->lat && vp_hist_total(&r->lat->h[k]) &&
			    vp_flags_available(lf->flags, r->lacks))
				write_hist(f, name, &r->lat->h[k], &lb[i]);
		}
	}
	free(lb);
	return ferror(f) ? -1 : 0;
}
