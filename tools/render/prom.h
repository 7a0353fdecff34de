/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot in the Prometheus text exposition format, version 0.0.4:
 * what `vfiopin export` serves on /metrics.  Pure (no BPF, no sockets) so
 * the exposition can be unit-tested; the metric names are listed in
 * tools/README.md and used by dashboards/.
 */
#ifndef VFIOPIN_PROM_H
#define VFIOPIN_PROM_H

#include <stdbool.h>
#include <stdio.h>
#include "snapshot.h"

#define VP_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct vp_prom_info {
	const char *version;
	const char *mode;     /* how the kernel is observed: "tracepoint", ... */
	double scrape_prev_s; /* the previous scrape's render time; <0: none */
	bool container_hists; /* latency histograms per container too (rows' lat) */
};

/* Write every metric family of @s to @f; returns -1 on a write error. */
int vp_prom_write(FILE *f, const struct vp_snapshot *s, const struct vp_prom_info *info);

/*
 * Copy @in into @out (of @len bytes) as a label value: backslash, double
 * quote and newline escaped as the format asks, other control bytes and
 * bytes that are not printable ASCII replaced by '?' (a comm is raw
 * bytes; an exposition must be UTF-8).  Always NUL-terminates.
 */
void vp_prom_label(char *out, size_t len, const char *in);

#endif
