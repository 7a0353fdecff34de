// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "fields.h"
#include "snapshot.h"
#include "vm.h"

const char *const vp_sort_names[VP_SORT_MAX] = {
    [VP_SORT_CID] = "cid",	     [VP_SORT_TGID] = "tgid",	[VP_SORT_LOCKED] = "locked",
    [VP_SORT_HEADROOM] = "headroom", [VP_SORT_MDEV] = "mdev",	[VP_SORT_PT] = "pt",
    [VP_SORT_RATE] = "rate",	     [VP_SORT_P99] = "p99",	[VP_SORT_INV] = "inv",
    [VP_SORT_HITS] = "hits",	     [VP_SORT_LEAKS] = "leaks",
};

void vp_row_derive(struct vp_row *r, const struct vp_container *c, const struct vp_container *prev,
		   double dt)
{
	memset(r, 0, sizeof(*r));
	r->c = *c;
	memcpy(r->comm, c->comm, VP_COMM_LEN);
	r->comm[VP_COMM_LEN] = 0;
	r->locked_bytes = c->locked_vm << VP_PAGE_SHIFT;
	r->charged_bytes = (int64_t)(c->charged << VP_PAGE_SHIFT);
	r->unlimited = (c->flags & VP_F_LIMIT_KNOWN) &&
		       (c->limit == VP_LIMIT_UNLIMITED || (c->flags & VP_F_LOCK_CAP));
	r->limit_bytes = (c->flags & VP_F_LIMIT_KNOWN) ? c->limit : 0;
	if (r->limit_bytes && !r->unlimited) {
		r->headroom_bytes = (int64_t)r->limit_bytes - (int64_t)r->locked_bytes;
		r->headroom_ratio = (double)r->headroom_bytes / (double)r->limit_bytes;
	} else {
		r->headroom_bytes = 0;
		r->headroom_ratio = NAN;
	}
	vp_row_rate(r, prev, dt);
	r->pin_p50_ns = r->pin_p99_ns = r->unpin_p50_ns = r->unpin_p99_ns = r->inv_p99_ns = -1;
}

void vp_row_rate(struct vp_row *r, const struct vp_container *prev, double dt)
{
	r->pins_per_s = 0;
	if (prev && dt > 0 && r->c.pin_calls >= prev->pin_calls)
		r->pins_per_s = (double)(r->c.pin_calls - prev->pin_calls) / dt;
}

void vp_row_latency(struct vp_row *r, const struct vp_lat *lat)
{
	static const double p[2] = {0.50, 0.99};
	double q[2];

	vp_hist_quantiles(&lat->h[VP_LAT_PIN], p, q, 2);
	r->pin_p50_ns = q[0];
	r->pin_p99_ns = q[1];
	vp_hist_quantiles(&lat->h[VP_LAT_UNPIN], p, q, 2);
	r->unpin_p50_ns = q[0];
	r->unpin_p99_ns = q[1];
	r->inv_p99_ns = vp_hist_quantile(&lat->h[VP_LAT_INV], 0.99);
}

void vp_lat_add(struct vp_lat *a, const struct vp_lat *b)
{
	for (int k = 0; k < VP_LAT_MAX; k++)
		vp_hist_add(&a->h[k], &b->h[k]);
}

int vp_sort_parse(const char *name)
{
	for (int i = 0; i < VP_SORT_MAX; i++)
		if (!strcmp(name, vp_sort_names[i]))
			return i;
	return -1;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_dbl_desc(double a, double b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_rows(const struct vp_row *a, const struct vp_row *b, enum vp_sort key)
{
	int r = 0;

	switch (key) {
	case VP_SORT_TGID:
		r = -cmp_u64_desc(a->c.tgid, b->c.tgid);
		break;
	case VP_SORT_LOCKED:
		r = cmp_dbl_desc((double)a->charged_bytes, (double)b->charged_bytes);
		break;
	case VP_SORT_HEADROOM: {
		/* least headroom first; unknown last */
		double ha = isnan(a->headroom_ratio) ? 2 : a->headroom_ratio;
		double hb = isnan(b->headroom_ratio) ? 2 : b->headroom_ratio;

		r = -cmp_dbl_desc(ha, hb);
		break;
	}
	case VP_SORT_MDEV:
		r = cmp_u64_desc(a->c.pages_pinned, b->c.pages_pinned);
		break;
	case VP_SORT_PT:
		r = cmp_u64_desc(a->c.pt_pages, b->c.pt_pages);
		break;
	case VP_SORT_RATE:
		r = cmp_dbl_desc(a->pins_per_s, b->pins_per_s);
		break;
	case VP_SORT_P99:
		r = cmp_dbl_desc(a->pin_p99_ns, b->pin_p99_ns);
		break;
	case VP_SORT_INV:
		r = cmp_u64_desc(a->c.invalidations, b->c.invalidations);
		break;
	case VP_SORT_HITS:
		r = cmp_u64_desc(a->c.limit_hits, b->c.limit_hits);
		break;
	case VP_SORT_LEAKS:
		r = cmp_u64_desc(a->c.leaked, b->c.leaked);
		break;
	case VP_SORT_CID:
	case VP_SORT_MAX:
		break;
	}
	if (!r)
		r = a->c.cid < b->c.cid ? -1 : a->c.cid > b->c.cid;
	return r;
}

struct sort_ctx {
	const struct vp_row *rows;
	enum vp_sort key;
};

/* Two row indexes, by their rows. */
static int cmp_perm(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *x = arg;

	return cmp_rows(&x->rows[*(const size_t *)pa], &x->rows[*(const size_t *)pb], x->key);
}

int vp_snapshot_derive(struct vp_snapshot *s)
{
	vp_vms_free(&s->vms);
	return vp_vms_build(s, &s->vms);
}

int vp_snapshot_filter(struct vp_snapshot *s, uint32_t cid, uint32_t tgid)
{
	size_t k = 0;

	if (!cid && !tgid)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		if (cid && s->rows[i].c.cid != cid)
			continue;
		if (tgid && s->rows[i].c.tgid != tgid)
			continue;
		s->rows[k++] = s->rows[i];
	}
	s->n = k;
	return vp_snapshot_derive(s);
}

int vp_snapshot_sort(struct vp_snapshot *s, enum vp_sort key)
{
	struct sort_ctx x = {.rows = s->rows, .key = key};
	size_t n = s->n, *perm, *at;
	struct vp_row *rows;

	if (n < 2)
		return 0;
	perm = calloc(n, sizeof(*perm));
	at = calloc(n, sizeof(*at));
	rows = malloc(n * sizeof(*rows));
	if (!perm || !at || !rows) {
		free(perm);
		free(at);
		free(rows);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	qsort_r(perm, n, sizeof(*perm), cmp_perm, &x);
	/* row perm[i] goes to i; the VMs' indexes follow */
	for (size_t i = 0; i < n; i++) {
		rows[i] = s->rows[perm[i]];
		at[perm[i]] = i;
	}
	memcpy(s->rows, rows, n * sizeof(*rows));
	free(rows);
	vp_vms_moved(&s->vms, at);
	free(perm);
	free(at);
	return 0;
}

void vp_total(const struct vp_snapshot *s, struct vp_row *out)
{
	struct vp_container t;
	double rate = 0;

	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < s->n; i++) {
		const struct vp_container *c = &s->rows[i].c;

		/* every figure of fields.h that adds up (not the peaks) */
		vp_fields_add(&t, c);
		vp_slots_add(t.ref_live.slots, c->ref_live.slots, VP_REF_SLOTS);
		vp_slots_add(t.ref_bump.slots, c->ref_bump.slots, VP_REF_SLOTS);
		t.groups_emulated += c->groups_emulated;
		t.groups_iommu += c->groups_iommu;
		rate += s->rows[i].pins_per_s;
	}
	/* limits and peaks do not add up: not shown for the total (t.limit stays 0) */
	vp_row_derive(out, &t, NULL, 0);
	if (s->lat_rows) {
		vp_row_latency(out, s->lat_rows);
		out->lat = s->lat_rows;
	}
	out->lacks = s->n ? s->rows[0].lacks : 0;
	out->pins_per_s = rate;
	snprintf(out->comm, sizeof(out->comm), "total");
}

void vp_snapshot_free(struct vp_snapshot *s)
{
	free(s->lats);
	free(s->lat_rows);
	free(s->lat_all);
	s->lats = s->lat_rows = s->lat_all = NULL;
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
	vp_vms_free(&s->vms);
}
