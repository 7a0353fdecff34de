/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic containers for the host benchmarks and the exporter test: the
 * real raw_tp programs fed hand-built tracepoint arguments through
 * BPF_PROG_TEST_RUN, so the maps hold what the kernel side would build.
 */
#ifndef VFIOPIN_SYNTH_H
#define VFIOPIN_SYNTH_H

#include <linux/types.h>

struct vfiopin_bpf;
struct bpf_program;

/* What each synthetic container is given (the oracle for tests). */
#define SYNTH_LOCKED_PAGES 16ULL
#define SYNTH_LIMIT	   (64ULL << 20)
#define SYNTH_PIN_CALLS	   4
#define SYNTH_NEW_PINS	   10 /* pin_page edges of the 4 calls */
#define SYNTH_LATE_CID	   4  /* no container_open: seen from mid-life on */
/*
 * Owners above PID_MAX_LIMIT (4194304, the most pid_max can be): no real
 * process has one, whichever pids a busy machine (pid_max 32768 wraps
 * often) hands out, the test's own included.
 */
#define SYNTH_TGID_BASE 4194304U
#define SYNTH_TGID(cid) (SYNTH_TGID_BASE + (cid))

/* Run @prog once with the @n tracepoint arguments that follow. */
void synth_fire(struct bpf_program *prog, int n, ...);

/*
 * Open, attach a group, charge and pin for container @cid owned by @tgid
 * (the owner's comm is recorded when @tgid is the calling process).
 */
void synth_container(struct vfiopin_bpf *k, __u32 cid, __u32 tgid);

/* Release container @cid (the teardown's last event). */
void synth_release(struct vfiopin_bpf *k, __u32 cid, __u32 tgid);

#endif
