// SPDX-License-Identifier: GPL-2.0
/* VM names from their processes' command lines, cached per process (vmname.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vm.h"
#include "vmname.h"

/* One -name value's guest name: "NAME[,k=v...]" or "guest=NAME[,...]". */
static bool name_opts(const char *v, size_t len, char *out)
{
	size_t o = 0, start = 0;
	bool first = true;

	while (start <= len) {
		char opt[VP_VM_NAME_LEN + 8];
		size_t ol = 0, i = start;

		/* one option up to a single comma; ",," is a comma */
		for (; i < len; i++) {
			if (v[i] == ',') {
				if (i + 1 < len && v[i + 1] == ',') {
					i++;
				} else {
					break;
				}
			}
			if (ol < sizeof(opt) - 1)
				opt[ol++] = v[i];
		}
		opt[ol] = 0;
		if (first && !memchr(opt, '=', ol)) {
			o = ol;
		} else if (ol >= 6 && !memcmp(opt, "guest=", 6)) {
			memmove(opt, opt + 6, ol - 6);
			o = ol - 6;
		} else {
			o = 0;
		}
		if (o) {
			if (o > VP_VM_NAME_LEN)
				o = VP_VM_NAME_LEN;
			memcpy(out, opt, o);
			out[o] = 0;
			return true;
		}
		first = false;
		start = i + 1;
	}
	return false;
}

bool vp_vm_name_parse(const char *args, size_t len, char out[VP_VM_NAME_LEN + 1])
{
	size_t i = 0;

	out[0] = 0;
	while (i < len) {
		const char *a = args + i;
		size_t al = strnlen(a, len - i);

		i += al + 1;
		if ((al == 5 && !memcmp(a, "-name", 5)) || (al == 6 && !memcmp(a, "--name", 6))) {
			size_t vl;

			if (i >= len)
				return false;
			vl = strnlen(args + i, len - i);
			return name_opts(args + i, vl, out);
		}
	}
	return false;
}

/* Whether @v (@len bytes) holds @needle. */
static bool has(const char *v, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(v + i, needle, n))
			return true;
	return false;
}

/*
 * Whether one -device value is a VFIO device with an IOMMU group of its
 * own (passthrough), not an mdev: QEMU's "vfio-pci,host=..." or
 * "driver=vfio-pci,...", or the JSON libvirt writes
 * ({"driver":"vfio-pci","host":...}); an mdev is named by its sysfsdev
 * under /sys/bus/mdev.
 */
static bool passthrough_device(const char *v, size_t len)
{
	bool vfio;

	if (len && v[0] == '{')
		vfio = has(v, len, "\"driver\":\"vfio-pci\"");
	else
		vfio = (len >= 8 && !memcmp(v, "vfio-pci", 8) && (len == 8 || v[8] == ',')) ||
		       has(v, len, ",driver=vfio-pci") ||
		       (len >= 15 && !memcmp(v, "driver=vfio-pci", 15));
	return vfio && !has(v, len, "/mdev/");
}

int vp_vm_cold_passthrough(const char *args, size_t len)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		const char *a = args + i;
		size_t al = strnlen(a, len - i);

		i += al + 1;
		if (!((al == 7 && !memcmp(a, "-device", 7)) ||
		      (al == 8 && !memcmp(a, "--device", 8))))
			continue;
		if (i >= len)
			break;
		al = strnlen(args + i, len - i);
		if (passthrough_device(args + i, al) && n < INT32_MAX)
			n++;
		i += al + 1;
	}
	return n;
}

/* Read at most @cap bytes of @path into a fresh buffer; -1 on failure. */
static ssize_t slurp(const char *path, char **buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *b;

	*buf = NULL;
	if (fd < 0)
		return -1;
	b = malloc(cap + 1);
	if (!b) {
		close(fd);
		return -1;
	}
	while (len < cap) {
		ssize_t r = read(fd, b + len, cap - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	b[len] = 0;
	*buf = b;
	return (ssize_t)len;
}

/* The start of process @tgid in CLOCK_MONOTONIC ns, or 0 when it is gone. */
static uint64_t proc_start_ns(const char *proc, uint32_t tgid)
{
	char path[64], *buf, *p;
	unsigned long long ticks = 0;
	struct timespec bt, mt;
	double off_ns;
	long hz = sysconf(_SC_CLK_TCK);
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", proc, tgid);
	n = slurp(path, &buf, 4096);
	if (n <= 0) {
		free(buf);
		return 0;
	}
	/* after the comm, which may hold anything: fields 3 on; starttime is 22 */
	p = strrchr(buf, ')');
	if (p) {
		int field = 2;

		for (; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (field == 22)
			ticks = strtoull(p, NULL, 10);
	}
	free(buf);
	if (!ticks || hz <= 0)
		return 0;
	/* starttime is since boot (CLOCK_BOOTTIME); the events' clock is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_BOOTTIME, &bt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	off_ns = (double)(bt.tv_sec - mt.tv_sec) * 1e9 + (double)(bt.tv_nsec - mt.tv_nsec);
	return (uint64_t)((double)ticks * (1e9 / (double)hz) - off_ns);
}

/* What the namer knows of one process. */
struct name_entry {
	uint32_t tgid;
	bool keep;		  /* named a VM of the last snapshot, or noted since */
	uint64_t start_ns;	  /* its start; 0: never seen running */
	uint64_t checked_ns;	  /* when /proc was last read for it */
	bool asked;		  /* its BPF-taken command line was looked up */
	bool learnt;		  /* name and devices from that, not yet from /proc */
	struct vp_proc_sample ps; /* its VmLck and VmPeak as read running; -1: never */
	bool mlock_asked;	  /* its smaps was read for mlockall */
	int cold;		  /* passthrough devices on its command line; -1: unknown */
	char name[VP_VM_NAME_LEN + 1];
};

#define NAMES_MAX 65536

struct vp_namer {
	char *proc;
	uint64_t tick_ns; /* the resolution of a process's start time */
	struct name_entry *e;
	size_t n, cap;
};

struct vp_namer *vp_namer_new(const char *proc)
{
	struct vp_namer *nm = calloc(1, sizeof(*nm));
	long hz = sysconf(_SC_CLK_TCK);

	if (!nm)
		return NULL;
	nm->proc = strdup(proc);
	if (!nm->proc) {
		free(nm);
		return NULL;
	}
	nm->tick_ns = hz > 0 ? (uint64_t)(1e9 / (double)hz) : 10000000;
	return nm;
}

void vp_namer_free(struct vp_namer *nm)
{
	if (!nm)
		return;
	free(nm->e);
	free(nm->proc);
	free(nm);
}

/* The entry of @tgid, or where it goes (*@at) when there is none. */
static struct name_entry *find(struct vp_namer *nm, uint32_t tgid, size_t *at)
{
	size_t lo = 0, hi = nm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (nm->e[mid].tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < nm->n && nm->e[lo].tgid == tgid ? &nm->e[lo] : NULL;
}

static struct name_entry *insert(struct vp_namer *nm, uint32_t tgid, size_t at)
{
	if (nm->n >= NAMES_MAX)
		return NULL;
	if (nm->n == nm->cap) {
		size_t nc = nm->cap ? 2 * nm->cap : 64;
		struct name_entry *e = realloc(nm->e, nc * sizeof(*e));

		if (!e)
			return NULL;
		nm->e = e;
		nm->cap = nc;
	}
	memmove(&nm->e[at + 1], &nm->e[at], (nm->n - at) * sizeof(*nm->e));
	nm->n++;
	memset(&nm->e[at], 0, sizeof(*nm->e));
	nm->e[at].tgid = tgid;
	nm->e[at].ps = (struct vp_proc_sample){-1, -1, -1, false};
	nm->e[at].cold = -1;
	return &nm->e[at];
}

/*
 * The name in process @tgid's command line, into @name ("" if none).
 * False when there is no command line to read: the process is gone, or
 * exiting (its memory released before its files, so before its
 * containers are).
 */
static bool read_name(const char *proc, uint32_t tgid, char name[VP_VM_NAME_LEN + 1], int *cold)
{
	char path[64], *buf;
	ssize_t len;

	name[0] = 0;
	*cold = -1;
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc, tgid);
	/* one that fills what is read may be cut: its devices then unknown */
	len = slurp(path, &buf, 1 << 16);
	if (len > 0) {
		vp_vm_name_parse(buf, (size_t)len, name);
		if (len < 1 << 16)
			*cold = vp_vm_cold_passthrough(buf, (size_t)len);
	}
	free(buf);
	return len > 0;
}

/* The figure @key ("\nVmLck:") of a /proc/PID/status in bytes, or -1. */
static int64_t status_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);
	long long kb;

	/* a kernel figure, still checked before it is scaled */
	if (p && sscanf(p + strlen(key), "%lld kB", &kb) == 1 && kb >= 0 && kb <= INT64_MAX / 1024)
		return (int64_t)kb * 1024;
	return -1;
}

bool vp_proc_status_parse(const char *status, struct vp_proc_sample *ps)
{
	int64_t lck = status_kb(status, "\nVmLck:"), peak = status_kb(status, "\nVmPeak:");

	if (lck < 0)
		return false;
	ps->vmlck = lck;
	if (lck > ps->vmlck_peak)
		ps->vmlck_peak = lck;
	if (peak > ps->vm_peak)
		ps->vm_peak = peak;
	return true;
}

bool vp_smaps_first_locked(const char *smaps)
{
	const char *f = strstr(smaps, "\nVmFlags:"), *end;

	if (!f)
		return false;
	f += 9;
	end = strchrnul(f, '\n');
	/* two-letter flags, each after a space */
	for (const char *p = f; p + 3 <= end; p++)
		if (p[0] == ' ' && p[1] == 'l' && p[2] == 'o' && (p + 3 == end || p[3] == ' '))
			return true;
	return false;
}

/*
 * Whether process @tgid has its memory locked by mlockall (its first
 * mapping, its binary's, carries VM_LOCKED, which only mlockall puts
 * there).  Only the start of smaps is read: the kernel walks a mapping's
 * pages as it prints it.  Reading it takes ptrace read access to the
 * process (root, or its own user).
 */
static bool first_mapping_locked(const char *proc, uint32_t tgid)
{
	char path[64], *buf;
	bool locked = false;

	/* the first mapping's lines fit in 2 KiB */
	snprintf(path, sizeof(path), "%s/%u/smaps", proc, tgid);
	if (slurp(path, &buf, 1 << 11) > 0)
		locked = vp_smaps_first_locked(buf);
	free(buf);
	return locked;
}

/* Process @tgid's VmLck and VmPeak into @ps; false when there is no VmLck. */
static bool read_status(const char *proc, uint32_t tgid, struct vp_proc_sample *ps)
{
	char path[64], *buf;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/%u/status", proc, tgid);
	if (slurp(path, &buf, 1 << 13) > 0)
		ok = vp_proc_status_parse(buf, ps);
	free(buf);
	return ok;
}

/*
 * The entry of process @tgid, its /proc read again when it was last read
 * VP_NAME_REFRESH_NS or more before @now_ns.  A process gone keeps the
 * name it had while it ran; one that is not the process seen before (a
 * new start time) is read anew.  NULL when out of memory or room.
 */
static struct name_entry *refresh(struct vp_namer *nm, uint32_t tgid, uint64_t now_ns)
{
	size_t at;
	struct name_entry *e = find(nm, tgid, &at);
	uint64_t start;
	bool same;

	if (e && now_ns >= e->checked_ns && now_ns - e->checked_ns < VP_NAME_REFRESH_NS)
		return e;
	if (!e && !(e = insert(nm, tgid, at)))
		return NULL;
	e->checked_ns = now_ns;
	start = proc_start_ns(nm->proc, tgid);
	/*
	 * seen running only with a command line: an exiting one is read
	 * again, and so is a new process on its pid (a start apart by more
	 * than the clock tick its start is counted in: the clocks' offset
	 * moves the same start by a few ns from one reading to the next)
	 */
	same = start && e->start_ns &&
	       (start > e->start_ns ? start - e->start_ns : e->start_ns - start) <= nm->tick_ns;
	if (start && !same && read_name(nm->proc, tgid, e->name, &e->cold)) {
		e->start_ns = start;
		e->ps = (struct vp_proc_sample){-1, -1, -1, false};
		e->mlock_asked = false;
		e->learnt = false;
		same = true;
	} else if (same && e->learnt) {
		/*
		 * learnt from the start of its command line the BPF side took,
		 * and running: its whole command line, once, for the name and
		 * the devices (the start may have cut them off)
		 */
		char name[VP_VM_NAME_LEN + 1];
		int cold;

		if (read_name(nm->proc, tgid, name, &cold)) {
			memcpy(e->name, name, sizeof(name));
			e->cold = cold;
			e->learnt = false;
		}
	}
	/*
	 * its locked memory, every time it is read running; once it has
	 * some, whether that is by mlockall (QEMU calls it as it starts,
	 * before any device), asked once
	 */
	if (same && read_status(nm->proc, tgid, &e->ps) && e->ps.vmlck > 0 && !e->mlock_asked) {
		e->mlock_asked = true;
		e->ps.mlocks = first_mapping_locked(nm->proc, tgid);
	}
	return e;
}

/*
 * The name of @e for containers first seen at @first_ns: none when it was
 * never seen running, or started after them (a recycled pid).
 */
static const char *name_for(const struct vp_namer *nm, const struct name_entry *e,
			    uint64_t first_ns)
{
	return e && e->start_ns && e->start_ns <= first_ns + nm->tick_ns ? e->name : "";
}

void vp_namer_note(struct vp_namer *nm, uint32_t tgid, uint64_t now_ns)
{
	size_t at;
	struct name_entry *e;

	if (!tgid || find(nm, tgid, &at))
		return;
	e = refresh(nm, tgid, now_ns);
	if (e)
		e->keep = true;
}

bool vp_namer_knows(struct vp_namer *nm, uint32_t tgid)
{
	size_t at;
	const struct name_entry *e = find(nm, tgid, &at);

	return e && e->start_ns;
}

bool vp_namer_wants_args(struct vp_namer *nm, uint32_t tgid)
{
	size_t at;
	struct name_entry *e = find(nm, tgid, &at);

	if (!e && !(e = insert(nm, tgid, at)))
		return false;
	if (e->start_ns || e->asked)
		return false;
	e->asked = true;
	return true;
}

void vp_namer_learn(struct vp_namer *nm, uint32_t tgid, uint64_t start_ns, const char *args,
		    size_t len)
{
	size_t at;
	struct name_entry *e;

	if (!tgid || !start_ns)
		return;
	e = find(nm, tgid, &at);
	/* known already (seen running with its command line, or learnt) */
	if (e ? e->start_ns != 0 : !(e = insert(nm, tgid, at)))
		return;
	/* never checked: the next refresh reads /proc, which wins while it runs */
	e->start_ns = start_ns;
	e->keep = true;
	e->learnt = true;
	vp_vm_name_parse(args, len, e->name);
	/* the BPF side keeps only the start of it: whole only when shorter */
	e->cold = len < VP_ARGS_LEN ? vp_vm_cold_passthrough(args, len) : -1;
}

void vp_namer_name(struct vp_namer *nm, struct vp_snapshot *s, uint64_t now_ns)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->vms.n; i++) {
		struct vp_vm *vm = &s->vms.vm[i];
		struct name_entry *e = vm->tgid ? refresh(nm, vm->tgid, now_ns) : NULL;
		const char *name = name_for(nm, e, vm->first_ns);

		if (e)
			e->keep = true;
		/* the same process as its containers' (as its name) */
		if (e && name_for(nm, e, vm->first_ns) == e->name) {
			vp_vm_sample(vm, &e->ps);
			vp_vm_plugged(vm, s, e->cold);
		}
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		for (size_t k = 0; k < vm->nrows; k++)
			snprintf(s->rows[vm->rows[k]].vm_name, sizeof(vm->name), "%s", name);
	}
	/* the entries of this snapshot's VMs stay, and those noted since the last */
	for (size_t i = 0; i < nm->n; i++) {
		if (!nm->e[i].keep)
			continue;
		nm->e[kept] = nm->e[i];
		nm->e[kept++].keep = false;
	}
	nm->n = kept;
}
