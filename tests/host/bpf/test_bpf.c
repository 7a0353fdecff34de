// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF aggregation of bpf/core.bpf.h, loaded into this machine's
 * kernel and fed synthetic vfio_type1 event sequences through
 * BPF_PROG_TEST_RUN on its raw_tp programs.  Every expected value is worked
 * out by hand from the sequence fed, never read back from the tool.
 *
 * Needs root (CAP_BPF + CAP_PERFMON) and a kernel with BTF.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vfiopin.h"
#include "vfiopin.skel.h"

#define E_NOMEM	  12
#define LIMIT_16M (16ULL << 20)

struct fixture {
	struct vfiopin_bpf *skel;
};

static int silent(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Runs one raw_tp program with the given u64 arguments. */
static void fire(struct bpf_program *prog, int n, ...)
{
	__u64 args[8] = {0};
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		args[i] = va_arg(ap, __u64);
	va_end(ap);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = n * sizeof(__u64));
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	assert_int_equal(opts.retval, 0);
}

#define U(x) ((__u64)(int64_t)(x))

static int prctl_get_comm(char *buf)
{
	return prctl(PR_GET_NAME, buf);
}

/* @slots: the containers array's size (a power of two), @spill the spill map's; 0: defaults */
static struct vfiopin_bpf *load(__u32 slots, __u32 spill, __u32 ringbuf, bool emit,
				__u32 filter_cid)
{
	struct vfiopin_bpf *s = vfiopin_bpf__open();
	struct bpf_program *prog;

	assert_non_null(s);
	/* the raw_tp programs only: the fallback ones need type1's functions */
	bpf_object__for_each_program(prog, s->obj)
	    bpf_program__set_autoload(prog, !strncmp(bpf_program__name(prog), "tp_", 3));
	if (slots) {
		assert_int_equal(bpf_map__set_max_entries(s->maps.containers, slots), 0);
		s->rodata->slot_mask = slots - 1;
	}
	if (spill)
		assert_int_equal(bpf_map__set_max_entries(s->maps.spill, spill), 0);
	if (ringbuf)
		assert_int_equal(bpf_map__set_max_entries(s->maps.events, ringbuf), 0);
	s->rodata->emit_events = emit;
	s->rodata->filter_cid = filter_cid;
	assert_int_equal(vfiopin_bpf__load(s), 0);
	return s;
}

static int setup(void **state)
{
	static struct fixture f;

	f.skel = load(0, 0, 0, false, 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vfiopin_bpf__destroy(f->skel);
	return 0;
}

static struct vp_slot slot_buf;

/* Container @cid where the BPF side keeps it: its array slot, else the spill map. */
static bool find(struct vfiopin_bpf *s, __u32 cid, struct vp_slot *out)
{
	__u32 idx = cid & s->rodata->slot_mask;

	if (!bpf_map__lookup_elem(s->maps.containers, &idx, sizeof(idx), out, sizeof(*out), 0) &&
	    out->c.cid == cid)
		return true;
	return !bpf_map__lookup_elem(s->maps.spill, &cid, sizeof(cid), out, sizeof(*out), 0);
}

static struct vp_container get(struct vfiopin_bpf *s, __u32 cid)
{
	assert_true(find(s, cid, &slot_buf));
	return slot_buf.c;
}

static bool exists(struct vfiopin_bpf *s, __u32 cid)
{
	return find(s, cid, &slot_buf);
}

/* Latency histogram @id of container @cid. */
static struct vp_hist *hist(struct vfiopin_bpf *s, __u32 cid, enum vp_lat_id id)
{
	assert_true(find(s, cid, &slot_buf));
	return &slot_buf.lat.h[id];
}

/* The global counters, the CPUs added up. */
static struct vp_globals glob(struct vfiopin_bpf *s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vp_globals g = {0}, per[ncpu];
	__u32 zero = 0;

	assert_int_equal(
	    bpf_map__lookup_elem(s->maps.stats, &zero, sizeof(zero), per, sizeof(per), 0), 0);
	for (int c = 0; c < ncpu; c++) {
		for (int i = 0; i < VP_EV_MAX; i++)
			g.events[i] += per[c].events[i];
		g.drop_map_full += per[c].drop_map_full;
		g.drop_ringbuf += per[c].drop_ringbuf;
		g.drop_inflight += per[c].drop_inflight;
		g.unmatched_end += per[c].unmatched_end;
		g.late_events += per[c].late_events;
	}
	return g;
}

static __u64 slots_sum(const __u64 *s, int n)
{
	__u64 t = 0;

	for (int i = 0; i < n; i++)
		t += s[i];
	return t;
}

/* pin NPAGE pages from IOVA as one call; refs[i] is page i's ref_count after */
static void pin_call(struct vfiopin_bpf *s, __u32 cid, __u32 tgid, __u64 iova, int npage,
		     const unsigned int *refs)
{
	fire(s->progs.tp_pin_begin, 6, U(cid), U(tgid), iova, U(npage), U(3), U(0));
	for (int i = 0; i < npage; i++)
		fire(s->progs.tp_pin_page, 5, U(cid), U(tgid), iova + i * 4096ULL, U(refs[i]),
		     U(refs[i] == 1));
	/* the kernel measured the call: 1 us a page */
	fire(s->progs.tp_pin_end, 7, U(cid), U(tgid), iova, U(npage), U(3), U(npage),
	     U(1000 * npage));
}

static void unpin_call(struct vfiopin_bpf *s, __u32 cid, __u32 tgid, __u64 iova, int npage,
		       const unsigned int *refs)
{
	fire(s->progs.tp_unpin_begin, 6, U(cid), U(tgid), iova, U(npage), U(0), U(0));
	for (int i = 0; i < npage; i++)
		fire(s->progs.tp_unpin_page, 5, U(cid), U(tgid), iova + i * 4096ULL, U(refs[i]),
		     U(refs[i] == 0));
	fire(s->progs.tp_unpin_end, 7, U(cid), U(tgid), iova, U(npage), U(0), U(npage),
	     U(500 * npage));
}

static void account(struct vfiopin_bpf *s, __u32 cid, __u32 tgid, long delta, __u64 locked, int ret)
{
	fire(s->progs.tp_account, 8, U(cid), U(tgid), U(delta), locked, LIMIT_16M, U(0), U(0),
	     U(ret));
}

/* The mdev path: open, attach, pin twice over one page, unpin, limit hit. */
static void test_mdev_pins_and_refcounts(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	const __u32 cid = 7, tgid = (__u32)getpid();
	static const unsigned int first[4] = {1, 1, 1, 1};
	static const unsigned int second[2] = {2, 2};
	static const unsigned int third[1] = {3};
	static const unsigned int un_second[2] = {2, 1};
	struct vp_container c;

	fire(s->progs.tp_container_open, 5, U(cid), U(tgid), U(0), U(0), U(0));
	fire(s->progs.tp_group_attach, 5, U(cid), U(tgid), U(11), U(1), U(0));
	account(s, cid, tgid, 1, 1, 0);
	pin_call(s, cid, tgid, 0x10000, 4, first); /* 4 pages at ref 1 */
	account(s, cid, tgid, 3, 4, 0);
	pin_call(s, cid, tgid, 0x10000, 2, second); /* 2 of them to ref 2 */
	pin_call(s, cid, tgid, 0x10000, 1, third);  /* 1 of those to ref 3 */

	c = get(s, cid);
	assert_int_equal(c.cid, cid);
	assert_int_equal(c.tgid, tgid);
	assert_true(c.flags & VP_F_SEEN_OPEN);
	assert_false(c.flags & VP_F_RELEASED);
	assert_int_equal(c.groups_emulated, 1);
	assert_int_equal(c.groups_iommu, 0);
	assert_int_equal(c.pin_calls, 3);
	assert_int_equal(c.pin_pages_req, 7);
	assert_int_equal(c.pages_pinned, 4);
	assert_int_equal(c.pin_refs, 7);
	assert_int_equal(c.pin_new, 4);
	assert_int_equal(c.pin_bumps, 3);
	/* live: two pages at 1, one at 2, one at 3 */
	assert_int_equal(c.ref_live.slots[1], 2);
	assert_int_equal(c.ref_live.slots[2], 1);
	assert_int_equal(c.ref_live.slots[3], 1);
	assert_int_equal(slots_sum(c.ref_live.slots, VP_REF_SLOTS), 4);
	/* bumps: the ref_count after each page pin */
	assert_int_equal(c.ref_bump.slots[1], 4);
	assert_int_equal(c.ref_bump.slots[2], 2);
	assert_int_equal(c.ref_bump.slots[3], 1);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->count, 3);
	assert_int_equal(slots_sum(hist(s, cid, VP_LAT_PIN)->slots, VP_LAT_SLOTS), 3);
	/*
	 * the kernel's durations, 4000, 2000 and 1000 ns, in their log-linear
	 * slots: 1000 = 15 << 6 is slot 6 * 8 + 15, 2000 = 15 << 7 slot 71,
	 * 4000 = 15 << 8 slot 79 (bpf/vfiopin.h)
	 */
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->slots[63], 1);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->slots[71], 1);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->slots[79], 1);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->sum, 7000);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->lo, 63);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->hi, 79);
	/* 1 us a page in each */
	assert_int_equal(hist(s, cid, VP_LAT_PIN_PAGE)->count, 3);
	assert_int_equal(hist(s, cid, VP_LAT_PIN_PAGE)->slots[63], 3);
	assert_int_equal(c.locked_vm, 4);
	assert_int_equal(c.locked_peak, 4);
	assert_int_equal(c.limit, LIMIT_16M);
	assert_int_equal((int64_t)c.charged, 4);
	/* the owner is this process: its comm was taken */
	char comm[16] = {0}, want[16] = {0};

	memcpy(comm, c.comm, sizeof(comm));
	assert_int_equal(prctl_get_comm(want), 0);
	assert_string_equal(comm, want);

	/* drop the ref-2 pair by one: pages go 3->2 and 2->1 */
	unpin_call(s, cid, tgid, 0x10000, 2, un_second);
	c = get(s, cid);
	assert_int_equal(c.unpin_calls, 1);
	assert_int_equal(c.pin_refs, 5);
	assert_int_equal(c.pages_pinned, 4);
	assert_int_equal(c.unpin_drops, 2);
	assert_int_equal(c.ref_live.slots[1], 3);
	assert_int_equal(c.ref_live.slots[2], 1);
	assert_int_equal(c.ref_live.slots[3], 0);
	assert_int_equal(hist(s, cid, VP_LAT_UNPIN)->count, 1);

	/* one page over the limit */
	fire(s->progs.tp_pin_begin, 6, U(cid), U(tgid), U(0x900000), U(1), U(3), U(0));
	account(s, cid, tgid, 1, 4, -E_NOMEM);
	fire(s->progs.tp_pin_end, 7, U(cid), U(tgid), U(0x900000), U(1), U(3), U(-E_NOMEM), U(700));
	c = get(s, cid);
	assert_int_equal(c.limit_hits, 1);
	assert_int_equal(c.pin_failures, 1);
	assert_int_equal(c.pin_enomem, 1);
	assert_int_equal(c.pin_calls, 4);
	assert_int_equal(c.locked_vm, 4);
	assert_int_equal((int64_t)c.charged, 4);
	assert_int_equal(c.account_failures, 0);
	/* the peak of its own charge, and what the refused charge asked for */
	assert_int_equal(c.charged_peak, 4);
	assert_int_equal(c.need_peak, 5);
	/* no IOMMU-backed group: an mdev-only container */
	assert_false(c.flags & VP_F_IOMMU);
	/* a failed call has no per-page latency */
	assert_int_equal(hist(s, cid, VP_LAT_PIN_PAGE)->count, 3);
	assert_int_equal(hist(s, cid, VP_LAT_PIN)->count, 4);
}

/* The passthrough path: map with pinning, replay, unmap, remove. */
static void test_passthrough_map_replay(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	const __u32 cid = 8, tgid = 4242;
	struct vp_container c;

	fire(s->progs.tp_container_open, 5, U(cid), U(tgid), U(0), U(0), U(0));
	/* 8 MiB mapped before any IOMMU group: not pinned */
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(0), U(8 << 20), U(0), U(0));
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(0), U(8 << 20), U(0), U(0));
	c = get(s, cid);
	assert_int_equal(c.mapped_pages, 2048);
	assert_int_equal(c.pt_pages, 0);
	assert_int_equal(hist(s, cid, VP_LAT_MAP)->count, 0);

	/* the passthrough group arrives: replay pins the 2048 pages */
	fire(s->progs.tp_replay_begin, 5, U(cid), U(tgid), U(1), U(2048), U(2048));
	account(s, cid, tgid, 2048, 2048, 0);
	fire(s->progs.tp_replay_end, 3, U(cid), U(tgid), U(0));
	fire(s->progs.tp_group_attach, 5, U(cid), U(tgid), U(3), U(0), U(0));
	/* another 4 MiB now pins at MAP_DMA */
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(8 << 20), U(4 << 20), U(1), U(0));
	account(s, cid, tgid, 1024, 3072, 0);
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(8 << 20), U(4 << 20), U(1), U(0));
	/* a map that fails */
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(12 << 20), U(8 << 20), U(1), U(0));
	account(s, cid, tgid, 1, 3072, -E_NOMEM);
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(12 << 20), U(8 << 20), U(1),
	     U(-E_NOMEM));
	c = get(s, cid);
	assert_int_equal(c.replays, 1);
	assert_int_equal(c.replay_pages, 2048);
	assert_int_equal(hist(s, cid, VP_LAT_REPLAY)->count, 1);
	assert_int_equal(c.groups_iommu, 1);
	assert_int_equal(c.mapped_pages, 3072);
	assert_int_equal(c.pt_pages, 3072);
	assert_int_equal(c.dma_maps, 2);
	assert_int_equal(c.dma_map_failures, 1);
	assert_int_equal(hist(s, cid, VP_LAT_MAP)->count, 1);
	assert_int_equal(c.limit_hits, 1);
	assert_int_equal(c.locked_vm, 3072);
	assert_int_equal(c.locked_peak, 3072);

	/* unmap the first mapping */
	fire(s->progs.tp_dma_remove, 5, U(cid), U(tgid), U(0), U(8 << 20), U(0));
	fire(s->progs.tp_dma_unmap, 6, U(cid), U(tgid), U(0), U(8 << 20), U(2048), U(1));
	account(s, cid, tgid, -2048, 1024, 0);
	/* the group leaves with an mdev still there: reaccount */
	fire(s->progs.tp_dma_unmap, 6, U(cid), U(tgid), U(8 << 20), U(4 << 20), U(1024), U(0));
	fire(s->progs.tp_reaccount, 6, U(cid), U(tgid), U(8 << 20), U(4 << 20), U(1024), U(0));
	account(s, cid, tgid, -1024, 0, 0);
	fire(s->progs.tp_group_detach, 5, U(cid), U(tgid), U(3), U(0), U(0));
	c = get(s, cid);
	assert_int_equal(c.mapped_pages, 1024);
	assert_int_equal(c.pt_pages, 0);
	assert_int_equal(c.dma_unmaps, 2);
	assert_int_equal(c.reaccounts, 1);
	assert_int_equal(c.groups_iommu, 0);
	assert_int_equal(c.group_attaches, 1);
	assert_int_equal(c.group_detaches, 1);

	/* a domain with no mappings to replay (a first group's) is no replay */
	fire(s->progs.tp_replay_begin, 5, U(cid), U(tgid), U(0), U(0), U(0));
	fire(s->progs.tp_replay_end, 3, U(cid), U(tgid), U(0));
	c = get(s, cid);
	assert_int_equal(c.replays, 1);
	assert_int_equal(hist(s, cid, VP_LAT_REPLAY)->count, 1);
	assert_int_equal(c.locked_vm, 0);
	assert_int_equal(c.locked_peak, 3072);
	assert_int_equal((int64_t)c.charged, 0);
	/*
	 * its own charge peaked at 3072; the refused charge asked for one
	 * page more, but the refused map needs its 2048 pages on top
	 */
	assert_int_equal(c.charged_peak, 3072);
	assert_int_equal(c.need_peak, 3072 + 2048);
	assert_int_equal(c.refused, 2048);
	/* it had a passthrough group, and keeps saying so after it left */
	assert_true(c.flags & VP_F_IOMMU);
}

/*
 * A start refused on the limit, as QEMU makes it: the low 640 KiB mapped,
 * then pc.ram's 111 MiB charged a batch at a time up to the limit,
 * refused and undone, then the BIOS's 128 KiB mapped after it (QEMU maps
 * every region and fails the device at the end).  It needs all it held
 * and the whole refused mapping: 160 + 32 + 28416 pages, not the refused
 * map's 160 + 28416 nor anything of the undone part.
 */
static void test_refused_start(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	const __u32 cid = 31, tgid = 4343;
	struct vp_container c;

	fire(s->progs.tp_container_open, 5, U(cid), U(tgid), U(0), U(0), U(0));
	fire(s->progs.tp_group_attach, 5, U(cid), U(tgid), U(5), U(0), U(0));
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(0), U(640 << 10), U(1), U(0));
	account(s, cid, tgid, 160, 160, 0);
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(0), U(640 << 10), U(1), U(0));
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(1 << 20), U(111 << 20), U(1), U(0));
	account(s, cid, tgid, 9000, 9160, 0);
	account(s, cid, tgid, 512, 9160, -E_NOMEM);
	account(s, cid, tgid, -9000, 160, 0);
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(1 << 20), U(111 << 20), U(1),
	     U(-E_NOMEM));
	fire(s->progs.tp_dma_map_begin, 6, U(cid), U(tgid), U(0xfffe0000), U(128 << 10), U(1),
	     U(0));
	account(s, cid, tgid, 32, 192, 0);
	fire(s->progs.tp_dma_map_end, 6, U(cid), U(tgid), U(0xfffe0000), U(128 << 10), U(1), U(0));
	c = get(s, cid);
	assert_int_equal(c.limit_hits, 1);
	assert_int_equal(c.refused, 28416);
	assert_int_equal(c.locked_peak, 9160);
	assert_int_equal(c.need_peak, 192 + 28416);
}

/*
 * A container's open takes its owner's command line, when the owner is the
 * process it fires in (here: this test, under BPF_PROG_TEST_RUN), with the
 * process's start; another tgid's open takes nothing.  The oracle is
 * /proc/self/cmdline and /proc/self/stat's start time.
 */
static void test_owner_args(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	__u32 me = (__u32)getpid(), other = me + 1;
	char want[VP_ARGS_LEN], stat[1024], *p;
	struct vp_args a;
	size_t n;
	FILE *f;

	fire(s->progs.tp_container_open, 5, U(21), U(me), U(0), U(0), U(0));
	fire(s->progs.tp_container_open, 5, U(22), U(other), U(0), U(0), U(0));
	f = fopen("/proc/self/cmdline", "r");
	assert_non_null(f);
	n = fread(want, 1, sizeof(want), f);
	fclose(f);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(s->maps.vm_args), &me, &a), 0);
	assert_int_equal(a.len, n);
	assert_memory_equal(a.args, want, n);
	/* start_time in ns against /proc's starttime in clock ticks since boot */
	f = fopen("/proc/self/stat", "r");
	assert_non_null(f);
	assert_non_null(fgets(stat, sizeof(stat), f));
	fclose(f);
	p = strrchr(stat, ')');
	assert_non_null(p);
	for (int field = 2; *p && field < 22; p++)
		field += *p == ' ';
	{
		double ticks = strtod(p, NULL), hz = (double)sysconf(_SC_CLK_TCK), diff;
		struct timespec bt, mt;

		/* starttime is CLOCK_BOOTTIME, start_time CLOCK_MONOTONIC */
		clock_gettime(CLOCK_BOOTTIME, &bt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		diff = (double)a.start_ns / 1e9 -
		       (ticks / hz - ((double)(bt.tv_sec - mt.tv_sec) +
				      (double)(bt.tv_nsec - mt.tv_nsec) / 1e9));
		/* the same moment, to the tick /proc rounds it to */
		assert_true(diff > -2.0 / hz && diff < 2.0 / hz);
	}
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(s->maps.vm_args), &other, &a), 0);
}

/* Invalidation: range, pages dropped, devices, retries, latency. */
static void test_invalidation(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	const __u32 cid = 9, tgid = 5;
	struct vp_container c;

	fire(s->progs.tp_invalidate_begin, 7, U(cid), U(tgid), U(0x800000), U(0x800000), U(16),
	     U(2), U(0));
	fire(s->progs.tp_invalidate_end, 7, U(cid), U(tgid), U(0x800000), U(0x800000), U(4), U(2),
	     U(0));
	fire(s->progs.tp_invalidate_begin, 7, U(cid), U(tgid), U(0x800000), U(0x800000), U(4), U(2),
	     U(1));
	fire(s->progs.tp_invalidate_end, 7, U(cid), U(tgid), U(0x800000), U(0x800000), U(0), U(2),
	     U(1));
	c = get(s, cid);
	assert_int_equal(c.invalidations, 2);
	assert_int_equal(c.inv_pages, 16);
	assert_int_equal(c.inv_retries, 1);
	assert_int_equal(c.inv_devices, 4);
	assert_int_equal(hist(s, cid, VP_LAT_INV)->count, 2);
	/* seen without its open: the tgid still comes from the events */
	assert_int_equal(c.tgid, tgid);
	assert_false(c.flags & VP_F_SEEN_OPEN);
}

/* Teardown with pins left; a retired container does not come back. */
static void test_release_leak_and_retire(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	const __u32 cid = 10, tgid = 77;
	static const unsigned int refs[3] = {1, 1, 1};
	struct vp_container c;
	__u8 one = 1;
	__u32 idx;

	fire(s->progs.tp_container_open, 5, U(cid), U(tgid), U(0), U(0), U(0));
	pin_call(s, cid, tgid, 0, 3, refs);
	account(s, cid, tgid, 3, 3, 0);
	fire(s->progs.tp_container_release, 5, U(cid), U(tgid), U(1), U(3), U(3));
	/* the owner was killed: its mm is gone when the charge is dropped */
	fire(s->progs.tp_account, 8, U(cid), U(tgid), U(-3), U(0), LIMIT_16M, U(0), U(1), U(-3));
	fire(s->progs.tp_dma_remove, 5, U(cid), U(tgid), U(0), U(1 << 20), U(3));
	c = get(s, cid);
	assert_true(c.flags & VP_F_RELEASED);
	/* counted once, when the mapping went, not again at release */
	assert_int_equal(c.leaked, 3);
	assert_true(c.released_ns >= c.first_ns);
	assert_int_equal(c.locked_vm, 0);
	assert_int_equal(c.locked_peak, 3);
	/* the dead owner's uncharge is netted, and is no failure */
	assert_int_equal((int64_t)c.charged, 0);
	assert_int_equal(c.account_failures, 0);
	/* a charge refused for another reason is one */
	fire(s->progs.tp_account, 8, U(cid), U(tgid), U(2), U(0), LIMIT_16M, U(0), U(0), U(-3));
	c = get(s, cid);
	assert_int_equal(c.account_failures, 1);
	assert_int_equal((int64_t)c.charged, 0);
	assert_int_equal(c.limit, LIMIT_16M);

	/* what userspace does once it has reported the release */
	assert_int_equal(
	    bpf_map__update_elem(s->maps.retired, &cid, sizeof(cid), &one, sizeof(one), 0), 0);
	memset(&slot_buf, 0, sizeof(slot_buf));
	idx = cid & s->rodata->slot_mask;
	assert_int_equal(bpf_map__update_elem(s->maps.containers, &idx, sizeof(idx), &slot_buf,
					      sizeof(slot_buf), 0),
			 0);
	__u64 late0 = glob(s).late_events;

	account(s, cid, tgid, -3, 0, 0);
	assert_false(exists(s, cid));
	assert_int_equal(glob(s).late_events, late0 + 1);
}

/*
 * A call whose duration the kernel did not measure (the event enabled
 * mid-call) is counted, not timed; an end whose begin was not seen (a
 * MAP_DMA under way at attach) likewise, and counted as unmatched.
 */
static void test_unmatched_end(void **state)
{
	struct vfiopin_bpf *s = ((struct fixture *)*state)->skel;
	__u64 before = glob(s).unmatched_end;
	struct vp_container c;

	fire(s->progs.tp_pin_end, 7, U(11), U(5), U(0), U(1), U(3), U(1), U(0));
	c = get(s, 11);
	assert_int_equal(c.pin_calls, 1);
	assert_int_equal(hist(s, 11, VP_LAT_PIN)->count, 0);
	fire(s->progs.tp_dma_map_end, 6, U(11), U(5), U(0), U(4096), U(1), U(0));
	c = get(s, 11);
	assert_int_equal(c.dma_maps, 1);
	assert_int_equal(hist(s, 11, VP_LAT_MAP)->count, 0);
	assert_int_equal(glob(s).unmatched_end, before + 1);
	/* unpins of pages pinned before we attached never go below zero */
	fire(s->progs.tp_unpin_page, 5, U(11), U(5), U(0), U(0), U(1));
	c = get(s, 11);
	assert_int_equal(c.pages_pinned, 0);
	assert_int_equal(c.pin_refs, 0);
	assert_int_equal(c.unpin_released, 1);
}

/* A full containers map drops new containers and counts every drop. */
static void test_map_full_counted(void **state)
{
	struct vfiopin_bpf *s = load(2, 2, 0, false, 0);

	(void)state;
	for (__u32 cid = 1; cid <= 6; cid++)
		fire(s->progs.tp_container_open, 5, U(cid), U(100 + cid), U(0), U(0), U(0));
	assert_true(exists(s, 4));
	assert_false(exists(s, 5));
	assert_int_equal(glob(s).drop_map_full, 2);
	assert_int_equal(glob(s).events[VP_EV_CONTAINER_OPEN], 6);
	vfiopin_bpf__destroy(s);
}

static int count_event(void *ctx, void *data, size_t len)
{
	const struct vp_event *e = data;
	int *n = ctx;

	assert_int_equal(len, sizeof(*e));
	assert_int_equal(e->cid, 3);
	n[0]++;
	if (e->type == VP_EV_ACCOUNT) {
		assert_int_equal((int64_t)e->args[0], -5);
		assert_int_equal((int)e->args[5], -E_NOMEM);
	}
	return 0;
}

/* The event stream: filtered by container, a full ring counted as drops. */
static void test_ringbuf_filter_and_drops(void **state)
{
	struct vfiopin_bpf *s = load(0, 0, 4096, true, 3);
	struct ring_buffer *rb;
	int n = 0, fired = 0;

	(void)state;
	rb = ring_buffer__new(bpf_map__fd(s->maps.events), count_event, &n, NULL);
	assert_non_null(rb);
	/* other containers are filtered out */
	fire(s->progs.tp_container_open, 5, U(2), U(5), U(0), U(0), U(0));
	/* 4096 bytes hold fewer than 100 events */
	for (int i = 0; i < 100; i++, fired++)
		account(s, 3, 5, -5, 0, -E_NOMEM);
	__u64 drops = glob(s).drop_ringbuf;

	assert_true(drops > 0);
	int got = ring_buffer__consume(rb);

	assert_int_equal(got, n);
	assert_int_equal((__u64)n + drops, (__u64)fired);
	ring_buffer__free(rb);
	vfiopin_bpf__destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mdev_pins_and_refcounts),
	    cmocka_unit_test(test_passthrough_map_replay),
	    cmocka_unit_test(test_refused_start),
	    cmocka_unit_test(test_owner_args),
	    cmocka_unit_test(test_invalidation),
	    cmocka_unit_test(test_release_leak_and_retire),
	    cmocka_unit_test(test_unmatched_end),
	    cmocka_unit_test(test_map_full_counted),
	    cmocka_unit_test(test_ringbuf_filter_and_drops),
	};

	libbpf_set_print(silent);
	return cmocka_run_group_tests_name("bpf aggregation (BPF_PROG_TEST_RUN)", tests, setup,
					   teardown);
}
