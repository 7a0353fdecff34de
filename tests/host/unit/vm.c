// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the per-VM view (core/vm.c) and VM naming (core/vmname.c).
 */
#include "unit.h"

static int64_t pg(int64_t pages)
{
	return pages * 4096;
}

/*
 * A sorted snapshot keeps its VM view: for every key, the same as one
 * built afresh from the sorted rows (the oracle), and every VM's rows are
 * its owner's.
 */
void test_sort_keeps_vms(void **state)
{
	enum { N = 40 };
	struct vp_row rows[N];
	struct vp_snapshot s = {.n = N, .rows = rows};
	struct vp_vms fresh;

	(void)state;
	for (unsigned int i = 0; i < N; i++) {
		/* cids out of order, 7 owners, figures that differ per row */
		struct vp_container c = vmc((i * 17) % N + 1, 5000 + i % 7, i % 3 == 0,
					    (__s64)(i * 3 % 11), i * 5 % 13 + 11);

		c.pages_pinned = i * 7 % 19;
		c.leaked = i % 4;
		c.pin_calls = i * 13 % 23;
		vp_row_derive(&rows[i], &c, NULL, 0);
	}
	assert_int_equal(vp_snapshot_derive(&s), 0);
	for (int key = 0; key < VP_SORT_MAX; key++) {
		assert_int_equal(vp_snapshot_sort(&s, key), 0);
		assert_int_equal(vp_vms_build(&s, &fresh), 0);
		assert_int_equal(s.vms.n, fresh.n);
		for (size_t v = 0; v < fresh.n; v++) {
			const struct vp_vm *a = &s.vms.vm[v], *b = &fresh.vm[v];

			assert_int_equal(a->tgid, b->tgid);
			assert_int_equal(a->nrows, b->nrows);
			for (size_t k = 0; k < a->nrows; k++) {
				assert_int_equal(a->rows[k], b->rows[k]);
				assert_int_equal(rows[a->rows[k]].c.tgid, a->tgid);
			}
			for (int f = 0; f < VP_VM_FLD_MAX; f++)
				assert_int_equal(vp_vm_field_get(a, f), vp_vm_field_get(b, f));
		}
		vp_vms_free(&fresh);
	}
	/* a filter keeps one owner's rows and their VM alone */
	assert_int_equal(vp_snapshot_filter(&s, 0, 5003), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.vms.n, 1);
	assert_int_equal(s.vms.vm[0].tgid, 5003);
	assert_int_equal(s.vms.vm[0].nrows, 6);
	vp_vms_free(&s.vms);
}

/*
 * --cid, --pid and --sort, as stat, top and hist apply them: only the
 * containers selected, in the key's order, the VM view theirs alone.
 */
void test_select_apply(void **state)
{
	enum { N = 6 };
	struct vp_row rows[N];
	struct vp_snapshot s;
	struct vp_select sel = {.sort = VP_SORT_LOCKED};
	bool seen = false;

	(void)state;
	/* cids 1, 6, 5, 4, 3, 2: cid k owned by 700 + k % 2, charging k pages */
	for (unsigned int i = 0; i < N; i++) {
		__u32 k = (i * 5) % N + 1;
		struct vp_container c = vmc(k, 700 + k % 2, false, k, k);

		vp_row_derive(&rows[i], &c, NULL, 0);
	}
	s = (struct vp_snapshot){.n = N, .rows = rows};
	assert_int_equal(vp_snapshot_derive(&s), 0);
	/* no selection: every row, by locked memory (the most first) */
	assert_int_equal(vp_select_apply(&sel, &s, &seen), 0);
	assert_false(seen);
	assert_int_equal(s.n, N);
	assert_int_equal(s.vms.n, 2);
	assert_int_equal(s.rows[0].c.cid, 6);
	assert_int_equal(s.rows[N - 1].c.cid, 1);
	/* --pid 701: its three containers (cids 5, 3, 1), its VM alone */
	sel.tgid = 701;
	sel.sort = VP_SORT_CID;
	assert_int_equal(vp_select_apply(&sel, &s, &seen), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.rows[0].c.cid, 1);
	assert_int_equal(s.rows[2].c.cid, 5);
	assert_int_equal(s.vms.n, 1);
	assert_int_equal(s.vms.vm[0].tgid, 701);
	assert_int_equal(vp_vms_locked(&s.vms), 9 * 4096);
	assert_false(seen);
	/* --cid 3 as well: seen, one row */
	sel.cid = 3;
	assert_int_equal(vp_select_apply(&sel, &s, &seen), 0);
	assert_true(seen);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rows[0].c.cid, 3);
	/* --cid of a container not there: nothing, and not seen */
	seen = false;
	sel.cid = 4;
	assert_int_equal(vp_select_apply(&sel, &s, &seen), 0);
	assert_false(seen);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.vms.n, 0);
	vp_vms_free(&s.vms);
}

/* Grouping by owner, the VM figures, and the advice. */
void test_vms(void **state)
{
	struct vp_row rows[5];
	struct vp_snapshot s = {.n = 5, .rows = rows};
	struct vp_container c[5];
	struct vp_vms v;
	char line[256], head[256];
	json_t *j;

	(void)state;
	/*
	 * 500: a vIOMMU VM that failed to start: its first passthrough
	 * container charged 16416 pages, the second 4096 when its next page
	 * was refused (type1 asks for one page over the limit); both released.
	 */
	c[0] = vmc(10, 500, true, 0, 16416);
	c[0].locked_peak = 20512;
	c[0].need_peak = 20512;
	c[2] = vmc(11, 500, true, 0, 4096);
	c[2].limit_hits = 1;
	c[2].need_peak = 16416 + 4096 + 1;
	c[0].flags |= VP_F_RELEASED;
	c[2].flags |= VP_F_RELEASED;
	/* 600: one passthrough container and an mdev-only one, both live */
	c[1] = vmc(20, 600, true, 1000, 1000);
	c[1].locked_vm = 1020;
	c[1].limit = 8 << 20;
	c[3] = vmc(21, 600, false, 20, 50);
	c[3].locked_vm = 1020;
	c[3].locked_peak = 1050;
	c[3].limit = 8 << 20;
	/* 700: first seen mid-life: its own charge unknown, the process's as last seen */
	c[4] = vmc(30, 700, true, -5, 0);
	c[4].flags &= ~VP_F_SEEN_OPEN;
	c[4].locked_vm = 300;
	c[4].flags |= VP_F_LOCK_CAP;
	for (int i = 0; i < 5; i++)
		vp_row_derive(&rows[i], &c[i], NULL, 0);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.vm[0].tgid, 500);
	assert_int_equal(v.vm[1].tgid, 600);
	assert_int_equal(v.vm[2].tgid, 700);
	assert_int_equal(v.vm[0].nrows, 2);
	assert_int_equal(rows[v.vm[0].rows[1]].c.cid, 11);

	/* 500: nothing live, the advice from what it did */
	assert_int_equal(v.vm[0].containers, 0);
	assert_int_equal(v.vm[0].locked, 0);
	assert_int_equal(v.vm[0].limit_hits, 1);
	assert_int_equal(v.vm[0].pt_charge, pg(16416));
	assert_int_equal(v.vm[0].next_pt, pg(16416));
	assert_int_equal(v.vm[0].needed, pg(2 * 16416));
	assert_int_equal(v.vm[0].need_from, VP_NEED_CHARGES);
	/* 600: charges add up; needed = passthrough + mdev at its peak */
	assert_int_equal(v.vm[1].containers, 2);
	assert_int_equal(v.vm[1].pt_containers, 1);
	assert_int_equal(v.vm[1].locked, pg(1020));
	assert_int_equal(v.vm[1].locked_peak, pg(1050));
	assert_int_equal(v.vm[1].mdev_charge, pg(50));
	assert_int_equal(v.vm[1].needed, pg(1050));
	assert_int_equal(v.vm[1].need_from, VP_NEED_PEAK);
	assert_int_equal(v.vm[1].limit, 8 << 20);
	assert_int_equal(v.vm[1].headroom, (8 << 20) - pg(1020));
	assert_true(v.vm[1].seen_open);
	assert_true(vp_vm_field_known(&v.vm[1], VP_VM_FLD_HEADROOM));
	/* 700: the process's figure; unlimited (CAP_IPC_LOCK): no headroom */
	assert_false(v.vm[2].seen_open);
	assert_int_equal(v.vm[2].locked, pg(300));
	assert_true(v.vm[2].unlimited);
	assert_false(vp_vm_field_known(&v.vm[2], VP_VM_FLD_HEADROOM));
	assert_int_equal(vp_vms_locked(&v), pg(1320));

	/* the text row lines up with its heading */
	vp_format_vm_heading(head, sizeof(head));
	vp_format_vm_row(line, sizeof(line), &v.vm[1]);
	assert_int_equal(strlen(line), strlen(head));
	assert_non_null(strstr(head, "NEED"));
	vp_format_vm_row(line, sizeof(line), &v.vm[2]);
	assert_non_null(strstr(line, "unlim"));
	assert_non_null(strstr(line, "700~"));

	/* JSON: unknown is null, names escaped when not UTF-8 */
	memcpy(rows[1].vm_name, "v\"m\n\xff", 6);
	rows[3].vm_name[0] = 0;
	vp_vms_free(&v);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	j = vp_json_vm(&s, &v.vm[1]);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "v\"m\\x0a\\xff");
	/* the text row escapes it the same way, and stays one line */
	vp_format_vm_row(line, sizeof(line), &v.vm[1]);
	assert_non_null(strstr(line, " v\"m\\x0a\\xff "));
	assert_null(strchr(line, '\n'));
	assert_int_equal(json_integer_value(json_object_get(j, "needed_limit_bytes")), pg(1050));
	assert_int_equal(json_array_size(json_object_get(j, "cids")), 2);
	json_decref(j);
	j = vp_json_vm(&s, &v.vm[2]);
	assert_true(json_is_null(json_object_get(j, "limit_bytes")));
	assert_true(json_is_null(json_object_get(j, "headroom_bytes")));
	assert_true(json_is_null(json_object_get(j, "name")));
	json_decref(j);
	vp_vms_free(&v);

	/* an empty snapshot has no VMs */
	s.n = 0;
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.n, 0);
	vp_vms_free(&v);
}

/*
 * Where the advice comes from.  A vIOMMU VM whose two cold-plugged
 * containers peaked at 65536 KiB each while pc.ram was mapped and settled
 * at 65280, and whose hot-plugged third charged 65664: its process peaked
 * at 196224 KiB, all at its limit of 196224, nothing refused.  It needs
 * what it reached, never "each container at the largest one's charge"
 * (196992): that would call the limit it ran at too low.  Refused, the
 * extrapolation is a floor; a VmLck sample above every charge (mlock)
 * raises it.
 */
/*
 * A start refused on the limit: a 112 MiB VM at 64 MiB, its one container
 * holding 768 KiB (the low RAM and the BIOS, mapped before and after the
 * refused pc.ram) with 111 MiB refused: the BPF side's need_peak is all it
 * held and all it was refused (test_bpf: test_refused_start), and the VM
 * needs that, said to come from a refusal; a second container's refusal
 * adds to the VM's refused bytes.
 */
void test_vm_refused_start(void **state)
{
	struct vp_row rows[2];
	struct vp_snapshot s = {.n = 1, .rows = rows};
	struct vp_container c = vmc(1, 950, true, 0, 768 / 4);
	struct vp_vms v;

	(void)state;
	c.locked_vm = 768 / 4;
	c.locked_peak = 37 * 1024 / 4; /* a part of pc.ram charged, then undone */
	c.limit = 64ULL << 20;
	c.limit_hits = 1;
	c.refused = 111 * 1024 / 4;
	c.need_peak = (768 + 111 * 1024) / 4;
	vp_row_derive(&rows[0], &c, NULL, 0);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.vm[0].refused, 111LL << 20);
	assert_int_equal(v.vm[0].needed, (768 + 111 * 1024) * 1024LL);
	assert_int_equal(v.vm[0].need_from, VP_NEED_REFUSED);
	vp_vms_free(&v);
	c.cid = 2;
	c.refused = 128 / 4;
	vp_row_derive(&rows[1], &c, NULL, 0);
	s.n = 2;
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.vm[0].refused, (111LL << 20) + (128 << 10));
	vp_vms_free(&v);
}

/*
 * Hot- and cold-plugged passthrough containers.  The command line says how
 * many passthrough devices the start plugs, in QEMU's syntax and
 * libvirt's JSON, an mdev not among them; the containers past that many,
 * in the order they opened, came with hotplugs, and the next device is
 * advised what a hot-plugged one charged (65664 KiB), not the largest
 * cold-plugged one's peak (65536) nor, without one, said to be more than
 * an estimate.
 */
void test_vm_plugged(void **state)
{
	static const char args[] =
	    "qemu\0-device\0vfio-pci,host=0000:00:01.0,id=pt1\0"
	    "-device\0vfio-pci,sysfsdev=/sys/bus/mdev/devices/u1\0"
	    "-device\0{\"driver\":\"vfio-pci\",\"host\":\"0000:06:00.0\"}\0"
	    "-device\0{\"driver\":\"vfio-pci\",\"sysfsdev\":\"/sys/bus/mdev/"
	    "devices/u2\"}\0"
	    "-device\0virtio-net-pci\0-device\0driver=vfio-pci,host=0000:00:02.0\0"
	    "-device\0vfio-pci-nohotplug,host=0000:00:03.0\0-name\0web\0-device";
	struct vp_row rows[4];
	struct vp_snapshot s = {.n = 4, .rows = rows};
	struct vp_container c[4];
	struct vp_vms v;

	(void)state;
	assert_int_equal(vp_vm_cold_passthrough(args, sizeof(args)), 3);
	assert_int_equal(vp_vm_cold_passthrough(args, 0), 0);
	/* two cold (65536 at their peaks), a hot one (65664), an mdev */
	c[0] = vmc(1, 990, true, 65280 / 4, 65536 / 4);
	c[1] = vmc(2, 990, true, 65280 / 4, 65536 / 4);
	c[2] = vmc(3, 990, true, 65664 / 4, 65664 / 4);
	c[3] = vmc(4, 990, false, 256 / 4, 256 / 4);
	for (int i = 0; i < 4; i++) {
		/* opened in the order 2, 1, 4, 3: ids say nothing of it */
		c[i].first_ns = (__u64)(i == 0 ? 20 : i == 1 ? 10 : i == 2 ? 40 : 30);
		vp_row_derive(&rows[i], &c[i], NULL, 0);
	}
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.vm[0].next_from, VP_NEXT_ANY);
	/* the next mdev: what its mdev container charged */
	assert_int_equal(v.vm[0].next_mdev, 256 * 1024);
	vp_vm_plugged(&v.vm[0], &s, 2);
	assert_int_equal(v.vm[0].pt_cold, 2);
	assert_int_equal(v.vm[0].pt_hot, 1);
	assert_int_equal(v.vm[0].next_from, VP_NEXT_HOT);
	assert_int_equal(v.vm[0].next_pt, 65664 * 1024);
	vp_vms_free(&v);
	/* the hot one's charge below the cold peaks: still what a hot one charged */
	c[2].charged_peak = 65000 / 4;
	vp_row_derive(&rows[2], &c[2], NULL, 0);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	vp_vm_plugged(&v.vm[0], &s, 2);
	assert_int_equal(v.vm[0].next_pt, 65000 * 1024);
	vp_vms_free(&v);
	/* all three on the command line: none hot-plugged, an estimate */
	assert_int_equal(vp_vms_build(&s, &v), 0);
	vp_vm_plugged(&v.vm[0], &s, 3);
	assert_int_equal(v.vm[0].pt_hot, 0);
	assert_int_equal(v.vm[0].next_from, VP_NEXT_COLD);
	assert_int_equal(v.vm[0].next_pt, 65536 * 1024);
	vp_vms_free(&v);
	/* the command line not known: nothing said of the kinds */
	assert_int_equal(vp_vms_build(&s, &v), 0);
	vp_vm_plugged(&v.vm[0], &s, -1);
	assert_int_equal(v.vm[0].next_from, VP_NEXT_ANY);
	assert_int_equal(v.vm[0].pt_hot + v.vm[0].pt_cold, 0);
	vp_vms_free(&v);
}

void test_vm_advice_sources(void **state)
{
	struct vp_row rows[3];
	struct vp_snapshot s = {.n = 3, .rows = rows};
	struct vp_container c[3];
	struct vp_vms v;

	(void)state;
	c[0] = vmc(1, 900, true, 65280 / 4, 65536 / 4);
	c[1] = vmc(2, 900, true, 65280 / 4, 65536 / 4);
	c[2] = vmc(3, 900, true, 65664 / 4, 65664 / 4);
	for (int i = 0; i < 3; i++) {
		c[i].locked_vm = 196224 / 4;
		c[i].locked_peak = (i == 2 ? 196224 : 131072) / 4;
		c[i].limit = 196224ULL * 1024;
		vp_row_derive(&rows[i], &c[i], NULL, 0);
	}
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.vm[0].needed, 196224 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_PEAK);
	assert_true(v.vm[0].needed <= v.vm[0].limit);
	assert_int_equal(v.vm[0].needed_charges, 3 * 65664 * 1024);
	/* no sample: the sampled figures are unknown, and say so */
	assert_false(vp_vm_field_known(&v.vm[0], VP_VM_FLD_PROCESS_LOCKED));
	/* a VmLck sample below the peak changes nothing but its figures */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){196000 * 1024, 196100 * 1024, -1, false});
	assert_true(vp_vm_field_known(&v.vm[0], VP_VM_FLD_PROCESS_LOCKED));
	assert_int_equal(v.vm[0].process_locked, 196000 * 1024);
	assert_int_equal(v.vm[0].process_locked_peak, 196100 * 1024);
	assert_int_equal(v.vm[0].needed, 196224 * 1024);
	/* mlock after the last charge: the sampled peak is the need */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){870000 * 1024, 872044 * 1024, -1, false});
	assert_int_equal(v.vm[0].needed, 872044 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_VMLCK);
	/* a last sample above the peak given: the peak is at least it */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){880000 * 1024, 0, -1, false});
	assert_int_equal(v.vm[0].process_locked_peak, 880000 * 1024);
	/* never read: nothing changes */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){-1, 1 << 30, 1 << 30, true});
	assert_int_equal(v.vm[0].needed, 880000 * 1024);
	/* VmPeak known, but its memory not all locked: no bound from it */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){880000 * 1024, 0, 900000 * 1024, false});
	assert_int_equal(v.vm[0].needed, 880000 * 1024);
	/*
	 * mlockall: its passing peaks are bounded by its address space's:
	 * VmPeak plus every container at its peak (65536 + 65536 + 65664)
	 */
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){880000 * 1024, 0, 700000 * 1024, true});
	assert_int_equal(v.vm[0].process_vm_peak, 700000 * 1024);
	assert_int_equal(v.vm[0].needed, (700000 + 196736) * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_MLOCK);
	vp_vms_free(&v);

	/*
	 * its own locking watched since it started (bpf/mlock.bpf.c): the
	 * most a locked mapping asked for (746588 KiB, above its peak of
	 * 744948: a MAP_FIXED block over its reservation) is the need, known
	 * without a sample, and mlockall's VmPeak bound is not taken
	 */
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_false(vp_vm_field_known(&v.vm[0], VP_VM_FLD_PROCESS_LOCKED_PEAK));
	vp_vm_locked_seen(&v.vm[0], 744948 / 4, 746588 / 4, true);
	assert_true(vp_vm_field_known(&v.vm[0], VP_VM_FLD_PROCESS_LOCKED_PEAK));
	assert_false(vp_vm_field_known(&v.vm[0], VP_VM_FLD_PROCESS_LOCKED));
	assert_int_equal(v.vm[0].process_locked_peak, 744948 * 1024);
	assert_int_equal(v.vm[0].needed, 746588 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_OWN);
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){743252 * 1024, 0, 771000 * 1024, true});
	assert_int_equal(v.vm[0].needed, 746588 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_OWN);
	assert_int_equal(v.vm[0].process_locked_peak, 744948 * 1024);
	vp_vms_free(&v);
	/* watched only since after it started: it may have locked more unseen */
	assert_int_equal(vp_vms_build(&s, &v), 0);
	vp_vm_locked_seen(&v.vm[0], 744948 / 4, 746588 / 4, false);
	vp_vm_sample(&v.vm[0], &(struct vp_proc_sample){743252 * 1024, 0, 771000 * 1024, true});
	assert_int_equal(v.vm[0].need_from, VP_NEED_MLOCK);
	assert_true(v.vm[0].needed > 771000 * 1024);
	/* below what VFIO's charges reached: no need of its own */
	vp_vms_free(&v);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	vp_vm_locked_seen(&v.vm[0], 1024 / 4, 1024 / 4, true);
	assert_int_not_equal(v.vm[0].need_from, VP_NEED_OWN);
	vp_vms_free(&v);

	/* the third container's charge refused: what it held plus all it asked */
	c[2].limit_hits = 1;
	c[2].need_peak = (131072 + 65664) / 4;
	for (int i = 0; i < 3; i++)
		vp_row_derive(&rows[i], &c[i], NULL, 0);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	/* refused: the extrapolation (3 x 65664) is the floor, above it */
	assert_int_equal(v.vm[0].needed, 3 * 65664 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_CHARGES);
	vp_vms_free(&v);
	c[2].need_peak = 300000 / 4;
	vp_row_derive(&rows[2], &c[2], NULL, 0);
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.vm[0].needed, 300000 * 1024);
	assert_int_equal(v.vm[0].need_from, VP_NEED_REFUSED);
	vp_vms_free(&v);
}

/* A VM of 500 containers: one VM, every container listed once, no sum overflowing. */
void test_vm_many_containers(void **state)
{
	enum { N = 500 };
	struct vp_row *rows = calloc(N, sizeof(*rows));
	struct vp_snapshot s = {.n = N, .rows = rows};
	struct vp_container c;
	struct vp_vms v;
	json_t *j;

	(void)state;
	assert_non_null(rows);
	for (int i = 0; i < N; i++) {
		c = vmc((__u32)i + 1, 777, i % 2, 1000, 1000);
		/* counters from before vfiopin attached may be anything */
		c.limit_hits = UINT64_MAX / 3;
		c.charged_peak = UINT64_MAX / 2;
		vp_row_derive(&rows[i], &c, NULL, 0);
	}
	assert_int_equal(vp_vms_build(&s, &v), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.vm[0].nrows, N);
	assert_int_equal(v.vm[0].containers, N);
	assert_int_equal(v.vm[0].pt_containers, N / 2);
	assert_int_equal(v.vm[0].locked, pg(1000) * N);
	/* saturated, never wrapped */
	assert_int_equal(v.vm[0].limit_hits, INT64_MAX);
	assert_int_equal(v.vm[0].needed, INT64_MAX);
	j = vp_json_vm(&s, &v.vm[0]);
	assert_int_equal(json_array_size(json_object_get(j, "cids")), N);
	json_decref(j);
	vp_vms_free(&v);
	free(rows);
}

static bool name_of(const char *args, size_t len, char *out)
{
	return vp_vm_name_parse(args, len, out);
}

#define NAME_OK(lit, want)                                                                         \
	do {                                                                                       \
		char out_[VP_VM_NAME_LEN + 1];                                                     \
		assert_true(name_of(lit, sizeof(lit) - 1, out_));                                  \
		assert_string_equal(out_, want);                                                   \
	} while (0)

#define NAME_NONE(lit)                                                                             \
	do {                                                                                       \
		char out_[VP_VM_NAME_LEN + 1];                                                     \
		assert_false(name_of(lit, sizeof(lit) - 1, out_));                                 \
		assert_string_equal(out_, "");                                                     \
	} while (0)

void test_vm_name_parse(void **state)
{
	char long_args[200], out[VP_VM_NAME_LEN + 1];

	(void)state;
	NAME_OK("qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0-m\0"
		"64",
		"vm1");
	NAME_OK("q\0-name\0plain\0", "plain");
	NAME_OK("q\0-name\0a,,b,process=x\0", "a,b");
	NAME_OK("q\0-name\0process=x,guest=g\0", "g");
	NAME_OK("q\0--name\0n\0", "n");
	/* no NUL after the last argument (a cut read) */
	NAME_OK("q\0-name\0tail", "tail");
	NAME_NONE("q\0-name\0");
	NAME_NONE("q\0-name");
	NAME_NONE("q\0-name\0process=x\0");
	NAME_NONE("q\0-m\0"
		  "64\0");
	NAME_NONE("q\0-namex\0y\0");
	NAME_NONE("");
	/* cut at VP_VM_NAME_LEN */
	memcpy(long_args, "q\0-name\0", 8);
	memset(long_args + 8, 'x', 150);
	assert_true(vp_vm_name_parse(long_args, 158, out));
	assert_int_equal(strlen(out), VP_VM_NAME_LEN);
}

/* A fake /proc: process @tgid started @ticks after boot, with @args. */
static void fake_proc(const char *root, uint32_t tgid, unsigned long long ticks, const char *args,
		      size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", root, tgid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%u/stat", root, tgid);
	f = fopen(path, "w");
	assert_non_null(f);
	/* a comm with a space and a parenthesis: starttime is field 22 */
	fprintf(f, "%u (q) e mu) S", tgid);
	for (int i = 4; i < 22; i++)
		fprintf(f, " %d", i);
	fprintf(f, " %llu 0 0\n", ticks);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, tgid);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(args, 1, len, f);
	fclose(f);
}

/* Its /proc/PID/status, with VmLck @kb (negative: a status without one). */
static void fake_status(const char *root, uint32_t tgid, long kb)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/status", root, tgid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "Name:\tqemu\nVmPeak:\t  9000 kB\n");
	if (kb >= 0)
		fprintf(f, "VmLck:\t%8ld kB\nVmPin:\t       0 kB\n", kb);
	fclose(f);
}

/* Its /proc/PID/smaps: a first mapping with VmFlags @flags, then more. */
static void fake_smaps(const char *root, uint32_t tgid, const char *flags)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/smaps", root, tgid);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"55d0c0000000-55d0c0100000 r--p 00000000 00:1d 42 /usr/bin/qemu-system-x86_64\n"
		"Size:               1024 kB\nLocked:             1024 kB\nVmFlags: %s\n"
		"55d0c0100000-55d0c0200000 r-xp 00100000 00:1d 42 /usr/bin/qemu\nVmFlags: rd\n",
		flags);
	fclose(f);
}

static void rm_proc(const char *root, uint32_t tgid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u/stat", root, tgid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, tgid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u/status", root, tgid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u/smaps", root, tgid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u", root, tgid);
	rmdir(path);
}

/* @s's rows from @c, their VM view and names at @now (seconds). */
static void name_rows(struct vp_namer *nm, struct vp_snapshot *s, const struct vp_container *c,
		      uint64_t t0, unsigned int now)
{
	for (size_t i = 0; i < s->n; i++)
		vp_row_derive(&s->rows[i], &c[i], NULL, 0);
	assert_int_equal(vp_snapshot_derive(s), 0);
	vp_namer_name(nm, s, t0 + now * VP_NAME_REFRESH_NS);
}

/*
 * Names from the command line; never for a recycled pid; kept after exit;
 * /proc read at most once per VP_NAME_REFRESH_NS for a process.
 */
void test_vm_names(void **state)
{
	static const char args[] = "qemu\0-name\0guest=alpha,debug-threads=on\0";
	char root[] = "/tmp/vfiopin-proc-XXXXXX";
	struct vp_row rows[3];
	struct vp_snapshot s = {.n = 3, .rows = rows};
	struct vp_container c[3];
	struct vp_namer *nm;
	struct timespec mt;
	uint64_t t0;

	(void)state;
	assert_non_null(mkdtemp(root));
	nm = vp_namer_new(root);
	assert_non_null(nm);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	t0 = (uint64_t)mt.tv_sec * 1000000000ULL + (uint64_t)mt.tv_nsec;
	c[0] = vmc(1, 4001, true, 10, 10);
	c[1] = vmc(2, 4001, true, 10, 10);
	c[2] = vmc(3, 4002, true, 10, 10);
	for (int i = 0; i < 3; i++)
		c[i].first_ns = t0;
	/* 4001 started at boot; 4002 (a recycled pid) long after its container */
	fake_proc(root, 4001, 1, args, sizeof(args) - 1);
	fake_proc(root, 4002, 1ULL << 40, args, sizeof(args) - 1);
	name_rows(nm, &s, c, t0, 0);
	assert_string_equal(rows[0].vm_name, "alpha");
	assert_string_equal(rows[1].vm_name, "alpha");
	assert_string_equal(rows[2].vm_name, "");
	/* the VM view has it too, and the recycled pid's VM has none */
	assert_int_equal(s.vms.n, 2);
	assert_string_equal(s.vms.vm[0].name, "alpha");
	assert_string_equal(s.vms.vm[1].name, "");
	/* within a second nothing is read again: a new command line is not seen */
	fake_proc(root, 4001, 1, "qemu\0-name\0renamed\0", 20);
	name_rows(nm, &s, c, t0, 0);
	assert_string_equal(rows[0].vm_name, "alpha");
	/* 4001 exits: its rows keep the name it was seen with */
	rm_proc(root, 4001);
	name_rows(nm, &s, c, t0, 1);
	assert_string_equal(rows[0].vm_name, "alpha");
	assert_string_equal(rows[2].vm_name, "");
	/* and a new process on its pid, started later, is not it */
	fake_proc(root, 4001, 1ULL << 40, "other\0-name\0beta\0", 17);
	name_rows(nm, &s, c, t0, 2);
	assert_string_equal(rows[0].vm_name, "");
	rm_proc(root, 4001);
	/* a VM noted while it ran (the loader's once-a-second walk) keeps its name */
	c[0].tgid = c[1].tgid = 4003;
	fake_proc(root, 4003, 1, "q\0-name\0short\0", 15);
	vp_namer_note(nm, 4003, t0 + 2 * VP_NAME_REFRESH_NS);
	rm_proc(root, 4003);
	name_rows(nm, &s, c, t0, 3);
	assert_string_equal(rows[0].vm_name, "short");
	assert_string_equal(rows[1].vm_name, "short");
	assert_string_equal(rows[2].vm_name, "");
	/* a process of no VM in a snapshot is forgotten: noted gone, it names nothing */
	c[0].tgid = c[1].tgid = 4001;
	name_rows(nm, &s, c, t0, 4);
	c[0].tgid = c[1].tgid = 4003;
	name_rows(nm, &s, c, t0, 5);
	assert_string_equal(rows[0].vm_name, "");
	/*
	 * A VM gone before /proc was read: named from the command line the
	 * BPF side took as it opened a container; once known, nothing more
	 * is learnt; a live process's /proc wins over what was taken.
	 */
	c[0].tgid = c[1].tgid = 4004;
	assert_false(vp_namer_knows(nm, 4004));
	assert_true(vp_namer_wants_args(nm, 4004));
	/* asked once: not again */
	assert_false(vp_namer_wants_args(nm, 4004));
	vp_namer_learn(nm, 4004, t0 - 1, "q\0-name\0guest=brief,x=y\0", 24);
	assert_true(vp_namer_knows(nm, 4004));
	vp_namer_learn(nm, 4004, t0 - 1, "q\0-name\0other\0", 14);
	name_rows(nm, &s, c, t0, 6);
	assert_string_equal(rows[0].vm_name, "brief");
	assert_string_equal(s.vms.vm[0].name, "brief");
	/* started after its containers: a recycled pid's, it names nothing */
	c[0].tgid = c[1].tgid = 4005;
	vp_namer_learn(nm, 4005, t0 + (1ULL << 40), "q\0-name\0late\0", 13);
	name_rows(nm, &s, c, t0, 7);
	assert_string_equal(rows[0].vm_name, "");
	/* running: /proc is read, and its name wins */
	c[0].tgid = c[1].tgid = 4006;
	fake_proc(root, 4006, 1, "q\0-name\0live\0", 13);
	vp_namer_learn(nm, 4006, t0 - 1, "q\0-name\0taken\0", 14);
	name_rows(nm, &s, c, t0, 8);
	assert_string_equal(rows[0].vm_name, "live");
	/* no status read yet, none with VmLck: not sampled */
	assert_false(s.vms.vm[0].sampled);
	/*
	 * learnt first from the start the BPF side took (cut off: devices
	 * unknown) and running with that very start: /proc is still read once,
	 * for the whole command line's name and devices
	 */
	{
		struct timespec bt, mt;
		uint64_t start;
		char args[VP_ARGS_LEN + 64];

		clock_gettime(CLOCK_BOOTTIME, &bt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		start = (uint64_t)(100 * (1e9 / (double)sysconf(_SC_CLK_TCK)) -
				   ((double)(bt.tv_sec - mt.tv_sec) * 1e9 +
				    (double)(bt.tv_nsec - mt.tv_nsec)));
		memset(args, 'x', sizeof(args));
		memcpy(args, "q\0-name\0cut\0", 12);
		args[sizeof(args) - 1] = 0;
		c[0].tgid = c[1].tgid = 4010;
		fake_proc(root, 4010, 100, "q\0-name\0whole\0", 14);
		vp_namer_learn(nm, 4010, start, args, VP_ARGS_LEN);
		name_rows(nm, &s, c, start + 1, 8);
		assert_string_equal(rows[0].vm_name, "whole");
		rm_proc(root, 4010);
		c[0].tgid = c[1].tgid = 4006;
		name_rows(nm, &s, c, t0, 8);
	}
	/* its VmLck sampled at each refresh, the peak kept after it falls */
	fake_status(root, 4006, 2048);
	name_rows(nm, &s, c, t0, 9);
	assert_true(s.vms.vm[0].sampled);
	assert_int_equal(s.vms.vm[0].process_locked, 2048 * 1024);
	fake_status(root, 4006, 1024);
	name_rows(nm, &s, c, t0, 10);
	assert_int_equal(s.vms.vm[0].process_locked, 1024 * 1024);
	assert_int_equal(s.vms.vm[0].process_locked_peak, 2048 * 1024);
	/* above its charges (80 KiB), no smaps saying mlockall: the peak sampled */
	assert_int_equal(s.vms.vm[0].process_vm_peak, 9000 * 1024);
	assert_false(s.vms.vm[0].mlocks);
	assert_int_equal(s.vms.vm[0].needed, 2048 * 1024);
	assert_int_equal(s.vms.vm[0].need_from, VP_NEED_VMLCK);
	/* within a refresh: not read again */
	fake_status(root, 4006, 4096);
	name_rows(nm, &s, c, t0, 10);
	assert_int_equal(s.vms.vm[0].process_locked_peak, 2048 * 1024);
	/* smaps is asked once, at its first locked memory: not again */
	fake_smaps(root, 4006, "rd ex mr mw me lo dw sd");
	fake_status(root, 4006, 1024);
	name_rows(nm, &s, c, t0, 11);
	assert_false(s.vms.vm[0].mlocks);
	/* gone: the last sample and the peak stay */
	rm_proc(root, 4006);
	name_rows(nm, &s, c, t0, 12);
	assert_int_equal(s.vms.vm[0].process_locked, 1024 * 1024);
	assert_int_equal(s.vms.vm[0].process_locked_peak, 2048 * 1024);
	/*
	 * its first mapping VM_LOCKED (mlockall) when it first has locked
	 * memory: the need is its VmPeak (9000 kB) plus its containers at
	 * their peaks
	 */
	c[0].tgid = c[1].tgid = 4009;
	fake_proc(root, 4009, 1, "q\0-name\0locked\0", 15);
	fake_smaps(root, 4009, "rd ex mr mw me lo dw sd");
	fake_status(root, 4009, 1024);
	name_rows(nm, &s, c, t0, 12);
	assert_true(s.vms.vm[0].mlocks);
	assert_int_equal(s.vms.vm[0].needed, (9000 + 80) * 1024);
	assert_int_equal(s.vms.vm[0].need_from, VP_NEED_MLOCK);
	/* "lo" only as a whole flag: "lock" or "clo" are not it */
	assert_false(vp_smaps_first_locked("a-b r--p 0 0 0 x\nVmFlags: rd clo\n"));
	assert_false(vp_smaps_first_locked("a-b r--p 0 0 0 x\nVmFlags: rd lop\nVmFlags: lo\n"));
	assert_true(vp_smaps_first_locked("a-b r--p 0 0 0 x\nVmFlags: lo"));
	rm_proc(root, 4009);
	/* a VmLck too large to be bytes is not taken */
	c[0].tgid = c[1].tgid = 4008;
	fake_proc(root, 4008, 1, "q\0-name\0big\0", 12);
	fake_status(root, 4008, -1);
	name_rows(nm, &s, c, t0, 13);
	assert_false(s.vms.vm[0].sampled);
	rm_proc(root, 4008);
	/*
	 * Noted while exiting (its stat there, its command line empty: the
	 * memory goes before the files): not known, so what the BPF side
	 * took names it.
	 */
	c[0].tgid = c[1].tgid = 4007;
	fake_proc(root, 4007, 1, "", 0);
	vp_namer_note(nm, 4007, t0 + 9 * VP_NAME_REFRESH_NS);
	assert_false(vp_namer_knows(nm, 4007));
	assert_true(vp_namer_wants_args(nm, 4007));
	rm_proc(root, 4007);
	vp_namer_learn(nm, 4007, t0 - 1, "q\0-name\0brief2\0", 15);
	assert_true(vp_namer_knows(nm, 4007));
	name_rows(nm, &s, c, t0, 10);
	assert_string_equal(rows[0].vm_name, "brief2");
	vp_vms_free(&s.vms);
	vp_namer_free(nm);
	rm_proc(root, 4002);
	rmdir(root);
}
