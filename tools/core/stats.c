// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Halfway between @a and @b: a + b overflows only when both have the same
 * sign, and b - a only when their signs differ.  Halving each first would
 * lose the smallest subnormals (the median of two 5e-324 would be 0).
 */
static double midpoint(double a, double b)
{
	return (a < 0) != (b < 0) ? (a + b) / 2 : a + (b - a) / 2;
}

double vp_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : midpoint(v[n / 2 - 1], v[n / 2]);
}

/*
 * The number of arrangements of @m x's and @n y's whose U (x > y pairs)
 * is u, for u = 0..m*n, by the recurrence
 * f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u).  Returns a fresh array.
 */
static double *u_counts(size_t m, size_t n)
{
	size_t max = m * n;
	/* f[j][u] for the current i, j = 0..n */
	double *f = calloc((n + 1) * (max + 1), sizeof(double));
	double *g = calloc((n + 1) * (max + 1), sizeof(double));
	double *out;

	if (!f || !g) {
		free(f);
		free(g);
		return NULL;
	}
	/* i = 0: only U = 0 */
	for (size_t j = 0; j <= n; j++)
		f[j * (max + 1)] = 1;
	for (size_t i = 1; i <= m; i++) {
		memset(g, 0, (n + 1) * (max + 1) * sizeof(double));
		g[0] = 1; /* j = 0: U = 0 */
		for (size_t j = 1; j <= n; j++)
			for (size_t u = 0; u <= i * j; u++) {
				double a = u >= j ? f[j * (max + 1) + u - j] : 0;
				double b = g[(j - 1) * (max + 1) + u];

				g[j * (max + 1) + u] = a + b;
			}
		double *t = f;

		f = g;
		g = t;
	}
	out = malloc((max + 1) * sizeof(double));
	if (out)
		memcpy(out, f + n * (max + 1), (max + 1) * sizeof(double));
	free(f);
	free(g);
	return out;
}

/* a value and which sample it came from, for ranking both together */
struct tagged {
	double v;
	bool from_x;
};

static int cmp_tagged(const void *a, const void *b)
{
	return cmp_dbl(&((const struct tagged *)a)->v, &((const struct tagged *)b)->v);
}

int vp_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct vp_mwu *out)
{
	size_t n;
	double u, rank_x = 0, tie_sum = 0;
	bool ties = false;
	struct tagged *all;

	if (!nx || !ny || __builtin_add_overflow(nx, ny, &n) || n > SIZE_MAX / sizeof(*all))
		return -1;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -1;
	for (size_t i = 0; i < nx; i++)
		all[i] = (struct tagged){.v = x[i], .from_x = true};
	for (size_t j = 0; j < ny; j++)
		all[nx + j] = (struct tagged){.v = y[j], .from_x = false};
	qsort(all, n, sizeof(*all), cmp_tagged);
	/* ranks 1..n, a group of ties sharing the mean of its ranks */
	for (size_t i = 0; i < n;) {
		size_t j = i, in_x = 0;

		while (j < n && all[j].v == all[i].v)
			in_x += all[j++].from_x;
		if (j - i > 1) {
			double t = (double)(j - i);

			ties = true;
			tie_sum += t * t * t - t;
		}
		rank_x += (double)in_x * ((double)i + 1 + (double)j) / 2;
		i = j;
	}
	free(all);
	/* U counts pairs with x > y (ties 1/2): the rank sum less its minimum */
	u = rank_x - (double)nx * ((double)nx + 1) / 2;
	out->u = u;

	if (!ties && nx <= 400 && ny <= 400 && nx * ny <= 400) {
		double *c = u_counts(nx, ny), total = 0, le = 0, ge = 0;
		size_t max = nx * ny, ui = (size_t)u;

		if (!c)
			return -1;
		for (size_t k = 0; k <= max; k++) {
			total += c[k];
			if (k <= ui)
				le += c[k];
			if (k >= ui)
				ge += c[k];
		}
		free(c);
		out->p = fmin(1.0, 2 * fmin(le, ge) / total);
		out->exact = true;
		return 0;
	}

	double mean = (double)nx * ny / 2;
	double var =
	    (double)nx * ny / 12 * ((double)n + 1 - tie_sum / ((double)n * ((double)n - 1)));
	double d = fabs(u - mean);

	out->exact = false;
	if (var <= 0) {
		out->p = 1;
		return 0;
	}
	d = d > 0.5 ? d - 0.5 : 0; /* continuity */
	out->p = fmin(1.0, erfc(d / sqrt(var) / sqrt(2.0)));
	return 0;
}

double vp_mwu_min_p(size_t nx, size_t ny)
{
	/* the most extreme arrangement: 1 of C(nx + ny, nx), both tails */
	double lc = lgamma((double)nx + ny + 1) - lgamma((double)nx + 1) - lgamma((double)ny + 1);

	return fmin(1.0, 2 * exp(-lc));
}

/*
 * Order statistics of the nx * ny differences y[j] - x[i] without forming
 * them.  With x and y sorted ascending, row i (fixed x[i]) rises with j and
 * each column falls with i, so how many differences lie below a value is
 * counted in one sweep over the rows.  Selection keeps, per row, the
 * column range [lo, hi) still in play and narrows it around pivots drawn
 * from it: a random sample of the candidates is sorted and the two sample
 * values that bracket the wanted rank become the pivots (as Floyd and
 * Rivest's select does on an array), so each round cuts the candidates
 * by about the sample's square root and a handful of rounds suffice.
 * Time O((nx + ny) log(nx + ny)) for the sorts and a few sweeps per
 * order statistic; memory O(nx + ny).  Floating-point subtraction is
 * monotone, so every comparison is made on y[j] - x[i] itself.
 */
#define SEL_SAMPLE 4096 /* candidates sampled per round */
#define SEL_SLACK  96	/* 1.5 sqrt(SEL_SAMPLE): pivots this far either side of the rank */
#define SEL_GATHER 65536

struct diffsel {
	const double *x, *y; /* sorted ascending */
	size_t nx, ny;
	size_t *lo, *hi;      /* per row: columns still candidates */
	size_t *below, *upto; /* per row: columns < pivot, <= pivot */
	uint64_t *cum;	      /* candidates in rows before i */
	double *buf;	      /* the sample, then the last candidates */
	uint64_t rng;
};

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: deterministic, so every run gives the same answer */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/*
 * Per row, how many differences are < @p (into below[]) and <= @p (upto[]),
 * and the totals.  A pivot drawn from the candidates has every candidate
 * range's left side below it and its right side above, so each row's
 * counts lie in [lo, hi]: the walk starts there and, as the ranges narrow,
 * costs little more than a pass over the rows.
 */
static void count_rows(struct diffsel *d, double p, uint64_t *below, uint64_t *upto)
{
	size_t jb = 0, ju = 0;

	*below = *upto = 0;
	for (size_t i = 0; i < d->nx; i++) {
		const double xi = d->x[i];
		const size_t hi = d->hi[i];

		if (jb < d->lo[i])
			jb = d->lo[i];
		if (ju < jb)
			ju = jb;
		while (jb < hi && d->y[jb] - xi < p)
			jb++;
		while (ju < hi && d->y[ju] - xi <= p)
			ju++;
		d->below[i] = jb;
		d->upto[i] = ju;
		*below += jb;
		*upto += ju;
	}
}

/*
 * Count around candidate @p and narrow the ranges to the side of it the
 * @k-th lies on: 0 if @p is the k-th itself, -1 if the k-th is below it,
 * 1 above.
 */
static int narrow(struct diffsel *d, double p, uint64_t k, uint64_t *cand)
{
	uint64_t below, upto;

	count_rows(d, p, &below, &upto);
	if (k >= below && k < upto)
		return 0;
	*cand = 0;
	for (size_t i = 0; i < d->nx; i++) {
		if (k < below)
			d->hi[i] = d->below[i];
		else
			d->lo[i] = d->upto[i];
		*cand += d->hi[i] - d->lo[i];
	}
	return k < below ? -1 : 1;
}

/* The @k-th smallest difference (0-based). */
static double select_diff(struct diffsel *d, uint64_t k)
{
	uint64_t cand = (uint64_t)d->nx * d->ny, skipped;
	size_t n = 0;

	for (size_t i = 0; i < d->nx; i++) {
		d->lo[i] = 0;
		d->hi[i] = d->ny;
	}
	while (cand > SEL_GATHER) {
		double pa, pb;
		uint64_t at = 0;
		long ia, ib;
		int side;

		skipped = 0;
		for (size_t i = 0; i < d->nx; i++) {
			d->cum[i] = at;
			at += d->hi[i] - d->lo[i];
			skipped += d->lo[i];
		}
		for (size_t s = 0; s < SEL_SAMPLE; s++) {
			uint64_t r = next_rand(&d->rng) % cand;
			size_t l = 0, h = d->nx; /* the last row with cum <= r */

			while (h - l > 1) {
				size_t mid = l + (h - l) / 2;

				if (d->cum[mid] <= r)
					l = mid;
				else
					h = mid;
			}
			d->buf[s] = d->y[d->lo[l] + (r - d->cum[l])] - d->x[l];
		}
		qsort(d->buf, SEL_SAMPLE, sizeof(*d->buf), cmp_dbl);
		/* where the k-th falls among the candidates, in sample positions */
		ia = (long)((double)(k - skipped) / (double)cand * SEL_SAMPLE) - SEL_SLACK;
		ib = ia + 2 * SEL_SLACK;
		pa = d->buf[ia < 0 ? 0 : ia >= SEL_SAMPLE ? SEL_SAMPLE - 1 : ia];
		pb = d->buf[ib < 0 ? 0 : ib >= SEL_SAMPLE ? SEL_SAMPLE - 1 : ib];
		side = narrow(d, pa, k, &cand);
		if (!side)
			return pa;
		/* pb is still a candidate only if the k-th lies above pa */
		if (side > 0 && pb > pa && !narrow(d, pb, k, &cand))
			return pb;
	}
	skipped = 0;
	for (size_t i = 0; i < d->nx; i++) {
		skipped += d->lo[i];
		for (size_t j = d->lo[i]; j < d->hi[i]; j++)
			d->buf[n++] = d->y[j] - d->x[i];
	}
	qsort(d->buf, n, sizeof(*d->buf), cmp_dbl);
	return d->buf[k - skipped];
}

int vp_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf,
		      struct vp_shift *out)
{
	struct diffsel d = {.nx = nx, .ny = ny, .rng = 0x9E3779B97F4A7C15ULL};
	double *xs = NULL, *ys = NULL, z, ck;
	uint64_t m, k = 0;
	int rc = -1;

	if (!nx || !ny || __builtin_mul_overflow((uint64_t)nx, (uint64_t)ny, &m) ||
	    nx > SIZE_MAX / sizeof(uint64_t) || ny > SIZE_MAX / sizeof(double))
		return -1;
	xs = malloc(nx * sizeof(*xs));
	ys = malloc(ny * sizeof(*ys));
	d.lo = malloc(nx * sizeof(size_t));
	d.hi = malloc(nx * sizeof(size_t));
	d.below = malloc(nx * sizeof(size_t));
	d.upto = malloc(nx * sizeof(size_t));
	d.cum = malloc(nx * sizeof(uint64_t));
	d.buf = malloc(SEL_GATHER * sizeof(double));
	if (!xs || !ys || !d.lo || !d.hi || !d.below || !d.upto || !d.cum || !d.buf)
		goto out;
	memcpy(xs, x, nx * sizeof(*xs));
	memcpy(ys, y, ny * sizeof(*ys));
	qsort(xs, nx, sizeof(*xs), cmp_dbl);
	qsort(ys, ny, sizeof(*ys), cmp_dbl);
	d.x = xs;
	d.y = ys;

	out->est = m % 2 ? select_diff(&d, m / 2)
			 : midpoint(select_diff(&d, m / 2 - 1), select_diff(&d, m / 2));
	z = vp_norm_quantile(1 - (1 - conf) / 2);
	ck = (double)m / 2 - z * sqrt((double)m * ((double)nx + ny + 1) / 12);
	out->ci_full = ck < 1;
	/* 1-based order statistics k+1 and m-k; with k = 0 the extremes */
	if (!out->ci_full)
		k = (uint64_t)floor(ck);
	out->lo = select_diff(&d, k);
	out->hi = select_diff(&d, m - 1 - k);
	rc = 0;
out:
	free(xs);
	free(ys);
	free(d.lo);
	free(d.hi);
	free(d.below);
	free(d.upto);
	free(d.cum);
	free(d.buf);
	return rc;
}

struct holm_ent {
	double p;
	size_t i;
};

static int cmp_holm(const void *a, const void *b)
{
	const struct holm_ent *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int vp_holm(const double *p, size_t n, double *adj)
{
	struct holm_ent *e = malloc((n ? n : 1) * sizeof(*e));
	size_t m = 0;
	double run = 0;

	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++) {
		adj[i] = NAN;
		if (!isnan(p[i]))
			e[m++] = (struct holm_ent){.p = p[i], .i = i};
	}
	qsort(e, m, sizeof(*e), cmp_holm);
	for (size_t k = 0; k < m; k++) {
		double a = fmin(1, (double)(m - k) * e[k].p);

		run = fmax(run, a);
		adj[e[k].i] = run;
	}
	free(e);
	return 0;
}

double vp_norm_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
				   -2.759285104469687e+02, 1.383577518672690e+02,
				   -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
				   -1.556989798598866e+02, 6.680131188771972e+01,
				   -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
				   -2.400758277161838e+00, -2.549732539343734e+00,
				   4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00, 3.754408661907416e+00};
	double q, r;

	if (p <= 0)
		return -INFINITY;
	if (p >= 1)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
