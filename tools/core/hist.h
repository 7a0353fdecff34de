/* SPDX-License-Identifier: GPL-2.0 */
/* Histogram maths for the BPF latency (log-linear) and refcount histograms. */
#ifndef VFIOPIN_HIST_H
#define VFIOPIN_HIST_H

#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>
#include "vfiopin.h"

/* The values log-linear slot @slot counts: [low, high] (bpf/vfiopin.h). */
__u64 vp_lat_low(int slot);
__u64 vp_lat_high(int slot);
/* The slot that counts @v (what the BPF side computes). */
int vp_lat_slot(__u64 v);

__u64 vp_slots_total(const __u64 *slots, int n);
/* The samples of @h (its slots' own total). */
__u64 vp_hist_total(const struct vp_hist *h);
/* Add @b into @a. */
void vp_hist_add(struct vp_hist *a, const struct vp_hist *b);

/*
 * The @p quantile (0 < p <= 1) of a latency histogram: the middle of the
 * slot holding the nearest-rank sample, so within 1/16 (6.25 %) of that
 * sample.  Returns -1 for an empty histogram.
 */
double vp_hist_quantile(const struct vp_hist *h, double p);
/* The @n quantiles @p of @h (each in (0, 1], ascending) into @out, in one pass. */
void vp_hist_quantiles(const struct vp_hist *h, const double *p, double *out, int n);

/* The @p quantile of a linear histogram (slot i counts value i). */
double vp_lin_quantile(const __u64 *slots, int n, double p);

/* Add @b's slots into @a. */
void vp_slots_add(__u64 *a, const __u64 *b, int n);

/*
 * Print a latency histogram, bcc style: one row per slot between the first
 * and the last used (a run of empty slots one row), with counts and a bar
 * of @width.  @div scales values for display (1000 for ns shown as us).
 */
void vp_hist_print(FILE *f, const struct vp_hist *h, const char *unit, __u64 div, int width);
void vp_lin_print(FILE *f, const __u64 *slots, int n, const char *unit, int width);

/* "1.5ms", "820ns", "-" for a negative value: a latency for a table cell. */
const char *vp_fmt_ns(char *buf, size_t len, double ns);

#endif
