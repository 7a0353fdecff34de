// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the offline tools (tools/offline/): statistics, Holm's correction,
 * capture's timeline, bench files.
 */
#include "unit.h"

/* Mann-Whitney U and Hodges-Lehmann against cases computed by hand. */
void test_stats(void **state)
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
void test_stats_vs_pairs(void **state)
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

/* Holm's adjustment against hand-computed cases. */
void test_holm(void **state)
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

/* capture's perf-script parser on a hand-written hotplug, and lines it must refuse. */
void test_timeline(void **state)
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

/* A bench file written with the writer reads back through the reader. */
void test_benchfile_roundtrip(void **state)
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
