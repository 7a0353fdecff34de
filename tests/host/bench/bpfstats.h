/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host benchmarks measure BPF programs with: the kernel's own
 * run-time statistics (BPF_ENABLE_STATS) of programs run through
 * BPF_PROG_TEST_RUN, less an empty program's.
 */
#ifndef VFIOPIN_BENCH_BPFSTATS_H
#define VFIOPIN_BENCH_BPFSTATS_H

#include <linux/types.h>

/* Program @fd's run count and the time its runs took so far; 0 or -errno. */
int bench_prog_stats(int fd, __u64 *ns, __u64 *cnt);
/* One BPF_PROG_TEST_RUN of raw_tp program @fd with @n arguments; 0 or -errno. */
int bench_prog_fire(int fd, const __u64 *args, int n);
/* An empty raw_tp program (the baseline), its fd; -1 and errno on failure. */
int bench_prog_empty(void);

#endif
