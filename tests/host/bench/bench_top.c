// SPDX-License-Identifier: GPL-2.0
/*
 * What one vfiopin-top refresh costs with N containers: the real loader
 * and BPF maps, populated through BPF_PROG_TEST_RUN on the raw_tp programs
 * with every container opened, pinning (with latencies) and charged; then
 * the refresh top does (read every entry, derive, sort, render the table)
 * repeated, its CPU time measured with getrusage.  At 1 Hz the CPU share
 * is the time per refresh; RSS is the process's peak.  Writes JSON.
 *
 *   bench_top [CONTAINERS [REFRESHES]]     (root: loads BPF programs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "output.h"
#include "synth.h"
#include "vfiopin.skel.h"

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 1000;
	unsigned int refreshes = argc > 2 ? (unsigned int)atoi(argv[2]) : 50;
	struct vp_opts o = {.no_attach = true, .max_containers = n + 16};
	FILE *null = fopen("/dev/null", "w");
	struct vp_loader l;
	struct vp_snapshot s;
	struct rusage ru;
	double t0, t1;
	size_t seen = 0;

	if (!n || !refreshes || !null) {
		fprintf(stderr, "usage: bench_top [CONTAINERS [REFRESHES]]\n");
		return 2;
	}
	if (vp_open(&l, &o, NULL, NULL))
		return 1;
	for (unsigned int c = 1; c <= n; c++)
		synth_container(l.skel, c, SYNTH_TGID(c));
	/* the first refresh sees them all */
	if (vp_snapshot_and_retire(&l, &s))
		return 1;
	seen = s.n;
	vp_snapshot_free(&s);
	t0 = cpu_s();
	for (unsigned int i = 0; i < refreshes; i++) {
		if (vp_snapshot_and_retire(&l, &s))
			return 1;
		if (vp_snapshot_sort(&s, VP_SORT_LOCKED))
			return 1;
		vp_print_table(null, &s);
		vp_snapshot_free(&s);
	}
	t1 = cpu_s();
	getrusage(RUSAGE_SELF, &ru);
	vp_close(&l);
	printf("{\"bench\":\"vfiopin-top-refresh\",\"containers\":%u,\"seen\":%zu,"
	       "\"refreshes\":%u,\"cpu_s_per_refresh\":%.6f,"
	       "\"cpu_percent_at_1hz\":%.3f,\"max_rss_kib\":%ld}\n",
	       n, seen, refreshes, (t1 - t0) / refreshes, 100.0 * (t1 - t0) / refreshes,
	       ru.ru_maxrss);
	fclose(null);
	return seen == n ? 0 : 1;
}
