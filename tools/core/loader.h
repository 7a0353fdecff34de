/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one loader every subcommand uses: check what the kernel and the
 * process have, open the skeleton, configure it, load, attach; read
 * snapshots; one cleanup path.
 */
#ifndef VFIOPIN_LOADER_H
#define VFIOPIN_LOADER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "snapshot.h"

/* How the kernel is observed (--mode). */
enum vp_mode {
	VP_MODE_AUTO,	    /* the first of the three that attaches */
	VP_MODE_TRACEPOINT, /* the vfio_type1 tracepoints (patched kernel) */
	VP_MODE_FENTRY,	    /* fentry/fexit on type1 functions */
	VP_MODE_KPROBE,	    /* kprobes/kretprobes on the same */
	VP_MODE_MAX,
};

extern const char *const vp_mode_names[VP_MODE_MAX];

/*
 * A pinning backend: the kernel driver whose pins and charges vfiopin
 * follows, and what it attaches to there.  Its BPF entry points are units
 * of their own (bpf/core.bpf.h: the tracepoints', the fallback's), its
 * figures rows of the tables (core/fields.h, core/vm.h).  VFIO type1 is the
 * one backend today.
 */
struct vp_backend {
	const char *name;	  /* "type1" */
	const char *module;	  /* its driver's module, /sys/module/NAME when there */
	const char *trace_system; /* its tracepoints' system (tracefs events/NAME) */
	const char *fallback_fns; /* what fentry and kprobes attach to, for messages */
};

extern const struct vp_backend vp_type1;

struct vp_opts {
	enum vp_mode mode;
	bool wait_modules;	   /* fallback: wait for vfio_iommu_type1 to be loaded */
	double wait_max_s;	   /* ... for at most this long (0: no bound) */
	bool events;		   /* stream events into the ring buffer */
	uint32_t filter_cid;	   /* events of this container only (0: all) */
	uint32_t filter_tgid;	   /* events of this process only (0: all) */
	uint32_t max_containers;   /* 0: the default */
	uint32_t ringbuf_kb;	   /* 0: the default */
	bool verbose;		   /* libbpf's own messages */
	bool announce;		   /* say on stderr once attached */
	bool no_attach;		   /* load only: the caller feeds events itself */
	bool row_lat;		   /* snapshots carry every container's latency histograms */
	uint64_t keep_released_ns; /* a released container stays in snapshots this long (0: once) */
};

struct vfiopin_bpf;
struct mlock_bpf;
struct ring_buffer;

struct vp_loader {
	struct vfiopin_bpf *skel;
	enum vp_mode mode; /* the one attached */
	/* fentry/kprobe: vfio_unmap_unpin's probe loaded (the kernel has it) */
	bool unmap_probe;
	/* the `containers` array, mapped: slot cid & (nslots - 1) */
	struct vp_slot *slots;
	size_t nslots, map_len;
	bool row_lat;
	uint64_t keep_ns; /* vp_opts.keep_released_ns */
	/* latency histograms of the containers retired so far, added up */
	struct vp_lat *lat_retired;
	struct ring_buffer *rb;
	uint64_t last_ts;
	/* the previous snapshot's entries, sorted by cid (for rates) */
	struct vp_container *prev;
	size_t nprev;
	/* released containers reported, their time kept over: to retire next time */
	uint32_t *reported;
	size_t nreported;
	/*
	 * released containers taken out of the map (vp_reap) before their
	 * time was over: reported by every snapshot until it is, at least once
	 */
	struct vp_slot *reaped;
	size_t nreaped, capreaped;
	size_t nreaped_shown; /* the first of them, in the last snapshot */
	uint64_t retired;
	/*
	 * vp_report_on_delivery: a snapshot reports only once the caller says
	 * it was delivered (vp_snapshot_delivered with its gen)
	 */
	bool gated, delivered;
	uint64_t gen;
	struct vp_namer *names; /* the VMs' names (made when first needed) */
	pthread_mutex_t lock;	/* the above, between vp_reap and a snapshot */
	double waited_s;	/* spent in vp_open waiting for vfio_iommu_type1 */
	/* processes' own locking (bpf/mlock.bpf.c); NULL when not watched */
	struct mlock_bpf *mlock;
	uint64_t mlock_since_ns; /* when the watch began (CLOCK_MONOTONIC) */
};

typedef int (*vp_event_fn)(void *ctx, const void *data, size_t len);

/*
 * Everything up to attached programs.  On failure, prints what is missing
 * and what to do, returns a negative errno and leaves nothing behind.
 */
int vp_open(struct vp_loader *l, const struct vp_opts *o, vp_event_fn fn, void *ctx);
/*
 * Read every container into @s (fresh allocation), and delete from the
 * map the released containers the previous snapshot reported for the last
 * time.  A released container is in every snapshot taken within
 * keep_released_ns of its release, and in at least one: with 0, exactly
 * one.  At most as many as the map holds are kept past their first
 * report; beyond that the oldest go after it.
 */
int vp_snapshot_and_retire(struct vp_loader *l, struct vp_snapshot *s);
/*
 * Take out of the map every container released @grace_ns or more ago, so
 * that no number of past VM lifetimes can crowd out a live VM: one still
 * to be reported is kept here for the snapshots to report, one reported
 * for the last time is retired.  vp_collect calls it every second with a
 * grace of a second.  Returns -ENOMEM if a container could not be kept
 * (it stays in the map).
 */
#define VP_REAP_GRACE_NS 1000000000ULL
/*
 * From now on a snapshot counts as a report of its released containers
 * only once vp_snapshot_delivered(@l, its gen) says it reached someone
 * (the exporter: a response sent in full); until then the next snapshot
 * reports them again.  Only the newest snapshot can be delivered.
 */
void vp_report_on_delivery(struct vp_loader *l);
void vp_snapshot_delivered(struct vp_loader *l, uint64_t gen);
int vp_reap(struct vp_loader *l, uint64_t grace_ns);
/* Container @cid's latency histograms now, into @out; -ENOENT if it is gone. */
int vp_read_lat(struct vp_loader *l, uint32_t cid, struct vp_lat *out);
/* Deliver waiting events to the callback for up to @timeout_ms. */
int vp_poll(struct vp_loader *l, int timeout_ms);
void vp_close(struct vp_loader *l);

uint64_t vp_now_ns(void);

/*
 * bpf/mlock.bpf.c loaded and attached (kprobes on __mm_populate and
 * do_mmap); NULL when this kernel does not let it.
 */
struct mlock_bpf *vp_mlock_attach(uint32_t filter_tgid);

/* Whether tracefs has events/@path ("vfio_type1", "iommu/map"), wherever it is mounted. */
bool vp_trace_events(const char *path);
/* Whether this process may read tracefs's events (tracefs is root's alone by default). */
bool vp_trace_readable(void);

#endif
