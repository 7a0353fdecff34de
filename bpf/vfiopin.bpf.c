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
#include <bpf/bpf_tracing.h>
#include "vfiopin.h"

#define ENOMEM 12
#define ESRCH 3

char LICENSE[] SEC("license") = "GPL";

/* Set before load (open -> configure -> load -> attach). */
const volatile bool emit_events = false;
const volatile __u32 filter_cid = 0;
const volatile __u32 filter_tgid = 0;

struct vp_globals globals = {};
/* The value a new container entry starts from. */
struct vp_container zero_container = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct vp_container);
} containers SEC(".maps");

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

struct span {
	__u64 ts;
	__u64 arg;
};

/*
 * begin events waiting for their end: key (tid << 8 | enum vp_span); arg
 * is what the end needs from the begin (replay: pages to pin;
 * invalidate: pages pinned before), 0 for the others
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct span);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

static __always_inline void inc(__u64 *p, __u64 v)
{
	__sync_fetch_and_add(p, v);
}

/* Lower a gauge, never below zero (we may have attached after the rise). */
static __always_inline void dec(__u64 *p, __u64 v)
{
	__u64 cur = *p;

	__sync_fetch_and_add(p, cur < v ? -cur : -v);
}

static __always_inline __u32 bit_length(__u64 v)
{
	__u32 n = 0;

	if (v >> 32) { v >>= 32; n += 32; }
	if (v >> 16) { v >>= 16; n += 16; }
	if (v >> 8) { v >>= 8; n += 8; }
	if (v >> 4) { v >>= 4; n += 4; }
	if (v >> 2) { v >>= 2; n += 2; }
	if (v >> 1) { v >>= 1; n += 1; }
	return n + (__u32)v;
}

static __always_inline void hist_add(struct vp_hist *h, __u64 v)
{
	__u32 s = bit_length(v);

	if (s >= VP_LOG2_SLOTS)
		s = VP_LOG2_SLOTS - 1;
	barrier_var(s);
	if (s >= VP_LOG2_SLOTS)
		return;
	inc(&h->slots[s], 1);
	inc(&h->count, 1);
	inc(&h->sum, v);
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

static __always_inline void emit(__u32 type, __u32 cid, __u32 tgid, __u64 a0,
				 __u64 a1, __u64 a2, __u64 a3, __u64 a4,
				 __u64 a5, __u64 dur)
{
	struct vp_event *e;

	if (!emit_events || !wanted(cid, tgid))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		inc(&globals.drop_ringbuf, 1);
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
 * The entry of container @cid, created on first sight.  @tgid is the
 * event's tgid: the owner's for every event but account.  @now is 0 for
 * the frequent per-page and accounting events, which read no clock: a
 * clock read is a large part of an event's cost where the clocksource is
 * slow (HPET), and they need none.
 */
static __always_inline struct vp_container *container(__u32 type, __u32 cid,
						      __u32 tgid, __u64 now)
{
	struct vp_container *c;

	if (type < VP_EV_MAX)
		inc(&globals.events[type], 1);
	c = bpf_map_lookup_elem(&containers, &cid);
	if (!c) {
		if (bpf_map_lookup_elem(&retired, &cid)) {
			inc(&globals.late_events, 1);
			return NULL;
		}
		bpf_map_update_elem(&containers, &cid, &zero_container,
				    BPF_NOEXIST);
		c = bpf_map_lookup_elem(&containers, &cid);
		if (!c) {
			inc(&globals.drop_map_full, 1);
			return NULL;
		}
	}
	if (!c->cid) {
		c->cid = cid;
		c->first_ns = now ? now : bpf_ktime_get_ns();
	}
	if (!c->tgid && type != VP_EV_ACCOUNT)
		c->tgid = tgid;
	if (!c->comm[0] && c->tgid &&
	    (__u32)(bpf_get_current_pid_tgid() >> 32) == c->tgid)
		bpf_get_current_comm(c->comm, sizeof(c->comm));
	if (now)
		c->last_ns = now;
	return c;
}

static __always_inline __u64 span_key(__u32 kind)
{
	return (bpf_get_current_pid_tgid() & 0xffffffff) << 8 | kind;
}

static __always_inline void span_begin(__u32 kind, __u64 now, __u64 arg)
{
	struct span s = { .ts = now, .arg = arg };
	__u64 key = span_key(kind);

	if (bpf_map_update_elem(&inflight, &key, &s, BPF_ANY))
		inc(&globals.drop_inflight, 1);
}

/* Ends a span: its duration (0 if the begin was not seen) and argument. */
static __always_inline __u64 span_end(__u32 kind, __u64 now, __u64 *arg)
{
	__u64 key = span_key(kind), dur = 0;
	struct span *s = bpf_map_lookup_elem(&inflight, &key);

	*arg = 0;
	if (!s) {
		inc(&globals.unmatched_end, 1);
		return 0;
	}
	dur = now > s->ts ? now - s->ts : 0;
	*arg = s->arg;
	bpf_map_delete_elem(&inflight, &key);
	return dur;
}

/* ---- handlers: all of the aggregation ---------------------------------- */

static __always_inline int on_container(__u32 type, __u32 cid, __u32 tgid,
					__u32 dmas, __u64 pinned, __u64 locked)
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

static __always_inline int on_group(__u32 type, __u32 cid, __u32 tgid,
				    __s32 group, bool emulated, __s32 ret)
{
	struct vp_container *c = container(type, cid, tgid, 0);

	if (c && !ret) {
		if (type == VP_EV_GROUP_ATTACH) {
			inc(&c->group_attaches, 1);
			if (emulated)
				c->groups_emulated++;
			else
				c->groups_iommu++;
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

static __always_inline int on_account(__u32 cid, __u32 tgid, __s64 delta,
				      __u64 locked_vm, __u64 limit,
				      bool lock_cap, bool async, __s32 ret)
{
	struct vp_container *c = container(VP_EV_ACCOUNT, cid, tgid, 0);

	if (c) {
		inc(&c->account_events, 1);
		if (!ret)
			inc(&c->charged, delta);
		else if (ret == -ENOMEM)
			inc(&c->limit_hits, 1);
		else
			inc(&c->account_failures, 1);
		if (!c->tgid || tgid == c->tgid) {
			/* -ESRCH: the owner's mm is gone, and its charge with it */
			c->locked_vm = ret == -ESRCH ? 0 : locked_vm;
			if (locked_vm > c->locked_peak)
				c->locked_peak = locked_vm;
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
	emit(VP_EV_ACCOUNT, cid, tgid, delta, locked_vm, limit, lock_cap, async,
	     ret, 0);
	return 0;
}

static __always_inline int on_pin_call(__u32 type, __u32 cid, __u32 tgid,
				       __u64 iova, __s32 npage, __s32 prot,
				       __s32 ret)
{
	__u64 now = bpf_ktime_get_ns(), dur = 0, arg;
	struct vp_container *c = container(type, cid, tgid, now);
	bool pin = type == VP_EV_PIN_BEGIN || type == VP_EV_PIN_END;
	__u32 kind = pin ? VP_SPAN_PIN : VP_SPAN_UNPIN;

	if (type == VP_EV_PIN_BEGIN || type == VP_EV_UNPIN_BEGIN) {
		span_begin(kind, now, 0);
		if (c && pin) {
			inc(&c->pin_calls, 1);
			inc(&c->pin_pages_req, npage > 0 ? npage : 0);
		} else if (c) {
			inc(&c->unpin_calls, 1);
			inc(&c->unpin_pages_req, npage > 0 ? npage : 0);
		}
	} else {
		dur = span_end(kind, now, &arg);
		if (c && pin && ret < 0) {
			inc(&c->pin_failures, 1);
			if (ret == -ENOMEM)
				inc(&c->pin_enomem, 1);
		}
		if (c && dur) {
			hist_add(pin ? &c->pin_ns : &c->unpin_ns, dur);
			if (ret > 0)
				hist_add(pin ? &c->pin_page_ns : &c->unpin_page_ns,
					 dur / ret);
		}
	}
	emit(type, cid, tgid, iova, npage, prot, ret, 0, 0, dur);
	return 0;
}

static __always_inline int on_page(__u32 type, __u32 cid, __u32 tgid,
				   __u64 iova, __u32 ref_count, bool edge)
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

static __always_inline int on_map(__u32 type, __u32 cid, __u32 tgid,
				  __u64 iova, __u64 size, bool pin, __s32 ret)
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
			if (pin) {
				inc(&c->pt_pages, size >> VP_PAGE_SHIFT);
				if (dur)
					hist_add(&c->map_ns, dur);
			}
		} else if (c) {
			inc(&c->dma_map_failures, 1);
		}
	}
	emit(type, cid, tgid, iova, size, pin, ret, 0, 0, dur);
	return 0;
}

static __always_inline int on_dma_unmap(__u32 cid, __u32 tgid, __u64 iova,
					__u64 size, __s64 unpinned,
					bool accounted)
{
	struct vp_container *c = container(VP_EV_DMA_UNMAP, cid, tgid, 0);

	/* only mappings pinned for an IOMMU domain are unmapped this way */
	if (c) {
		inc(&c->dma_unmaps, 1);
		dec(&c->pt_pages, size >> VP_PAGE_SHIFT);
	}
	emit(VP_EV_DMA_UNMAP, cid, tgid, iova, size, unpinned, accounted, 0, 0,
	     0);
	return 0;
}

static __always_inline int on_dma_remove(__u32 cid, __u32 tgid, __u64 iova,
					 __u64 size, __u64 leaked)
{
	struct vp_container *c = container(VP_EV_DMA_REMOVE, cid, tgid, 0);

	if (c) {
		dec(&c->mapped_pages, size >> VP_PAGE_SHIFT);
		inc(&c->leaked, leaked);
	}
	emit(VP_EV_DMA_REMOVE, cid, tgid, iova, size, leaked, 0, 0, 0, 0);
	return 0;
}

static __always_inline int on_replay_begin(__u32 cid, __u32 tgid, __u32 dmas,
					   __u64 pin_pages, __u64 map_pages)
{
	__u64 now = bpf_ktime_get_ns();

	container(VP_EV_REPLAY_BEGIN, cid, tgid, now);
	span_begin(VP_SPAN_REPLAY, now, pin_pages);
	emit(VP_EV_REPLAY_BEGIN, cid, tgid, dmas, pin_pages, map_pages, 0, 0, 0,
	     0);
	return 0;
}

static __always_inline int on_replay_end(__u32 cid, __u32 tgid, __s32 ret)
{
	__u64 now = bpf_ktime_get_ns(), pin_pages, dur;
	struct vp_container *c = container(VP_EV_REPLAY_END, cid, tgid, now);

	dur = span_end(VP_SPAN_REPLAY, now, &pin_pages);
	if (c && !ret) {
		inc(&c->replays, 1);
		inc(&c->replay_pages, pin_pages);
		inc(&c->pt_pages, pin_pages);
		if (dur)
			hist_add(&c->replay_ns, dur);
	}
	emit(VP_EV_REPLAY_END, cid, tgid, ret, 0, 0, 0, 0, 0, dur);
	return 0;
}

static __always_inline int on_reaccount(__u32 cid, __u32 tgid, __u64 iova,
					__u64 size, __s64 unpinned,
					__s64 locked)
{
	struct vp_container *c = container(VP_EV_REACCOUNT, cid, tgid, 0);

	if (c)
		inc(&c->reaccounts, 1);
	emit(VP_EV_REACCOUNT, cid, tgid, iova, size, unpinned, locked, 0, 0, 0);
	return 0;
}

static __always_inline int on_invalidate(__u32 type, __u32 cid, __u32 tgid,
					 __u64 iova, __u64 size, __u64 pinned,
					 __u32 devices, __s32 retry)
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
			hist_add(&c->inv_ns, dur);
			if (before > pinned)
				inc(&c->inv_pages, before - pinned);
		}
	}
	emit(type, cid, tgid, iova, size, pinned, devices, retry, 0, dur);
	return 0;
}

/* ---- raw tracepoint entry points --------------------------------------- */

SEC("raw_tp/vfio_type1_container_open")
int BPF_PROG(tp_container_open, unsigned int cid, int tgid, unsigned int dmas,
	     unsigned long pinned, unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_OPEN, cid, tgid, dmas, pinned,
			    locked);
}

SEC("raw_tp/vfio_type1_container_release")
int BPF_PROG(tp_container_release, unsigned int cid, int tgid,
	     unsigned int dmas, unsigned long pinned, unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_RELEASE, cid, tgid, dmas, pinned,
			    locked);
}

SEC("raw_tp/vfio_type1_group_attach")
int BPF_PROG(tp_group_attach, unsigned int cid, int tgid, int group,
	     bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_ATTACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_group_detach")
int BPF_PROG(tp_group_detach, unsigned int cid, int tgid, int group,
	     bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_DETACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_account")
int BPF_PROG(tp_account, unsigned int cid, int tgid, long delta,
	     unsigned long locked_vm, unsigned long limit, bool lock_cap,
	     bool async, int ret)
{
	return on_account(cid, tgid, delta, locked_vm, limit, lock_cap, async,
			  ret);
}

#define PIN_CALL(name, type)                                                 \
	SEC("raw_tp/vfio_type1_" #name)                                      \
	int BPF_PROG(tp_##name, unsigned int cid, int tgid, u64 iova,        \
		     int npage, int prot, int ret)                           \
	{                                                                    \
		return on_pin_call(type, cid, tgid, iova, npage, prot, ret); \
	}

PIN_CALL(pin_begin, VP_EV_PIN_BEGIN)
PIN_CALL(pin_end, VP_EV_PIN_END)
PIN_CALL(unpin_begin, VP_EV_UNPIN_BEGIN)
PIN_CALL(unpin_end, VP_EV_UNPIN_END)

SEC("raw_tp/vfio_type1_pin_page")
int BPF_PROG(tp_pin_page, unsigned int cid, int tgid, u64 iova,
	     unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_PIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_unpin_page")
int BPF_PROG(tp_unpin_page, unsigned int cid, int tgid, u64 iova,
	     unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_UNPIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_dma_map_begin")
int BPF_PROG(tp_dma_map_begin, unsigned int cid, int tgid, u64 iova, u64 size,
	     bool pin, int ret)
{
	return on_map(VP_EV_DMA_MAP_BEGIN, cid, tgid, iova, size, pin, ret);
}

SEC("raw_tp/vfio_type1_dma_map_end")
int BPF_PROG(tp_dma_map_end, unsigned int cid, int tgid, u64 iova, u64 size,
	     bool pin, int ret)
{
	return on_map(VP_EV_DMA_MAP_END, cid, tgid, iova, size, pin, ret);
}

SEC("raw_tp/vfio_type1_dma_unmap")
int BPF_PROG(tp_dma_unmap, unsigned int cid, int tgid, u64 iova, u64 size,
	     long unpinned, bool accounted)
{
	return on_dma_unmap(cid, tgid, iova, size, unpinned, accounted);
}

SEC("raw_tp/vfio_type1_dma_remove")
int BPF_PROG(tp_dma_remove, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long leaked)
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
int BPF_PROG(tp_reaccount, unsigned int cid, int tgid, u64 iova, u64 size,
	     long unpinned, long locked)
{
	return on_reaccount(cid, tgid, iova, size, unpinned, locked);
}

SEC("raw_tp/vfio_type1_invalidate_begin")
int BPF_PROG(tp_invalidate_begin, unsigned int cid, int tgid, u64 iova,
	     u64 size, unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_BEGIN, cid, tgid, iova, size,
			     pinned, devices, retry);
}

SEC("raw_tp/vfio_type1_invalidate_end")
int BPF_PROG(tp_invalidate_end, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_END, cid, tgid, iova, size,
			     pinned, devices, retry);
}
