/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiopin's BPF core: the maps, the options set before load, and the
 * handlers (on_*) that hold all of the per-container aggregation.  A
 * backend's entry points, in units of their own, unpack what the kernel
 * gives them and call the handlers:
 *
 *   type1.bpf.c           the vfio_type1 tracepoints (raw_tp), the contract
 *                         of kernel-patch/README.md
 *   type1-fallback.bpf.c  kernels without them: fentry/fexit or
 *                         kprobe/kretprobe on type1's own functions
 *
 * so the same code runs when the programs are attached to the kernel and
 * when the host tests drive them with BPF_PROG_TEST_RUN.  vfiopin.bpf.c
 * defines what this declares; bpftool gen object links the units into one
 * object (build/vfiopin.bpf.o), and its skeleton is the loader's.
 */
#ifndef VFIOPIN_CORE_BPF_H
#define VFIOPIN_CORE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vfiopin.h"

#define ENOMEM	       12
#define ESRCH	       3
#define RLIMIT_MEMLOCK 8

/*
 * Every global of the object is declared here, once: defined in
 * vfiopin.bpf.c (VP_DEFINE), extern in the other units, and the static
 * linker (bpftool gen object) makes them one.
 */
#ifdef VP_DEFINE
#define VP_GLOBAL
#define VP_INIT(...) = __VA_ARGS__
#else
#define VP_GLOBAL extern
#define VP_INIT(...)
#endif

/* Set before load (open -> configure -> load -> attach). */
VP_GLOBAL const volatile bool emit_events VP_INIT(false);
VP_GLOBAL const volatile __u32 filter_cid VP_INIT(0);
VP_GLOBAL const volatile __u32 filter_tgid VP_INIT(0);
/* the `containers` array's size less one (a power of two less one) */
VP_GLOBAL const volatile __u32 slot_mask VP_INIT(VP_MAX_CONTAINERS - 1);
/*
 * Whether events of one container can run at once.  Every tracepoint
 * fires under the container's iommu->lock, so the tracepoint programs
 * update a container with plain stores; the fallback's entry points run
 * outside it and use atomic adds.
 */
VP_GLOBAL const volatile bool concurrent VP_INIT(false);

/* The value a new spilled container starts from. */
VP_GLOBAL struct vp_slot zero_slot VP_INIT({});

/* cid & slot_mask -> the container (its cid 0 when free); mmapped by userspace */
VP_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct vp_slot);
} containers SEC(".maps");

/* containers whose array slot another live container holds, by cid */
VP_GLOBAL struct {
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
VP_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, __u8);
} retired SEC(".maps");

/* tgid -> the start of its command line (struct vp_args), and room to build one */
VP_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VP_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct vp_args);
} vm_args SEC(".maps");

VP_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vp_args);
} vm_args_scratch SEC(".maps");

/* struct vp_globals per CPU: plain adds, summed by userspace */
VP_GLOBAL struct {
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

VP_GLOBAL struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct spans);
} inflight SEC(".maps");

VP_GLOBAL struct {
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

/* Whether a span of @kind is open in this thread (its begin seen, its end not yet). */
static __always_inline bool in_span(__u32 kind)
{
	struct spans *s = spans(false);

	return s && s->ts[kind & (VP_SPANS - 1)];
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

/*
 * The command line of @tgid, when it is the current process (a container
 * opens in its VMM's own ioctl): read from its memory now, while it runs.
 */
static __always_inline void note_args(__u32 tgid)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vp_args *a;
	__u32 zero = 0;
	__u64 start, end, len;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != tgid)
		return;
	a = bpf_map_lookup_elem(&vm_args_scratch, &zero);
	if (!a)
		return;
	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > VP_ARGS_LEN)
		len = VP_ARGS_LEN;
	if (!len || bpf_probe_read_user(a->args, len, (void *)start))
		return;
	a->len = len;
	a->start_ns = BPF_CORE_READ(t, group_leader, start_time);
	bpf_map_update_elem(&vm_args, &tgid, a, BPF_ANY);
}

static __always_inline int on_container(__u32 type, __u32 cid, __u32 tgid, __u32 dmas, __u64 pinned,
					__u64 locked)
{
	__u64 now = bpf_ktime_get_ns();
	struct vp_container *c = container(type, cid, tgid, now);

	if (c) {
		if (type == VP_EV_CONTAINER_OPEN) {
			c->flags |= VP_F_SEEN_OPEN;
			c->tgid = tgid;
			note_args(tgid);
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
			/*
			 * what a refused charge asked for, the limit allowing;
			 * inside a MAP_DMA its end counts the whole mapping.
			 * Every refusal before stays asked for: a start goes on
			 * mapping after a refused region, and needs it all.
			 */
			if (ret == -ENOMEM && delta > 0) {
				need = locked_vm + delta;
				if (!in_span(VP_SPAN_MAP)) {
					inc(&c->refused, delta);
					need = locked_vm;
				}
			}
			need += c->refused;
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
		/* the limit hits so far: the end tells whether one was this map's */
		span_begin(VP_SPAN_MAP, now, c ? c->limit_hits : 0);
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
			/*
			 * Refused on the limit: type1 charges a mapping a batch
			 * at a time and uncharges it all when one is refused,
			 * so the refused charge asked for one batch only; the
			 * mapping needs its whole size on top of what the owner
			 * holds after the unwind (an upper bound: pages type1
			 * does not charge are in the size too).
			 */
			if (ret == -ENOMEM && dur && c->limit_hits != arg &&
			    (!c->tgid || tgid == c->tgid)) {
				__u64 need;

				inc(&c->refused, size >> VP_PAGE_SHIFT);
				need = c->locked_vm + c->refused;
				if (need > c->need_peak)
					c->need_peak = need;
			}
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

#endif /* VFIOPIN_CORE_BPF_H */
