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

const char *const vp_need_from_names[VP_NEED_MAX] = {
    [VP_NEED_NONE] = "nothing charged",
    [VP_NEED_PEAK] = "the most its process had locked at a VFIO charge",
    [VP_NEED_REFUSED] = "what its process held plus every refused charge's whole size",
    [VP_NEED_CHARGES] = "each passthrough container at the largest one's charge, plus mdev",
    [VP_NEED_VMLCK] = "its process's VmLck as sampled (memory it locked with no VFIO charge)",
    [VP_NEED_MLOCK] =
	"it mlocks all its memory: its VmPeak plus every container's charge at its peak",
    [VP_NEED_OWN] = ("the most its process locked, or asked to lock, when it locked memory "
		     "itself (mlock), as the kernel checked it"),
};

const char *const vp_next_from_names[VP_NEXT_MAX] = {
    [VP_NEXT_NONE] = "no passthrough container",
    [VP_NEXT_ANY] = "the largest passthrough container's charge (hot- or cold-plugged not known)",
    [VP_NEXT_COLD] = ("no device hot-plugged yet: the largest cold-plugged container's charge, "
		      "an estimate (a hot-plugged one maps what the running VM has, under a "
		      "vIOMMU the BIOS too)"),
    [VP_NEXT_HOT] = "what a container hot-plugged into this VM charged",
};

bool vp_vm_field_known(const struct vp_vm *vm, enum vp_vm_field_id id)
{
	unsigned int fl = vp_vm_fields[id].flags;

	if ((fl & VP_VF_SAMPLED) && !vm->sampled)
		return false;
	if ((fl & VP_VF_OWN) && !vm->sampled && !vm->lock_seen)
		return false;
	if ((fl & VP_VF_LIMIT) && !vm->limit_known)
		return false;
	if ((fl & VP_VF_BOUNDED) && (!vm->limit_known || vm->unlimited))
		return false;
	return true;
}

enum vp_vm_value vp_vm_field_value(const struct vp_vm *vm, enum vp_vm_field_id id, int64_t *v)
{
	*v = vp_vm_field_get(vm, id);
	if (!vp_vm_field_known(vm, id))
		return VP_VM_ABSENT;
	if (id == VP_VM_FLD_LIMIT && vm->unlimited)
		return VP_VM_INFINITE;
	return VP_VM_NUMBER;
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
		vm->charged_peaks = sat_add(vm->charged_peaks, pages_bytes(c->charged_peak));
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
		vm->refused = sat_add(vm->refused, pages_bytes(c->refused));
		vm->limit_hits = sat_add(vm->limit_hits, (int64_t)(c->limit_hits & INT64_MAX));
		if (c->flags & VP_F_IOMMU) {
			vm->pt_all++;
			if (pages_bytes(c->charged_peak) > vm->pt_charge)
				vm->pt_charge = pages_bytes(c->charged_peak);
		} else {
			vm->mdev_charge = sat_add(vm->mdev_charge, pages_bytes(c->charged_peak));
			if (pages_bytes(c->charged_peak) > vm->next_mdev)
				vm->next_mdev = pages_bytes(c->charged_peak);
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
	 * The advice, from what the kernel charged and refused: the most the
	 * process had locked at a charge (VFIO's and its own mlock alike, as
	 * type1 read it), or what it held plus every refused charge's whole
	 * size (need_peak): a start refused on the limit goes on mapping what
	 * comes after the refused region (QEMU records the first error and
	 * fails the device at the end), so what it needed is all it held and
	 * all it was refused, never one refusal alone.  A refusal cuts a start short, and a VM seen
	 * mid-life was not seen whole: then every passthrough container is taken to charge what the
	 * largest did (each maps the guest memory again) and the mdev charges to add, a floor for
	 * what was not seen.  A VM that did everything within its limit needs no more than it
	 * reached.
	 */
	vm->needed_charges = sat_add(sat_mul(vm->pt_charge, (int64_t)vm->pt_all), vm->mdev_charge);
	vm->needed = vm->locked_peak;
	vm->need_from = vm->needed > 0 ? VP_NEED_PEAK : VP_NEED_NONE;
	if (need > vm->needed) {
		vm->needed = need;
		vm->need_from = VP_NEED_REFUSED;
	}
	if ((vm->limit_hits || !vm->seen_open) && vm->needed_charges > vm->needed) {
		vm->needed = vm->needed_charges;
		vm->need_from = VP_NEED_CHARGES;
	}
	vm->next_pt = vm->pt_charge;
	vm->next_from = vm->pt_all ? VP_NEXT_ANY : VP_NEXT_NONE;
}

/* Whether passthrough row @a opened before row @b (by first event, then cid). */
static bool opened_before(const struct vp_container *a, const struct vp_container *b)
{
	return a->first_ns != b->first_ns ? a->first_ns < b->first_ns : a->cid < b->cid;
}

/* no more containers than this in one VM are ranked (a rank is O(n) each) */
#define VP_PLUGGED_MAX 256

void vp_vm_plugged(struct vp_vm *vm, const struct vp_snapshot *s, int cold)
{
	int64_t hot_peak = 0;

	vm->pt_cold = vm->pt_hot = 0;
	if (cold < 0 || !vm->pt_all || vm->nrows > VP_PLUGGED_MAX)
		return;
	for (size_t k = 0; k < vm->nrows; k++) {
		const struct vp_container *c = &s->rows[vm->rows[k]].c;
		size_t rank = 0;

		if (!(c->flags & VP_F_IOMMU))
			continue;
		for (size_t j = 0; j < vm->nrows; j++) {
			const struct vp_container *o = &s->rows[vm->rows[j]].c;

			if (j != k && (o->flags & VP_F_IOMMU) && opened_before(o, c))
				rank++;
		}
		if (rank < (size_t)cold) {
			vm->pt_cold++;
		} else {
			vm->pt_hot++;
			if (pages_bytes(c->charged_peak) > hot_peak)
				hot_peak = pages_bytes(c->charged_peak);
		}
	}
	if (vm->pt_hot) {
		vm->next_pt = hot_peak;
		vm->next_from = VP_NEXT_HOT;
	} else {
		vm->next_from = VP_NEXT_COLD;
	}
}

void vp_vm_sample(struct vp_vm *vm, const struct vp_proc_sample *ps)
{
	int64_t bound;

	if (ps->vmlck < 0)
		return;
	int64_t peak = ps->vmlck_peak > ps->vmlck ? ps->vmlck_peak : ps->vmlck;

	vm->sampled = true;
	vm->process_locked = ps->vmlck;
	if (peak > vm->process_locked_peak)
		vm->process_locked_peak = peak;
	vm->process_vm_peak = ps->vm_peak > 0 ? ps->vm_peak : 0;
	if (peak > vm->needed) {
		vm->needed = peak;
		vm->need_from = VP_NEED_VMLCK;
	}
	/* all its memory locked, its locking not watched: what it locks in passing is unseen */
	vm->mlocks = ps->mlocks;
	if (ps->mlocks && ps->vm_peak > 0 && !vm->lock_watched) {
		bound = sat_add(ps->vm_peak, vm->charged_peaks);
		if (bound > vm->needed) {
			vm->needed = bound;
			vm->need_from = VP_NEED_MLOCK;
		}
	}
}

void vp_vm_locked_seen(struct vp_vm *vm, uint64_t peak_pages, uint64_t need_pages, bool whole)
{
	int64_t peak = pages_bytes(peak_pages), need = pages_bytes(need_pages);

	vm->lock_seen = true;
	vm->lock_watched = whole;
	if (peak > vm->process_locked_peak)
		vm->process_locked_peak = peak;
	if (need < peak)
		need = peak;
	vm->own_need = need;
	if (need > vm->needed) {
		vm->needed = need;
		vm->need_from = VP_NEED_OWN;
	}
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

static int cmp_index(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

void vp_vms_moved(struct vp_vms *v, const size_t *at)
{
	for (size_t i = 0; i < v->n; i++) {
		struct vp_vm *vm = &v->vm[i];

		for (size_t k = 0; k < vm->nrows; k++)
			vm->rows[k] = at[vm->rows[k]];
		qsort(vm->rows, vm->nrows, sizeof(*vm->rows), cmp_index);
	}
	if (v->n)
		qsort(v->vm, v->n, sizeof(*v->vm), cmp_vm_first);
}

void vp_vms_free(struct vp_vms *v)
{
	free(v->vm);
	free(v->idx);
	memset(v, 0, sizeof(*v));
}

int64_t vp_vms_locked(const struct vp_vms *v)
{
	int64_t sum = 0;

	for (size_t i = 0; i < v->n; i++)
		sum = sat_add(sum, v->vm[i].locked);
	return sum;
}
