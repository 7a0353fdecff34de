// SPDX-License-Identifier: GPL-2.0
/*
 * bpf/mlock.bpf.c in a kernel that lets it attach: the lab's kernels (run
 * in the guest by the modes tiers), where it must pass.  A kernel that attaches no kprobes
 * (this machine's own, which runs BPF but no tracing attachments) makes
 * it exit 77, which tests/host/run.sh reports as a skip and the lab as a
 * failure.
 *
 * Needs root (CAP_BPF + CAP_PERFMON, CAP_SYS_ADMIN for kprobes at
 * perf_event_paranoid above 2).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "vfiopin.h"
#include "loader.h"
#include "mlock.skel.h"

static int silent(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	(void)lvl;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * A process's own locking (bpf/mlock.bpf.c), attached by its kprobes:
 * mlock_child locks 8 MiB under mlockall,
 * maps the 8 MiB again over itself (MAP_FIXED), and then lets 7 MiB go.
 * The peak kept is the VmLck it read itself at its peak (the oracle), not
 * the lower one at its end; the most asked for is that plus the 8 MiB the
 * MAP_FIXED mapping was checked for while the old one still counted.  A
 * process that populates without locking is not kept.
 */
struct child {
	pid_t pid;
	int in, out;
};

static struct child spawn_child(const char *how)
{
	char exe[4096], *slash;
	int to[2], from[2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
	struct child c;

	assert_true(n > 0);
	exe[n] = 0;
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	strcpy(slash + 1, "mlock_child");
	/* close-on-exec: the child keeps only its stdin and stdout, so it sees EOF */
	assert_int_equal(pipe2(to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (!c.pid) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execl(exe, exe, how, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c.in = to[1];
	c.out = from[0];
	return c;
}

static void end_child(struct child *c)
{
	int status;

	close(c->in);
	close(c->out);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_own_locking(void **state)
{
	struct mlock_bpf *m = vp_mlock_attach(0);
	struct vp_proc_locked pl;
	long peak_kb = -1, end_kb = -1;
	struct child c;
	char line[64] = "";
	__u32 tgid;
	ssize_t n;

	(void)state;
	assert_non_null(m);
	c = spawn_child("lock");
	n = read(c.out, line, sizeof(line) - 1);
	assert_true(n > 0);
	assert_int_equal(sscanf(line, "%ld %ld", &peak_kb, &end_kb), 2);
	assert_true(peak_kb >= 8192 && end_kb < peak_kb - 4096);
	tgid = (__u32)c.pid;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m->maps.proc_locked), &tgid, &pl), 0);
	assert_int_equal(pl.peak_pages * 4, peak_kb);
	assert_int_equal(pl.need_pages * 4, peak_kb + 8192);
	assert_true(pl.events >= 3);
	end_child(&c);

	c = spawn_child("populate");
	n = read(c.out, line, sizeof(line) - 1);
	assert_true(n > 0);
	tgid = (__u32)c.pid;
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(m->maps.proc_locked), &tgid, &pl), 0);
	end_child(&c);
	mlock_bpf__destroy(m);
	fprintf(stderr, "test_mlock: kprobe: peak %ld kB, asked %ld kB\n", peak_kb, peak_kb + 8192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_locking),
	};

	struct mlock_bpf *m;

	libbpf_set_print(silent);
	m = vp_mlock_attach(0);
	mlock_bpf__destroy(m);
	if (!m) {
		fprintf(stderr, "test_mlock: this kernel attaches no kprobe to __mm_populate and "
				"do_mmap\n");
		return 77;
	}
	return cmocka_run_group_tests_name("a process's own locking (bpf/mlock.bpf.c)", tests, NULL,
					   NULL);
}
