// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of vfiopin's userspace pieces: histogram maths and quantiles,
 * derived figures, sorting, totals, JSON and text output, argument
 * helpers.  Expected values are worked out by hand.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "benchfile.h"
#include "cli.h"
#include "fields.h"
#include "timeline.h"
#include "hist.h"
#include "output.h"
#include "export.h"
#include "prom.h"
#include "stats.h"
#include "snapshot.h"
#include "vm.h"
#include "vmname.h"

static void test_slot_bounds(void **state)
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

/* What the BPF side does with one value. */
static void hist_put(struct vp_hist *h, __u64 v)
{
	int s = vp_lat_slot(v);

	if (!h->count || (__u32)s < h->lo)
		h->lo = s;
	if ((__u32)s > h->hi)
		h->hi = s;
	h->slots[s]++;
	h->count++;
	h->sum += v;
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
static void test_hist_quantiles(void **state)
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
static void test_hist_range_race(void **state)
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

static void test_lin_quantiles(void **state)
{
	__u64 s[VP_REF_SLOTS] = {0};

	(void)state;
	s[1] = 1008;
	s[2] = 16;
	assert_float_equal(vp_lin_quantile(s, VP_REF_SLOTS, 0.5), 1, 1e-9);
	assert_float_equal(vp_lin_quantile(s, VP_REF_SLOTS, 0.99), 2, 1e-9);
	assert_int_equal(vp_slots_total(s, VP_REF_SLOTS), 1024);
}

static void test_hist_print(void **state)
{
	static struct vp_hist h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 90; i++)
		hist_put(&h, 1030);
	for (int i = 0; i < 10; i++)
		hist_put(&h, 4100);
	vp_hist_print(f, &h, "nsecs", 1, 20);
	fclose(f);
	/* the used slots, and the empty ones between them as one row */
	assert_non_null(strstr(buf, "1024 -> 1151"));
	assert_non_null(strstr(buf, "1152 -> 4095       : 0"));
	assert_non_null(strstr(buf, "4096 -> 4607"));
	assert_null(strstr(buf, "896 -> "));
	assert_non_null(strstr(buf, "|********************|"));
	free(buf);
}

static struct vp_container mk(__u32 cid, __u64 locked, __u64 limit)
{
	struct vp_container c;

	memset(&c, 0, sizeof(c));
	c.cid = cid;
	c.tgid = 1000 + cid;
	memcpy(c.comm, "qemu-vm", 8);
	c.locked_vm = locked;
	c.charged = locked; /* alone in its process: its own charge is the process's */
	c.limit = limit;
	c.flags = VP_F_SEEN_OPEN | VP_F_LIMIT_KNOWN;
	return c;
}

static void test_row_derive(void **state)
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

static void test_sort_and_total(void **state)
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
	assert_ptr_equal(vp_find(&s, 2), &rows[1]);
	assert_null(vp_find(&s, 9));

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

static json_t *roundtrip(json_t *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t err;
	json_t *back;

	assert_int_equal(vp_json_print(f, j), 0);
	fclose(f);
	/* one line */
	assert_non_null(strchr(buf, '\n'));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	back = json_loads(buf, 0, &err);
	assert_non_null(back);
	free(buf);
	json_decref(j);
	return back;
}

static void test_json_snapshot(void **state)
{
	static struct vp_lat lat;
	struct vp_row rows[2];
	struct vp_snapshot s = {.n = 2, .rows = rows, .ts_ns = 5, .interval_s = 1};
	struct vp_container c;
	json_t *j, *r0, *r1;

	(void)state;
	c = mk(7, 4096, 16 << 20);
	c.pages_pinned = 1024;
	c.pin_refs = 1040;
	c.ref_live.slots[1] = 1008;
	c.ref_live.slots[2] = 16;
	c.ref_live.slots[VP_REF_SLOTS - 1] = 1;
	c.charged = (__u64)-5;
	c.limit_hits = 2;
	vp_row_derive(&rows[0], &c, NULL, 0);
	memset(&lat, 0, sizeof(lat));
	hist_put(&lat.h[VP_LAT_MAP], 3000000);
	rows[0].lat = &lat;
	c = mk(8, 0, VP_LIMIT_UNLIMITED);
	c.flags |= VP_F_RELEASED;
	memcpy(c.comm, "a\"b\\c\n", 7);
	vp_row_derive(&rows[1], &c, NULL, 0);
	s.g.drop_ringbuf = 3;
	s.g.events[VP_EV_PIN_BEGIN] = 11;
	assert_int_equal(vp_snapshot_derive(&s), 0);

	s.g.late_events = 4;
	/* the host-wide counters, one table for the text header, JSON and Prometheus */
	{
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		static struct vp_lat all;
		struct vp_prom_info pi = {
		    .version = "t", .mode = "tracepoint", .scrape_prev_s = -1};

		vp_print_table(f, &s, 0);
		fclose(f);
		assert_non_null(strstr(buf,
				       "events 11, drops: map full 0, ring buffer 3, in-flight 0; "
				       "unmatched ends 0, late events 4\n"));
		free(buf);
		s.lat_all = &all;
		f = open_memstream(&buf, &len);
		assert_int_equal(vp_prom_write(f, &s, &pi), 0);
		fclose(f);
		assert_non_null(strstr(buf, "\nvfiopin_drops_total{reason=\"ringbuf\"} 3\n"));
		assert_non_null(strstr(buf, "\nvfiopin_late_events_total 4\n"));
		assert_non_null(strstr(buf, "\nvfiopin_unmatched_ends_total 0\n"));
		free(buf);
		s.lat_all = NULL;
	}
	j = roundtrip(vp_json_snapshot(&s, true));
	assert_int_equal(json_integer_value(json_object_get(j, "late_events")), 4);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "vfiopin.stat");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "drops"), "ringbuf")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "events"), "pin_begin")), 11);
	r0 = json_array_get(json_object_get(j, "containers"), 0);
	r1 = json_array_get(json_object_get(j, "containers"), 1);
	assert_int_equal(json_integer_value(json_object_get(r0, "cid")), 7);
	assert_int_equal(json_integer_value(json_object_get(r0, "locked_bytes")), 16 << 20);
	assert_int_equal(json_integer_value(json_object_get(r0, "headroom_bytes")), 0);
	assert_int_equal(json_integer_value(json_object_get(r0, "charged_pages")), -5);
	assert_int_equal(json_integer_value(json_object_get(r0, "limit_hits")), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r0, "mdev"), "pin_refs")), 1040);
	json_t *live = json_object_get(json_object_get(r0, "refcount"), "live");

	assert_int_equal(json_integer_value(json_object_get(live, "1")), 1008);
	assert_int_equal(json_integer_value(json_object_get(live, "2")), 16);
	assert_int_equal(json_integer_value(json_object_get(live, "15+")), 1);
	assert_null(json_object_get(live, "3"));
	assert_non_null(json_object_get(r0, "histograms"));
	/* no samples: quantiles are null, not 0 */
	assert_true(json_is_null(
	    json_object_get(json_object_get(json_object_get(r0, "latency"), "pin"), "p99_ns")));
	/* one MAP_DMA of 3 ms: its slot's middle, within 1/16 */
	assert_float_equal(
	    json_real_value(json_object_get(
		json_object_get(json_object_get(r0, "latency"), "dma_map"), "p50_ns")),
	    3000000, 3000000 / 16.0);
	json_t *b = json_object_get(
	    json_object_get(json_object_get(r0, "histograms"), "dma_map_ns"), "buckets");
	assert_int_equal(json_array_size(b), 1);
	assert_true(json_integer_value(json_object_get(json_array_get(b, 0), "low")) <= 3000000);
	assert_true(json_integer_value(json_object_get(json_array_get(b, 0), "high")) >= 3000000);
	/* a row read without its histograms: null, not zeros */
	assert_true(json_is_null(json_object_get(json_object_get(r1, "latency"), "pin")));
	/* unlimited: no limit, no headroom */
	assert_true(json_is_null(json_object_get(r1, "limit_bytes")));
	assert_true(json_is_true(json_object_get(r1, "unlimited")));
	assert_true(json_is_true(json_object_get(r1, "released")));
	/* a comm with quotes, backslash and newline survives escaping */
	assert_string_equal(json_string_value(json_object_get(r1, "comm")), "a\"b\\c\n");
	json_decref(j);
	vp_vms_free(&s.vms);
}

static void test_events(void **state)
{
	struct vp_event e;
	char line[512];
	json_t *j;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.ts_ns = 2500000000ULL;
	e.type = VP_EV_ACCOUNT;
	e.cid = 3;
	e.tgid = 42;
	e.cur_tgid = 42;
	memcpy(e.comm, "vmm", 4);
	e.args[0] = (__u64)(int64_t)-512;
	e.args[1] = 4096;
	e.args[2] = VP_LIMIT_UNLIMITED;
	e.args[3] = 1;
	e.args[5] = (__u64)(int64_t)-12;
	vp_format_event(line, sizeof(line), &e, 500000000ULL);
	assert_non_null(strstr(line, "2.000000"));
	assert_non_null(strstr(line, " account "));
	assert_non_null(
	    strstr(line, "delta=-512 locked_vm=4096 limit=unlimited lock_cap=1 async=0 ret=-12"));

	j = roundtrip(vp_json_event(&e));
	assert_string_equal(json_string_value(json_object_get(j, "event")), "account");
	assert_int_equal(json_integer_value(json_object_get(j, "delta")), -512);
	assert_int_equal(json_integer_value(json_object_get(j, "ret")), -12);
	assert_true(json_is_null(json_object_get(j, "limit")));
	assert_true(json_is_true(json_object_get(j, "lock_cap")));
	json_decref(j);

	e.type = VP_EV_PIN_END;
	e.args[0] = 0x800000;
	e.args[1] = 16;
	e.args[2] = 3;
	e.args[3] = 16;
	e.dur_ns = 1500;
	vp_format_event(line, sizeof(line), &e, 0);
	assert_non_null(strstr(line, "iova=0x800000 npage=16 prot=3 ret=16 dur=1.5us"));
	/* an event type this build does not know is shown, not trusted */
	e.type = VP_EV_MAX + 3;
	vp_format_event(line, sizeof(line), &e, 0);
	assert_non_null(strstr(line, "unknown"));
	j = vp_json_event(&e);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "unknown");
	json_decref(j);
	/* a tiny buffer truncates, never overflows */
	e.type = VP_EV_PIN_END;
	assert_true(vp_format_event(line, 8, &e, 0) > 0);
	assert_int_equal(strlen(line), 7);
}

static void test_format_row(void **state)
{
	struct vp_container c = mk(12, 2048, 16 << 20);
	char line[256], h[256];
	struct vp_row r;

	(void)state;
	c.pages_pinned = 300;
	c.pt_pages = 4096;
	c.invalidations = 2;
	vp_row_derive(&r, &c, NULL, 0);
	vp_format_heading(h, sizeof(h));
	vp_format_row(line, sizeof(line), &r);
	assert_non_null(strstr(h, "HEAD%"));
	assert_non_null(strstr(line, "qemu-vm"));
	assert_non_null(strstr(line, "8.0M"));
	assert_non_null(strstr(line, "16M"));
	assert_non_null(strstr(line, "50.0"));
	assert_non_null(strstr(line, "4096"));
	/* columns line up with the heading */
	assert_int_equal(strlen(line), strlen(h));
	char b[16];

	assert_string_equal(vp_fmt_bytes(b, sizeof(b), 512), "512B");
	assert_string_equal(vp_fmt_bytes(b, sizeof(b), 1536), "1.5K");
	assert_string_equal(vp_fmt_bytes(b, sizeof(b), 64ULL << 30), "64G");
	assert_string_equal(vp_fmt_ns(b, sizeof(b), -1), "-");
	assert_string_equal(vp_fmt_ns(b, sizeof(b), 820), "820ns");
	assert_string_equal(vp_fmt_ns(b, sizeof(b), 2.5e6), "2.5ms");
}

/* true when @s holds no byte a terminal acts on other than the newlines allowed */
static bool inert(const char *s, bool newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && !(newlines && *p == '\n')) || *p == 0x7f)
			return false;
	return true;
}

/*
 * A client's comm and a VM's name are anybody's: a newline and an escape
 * sequence in them reach no text output raw, and cut no row short.
 */
static void test_hostile_strings(void **state)
{
	static const char evil[] = "\n\x1b[31mX\x1b]0;";
	struct vp_container c = mk(7, 2048, 16 << 20);
	struct vp_snapshot s = {.n = 1};
	char line[512], head[512], *buf = NULL;
	struct vp_event e;
	struct vp_row r;
	size_t len;
	json_t *j;
	FILE *f;

	(void)state;
	memset(c.comm, 0, sizeof(c.comm));
	memcpy(c.comm, evil, sizeof(evil) - 1);
	vp_row_derive(&r, &c, NULL, 0);
	snprintf(r.vm_name, sizeof(r.vm_name), "%s", "vm\r\x1b[2Jfake");
	s.rows = &r;
	vp_format_heading(head, sizeof(head));
	vp_format_row(line, sizeof(line), &r);
	assert_true(inert(line, false));
	assert_non_null(strstr(line, "\\x0a\\x1b[31mX"));
	assert_int_equal(strlen(line), strlen(head));
	assert_int_equal(vp_snapshot_derive(&s), 0);
	vp_format_vm_heading(head, sizeof(head));
	vp_format_vm_row(line, sizeof(line), &s.vms.vm[0]);
	assert_true(inert(line, false));
	assert_int_equal(strlen(line), strlen(head));

	memset(&e, 0, sizeof(e));
	e.type = VP_EV_PIN_END;
	memcpy(e.comm, evil, sizeof(evil) - 1);
	vp_format_event(line, sizeof(line), &e, 0);
	assert_true(inert(line, false));
	assert_non_null(strstr(line, "\\x0a\\x1b[31mX\\x1b]0;"));

	/* the table of stat and top -b, the histograms of hist */
	f = open_memstream(&buf, &len);
	vp_print_table(f, &s, 0);
	vp_print_hists(f, &r);
	fclose(f);
	assert_true(inert(buf, true));
	assert_null(strstr(buf, "\nX"));
	free(buf);

	/* escapes are cut whole: 9 bytes hold "ab\x0a" and no part of the next */
	assert_string_equal(vp_escape(line, 9, "ab\n\ncd", false), "ab\\x0a");
	assert_string_equal(vp_escape(line, 4, "a\xc3\xa9z", false), "a\xc3\xa9");
	assert_string_equal(vp_escape(line, 3, "a\xc3\xa9z", false), "a");
	assert_string_equal(vp_escape(line, 1, "abc", false), "");

	/* JSON: a comm that is not UTF-8 is escaped, never dropped */
	memcpy(r.comm, "q\xff\xfe", 4);
	j = vp_json_row(&r, false);
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "q\\xff\\xfe");
	json_decref(j);
	vp_vms_free(&s.vms);
}

/* top -c: the selection runs over the rows shown, never over hidden ones */
static void test_select_row(void **state)
{
	struct vp_row rows[5];
	struct vp_snapshot s = {.n = 5, .rows = rows};

	(void)state;
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 5; i++)
		rows[i].c.cid = (uint32_t)i + 1;
	/* -c 5: its row is selected (highlighted) from the start, Down stays */
	assert_int_equal(vp_select_row(&s, 5, 0, 0), 4);
	assert_int_equal(vp_select_row(&s, 5, 4, 1), 4);
	assert_int_equal(vp_select_row(&s, 5, 4, -1), 4);
	/* all rows: up and down by one, stopping at the ends */
	assert_int_equal(vp_select_row(&s, 0, 0, 1), 1);
	assert_int_equal(vp_select_row(&s, 0, 4, 1), 4);
	assert_int_equal(vp_select_row(&s, 0, 0, -1), 0);
	assert_int_equal(vp_select_row(&s, 0, 7, 0), 0);
	/* a container not (yet) there: nothing shown, 0 */
	assert_int_equal(vp_select_row(&s, 9, 3, 0), 0);
	s.n = 0;
	assert_int_equal(vp_select_row(&s, 0, 0, 1), 0);
}

static void test_arg_helpers(void **state)
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

/* A container of VM @tgid for the per-VM view. */
static struct vp_container vmc(__u32 cid, __u32 tgid, bool iommu, __s64 charged, __u64 peak)
{
	struct vp_container c = mk(cid, 0, 1ULL << 30);

	c.tgid = tgid;
	c.charged = (__u64)charged;
	c.charged_peak = peak;
	c.locked_vm = 0;
	if (iommu)
		c.flags |= VP_F_IOMMU;
	return c;
}

static int64_t pg(int64_t pages)
{
	return pages * 4096;
}

/*
 * A sorted snapshot keeps its VM view: for every key, the same as one
 * built afresh from the sorted rows (the oracle), and every VM's rows are
 * its owner's.
 */
static void test_sort_keeps_vms(void **state)
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

/* Grouping by owner, the VM figures, and the advice. */
static void test_vms(void **state)
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
	/* 600: charges add up; needed = passthrough + mdev at its peak */
	assert_int_equal(v.vm[1].containers, 2);
	assert_int_equal(v.vm[1].pt_containers, 1);
	assert_int_equal(v.vm[1].locked, pg(1020));
	assert_int_equal(v.vm[1].locked_peak, pg(1050));
	assert_int_equal(v.vm[1].mdev_charge, pg(50));
	assert_int_equal(v.vm[1].needed, pg(1050));
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

/* A VM of 500 containers: one VM, every container listed once, no sum overflowing. */
static void test_vm_many_containers(void **state)
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

static void test_vm_name_parse(void **state)
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

static void rm_proc(const char *root, uint32_t tgid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u/stat", root, tgid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, tgid);
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
static void test_vm_names(void **state)
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
	vp_vms_free(&s.vms);
	vp_namer_free(nm);
	rm_proc(root, 4002);
	rmdir(root);
}

/* The exposition of hand-built rows: escaping, omitted unknowns, buckets. */
static void test_prom(void **state)
{
	struct vp_container c[3] = {mk(1, 256, 4096 << 10), mk(2, 16, VP_LIMIT_UNLIMITED),
				    mk(3, 0, 0)};
	static struct vp_lat lat;
	struct vp_row rows[3];
	struct vp_snapshot s = {.n = 3, .rows = rows, .lat_all = &lat};
	struct vp_prom_info info = {
	    .version = "t", .mode = "tracepoint", .scrape_prev_s = -1, .container_hists = true};
	char esc[64], *buf = NULL;
	size_t len;
	FILE *f;

	(void)state;
	vp_prom_label(esc, sizeof(esc), "a\"b\\c\nd\x01\xc3");
	assert_string_equal(esc, "a\\\"b\\\\c\\nd??");
	/* never cut an escape in half */
	vp_prom_label(esc, 4, "\"\"\"");
	assert_string_equal(esc, "\\\"");

	c[2].flags &= ~VP_F_LIMIT_KNOWN;
	/* pin latencies: 3 calls of 100 ns, 1 of 5000 ns */
	memset(&lat, 0, sizeof(lat));
	for (int i = 0; i < 3; i++)
		hist_put(&lat.h[VP_LAT_PIN], 100);
	hist_put(&lat.h[VP_LAT_PIN], 5000);
	c[0].ref_live.slots[1] = 2;
	c[0].ref_live.slots[3] = 1;
	for (int i = 0; i < 3; i++)
		vp_row_derive(&rows[i], &c[i], NULL, 0);
	rows[0].lat = &lat;
	/* a VM name as hostile as a command line allows */
	snprintf(rows[0].vm_name, sizeof(rows[0].vm_name), "%s", "a\"b\\c\nd\xff");
	assert_int_equal(vp_snapshot_derive(&s), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(vp_prom_write(f, &s, &info), 0);
	fclose(f);
	/* per container its own charge; per VM the process's figures */
	assert_non_null(strstr(buf, "vfiopin_charged_bytes{cid=\"1\"} 1048576\n"));
	/* what describes a container or a VM, said once in its info series */
	assert_non_null(
	    strstr(buf, "vfiopin_container_info{cid=\"1\",tgid=\"1001\",comm=\"qemu-vm\"} 1\n"));
	assert_non_null(strstr(buf, "vfiopin_vm_info{tgid=\"1001\",comm=\"qemu-vm\",vm=\"a\\\"b"
				    "\\\\c\\nd?\"} 1\n"));
	assert_null(strstr(buf, ",comm=\"qemu-vm\"} 0"));
	assert_null(strstr(buf, "vfiopin_locked_bytes"));
	assert_null(strstr(buf, "vfiopin_limit_bytes"));
	assert_non_null(strstr(buf, "vfiopin_vm_locked_bytes{tgid=\"1001\"} 1048576\n"));
	assert_non_null(strstr(buf, "vfiopin_vm_limit_bytes{tgid=\"1002\"} +Inf\n"));
	assert_non_null(strstr(buf, "vfiopin_vm_headroom_ratio{tgid=\"1001\"} 0.75\n"));
	assert_non_null(strstr(buf, "vfiopin_vms 3\n"));
	/* unknown limit (3) and unlimited (2): no headroom, not 0 */
	assert_null(strstr(buf, "vfiopin_vm_limit_bytes{tgid=\"1003\""));
	assert_null(strstr(buf, "vfiopin_vm_headroom_ratio{tgid=\"1002\""));
	assert_null(strstr(buf, "vfiopin_vm_headroom_ratio{tgid=\"1003\""));
	assert_null(strstr(buf, "vfiopin_vm_headroom_bytes{tgid=\"1002\""));
	/* host-wide: 100 ns <= 1 us; 5000 ns from le=5 us on; +Inf == count */
	static const char *const host_wide[] = {
	    "_pin_duration_seconds_bucket{le=\"1e-06\"} 3\n",
	    "_pin_duration_seconds_bucket{le=\"2.5e-06\"} 3\n",
	    "_pin_duration_seconds_bucket{le=\"5e-06\"} 4\n",
	    "_pin_duration_seconds_bucket{le=\"+Inf\"} 4\n",
	    "_pin_duration_seconds_sum 5.3e-06\n",
	    "_unpin_duration_seconds_count 0\n",
	};
	for (size_t i = 0; i < sizeof(host_wide) / sizeof(host_wide[0]); i++)
		if (!strstr(buf, host_wide[i]))
			fail_msg("no 'vfiopin%s' in the exposition", host_wide[i]);
	/* per container, when asked for */
	assert_non_null(strstr(
	    buf, "vfiopin_container_pin_duration_seconds_bucket{cid=\"1\",le=\"1e-06\"} 3\n"));
	assert_non_null(
	    strstr(buf, "vfiopin_container_pin_duration_seconds_sum{cid=\"1\"} 5.3e-06\n"));
	/* containers without samples have no histogram series */
	assert_null(strstr(buf, "vfiopin_container_pin_duration_seconds_count{cid=\"2\""));
	assert_null(strstr(buf, "vfiopin_container_unpin_duration_seconds_count"));
	/* refcounts 1..3 for container 1, none for the others */
	assert_non_null(
	    strstr(buf, "vfiopin_pinned_pages_by_refcount{cid=\"1\",refcount=\"2\"} 0\n"));
	assert_non_null(strstr(buf, "refcount=\"3\"} 1\n"));
	assert_null(strstr(buf, "refcount=\"4\""));
	assert_null(strstr(buf, "vfiopin_pinned_pages_by_refcount{cid=\"2\""));
	/* one TYPE per family */
	assert_non_null(strstr(buf, "# TYPE vfiopin_pin_duration_seconds histogram\n"));
	assert_null(strstr(strstr(buf, "# TYPE vfiopin_vm_locked_bytes ") + 1,
			   "# TYPE vfiopin_vm_locked_bytes "));
	free(buf);
	vp_vms_free(&s.vms);
}

static void test_accepts_gzip(void **state)
{
	(void)state;
	assert_true(vp_accepts_gzip("gzip"));
	assert_true(vp_accepts_gzip("gzip, deflate, br"));
	assert_true(vp_accepts_gzip("identity;q=1, GZIP;q=0.5"));
	assert_true(vp_accepts_gzip(" deflate , gzip"));
	assert_true(vp_accepts_gzip("gzip;q=1.0"));
	assert_false(vp_accepts_gzip(NULL));
	assert_false(vp_accepts_gzip(""));
	assert_false(vp_accepts_gzip("identity"));
	assert_false(vp_accepts_gzip("gzip;q=0"));
	assert_false(vp_accepts_gzip("gzip;q=0.000, br"));
	assert_false(vp_accepts_gzip("x-gzip2, gzipx"));
	assert_false(vp_accepts_gzip("deflate;q=0.5,,;,"));
	/* the weight's name in either case, after other parameters */
	assert_false(vp_accepts_gzip("gzip;Q=0"));
	assert_false(vp_accepts_gzip("gzip; level=9 ; q=0.0, identity"));
	assert_true(vp_accepts_gzip("gzip;aq=0"));
	assert_true(vp_accepts_gzip("gzip;level=9;q=0.001"));
	assert_true(vp_accepts_gzip("gzip;level=0"));
}

static void test_listen_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[160];

	(void)state;
	assert_true(vp_listen_parse("127.0.0.1:9739", &ss, &len, err, sizeof(err)));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_true(vp_listen_parse(":0", &ss, &len, err, sizeof(err)));
	assert_true(vp_listen_parse("[::1]:80", &ss, &len, err, sizeof(err)));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_false(vp_listen_parse("127.0.0.1", &ss, &len, err, sizeof(err)));
	assert_false(vp_listen_parse("127.0.0.1:", &ss, &len, err, sizeof(err)));
	assert_false(vp_listen_parse("127.0.0.1:-1", &ss, &len, err, sizeof(err)));
	assert_false(vp_listen_parse("127.0.0.1:65536", &ss, &len, err, sizeof(err)));
	assert_false(vp_listen_parse("[::1:80", &ss, &len, err, sizeof(err)));
	assert_false(vp_listen_parse("localhost:80", &ss, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "not a numeric"));
}

/* Mann-Whitney U and Hodges-Lehmann against cases computed by hand. */
static void test_stats(void **state)
{
	double a[] = {1, 2, 3}, b[] = {4, 5, 6}, c[] = {1, 3, 5}, d[] = {2, 4, 6};
	double e[] = {1, 2, 3, 4, 5}, f[] = {6, 7, 8, 9, 10};
	double t1[] = {1, 1, 2}, t2[] = {2, 3, 3};
	double x[10], y[10], m[] = {5, 1, 4, 2, 3, 6};
	double big[] = {DBL_MAX, DBL_MAX}, tiny[] = {DBL_TRUE_MIN, DBL_TRUE_MIN};
	double both[] = {DBL_MAX, -DBL_MAX}, ones[] = {1, 1};
	struct vp_mwu u;
	struct vp_shift s;

	(void)state;
	assert_true(isnan(vp_median(m, 0)));
	assert_float_equal(vp_median(m, 6), 3.5, 1e-12);
	assert_float_equal(vp_median(m, 5), 3, 1e-12); /* 1..5 after sorting */
	/* halfway without overflow at the top or loss at the bottom */
	assert_true(vp_median(big, 2) == DBL_MAX);
	assert_true(vp_median(tiny, 2) == DBL_TRUE_MIN);
	assert_true(vp_median(both, 2) == 0);
	/* differences DBL_MAX - 1 (= DBL_MAX), an even count of them: the
	 * estimate is DBL_MAX, not an infinity */
	assert_int_equal(vp_hodges_lehmann(ones, 2, big, 2, 0.95, &s), 0);
	assert_true(s.est == DBL_MAX);
	/* completely separated, 3 vs 3: 1 of C(6,3) = 20 arrangements per tail */
	assert_int_equal(vp_mann_whitney(a, 3, b, 3, &u), 0);
	assert_true(u.exact);
	assert_float_equal(u.u, 0, 0);
	assert_float_equal(u.p, 0.1, 1e-12);
	assert_float_equal(vp_mwu_min_p(3, 3), 0.1, 1e-12);
	/* 5 vs 5: 2 / C(10,5) = 2/252 */
	vp_mann_whitney(e, 5, f, 5, &u);
	assert_float_equal(u.p, 2.0 / 252, 1e-12);
	/* interleaved: U = 3; P(U <= 3) = 7/20 (counts 1,1,2,3 for U = 0..3) */
	vp_mann_whitney(c, 3, d, 3, &u);
	assert_float_equal(u.u, 3, 0);
	assert_float_equal(u.p, 0.7, 1e-12);
	/* ties: normal approximation; U = 0.5, var = 0.75 * (7 - 18/30) = 4.8,
	 * z = (4.5 - 0.5 - 0.5) / sqrt(4.8), p = erfc(z / sqrt 2) */
	vp_mann_whitney(t1, 3, t2, 3, &u);
	assert_false(u.exact);
	assert_float_equal(u.u, 0.5, 0);
	assert_float_equal(u.p, 0.110148924, 1e-8);
	/* HL shift of 3 vs 3: differences 1,2,2,3,3,3,4,4,5: median 3; too
	 * few pairs for a 95 % interval: the whole range */
	vp_hodges_lehmann(a, 3, b, 3, 0.95, &s);
	assert_float_equal(s.est, 3, 0);
	assert_true(s.ci_full);
	assert_float_equal(s.lo, 1, 0);
	assert_float_equal(s.hi, 5, 0);
	/* x = 0..9, y = x + 10: differences 10 + (j - i); k = floor(50 -
	 * 1.96 * sqrt(100 * 21 / 12)) = 24: the 25th smallest (7) and the
	 * 25th largest (13) */
	for (int i = 0; i < 10; i++) {
		x[i] = i;
		y[i] = i + 10;
	}
	vp_hodges_lehmann(x, 10, y, 10, 0.95, &s);
	assert_float_equal(s.est, 10, 0);
	assert_false(s.ci_full);
	assert_float_equal(s.lo, 7, 0);
	assert_float_equal(s.hi, 13, 0);
	vp_mann_whitney(x, 10, y, 10, &u);
	assert_float_equal(u.p, 2 / 184756.0, 1e-15); /* 2 / C(20,10) */
	/* the same sample against itself: p = 1, no shift */
	vp_mann_whitney(x, 10, x, 10, &u);
	assert_float_equal(u.p, 1, 1e-12);
	assert_float_equal(vp_norm_quantile(0.975), 1.959963985, 1e-8);
	assert_float_equal(vp_norm_quantile(0.01), -2.326347874, 1e-8);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The selection-based Hodges-Lehmann and the rank-sum U against the
 * definitions computed the slow way (all nx * ny pairs formed and sorted),
 * over samples of many shapes: ties, equal values across the samples,
 * negative values, sizes where the selection runs many rounds.
 */
static void test_stats_vs_pairs(void **state)
{
	static const size_t sizes[][2] = {{1, 1},     {1, 7},	  {9, 1},     {13, 17},
					  {60, 45},   {200, 150}, {333, 401}, {2, 900},
					  {700, 300}, {3, 40000}, {40000, 3}};
	uint64_t seed = 42;

	(void)state;
	for (size_t c = 0; c < sizeof(sizes) / sizeof(sizes[0]); c++) {
		for (int shape = 0; shape < 3; shape++) {
			size_t nx = sizes[c][0], ny = sizes[c][1], m = nx * ny, k;
			double *x = malloc(nx * sizeof(*x)), *y = malloc(ny * sizeof(*y));
			double *d = malloc(m * sizeof(*d)), u = 0, est, z, ck;
			struct vp_shift s;
			struct vp_mwu w;

			assert_non_null(x);
			assert_non_null(y);
			assert_non_null(d);
			for (size_t i = 0; i < nx + ny; i++) {
				double v;

				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				v = (double)(seed >> 40) / (1 << 24);
				/* shape 0: continuous; 1: few distinct values (ties); 2: shifted */
				v = shape == 1 ? floor(v * 5) : v * 1000 - 300;
				if (i < nx)
					x[i] = v;
				else
					y[i - nx] = v + (shape == 2 ? 37.5 : 0);
			}
			for (size_t i = 0; i < nx; i++)
				for (size_t j = 0; j < ny; j++) {
					d[i * ny + j] = y[j] - x[i];
					u += x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0;
				}
			qsort(d, m, sizeof(*d), cmp_double);
			est = m % 2 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2;
			z = vp_norm_quantile(0.975);
			ck = (double)m / 2 - z * sqrt((double)m * ((double)nx + ny + 1) / 12);
			k = ck < 1 ? 0 : (size_t)floor(ck);
			assert_int_equal(vp_hodges_lehmann(x, nx, y, ny, 0.95, &s), 0);
			assert_true(s.est == est);
			assert_true(s.lo == d[k]);
			assert_true(s.hi == d[m - 1 - k]);
			assert_int_equal(vp_mann_whitney(x, nx, y, ny, &w), 0);
			assert_float_equal(w.u, u, 0);
			free(x);
			free(y);
			free(d);
		}
	}
	assert_int_equal(vp_hodges_lehmann(NULL, 0, NULL, 3, 0.95, NULL), -1);
}

/* capture's perf-script parser on a hand-written hotplug, and lines it must refuse. */
static void test_timeline(void **state)
{
	static const char *const lines[] = {
	    "  41 10.000000100: vfio_type1:vfio_type1_container_open: cid=1 tgid=41 dmas=0 "
	    "pinned=0 locked=0",
	    "  41 10.000100000: vfio_type1:vfio_type1_group_attach: cid=1 tgid=41 group=3 "
	    "domain=emulated ret=0",
	    "  41 10.000200000: vfio_type1:vfio_type1_dma_map_begin: cid=1 tgid=41 iova=0x0 "
	    "size=0x1000000 pin=0 ret=0",
	    "  41 10.000300000: vfio_type1:vfio_type1_dma_map_end: cid=1 tgid=41 iova=0x0 "
	    "size=0x1000000 pin=0 ret=0",
	    "  41 10.001000000: vfio_type1:vfio_type1_pin_begin: cid=1 tgid=41 iova=0x0 npage=16 "
	    "prot=3 ret=0",
	    "  41 10.001000200: vfio_type1:vfio_type1_account: cid=1 tgid=41 delta=16 locked_vm=16 "
	    "limit=256 lock_cap=0 async=0 ret=0",
	    /* a page count no kernel holds: not an accounting of ours */
	    "  41 10.001000250: vfio_type1:vfio_type1_account: cid=1 tgid=41 delta=1 "
	    "locked_vm=9223372036854775807 ret=0",
	    "  41 10.001000300: vfio_type1:vfio_type1_pin_end: cid=1 tgid=41 iova=0x0 npage=16 "
	    "prot=3 ret=16",
	    "not a perf script line",
	    "  41 10.002000000: vfio_type1:vfio_type1_replay_begin: cid=1 tgid=41 dmas=1 "
	    "pin_pages=4096 map_pages=4096",
	    "  41 10.002000100: iommu:map: IOMMU: iova=0x0 - 0x1000000 paddr=0x100000000 "
	    "size=16777216",
	    "  41 10.002100000: vfio_type1:vfio_type1_replay_end: cid=1 tgid=41 ret=0",
	    "  41 10.006300000: vfio_type1:vfio_type1_container_release: cid=1 tgid=41 dmas=0 "
	    "pinned=0 locked=0",
	};
	static const enum phase want[] = {PH_ATTACH, PH_MAP, PH_PINS, PH_REPLAY, PH_DETACH};
	struct vp_timeline tl = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		vp_timeline_line(&tl, lines[i]);
	assert_int_equal(tl.n, 1);
	assert_int_equal(tl.lines, 12); /* all but the one of another shape */
	assert_int_equal(tl.c[0].cid, 1);
	assert_int_equal(tl.c[0].t.pin_calls, 1);
	assert_int_equal(tl.c[0].t.pin_pages, 16);
	assert_int_equal(tl.c[0].t.locked_peak_kb, 64);
	assert_int_equal(tl.c[0].t.replays, 1);
	assert_int_equal(tl.c[0].t.iommu_maps, 1);
	assert_int_equal(tl.c[0].t.iommu_map_bytes, 16777216);
	assert_true(tl.c[0].released);
	assert_int_equal(tl.c[0].nseg, sizeof(want) / sizeof(want[0]));
	for (size_t k = 0; k < tl.c[0].nseg; k++)
		assert_int_equal(tl.c[0].seg[k].phase, want[k]);
	vp_timeline_free(&tl);
	assert_int_equal(tl.n, 0);
}

/*
 * The field table against the struct's layout: every __u64 counter of
 * struct vp_container from locked_vm to leaked has exactly one row (but
 * limit, a derived figure), and names are unique in each output.
 */
static void test_field_table(void **state)
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

/* A bench file written with the writer reads back through the reader. */
static void test_benchfile_roundtrip(void **state)
{
	static const double v[] = {5, 1, 3, 10, 30, 20};
	static const uint32_t runs[] = {3, 3};
	json_t *doc = vp_bench_new(json_pack("{s:s}", "mode", "mdev"), json_object(),
				   json_pack("{s:s}", "kernel_release", "t"));
	struct vp_bench b;
	size_t n, raw;
	double *x;
	char *text;

	(void)state;
	assert_non_null(doc);
	assert_int_equal(vp_bench_add_metric(doc, "m", "ns", true, "what", v, 6, runs, 2), 0);
	text = json_dumps(doc, 0);
	assert_non_null(text);
	assert_true(vp_bench_load_buf(&b, "roundtrip", text, strlen(text)));
	/* one value per repetition: the medians of {5,1,3} and {10,30,20} */
	x = vp_bench_values(&b, 1, "m", &n, &raw);
	assert_non_null(x);
	assert_int_equal(n, 2);
	assert_int_equal(raw, 6);
	assert_float_equal(x[0], 3, 0);
	assert_float_equal(x[1], 20, 0);
	free(x);
	vp_bench_free(&b);
	free(text);
	json_decref(doc);
}

/* Holm's adjustment against hand-computed cases. */
static void test_holm(void **state)
{
	/* m = 4 (the NAN is not counted); sorted 0.005 0.01 0.03 0.04 scaled
	 * by 4 3 2 1: 0.02 0.03 0.06 0.04, then kept monotone: 0.06 for the last */
	double p[] = {0.01, 0.04, 0.03, NAN, 0.005}, adj[5];
	double q[] = {0.5, 0.6}, qa[2];
	double t[] = {0.02, 0.02, 0.02}, ta[3];

	(void)state;
	assert_int_equal(vp_holm(p, 5, adj), 0);
	assert_float_equal(adj[0], 0.03, 1e-12);
	assert_float_equal(adj[1], 0.06, 1e-12);
	assert_float_equal(adj[2], 0.06, 1e-12);
	assert_true(isnan(adj[3]));
	assert_float_equal(adj[4], 0.02, 1e-12);
	/* at most 1 */
	vp_holm(q, 2, qa);
	assert_float_equal(qa[0], 1, 0);
	assert_float_equal(qa[1], 1, 0);
	/* equal p-values: 3p, 2p -> 3p, p -> 3p: all 0.06 */
	vp_holm(t, 3, ta);
	for (int i = 0; i < 3; i++)
		assert_float_equal(ta[i], 0.06, 1e-12);
	assert_int_equal(vp_holm(NULL, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slot_bounds),
	    cmocka_unit_test(test_hist_quantiles),
	    cmocka_unit_test(test_hist_range_race),
	    cmocka_unit_test(test_lin_quantiles),
	    cmocka_unit_test(test_hist_print),
	    cmocka_unit_test(test_row_derive),
	    cmocka_unit_test(test_sort_and_total),
	    cmocka_unit_test(test_json_snapshot),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_format_row),
	    cmocka_unit_test(test_hostile_strings),
	    cmocka_unit_test(test_select_row),
	    cmocka_unit_test(test_arg_helpers),
	    cmocka_unit_test(test_prom),
	    cmocka_unit_test(test_vms),
	    cmocka_unit_test(test_vm_many_containers),
	    cmocka_unit_test(test_vm_name_parse),
	    cmocka_unit_test(test_vm_names),
	    cmocka_unit_test(test_sort_keeps_vms),
	    cmocka_unit_test(test_listen_parse),
	    cmocka_unit_test(test_accepts_gzip),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_stats_vs_pairs),
	    cmocka_unit_test(test_holm),
	    cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_field_table),
	    cmocka_unit_test(test_benchfile_roundtrip),
	};

	return cmocka_run_group_tests_name("vfiopin userspace", tests, NULL, NULL);
}
