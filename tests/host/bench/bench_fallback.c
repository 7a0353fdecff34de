// SPDX-License-Identifier: GPL-2.0
/*
 * What the fallback's handlers cost a vendor driver's pin and unpin calls
 * on this CPU, as the kernel itself measures it: with BPF run-time
 * statistics on (BPF_ENABLE_STATS), the handlers of
 * bpf/type1-fallback.bpf.c under raw_tp programs (fb_bench.bpf.c) run
 * through BPF_PROG_TEST_RUN: a pin call of NPAGE pages then its unpin,
 * entry and exit handler in one program each, for 1 and 512 pages; and
 * the per-page record alone (fb_page) over the same pages.  Each figure
 * is run_time_ns / run_cnt less an empty raw_tp program's, the best of
 * ROUNDS rounds of REPEAT calls.  What this cannot include: the kprobe or
 * fentry trampoline itself, and the second program's fixed cost (entry
 * and exit are one program here, two on a kernel).  Writes JSON; a
 * benchmark: nothing is asserted.
 *
 *   bench_fallback [REPEAT [ROUNDS]]     (root: loads BPF programs)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfstats.h"
#include "vfiopin.h"
#include "fb_bench.skel.h"

enum { B_PIN, B_UNPIN, B_PAGES_PIN, B_PAGES_UNPIN, B_EMPTY, B_MAX };

/* Each program's best ns per run over @rounds of @repeat calls of @npage pages. */
static int measure(const int *fd, __u64 npage, unsigned int repeat, unsigned int rounds,
		   double *best)
{
	__u64 call[3] = {0x4242, 0x100000, npage};
	__u64 pages_pin[4] = {0x4343, 0x100000, npage, 1};
	__u64 pages_unpin[4] = {0x4343, 0x100000, npage, 0};
	int err = 0;

	for (int p = 0; p < B_MAX; p++)
		best[p] = -1;
	for (unsigned int r = 0; r < rounds && !err; r++) {
		__u64 ns0[B_MAX], cnt0[B_MAX], ns1 = 0, cnt1 = 0;

		for (int p = 0; p < B_MAX && !err; p++)
			err = bench_prog_stats(fd[p], &ns0[p], &cnt0[p]);
		for (unsigned int i = 0; i < repeat && !err; i++) {
			err = bench_prog_fire(fd[B_PIN], call, 3);
			err = err ? err : bench_prog_fire(fd[B_UNPIN], call, 3);
			err = err ? err : bench_prog_fire(fd[B_PAGES_PIN], pages_pin, 4);
			err = err ? err : bench_prog_fire(fd[B_PAGES_UNPIN], pages_unpin, 4);
			err = err ? err : bench_prog_fire(fd[B_EMPTY], call, 3);
		}
		for (int p = 0; p < B_MAX && !err; p++) {
			double per;

			err = bench_prog_stats(fd[p], &ns1, &cnt1);
			if (err || cnt1 == cnt0[p])
				continue;
			per = (double)(ns1 - ns0[p]) / (double)(cnt1 - cnt0[p]);
			if (best[p] < 0 || per < best[p])
				best[p] = per;
		}
	}
	return err;
}

static double net(const double *best, int p)
{
	return best[p] - best[B_EMPTY];
}

int main(int argc, char **argv)
{
	unsigned int repeat = argc > 1 ? (unsigned int)atoi(argv[1]) : 20000;
	unsigned int rounds = argc > 2 ? (unsigned int)atoi(argv[2]) : 5;
	static const __u64 sizes[] = {1, 512};
	struct fb_bench_bpf *skel = NULL;
	struct bpf_program *prog;
	int stats = -1, empty = -1, err = 0, fd[B_MAX];
	double best[2][B_MAX];

	if (!repeat || !rounds) {
		fprintf(stderr, "usage: bench_fallback [REPEAT [ROUNDS]] (both above 0)\n");
		return 2;
	}
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		fprintf(stderr, "bench_fallback: BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	empty = bench_prog_empty();
	skel = fb_bench_bpf__open();
	if (empty < 0 || !skel) {
		fprintf(stderr, "bench_fallback: cannot open the programs: %s\n", strerror(errno));
		err = -1;
		goto out;
	}
	/* the bench programs alone; the fallback's own need type1's functions */
	bpf_object__for_each_program(prog, skel->obj)
	    bpf_program__set_autoload(prog, !strncmp(bpf_program__name(prog), "bench_", 6));
	skel->rodata->concurrent = true;
	err = fb_bench_bpf__load(skel);
	if (err) {
		fprintf(stderr, "bench_fallback: cannot load the programs: %s\n", strerror(-err));
		goto out;
	}
	fd[B_PIN] = bpf_program__fd(skel->progs.bench_pin);
	fd[B_UNPIN] = bpf_program__fd(skel->progs.bench_unpin);
	fd[B_PAGES_PIN] = bpf_program__fd(skel->progs.bench_pages);
	fd[B_PAGES_UNPIN] = fd[B_PAGES_PIN];
	fd[B_EMPTY] = empty;
	for (int s = 0; s < 2 && !err; s++)
		err = measure(fd, sizes[s], s ? (repeat + 99) / 100 : repeat, rounds, best[s]);
	if (err) {
		fprintf(stderr, "bench_fallback: %s\n", strerror(-err));
		goto out;
	}
	printf("{\"bench\":\"vfiopin-fallback-handler-cost\",\"method\":\"BPF_ENABLE_STATS "
	       "run_time_ns / run_cnt under BPF_PROG_TEST_RUN, less an empty raw_tp program; "
	       "entry and exit handler of one call in one program; no trampoline\","
	       "\"repeat\":%u,\"rounds\":%u,\"empty_program_ns\":%.1f,\"net_ns\":{",
	       repeat, rounds, best[0][B_EMPTY]);
	for (int s = 0; s < 2; s++) {
		/* the pages program ran pin and unpin alike: its best is the pair's half */
		double pages = net(best[s], B_PAGES_PIN);

		printf("%s\"%llu_page\":{\"pin_call\":%.1f,\"unpin_call\":%.1f,"
		       "\"per_page_record_per_call\":%.1f,\"per_page_record_per_page\":%.2f}",
		       s ? "," : "", (unsigned long long)sizes[s], net(best[s], B_PIN),
		       net(best[s], B_UNPIN), pages, pages / (double)sizes[s]);
	}
	printf("}}\n");
out:
	fb_bench_bpf__destroy(skel);
	if (empty >= 0)
		close(empty);
	close(stats);
	return err ? 1 : 0;
}
