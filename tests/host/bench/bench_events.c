// SPDX-License-Identifier: GPL-2.0
/*
 * What one vfio_type1 event costs vfiopin's BPF side on this CPU: each
 * raw_tp program run REPEAT times through BPF_PROG_TEST_RUN (raw_tp runs
 * take no in-kernel repeat), less the same number of runs of an empty
 * raw_tp program (the syscall's own cost); the container entry exists as
 * it would.  Writes JSON.  A benchmark: nothing is asserted.
 *
 *   bench_events [REPEAT]     (root: loads BPF programs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "vfiopin.skel.h"

static double now_ns(void)
{
	return (double)vp_now_ns();
}

/* Total ns of @repeat test runs of program @fd. */
static double runs(int fd, const __u64 *args, int n, unsigned int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = n * sizeof(__u64));
	double t0 = now_ns();

	for (unsigned int i = 0; i < repeat; i++) {
		if (bpf_prog_test_run_opts(fd, &opts)) {
			perror("bench_events: BPF_PROG_TEST_RUN");
			exit(1);
		}
	}
	return now_ns() - t0;
}

static int noop_fd;

static double run(struct bpf_program *prog, const __u64 *args, int n, unsigned int repeat)
{
	double best = 1e18;

	/* best of three, each less an equal number of empty runs */
	for (int k = 0; k < 3; k++) {
		double base = runs(noop_fd, args, n, repeat);
		double t = runs(bpf_program__fd(prog), args, n, repeat);
		double per = (t - base) / repeat;

		if (per < best)
			best = per;
	}
	return best < 0 ? 0 : best;
}

static int load_noop(void)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "noop", "GPL", insns, 2, NULL);
}

int main(int argc, char **argv)
{
	unsigned int repeat = argc > 1 ? (unsigned int)atoi(argv[1]) : 100000;
	struct vp_opts o = {.no_attach = true};
	struct vp_loader l;
	struct vfiopin_bpf *k;
	__u64 open[5] = {1, 100, 0, 0, 0};
	__u64 pin[6] = {1, 100, 0x1000, 1, 3, 0};
	__u64 pin_end[6] = {1, 100, 0x1000, 1, 3, 1};
	__u64 page[5] = {1, 100, 0x1000, 1, 1};
	__u64 unpage[5] = {1, 100, 0x1000, 0, 1};
	__u64 acct[8] = {1, 100, 1, 1, 1 << 24, 0, 0, 0};
	double t_begin, t_end, t_page, t_unpage, t_acct, pair;

	if (!repeat)
		return 2;
	if (vp_open(&l, &o, NULL, NULL))
		return 1;
	k = l.skel;
	noop_fd = load_noop();
	if (noop_fd < 0) {
		perror("bench_events: loading an empty program");
		return 1;
	}
	runs(bpf_program__fd(k->progs.tp_container_open), open, 5, 1);
	t_begin = run(k->progs.tp_pin_begin, pin, 6, repeat);
	t_end = run(k->progs.tp_pin_end, pin_end, 6, repeat);
	t_page = run(k->progs.tp_pin_page, page, 5, repeat);
	t_unpage = run(k->progs.tp_unpin_page, unpage, 5, repeat);
	t_acct = run(k->progs.tp_account, acct, 8, repeat);
	/* a 1-page pin + unpin fires 8 events: begin, account, page, end, twice */
	pair = 2 * (t_begin + t_end + t_acct) + t_page + t_unpage;
	printf("{\"bench\":\"vfiopin-bpf-event-cost\",\"repeat\":%u,\"ns\":{\"pin_begin\":%.0f,"
	       "\"pin_end\":%.0f,\"pin_page\":%.0f,\"unpin_page\":%.0f,\"account\":%.0f},"
	       "\"ns_per_1page_pin_unpin_pair\":%.0f}\n",
	       repeat, t_begin, t_end, t_page, t_unpage, t_acct, pair);
	vp_close(&l);
	return 0;
}
