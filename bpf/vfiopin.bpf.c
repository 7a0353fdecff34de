// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin: per-container aggregation of the vfio_type1 tracepoints.
 *
 * Every tracepoint has a raw_tp entry point that unpacks its arguments and
 * calls one handler (on_*).  The handlers hold all of the logic, so the same
 * code runs when the programs are attached to the real tracepoints and when
 * the host tests drive the raw_tp programs with BPF_PROG_TEST_RUN.
 *
 * Arguments, in order, are the contract of kernel-patch/README.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vfiopin.h"

#define ENOMEM	       12
#define ESRCH	       3
#define RLIMIT_MEMLOCK 8

char LICENSE[] SEC("license") = "GPL";

/* Set before load (open -> configure -> load -> attach). */
const volatile bool emit_events = false;
const volatile __u32 filter_cid = 0;
const volatile __u32 filter_tgid = 0;
/* the `containers` array's size less one (a power of two less one) */
const volatile __u32 slot_mask = VP_MAX_CONTAINERS - 1;
/*
 * Whether events of one container can run at once.  Every tracepoint
 * fires under the container's iommu->lock, so the tracepoint programs
 * update a container with plain stores; the fallback's entry points run
 * outside it and use atomic adds.
 */
const volatile bool concurrent = false;

/* The value a new spilled container starts from. */
struct vp_slot zero_slot = {};

/* cid & slot_mask -> the container (its cid 0 when free); mmapped by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct vp_slot);
} containers SEC(".maps");

/* containers whose array slot another live container holds, by cid */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct vp_slot);
} spill SEC(".maps");

/*
 * Containers userspace has reported as released and deleted: events that
 * still arrive for them (the teardown's own unmaps and uncharges) must not
 * bring the entry back.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, __u8);
} retired SEC(".maps");

/* struct vp_globals per CPU: plain adds, summed by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vp_globals);
} stats SEC(".maps");

/*
 * The begin events waiting for their end, per thread and enum vp_span: the
 * begin's time (0: none waiting) and what the end needs from the begin
 * (replay: pages to pin; invalidate: pages pinned before).  Spans nest
 * (an invalidation's vendor driver unpins), never two of one kind.
 */
#define VP_SPANS 8
struct spans {
	__u64 ts[VP_SPANS];
	__u64 arg[VP_SPANS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct spans);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

static __always_inline void inc(__u64 *p, __u64 v)
{
	if (concurrent)
		__sync_fetch_and_add(p, v);
	else
		*p += v;
}

/* Lower a gauge, never below zero (we may have attached after the rise). */
static __always_inline void dec(__u64 *p, __u64 v)
{
	__u64 cur = *p;

	if (concurrent)
		__sync_fetch_and_add(p, cur < v ? -cur : -v);
	else
		*p = cur < v ? 0 : cur - v;
}

static __always_inline struct vp_globals *gstats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

/* One more of a global counter (@member of struct vp_globals). */
#define GINC(member)                                                                               \
	do {                                                                                       \
		struct vp_globals *g_ = gstats();                                                  \
		if (g_)                                                                            \
			g_->member++;                                                              \
	} while (0)

static __always_inline __u32 bit_length(__u64 v)
{
	__u32 n = 0;

	if (v >> 32) {
		v >>= 32;
		n += 32;
	}
	if (v >> 16) {
		v >>= 16;
		n += 16;
	}
	if (v >> 8) {
		v >>= 8;
		n += 8;
	}
	if (v >> 4) {
		v >>= 4;
		n += 4;
	}
	if (v >> 2) {
		v >>= 2;
		n += 2;
	}
	if (v >> 1) {
		v >>= 1;
		n += 1;
	}
	return n + (__u32)v;
}

/* The log-linear slot of @v (bpf/vfiopin.h). */
static __always_inline __u32 lat_slot(__u64 v)
{
	__u32 b = bit_length(v), shift = b > VP_LAT_SUB_BITS + 1 ? b - 1 - VP_LAT_SUB_BITS : 0;

	if (b > VP_LAT_MAX_LOG2)
		return VP_LAT_SLOTS - 1;
	return shift * VP_LAT_SUB + (__u32)(v >> shift);
}

static __always_inline void hist_add(struct vp_hist *h, __u64 v)
{
	__u32 s = lat_slot(v);

	barrier_var(s);
	if (s >= VP_LAT_SLOTS)
		return;
	if (!h->count || s < h->lo)
		h->lo = s;
	if (s > h->hi)
		h->hi = s;
	inc(&h->slots[s], 1);
	inc(&h->count, 1);
	inc(&h->sum, v);
}

static __always_inline struct vp_hist *lat(struct vp_container *c, __u32 id)
{
	return &((struct vp_slot *)c)->lat.h[id < VP_LAT_MAX ? id : 0];
}

static __always_inline __u32 ref_slot(__u64 r)
{
	__u32 s = r >= VP_REF_SLOTS - 1 ? VP_REF_SLOTS - 1 : (__u32)r;

	barrier_var(s);
	return s & (VP_REF_SLOTS - 1);
}

static __always_inline bool wanted(__u32 cid, __u32 tgid)
{
	if (filter_cid && cid != filter_cid)
		return false;
	if (filter_tgid && tgid != filter_tgid)
		return false;
	return true;
}

static __always_inline void emit(__u32 type, __u32 cid, __u32 tgid, __u64 a0, __u64 a1, __u64 a2,
				 __u64 a3, __u64 a4, __u64 a5, __u64 dur)
{
	struct vp_event *e;

	if (!emit_events || !wanted(cid, tgid))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		GINC(drop_ringbuf);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->cid = cid;
	e->tgid = tgid;
	e->cur_tgid = bpf_get_current_pid_tgid() >> 32;
	e->comm[0] = 0;
	e->comm[1] = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->args[0] = a0;
	e->args[1] = a1;
	e->args[2] = a2;
	e->args[3] = a3;
	e->args[4] = a4;
	e->args[5] = a5;
	e->dur_ns = dur;
	bpf_ringbuf_submit(e, 0);
}

/*
 * First sight of container @cid, whose array slot @a is free or held by
 * another: the slot if it is free, else the spill map.  Not for a retired
 * container (a late event), nor twice for one (it may have spilled while
 * its slot was held, and stays where it went).
 */
static __noinline struct vp_container *container_new(struct vp_container *a, __u32 cid)
{
	struct vp_slot *sp;

	if (bpf_map_lookup_elem(&retired, &cid)) {
		GINC(late_events);
		return NULL;
	}
	sp = bpf_map_lookup_elem(&spill, &cid);
	if (sp)
		return &sp->c;
	if (a && !a->cid && !__sync_val_compare_and_swap(&a->cid, 0, cid))
		return a;
	if (a && a->cid == cid)
		return a; /* claimed by another CPU for the same container */
	bpf_map_update_elem(&spill, &cid, &zero_slot, BPF_NOEXIST);
	sp = bpf_map_lookup_elem(&spill, &cid);
	if (!sp) {
		GINC(drop_map_full);
		return NULL;
	}
	sp->c.cid = cid;
	return &sp->c;
}

/*
 * The entry of container @cid, created on first sight.  @tgid is the
 * event's tgid: the owner's for every event but account.  @now is 0 for
 * the frequent per-page and accounting events, which read no clock: a
 * clock read is a large part of an event's cost, and they need none.
 */
static __always_inline struct vp_container *container(__u32 type, __u32 cid, __u32 tgid, __u64 now)
{
	struct vp_globals *g = gstats();
	__u32 idx = cid & slot_mask;
	struct vp_container *c;

	if (g && type < VP_EV_MAX)
		g->events[type]++;
	c = bpf_map_lookup_elem(&containers, &idx);
	if (!c || c->cid != cid) {
		c = container_new(c, cid);
		if (!c)
			return NULL;
	}
	if (!c->first_ns)
		c->first_ns = now ? now : bpf_ktime_get_ns();
	if (!c->tgid && type != VP_EV_ACCOUNT)
		c->tgid = tgid;
	if (!c->comm[0] && c->tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) == c->tgid)
		bpf_get_current_comm(c->comm, sizeof(c->comm));
	if (now)
		c->last_ns = now;
	return c;
}

static __always_inline struct spans *spans(bool create)
{
	return bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void span_begin(__u32 kind, __u64 now, __u64 arg)
{
	struct spans *s = spans(true);

	if (!s) {
		GINC(drop_inflight);
		return;
	}
	kind &= VP_SPANS - 1;
	s->ts[kind] = now;
	s->arg[kind] = arg;
}

/* Ends a span: its duration (0 if the begin was not seen) and argument. */
static __always_inline __u64 span_end(__u32 kind, __u64 now, __u64 *arg)
{
	struct spans *s = spans(false);
	__u64 ts;

	*arg = 0;
	kind &= VP_SPANS - 1;
	if (!s || !s->ts[kind]) {
		GINC(unmatched_end);
		return 0;
	}
	ts = s->ts[kind];
	s->ts[kind] = 0;
	*arg = s->arg[kind];
	return now > ts ? now - ts : 0;
}

/* ---- handlers: all of the aggregation ---------------------------------- */

static __always_inline int on_container(__u32 type, __u32 cid, __u32 tgid, __u32 dmas, __u64 pinned,
					__u64 locked)
{
	__u64 now = bpf_ktime_get_ns();
	struct vp_container *c = container(type, cid, tgid, now);

	if (c) {
		if (type == VP_EV_CONTAINER_OPEN) {
			c->flags |= VP_F_SEEN_OPEN;
			c->tgid = tgid;
		} else {
			/* @pinned is counted when the mappings go (dma_remove) */
			c->flags |= VP_F_RELEASED;
			c->released_ns = now;
		}
	}
	emit(type, cid, tgid, dmas, pinned, locked, 0, 0, 0, 0);
	return 0;
}

static __always_inline int on_group(__u32 type, __u32 cid, __u32 tgid, __s32 group, bool emulated,
				    __s32 ret)
{
	struct vp_container *c = container(type, cid, tgid, 0);

	if (c && !ret) {
		if (type == VP_EV_GROUP_ATTACH) {
			inc(&c->group_attaches, 1);
			if (emulated) {
				c->groups_emulated++;
			} else {
				c->groups_iommu++;
				c->flags |= VP_F_IOMMU;
			}
		} else {
			inc(&c->group_detaches, 1);
			if (emulated && c->groups_emulated)
				c->groups_emulated--;
			else if (!emulated && c->groups_iommu)
				c->groups_iommu--;
		}
	}
	emit(type, cid, tgid, group, emulated, ret, 0, 0, 0, 0);
	return 0;
}

static __always_inline int on_account(__u32 cid, __u32 tgid, __s64 delta, __u64 locked_vm,
				      __u64 limit, bool lock_cap, bool async, __s32 ret)
{
	struct vp_container *c = container(VP_EV_ACCOUNT, cid, tgid, 0);

	if (c) {
		/*
		 * An uncharge that finds the owner's mm gone (-ESRCH: a VM
		 * killed with pins outstanding) is no failure: the charge went
		 * with the mm, so it is netted like a successful one.
		 */
		bool gone = ret == -ESRCH && delta < 0;
		__u64 need = locked_vm;

		inc(&c->account_events, 1);
		if (!ret || gone) {
			__s64 now_charged = (__s64)c->charged + delta;

			inc(&c->charged, delta);
			if (now_charged > 0 && (__u64)now_charged > c->charged_peak)
				c->charged_peak = now_charged;
		} else if (ret == -ENOMEM) {
			inc(&c->limit_hits, 1);
		} else {
			inc(&c->account_failures, 1);
		}
		if (!c->tgid || tgid == c->tgid) {
			/* -ESRCH: the owner's mm is gone, and its charge with it */
			c->locked_vm = ret == -ESRCH ? 0 : locked_vm;
			if (locked_vm > c->locked_peak)
				c->locked_peak = locked_vm;
			/* what a refused charge asked for, the limit allowing */
			if (ret == -ENOMEM && delta > 0)
				need = locked_vm + delta;
			if (need > c->need_peak)
				c->need_peak = need;
		}
		if ((!c->tgid || tgid == c->tgid) && ret != -ESRCH) {
			c->limit = limit;
			c->flags |= VP_F_LIMIT_KNOWN;
			if (lock_cap)
				c->flags |= VP_F_LOCK_CAP;
			else
				c->flags &= ~VP_F_LOCK_CAP;
		}
	}
	emit(VP_EV_ACCOUNT, cid, tgid, delta, locked_vm, limit, lock_cap, async, ret, 0);
	return 0;
}

/*
 * A vfio_pin_pages / vfio_unpin_pages call begins: only the fallback times
 * it here (the tracepoints' end carries the duration), and the event
 * stream records it.  Raw tracepoint mode attaches tp_pin_begin and
 * tp_unpin_begin only when streaming.
 */
static __always_inline int on_pin_begin(__u32 type, __u32 cid, __u32 tgid, __u64 iova, __s32 npage,
					__s32 prot, bool timed)
{
	struct vp_globals *g = gstats();

	if (g)
		g->events[type]++;
	if (timed)
		span_begin(type == VP_EV_PIN_BEGIN ? VP_SPAN_PIN : VP_SPAN_UNPIN,
			   bpf_ktime_get_ns(), 0);
	emit(type, cid, tgid, iova, npage, prot, 0, 0, 0, 0);
	return 0;
}

/* The call ended after @dur ns (0: not measured): it is counted here. */
static __always_inline int on_pin_end(__u32 type, __u32 cid, __u32 tgid, __u64 iova, __s32 npage,
				      __s32 prot, __s32 ret, __u64 dur)
{
	struct vp_container *c = container(type, cid, tgid, 0);
	bool pin = type == VP_EV_PIN_END;

	if (c && pin) {
		inc(&c->pin_calls, 1);
		inc(&c->pin_pages_req, npage > 0 ? npage : 0);
		if (ret < 0) {
			inc(&c->pin_failures, 1);
			if (ret == -ENOMEM)
				inc(&c->pin_enomem, 1);
		}
	} else if (c) {
		inc(&c->unpin_calls, 1);
		inc(&c->unpin_pages_req, npage > 0 ? npage : 0);
	}
	if (c && dur) {
		hist_add(lat(c, pin ? VP_LAT_PIN : VP_LAT_UNPIN), dur);
		/* no division for the frequent 1-page call */
		if (ret > 0)
			hist_add(lat(c, pin ? VP_LAT_PIN_PAGE : VP_LAT_UNPIN_PAGE),
				 ret == 1 ? dur : dur / ret);
	}
	emit(type, cid, tgid, iova, npage, prot, ret, 0, 0, dur);
	return 0;
}

static __always_inline int on_page(__u32 type, __u32 cid, __u32 tgid, __u64 iova, __u32 ref_count,
				   bool edge)
{
	struct vp_container *c = container(type, cid, tgid, 0);

	if (c && type == VP_EV_PIN_PAGE) {
		inc(&c->pin_refs, 1);
		inc(&c->ref_bump.slots[ref_slot(ref_count)], 1);
		if (edge) {
			inc(&c->pin_new, 1);
			inc(&c->pages_pinned, 1);
		} else {
			inc(&c->pin_bumps, 1);
			dec(&c->ref_live.slots[ref_slot(ref_count - 1)], 1);
		}
		inc(&c->ref_live.slots[ref_slot(ref_count)], 1);
	} else if (c) {
		dec(&c->pin_refs, 1);
		dec(&c->ref_live.slots[ref_slot((__u64)ref_count + 1)], 1);
		if (edge) {
			inc(&c->unpin_released, 1);
			dec(&c->pages_pinned, 1);
		} else {
			inc(&c->unpin_drops, 1);
			inc(&c->ref_live.slots[ref_slot(ref_count)], 1);
		}
	}
	emit(type, cid, tgid, iova, ref_count, edge, 0, 0, 0, 0);
	return 0;
}

/*
 * MAP_DMA begin and end.  @pinned: the mapping was pinned for an IOMMU
 * domain (its time goes to the map histogram); @pt_pages: pages to count
 * as passthrough-pinned here (the fallback counts them as
 * vfio_pin_pages_remote returns them, and passes 0).
 */
static __always_inline int on_map(__u32 type, __u32 cid, __u32 tgid, __u64 iova, __u64 size,
				  bool pinned, __u64 pt_pages, __s32 ret)
{
	__u64 now = bpf_ktime_get_ns(), dur = 0, arg;
	struct vp_container *c = container(type, cid, tgid, now);

	if (type == VP_EV_DMA_MAP_BEGIN) {
		span_begin(VP_SPAN_MAP, now, 0);
	} else {
		dur = span_end(VP_SPAN_MAP, now, &arg);
		if (c && !ret) {
			inc(&c->dma_maps, 1);
			inc(&c->mapped_pages, size >> VP_PAGE_SHIFT);
			inc(&c->pt_pages, pt_pages);
			if (pinned && dur)
				hist_add(lat(c, VP_LAT_MAP), dur);
		} else if (c) {
			inc(&c->dma_map_failures, 1);
		}
	}
	emit(type, cid, tgid, iova, size, pinned, ret, 0, 0, dur);
	return 0;
}

static __always_inline int on_dma_unmap(__u32 cid, __u32 tgid, __u64 iova, __u64 size,
					__s64 unpinned, bool accounted)
{
	struct vp_container *c = container(VP_EV_DMA_UNMAP, cid, tgid, 0);

	/* only mappings pinned for an IOMMU domain are unmapped this way */
	if (c) {
		inc(&c->dma_unmaps, 1);
		dec(&c->pt_pages, size >> VP_PAGE_SHIFT);
	}
	emit(VP_EV_DMA_UNMAP, cid, tgid, iova, size, unpinned, accounted, 0, 0, 0);
	return 0;
}

static __always_inline int on_dma_remove(__u32 cid, __u32 tgid, __u64 iova, __u64 size,
					 __u64 leaked)
{
	struct vp_container *c = container(VP_EV_DMA_REMOVE, cid, tgid, 0);

	if (c) {
		dec(&c->mapped_pages, size >> VP_PAGE_SHIFT);
		inc(&c->leaked, leaked);
	}
	emit(VP_EV_DMA_REMOVE, cid, tgid, iova, size, leaked, 0, 0, 0, 0);
	return 0;
}

#define REPLAY_NONEMPTY (1ULL << 63)

/*
 * One replay of existing mappings into a new IOMMU domain, in either mode:
 * @pages it pinned, @pt_pages of them to count as passthrough-pinned here
 * (the fallback has counted them already), @dur its time (0: unknown).
 */
static __always_inline void count_replay(struct vp_container *c, __u64 pages, __u64 pt_pages,
					 __u64 dur)
{
	if (!c)
		return;
	inc(&c->replays, 1);
	inc(&c->replay_pages, pages);
	inc(&c->pt_pages, pt_pages);
	if (dur)
		hist_add(lat(c, VP_LAT_REPLAY), dur);
}

static __always_inline int on_replay_begin(__u32 cid, __u32 tgid, __u32 dmas, __u64 pin_pages,
					   __u64 map_pages)
{
	__u64 now = bpf_ktime_get_ns();

	container(VP_EV_REPLAY_BEGIN, cid, tgid, now);
	/* whether there is anything to replay rides along with the pages */
	span_begin(VP_SPAN_REPLAY, now, pin_pages | (dmas ? REPLAY_NONEMPTY : 0));
	emit(VP_EV_REPLAY_BEGIN, cid, tgid, dmas, pin_pages, map_pages, 0, 0, 0, 0);
	return 0;
}

static __always_inline int on_replay_end(__u32 cid, __u32 tgid, __s32 ret)
{
	__u64 now = bpf_ktime_get_ns(), pin_pages, dur;
	struct vp_container *c = container(VP_EV_REPLAY_END, cid, tgid, now);

	dur = span_end(VP_SPAN_REPLAY, now, &pin_pages);
	/*
	 * A replay is a domain that got the existing mappings; the first
	 * IOMMU group's domain replays none and is part of its attach.
	 */
	if (!ret && (pin_pages & REPLAY_NONEMPTY))
		count_replay(c, pin_pages & ~REPLAY_NONEMPTY, pin_pages & ~REPLAY_NONEMPTY, dur);
	emit(VP_EV_REPLAY_END, cid, tgid, ret, 0, 0, 0, 0, 0, dur);
	return 0;
}

static __always_inline int on_reaccount(__u32 cid, __u32 tgid, __u64 iova, __u64 size,
					__s64 unpinned, __s64 locked)
{
	struct vp_container *c = container(VP_EV_REACCOUNT, cid, tgid, 0);

	if (c)
		inc(&c->reaccounts, 1);
	emit(VP_EV_REACCOUNT, cid, tgid, iova, size, unpinned, locked, 0, 0, 0);
	return 0;
}

static __always_inline int on_invalidate(__u32 type, __u32 cid, __u32 tgid, __u64 iova, __u64 size,
					 __u64 pinned, __u32 devices, __s32 retry)
{
	__u64 now = bpf_ktime_get_ns(), dur = 0, before;
	struct vp_container *c = container(type, cid, tgid, now);

	if (type == VP_EV_INVALIDATE_BEGIN) {
		span_begin(VP_SPAN_INVALIDATE, now, pinned);
		if (c) {
			inc(&c->invalidations, 1);
			inc(&c->inv_devices, devices);
			if (retry > 0)
				inc(&c->inv_retries, 1);
		}
	} else {
		dur = span_end(VP_SPAN_INVALIDATE, now, &before);
		if (c && dur) {
			hist_add(lat(c, VP_LAT_INV), dur);
			if (before > pinned)
				inc(&c->inv_pages, before - pinned);
		}
	}
	emit(type, cid, tgid, iova, size, pinned, devices, retry, 0, dur);
	return 0;
}

/* ---- raw tracepoint entry points --------------------------------------- */

SEC("raw_tp/vfio_type1_container_open")
int BPF_PROG(tp_container_open, unsigned int cid, int tgid, unsigned int dmas, unsigned long pinned,
	     unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_OPEN, cid, tgid, dmas, pinned, locked);
}

SEC("raw_tp/vfio_type1_container_release")
int BPF_PROG(tp_container_release, unsigned int cid, int tgid, unsigned int dmas,
	     unsigned long pinned, unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_RELEASE, cid, tgid, dmas, pinned, locked);
}

SEC("raw_tp/vfio_type1_group_attach")
int BPF_PROG(tp_group_attach, unsigned int cid, int tgid, int group, bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_ATTACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_group_detach")
int BPF_PROG(tp_group_detach, unsigned int cid, int tgid, int group, bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_DETACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_account")
int BPF_PROG(tp_account, unsigned int cid, int tgid, long delta, unsigned long locked_vm,
	     unsigned long limit, bool lock_cap, bool async, int ret)
{
	return on_account(cid, tgid, delta, locked_vm, limit, lock_cap, async, ret);
}

SEC("raw_tp/vfio_type1_pin_begin")
int BPF_PROG(tp_pin_begin, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret)
{
	return on_pin_begin(VP_EV_PIN_BEGIN, cid, tgid, iova, npage, prot, false);
}

SEC("raw_tp/vfio_type1_unpin_begin")
int BPF_PROG(tp_unpin_begin, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret)
{
	return on_pin_begin(VP_EV_UNPIN_BEGIN, cid, tgid, iova, npage, prot, false);
}

/* An end: the duration since its begin, measured by the kernel (0: not measured). */
SEC("raw_tp/vfio_type1_pin_end")
int BPF_PROG(tp_pin_end, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret,
	     u64 duration_ns)
{
	return on_pin_end(VP_EV_PIN_END, cid, tgid, iova, npage, prot, ret, duration_ns);
}

SEC("raw_tp/vfio_type1_unpin_end")
int BPF_PROG(tp_unpin_end, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret,
	     u64 duration_ns)
{
	return on_pin_end(VP_EV_UNPIN_END, cid, tgid, iova, npage, prot, ret, duration_ns);
}

SEC("raw_tp/vfio_type1_pin_page")
int BPF_PROG(tp_pin_page, unsigned int cid, int tgid, u64 iova, unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_PIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_unpin_page")
int BPF_PROG(tp_unpin_page, unsigned int cid, int tgid, u64 iova, unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_UNPIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_dma_map_begin")
int BPF_PROG(tp_dma_map_begin, unsigned int cid, int tgid, u64 iova, u64 size, bool pin, int ret)
{
	on_map(VP_EV_DMA_MAP_BEGIN, cid, tgid, iova, size, pin, 0, ret);
	return 0;
}

SEC("raw_tp/vfio_type1_dma_map_end")
int BPF_PROG(tp_dma_map_end, unsigned int cid, int tgid, u64 iova, u64 size, bool pin, int ret)
{
	on_map(VP_EV_DMA_MAP_END, cid, tgid, iova, size, pin, pin ? size >> VP_PAGE_SHIFT : 0, ret);
	return 0;
}

SEC("raw_tp/vfio_type1_dma_unmap")
int BPF_PROG(tp_dma_unmap, unsigned int cid, int tgid, u64 iova, u64 size, long unpinned,
	     bool accounted)
{
	return on_dma_unmap(cid, tgid, iova, size, unpinned, accounted);
}

SEC("raw_tp/vfio_type1_dma_remove")
int BPF_PROG(tp_dma_remove, unsigned int cid, int tgid, u64 iova, u64 size, unsigned long leaked)
{
	return on_dma_remove(cid, tgid, iova, size, leaked);
}

SEC("raw_tp/vfio_type1_replay_begin")
int BPF_PROG(tp_replay_begin, unsigned int cid, int tgid, unsigned int dmas,
	     unsigned long pin_pages, unsigned long map_pages)
{
	return on_replay_begin(cid, tgid, dmas, pin_pages, map_pages);
}

SEC("raw_tp/vfio_type1_replay_end")
int BPF_PROG(tp_replay_end, unsigned int cid, int tgid, int ret)
{
	return on_replay_end(cid, tgid, ret);
}

SEC("raw_tp/vfio_type1_reaccount")
int BPF_PROG(tp_reaccount, unsigned int cid, int tgid, u64 iova, u64 size, long unpinned,
	     long locked)
{
	return on_reaccount(cid, tgid, iova, size, unpinned, locked);
}

SEC("raw_tp/vfio_type1_invalidate_begin")
int BPF_PROG(tp_invalidate_begin, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_BEGIN, cid, tgid, iova, size, pinned, devices, retry);
}

SEC("raw_tp/vfio_type1_invalidate_end")
int BPF_PROG(tp_invalidate_end, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_END, cid, tgid, iova, size, pinned, devices, retry);
}

/* ---- fallback entry points: kernels without the tracepoints ------------- */
/*
 * On an unpatched kernel (Debian's 6.1, say) the same handlers run from
 * fentry/fexit programs, or kprobes/kretprobes where fentry is missing, on
 * type1 functions that are not inlined: the iommu driver ops (open,
 * release, attach/detach_group, pin/unpin_pages, ioctl) reached through
 * function pointers, mm_lock_acct (the locked_vm charge), and
 * vfio_pin/unpin_pages_remote (passthrough pinning).  Userspace loads one
 * family (fe_/fx_ or kp_/kr_) and none of the raw_tp programs.
 *
 * What they cannot see is not faked: per-page pins and refcounts,
 * invalidations, re-accounting and leaked pins happen in inlined code.
 * Containers get their ids here, in order of first sight; the kernel's
 * pointer is only a map key.  Each entry stashes what its exit needs per
 * thread, so kretprobes (which see no arguments) work the same way.
 */
#define FB_MAP_DMA   0x3b71 /* VFIO_IOMMU_MAP_DMA */
#define FB_UNMAP_DMA 0x3b72 /* VFIO_IOMMU_UNMAP_DMA */
#define FB_MAX_ERRNO 4095

enum fb_fn {
	FB_OPEN,
	FB_RELEASE,
	FB_ATTACH,
	FB_DETACH,
	FB_PIN,
	FB_UNPIN,
	FB_IOCTL,
	FB_ACCT,
	FB_PIN_REMOTE,
	FB_UNPIN_REMOTE
};

/* what an entry leaves for its exit (key: tid << 8 | fn) */
struct fb_call {
	__u64 a[5];
	__u32 cid;
	__u32 tgid;
};

/* the type1 call in progress in a thread (key: tid) */
struct fb_cur {
	__u32 cid;
	__u32 in_attach;
	__u32 acct_hit; /* mm_lock_acct refused with ENOMEM in this call */
	__u32 pad;
	__u64 replay_pages;
	__u64 map_pinned;
};

__u32 fb_next_cid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u64);   /* struct vfio_iommu *, never shown */
	__type(value, __u32); /* cid */
} fb_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct fb_call);
} fb_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct fb_cur);
} fb_cur SEC(".maps");

/* group id -> emulated (detach_group does not say) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* cid << 32 | group id */
	__type(value, __u8);
} fb_groups SEC(".maps");

static __always_inline __u32 fb_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline __u32 fb_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* The cid of a struct vfio_iommu, given one on first sight. */
static __always_inline __u32 fb_cid(void *iommu)
{
	__u64 key = (__u64)iommu;
	__u32 *id = bpf_map_lookup_elem(&fb_ids, &key), cid;

	if (id)
		return *id;
	cid = __sync_fetch_and_add(&fb_next_cid, 1) + 1;
	if (bpf_map_update_elem(&fb_ids, &key, &cid, BPF_NOEXIST)) {
		id = bpf_map_lookup_elem(&fb_ids, &key);
		return id ? *id : 0;
	}
	return cid;
}

static __always_inline void fb_stash(__u32 fn, __u32 cid, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
				     __u64 a4)
{
	__u64 key = (__u64)fb_tid() << 8 | fn;
	struct fb_call c = {.a = {a0, a1, a2, a3, a4}, .cid = cid, .tgid = fb_tgid()};

	if (bpf_map_update_elem(&fb_calls, &key, &c, BPF_ANY))
		GINC(drop_inflight);
}

/* The entry's stash, into @c; false if the entry was not seen. */
static __always_inline bool fb_unstash(__u32 fn, struct fb_call *c)
{
	__u64 key = (__u64)fb_tid() << 8 | fn;
	struct fb_call *s = bpf_map_lookup_elem(&fb_calls, &key);

	if (!s) {
		GINC(unmatched_end);
		return false;
	}
	*c = *s;
	bpf_map_delete_elem(&fb_calls, &key);
	return true;
}

static __always_inline struct fb_cur *fb_enter(__u32 cid)
{
	struct fb_cur cur = {.cid = cid};
	__u32 tid = fb_tid();

	bpf_map_update_elem(&fb_cur, &tid, &cur, BPF_ANY);
	return bpf_map_lookup_elem(&fb_cur, &tid);
}

static __always_inline struct fb_cur *fb_current(void)
{
	__u32 tid = fb_tid();

	return bpf_map_lookup_elem(&fb_cur, &tid);
}

static __always_inline void fb_leave(void)
{
	__u32 tid = fb_tid();

	bpf_map_delete_elem(&fb_cur, &tid);
}

static __always_inline int fb_open_exit(__u64 ret)
{
	__u32 cid;

	if (!ret || ret >= (__u64)-FB_MAX_ERRNO)
		return 0;
	cid = fb_cid((void *)ret);
	return on_container(VP_EV_CONTAINER_OPEN, cid, fb_tgid(), 0, 0, 0);
}

static __always_inline int fb_release_entry(void *iommu)
{
	__u32 cid = fb_cid(iommu);

	fb_enter(cid);
	fb_stash(FB_RELEASE, cid, (__u64)iommu, 0, 0, 0, 0);
	return 0;
}

static __always_inline int fb_release_exit(void)
{
	struct fb_call c;
	struct vp_container *vc;

	fb_leave();
	if (!fb_unstash(FB_RELEASE, &c))
		return 0;
	bpf_map_delete_elem(&fb_ids, &c.a[0]);
	/* the release removes every mapping (vfio_remove_dma is not hooked) */
	vc = container(VP_EV_MAX, c.cid, c.tgid, 0);
	if (vc)
		vc->mapped_pages = 0;
	return on_container(VP_EV_CONTAINER_RELEASE, c.cid, c.tgid, 0, 0, 0);
}

static __always_inline int fb_attach_entry(void *iommu, struct iommu_group *group, __u32 type)
{
	__u32 cid = fb_cid(iommu);
	struct fb_cur *cur = fb_enter(cid);
	int id = BPF_CORE_READ(group, id);

	if (cur)
		cur->in_attach = 1;
	fb_stash(FB_ATTACH, cid, (__u64)id, type == VFIO_EMULATED_IOMMU, 0, 0, 0);
	span_begin(VP_SPAN_REPLAY, bpf_ktime_get_ns(), 0);
	return 0;
}

static __always_inline int fb_attach_exit(__s32 ret)
{
	struct fb_cur *cur = fb_current();
	__u64 replayed = cur ? cur->replay_pages : 0, now = bpf_ktime_get_ns(), unused, dur;
	struct vp_container *c;
	struct fb_call k;

	fb_leave();
	dur = span_end(VP_SPAN_REPLAY, now, &unused);
	if (!fb_unstash(FB_ATTACH, &k))
		return 0;
	/*
	 * A replay: pages pinned while attaching, the mappings replayed into
	 * a new domain.  The first IOMMU group's domain replays none (and is
	 * part of its attach), nor does a group joining an existing domain.
	 */
	c = container(VP_EV_MAX, k.cid, k.tgid, now);
	if (!ret && !k.a[1] && replayed)
		count_replay(c, replayed, 0, dur);
	if (!ret) {
		__u64 gk = (__u64)k.cid << 32 | (__u32)k.a[0];
		__u8 emulated = k.a[1];

		bpf_map_update_elem(&fb_groups, &gk, &emulated, BPF_ANY);
	}
	return on_group(VP_EV_GROUP_ATTACH, k.cid, k.tgid, (__s32)k.a[0], k.a[1], ret);
}

static __always_inline int fb_detach_entry(void *iommu, struct iommu_group *group)
{
	__u32 cid = fb_cid(iommu);

	fb_enter(cid);
	fb_stash(FB_DETACH, cid, (__u64)BPF_CORE_READ(group, id), 0, 0, 0, 0);
	return 0;
}

static __always_inline int fb_detach_exit(void)
{
	struct fb_call k;
	__u64 gk;
	__u8 *emulated, e = 0;

	fb_leave();
	if (!fb_unstash(FB_DETACH, &k))
		return 0;
	gk = (__u64)k.cid << 32 | (__u32)k.a[0];
	emulated = bpf_map_lookup_elem(&fb_groups, &gk);
	if (emulated)
		e = *emulated;
	bpf_map_delete_elem(&fb_groups, &gk);
	return on_group(VP_EV_GROUP_DETACH, k.cid, k.tgid, (__s32)k.a[0], e, 0);
}

static __always_inline int fb_pin_entry(__u32 fn, void *iommu, __u64 iova, __s32 npage, __s32 prot)
{
	__u32 cid = fb_cid(iommu);

	fb_enter(cid);
	fb_stash(fn, cid, iova, (__u64)npage, (__u64)prot, 0, 0);
	return on_pin_begin(fn == FB_PIN ? VP_EV_PIN_BEGIN : VP_EV_UNPIN_BEGIN, cid, fb_tgid(),
			    iova, npage, prot, true);
}

static __always_inline int fb_pin_exit(__u32 fn, __s32 ret)
{
	struct fb_call k;
	__u64 dur, unused;

	fb_leave();
	if (!fb_unstash(fn, &k))
		return 0;
	/* vfio_iommu_type1_unpin_pages returns nothing: it unpins what it is asked */
	if (fn == FB_UNPIN)
		ret = (__s32)k.a[1];
	dur = span_end(fn == FB_PIN ? VP_SPAN_PIN : VP_SPAN_UNPIN, bpf_ktime_get_ns(), &unused);
	return on_pin_end(fn == FB_PIN ? VP_EV_PIN_END : VP_EV_UNPIN_END, k.cid, k.tgid, k.a[0],
			  (__s32)k.a[1], (__s32)k.a[2], ret, dur);
}

/*
 * Every type1 ioctl's entry is stashed, the ones not followed (GET_INFO,
 * dirty tracking, ...) with their command alone, so that each exit finds
 * its entry and the exit needs no command: a kretprobe has none to filter
 * on, and an exit without its entry counts as unmatched.
 */
static __always_inline int fb_ioctl_entry(void *iommu, __u32 cmd, __u64 arg)
{
	__u32 cid;
	__u64 iova = 0, size = 0;

	if (cmd != FB_MAP_DMA && cmd != FB_UNMAP_DMA) {
		fb_stash(FB_IOCTL, 0, cmd, 0, 0, 0, 0);
		return 0;
	}
	cid = fb_cid(iommu);
	fb_enter(cid);
	if (cmd == FB_MAP_DMA) {
		struct vfio_iommu_type1_dma_map m = {};

		bpf_probe_read_user(&m, sizeof(m), (void *)arg);
		iova = m.iova;
		size = m.size;
		on_map(VP_EV_DMA_MAP_BEGIN, cid, fb_tgid(), iova, size, false, 0, 0);
	} else {
		struct vfio_iommu_type1_dma_unmap u = {};

		bpf_probe_read_user(&u, sizeof(u), (void *)arg);
		iova = u.iova;
		size = u.size;
	}
	fb_stash(FB_IOCTL, cid, cmd, arg, iova, size, 0);
	return 0;
}

static __always_inline int fb_ioctl_exit(__s64 ret)
{
	struct fb_cur *cur = fb_current();
	__u64 pinned = cur ? cur->map_pinned : 0, now = bpf_ktime_get_ns();
	struct vp_container *c;
	struct fb_call k;

	if (!fb_unstash(FB_IOCTL, &k) || (k.a[0] != FB_MAP_DMA && k.a[0] != FB_UNMAP_DMA))
		return 0;
	fb_leave();
	if (k.a[0] == FB_MAP_DMA) {
		/* pinned pages were counted as vfio_pin_pages_remote returned them */
		on_map(VP_EV_DMA_MAP_END, k.cid, k.tgid, k.a[2], k.a[3], pinned > 0, 0, (__s32)ret);
	} else if (!ret) {
		struct vfio_iommu_type1_dma_unmap u = {};

		/* the kernel writes back how much it unmapped */
		bpf_probe_read_user(&u, sizeof(u), (void *)k.a[1]);
		c = container(VP_EV_DMA_UNMAP, k.cid, k.tgid, now);
		if (c)
			inc(&c->unmap_calls, 1);
		on_dma_remove(k.cid, k.tgid, k.a[2], u.size, 0);
	}
	return 0;
}

static __always_inline int fb_acct_entry(struct task_struct *task, struct mm_struct *mm,
					 bool lock_cap, long npage)
{
	struct fb_cur *cur = fb_current();

	fb_stash(FB_ACCT, cur ? cur->cid : 0, (__u64)task, (__u64)mm, lock_cap, npage, 0);
	return 0;
}

static __always_inline int fb_acct_exit(__s32 ret)
{
	struct task_struct *task;
	struct mm_struct *mm;
	__u64 locked, limit;
	struct fb_call k;

	if (!fb_unstash(FB_ACCT, &k) || !k.cid)
		return 0;
	if (ret == -ENOMEM) {
		struct fb_cur *cur = fb_current();

		if (cur)
			cur->acct_hit = 1;
	}
	task = (struct task_struct *)k.a[0];
	mm = (struct mm_struct *)k.a[1];
	locked = BPF_CORE_READ(mm, locked_vm);
	limit = BPF_CORE_READ(task, signal, rlim[RLIMIT_MEMLOCK].rlim_cur);
	return on_account(k.cid, BPF_CORE_READ(task, tgid), (__s64)k.a[3], locked, limit, k.a[2],
			  (__u64)bpf_get_current_task_btf()->mm != (__u64)mm, ret);
}

static __always_inline int fb_remote_entry(__u32 fn, __u64 npage)
{
	struct fb_cur *cur = fb_current();

	fb_stash(fn, cur ? cur->cid : 0, npage, 0, 0, 0, 0);
	return 0;
}

/* Passthrough pages pinned (MAP_DMA, replay) and unpinned. */
static __always_inline int fb_remote_exit(__u32 fn, __s64 ret)
{
	struct fb_cur *cur = fb_current();
	struct vp_container *c;
	struct fb_call k;

	if (!fb_unstash(fn, &k) || !k.cid)
		return 0;
	c = container(VP_EV_MAX, k.cid, k.tgid, 0);
	if (!c)
		return 0;
	if (fn == FB_UNPIN_REMOTE) {
		dec(&c->pt_pages, k.a[0]);
		return 0;
	}
	/*
	 * vfio_pin_pages_remote checks RLIMIT_MEMLOCK itself before charging:
	 * its ENOMEM is a limit hit mm_lock_acct never saw
	 */
	if (ret == -ENOMEM && !(cur && cur->acct_hit))
		inc(&c->limit_hits, 1);
	if (ret <= 0)
		return 0;
	inc(&c->pt_pages, ret);
	if (cur && cur->in_attach)
		cur->replay_pages += ret;
	else if (cur)
		cur->map_pinned += ret;
	return 0;
}

/*
 * The fallback's entry points.  Each type1 function is declared once and
 * both fallback modes are generated from that declaration, so the two can
 * never differ: fentry/fexit (fe_, fx_: BTF-typed, fexit sees every
 * argument again with the return value) and kprobe/kretprobe (kp_, kr_:
 * arguments from registers, at most five; the return probe sees only the
 * return value).  An exit handler therefore takes the return value alone,
 * in either mode; what else it needs, the entry stashed.
 */
#define FB_UNPAREN(...)		__VA_ARGS__
#define FB_PROG(name, ...)	BPF_PROG(name, __VA_ARGS__)
#define FB_KPROBE(name, ...)	BPF_KPROBE(name, __VA_ARGS__)
#define FB_KRETPROBE(name, ...) BPF_KRETPROBE(name, __VA_ARGS__)

/* FB_ENTRY(function, name, (its first arguments, five at most), handler call) */
#define FB_ENTRY(func, name, args, call)                                                           \
	SEC("fentry/" #func)                                                                       \
	int FB_PROG(fe_##name, FB_UNPAREN args)                                                    \
	{                                                                                          \
		return call;                                                                       \
	}                                                                                          \
	SEC("kprobe/" #func)                                                                       \
	int FB_KPROBE(kp_##name, FB_UNPAREN args)                                                  \
	{                                                                                          \
		return call;                                                                       \
	}

/* FB_EXIT(function, name, (every argument), return type, handler call on ret) */
#define FB_EXIT(func, name, args, rtype, call)                                                     \
	SEC("fexit/" #func)                                                                        \
	int FB_PROG(fx_##name, FB_UNPAREN args, rtype ret)                                         \
	{                                                                                          \
		return call;                                                                       \
	}                                                                                          \
	SEC("kretprobe/" #func)                                                                    \
	int FB_KRETPROBE(kr_##name, rtype ret)                                                     \
	{                                                                                          \
		return call;                                                                       \
	}

/* FB_EXIT_VOID(function, name, (every argument), handler call): it returns nothing */
#define FB_EXIT_VOID(func, name, args, call)                                                       \
	SEC("fexit/" #func)                                                                        \
	int FB_PROG(fx_##name, FB_UNPAREN args)                                                    \
	{                                                                                          \
		return call;                                                                       \
	}                                                                                          \
	SEC("kretprobe/" #func)                                                                    \
	int BPF_KRETPROBE(kr_##name)                                                               \
	{                                                                                          \
		return call;                                                                       \
	}

FB_EXIT(vfio_iommu_type1_open, open, (unsigned long arg), void *, fb_open_exit((__u64)ret))

FB_ENTRY(vfio_iommu_type1_release, release, (void *iommu), fb_release_entry(iommu))
FB_EXIT_VOID(vfio_iommu_type1_release, release, (void *iommu), fb_release_exit())

FB_ENTRY(vfio_iommu_type1_attach_group, attach, (void *iommu, struct iommu_group *group, int type),
	 fb_attach_entry(iommu, group, type))
FB_EXIT(vfio_iommu_type1_attach_group, attach, (void *iommu, struct iommu_group *group, int type),
	int, fb_attach_exit(ret))

FB_ENTRY(vfio_iommu_type1_detach_group, detach, (void *iommu, struct iommu_group *group),
	 fb_detach_entry(iommu, group))
FB_EXIT_VOID(vfio_iommu_type1_detach_group, detach, (void *iommu, struct iommu_group *group),
	     fb_detach_exit())

FB_ENTRY(vfio_iommu_type1_pin_pages, pin,
	 (void *iommu, struct iommu_group *group, dma_addr_t iova, int npage, int prot),
	 fb_pin_entry(FB_PIN, iommu, iova, npage, prot))
FB_EXIT(vfio_iommu_type1_pin_pages, pin,
	(void *iommu, struct iommu_group *group, dma_addr_t iova, int npage, int prot,
	 struct page **pages),
	int, fb_pin_exit(FB_PIN, ret))

FB_ENTRY(vfio_iommu_type1_unpin_pages, unpin, (void *iommu, dma_addr_t iova, int npage),
	 fb_pin_entry(FB_UNPIN, iommu, iova, npage, 0))
FB_EXIT_VOID(vfio_iommu_type1_unpin_pages, unpin, (void *iommu, dma_addr_t iova, int npage),
	     fb_pin_exit(FB_UNPIN, 0))

FB_ENTRY(vfio_iommu_type1_ioctl, ioctl, (void *iommu, unsigned int cmd, unsigned long arg),
	 fb_ioctl_entry(iommu, cmd, arg))
FB_EXIT(vfio_iommu_type1_ioctl, ioctl, (void *iommu, unsigned int cmd, unsigned long arg), long,
	fb_ioctl_exit(ret))

FB_ENTRY(mm_lock_acct, acct,
	 (struct task_struct * task, struct mm_struct *mm, bool lock_cap, long npage),
	 fb_acct_entry(task, mm, lock_cap, npage))
FB_EXIT(mm_lock_acct, acct,
	(struct task_struct * task, struct mm_struct *mm, bool lock_cap, long npage), int,
	fb_acct_exit(ret))

FB_ENTRY(vfio_pin_pages_remote, pin_remote, (void *dma, unsigned long vaddr, long npage),
	 fb_remote_entry(FB_PIN_REMOTE, npage))
FB_EXIT(vfio_pin_pages_remote, pin_remote,
	(void *dma, unsigned long vaddr, long npage, unsigned long *pfn_base, unsigned long limit,
	 void *batch),
	long, fb_remote_exit(FB_PIN_REMOTE, ret))

FB_ENTRY(vfio_unpin_pages_remote, unpin_remote,
	 (void *dma, dma_addr_t iova, unsigned long pfn, long npage),
	 fb_remote_entry(FB_UNPIN_REMOTE, npage))
FB_EXIT(vfio_unpin_pages_remote, unpin_remote,
	(void *dma, dma_addr_t iova, unsigned long pfn, long npage, bool do_accounting), long,
	fb_remote_exit(FB_UNPIN_REMOTE, ret))
