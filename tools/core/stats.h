/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two-sample statistics for `vfiopin compare`: medians, the Mann-Whitney U
 * test, and the Hodges-Lehmann shift with its distribution-free confidence
 * interval.  Pure functions on arrays of doubles; unit-tested against
 * hand-computed cases.
 */
#ifndef VFIOPIN_STATS_H
#define VFIOPIN_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* The median of @n values (any order; @v is left sorted).  NAN if n == 0. */
double vp_median(double *v, size_t n);

struct vp_mwu {
	double u;   /* U of the first sample: pairs (x, y) with x > y, ties 1/2 */
	double p;   /* two-sided p-value */
	bool exact; /* from the exact null distribution (small, no ties) */
};

/*
 * Mann-Whitney U test of @x (@nx values) against @y (@ny), from the rank
 * sums of one sort: O((nx + ny) log(nx + ny)).  Exact when nx * ny <= 400
 * and there are no ties, otherwise the normal approximation with tie and
 * continuity corrections.  Returns -1 if either is empty or out of memory.
 */
int vp_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct vp_mwu *out);

struct vp_shift {
	double est;    /* Hodges-Lehmann: median of all y_j - x_i */
	double lo, hi; /* confidence interval for the shift */
	bool ci_full;  /* too few samples: the interval is the whole range */
};

/*
 * Hodges-Lehmann estimate of the shift from @x to @y, with the
 * distribution-free interval at confidence @conf (e.g. 0.95): order
 * statistics k+1 and nx*ny-k of the pairwise differences, k from the
 * normal approximation of U's null distribution.  The differences are
 * never formed: each order statistic is selected from the implicit sorted
 * matrix in O((nx + ny) log(nx * ny)) expected time and O(nx + ny) memory.
 * Returns -1 if either sample is empty or out of memory.
 */
int vp_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf,
		      struct vp_shift *out);

/*
 * Holm's step-down adjustment of @n p-values for testing them together:
 * with the i-th smallest p scaled by (m - i + 1), kept monotone and at most
 * 1, where m counts the finite ones.  A NAN p stays NAN in @adj and is not
 * counted.  Rejecting where adj < alpha keeps the chance of any false
 * verdict among the n at or below alpha.  Returns -1 when out of memory.
 */
int vp_holm(const double *p, size_t n, double *adj);

/* The smallest two-sided p-value samples of these sizes can reach. */
double vp_mwu_min_p(size_t nx, size_t ny);

/* The standard normal quantile (Acklam's approximation, |error| < 1.2e-9). */
double vp_norm_quantile(double p);

#endif
