// SPDX-License-Identifier: GPL-2.0
/*
 * A process's own locked memory, which no VFIO event shows: what QEMU
 * mlocks itself (-overcommit mem-lock=on, libvirt's <locked/>) counts in
 * the same RLIMIT_MEMLOCK budget as VFIO's charges (mm->locked_vm), and
 * QEMU keeps locking after its last charge.  The kernel runs
 * __mm_populate after every growth of locked memory a process asks for --
 * mlock(), mlockall(MCL_CURRENT), a mapping made under MCL_FUTURE or with
 * MAP_LOCKED, brk and mremap of locked memory -- with mm->locked_vm already
 * raised; and do_mmap checks a locked mapping's whole length on top of
 * locked_vm before it makes it.  The highest of those, together with what
 * type1 reads at its charges, is the limit the process needed.
 *
 * Its own object (the `proc_locked` map is its whole state): the loader
 * attaches it beside the backend's programs when the kernel lets it, and
 * goes on without it when it does not.  By kprobe only: both functions run
 * in every exec and mmap of the machine, and on Debian's 6.1 a BPF
 * trampoline (fentry) taken off __mm_populate while other CPUs ran it
 * crashed the kernel (a NULL call from vm_mmap_pgoff, in the lab); a
 * kprobe's removal waits for them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "vfiopin.h"

/* events of this process only (0: all), as the backend's filter_tgid */
const volatile __u32 filter_tgid = 0;

#define VM_LOCKED  0x00002000UL
#define MAP_LOCKED 0x2000UL

/* tgid -> its own locking (struct vp_proc_locked) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vp_proc_locked);
} proc_locked SEC(".maps");

/* *@p = max(*@p, @v), with other threads of the process at it too */
static __always_inline void raise_to(__u64 *p, __u64 v)
{
	__u64 cur;

	for (int i = 0; i < 8; i++) {
		cur = *p;
		if (v <= cur || __sync_val_compare_and_swap(p, cur, v) == cur)
			break;
	}
}

/* The current process locked @peak pages, or was about to ask for @need. */
static __always_inline void note(__u64 peak, __u64 need)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	struct vp_proc_locked *p, n = {};
	__u64 start;

	if (filter_tgid && tgid != filter_tgid)
		return;
	start = BPF_CORE_READ(t, group_leader, start_time);
	p = bpf_map_lookup_elem(&proc_locked, &tgid);
	if (!p || p->start_ns != start) {
		/* its first locking, or a new process on a pid used before */
		n.start_ns = start;
		n.peak_pages = peak;
		n.need_pages = need > peak ? need : peak;
		n.events = 1;
		bpf_map_update_elem(&proc_locked, &tgid, &n, BPF_ANY);
		return;
	}
	__sync_fetch_and_add(&p->events, 1);
	raise_to(&p->peak_pages, peak);
	raise_to(&p->need_pages, need > peak ? need : peak);
}

/* A growth of locked memory the process asked for, done: locked_vm is raised. */
static __always_inline int on_populate(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 locked = BPF_CORE_READ(t, mm, locked_vm);

	/* a process that locks nothing (MAP_POPULATE alone) is not kept */
	if (locked)
		note(locked, 0);
	return 0;
}

/*
 * A mapping about to be made locked (MCL_FUTURE, or MAP_LOCKED): do_mmap
 * checks locked_vm plus its whole length against the limit before it
 * unmaps what a MAP_FIXED mapping replaces, so QEMU, which reserves a RAM
 * block's range and then maps the block over it, asks for the block
 * twice for a moment.  That ask, refused or not, is what the limit must
 * hold; no locked_vm ever shows it.
 */
static __always_inline int on_mmap(unsigned long len, unsigned long flags)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 def = BPF_CORE_READ(t, mm, def_flags), pages;

	if (!((def & VM_LOCKED) || (flags & MAP_LOCKED)))
		return 0;
	pages = ((__u64)len + 4095) >> 12;
	note(0, BPF_CORE_READ(t, mm, locked_vm) + pages);
	return 0;
}

SEC("kprobe/__mm_populate")
int BPF_KPROBE(mlock_kp_populate)
{
	return on_populate();
}

SEC("kprobe/do_mmap")
int BPF_KPROBE(mlock_kp_mmap, struct file *file, unsigned long addr, unsigned long len,
	       unsigned long prot, unsigned long flags)
{
	return on_mmap(len, flags);
}

char LICENSE[] SEC("license") = "GPL";
