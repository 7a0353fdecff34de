// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
#include "fields.h"
#include "timeline.h"
#include "vfiopin.h"

const char *const phase_names[] = {"attach",	 "map",	  "replay",    "pins",
				   "invalidate", "unmap", "reaccount", "detach"};

/* Room in @*arr for element @n (@cap of @size bytes each so far); false when out of memory. */
static bool grow(void **arr, size_t n, size_t *cap, size_t size)
{
	size_t nc = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return true;
	if (nc > SIZE_MAX / size)
		return false;
	p = realloc(*arr, nc * size);
	if (!p)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}

#define GROW(arr, n, cap) grow((void **)&(arr), (n), &(cap), sizeof(*(arr)))

/* The open container @cid, or a new one; NULL when out of memory. */
static struct tl_container *find(struct vp_timeline *cap, unsigned int cid, int tgid)
{
	for (size_t i = 0; i < cap->n; i++)
		if (cap->c[i].cid == cid && !cap->c[i].released)
			return &cap->c[i];
	if (!GROW(cap->c, cap->n, cap->cap))
		return NULL;
	memset(&cap->c[cap->n], 0, sizeof(cap->c[0]));
	cap->c[cap->n].cid = cid;
	cap->c[cap->n].tgid = tgid;
	return &cap->c[cap->n++];
}

/* The value of KEY=... in a trace line, as a signed 64-bit number. */
static bool field(const char *s, const char *key, long long *out)
{
	size_t kl = strlen(key);

	for (const char *p = s; (p = strstr(p, key)); p += kl) {
		if ((p == s || p[-1] == ' ') && p[kl] == '=') {
			*out = strtoll(p + kl + 1, NULL, 0);
			return true;
		}
	}
	return false;
}

static long long fv(const char *s, const char *key)
{
	long long v = 0;

	field(s, key, &v);
	return v;
}

/* The segment of phase @ph at @t, the last one or a new one; NULL when out of memory. */
static struct segment *segment(struct tl_container *c, enum phase ph, double t)
{
	struct segment *s = c->nseg ? &c->seg[c->nseg - 1] : NULL;

	if (!s || s->phase != ph) {
		if (!GROW(c->seg, c->nseg, c->capseg))
			return NULL;
		s = &c->seg[c->nseg++];
		memset(s, 0, sizeof(*s));
		s->phase = ph;
		s->start = t;
	}
	s->end = t;
	s->events++;
	return s;
}

/* The phase of each vfio_type1 event (VP_EVENTS; PH_NONE: accounting). */
static const enum phase phase_of[VP_EV_MAX] = {
#define VP_EV_PHASE(id, name, phase, ...) [VP_EV_##id] = PH_##phase,
    VP_EVENTS(VP_EV_PHASE)
#undef VP_EV_PHASE
};

/* -ENOMEM when out of memory, else 0. */
static int on_type1(struct vp_timeline *cap, int tid, double t, const char *name, const char *tr)
{
	int ev = vp_event_parse(name);
	struct tl_container *c;
	enum phase ph;
	struct segment *s;
	struct totals *x;

	/* an event this vfiopin does not know: not one of the contract's */
	if (ev < 0)
		return 0;
	c = find(cap, (unsigned int)fv(tr, "cid"), (int)fv(tr, "tgid"));
	if (!c)
		return -ENOMEM;
	ph = phase_of[ev];
	x = &c->t;
	if (ev == VP_EV_ACCOUNT) {
		long long pages = fv(tr, "locked_vm"), kb;

		/* locked_vm is a page count: one no kernel could hold is not a line of ours */
		if (pages < 0 || __builtin_mul_overflow(pages, 4, &kb))
			return 0;

		if (fv(tr, "ret") == -ENOMEM)
			x->limit_hits++;
		if (fv(tr, "ret") == 0 || fv(tr, "ret") == -ESRCH) {
			if (!GROW(c->locked, c->nlocked, c->caplocked))
				return -ENOMEM;
			c->locked[c->nlocked++] = (struct point){t, (double)kb};
			x->locked_last_kb = (uint64_t)kb;
			if ((uint64_t)kb > x->locked_peak_kb)
				x->locked_peak_kb = (uint64_t)kb;
		}
		if (c->nseg)
			c->seg[c->nseg - 1].events++;
		return 0;
	}
	if (ph == PH_NONE)
		return 0;
	/* replaying no mappings (the first IOMMU group) is part of its attach */
	if (ev == VP_EV_REPLAY_BEGIN)
		c->empty_replay = fv(tr, "dmas") == 0;
	if (ph == PH_REPLAY && c->empty_replay) {
		ph = PH_ATTACH;
		if (ev == VP_EV_REPLAY_END)
			c->empty_replay = false;
		return segment(c, ph, t) ? 0 : -ENOMEM;
	}
	s = segment(c, ph, t);
	if (!s)
		return -ENOMEM;
	switch (ev) {
	case VP_EV_PIN_END:
		x->pin_calls++;
		s->calls++;
		if (fv(tr, "ret") > 0) {
			x->pin_pages += (uint64_t)fv(tr, "ret");
			s->pages += (uint64_t)fv(tr, "ret");
		}
		break;
	case VP_EV_UNPIN_END:
		x->unpin_calls++;
		s->calls++;
		if (fv(tr, "ret") > 0)
			x->unpin_pages += (uint64_t)fv(tr, "ret");
		break;
	case VP_EV_PIN_PAGE:
		if (fv(tr, "edge")) {
			if (!GROW(c->pin_t, c->npin, c->cappin))
				return -ENOMEM;
			c->pin_t[c->npin++] = t;
		}
		break;
	case VP_EV_DMA_MAP_BEGIN:
	case VP_EV_REPLAY_BEGIN:
		c->open_span = 1;
		c->span_tid = tid;
		if (ev == VP_EV_REPLAY_BEGIN)
			s->pages += (uint64_t)fv(tr, "pin_pages");
		break;
	case VP_EV_DMA_MAP_END:
		c->open_span = 0;
		x->dma_maps++;
		s->calls++;
		if (fv(tr, "pin"))
			s->pages += (uint64_t)fv(tr, "size") >> VP_PAGE_SHIFT;
		break;
	case VP_EV_REPLAY_END:
		c->open_span = 0;
		x->replays++;
		s->calls++;
		break;
	case VP_EV_DMA_UNMAP:
		x->dma_unmaps++;
		s->calls++;
		s->pages += (uint64_t)fv(tr, "size") >> VP_PAGE_SHIFT;
		break;
	case VP_EV_INVALIDATE_END:
		x->invalidations++;
		s->calls++;
		break;
	case VP_EV_REACCOUNT:
		x->reaccounts++;
		s->calls++;
		break;
	case VP_EV_GROUP_ATTACH:
		x->group_attaches++;
		s->calls++;
		break;
	case VP_EV_GROUP_DETACH:
		x->group_detaches++;
		s->calls++;
		break;
	case VP_EV_DMA_REMOVE:
		x->leaked += (uint64_t)fv(tr, "leaked");
		break;
	case VP_EV_CONTAINER_RELEASE:
		c->released = true;
		break;
	default:
		break;
	}
	return 0;
}

/* An iommu:map/unmap: the container whose map/replay span is open in this thread. */
static void on_iommu(struct vp_timeline *cap, int tid, double t, bool map, const char *tr)
{
	long long size = fv(tr, "size");

	(void)t;
	for (size_t i = 0; i < cap->n; i++) {
		struct tl_container *c = &cap->c[i];
		bool unmapping = c->nseg && c->seg[c->nseg - 1].phase == PH_UNMAP;

		if (c->released || c->span_tid != tid || !(c->open_span || unmapping || !map))
			continue;
		if (!c->nseg)
			continue;
		if (map) {
			c->t.iommu_maps++;
			c->t.iommu_map_bytes += (uint64_t)size;
			c->seg[c->nseg - 1].iommu_maps++;
		} else {
			c->t.iommu_unmaps++;
			c->seg[c->nseg - 1].iommu_unmaps++;
		}
		return;
	}
	cap->unattributed_iommu++;
}

/*
 * One `perf script -F trace:tid,time,event,trace --ns` line:
 * "  TID SEC.NSEC: SYSTEM:EVENT: TRACE".
 */
int vp_timeline_line(struct vp_timeline *cap, const char *line)
{
	char ev[96];
	int tid, n = 0;
	double t;
	const char *tr;

	if (sscanf(line, " %d %lf: %95[^: ]:%n", &tid, &t, ev, &n) < 3 || !n)
		return 0;
	{
		const char *name = line + n;
		char evname[96];
		int m = 0;

		if (sscanf(name, "%95[^:]:%n", evname, &m) < 1 || !m)
			return 0;
		tr = name + m;
		if (!cap->have_t0) {
			cap->t0 = t;
			cap->have_t0 = true;
		}
		t -= cap->t0;
		cap->lines++;
		if (!strcmp(ev, "vfio_type1") && !strncmp(evname, "vfio_type1_", 11))
			return on_type1(cap, tid, t, evname + 11, tr);
		if (!strcmp(ev, "iommu") && (!strcmp(evname, "map") || !strcmp(evname, "unmap")))
			on_iommu(cap, tid, t, evname[0] == 'm', tr);
	}
	return 0;
}

void vp_timeline_free(struct vp_timeline *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		free(tl->c[i].seg);
		free(tl->c[i].locked);
		free(tl->c[i].pin_t);
	}
	free(tl->c);
	memset(tl, 0, sizeof(*tl));
}
