// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "synth.h"
#include "vfiopin.h"
#include "vfiopin.skel.h"

void synth_fire(struct bpf_program *prog, int n, ...)
{
	__u64 args[8] = {0};
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		args[i] = va_arg(ap, __u64);
	va_end(ap);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = n * sizeof(__u64));
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts)) {
		perror("synthetic events: BPF_PROG_TEST_RUN");
		exit(1);
	}
}

void synth_container(struct vfiopin_bpf *k, __u32 c, __u32 owner)
{
	__u64 cid = c, tgid = owner;

	/* container 4 was opened before anyone watched: first seen mid-life */
	if (c != SYNTH_LATE_CID)
		synth_fire(k->progs.tp_container_open, 5, cid, tgid, 0ULL, 0ULL, 0ULL);
	synth_fire(k->progs.tp_group_attach, 5, cid, tgid, 100ULL + c, 1ULL, 0ULL);
	synth_fire(k->progs.tp_account, 8, cid, tgid, SYNTH_LOCKED_PAGES, SYNTH_LOCKED_PAGES,
		   SYNTH_LIMIT, 0ULL, 0ULL, 0ULL);
	for (__u64 p = 0; p < SYNTH_PIN_CALLS; p++) {
		for (__u64 q = 0; q < 4; q++)
			synth_fire(k->progs.tp_pin_page, 5, cid, tgid, (p + q) << 12,
				   1ULL + (q < p), (__u64)(q >= p));
		/* the kernel measured the call (pin_end carries it) */
		synth_fire(k->progs.tp_pin_end, 7, cid, tgid, p << 12, 4ULL, 3ULL, 4ULL,
			   2000ULL + 1000 * p);
	}
}

void synth_release(struct vfiopin_bpf *k, __u32 c, __u32 owner)
{
	synth_fire(k->progs.tp_container_release, 5, (__u64)c, (__u64)owner, 0ULL, 0ULL, 0ULL);
}
