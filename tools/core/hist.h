/* SPDX-License-Identifier: GPL-2.0 */
/* Histogram maths for the BPF log2 and refcount histograms. */
#ifndef VFIOPIN_HIST_H
#define VFIOPIN_HIST_H

#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>

/* The values log2 slot @slot counts: [low, high]. */
__u64 vp_slot_low(int slot);
__u64 vp_slot_high(int slot);

__u64 vp_slots_total(const __u64 *slots, int n);

/*
 * The @p quantile (0 < p <= 1) of a log2 histogram, interpolated linearly
 * inside the bucket that holds it.  Returns -1 for an empty histogram.
 */
double vp_log2_quantile(const __u64 *slots, int n, double p);

/* The @p quantile of a linear histogram (slot i counts value i). */
double vp_lin_quantile(const __u64 *slots, int n, double p);

/* Add @b's slots into @a. */
void vp_slots_add(__u64 *a, const __u64 *b, int n);

/*
 * Print a log2 histogram, bcc style: one row per non-empty range between
 * the first and the last used slot, with counts and a bar of @width.
 * @div scales values for display (1000 for ns shown as us).
 */
void vp_log2_print(FILE *f, const __u64 *slots, int n, const char *unit, __u64 div, int width);
void vp_lin_print(FILE *f, const __u64 *slots, int n, const char *unit, int width);

/* "1.5ms", "820ns", "-" for a negative value: a latency for a table cell. */
const char *vp_fmt_ns(char *buf, size_t len, double ns);

#endif
