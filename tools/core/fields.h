/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-container figures: one row each, and every output derives from
 * it.  A figure is a __u64 counter of struct vp_container (bpf/vfiopin.h,
 * where the BPF side counts it); this row says everything else about it:
 *
 *   ID       the name code uses (VP_FLD_ID)
 *   GROUP    the JSON object it sits in (TOP: the container object itself)
 *   JSON     its key there (vfiopin.stat, tools/README.md)
 *   PROM     its Prometheus family, after "vfiopin_" (NULL: not served)
 *   TYPE     GAUGE (a level now) or COUNTER (only grows)
 *   UNIT     of the counter: pages, calls, events, devices
 *   MEMBER   the struct vp_container member
 *   FLAGS    VP_FF_BYTES: served in bytes (pages << VP_PAGE_SHIFT);
 *            VP_FF_TP: only the tracepoints give it (in fentry/kprobe mode
 *            JSON null, no series, "-" in a column); VP_FF_FB: only
 *            fentry/kprobe mode gives it (likewise in tracepoint mode);
 *            VP_FF_UU: fentry/kprobe mode gives it only with its
 *            vfio_unmap_unpin probe (loaded where the kernel has that
 *            function);
 *            VP_FF_NOSUM: a total does not add it up (a peak);
 *            VP_FF_SIGNED: two's complement, may be negative
 *   COL      its column in top and stat's table (NULL: none)
 *   HELP     what it means, in one sentence (Prometheus HELP, the docs)
 *
 * A new figure: a member in struct vp_container, the BPF side counting
 * it, and one row here.  A unit test checks that every __u64 counter of
 * the struct has exactly one row.
 */
#ifndef VFIOPIN_FIELDS_H
#define VFIOPIN_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "vfiopin.h"

#define VP_FIELDS(X)                                                                               \
	X(LOCKED_VM, TOP, "locked_pages", NULL, GAUGE, "pages", locked_vm,                         \
	  VP_FF_BYTES | VP_FF_NOSUM, NULL,                                                         \
	  "Locked memory of the container's owner, the whole process (mm->locked_vm as type1 "     \
	  "last accounted it through this container: what VmLck showed then); per VM in "          \
	  "vfiopin_vm_locked_bytes.")                                                              \
	X(LOCKED_PEAK, TOP, "locked_peak_pages", NULL, GAUGE, "pages", locked_peak,                \
	  VP_FF_BYTES | VP_FF_NOSUM, NULL,                                                         \
	  "Highest locked memory of the owner seen at this container's charges.")                  \
	X(CHARGED, TOP, "charged_pages", "charged_bytes", GAUGE, "pages", charged,                 \
	  VP_FF_BYTES | VP_FF_SIGNED, "LOCKED",                                                    \
	  "Locked memory this container itself charges now: its net charges (uncharges of an "     \
	  "owner already gone netted; negative if charges predate vfiopin).  A VM's containers "   \
	  "add up to its locked memory.")                                                          \
	X(CHARGED_PEAK, TOP, "charged_peak_pages", "charged_peak_bytes", GAUGE, "pages",           \
	  charged_peak, VP_FF_BYTES | VP_FF_NOSUM, NULL,                                           \
	  "Highest locked memory this container itself charged.")                                  \
	X(NEED_PEAK, TOP, "need_peak_pages", NULL, GAUGE, "pages", need_peak,                      \
	  VP_FF_BYTES | VP_FF_NOSUM, NULL,                                                         \
	  "The most the owner's locked memory reached or was asked to reach through this "         \
	  "container, every refusal through it counted on top (a refused charge what it asked "    \
	  "for, a refused map its whole size).")                                                   \
	X(REFUSED, TOP, "refused_pages", "refused_bytes_total", COUNTER, "pages", refused,         \
	  VP_FF_BYTES, NULL,                                                                       \
	  "Locked memory refused on the limit through this container, added up: a refused "        \
	  "mapping's whole size, a refused pin's pages.")                                          \
	X(ACCOUNT_EVENTS, TOP, "account_events", "account_events_total", COUNTER, "events",        \
	  account_events, 0, NULL, "Locked-memory charges and uncharges type1 attempted.")         \
	X(LIMIT_HITS, TOP, "limit_hits", "limit_hits_total", COUNTER, "events", limit_hits, 0,     \
	  "HITS", "Locked-memory charges refused with ENOMEM (RLIMIT_MEMLOCK exceeded).")          \
	X(ACCOUNT_FAILURES, TOP, "account_failures", "account_failures_total", COUNTER, "events",  \
	  account_failures, 0, NULL,                                                               \
	  "Locked-memory charges refused for a reason other than the limit (an uncharge after "    \
	  "the owner died is not one).")                                                           \
	X(PIN_CALLS, MDEV, "pin_calls", "pin_calls_total", COUNTER, "calls", pin_calls, 0, NULL,   \
	  "vfio_pin_pages calls.")                                                                 \
	X(PIN_PAGES_REQ, MDEV, "pin_pages_requested", "pin_pages_requested_total", COUNTER,        \
	  "pages", pin_pages_req, 0, NULL, "Pages asked for by vfio_pin_pages calls.")             \
	X(PIN_FAILURES, MDEV, "pin_failures", "pin_failures_total", COUNTER, "calls",              \
	  pin_failures, 0, NULL, "vfio_pin_pages calls that failed.")                              \
	X(PIN_ENOMEM, MDEV, "pin_enomem", "pin_enomem_total", COUNTER, "calls", pin_enomem, 0,     \
	  NULL, "vfio_pin_pages calls that failed with ENOMEM (the memlock limit).")               \
	X(UNPIN_CALLS, MDEV, "unpin_calls", "unpin_calls_total", COUNTER, "calls", unpin_calls, 0, \
	  NULL, "vfio_unpin_pages calls.")                                                         \
	X(UNPIN_PAGES_REQ, MDEV, "unpin_pages_requested", "unpin_pages_requested_total", COUNTER,  \
	  "pages", unpin_pages_req, 0, NULL, "Pages asked for by vfio_unpin_pages calls.")         \
	X(PAGES_PINNED, MDEV, "pages_pinned", "mdev_pinned_pages", GAUGE, "pages", pages_pinned,   \
	  0, "MDEV",                                                                               \
	  "Distinct guest pages pinned now through vfio_pin_pages (mdev/vendor drivers).")         \
	X(PIN_REFS, MDEV, "pin_refs", "mdev_pin_references", GAUGE, "references", pin_refs, 0,     \
	  NULL, "References held now on mdev-pinned pages (sum of vfio_pfn ref_count).")           \
	X(PIN_NEW, MDEV, "new_pins", "pins_total", COUNTER, "pages", pin_new, 0, NULL,             \
	  "Pages newly pinned through vfio_pin_pages (a vfio_pfn created).")                       \
	X(PIN_BUMPS, MDEV, "refcount_bumps", "pin_refcount_raises_total", COUNTER, "pages",        \
	  pin_bumps, 0, NULL,                                                                      \
	  "vfio_pin_pages of a page already pinned (its ref_count "                                \
	  "raised).")                                                                              \
	X(UNPIN_RELEASED, MDEV, "released_pages", "unpins_total", COUNTER, "pages",                \
	  unpin_released, 0, NULL,                                                                 \
	  "Pages released by vfio_unpin_pages (their last reference dropped).")                    \
	X(UNPIN_DROPS, MDEV, "refcount_drops", "unpin_refcount_drops_total", COUNTER, "pages",     \
	  unpin_drops, 0, NULL,                                                                    \
	  "vfio_unpin_pages of a page still referenced after it (its ref_count lowered).")         \
	X(MAPPED_PAGES, PT, "mapped_pages", "mapped_pages", GAUGE, "pages", mapped_pages, 0, NULL, \
	  "Pages covered by the container's live DMA mappings.")                                   \
	X(PT_PAGES, PT, "pinned_pages", "passthrough_pages", GAUGE, "pages", pt_pages, 0, "PT",    \
	  "Pages pinned and mapped into an IOMMU domain for passthrough devices (reserved pages, " \
	  "the zero page among them, are pinned but not charged: it can exceed locked pages).")    \
	X(DMA_MAPS, PT, "dma_maps", "dma_maps_total", COUNTER, "calls", dma_maps, 0, NULL,         \
	  "VFIO_IOMMU_MAP_DMA calls.")                                                             \
	X(DMA_MAP_FAILURES, PT, "dma_map_failures", "dma_map_failures_total", COUNTER, "calls",    \
	  dma_map_failures, 0, NULL, "VFIO_IOMMU_MAP_DMA calls that failed.")                      \
	X(DMA_UNMAPS, PT, "dma_unmaps", "dma_unmaps_total", COUNTER, "mappings", dma_unmaps,       \
	  VP_FF_UU, NULL,                                                                          \
	  "DMA mappings unmapped and unpinned (by VFIO_IOMMU_UNMAP_DMA, one per mapping).")        \
	X(UNMAP_CALLS, PT, "unmap_calls", "unmap_calls_total", COUNTER, "calls", unmap_calls,      \
	  VP_FF_FB, NULL,                                                                          \
	  "VFIO_IOMMU_UNMAP_DMA calls that succeeded (what fentry/kprobe mode sees instead of "    \
	  "the mappings they unmapped).")                                                          \
	X(REPLAYS, PT, "replays", "replays_total", COUNTER, "events", replays, 0, NULL,            \
	  "Existing mappings replayed into a newly attached IOMMU domain (a passthrough hotplug "  \
	  "onto a container with mappings; the first group's empty replay is not one).")           \
	X(REPLAY_PAGES, PT, "replay_pages", "replay_pages_total", COUNTER, "pages", replay_pages,  \
	  0, NULL, "Pages pinned by replays.")                                                     \
	X(REACCOUNTS, PT, "reaccounts", "reaccounts_total", COUNTER, "mappings", reaccounts,       \
	  VP_FF_UU, NULL,                                                                          \
	  "Mappings re-accounted when the last IOMMU-backed group left (one per mapping: an "      \
	  "unplug from a VM of five mappings counts five).")                                       \
	X(GROUP_ATTACHES, GROUPS, "attaches", "group_attaches_total", COUNTER, "events",           \
	  group_attaches, 0, NULL, "IOMMU groups attached to the container.")                      \
	X(GROUP_DETACHES, GROUPS, "detaches", "group_detaches_total", COUNTER, "events",           \
	  group_detaches, 0, NULL, "IOMMU groups detached from the container.")                    \
	X(INVALIDATIONS, INV, "count", "invalidations_total", COUNTER, "events", invalidations,    \
	  VP_FF_UU, "INV", "Invalidations of vendor-driver pins by a DMA unmap.")                  \
	X(INV_PAGES, INV, "pages", "invalidated_pages_total", COUNTER, "pages", inv_pages, 0,      \
	  NULL, "Pinned pages the invalidation notifications dropped.")                            \
	X(INV_RETRIES, INV, "retries", "invalidation_retries_total", COUNTER, "events",            \
	  inv_retries, VP_FF_TP, NULL, "Times a DMA unmap had to notify vendor drivers again.")    \
	X(INV_DEVICES, INV, "devices_notified", "invalidation_notifications_total", COUNTER,       \
	  "devices", inv_devices, VP_FF_TP, NULL,                                                  \
	  "Vendor drivers notified by invalidations (one per device per invalidation).")           \
	X(LEAKED, TOP, "leaked_pins", "leaked_pins_total", COUNTER, "pages", leaked, 0, "LEAK",    \
	  "mdev pins still held when their mapping was removed (a vendor driver leak).")

enum vp_field_id {
#define VP_FIELD_ID(id, ...) VP_FLD_##id,
	VP_FIELDS(VP_FIELD_ID)
#undef VP_FIELD_ID
	    VP_FLD_MAX
};

/* The JSON objects figures sit in, in the order they are written. */
enum vp_field_group { VP_GRP_TOP, VP_GRP_GROUPS, VP_GRP_MDEV, VP_GRP_PT, VP_GRP_INV, VP_GRP_MAX };
/* Their keys in the container object ("" for TOP). */
extern const char *const vp_field_group_names[VP_GRP_MAX];

enum vp_field_type { VP_FT_GAUGE, VP_FT_COUNTER };

#define VP_FF_BYTES  (1u << 0)
#define VP_FF_TP     (1u << 1)
#define VP_FF_NOSUM  (1u << 2)
#define VP_FF_SIGNED (1u << 3)
#define VP_FF_FB     (1u << 4)
#define VP_FF_UU     (1u << 5)

struct vp_field {
	const char *id; /* "LOCKED_VM" */
	enum vp_field_group group;
	const char *json;
	const char *prom; /* NULL: not served */
	enum vp_field_type type;
	const char *unit;
	const char *member; /* "locked_vm" */
	size_t off;	    /* of the __u64 in struct vp_container */
	unsigned int flags;
	const char *col; /* table column heading, or NULL */
	const char *help;
};

extern const struct vp_field vp_fields[VP_FLD_MAX];

/*
 * The latency histograms (struct vp_lat's h[], enum vp_lat_id): what each
 * is called in JSON ("latency": key; "histograms": key "_ns"), in
 * Prometheus (after "vfiopin_"; per container "vfiopin_container_"), and
 * in text.  VP_FF_TP: only the tracepoints give it.
 */
struct vp_lat_field {
	const char *json;
	const char *prom;
	const char *title;
	const char *help;
	unsigned int flags;
};

extern const struct vp_lat_field vp_lat_fields[VP_LAT_MAX];

/* The raw counter of @c. */
uint64_t vp_field_get(const struct vp_container *c, enum vp_field_id id);
/*
 * What a mode lacks, in VP_FF_ source flags: tracepoint mode VP_FF_FB,
 * fentry/kprobe mode VP_FF_TP, and VP_FF_UU without its vfio_unmap_unpin
 * probe.  A figure (or histogram) of @flags is there unless it needs one.
 */
bool vp_flags_available(unsigned int flags, unsigned int lacks);
/* Whether a container seen in a mode that @lacks these has figure @id. */
bool vp_field_available(enum vp_field_id id, unsigned int lacks);
/* Add every summable figure of @c into @total. */
void vp_fields_add(struct vp_container *total, const struct vp_container *c);

/*
 * The host-wide counters (struct vp_globals, all CPUs added up), each
 * once: its JSON key (in the "drops" object when @drop), its Prometheus
 * family (drops_total{reason=JSON} when @drop), its words in the text
 * header, the struct member, what it counts.
 */
struct vp_global_field {
	const char *json;
	bool drop;
	const char *prom; /* family after "vfiopin_" */
	const char *text;
	size_t off; /* of the __u64 in struct vp_globals */
	const char *help;
};

/* The events' names (VP_EVENTS: vfio_type1_NAME without the prefix). */
extern const char *const vp_event_names[VP_EV_MAX];
/* The event called @name (vfio_type1_ left out), or -1. */
int vp_event_parse(const char *name);

#define VP_GLOBALS_MAX 5
extern const struct vp_global_field vp_global_fields[VP_GLOBALS_MAX];
/* Counter @i of @g. */
__u64 vp_global_get(const struct vp_globals *g, int i);

#endif
