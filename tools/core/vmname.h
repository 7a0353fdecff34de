/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM names: QEMU's -name, read from the command line of the process that
 * owns a VM's containers.  A namer keeps what it read per process and
 * reads a process's /proc entries at most once per VP_NAME_REFRESH_NS, so
 * naming costs a snapshot nothing between refreshes.  A process gone
 * keeps the name it was seen with; a process that started after its
 * VM's first container event is a recycled pid and names nothing.
 */
#ifndef VFIOPIN_VMNAME_H
#define VFIOPIN_VMNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"
#include "vm.h"

#define VP_NAME_REFRESH_NS 1000000000ULL

/*
 * The VM name in a process's command line (@args, @len bytes of
 * NUL-separated arguments as /proc/PID/cmdline gives them): the value of
 * QEMU's -name (or --name), "guest=NAME,..." or "NAME,..." with ",," for a
 * comma.  Copies at most VP_VM_NAME_LEN bytes into @out (NUL-terminated)
 * and returns true, or returns false when there is none.
 */
bool vp_vm_name_parse(const char *args, size_t len, char out[VP_VM_NAME_LEN + 1]);

/*
 * How many passthrough devices a QEMU command line (as above) plugs at its
 * start: its -device values that are vfio-pci with an IOMMU group of their
 * own, not an mdev (sysfsdev under /sys/bus/mdev), in QEMU's key=value
 * syntax or libvirt's JSON.
 */
int vp_vm_cold_passthrough(const char *args, size_t len);

/*
 * A /proc/PID/status (NUL-terminated text): its VmLck into @ps->vmlck, and
 * @ps->vmlck_peak and @ps->vm_peak (VmPeak) raised to what it says.  False,
 * @ps untouched, when it has no VmLck in kB that fits bytes in 64 bits.
 */
bool vp_proc_status_parse(const char *status, struct vp_proc_sample *ps);
/* Whether the first mapping of a /proc/PID/smaps text is VM_LOCKED ("lo"). */
bool vp_smaps_first_locked(const char *smaps);

struct vp_namer;

/* A namer reading the procfs at @proc ("/proc"); NULL when out of memory. */
struct vp_namer *vp_namer_new(const char *proc);
void vp_namer_free(struct vp_namer *nm);

/*
 * Name the VMs of @s and their rows (vm.name, vm_name) at @now_ns
 * (CLOCK_MONOTONIC).  What is known of processes that own none of its
 * VMs, and were not noted since the last call, is forgotten.
 */
void vp_namer_name(struct vp_namer *nm, struct vp_snapshot *s, uint64_t now_ns);

/*
 * Learn the name of process @tgid now, while it runs, unless it is known:
 * the loader notes every live container's owner once a second, so a VM
 * that lives for less than the time to the next snapshot is still named.
 */
void vp_namer_note(struct vp_namer *nm, uint32_t tgid, uint64_t now_ns);

/*
 * Whether the command line the BPF side took for process @tgid is worth
 * looking up: the namer has not read it running with a command line nor
 * learnt it, and has not asked before (one lookup a process, not one a
 * snapshot).  Counts as the asking.
 */
bool vp_namer_wants_args(struct vp_namer *nm, uint32_t tgid);
/* Whether the namer knows process @tgid's name (read running, or learnt). */
bool vp_namer_knows(struct vp_namer *nm, uint32_t tgid);

/*
 * Learn the name of process @tgid, started at @start_ns (CLOCK_MONOTONIC),
 * from the @len bytes of its command line @args taken while it ran (the
 * BPF side takes them as it opens a container), unless it is known.  /proc
 * still wins while the process runs; once it is gone this is its name.
 */
void vp_namer_learn(struct vp_namer *nm, uint32_t tgid, uint64_t start_ns, const char *args,
		    size_t len);

#endif
