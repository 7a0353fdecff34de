// SPDX-License-Identifier: GPL-2.0
/*
 * The bench-file reader and what compare does with what it accepts: load
 * and check the input as a bench file; for every metric of a file that
 * passed, the values compare would test (per_run reduction), their median,
 * and both statistics against the same values shifted.  Any accepted file
 * must go through all of it without a sanitizer report, and the median of
 * its finite samples must be finite (no overflow near DBL_MAX).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "benchfile.h"
#include "output.h"
#include "stats.h"

const char *argp_program_version = "vfiopin-fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vp_bench b;
	const char *name;
	json_t *m;

	if (!vp_bench_load_buf(&b, "fuzz", (const char *)data, size)) {
		vp_bench_free(&b);
		return 0;
	}
	json_object_foreach(b.metrics, name, m)
	{
		size_t n = 0, raw = 0;
		double *x = vp_bench_values(&b, 1, name, &n, &raw);
		char *safe = vp_printable(name, true);

		free(safe);
		if (!x)
			abort(); /* inputs are small: this is not memory running out */
		if (n > raw)
			abort();
		if (n) {
			double *y = malloc(n * sizeof(*y)), lo = x[0], hi = x[0], med;
			struct vp_mwu u;
			struct vp_shift s;

			if (!y)
				abort();
			for (size_t i = 0; i < n; i++)
				y[i] = x[i] * 1.25 + 1;
			if (vp_mann_whitney(x, n, y, n, &u) ||
			    vp_hodges_lehmann(x, n, y, n, 0.95, &s))
				abort();
			if (isnan(u.p) || u.p < 0 || u.p > 1)
				abort();
			/* the interval holds the estimate (infinities allowed: huge samples) */
			if (!(s.lo <= s.est || isnan(s.est)) || !(s.est <= s.hi || isnan(s.est)))
				abort();
			/* every accepted sample is finite: so is their median,
			 * between the least and the greatest of them */
			for (size_t i = 1; i < n; i++) {
				lo = fmin(lo, x[i]);
				hi = fmax(hi, x[i]);
			}
			med = vp_median(x, n);
			if (!(lo <= med && med <= hi))
				abort();
			free(y);
		}
		free(x);
	}
	vp_bench_free(&b);
	return 0;
}
