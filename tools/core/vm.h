/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One view per VM: the containers of a snapshot grouped by the process
 * whose memory they charge (their owner's tgid: a QEMU), with the figures
 * that only make sense for the whole process (locked memory, the limit,
 * the headroom) and the advice on the RLIMIT_MEMLOCK it needs.  Building
 * the view is pure and unit-tested; a snapshot carries it (its vms); the
 * VM's name comes from its command line (QEMU's -name, vmname.h).
 *
 * Every VM figure is declared once, in VP_VM_FIELDS:
 *
 *   ID      the name code uses (VP_VM_FLD_ID)
 *   JSON    its key in a "vms" object of vfiopin.stat
 *   PROM    its Prometheus family, after "vfiopin_"
 *   TYPE    GAUGE or COUNTER
 *   UNIT    bytes, containers, events
 *   MEMBER  the int64_t member of struct vp_vm
 *   FLAGS   VP_VF_LIMIT: known only once type1 charged the VM (absent
 *           before; the limit itself is +Inf when unlimited);
 *           VP_VF_BOUNDED: absent when the limit is unknown or unlimited
 *   COL     its column in the VM rows of top and stat (NULL: none)
 *   HELP    what it means, in one sentence
 */
#ifndef VFIOPIN_VM_H
#define VFIOPIN_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

#define VP_VM_FIELDS(X)                                                                            \
	X(CONTAINERS, "containers", "vm_containers", GAUGE, "containers", containers, 0, "CTRS",   \
	  "Containers of the VM not released yet.")                                                \
	X(LOCKED, "locked_bytes", "vm_locked_bytes", GAUGE, "bytes", locked, 0, "LOCKED",          \
	  "Locked memory VFIO charges the VM's process now: the sum of its containers' own "       \
	  "charges (what VmLck shows unless the process also mlocks), or the process's "           \
	  "locked_vm as type1 last reported it when a container was first seen mid-life.")         \
	X(LOCKED_PEAK, "locked_peak_bytes", "vm_locked_peak_bytes", GAUGE, "bytes", locked_peak,   \
	  0, "PEAK", "Highest locked memory of the VM's process seen at a charge.")                \
	X(PROCESS_LOCKED, "process_locked_bytes", "vm_process_locked_bytes", GAUGE, "bytes",       \
	  process_locked, VP_VF_SAMPLED, NULL,                                                     \
	  "The VM process's VmLck as last sampled (once a second while it runs): every page it "   \
	  "has locked, VFIO's charges and its own mlock alike; absent when never read.")           \
	X(PROCESS_LOCKED_PEAK, "process_locked_peak_bytes", "vm_process_locked_peak_bytes", GAUGE, \
	  "bytes", process_locked_peak, VP_VF_OWN, NULL,                                           \
	  "Highest locked memory of the VM's process outside VFIO's charges: the kernel's count "  \
	  "each time the process locked memory itself (mlock, mlockall, a locked mapping), and "   \
	  "its VmLck as sampled; above the peak at a charge when it mlocks memory after its last " \
	  "VFIO charge (-overcommit mem-lock=on).")                                                \
	X(LIMIT, "limit_bytes", "vm_limit_bytes", GAUGE, "bytes", limit, VP_VF_LIMIT, "LIMIT",     \
	  "The VM process's RLIMIT_MEMLOCK (+Inf: unlimited or CAP_IPC_LOCK); absent until type1 " \
	  "first charges it.")                                                                     \
	X(HEADROOM, "headroom_bytes", "vm_headroom_bytes", GAUGE, "bytes", headroom,               \
	  VP_VF_BOUNDED, NULL,                                                                     \
	  "RLIMIT_MEMLOCK minus the VM's locked memory (negative: over it); absent when the "      \
	  "limit is unknown or unlimited.")                                                        \
	X(LIMIT_HITS, "limit_hits", "vm_limit_hits_total", COUNTER, "events", limit_hits, 0,       \
	  "HITS", "Charges of the VM refused with ENOMEM (RLIMIT_MEMLOCK exceeded).")              \
	X(REFUSED, "refused_bytes", "vm_refused_bytes_total", COUNTER, "bytes", refused, 0, NULL,  \
	  "Locked memory refused on the limit, added up over the VM's containers: every refused "  \
	  "mapping's whole size and every refused pin's pages.")                                   \
	X(PT_CONTAINERS, "passthrough_containers", "vm_passthrough_containers", GAUGE,             \
	  "containers", pt_containers, 0, "PTx",                                                   \
	  "Containers of the VM with an IOMMU-backed (passthrough) group: each charges the guest " \
	  "memory it maps again, so with a vIOMMU (one container per device) the same guest RAM "  \
	  "is charged this many times.")                                                           \
	X(PT_CHARGE, "passthrough_charge_bytes", "vm_passthrough_charge_bytes", GAUGE, "bytes",    \
	  pt_charge, 0, NULL,                                                                      \
	  "The largest charge one of the VM's passthrough containers reached (its guest RAM, "     \
	  "ROMs and BIOS as the VMM maps them).")                                                  \
	X(MDEV_CHARGE, "mdev_charge_bytes", "vm_mdev_charge_bytes", GAUGE, "bytes", mdev_charge,   \
	  0, NULL,                                                                                 \
	  "Charges of the VM's containers without an IOMMU-backed group (mdev pins), at "          \
	  "their peaks.")                                                                          \
	X(NEEDED, "needed_limit_bytes", "vm_needed_limit_bytes", GAUGE, "bytes", needed, 0,        \
	  "NEED",                                                                                  \
	  "The RLIMIT_MEMLOCK the VM needs for what it has done: the most its process had "        \
	  "locked, at a VFIO charge, when it locked memory itself, or in a VmLck sample; after a " \
	  "refusal that plus every refused charge's whole size, and never less than each "         \
	  "passthrough container charging the largest one's charge plus the mdev charges.")        \
	X(NEXT_PT, "next_passthrough_bytes", "vm_next_passthrough_bytes", GAUGE, "bytes", next_pt, \
	  0, NULL,                                                                                 \
	  "What hot-plugging one more passthrough device in a container of its own (a vIOMMU) "    \
	  "would add to the charge: what a hot-plugged container of this VM charged, else (none "  \
	  "hot-plugged yet) the largest container's charge, an estimate; a device joining an "     \
	  "existing container adds nothing.")                                                      \
	X(NEXT_MDEV, "next_mdev_bytes", "vm_next_mdev_bytes", GAUGE, "bytes", next_mdev, 0, NULL,  \
	  "What one more mdev pinning as the VM's mdevs did would add: the largest charge of one " \
	  "of its mdev containers (its own, under a vIOMMU); 0 when it has none, or when its "     \
	  "mdevs share a container with a passthrough device, whose charge covers their pins.")

enum vp_vm_field_id {
#define VP_VM_FIELD_ID(id, ...) VP_VM_FLD_##id,
	VP_VM_FIELDS(VP_VM_FIELD_ID)
#undef VP_VM_FIELD_ID
	    VP_VM_FLD_MAX
};

#define VP_VF_LIMIT   (1u << 0)
#define VP_VF_BOUNDED (1u << 1)
/* known only when the process's /proc was read (vmname.h samples VmLck) */
#define VP_VF_SAMPLED (1u << 2)
/* known when its /proc was read or its own locking watched (bpf/mlock.bpf.c) */
#define VP_VF_OWN (1u << 3)

/* Where a VM's next-passthrough figure comes from (vp_next_from_names). */
enum vp_next_from {
	VP_NEXT_NONE, /* no passthrough container */
	VP_NEXT_ANY,  /* the largest container's charge, hot or cold not known */
	VP_NEXT_COLD, /* none hot-plugged yet: the largest cold-plugged one's, an estimate */
	VP_NEXT_HOT,  /* the largest charge of a container hot-plugged into this VM */
	VP_NEXT_MAX,
};
extern const char *const vp_next_from_names[VP_NEXT_MAX];

/* Where a VM's needed figure comes from (vp_need_from_names: its words). */
enum vp_need_from {
	VP_NEED_NONE,	 /* nothing charged */
	VP_NEED_PEAK,	 /* the process's locked memory at its peak at a VFIO charge */
	VP_NEED_REFUSED, /* what it held plus every refused charge's whole size (need_peak) */
	VP_NEED_CHARGES, /* each passthrough container at the largest one's charge + mdev */
	VP_NEED_VMLCK,	 /* VmLck sampled: memory locked with no VFIO event (mlock) */
	VP_NEED_MLOCK,	 /* it mlocks its memory: VmPeak plus every container at its peak */
	VP_NEED_OWN,	 /* the most it locked or asked to lock itself (watched) */
	VP_NEED_MAX,
};
extern const char *const vp_need_from_names[VP_NEED_MAX];

struct vp_vm_field {
	const char *id;
	const char *json;
	const char *prom;
	bool counter;
	const char *unit;
	const char *member;
	size_t off; /* of the int64_t in struct vp_vm */
	unsigned int flags;
	const char *col;
	const char *help;
};

extern const struct vp_vm_field vp_vm_fields[VP_VM_FLD_MAX];

struct vp_vm {
	uint32_t tgid;
	char comm[VP_COMM_LEN + 1];
	char name[VP_VM_NAME_LEN + 1]; /* "" when unknown */
	size_t nrows;		       /* its containers in the snapshot, released ones too */
	size_t *rows;		       /* their indexes in the snapshot's rows */
	uint64_t first_ns;	       /* its earliest container's first event */
	bool seen_open;		       /* every container observed from its open on */
	bool limit_known, unlimited;
	bool sampled; /* process_locked* read from its /proc (vp_vm_sample) */
	bool mlocks;  /* its memory locked by mlockall, as sampled */
	/* its own locking seen (vp_vm_locked_seen); watched from its start on */
	bool lock_seen, lock_watched;
	enum vp_need_from need_from;
	enum vp_next_from next_from;
	/* the most its own locking asked for (vp_vm_locked_seen), bytes */
	int64_t own_need;
	/* its passthrough containers by kind (vp_vm_plugged): cold-plugged, hot-plugged */
	size_t pt_cold, pt_hot;
	/* containers that had a passthrough group, released ones too (the advice's) */
	size_t pt_all;
	/* what the containers call for: pt_all x pt_charge + mdev_charge (needed's start) */
	int64_t needed_charges;

	/* the figures (VP_VM_FIELDS), in bytes where the unit says so */
	int64_t containers;
	int64_t locked;
	int64_t locked_peak;
	int64_t process_locked;
	int64_t process_locked_peak;
	int64_t
	    process_vm_peak; /* VmPeak as last sampled (not served: it moves with any allocation) */
	int64_t charged_peaks; /* its containers' charges at their peaks, added up */
	int64_t limit;	       /* INT64_MAX when unlimited */
	int64_t headroom;
	int64_t limit_hits;
	int64_t refused;
	int64_t pt_containers;
	int64_t pt_charge;
	int64_t mdev_charge;
	int64_t needed;
	int64_t next_pt;
	int64_t next_mdev;
};

/*
 * Group the rows of @s by owner.  VMs come in the order of their first
 * row in @s (sort the rows first).  Returns -1 when out of memory.
 */
int vp_vms_build(const struct vp_snapshot *s, struct vp_vms *out);
/*
 * The rows @v was built from moved (row i is now at @at[i]): each VM's
 * indexes follow, in ascending order, and the VMs are in the order of
 * their first row again, as vp_vms_build would have them.
 */
void vp_vms_moved(struct vp_vms *v, const size_t *at);
void vp_vms_free(struct vp_vms *v);

/* What was read of a VM's process (vmname.h); bytes, -1 when never read. */
struct vp_proc_sample {
	int64_t vmlck;	    /* VmLck as last read */
	int64_t vmlck_peak; /* the highest VmLck read */
	int64_t vm_peak;    /* VmPeak as last read (the kernel's own peak) */
	bool mlocks;	    /* its memory is locked by mlockall (smaps' VmFlags) */
};

/*
 * Fold a sample of @vm's process into its figures.  A VmLck peak above the
 * need raises it (VP_NEED_VMLCK).  What a process with all its memory
 * locked (mlockall) locks in passing between samples is not seen; it is
 * bounded by its address space's peak, so then the need is at least
 * VmPeak plus every container's charge at its peak (VP_NEED_MLOCK).
 */
void vp_vm_sample(struct vp_vm *vm, const struct vp_proc_sample *ps);

/*
 * Fold in what @vm's process locked itself (mlock, mlockall, a locked
 * mapping), in pages (bpf/mlock.bpf.c): @peak_pages the most it had
 * locked, @need_pages the most a locked mapping asked for as the kernel
 * checked it (a MAP_FIXED mapping over locked memory counts both for a
 * moment): a need (VP_NEED_OWN).  @whole: watched since the process
 * started, so nothing it locked was missed and the VmPeak bound of
 * vp_vm_sample is not needed.  Call it before vp_vm_sample.
 */
void vp_vm_locked_seen(struct vp_vm *vm, uint64_t peak_pages, uint64_t need_pages, bool whole);

/*
 * Which of @vm's passthrough containers in @s were hot-plugged: the VM's
 * command line plugs @cold passthrough devices at its start (-1: not
 * known), so its first @cold passthrough containers to open are those
 * (with a vIOMMU, one container each; without, they share one) and any
 * later one came with a hotplug.  The next-passthrough figure is then what
 * a hot-plugged container of this VM charged at its peak (a hot-plugged
 * device maps what the VM has once it runs: under a vIOMMU the BIOS too,
 * which a cold-plugged container's settled charge leaves out), else the
 * largest cold-plugged one's, said to be an estimate.
 */
void vp_vm_plugged(struct vp_vm *vm, const struct vp_snapshot *s, int cold);

/* Figure @id of @vm. */
int64_t vp_vm_field_get(const struct vp_vm *vm, enum vp_vm_field_id id);
/* Whether @vm has figure @id now (the limit and headroom may not be known). */
bool vp_vm_field_known(const struct vp_vm *vm, enum vp_vm_field_id id);

/* What an output shows for a figure. */
enum vp_vm_value {
	VP_VM_ABSENT,	/* not known (vp_vm_field_known) */
	VP_VM_INFINITE, /* the limit of a VM without one (RLIMIT_MEMLOCK infinity, CAP_IPC_LOCK) */
	VP_VM_NUMBER,	/* *v */
};
/* Figure @id of @vm into *@v, and how to show it: every output asks this. */
enum vp_vm_value vp_vm_field_value(const struct vp_vm *vm, enum vp_vm_field_id id, int64_t *v);

/* Locked memory of every VM of @v added up (none counted twice). */
int64_t vp_vms_locked(const struct vp_vms *v);

#endif
