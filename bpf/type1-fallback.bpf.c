// SPDX-License-Identifier: GPL-2.0
/*
 * The type1 backend on kernels without the vfio_type1 tracepoints.
 */
#include "core.bpf.h"

/*
 * On an unpatched kernel (Debian's 6.1, say) the same handlers run from
 * fentry/fexit programs, or kprobes/kretprobes where fentry is missing, on
 * type1 functions that are not inlined: the iommu driver ops (open,
 * release, attach/detach_group, pin/unpin_pages, ioctl) reached through
 * function pointers, mm_lock_acct (the locked_vm charge), and
 * vfio_pin/unpin_pages_remote (passthrough pinning).  Userspace loads one
 * family (fe_/fx_ or kp_/kr_) and none of the raw_tp programs.
 *
 * What type1 does in inlined code is rebuilt from the calls around it,
 * never faked:
 *  - per-page pins and refcounts: a vendor driver's pins are kept here per
 *    container and IOVA (fb_pins), from every vfio_pin_pages and
 *    vfio_unpin_pages call that returned, exactly as type1 keeps its
 *    vfio_pfn (a pin of a page held raises its count, an unpin of a page
 *    not held does nothing); the per-page handler runs for each page;
 *  - leaked pins: what that record still holds when the container is
 *    released (type1 removes every mapping then, pins or not);
 *  - invalidations: type1 calls the vendor drivers from inside
 *    VFIO_IOMMU_UNMAP_DMA, in the unmapping thread, until a mapping's pins
 *    are gone, then removes the mapping (vfio_remove_dma, which starts with
 *    vfio_unmap_unpin): the pins released in that thread before each
 *    removal are one invalidation of that mapping;
 *  - DMA unmaps and re-accounting: vfio_unmap_unpin is called once per
 *    mapping, with do_accounting false only to re-account; it unpins
 *    through vfio_unpin_pages_remote when the mapping was in an IOMMU
 *    domain.
 * vfio_unmap_unpin's programs are loaded when the running kernel has it
 * as a function of its own (userspace looks); without them the last two
 * stay unavailable.  Not rebuilt: how many devices were notified and
 * whether a mapping needed a second round (vfio_notify_dma_unmap is
 * inlined), and so an invalidation's duration.
 *
 * Containers get their ids here, in order of first sight; the kernel's
 * pointer is only a map key.  Each entry stashes what its exit needs per
 * thread, so kretprobes (which see no arguments) work the same way.
 */
#define FB_MAP_DMA   0x3b71 /* VFIO_IOMMU_MAP_DMA */
#define FB_UNMAP_DMA 0x3b72 /* VFIO_IOMMU_UNMAP_DMA */
#define FB_MAX_ERRNO 4095
/* VFIO_PIN_PAGES_MAX_ENTRIES: the most one vfio_pin_pages call may ask for */
#define FB_MAX_PIN_PAGES 512

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
	FB_UNPIN_REMOTE,
	FB_UNMAP_UNPIN
};

/* what an entry leaves for its exit (key: tid << 8 | fn) */
struct fb_call {
	__u64 a[5];
	__u32 cid;
	__u32 tgid;
};

/*
 * The type1 call in progress in a thread (key: tid): the outermost one.
 * A vendor driver's pins and unpins made inside another call (its
 * invalidation callback, run by UNMAP_DMA) leave it as it is.
 */
struct fb_cur {
	__u32 cid;
	__u32 in_attach;
	__u32 acct_hit; /* mm_lock_acct refused with ENOMEM in this call */
	__u32 in_unmap; /* a VFIO_IOMMU_UNMAP_DMA */
	__u64 replay_pages;
	__u64 map_pinned;
	__u64 inv_pages; /* pins released inside the UNMAP_DMA since its last removal */
};

/*
 * Vendor-pinned pages by 2 MiB of IOVA (fb_pins): a container's chunk
 * and each of its pages' references.
 */
#define FB_CHUNK_SHIFT 21
#define FB_CHUNK_PAGES (1 << (FB_CHUNK_SHIFT - VP_PAGE_SHIFT))

struct fb_chunk_key {
	__u32 cid;
	__u32 pad;
	__u64 chunk; /* IOVA >> FB_CHUNK_SHIFT */
};

struct fb_chunk {
	__u32 ref[FB_CHUNK_PAGES];
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

/*
 * (cid, 2 MiB of IOVA) -> its pages' references: type1's vfio_pfn
 * ref_counts, as the calls that returned left them.  A chunk is made by
 * its first pin and kept until its container is released (taking an
 * emptied one out could race another CPU's pin into it); a page costs a
 * lookup and an atomic add, no lock.  Full (2^16 chunks, 128 GiB of
 * pinned IOVA): the pages go uncounted and the drop is counted
 * (map_full).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 16);
	__type(key, struct fb_chunk_key);
	__type(value, struct fb_chunk);
} fb_pins SEC(".maps");

/* a chunk to start from: all zero, never written (too large for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fb_chunk);
} fb_chunk_zero SEC(".maps");

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

/*
 * MAP_DMA's and UNMAP_DMA's arguments, VFIO's UAPI (linux/vfio.h): a fixed
 * layout, read as it is.  Through vmlinux.h they would be CO-RE relocations
 * against the type1 module's BTF, which libbpf finds only with
 * CAP_SYS_ADMIN; so the kprobe programs need nothing of the module's BTF.
 */
struct fb_dma_map {
	__u32 argsz, flags;
	__u64 vaddr, iova, size;
};

struct fb_dma_unmap {
	__u32 argsz, flags;
	__u64 iova, size;
};

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

/* The key of this thread's call @fn in fb_calls. */
static __always_inline __u64 fb_call_key(__u32 fn)
{
	return (__u64)fb_tid() << 8 | fn;
}

static __always_inline void fb_stash(__u32 fn, __u32 cid, __u64 a0, __u64 a1, __u64 a2, __u64 a3,
				     __u64 a4)
{
	__u64 key = fb_call_key(fn);
	struct fb_call c = {.a = {a0, a1, a2, a3, a4}, .cid = cid, .tgid = fb_tgid()};

	if (bpf_map_update_elem(&fb_calls, &key, &c, BPF_ANY))
		GINC(drop_inflight);
}

/* The entry's stash, into @c; false if the entry was not seen. */
/* This thread's call @fn in progress, what its entry stashed; NULL if none. */
static __always_inline struct fb_call *fb_in_call(__u32 fn)
{
	__u64 key = fb_call_key(fn);

	return bpf_map_lookup_elem(&fb_calls, &key);
}

static __always_inline bool fb_unstash(__u32 fn, struct fb_call *c)
{
	__u64 key = fb_call_key(fn);
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

/* bpf_for_each_map_elem: drop container *@cid's pages from fb_pins */
static long fb_forget_pin(void *map, struct fb_chunk_key *k, struct fb_chunk *v, __u32 *cid)
{
	if (k->cid == *cid)
		bpf_map_delete_elem(map, k);
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
	/*
	 * The release removes every mapping: the vendor pins still there are
	 * leaked (type1 frees the mappings, not the pins), one per page.
	 */
	vc = container(VP_EV_MAX, c.cid, c.tgid, 0);
	if (vc) {
		vc->mapped_pages = 0;
		inc(&vc->leaked, vc->pages_pinned);
	}
	/* chunks come only from vendor pins: none to look for without one */
	if (!vc || vc->pin_calls)
		bpf_for_each_map_elem(&fb_pins, fb_forget_pin, &c.cid, 0);
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
	bool outer = !fb_current();

	/* inside another type1 call (an invalidation's unpins) that call stays current */
	if (outer)
		fb_enter(cid);
	fb_stash(fn, cid, iova, (__u64)npage, (__u64)prot, outer, 0);
	return on_pin_begin(fn == FB_PIN ? VP_EV_PIN_BEGIN : VP_EV_UNPIN_BEGIN, cid, fb_tgid(),
			    iova, npage, prot, true);
}

/* what fb_page needs of the call */
struct fb_pages {
	__u32 cid;
	__u32 tgid;
	__u64 iova;
	__u64 released; /* pages whose last reference an unpin dropped */
	bool pin;
};

/*
 * bpf_loop: page @i of a vendor driver's call that returned, as type1
 * treated it (vfio_iova_get_vfio_pfn, vfio_add_to_pfn_list,
 * vfio_iova_put_vfio_pfn), then the per-page handler with the ref_count
 * the page was left with.
 */
static long fb_page(__u32 i, struct fb_pages *x)
{
	__u64 iova = x->iova + ((__u64)i << VP_PAGE_SHIFT);
	struct fb_chunk_key k = {.cid = x->cid, .chunk = iova >> FB_CHUNK_SHIFT};
	struct fb_chunk *v = bpf_map_lookup_elem(&fb_pins, &k);
	__u32 *ref, old;

	if (!v && x->pin) {
		__u32 zero = 0;
		struct fb_chunk *z = bpf_map_lookup_elem(&fb_chunk_zero, &zero);

		/* BPF_NOEXIST: another CPU's pin may have made it first */
		if (z)
			bpf_map_update_elem(&fb_pins, &k, z, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&fb_pins, &k);
		if (!v) {
			GINC(drop_map_full);
			return 0;
		}
	}
	/* type1 ignores an unpin of a page it does not hold */
	if (!v)
		return 0;
	ref = &v->ref[(iova >> VP_PAGE_SHIFT) & (FB_CHUNK_PAGES - 1)];
	if (x->pin) {
		old = __sync_fetch_and_add(ref, 1);
		on_page(VP_EV_PIN_PAGE, x->cid, x->tgid, iova, old + 1, !old);
		return 0;
	}
	if (!*ref)
		return 0;
	old = __sync_fetch_and_add(ref, -1);
	if (old == 1)
		x->released++;
	on_page(VP_EV_UNPIN_PAGE, x->cid, x->tgid, iova, old - 1, old == 1);
	return 0;
}

static __always_inline int fb_pin_exit(__u32 fn, __s32 ret)
{
	struct fb_pages x = {.pin = fn == FB_PIN};
	struct fb_cur *cur;
	struct fb_call k;
	__u64 dur, unused;

	if (!fb_unstash(fn, &k))
		return 0;
	cur = fb_current();
	if (k.a[3])
		fb_leave();
	/* vfio_iommu_type1_unpin_pages returns nothing: it unpins what it is asked */
	if (fn == FB_UNPIN)
		ret = (__s32)k.a[1];
	/*
	 * A pin that failed took back what it had pinned (pin_unwind): the
	 * record is as it was.  Its pages up to the failure and their
	 * unwinding are not seen (the tracepoints show them).
	 */
	if (ret > 0) {
		x.cid = k.cid;
		x.tgid = k.tgid;
		x.iova = k.a[0];
		bpf_loop(ret < FB_MAX_PIN_PAGES ? ret : FB_MAX_PIN_PAGES, fb_page, &x, 0);
		if (cur && !k.a[3] && cur->in_unmap)
			cur->inv_pages += x.released;
	}
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
	struct fb_cur *cur;
	__u32 cid;
	__u64 iova = 0, size = 0;

	if (cmd != FB_MAP_DMA && cmd != FB_UNMAP_DMA) {
		fb_stash(FB_IOCTL, 0, cmd, 0, 0, 0, 0);
		return 0;
	}
	cid = fb_cid(iommu);
	cur = fb_enter(cid);
	if (cur && cmd == FB_UNMAP_DMA)
		cur->in_unmap = 1;
	if (cmd == FB_MAP_DMA) {
		struct fb_dma_map m = {};

		bpf_probe_read_user(&m, sizeof(m), (void *)arg);
		iova = m.iova;
		size = m.size;
		on_map(VP_EV_DMA_MAP_BEGIN, cid, fb_tgid(), iova, size, false, 0, 0);
	} else {
		struct fb_dma_unmap u = {};

		bpf_probe_read_user(&u, sizeof(u), (void *)arg);
		iova = u.iova;
		size = u.size;
	}
	fb_stash(FB_IOCTL, cid, cmd, arg, iova, size, 0);
	return 0;
}

/*
 * The pins an UNMAP_DMA's vendor drivers released since the last mapping
 * it removed: one invalidation of the mapping about to go.
 */
static __always_inline void fb_invalidated(struct fb_cur *cur, __u32 tgid)
{
	struct vp_container *c;

	if (!cur || !cur->in_unmap || !cur->inv_pages)
		return;
	c = container(VP_EV_MAX, cur->cid, tgid, 0);
	if (c) {
		inc(&c->invalidations, 1);
		inc(&c->inv_pages, cur->inv_pages);
	}
	cur->inv_pages = 0;
}

static __always_inline int fb_ioctl_exit(__s64 ret)
{
	struct fb_cur *cur = fb_current();
	__u64 pinned = cur ? cur->map_pinned : 0, now = bpf_ktime_get_ns();
	struct vp_container *c;
	struct fb_call k;

	if (!fb_unstash(FB_IOCTL, &k) || (k.a[0] != FB_MAP_DMA && k.a[0] != FB_UNMAP_DMA))
		return 0;
	/* an unmap that failed after its drivers let go */
	fb_invalidated(cur, k.tgid);
	fb_leave();
	if (k.a[0] == FB_MAP_DMA) {
		/* pinned pages were counted as vfio_pin_pages_remote returned them */
		on_map(VP_EV_DMA_MAP_END, k.cid, k.tgid, k.a[2], k.a[3], pinned > 0, 0, (__s32)ret);
	} else if (!ret) {
		struct fb_dma_unmap u = {};

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
	struct fb_call *uu = fb_in_call(FB_UNMAP_UNPIN);
	struct fb_cur *cur = fb_current();

	/* vfio_unmap_unpin's uncharge reached mm_lock_acct */
	if (uu)
		uu->a[3] = 1;

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
		struct fb_call *uu = fb_in_call(FB_UNMAP_UNPIN);

		dec(&c->pt_pages, k.a[0]);
		/* the mapping being unmapped was in an IOMMU domain; what to uncharge */
		if (uu) {
			uu->a[1] = 1;
			if (ret > 0)
				uu->a[2] += ret;
		}
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
 * vfio_unmap_unpin(iommu, dma, do_accounting): once per mapping removed
 * (vfio_remove_dma, first thing) and per mapping re-accounted
 * (do_accounting false, nothing else passes it).  The tracepoints count a
 * DMA unmap where it unmapped from an IOMMU domain: here, where
 * vfio_unpin_pages_remote ran inside it.
 */
static __always_inline int fb_unmap_unpin_entry(bool do_accounting)
{
	struct fb_cur *cur = fb_current();
	struct vp_container *c;

	/* its exit finds its entry even when no call of type1 was seen to begin */
	fb_stash(FB_UNMAP_UNPIN, cur ? cur->cid : 0, do_accounting, 0, 0, 0, 0);
	if (!cur)
		return 0;
	fb_invalidated(cur, fb_tgid());
	if (!do_accounting) {
		c = container(VP_EV_MAX, cur->cid, fb_tgid(), 0);
		if (c)
			inc(&c->reaccounts, 1);
	}
	return 0;
}

static __always_inline int fb_unmap_unpin_exit(void)
{
	struct vp_container *c;
	struct fb_call k;

	if (!fb_unstash(FB_UNMAP_UNPIN, &k) || !k.cid || !k.a[1])
		return 0;
	c = container(VP_EV_MAX, k.cid, k.tgid, 0);
	if (c)
		inc(&c->dma_unmaps, 1);
	/*
	 * It unpinned pages it had charged (do_accounting) and never reached
	 * mm_lock_acct: vfio_lock_acct found the owner's mm gone (a VM killed
	 * with its mappings) and returned -ESRCH first, which the tracepoints
	 * report as such.  The same to the handler.
	 */
	if (k.a[0] && k.a[2] && !k.a[3])
		on_account(k.cid, k.tgid, -(__s64)k.a[2], 0, 0, false, true, -ESRCH);
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

FB_ENTRY(vfio_unmap_unpin, unmap_unpin, (void *iommu, void *dma, bool do_accounting),
	 fb_unmap_unpin_entry(do_accounting))
FB_EXIT(vfio_unmap_unpin, unmap_unpin, (void *iommu, void *dma, bool do_accounting), long,
	fb_unmap_unpin_exit())
