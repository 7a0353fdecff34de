// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the outputs (tools/render/): text, events, JSON, hostile strings,
 * Prometheus, the HTTP server's parsers.
 */
#include "unit.h"

void test_hist_print(void **state)
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

void test_json_snapshot(void **state)
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

		vp_print_table(f, &s);
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

void test_events(void **state)
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

void test_format_row(void **state)
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
void test_hostile_strings(void **state)
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
	vp_print_table(f, &s);
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

/* The exposition of hand-built rows: escaping, omitted unknowns, buckets. */
void test_prom(void **state)
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

void test_accepts_gzip(void **state)
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

void test_listen_parse(void **state)
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
