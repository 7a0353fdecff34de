// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus exposition of a snapshot.  One HELP and one TYPE line per
 * family, then that family's samples for every container; container
 * series carry the labels cid, tgid and comm.  Sizes in bytes, times in
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
	char s[96];
};

static void row_labels(struct labels *lb, const struct vp_row *r)
{
	char comm[3 * VP_COMM_LEN + 1];

	vp_prom_label(comm, sizeof(comm), r->comm);
	snprintf(lb->s, sizeof(lb->s), "cid=\"%u\",tgid=\"%u\",comm=\"%s\"", r->c.cid, r->c.tgid,
		 comm);
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

#define F(field) offsetof(struct vp_container, field)

/* Latency histograms, from the log2 nanosecond histograms. */
static const struct {
	const char *name;
	const char *help;
	size_t off;
} hists[] = {
    {"pin_duration_seconds", "Time of one vfio_pin_pages call.", F(pin_ns)},
    {"pin_page_duration_seconds", "Time per page of vfio_pin_pages calls (call time / pages).",
     F(pin_page_ns)},
    {"unpin_duration_seconds", "Time of one vfio_unpin_pages call.", F(unpin_ns)},
    {"unpin_page_duration_seconds", "Time per page of vfio_unpin_pages calls.", F(unpin_page_ns)},
    {"invalidation_duration_seconds", "Time to invalidate vendor-driver pins for one DMA unmap.",
     F(inv_ns)},
    {"dma_map_duration_seconds", "Time of a VFIO_IOMMU_MAP_DMA that pinned pages.", F(map_ns)},
    {"replay_duration_seconds", "Time to replay the mappings into a new IOMMU domain.",
     F(replay_ns)},
};

static void write_hist(FILE *f, const char *name, const struct vp_hist *h, const struct labels *lb)
{
	/* the slots' own total: a read racing an update never breaks +Inf == count */
	__u64 count = vp_slots_total(h->slots, VP_LOG2_SLOTS), cum = 0;
	int slot = 0;

	/* slot i holds whole nanoseconds up to 2^i - 1: all <= 2^i ns */
	for (int i = VP_PROM_LE_FIRST; i <= VP_PROM_LE_LAST; i += VP_PROM_LE_STEP) {
		for (; slot <= i && slot < VP_LOG2_SLOTS; slot++)
			cum += h->slots[slot];
		fprintf(f, P "%s_bucket{%s,le=\"%.12g\"} %llu\n", name, lb->s,
			(double)(1ULL << i) / 1e9, (unsigned long long)cum);
	}
	fprintf(f, P "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, lb->s, (unsigned long long)count);
	fprintf(f, P "%s_sum{%s} %.9g\n", name, lb->s, (double)h->sum / 1e9);
	fprintf(f, P "%s_count{%s} %llu\n", name, lb->s, (unsigned long long)count);
}

static void refcount_label(char *buf, size_t len, int slot)
{
	if (slot == VP_REF_SLOTS - 1)
		snprintf(buf, len, "%d+", slot);
	else
		snprintf(buf, len, "%d", slot);
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
	char buf[16];

	for (size_t i = 0; i < s->n; i++) {
		const struct vp_refhist *h = (const void *)((const char *)&s->rows[i].c + off);

		if (s->rows[i].partial)
			continue;

		for (int b = 1; b <= ref_top(&s->rows[i]); b++) {
			refcount_label(buf, sizeof(buf), b);
			fprintf(f, P "%s{%s,refcount=\"%s\"} %llu\n", name, lb[i].s, buf,
				(unsigned long long)h->slots[b]);
		}
	}
}

int vp_prom_write(FILE *f, const struct vp_snapshot *s, const struct vp_prom_info *info)
{
	static const char *const drops[] = {"map_full", "ringbuf", "inflight"};
	const __u64 dropv[] = {s->g.drop_map_full, s->g.drop_ringbuf, s->g.drop_inflight};
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
	       "Released containers reported once and then dropped.");
	fprintf(f, P "retired_containers_total %llu\n", (unsigned long long)s->retired);
	family(f, "drops_total", "counter",
	       "Observations lost: no room for a container, the event stream full, or no room to "
	       "remember a call in flight.");
	for (size_t i = 0; i < 3; i++)
		fprintf(f, P "drops_total{reason=\"%s\"} %llu\n", drops[i],
			(unsigned long long)dropv[i]);
	family(f, "unmatched_ends_total", "counter",
	       "Call ends seen without their beginning (attached during the call).");
	fprintf(f, P "unmatched_ends_total %llu\n", (unsigned long long)s->g.unmatched_end);
	family(f, "events_total", "counter", "vfio_type1 events observed, by event.");
	for (int i = 0; i < VP_EV_MAX; i++)
		fprintf(f, P "events_total{event=\"%s\"} %llu\n", vp_event_names[i],
			(unsigned long long)s->g.events[i]);
	if (info->scrape_prev_s >= 0) {
		family(f, "exporter_last_render_seconds", "gauge",
		       "Time the previous /metrics response took to build.");
		fprintf(f, P "exporter_last_render_seconds %.9g\n", info->scrape_prev_s);
	}

	family(f, "container_seen_from_open", "gauge",
	       "1 when the container was observed from its open on; 0 when first seen mid-life "
	       "(vfiopin started later, or its events were dropped): its figures miss what came "
	       "before.");
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, P "container_seen_from_open{%s} %d\n", lb[i].s,
			!!(s->rows[i].c.flags & VP_F_SEEN_OPEN));
	family(f, "container_released", "gauge",
	       "1 once the container has been released: its last report before it is dropped.");
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, P "container_released{%s} %d\n", lb[i].s,
			!!(s->rows[i].c.flags & VP_F_RELEASED));

	/* every served figure of fields.h; none where this mode cannot give it */
	for (int k = 0; k < VP_FLD_MAX; k++) {
		const struct vp_field *fd = &vp_fields[k];

		if (!fd->prom)
			continue;
		family(f, fd->prom, fd->type == VP_FT_COUNTER ? "counter" : "gauge", fd->help);
		for (size_t i = 0; i < s->n; i++) {
			uint64_t v = vp_field_get(&s->rows[i].c, k);

			if (!vp_field_available(k, s->rows[i].partial))
				continue;
			if (fd->flags & VP_FF_BYTES)
				v <<= VP_PAGE_SHIFT;
			if (fd->flags & VP_FF_SIGNED)
				fprintf(f, P "%s{%s} %lld\n", fd->prom, lb[i].s,
					(long long)(int64_t)v);
			else
				fprintf(f, P "%s{%s} %llu\n", fd->prom, lb[i].s,
					(unsigned long long)v);
		}
	}

	family(f, "limit_bytes", "gauge",
	       "The owner's RLIMIT_MEMLOCK (+Inf: unlimited or CAP_IPC_LOCK); absent until type1 "
	       "first charges the container.");
	for (size_t i = 0; i < s->n; i++) {
		const struct vp_row *r = &s->rows[i];

		if (!(r->c.flags & VP_F_LIMIT_KNOWN))
			continue;
		fprintf(f, P "limit_bytes{%s} ", lb[i].s);
		value(f, r->unlimited ? INFINITY : (double)r->limit_bytes);
		fputc('\n', f);
	}
	family(f, "headroom_bytes", "gauge",
	       "RLIMIT_MEMLOCK minus locked memory (negative: over the limit); absent when the "
	       "limit is unknown or unlimited.");
	for (size_t i = 0; i < s->n; i++)
		if (!isnan(s->rows[i].headroom_ratio))
			fprintf(f, P "headroom_bytes{%s} %lld\n", lb[i].s,
				(long long)s->rows[i].headroom_bytes);
	family(f, "headroom_ratio", "gauge",
	       "Headroom as a fraction of RLIMIT_MEMLOCK (1: nothing locked, 0: at the limit); "
	       "absent when unknown or unlimited.");
	for (size_t i = 0; i < s->n; i++)
		if (!isnan(s->rows[i].headroom_ratio)) {
			fprintf(f, P "headroom_ratio{%s} ", lb[i].s);
			value(f, s->rows[i].headroom_ratio);
			fputc('\n', f);
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

	for (size_t k = 0; k < sizeof(hists) / sizeof(hists[0]); k++) {
		family(f, hists[k].name, "histogram", hists[k].help);
		for (size_t i = 0; i < s->n; i++) {
			struct vp_hist h;

			memcpy(&h, (const char *)&s->rows[i].c + hists[k].off, sizeof(h));
			/* a container's histogram appears with its first observation */
			if (vp_slots_total(h.slots, VP_LOG2_SLOTS) &&
			    !(s->rows[i].partial && hists[k].off == F(inv_ns)))
				write_hist(f, hists[k].name, &h, &lb[i]);
		}
	}
	free(lb);
	return ferror(f) ? -1 : 0;
}
