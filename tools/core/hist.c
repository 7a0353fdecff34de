// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "hist.h"

__u64 vp_slot_low(int slot)
{
	return slot <= 0 ? 0 : 1ULL << (slot - 1);
}

__u64 vp_slot_high(int slot)
{
	if (slot <= 0)
		return 0;
	if (slot >= 64)
		return UINT64_MAX;
	return (1ULL << slot) - 1;
}

__u64 vp_slots_total(const __u64 *slots, int n)
{
	__u64 t = 0;

	for (int i = 0; i < n; i++)
		t += slots[i];
	return t;
}

void vp_slots_add(__u64 *a, const __u64 *b, int n)
{
	for (int i = 0; i < n; i++)
		a[i] += b[i];
}

/* Index of the slot holding rank @rank (1-based) and the rank before it. */
static int rank_slot(const __u64 *slots, int n, double rank, double *below)
{
	double cum = 0;

	for (int i = 0; i < n; i++) {
		if (slots[i] && cum + slots[i] >= rank) {
			*below = cum;
			return i;
		}
		cum += slots[i];
	}
	*below = cum;
	return -1;
}

static double rank_of(__u64 total, double p)
{
	double r = ceil(p * (double)total);

	return r < 1 ? 1 : r;
}

double vp_log2_quantile(const __u64 *slots, int n, double p)
{
	__u64 total = vp_slots_total(slots, n);
	double below, rank, lo, hi;
	int s;

	if (!total || p <= 0 || p > 1)
		return -1;
	rank = rank_of(total, p);
	s = rank_slot(slots, n, rank, &below);
	if (s < 0)
		return -1;
	if (s == 0)
		return 0;
	lo = (double)vp_slot_low(s);
	hi = (double)vp_slot_high(s) + 1;
	/* the rank-th value sits this far into its bucket */
	return lo + (hi - lo) * ((rank - below) / (double)slots[s]);
}

double vp_lin_quantile(const __u64 *slots, int n, double p)
{
	__u64 total = vp_slots_total(slots, n);
	double below;
	int s;

	if (!total || p <= 0 || p > 1)
		return -1;
	s = rank_slot(slots, n, rank_of(total, p), &below);
	return s;
}

static void bar(FILE *f, __u64 v, __u64 max, int width)
{
	int len = max ? (int)((v * (__u64)width + max - 1) / max) : 0;

	fputc('|', f);
	for (int i = 0; i < width; i++)
		fputc(i < len ? '*' : ' ', f);
	fputc('|', f);
}

static void used_range(const __u64 *slots, int n, int *first, int *last, __u64 *max)
{
	*first = -1;
	*last = -1;
	*max = 0;
	for (int i = 0; i < n; i++) {
		if (!slots[i])
			continue;
		if (*first < 0)
			*first = i;
		*last = i;
		if (slots[i] > *max)
			*max = slots[i];
	}
}

void vp_log2_print(FILE *f, const __u64 *slots, int n, const char *unit, __u64 div, int width)
{
	int first, last;
	__u64 max;

	used_range(slots, n, &first, &last, &max);
	if (first < 0) {
		fprintf(f, "     (no samples)\n");
		return;
	}
	if (!div)
		div = 1;
	fprintf(f, "%24s : %-10s %s\n", unit, "count", "distribution");
	for (int i = first; i <= last; i++) {
		fprintf(f, "%10llu -> %-10llu : %-10llu ",
			(unsigned long long)(vp_slot_low(i) / div),
			(unsigned long long)(vp_slot_high(i) / div), (unsigned long long)slots[i]);
		bar(f, slots[i], max, width);
		fputc('\n', f);
	}
}

void vp_lin_print(FILE *f, const __u64 *slots, int n, const char *unit, int width)
{
	int first, last;
	__u64 max;

	used_range(slots, n, &first, &last, &max);
	if (first < 0) {
		fprintf(f, "     (no samples)\n");
		return;
	}
	fprintf(f, "%24s : %-10s %s\n", unit, "count", "distribution");
	for (int i = first; i <= last; i++) {
		char label[32];

		snprintf(label, sizeof(label), i == n - 1 ? "%d+" : "%d", i);
		fprintf(f, "%24s : %-10llu ", label, (unsigned long long)slots[i]);
		bar(f, slots[i], max, width);
		fputc('\n', f);
	}
}

const char *vp_fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 0 || isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}
