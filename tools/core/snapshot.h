/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot: every container the BPF side knows, with the figures derived
 * from its counters (headroom, rates, latency quantiles) and the view per
 * VM (vm.h), each derived once when the snapshot is made: outputs and
 * commands only read it.  Building one from raw entries is pure and
 * unit-tested; reading the map is loader.c's.
 */
#ifndef VFIOPIN_SNAPSHOT_H
#define VFIOPIN_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "vfiopin.h"

/* a VM's name as kept: raw bytes of QEMU's -name, cut at this many (outputs escape them) */
#define VP_VM_NAME_LEN 64

struct vp_row {
	struct vp_container c;
	char comm[VP_COMM_LEN + 1];
	/* the owner's VM name (vmname.h), "" when unknown */
	char vm_name[VP_VM_NAME_LEN + 1];
	/* this container's own charge (may be negative when seen mid-life) */
	int64_t charged_bytes;
	bool unlimited; /* RLIMIT_MEMLOCK infinity */
	uint64_t locked_bytes;
	uint64_t limit_bytes; /* 0 when not known yet */
	int64_t headroom_bytes;
	double headroom_ratio;	       /* headroom / limit (< 0 over it); NAN: unknown/unlimited */
	double pins_per_s;	       /* pin calls per second since the last snapshot */
	double pin_p50_ns, pin_p99_ns; /* -1 without samples */
	double unpin_p50_ns, unpin_p99_ns;
	double inv_p99_ns;
	/*
	 * its latency histograms: in the snapshot when asked for
	 * (vp_opts.row_lat), else NULL (the quantiles above are there always)
	 */
	const struct vp_lat *lat;
	/*
	 * the sources its mode lacks (fields.h: VP_FF_TP in fentry/kprobe
	 * mode, ...): the figures and histograms that need one are unavailable
	 */
	unsigned int lacks;
};

struct vp_vm; /* vm.h */

/* The rows grouped per VM: vm.h's view (vp_vms_build). */
struct vp_vms {
	size_t n;
	struct vp_vm *vm;
	size_t *idx; /* every row index once, grouped per VM (vm[i].rows point here) */
};

struct vp_snapshot {
	uint64_t ts_ns;	   /* CLOCK_MONOTONIC */
	double interval_s; /* since the previous snapshot (0: first) */
	size_t n;
	struct vp_row *rows;
	struct vp_globals g;
	struct vp_lat *lats;	 /* the rows' histograms (rows point here), or NULL */
	struct vp_lat *lat_rows; /* every row's added up */
	/*
	 * every container's since vfiopin attached, the retired ones too:
	 * only grows (host-wide Prometheus histograms)
	 */
	struct vp_lat *lat_all;
	uint64_t retired; /* containers dropped after being reported */
	uint64_t gen;	  /* the loader's count of snapshots: this one's number */
	const char *mode; /* how the kernel was observed ("tracepoint", ...) */
	/* how processes' own locking is watched ("fentry", "kprobe"; NULL: not) */
	const char *mlock_watch;
	struct vp_vms vms; /* the rows' VMs (vp_snapshot_derive), kept by vp_snapshot_sort */
};

/*
 * Fill @r from @c.  @prev is the same container in the previous snapshot
 * (NULL if new) and @dt the seconds between the two.  The latency
 * quantiles are -1 (none) until vp_row_latency.
 */
void vp_row_derive(struct vp_row *r, const struct vp_container *c, const struct vp_container *prev,
		   double dt);
/* The pin rate of @r (vp_row_derive's @prev and @dt), the rest of it as it is. */
void vp_row_rate(struct vp_row *r, const struct vp_container *prev, double dt);
/* The latency quantiles of @r from @lat. */
void vp_row_latency(struct vp_row *r, const struct vp_lat *lat);
/* Add @b into @a. */
void vp_lat_add(struct vp_lat *a, const struct vp_lat *b);

/* Sort keys for top and stat. */
enum vp_sort {
	VP_SORT_CID,
	VP_SORT_TGID,
	VP_SORT_LOCKED,
	VP_SORT_HEADROOM,
	VP_SORT_MDEV,
	VP_SORT_PT,
	VP_SORT_RATE,
	VP_SORT_P99,
	VP_SORT_INV,
	VP_SORT_HITS,
	VP_SORT_LEAKS,
	VP_SORT_MAX,
};

extern const char *const vp_sort_names[VP_SORT_MAX];
/* The --sort option's help, in vp_sort_names' order. */
#define VP_SORT_DOC "Sort by cid, tgid, locked, headroom, mdev, pt, rate, p99, inv, hits, leaks"
/* The key named @name, or -1. */
int vp_sort_parse(const char *name);

/*
 * The VM view of @s's rows as they are (s->vms): done once, by whoever
 * makes the snapshot, after its rows and names.  -1 when out of memory.
 */
int vp_snapshot_derive(struct vp_snapshot *s);
/*
 * Keep the rows of @s of container @cid and owner @tgid only (0: any),
 * and the VM view of those.  -1 when out of memory.
 */
int vp_snapshot_filter(struct vp_snapshot *s, uint32_t cid, uint32_t tgid);
/*
 * Sort the rows of @s by @key (ties by cid), its VM view kept: each VM's
 * rows follow theirs, and the VMs come in the order of their first row.
 * -1 when out of memory (then nothing moved).
 */
int vp_snapshot_sort(struct vp_snapshot *s, enum vp_sort key);

/* Sum of every row (counters; histograms: lat_rows) into one "total" row. */
void vp_total(const struct vp_snapshot *s, struct vp_row *out);

void vp_snapshot_free(struct vp_snapshot *s);

#endif
