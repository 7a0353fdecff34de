// SPDX-License-Identifier: GPL-2.0
/*
 * What each vfio_type1 event costs vfiopin's BPF side on this CPU, as the
 * kernel itself measures it: with BPF run-time statistics on
 * (BPF_ENABLE_STATS), the raw_tp programs run through BPF_PROG_TEST_RUN
 * in the order a 1-page pin and unpin fires them (pin_begin, account,
 * pin_page, pin_end, unpin_begin, unpin_page, account, unpin_end), with
 * the programs each configuration loads: "aggregate" what export, top and
 * stat load (the ends carry the durations, the begins are not attached),
 * "stream" what trace loads (every event into the ring buffer, read as it
 * fills); each program's run_time_ns / run_cnt from
 * bpf_prog_info, less an empty raw_tp program's figure taken the same
 * way.  Neither syscall time nor machine noise outside the programs
 * enters.  Best of ROUNDS rounds of REPEAT pairs.  Writes JSON; a
 * benchmark: nothing is asserted.
 *
 *   bench_events [REPEAT [ROUNDS]]     (root: loads BPF programs)
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
#include "loader.h"
#include "vfiopin.skel.h"

/* the kernel's own count of runs and the time they took, of program @fd */
static void prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	int err = bench_prog_stats(fd, ns, cnt);

	if (err) {
		fprintf(stderr, "bench_events: bpf_obj_get_info_by_fd: %s\n", strerror(-err));
		exit(1);
	}
}

static void fire(int fd, const __u64 *args, int n)
{
	int err = bench_prog_fire(fd, args, n);

	if (err) {
		fprintf(stderr, "bench_events: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		exit(1);
	}
}

enum {
	P_PIN_BEGIN,
	P_PIN_END,
	P_UNPIN_BEGIN,
	P_UNPIN_END,
	P_PIN_PAGE,
	P_UNPIN_PAGE,
	P_ACCOUNT,
	P_EMPTY,
	P_MAX
};
static const char *const names[P_MAX] = {"pin_begin", "pin_end",    "unpin_begin", "unpin_end",
					 "pin_page",  "unpin_page", "account",	   "empty"};

static int drop_event(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/*
 * Each program's best run_time_ns / run_cnt over @rounds of @repeat 1-page
 * pin and unpin calls, with the programs @l loaded; a program not loaded
 * (the begins, unless streaming) stays at -1.
 */
static void measure(struct vp_loader *l, unsigned int repeat, unsigned int rounds, int empty,
		    double *best)
{
	__u64 open[5] = {1, 100, 0, 0, 0};
	__u64 pin[6] = {1, 100, 0x1000, 1, 3, 0}, pin_end[7] = {1, 100, 0x1000, 1, 3, 1, 1500};
	__u64 unpin[6] = {1, 100, 0x1000, 1, 0, 0}, unpin_end[7] = {1, 100, 0x1000, 1, 0, 1, 900};
	__u64 page[5] = {1, 100, 0x1000, 1, 1}, unpage[5] = {1, 100, 0x1000, 0, 1};
	__u64 charge[8] = {1, 100, 1, 1, 1 << 24, 0, 0, 0};
	__u64 uncharge[8] = {1, 100, (__u64)-1, 0, 1 << 24, 0, 0, 0};
	struct bpf_program *progs[P_MAX] = {
	    l->skel->progs.tp_pin_begin,   l->skel->progs.tp_pin_end,
	    l->skel->progs.tp_unpin_begin, l->skel->progs.tp_unpin_end,
	    l->skel->progs.tp_pin_page,	   l->skel->progs.tp_unpin_page,
	    l->skel->progs.tp_account,	   NULL};
	int fd[P_MAX];

	for (int p = 0; p < P_MAX; p++) {
		fd[p] = p == P_EMPTY ? empty : bpf_program__fd(progs[p]);
		best[p] = -1;
	}
	/* the container exists, as it would */
	fire(bpf_program__fd(l->skel->progs.tp_container_open), open, 5);
	for (unsigned int r = 0; r < rounds; r++) {
		__u64 ns0[P_MAX], cnt0[P_MAX], ns1, cnt1;

		for (int p = 0; p < P_MAX; p++)
			if (fd[p] >= 0)
				prog_stats(fd[p], &ns0[p], &cnt0[p]);
		for (unsigned int i = 0; i < repeat; i++) {
			if (fd[P_PIN_BEGIN] >= 0)
				fire(fd[P_PIN_BEGIN], pin, 6);
			fire(fd[P_ACCOUNT], charge, 8);
			fire(fd[P_PIN_PAGE], page, 5);
			fire(fd[P_PIN_END], pin_end, 7);
			if (fd[P_UNPIN_BEGIN] >= 0)
				fire(fd[P_UNPIN_BEGIN], unpin, 6);
			fire(fd[P_UNPIN_PAGE], unpage, 5);
			fire(fd[P_ACCOUNT], uncharge, 8);
			fire(fd[P_UNPIN_END], unpin_end, 7);
			fire(fd[P_EMPTY], pin, 6);
			/* a streaming run's reader keeps the ring from filling */
			if (l->rb && i % 512 == 511)
				ring_buffer__consume(l->rb);
		}
		for (int p = 0; p < P_MAX; p++) {
			double per;

			if (fd[p] < 0)
				continue;
			prog_stats(fd[p], &ns1, &cnt1);
			if (cnt1 == cnt0[p])
				continue;
			per = (double)(ns1 - ns0[p]) / (double)(cnt1 - cnt0[p]);
			if (best[p] < 0 || per < best[p])
				best[p] = per;
		}
	}
}

/* One configuration's figures, net of the empty program: "NAME":{...,"pair":N} */
static void report(const char *name, const double *best, bool first)
{
	double pair = 0;

	printf("%s\"%s\":{", first ? "" : ",", name);
	for (int p = 0; p < P_EMPTY; p++) {
		double net = best[p] < 0 ? 0 : best[p] - best[P_EMPTY];

		printf("%s\"%s\":", p ? "," : "", names[p]);
		if (best[p] < 0)
			printf("null");
		else
			printf("%.1f", net);
		/* a 1-page pin and unpin: its events, the account program twice */
		pair += net * (p == P_ACCOUNT ? 2 : 1);
	}
	printf(",\"1page_pin_unpin\":%.1f}", pair);
}

int main(int argc, char **argv)
{
	unsigned int repeat = argc > 1 ? (unsigned int)atoi(argv[1]) : 200000;
	unsigned int rounds = argc > 2 ? (unsigned int)atoi(argv[2]) : 5;
	struct vp_opts agg = {.no_attach = true};
	struct vp_opts stream = {.no_attach = true, .events = true};
	double best_agg[P_MAX], best_stream[P_MAX];
	struct vp_loader l;
	int empty, stats;

	if (!repeat || !rounds)
		return 2;
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		fprintf(stderr, "bench_events: BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	empty = bench_prog_empty();
	if (empty < 0) {
		perror("bench_events: loading an empty program");
		return 1;
	}
	/* what export, top and stat load: the begins are not attached */
	if (vp_open(&l, &agg, NULL, NULL))
		return 1;
	measure(&l, repeat, rounds, empty, best_agg);
	vp_close(&l);
	/* what trace loads: every event into the ring buffer, read as it fills */
	if (vp_open(&l, &stream, drop_event, NULL))
		return 1;
	measure(&l, repeat, rounds, empty, best_stream);
	vp_close(&l);
	printf("{\"bench\":\"vfiopin-bpf-event-cost\",\"method\":\"BPF_ENABLE_STATS run_time_ns / "
	       "run_cnt under BPF_PROG_TEST_RUN, less an empty raw_tp program (null: not "
	       "attached)\",\"repeat\":%u,\"rounds\":%u,\"empty_program_ns\":%.1f,\"net_ns\":{",
	       repeat, rounds, best_agg[P_EMPTY]);
	report("aggregate", best_agg, true);
	report("stream", best_stream, false);
	printf("}}\n");
	close(stats);
	close(empty);
	return 0;
}
