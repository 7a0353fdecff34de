// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the core (tools/core/): latency slots and histogram quantiles, derived
 * figures, sorting and totals, row selection, argument helpers, the table
 * of figures.
 */
#include "unit.h"

void test_slot_bounds(void **state)
{
	(void)state;
	/* one slot per value below 16 */
	for (int v = 0; v < 16; v++) {
		assert_int_equal(vp_lat_slot(v), v);
		assert_int_equal(vp_lat_low(v), v);
		assert_int_equal(vp_lat_high(v), v);
	}
	/* then 8 per power of two: [16, 17], ..., [1024, 1151] */
	assert_int_equal(vp_lat_low(16), 16);
	assert_int_equal(vp_lat_high(16), 17);
	assert_int_equal(vp_lat_slot(1024), vp_lat_slot(1151));
	assert_int_equal(vp_lat_slot(1152), vp_lat_slot(1151) + 1);
	assert_int_equal(vp_lat_low(vp_lat_slot(1100)), 1024);
	assert_int_equal(vp_lat_high(vp_lat_slot(1100)), 1151);
	/* every slot: contiguous, at most 1/8 of its low wide, and where the value goes */
	for (int i = 1; i < VP_LAT_SLOTS - 1; i++) {
		__u64 lo = vp_lat_low(i), hi = vp_lat_high(i);

		assert_true(lo == vp_lat_high(i - 1) + 1);
		assert_true(hi >= lo);
		assert_true(lo < 16 || (hi - lo + 1) * 8 <= lo);
		assert_int_equal(vp_lat_slot(lo), i);
		assert_int_equal(vp_lat_slot(hi), i);
	}
	/* from 2^40 ns on: the last slot */
	assert_int_equal(vp_lat_slot(1ULL << VP_LAT_MAX_LOG2), VP_LAT_SLOTS - 1);
	assert_int_equal(vp_lat_slot(UINT64_MAX), VP_LAT_SLOTS - 1);
	assert_true(vp_lat_high(VP_LAT_SLOTS - 1) == UINT64_MAX);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Quantiles from the log-linear histogram against the exact nearest-rank
 * quantiles of the samples, for several shapes: within 10 % (the bound is
 * 1/16).
 */
void test_hist_quantiles(void **state)
{
	static struct vp_hist h;
	static __u64 v[20000];
	const double ps[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};
	double worst = 0;
	unsigned int seed = 12345;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_true(vp_hist_quantile(&h, 0.5) < 0);
	for (int shape = 0; shape < 5; shape++) {
		size_t n = sizeof(v) / sizeof(v[0]);

		memset(&h, 0, sizeof(h));
		for (size_t i = 0; i < n; i++) {
			double u = (rand_r(&seed) + 1.0) / ((double)RAND_MAX + 2.0);

			switch (shape) {
			case 0: /* uniform 1 us .. 2 ms */
				v[i] = 1000 + (__u64)(u * 2e6);
				break;
			case 1: /* log-uniform 100 ns .. 10 s */
				v[i] = (__u64)exp(log(100) + u * (log(1e10) - log(100)));
				break;
			case 2: /* bimodal: 95 % near 3 us, 5 % near 40 ms */
				v[i] =
				    i % 20 ? 2900 + (__u64)(u * 200) : 40000000 + (__u64)(u * 1e6);
				break;
			case 3: /* exponential, mean 50 us */
				v[i] = (__u64)(-log(u) * 50000) + 1;
				break;
			default: /* small values, exact slots */
				v[i] = (__u64)(u * 15);
				break;
			}
			hist_put(&h, v[i]);
		}
		qsort(v, n, sizeof(v[0]), cmp_u64);
		for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			size_t rank = (size_t)ceil(ps[k] * (double)n);
			double exact = (double)v[(rank ? rank : 1) - 1];
			double got = vp_hist_quantile(&h, ps[k]);
			double err = exact ? fabs(got - exact) / exact : fabs(got);

			if (err > worst)
				worst = err;
			if (err > 0.0625 + 1e-9)
				fail_msg("shape %d p%g: %g from the histogram, %g exact (%.1f %%)",
					 shape, ps[k] * 100, got, exact, err * 100);
		}
	}
	/* the small values have a slot each: exact */
	assert_float_equal(vp_hist_quantile(&h, 0.5), (double)v[sizeof(v) / sizeof(v[0]) / 2 - 1],
			   1e-9);
	assert_true(worst > 0.001); /* the shapes do test the bound */
	assert_true(vp_hist_quantile(&h, 0) < 0);
	assert_true(vp_hist_quantile(&h, 1.5) < 0);
}

/* A histogram whose range was raced (or is being counted) is read whole. */
void test_hist_range_race(void **state)
{
	static struct vp_hist a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	hist_put(&a, 100);
	hist_put(&a, 5000);
	/* two CPUs set the range at once, the later one with the larger slot */
	a.lo = a.hi = (__u32)vp_lat_slot(5000);
	assert_int_equal(vp_hist_total(&a), 2);
	assert_float_equal(vp_hist_quantile(&a, 0.5), 100, 100 / 16.0);
	vp_hist_add(&b, &a);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.slots[vp_lat_slot(100)], 1);
	assert_int_equal(b.lo, (__u32)vp_lat_slot(100));
	assert_int_equal(b.hi, (__u32)vp_lat_slot(5000));
}

void test_lin_quantiles(void **state)
{
	__u64 s[VP_REF_SLOTS] = {0};

	(void)state;
	s[1] = 1008;
	s[2] = 16;
	assert_float_equal(vp_lin_quantile(s, VP_REF_SLOTS, 0.5), 1, 1e-9);
	assert_float_equal(vp_lin_quantile(s, VP_REF_SLOTS, 0.99), 2, 1e-9);
	assert_int_equal(vp_slots_total(s, VP_REF_SLOTS), 1024);
}

void test_row_derive(void **state)
{
	struct vp_container c = mk(1, 1024, 16 << 20), prev;
	struct vp_row r;

	(void)state;
	c.pin_calls = 50;
	prev = c;
	prev.pin_calls = 20;
	vp_row_derive(&r, &c, &prev, 2.0);
	assert_string_equal(r.comm, "qemu-vm");
	assert_int_equal(r.locked_bytes, 4 << 20);
	assert_int_equal(r.limit_bytes, 16 << 20);
	assert_int_equal(r.headroom_bytes, 12 << 20);
	assert_float_equal(r.headroom_ratio, 0.75, 1e-12);
	assert_float_equal(r.pins_per_s, 15.0, 1e-12);
	assert_false(r.unlimited);
	assert_true(r.pin_p50_ns < 0);

	/* unlimited, and CAP_IPC_LOCK: no headroom to speak of */
	c = mk(2, 10, VP_LIMIT_UNLIMITED);
	vp_row_derive(&r, &c, NULL, 0);
	assert_true(r.unlimited);
	assert_true(isnan(r.headroom_ratio));
	c = mk(3, 10, 1 << 20);
	c.flags |= VP_F_LOCK_CAP;
	vp_row_derive(&r, &c, NULL, 0);
	assert_true(r.unlimited);
	/* over the limit (CAP_IPC_LOCK lost after charging): negative */
	c = mk(4, 512, 1 << 20);
	vp_row_derive(&r, &c, NULL, 0);
	assert_int_equal(r.headroom_bytes, -(1 << 20));
	assert_float_equal(r.headroom_ratio, -1.0, 1e-12);
	/* limit not seen yet */
	c = mk(5, 0, 0);
	c.flags = 0;
	vp_row_derive(&r, &c, NULL, 0);
	assert_int_equal(r.limit_bytes, 0);
	assert_true(isnan(r.headroom_ratio));
	/* a counter that went backwards (a new container reusing a slot) */
	c = mk(6, 0, 0);
	prev = c;
	prev.pin_calls = 10;
	vp_row_derive(&r, &c, &prev, 1);
	assert_float_equal(r.pins_per_s, 0, 1e-12);
}

void test_sort_and_total(void **state)
{
	static struct vp_lat lat;
	struct vp_row rows[3];
	struct vp_snapshot s = {.n = 3, .rows = rows, .lat_rows = &lat};
	struct vp_container c;
	struct vp_row t;

	(void)state;
	c = mk(1, 3072, 16 << 20); /* 25 % headroom */
	c.pages_pinned = 10;
	c.ref_live.slots[1] = 10;
	c.limit_hits = 1;
	vp_row_derive(&rows[0], &c, NULL, 0);
	c = mk(2, 512, 4 << 20); /* 50 % */
	c.pages_pinned = 5;
	c.ref_live.slots[2] = 5;
	c.leaked = 7;
	vp_row_derive(&rows[1], &c, NULL, 0);
	c = mk(3, 0, VP_LIMIT_UNLIMITED);
	vp_row_derive(&rows[2], &c, NULL, 0);

	assert_int_equal(vp_sort_parse("headroom"), VP_SORT_HEADROOM);
	assert_int_equal(vp_sort_parse("nonsense"), -1);
	assert_int_equal(vp_snapshot_sort(&s, VP_SORT_HEADROOM), 0);
	assert_int_equal(rows[0].c.cid, 1);
	assert_int_equal(rows[1].c.cid, 2);
	assert_int_equal(rows[2].c.cid, 3);
	assert_int_equal(vp_snapshot_sort(&s, VP_SORT_LEAKS), 0);
	assert_int_equal(rows[0].c.cid, 2);
	assert_int_equal(vp_snapshot_sort(&s, VP_SORT_CID), 0);
	assert_int_equal(rows[2].c.cid, 3);

	vp_total(&s, &t);
	/* the containers' own charges add up; the owners' locked_vm does not */
	assert_int_equal(t.c.charged, 3584);
	assert_int_equal(t.c.locked_vm, 0);
	assert_int_equal(t.c.pages_pinned, 15);
	assert_int_equal(t.c.limit_hits, 1);
	assert_int_equal(t.c.leaked, 7);
	/* the total's latencies: the snapshot's rows added up */
	assert_true(t.pin_p50_ns < 0);
	memset(&lat, 0, sizeof(lat));
	for (int i = 0; i < 3; i++)
		hist_put(&lat.h[VP_LAT_PIN], 3);
	vp_total(&s, &t);
	assert_ptr_equal(t.lat, &lat);
	assert_float_equal(t.pin_p50_ns, 3, 1e-9);
	assert_true(t.unpin_p50_ns < 0);
	assert_int_equal(t.c.ref_live.slots[1], 10);
	assert_int_equal(t.c.ref_live.slots[2], 5);
	assert_string_equal(t.comm, "total");
}

void test_arg_helpers(void **state)
{
	uint32_t u;
	double d;

	(void)state;
	assert_true(vp_parse_u32("17", &u));
	assert_int_equal(u, 17);
	assert_true(vp_parse_u32("0x10", &u));
	assert_int_equal(u, 16);
	/* a leading zero is decimal, never octal (010 was 8, 08 refused) */
	assert_true(vp_parse_u32("010", &u));
	assert_int_equal(u, 10);
	assert_true(vp_parse_u32("08", &u));
	assert_int_equal(u, 8);
	assert_true(vp_parse_u32("0X1f", &u));
	assert_int_equal(u, 31);
	assert_false(vp_parse_u32("0x", &u));
	assert_false(vp_parse_u32("0x-1", &u));
	assert_true(vp_parse_u32("4294967295", &u));
	assert_false(vp_parse_u32("4294967296", &u));
	assert_false(vp_parse_u32("-1", &u));
	assert_false(vp_parse_u32("", &u));
	assert_false(vp_parse_u32("12abc", &u));
	assert_false(vp_parse_u32(NULL, &u));
	assert_true(vp_parse_seconds("0.5", &d));
	assert_float_equal(d, 0.5, 1e-12);
	assert_false(vp_parse_seconds("0", &d));
	assert_false(vp_parse_seconds("-3", &d));
	assert_false(vp_parse_seconds("nan", &d));
	assert_false(vp_parse_seconds("inf", &d));
	assert_false(vp_parse_seconds("1e12", &d));
	assert_false(vp_parse_seconds("2s", &d));
}

/*
 * The field table against the struct's layout: every __u64 counter of
 * struct vp_container from locked_vm to leaked has exactly one row (but
 * limit, a derived figure), and names are unique in each output.
 */
void test_field_table(void **state)
{
	size_t first = offsetof(struct vp_container, locked_vm);
	size_t last = offsetof(struct vp_container, leaked);

	(void)state;
	for (size_t off = first; off <= last; off += sizeof(__u64)) {
		int rows = 0;

		for (int i = 0; i < VP_FLD_MAX; i++)
			rows += vp_fields[i].off == off;
		if (off == offsetof(struct vp_container, limit))
			assert_int_equal(rows, 0);
		else
			assert_int_equal(rows, 1);
	}
	for (int i = 0; i < VP_FLD_MAX; i++) {
		assert_true(vp_fields[i].off >= first && vp_fields[i].off <= last);
		assert_non_null(vp_fields[i].help);
		for (int j = 0; j < i; j++) {
			assert_false(vp_fields[i].group == vp_fields[j].group &&
				     !strcmp(vp_fields[i].json, vp_fields[j].json));
			assert_false(vp_fields[i].prom && vp_fields[j].prom &&
				     !strcmp(vp_fields[i].prom, vp_fields[j].prom));
		}
	}
}
