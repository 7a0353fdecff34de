/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiopin capture's timeline: `perf script -F trace:tid,time,event,trace
 * --ns` output, one line at a time, into per-container phases and totals.
 * Pure (no perf, no files), so the parser is unit-tested and fuzzed
 * (tests/fuzz/fuzz_timeline.c).
 *
 * Phases: attach (container open, group attach), map (MAP_DMA), replay
 * (pinning the existing mappings for a new IOMMU domain; replaying none,
 * for the first domain, is part of attach), pins (steady
 * vfio_pin_pages/vfio_unpin_pages), invalidate, unmap (mappings unmapped
 * from the IOMMU or removed), reaccount, detach (group detach, release).
 * Consecutive events of one phase form one segment; accounting events
 * belong to the segment they happen in.
 */
#ifndef VFIOPIN_TIMELINE_H
#define VFIOPIN_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum phase {
	PH_ATTACH,
	PH_MAP,
	PH_REPLAY,
	PH_PINS,
	PH_INVALIDATE,
	PH_UNMAP,
	PH_REACCOUNT,
	PH_DETACH,
	PH_NONE
};
extern const char *const phase_names[];

struct segment {
	enum phase phase;
	double start, end;
	uint64_t events, calls, pages, iommu_maps, iommu_unmaps;
};

struct point {
	double t;
	double v;
};

struct totals {
	uint64_t pin_calls, pin_pages, unpin_calls, unpin_pages, dma_maps, dma_unmaps;
	uint64_t replays, invalidations, reaccounts, group_attaches, group_detaches;
	uint64_t iommu_maps, iommu_unmaps, iommu_map_bytes, limit_hits, leaked;
	uint64_t locked_peak_kb, locked_last_kb;
};

struct tl_container {
	unsigned int cid;
	int tgid;
	char comm[32];
	struct segment *seg;
	size_t nseg, capseg;
	struct point *locked; /* kB after each accounting */
	size_t nlocked, caplocked;
	double *pin_t; /* time of each page pinned */
	size_t npin, cappin;
	struct totals t;
	int open_span; /* in a map/replay/unmap span: iommu events are ours */
	int span_tid;
	bool released;
	bool empty_replay; /* the first IOMMU domain: a replay of nothing */
};

struct vp_timeline {
	struct tl_container *c;
	size_t n, cap;
	double t0;
	bool have_t0;
	uint64_t lines, unattributed_iommu;
};

/*
 * Take one line of perf script's output; lines of other shapes are
 * skipped.  -ENOMEM when out of memory (what was taken stays valid).
 */
int vp_timeline_line(struct vp_timeline *tl, const char *line);
/* Free what the timeline holds. */
void vp_timeline_free(struct vp_timeline *tl);

#endif
