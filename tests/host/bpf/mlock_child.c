// SPDX-License-Identifier: GPL-2.0
/*
 * A process that locks memory of its own, for test_bpf's watch of
 * bpf/mlock.bpf.c.  "lock": mlockall(MCL_CURRENT | MCL_FUTURE), an 8 MiB
 * mapping (locked and populated under MCL_FUTURE), its VmLck read at that
 * peak, the mapping gone and a 1 MiB one made, VmLck read again.
 * "populate": an 8 MiB MAP_POPULATE mapping and nothing locked.  Writes
 * "PEAK_KB END_KB\n" to stdout and waits for stdin to close, so that the
 * test reads the map while the process still runs.  Plain C without
 * allocations of its own (no stdio), and its stack grown before it locks:
 * every rise of its locked memory is one the kernel populates.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char buf[8192];

static long vmlck_kb(void)
{
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, "\nVmLck:");
	return p ? strtol(p + 7, NULL, 10) : -1;
}

/* the stack as deep as the rest will ever go, before it is locked */
static __attribute__((noinline)) void grow_stack(void)
{
	volatile char deep[256 << 10];

	for (size_t i = 0; i < sizeof(deep); i += 4096)
		deep[i] = 1;
}

int main(int argc, char **argv)
{
	int populate = argc > 1 && !strcmp(argv[1], "populate");
	long peak, end;
	char out[64], c;
	void *p, *q;
	int n;

	grow_stack();
	if (!populate && mlockall(MCL_CURRENT | MCL_FUTURE))
		return 2;
	p = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
	if (p == MAP_FAILED)
		return 2;
	peak = vmlck_kb();
	/* the same 8 MiB mapped again over itself: checked as 8 MiB more */
	if (!populate && mmap(p, 8 << 20, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
		return 2;
	if (!populate && vmlck_kb() != peak)
		return 3;
	munmap(p, 8 << 20);
	q = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return 2;
	end = vmlck_kb();
	n = snprintf(out, sizeof(out), "%ld %ld\n", peak, end);
	if (write(1, out, (size_t)n) != n)
		return 2;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
