// SPDX-License-Identifier: GPL-2.0
/* The per-VM view (vm.h): grouping, the VM figures, the advice, names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fields.h"
#include "vm.h"

#define VP_VM_FIELD_OFF(member)                                                                    \
	(offsetof(struct vp_vm, member) +                                                          \
	 0 * sizeof(char[sizeof(((struct vp_vm *)0)->member) == sizeof(int64_t) ? 1 : -1]))

const struct vp_vm_field vp_vm_fields[VP_VM_FLD_MAX] = {
#define VP_VM_FIELD_ROW(id_, json_, prom_, type_, unit_, member_, flags_, col_, help_)             \
	[VP_VM_FLD_##id_] = {.id = #id_,                                                           \
			     .json = json_,                                                        \
			     .prom = prom_,                                                        \
			     .counter = VP_FT_##type_ == VP_FT_COUNTER,                            \
			     .unit = unit_,                                                        \
			     .member = #member_,                                                   \
			     .off = VP_VM_FIELD_OFF(member_),                                      \
			     .flags = flags_,                                                      \
			     .col = col_,                                                          \
			     .help = help_},
    VP_VM_FIELDS(VP_VM_FIELD_ROW)
#undef VP_VM_FIELD_ROW
};

int64_t vp_vm_field_get(const struct vp_vm *vm, enum vp_vm_field_id id)
{
	int64_t v;

	memcpy(&v, (const char *)vm + vp_vm_fields[id].off, sizeof(v));
	return v;
}

bool vp_vm_field_known(const struct vp_vm *vm, enum vp_vm_field_id id)
{
	unsigned int fl = vp_vm_fields[id].flags;

	if ((fl & VP_VF_LIMIT) && !vm->limit_known)
		return false;
	if ((fl & VP_VF_BOUNDED) && (!vm->limit_known || vm->unlimited))
		return false;
	return true;
}

static int64_t pages_bytes(uint64_t pages)
{
	/* a gauge counted from before vfiopin attached may be off: never overflow */
	if (pages > (uint64_t)INT64_MAX >> VP_PAGE_SHIFT)
		return INT64_MAX;
	return (int64_t)(pages << VP_PAGE_SHIFT);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

static int64_t sat_mul(int64_t a, int64_t n)
{
	if (n && a > INT64_MAX / n)
		return INT64_MAX;
	return a * n;
}

/* The figures of @vm from its rows. */
static void vm_derive(struct vp_vm *vm, const struct vp_snapshot *s)
{
	int64_t charged = 0, live_locked = 0, need = 0;
	uint64_t limit_events = 0;
	bool have_limit_row = false;

	vm->seen_open = true;
	for (size_t k = 0; k < vm->nrows; k++) {
		const struct vp_row *r = &s->rows[vm->rows[k]];
		const struct vp_container *c = &r->c;
		bool live = !(c->flags & VP_F_RELEASED);

		if (!k || c->first_ns < vm->first_ns)
			vm->first_ns = c->first_ns;
		if (!(c->flags & VP_F_SEEN_OPEN))
			vm->seen_open = false;
		if (!vm->comm[0] && r->comm[0])
			memcpy(vm->comm, r->comm, sizeof(vm->comm));
		if (!vm->name[0] && r->vm_name[0])
			memcpy(vm->name, r->vm_name, sizeof(vm->name));
		charged += (int64_t)c->charged;
		if (live) {
			vm->containers++;
			if (pages_bytes(c->locked_vm) > live_locked)
				live_locked = pages_bytes(c->locked_vm);
			if (c->flags & VP_F_IOMMU)
				vm->pt_containers++;
		}
		if (pages_bytes(c->locked_peak) > vm->locked_peak)
			vm->locked_peak = pages_bytes(c->locked_peak);
		if (pages_bytes(c->need_peak) > need)
			need = pages_bytes(c->need_peak);
		vm->limit_hits = sat_add(vm->limit_hits, (int64_t)(c->limit_hits & INT64_MAX));
		if (c->flags & VP_F_IOMMU) {
			vm->pt_all++;
			if (pages_bytes(c->charged_peak) > vm->pt_charge)
				vm->pt_charge = pages_bytes(c->charged_peak);
		} else {
			vm->mdev_charge = sat_add(vm->mdev_charge, pages_bytes(c->charged_peak));
		}
		/* the limit as the most recently busy container saw it; live ones first */
		if ((c->flags & VP_F_LIMIT_KNOWN) &&
		    (!have_limit_row || (live && c->account_events >= limit_events))) {
			have_limit_row = true;
			limit_events = live ? c->account_events : 0;
			vm->limit_known = true;
			vm->unlimited = r->unlimited;
			vm->limit = r->unlimited || c->limit > (uint64_t)INT64_MAX
					? INT64_MAX
					: (int64_t)c->limit;
		}
	}
	/*
	 * Seen whole, the charges add up to the process's share of VmLck;
	 * otherwise the process's own figure, as type1 last reported it.
	 */
	if (vm->seen_open)
		vm->locked = charged > 0 ? pages_bytes((uint64_t)charged) : 0;
	else
		vm->locked = live_locked;
	if (vm->limit_known && !vm->unlimited)
		vm->headroom = vm->limit - vm->locked;
	/*
	 * The advice: every passthrough container charges what the largest
	 * did (each maps the guest memory again), the mdev charges add, and
	 * it is never below the most the process reached or asked for.
	 */
	vm->needed_charges = sat_add(sat_mul(vm->pt_charge, (int64_t)vm->pt_all), vm->mdev_charge);
	vm->needed = vm->needed_charges;
	if (need > vm->needed)
		vm->needed = need;
	if (vm->locked_peak > vm->needed)
		vm->needed = vm->locked_peak;
	vm->next_pt = vm->pt_charge;
}

struct key {
	uint32_t tgid;
	size_t pos;
};

static int cmp_key(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int cmp_vm_first(const void *pa, const void *pb)
{
	const struct vp_vm *a = pa, *b = pb;

	return a->rows[0] < b->rows[0] ? -1 : a->rows[0] > b->rows[0];
}

int vp_vms_build(const struct vp_snapshot *s, struct vp_vms *out)
{
	struct key *keys = NULL;
	size_t n = s->n, nvm = 0;

	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	keys = calloc(n, sizeof(*keys));
	out->idx = calloc(n, sizeof(*out->idx));
	out->vm = calloc(n, sizeof(*out->vm));
	if (!keys || !out->idx || !out->vm) {
		free(keys);
		vp_vms_free(out);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = (struct key){s->rows[i].c.tgid, i};
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < n; i++) {
		out->idx[i] = keys[i].pos;
		if (!i || keys[i].tgid != keys[i - 1].tgid) {
			out->vm[nvm].tgid = keys[i].tgid;
			out->vm[nvm].rows = &out->idx[i];
			nvm++;
		}
		out->vm[nvm - 1].nrows++;
	}
	free(keys);
	out->n = nvm;
	qsort(out->vm, nvm, sizeof(*out->vm), cmp_vm_first);
	for (size_t i = 0; i < nvm; i++)
		vm_derive(&out->vm[i], s);
	return 0;
}

void vp_vms_free(struct vp_vms *v)
{
	free(v->vm);
	free(v->idx);
	memset(v, 0, sizeof(*v));
}

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

/*
 * The names seen, one per process: those of the last snapshot's VMs and
 * those noted since (vp_vm_name_note), sorted by tgid.
 */
struct name_entry {
	uint32_t tgid;
	uint64_t start_ns;
	char name[VP_VM_NAME_LEN + 1];
};

#define NAMES_MAX 65536

static struct name_entry *names;
static size_t nnames, capnames;

static int cmp_name_tgid(const void *a, const void *b)
{
	uint32_t x = ((const struct name_entry *)a)->tgid, y = ((const struct name_entry *)b)->tgid;

	return x < y ? -1 : x > y;
}

static const struct name_entry *cached(uint32_t tgid)
{
	struct name_entry key = {.tgid = tgid};

	return nnames ? bsearch(&key, names, nnames, sizeof(*names), cmp_name_tgid) : NULL;
}

static uint64_t tick_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? (uint64_t)(1e9 / (double)hz) : 10000000;
}

/* The name in process @tgid's command line, into @name ("" if none). */
static void read_name(const char *proc, uint32_t tgid, char name[VP_VM_NAME_LEN + 1])
{
	char path[64], *buf;
	ssize_t len;

	name[0] = 0;
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc, tgid);
	len = slurp(path, &buf, 1 << 16);
	if (len > 0)
		vp_vm_name_parse(buf, (size_t)len, name);
	free(buf);
}

/*
 * What the owner @tgid of containers first seen at @first_ns is called:
 * its cached entry while it is the same process (or gone), else its
 * command line read now.  An entry with start_ns 0 names nobody: the
 * process is gone unseen, or @tgid is a recycled pid (started after
 * @first_ns), which is never named.
 */
static struct name_entry lookup(const char *proc, uint32_t tgid, uint64_t first_ns)
{
	const struct name_entry *e = cached(tgid);
	struct name_entry r = {.tgid = tgid};
	uint64_t tick = tick_ns();

	r.start_ns = proc_start_ns(proc, tgid);
	if (!r.start_ns) {
		/* gone: the name it had while it ran, if it was seen */
		if (e && e->start_ns && e->start_ns <= first_ns + tick)
			r = *e;
	} else if (r.start_ns > first_ns + tick) {
		r.start_ns = 0;
	} else if (e && e->start_ns == r.start_ns) {
		r = *e;
	} else {
		read_name(proc, tgid, r.name);
	}
	return r;
}

void vp_vm_name_note(uint32_t tgid, uint64_t first_ns, const char *proc)
{
	struct name_entry e;
	size_t at;

	if (!tgid || cached(tgid) || nnames >= NAMES_MAX)
		return;
	/*
	 * Kept even when it names nobody: a process gone or a recycled pid
	 * stays so, and is not looked up again every second.
	 */
	e = lookup(proc, tgid, first_ns);
	if (nnames == capnames) {
		size_t nc = capnames ? 2 * capnames : 64;
		struct name_entry *n = realloc(names, nc * sizeof(*n));

		if (!n)
			return;
		names = n;
		capnames = nc;
	}
	for (at = nnames; at > 0 && names[at - 1].tgid > tgid; at--)
		;
	memmove(&names[at + 1], &names[at], (nnames - at) * sizeof(*names));
	names[at] = e;
	nnames++;
}

void vp_vm_names(struct vp_snapshot *s, const char *proc)
{
	struct vp_vms v;
	struct name_entry *next;
	size_t nn = 0, cap;

	if (vp_vms_build(s, &v))
		return;
	cap = v.n;
	next = cap ? calloc(cap, sizeof(*next)) : NULL;
	for (size_t i = 0; i < v.n; i++) {
		const struct vp_vm *vm = &v.vm[i];
		struct name_entry e;

		if (!vm->tgid)
			continue;
		e = lookup(proc, vm->tgid, vm->first_ns);
		for (size_t k = 0; k < vm->nrows; k++)
			memcpy(s->rows[vm->rows[k]].vm_name, e.name, sizeof(e.name));
		if (next && e.start_ns)
			next[nn++] = e;
	}
	vp_vms_free(&v);
	/* the VMs' entries: sorted, as the tgids of v are distinct */
	if (nn)
		qsort(next, nn, sizeof(*next), cmp_name_tgid);
	free(names);
	names = next;
	nnames = nn;
	capnames = next ? cap : 0;
}

int64_t vp_vms_locked(const struct vp_vms *v)
{
	int64_t sum = 0;

	for (size_t i = 0; i < v->n; i++)
		sum = sat_add(sum, v->vm[i].locked);
	return sum;
}
