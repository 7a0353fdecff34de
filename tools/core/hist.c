// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include "hist.h"

__u64 vp_lat_low(int slot)
{
	int shift;

	if (slot < 2 * VP_LAT_SUB)
		return slot < 0 ? 0 : (__u64)slot;
	shift = slot / VP_LAT_SUB - 1;
	return (__u64)(slot - shift * VP_LAT_SUB) << shift;
}

__u64 vp_lat_high(int slot)
{
	if (slot >= VP_LAT_SLOTS - 1)
		return UINT64_MAX;
	return vp_lat_low(slot + 1) - 1;
}

int vp_lat_slot(__u64 v)
{
	int b = v ? 64 - __builtin_clzll(v) : 0;
	int shift = b > VP_LAT_SUB_BITS + 1 ? b - 1 - VP_LAT_SUB_BITS : 0;

	if (b > VP_LAT_MAX_LOG2)
		return VP_LAT_SLOTS - 1;
	return shift * VP_LAT_SUB + (int)(v >> shift);
}

/*
 * The slots of @h in use, [*lo, *hi], and their total; false if empty.
 * The BPF side keeps the range as it counts; a histogram read while it
 * counts, or one whose range two CPUs raced to set, may not add up to its
 * count, and is then read whole.
 */
static bool used(const struct vp_hist *h, int *lo, int *hi, __u64 *total)
{
	__u64 t = 0;

	*lo = 0;
	*hi = VP_LAT_SLOTS - 1;
	if (!h->count)
		return false;
	if (h->lo <= h->hi && h->hi < VP_LAT_SLOTS) {
		for (int i = (int)h->lo; i <= (int)h->hi; i++)
			t += h->slots[i];
		if (t == h->count) {
			*lo = (int)h->lo;
			*hi = (int)h->hi;
			*total = t;
			return true;
		}
	}
	t = 0;
	*lo = -1;
	for (int i = 0; i < VP_LAT_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		if (*lo < 0)
			*lo = i;
		*hi = i;
		t += h->slots[i];
	}
	*total = t;
	return t > 0;
}

void vp_hist_add(struct vp_hist *a, const struct vp_hist *b)
{
	int lo, hi;
	__u64 total;

	if (!used(b, &lo, &hi, &total))
		return;
	for (int i = lo; i <= hi; i++)
		a->slots[i] += b->slots[i];
	if (!a->count || (__u32)lo < a->lo)
		a->lo = (__u32)lo;
	if (!a->count || (__u32)hi > a->hi)
		a->hi = (__u32)hi;
	a->count += total;
	a->sum += b->sum;
}

__u64 vp_hist_total(const struct vp_hist *h)
{
	int lo, hi;
	__u64 total;

	return used(h, &lo, &hi, &total) ? total : 0;
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

void vp_hist_quantiles(const struct vp_hist *h, const double *p, double *out, int n)
{
	double cum = 0;
	__u64 total;
	int lo, hi, k = 0;
	bool any = used(h, &lo, &hi, &total);

	for (int j = 0; j < n; j++)
		out[j] = -1;
	/* one pass for all: the ranks ascend with @p */
	for (int i = lo; any && i <= hi && k < n; i++) {
		cum += (double)h->slots[i];
		for (; k < n && h->slots[i] && cum >= rank_of(total, p[k]); k++) {
			/* the middle of the slot: within 1/16 of any value in it */
			if (i == VP_LAT_SLOTS - 1)
				out[k] = (double)vp_lat_low(i);
			else
				out[k] = ((double)vp_lat_low(i) + (double)vp_lat_high(i)) / 2;
		}
	}
}

double vp_hist_quantile(const struct vp_hist *h, double p)
{
	double q;

	if (p <= 0 || p > 1)
		return -1;
	vp_hist_quantiles(h, &p, &q, 1);
	return q;
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

void vp_hist_print(FILE *f, const struct vp_hist *h, const char *unit, __u64 div, int width)
{
	int first, last;
	__u64 max;

	used_range(h->slots, VP_LAT_SLOTS, &first, &last, &max);
	if (first < 0) {
		fprintf(f, "     (no samples)\n");
		return;
	}
	if (!div)
		div = 1;
	fprintf(f, "%24s : %-10s %s\n", unit, "count", "distribution");
	for (int i = first; i <= last; i++) {
		/* runs of empty slots are one row */
		if (!h->slots[i] && i > first && !h->slots[i - 1]) {
			continue;
		} else if (!h->slots[i]) {
			int j = i;

			while (j < last && !h->slots[j + 1])
				j++;
			fprintf(f, "%10llu -> %-10llu : %-10d ",
				(unsigned long long)(vp_lat_low(i) / div),
				(unsigned long long)(vp_lat_high(j) / div), 0);
		} else {
			fprintf(f, "%10llu -> %-10llu : %-10llu ",
				(unsigned long long)(vp_lat_low(i) / div),
				(unsigned long long)(vp_lat_high(i) / div),
				(unsigned long long)h->slots[i]);
		}
		bar(f, h->slots[i], max, width);
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
