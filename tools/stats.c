// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double vp_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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

int vp_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct vp_mwu *out)
{
	size_t n = nx + ny;
	double u = 0, tie_sum = 0;
	bool ties = false;
	double *all;

	if (!nx || !ny)
		return -1;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			u += x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0;
	out->u = u;

	all = malloc(n * sizeof(double));
	if (!all)
		return -1;
	memcpy(all, x, nx * sizeof(double));
	memcpy(all + nx, y, ny * sizeof(double));
	qsort(all, n, sizeof(double), cmp_dbl);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && all[j] == all[i])
			j++;
		if (j - i > 1) {
			double t = (double)(j - i);

			ties = true;
			tie_sum += t * t * t - t;
		}
		i = j;
	}
	free(all);

	if (!ties && nx * ny <= 400) {
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

int vp_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf,
		      struct vp_shift *out)
{
	size_t m = nx * ny, k = 0;
	double *d, z, ck;

	if (!nx || !ny)
		return -1;
	d = malloc(m * sizeof(double));
	if (!d)
		return -1;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			d[i * ny + j] = y[j] - x[i];
	out->est = vp_median(d, m); /* sorts d */
	z = vp_norm_quantile(1 - (1 - conf) / 2);
	ck = (double)m / 2 - z * sqrt((double)m * ((double)nx + ny + 1) / 12);
	out->ci_full = ck < 1;
	if (!out->ci_full)
		k = (size_t)floor(ck);
	/* 1-based order statistics k+1 and m-k, with k = 0: the extremes */
	if (out->ci_full)
		k = 0;
	out->lo = d[k];
	out->hi = d[m - 1 - k];
	free(d);
	return 0;
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
