/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiopin: what the BPF programs (bpf/) and userspace (tools/)
 * share.  Only fixed-width fields: the same layout on both sides.
 *
 * The programs aggregate the vfio_type1 tracepoints (kernel-patch/README.md)
 * per container into a struct vp_slot: of the `containers` array at index
 * cid & slot_mask, or of the `spill` hash (keyed by cid) when another live
 * container holds that index; and optionally stream every event into the
 * `events` ring buffer.
 */
#ifndef VFIOPIN_H
#define VFIOPIN_H

#define VP_PAGE_SHIFT 12
#define VP_COMM_LEN   16

/*
 * Latency histograms, log-linear: values below 16 have a slot each; above,
 * each power of two [2^e, 2^(e+1)) is cut into VP_LAT_SUB equal slots, so
 * a slot is at most 1/8 of its lower bound wide.  Slot of v (shift =
 * bit_length(v) - 1 - VP_LAT_SUB_BITS, at least 0): shift * VP_LAT_SUB +
 * (v >> shift).  Values from 2^VP_LAT_MAX_LOG2 ns (18 minutes) on share
 * the last slot.
 */
#define VP_LAT_SUB_BITS 3
#define VP_LAT_SUB	(1 << VP_LAT_SUB_BITS)
#define VP_LAT_MAX_LOG2 40
#define VP_LAT_SLOTS	(VP_LAT_SUB * (VP_LAT_MAX_LOG2 - VP_LAT_SUB_BITS + 1))
/* refcount histograms: slot i counts ref_count i, the last slot i and above */
#define VP_REF_SLOTS 16

/*
 * Live containers tracked at once by default: the `containers` array has
 * this many slots (a power of two), the spill map room for as many
 */
#define VP_MAX_CONTAINERS 1024

/*
 * The tracepoint contract, each event once: vfio_type1_NAME, its fields
 * after cid and tgid as its TP_PROTO names them, in order (an _end
 * event's last argument, duration_ns, is vp_event.dur_ns), and how outputs
 * show each field (FMT: x hex, d signed, u unsigned, b bool, l a limit in
 * bytes, ULONG_MAX unlimited); PHASE, the part of a device's life it
 * belongs to in capture's timeline (NONE: accounting, counted to the
 * phase it happens in).  The enum, the names, trace's formats and the
 * timeline's dispatch come from here; tests/host/contract.py checks both
 * kernel series and the raw_tp programs against it.
 *
 *   X(ID, NAME, PHASE, FMT, FIELD...)
 */
#define VP_EVENTS(X)                                                                               \
	X(CONTAINER_OPEN, container_open, ATTACH, "uuu", "dmas", "pinned", "locked")               \
	X(CONTAINER_RELEASE, container_release, DETACH, "uuu", "dmas", "pinned", "locked")         \
	X(GROUP_ATTACH, group_attach, ATTACH, "dbd", "group", "emulated", "ret")                   \
	X(GROUP_DETACH, group_detach, DETACH, "dbd", "group", "emulated", "ret")                   \
	X(ACCOUNT, account, NONE, "dulbbd", "delta", "locked_vm", "limit", "lock_cap", "async",    \
	  "ret")                                                                                   \
	X(PIN_BEGIN, pin_begin, PINS, "xddd", "iova", "npage", "prot", "ret")                      \
	X(PIN_END, pin_end, PINS, "xddd", "iova", "npage", "prot", "ret")                          \
	X(UNPIN_BEGIN, unpin_begin, PINS, "xddd", "iova", "npage", "prot", "ret")                  \
	X(UNPIN_END, unpin_end, PINS, "xddd", "iova", "npage", "prot", "ret")                      \
	X(PIN_PAGE, pin_page, PINS, "xub", "iova", "ref_count", "edge")                            \
	X(UNPIN_PAGE, unpin_page, PINS, "xub", "iova", "ref_count", "edge")                        \
	X(DMA_MAP_BEGIN, dma_map_begin, MAP, "xxbd", "iova", "size", "pin", "ret")                 \
	X(DMA_MAP_END, dma_map_end, MAP, "xxbd", "iova", "size", "pin", "ret")                     \
	X(DMA_UNMAP, dma_unmap, UNMAP, "xxdb", "iova", "size", "unpinned", "accounted")            \
	X(DMA_REMOVE, dma_remove, UNMAP, "xxu", "iova", "size", "leaked")                          \
	X(REPLAY_BEGIN, replay_begin, REPLAY, "uuu", "dmas", "pin_pages", "map_pages")             \
	X(REPLAY_END, replay_end, REPLAY, "d", "ret")                                              \
	X(REACCOUNT, reaccount, REACCOUNT, "xxdd", "iova", "size", "unpinned", "locked")           \
	X(INVALIDATE_BEGIN, invalidate_begin, INVALIDATE, "xxuud", "iova", "size", "pinned",       \
	  "devices", "retry")                                                                      \
	X(INVALIDATE_END, invalidate_end, INVALIDATE, "xxuud", "iova", "size", "pinned",           \
	  "devices", "retry")

enum vp_event_type {
#define VP_EV_ENUM(id, ...) VP_EV_##id,
	VP_EVENTS(VP_EV_ENUM)
#undef VP_EV_ENUM
	    VP_EV_MAX,
};

/* What the begin/end pairs measure (the kind in an in-flight key). */
enum vp_span {
	VP_SPAN_PIN,
	VP_SPAN_UNPIN,
	VP_SPAN_MAP,
	VP_SPAN_REPLAY,
	VP_SPAN_INVALIDATE,
};

/* vp_container.flags */
#define VP_F_SEEN_OPEN	 (1u << 0) /* observed from container_open on */
#define VP_F_RELEASED	 (1u << 1) /* container_release seen */
#define VP_F_LOCK_CAP	 (1u << 2) /* the owner has CAP_IPC_LOCK */
#define VP_F_LIMIT_KNOWN (1u << 3)
#define VP_F_IOMMU	 (1u << 4) /* an IOMMU-backed (passthrough) group attached */

/* RLIMIT_MEMLOCK "unlimited" as the kernel reports it (ULONG_MAX) */
#define VP_LIMIT_UNLIMITED (~0ULL)

struct vp_hist {
	__u64 count;
	__u64 sum;
	__u32 lo, hi; /* the lowest and highest slot used (when count > 0) */
	__u64 slots[VP_LAT_SLOTS];
};

/* The latency histograms of a container (struct vp_lat's h[]). */
enum vp_lat_id {
	VP_LAT_PIN,	   /* per vfio_pin_pages call */
	VP_LAT_PIN_PAGE,   /* per page pinned (call / pages) */
	VP_LAT_UNPIN,	   /* per vfio_unpin_pages call */
	VP_LAT_UNPIN_PAGE, /* per page unpinned */
	VP_LAT_INV,	   /* invalidate_begin -> _end */
	VP_LAT_MAP,	   /* MAP_DMA that pinned */
	VP_LAT_REPLAY,	   /* replay into a new IOMMU domain */
	VP_LAT_MAX,
};

struct vp_refhist {
	__u64 slots[VP_REF_SLOTS];
};

/* One container (value of the `containers` map). */
struct vp_container {
	__u32 cid;
	__u32 tgid;		     /* the owner: the process that set it up */
	__u64 comm[VP_COMM_LEN / 8]; /* the owner's comm, NUL padded */
	__u32 flags;
	__u32 groups_emulated; /* groups attached now */
	__u32 groups_iommu;
	__u32 pad;
	__u64 first_ns; /* first event, CLOCK_MONOTONIC */
	__u64 last_ns;	/* last call-level event (not per page) */
	__u64 released_ns;

	/* locked memory: the owner's mm->locked_vm as type1 last saw it */
	__u64 locked_vm;    /* pages */
	__u64 locked_peak;  /* pages */
	__u64 limit;	    /* RLIMIT_MEMLOCK, bytes */
	__u64 charged;	    /* sum of successful deltas (signed, two's complement) */
	__u64 charged_peak; /* highest charged (pages) */
	/*
	 * the most the owner's locked_vm reached or was asked to reach through
	 * this container, every refused charge through it (refused) on top:
	 * a refused charge counts what it asked for, a refused map its size
	 */
	__u64 need_peak;
	/*
	 * what refused charges through this container asked for, added up
	 * (pages): a refused mapping's whole size, a refused pin's pages
	 */
	__u64 refused;
	__u64 account_events;
	__u64 limit_hits;	/* account ret == -ENOMEM */
	__u64 account_failures; /* any other failure (-ESRCH: owner gone) */

	/* the external (mdev) path */
	__u64 pin_calls;
	__u64 pin_pages_req;
	__u64 pin_failures;
	__u64 pin_enomem;
	__u64 unpin_calls;
	__u64 unpin_pages_req;
	__u64 pages_pinned;   /* distinct pages with a vfio_pfn now */
	__u64 pin_refs;	      /* references held now (sum of ref_count) */
	__u64 pin_new;	      /* pin_page edges: newly pinned pages */
	__u64 pin_bumps;      /* pin_page non-edges: refcount raised */
	__u64 unpin_released; /* unpin_page edges: page released */
	__u64 unpin_drops;    /* unpin_page non-edges: refcount lowered */

	/* the passthrough path */
	__u64 mapped_pages; /* pages of live DMA mappings */
	__u64 pt_pages;	    /* of those, pinned and mapped for an IOMMU */
	__u64 dma_maps;
	__u64 dma_map_failures;
	__u64 dma_unmaps;  /* mappings unmapped (tracepoints) */
	__u64 unmap_calls; /* VFIO_IOMMU_UNMAP_DMA calls (fentry/kprobe) */
	__u64 replays;
	__u64 replay_pages;
	__u64 reaccounts;
	__u64 group_attaches;
	__u64 group_detaches;

	/* invalidation of vendor pins on DMA unmap */
	__u64 invalidations;
	__u64 inv_pages; /* pinned pages the notifications dropped */
	__u64 inv_retries;
	__u64 inv_devices;

	/* teardown */
	/*
	 * external pins abandoned when their mapping was removed: by the
	 * last group leaving or by the container's release, whichever first
	 */
	__u64 leaked;

	struct vp_refhist ref_live; /* ref_count of live pinned pages */
	struct vp_refhist ref_bump; /* ref_count after each pin_page */
};

struct vp_lat {
	struct vp_hist h[VP_LAT_MAX];
};

/*
 * What the BPF side keeps of one container: the counters first (what
 * every snapshot reads), the latency histograms after (read when asked).
 */
struct vp_slot {
	struct vp_container c;
	struct vp_lat lat;
};

/*
 * The start of a container owner's command line, taken as it opens a
 * container (the `vm_args` map, by tgid): the VM's name for a VMM that is
 * gone before userspace reads its /proc (a start that failed within a
 * second).  QEMU's -name comes early (libvirt puts it first).
 */
#define VP_ARGS_LEN 512
struct vp_args {
	__u64 start_ns; /* the process's start (task start_time, CLOCK_MONOTONIC) */
	__u32 len;	/* bytes of args[] used: NUL-separated arguments */
	__u32 pad;
	char args[VP_ARGS_LEN];
};

/*
 * A process's own locking (bpf/mlock.bpf.c's `proc_locked` map, by tgid):
 * mm->locked_vm as the kernel counted it each time the process locked
 * memory itself, VFIO's charges included, and what its locked mappings
 * asked for as the kernel checked them against the limit.
 */
struct vp_proc_locked {
	__u64 start_ns;	  /* the process's start (task start_time, CLOCK_MONOTONIC) */
	__u64 peak_pages; /* the highest locked_vm after a growth it asked for, in pages */
	__u64 need_pages; /* the most a locked mapping's check asked for (>= peak_pages) */
	__u64 events;	  /* times it was read */
};

/* Counters not tied to a container (the per-CPU `stats` map: add the CPUs up). */
struct vp_globals {
	__u64 events[VP_EV_MAX];
	__u64 drop_map_full; /* no room for a new container entry, or a pinned page (fallback) */
	__u64 drop_ringbuf;  /* event stream full */
	__u64 drop_inflight; /* no room to remember a begin event */
	__u64 unmatched_end; /* an _end without its _begin (attached late) */
	__u64 late_events;   /* events for a container already retired */
};

/* One event of the stream (`events` ring buffer). */
struct vp_event {
	__u64 ts_ns;
	__u32 type; /* enum vp_event_type */
	__u32 cid;
	__u32 tgid;		     /* the event's tgid (the owner, or the charged) */
	__u32 cur_tgid;		     /* the task the event fired in */
	__u64 comm[VP_COMM_LEN / 8]; /* of the task the event fired in */
	__u64 args[6];		     /* the event's fields after cid and tgid */
	__u64 dur_ns;		     /* for _end events: since the matching _begin */
};

#endif /* VFIOPIN_H */
