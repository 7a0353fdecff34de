// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "timeline.h"
#include "vfiopin.h"

const char *const phase_names[] = {"attach",	 "map",	  "replay",    "pins",
				   "invalidate", "unmap", "reaccount", "detach"};

#define GROW(arr, n, cap)                                                                          \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			size_t nc_ = (cap) ? 2 * (cap) : 16;                                       \
			void *p_ = realloc((arr), nc_ * sizeof(*(arr)));                           \
			if (!p_) {                                                                 \
				perror("vfiopin capture");                                         \
				exit(VP_EXIT_FAIL);                                                \
			}                                                                          \
			(arr) = p_;                                                                \
			(cap) = nc_;                                                               \
		}                                                                                  \
	} while (0)

static struct tl_container *find(struct vp_timeline *cap, unsigned int cid, int tgid)
{
	for (size_t i = 0; i < cap->n; i++)
		if (cap->c[i].cid == cid && !cap->c[i].released)
			return &cap->c[i];
	GROW(cap->c, cap->n, cap->cap);
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

static struct segment *segment(struct tl_container *c, enum phase ph, double t)
{
	struct segment *s = c->nseg ? &c->seg[c->nseg - 1] : NULL;

	if (!s || s->phase != ph) {
		GROW(c->seg, c->nseg, c->capseg);
		s = &c->seg[c->nseg++];
		memset(s, 0, sizeof(*s));
		s->phase = ph;
		s->start = t;
	}
	s->end = t;
	s->events++;
	return s;
}

/* The phase of a vfio_type1 event, or PH_NONE for accounting. */
static enum phase phase_of(const char *ev)
{
	static const struct {
		const char *prefix;
		enum phase ph;
	} map[] = {
	    {"container_open", PH_ATTACH},
	    {"group_attach", PH_ATTACH},
	    {"dma_map_", PH_MAP},
	    {"replay_", PH_REPLAY},
	    {"pin_", PH_PINS},
	    {"unpin_", PH_PINS},
	    {"invalidate_", PH_INVALIDATE},
	    {"dma_unmap", PH_UNMAP},
	    {"reaccount", PH_REACCOUNT},
	    {"group_detach", PH_DETACH},
	    {"dma_remove", PH_UNMAP},
	    {"container_release", PH_DETACH},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(ev, map[i].prefix, strlen(map[i].prefix)))
			return map[i].ph;
	return PH_NONE;
}

static void on_type1(struct vp_timeline *cap, int tid, double t, const char *ev, const char *tr)
{
	struct tl_container *c = find(cap, (unsigned int)fv(tr, "cid"), (int)fv(tr, "tgid"));
	enum phase ph = phase_of(ev);
	struct segment *s;
	struct totals *x = &c->t;

	if (!strcmp(ev, "account")) {
		long long pages = fv(tr, "locked_vm"), kb;

		/* locked_vm is a page count: one no kernel could hold is not a line of ours */
		if (pages < 0 || __builtin_mul_overflow(pages, 4, &kb))
			return;

		if (fv(tr, "ret") == -ENOMEM)
			x->limit_hits++;
		if (fv(tr, "ret") == 0 || fv(tr, "ret") == -ESRCH) {
			GROW(c->locked, c->nlocked, c->caplocked);
			c->locked[c->nlocked++] = (struct point){t, (double)kb};
			x->locked_last_kb = (uint64_t)kb;
			if ((uint64_t)kb > x->locked_peak_kb)
				x->locked_peak_kb = (uint64_t)kb;
		}
		if (c->nseg)
			c->seg[c->nseg - 1].events++;
		return;
	}
	if (ph == PH_NONE)
		return;
	/* replaying no mappings (the first IOMMU group) is part of its attach */
	if (!strcmp(ev, "replay_begin"))
		c->empty_replay = fv(tr, "dmas") == 0;
	if (ph == PH_REPLAY && c->empty_replay) {
		ph = PH_ATTACH;
		if (!strcmp(ev, "replay_end"))
			c->empty_replay = false;
		segment(c, ph, t);
		return;
	}
	s = segment(c, ph, t);
	if (!strcmp(ev, "pin_end")) {
		x->pin_calls++;
		s->calls++;
		if (fv(tr, "ret") > 0) {
			x->pin_pages += (uint64_t)fv(tr, "ret");
			s->pages += (uint64_t)fv(tr, "ret");
		}
	} else if (!strcmp(ev, "unpin_end")) {
		x->unpin_calls++;
		s->calls++;
		if (fv(tr, "ret") > 0)
			x->unpin_pages += (uint64_t)fv(tr, "ret");
	} else if (!strcmp(ev, "pin_page")) {
		if (fv(tr, "edge")) {
			GROW(c->pin_t, c->npin, c->cappin);
			c->pin_t[c->npin++] = t;
		}
	} else if (!strcmp(ev, "dma_map_begin") || !strcmp(ev, "replay_begin")) {
		c->open_span = 1;
		c->span_tid = tid;
		if (ev[0] == 'r')
			s->pages += (uint64_t)fv(tr, "pin_pages");
	} else if (!strcmp(ev, "dma_map_end")) {
		c->open_span = 0;
		x->dma_maps++;
		s->calls++;
		if (fv(tr, "pin"))
			s->pages += (uint64_t)fv(tr, "size") >> VP_PAGE_SHIFT;
	} else if (!strcmp(ev, "replay_end")) {
		c->open_span = 0;
		x->replays++;
		s->calls++;
	} else if (!strcmp(ev, "dma_unmap")) {
		x->dma_unmaps++;
		s->calls++;
		s->pages += (uint64_t)fv(tr, "size") >> VP_PAGE_SHIFT;
	} else if (!strcmp(ev, "invalidate_end")) {
		x->invalidations++;
		s->calls++;
	} else if (!strcmp(ev, "reaccount")) {
		x->reaccounts++;
		s->calls++;
	} else if (!strcmp(ev, "group_attach")) {
		x->group_attaches++;
		s->calls++;
	} else if (!strcmp(ev, "group_detach")) {
		x->group_detaches++;
		s->calls++;
	} else if (!strcmp(ev, "dma_remove")) {
		x->leaked += (uint64_t)fv(tr, "leaked");
	} else if (!strcmp(ev, "container_release")) {
		c->released = true;
	}
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
void vp_timeline_line(struct vp_timeline *cap, const char *line)
{
	char ev[96];
	int tid, n = 0;
	double t;
	const char *tr;

	if (sscanf(line, " %d %lf: %95[^: ]:%n", &tid, &t, ev, &n) < 3 || !n)
		return;
	{
		const char *name = line + n;
		char evname[96];
		int m = 0;

		if (sscanf(name, "%95[^:]:%n", evname, &m) < 1 || !m)
			return;
		tr = name + m;
		if (!cap->have_t0) {
			cap->t0 = t;
			cap->have_t0 = true;
		}
		t -= cap->t0;
		cap->lines++;
		if (!strcmp(ev, "vfio_type1") && !strncmp(evname, "vfio_type1_", 11))
			on_type1(cap, tid, t, evname + 11, tr);
		else if (!strcmp(ev, "iommu") &&
			 (!strcmp(evname, "map") || !strcmp(evname, "unmap")))
			on_iommu(cap, tid, t, evname[0] == 'm', tr);
	}
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
