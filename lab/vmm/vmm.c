// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfiopin-vmm: a VMM-like VFIO client for the lab.
 *
 * It does what a VMM does with VFIO, one step at a time, as told on the
 * command line: open a type1v2 container, attach mediated (mpin) and
 * passthrough (vfio-pci) groups, map "guest RAM" for DMA, ask the mpin
 * devices to pin and unpin guest pages through their BAR, hot-unplug and
 * re-plug groups on the live container, unmap ranges.  Every step prints
 * one JSON line with its result and the process's VmLck, so tests compare
 * the kernel's own figures with what was asked.
 *
 * Steps (NAME is an mdev UUID or a PCI address; numbers take 0x):
 *   container              open another container and make it the current
 *                          one (a vIOMMU gives each device its own); the
 *                          steps below act on the current container
 *   attach NAME            add the device's group to the current container
 *   detach NAME            close the device and remove its group
 *   map IOVA SIZE          VFIO_IOMMU_MAP_DMA of guest RAM at IOVA
 *   unmap IOVA SIZE        VFIO_IOMMU_UNMAP_DMA
 *   pin NAME IOVA NPAGES   ask an mpin device to pin pages (BAR command)
 *   unpin NAME IOVA NPAGES ask an mpin device to unpin pages
 *   cycle NAME IOVA NPAGES COUNT  pin then unpin, COUNT times (a benchmark
 *                          loop: prints the time it took, "ns")
 *   sleep MS               wait
 *   hold                   wait for a line on stdin (or EOF, or SIGTERM)
 *   status                 print VmLck and the mpin devices' counters
 * Every step's line has "step_ns", the time the step itself took.
 * With --steps FILE the steps are read from FILE (words separated by
 * white space) instead of the command line, which bounds their number.
 * A step written STEP=ERRNO (e.g. pin=ENOMEM) must fail with that errno.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS 16
#define PAGE	 4096ULL

/* mpin BAR0 registers (samples/vfio-mdev/mpin.c) */
#define MPIN_REG_IOVA	       0x00
#define MPIN_REG_NPAGES	       0x08
#define MPIN_REG_CMD	       0x0c
#define MPIN_REG_RESULT	       0x10
#define MPIN_REG_PINNED	       0x20
#define MPIN_REG_PINS	       0x30
#define MPIN_REG_UNPINS	       0x38
#define MPIN_REG_INVALIDATIONS 0x40
#define MPIN_REG_FAILURES      0x50
#define MPIN_REG_MAGIC	       0x58
#define MPIN_MAGIC	       0x4e49504dU
#define MPIN_CMD_PIN	       1
#define MPIN_CMD_UNPIN	       2

struct dev {
	char name[64];
	int group_no;
	int group_fd;
	int fd;
	bool mdev;
	int ctr;       /* the container it is attached to (an index) */
	uint64_t bar0; /* region offset of BAR0 */
};

#define MAX_CONTAINERS 8

static struct {
	int containers[MAX_CONTAINERS];
	bool iommu_set[MAX_CONTAINERS];
	int ncontainers;
	int container; /* the current one's fd */
	int cur;       /* and index */
	struct dev devs[MAX_DEVS];
	int ndevs;
	uint8_t *ram;
	uint64_t ram_size;
	int step;
	unsigned long pages_pinned; /* by pin steps that succeeded */
	unsigned long pages_unpinned;
	uint64_t memlock;
} vm = {.container = -1};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vfiopin-vmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long vmlck_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Decimal, or hexadecimal with 0x (a leading zero is no octal); 0 digits: *end == s. */
static unsigned long long strtonum(const char *s, char **end)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2]))
		return strtoull(s + 2, end, 16);
	if (!isdigit((unsigned char)s[0])) {
		*end = (char *)s;
		return 0;
	}
	return strtoull(s, end, 10);
}

static uint64_t parse_num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtonum(s, &end);
	if (errno || end == s || *end || s[0] == '-')
		die("%s: '%s' is not a number", what, s);
	return v;
}

static uint64_t parse_size(const char *s, const char *what)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtonum(s, &end);
	if (errno || end == s || s[0] == '-')
		die("%s: '%s' is not a size", what, s);
	if (*end == 'K' || *end == 'k')
		mul = 1ULL << 10, end++;
	else if (*end == 'M')
		mul = 1ULL << 20, end++;
	else if (*end == 'G')
		mul = 1ULL << 30, end++;
	if (*end)
		die("%s: '%s' is not a size", what, s);
	return v * mul;
}

static struct dev *find_dev(const char *name)
{
	for (int i = 0; i < vm.ndevs; i++)
		if (vm.devs[i].fd >= 0 && !strcmp(vm.devs[i].name, name))
			return &vm.devs[i];
	return NULL;
}

static int group_of(const char *name, bool *mdev)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	const char *slash;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", name);
	*mdev = true;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", name);
		*mdev = false;
		n = readlink(path, link, sizeof(link) - 1);
	}
	if (n < 0)
		return -1;
	link[n] = 0;
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

static int bar_rw(struct dev *d, uint64_t reg, void *val, size_t len, bool write)
{
	ssize_t n =
	    write ? pwrite(d->fd, val, len, d->bar0 + reg) : pread(d->fd, val, len, d->bar0 + reg);

	return n == (ssize_t)len ? 0 : -1;
}

static int do_attach(const char *name)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	struct vfio_region_info ri = {.argsz = sizeof(ri)};
	char path[64];
	struct dev *d;
	bool mdev;
	int g, slot;

	if (find_dev(name))
		die("attach %s: already attached", name);
	g = group_of(name, &mdev);
	if (g < 0)
		die("attach %s: no such mdev or PCI device, or it has no IOMMU group", name);
	/* a detached device's slot first: attach/detach may cycle for ever */
	for (slot = 0; slot < vm.ndevs && vm.devs[slot].fd >= 0; slot++)
		;
	if (slot == MAX_DEVS)
		die("too many devices attached at once (at most %d)", MAX_DEVS);
	d = &vm.devs[slot];
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->mdev = mdev;
	d->group_no = g;
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	d->group_fd = open(path, O_RDWR);
	if (d->group_fd < 0)
		return -errno;
	if (ioctl(d->group_fd, VFIO_GROUP_GET_STATUS, &st))
		goto err;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto err;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_SET_CONTAINER, &vm.container))
		goto err;
	if (!vm.iommu_set[vm.cur]) {
		if (ioctl(vm.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			goto err;
		vm.iommu_set[vm.cur] = true;
	}
	d->ctr = vm.cur;
	d->fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d->fd < 0)
		goto err;
	if (mdev) {
		uint32_t magic = 0;

		ri.index = VFIO_PCI_BAR0_REGION_INDEX;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			goto err;
		d->bar0 = ri.offset;
		if (bar_rw(d, MPIN_REG_MAGIC, &magic, 4, false) || magic != MPIN_MAGIC)
			die("attach %s: not an mpin device (magic 0x%x)", name, magic);
	}
	if (slot == vm.ndevs)
		vm.ndevs++;
	return 0;
err : {
	int e = errno;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	close(d->group_fd);
	return -e;
}
}

static int do_detach(const char *name)
{
	struct dev *d = find_dev(name);

	if (!d)
		die("detach %s: not attached", name);
	close(d->fd);
	d->fd = -1;
	if (ioctl(d->group_fd, VFIO_GROUP_UNSET_CONTAINER))
		return -errno;
	close(d->group_fd);
	/* Removing the last group releases the container's IOMMU. */
	vm.iommu_set[d->ctr] = false;
	for (int i = 0; i < vm.ndevs; i++)
		if (vm.devs[i].fd >= 0 && vm.devs[i].ctr == d->ctr)
			vm.iommu_set[d->ctr] = true;
	return 0;
}

static void check_range(uint64_t iova, uint64_t size, const char *what)
{
	if (!size)
		die("%s: size must not be zero", what);
	if (iova % PAGE || size % PAGE)
		die("%s: IOVA 0x%" PRIx64 " and size 0x%" PRIx64 " must be page aligned", what,
		    iova, size);
	if (iova + size < iova || iova + size > vm.ram_size)
		die("%s: 0x%" PRIx64 "+0x%" PRIx64 " is outside guest RAM (0x%" PRIx64 " bytes)",
		    what, iova, size, vm.ram_size);
}

static int do_map(uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
	    .argsz = sizeof(m),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = (uintptr_t)vm.ram + iova,
	    .iova = iova,
	    .size = size,
	};

	check_range(iova, size, "map");
	return ioctl(vm.container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static int do_unmap(uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
	    .argsz = sizeof(u),
	    .iova = iova,
	    .size = size,
	};

	check_range(iova, size, "unmap");
	if (ioctl(vm.container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	*unmapped = u.size;
	return 0;
}

static int do_pin(const char *name, uint64_t iova, uint32_t npages, uint32_t cmd)
{
	struct dev *d = find_dev(name);
	int32_t result = 0;

	if (!d || !d->mdev)
		die("%s %s: not an attached mpin device", cmd == MPIN_CMD_PIN ? "pin" : "unpin",
		    name);
	if (!npages || iova % PAGE)
		die("pin: IOVA must be page aligned and NPAGES non-zero");
	if (bar_rw(d, MPIN_REG_IOVA, &iova, 8, true) ||
	    bar_rw(d, MPIN_REG_NPAGES, &npages, 4, true) ||
	    bar_rw(d, MPIN_REG_CMD, &cmd, 4, true) || bar_rw(d, MPIN_REG_RESULT, &result, 4, false))
		return -errno;
	return result;
}

static void print_counters(void)
{
	bool first = true;

	printf(",\"devices\":[");
	for (int i = 0; i < vm.ndevs; i++) {
		struct dev *d = &vm.devs[i];
		uint64_t v[5] = {0};
		static const uint64_t regs[5] = {MPIN_REG_PINNED, MPIN_REG_PINS, MPIN_REG_UNPINS,
						 MPIN_REG_INVALIDATIONS, MPIN_REG_FAILURES};

		if (d->fd < 0)
			continue;
		printf("%s{\"name\":\"%s\",\"group\":%d,\"kind\":\"%s\"", first ? "" : ",", d->name,
		       d->group_no, d->mdev ? "mdev" : "pci");
		first = false;
		if (d->mdev) {
			for (int r = 0; r < 5; r++)
				bar_rw(d, regs[r], &v[r], 8, false);
			printf(",\"pinned\":%" PRIu64 ",\"pins\":%" PRIu64 ",\"unpins\":%" PRIu64
			       ",\"invalidations\":%" PRIu64 ",\"failures\":%" PRIu64,
			       v[0], v[1], v[2], v[3], v[4]);
		}
		printf("}");
	}
	printf("]");
}

static int errno_by_name(const char *s)
{
	static const struct {
		const char *n;
		int e;
	} t[] = {
	    {"ENOMEM", ENOMEM}, {"EINVAL", EINVAL}, {"EPERM", EPERM},	{"EBUSY", EBUSY},
	    {"ENODEV", ENODEV}, {"EEXIST", EEXIST}, {"ENOENT", ENOENT}, {"EFAULT", EFAULT},
	    {"E2BIG", E2BIG},	{"ENOSPC", ENOSPC}, {"EACCES", EACCES},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].n, s))
			return t[i].e;
	die("unknown errno name '%s'", s);
}

static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c))
		die("capget: %s", strerror(errno));
	c[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	c[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, c))
		die("capset: %s", strerror(errno));
}

/* Open a container and make it the current one. */
static int new_container(void)
{
	int fd;

	if (vm.ncontainers == MAX_CONTAINERS)
		die("too many containers (at most %d)", MAX_CONTAINERS);
	fd = open("/dev/vfio/vfio", O_RDWR);
	if (fd < 0)
		die("/dev/vfio/vfio: %s (is VFIO in this kernel?)", strerror(errno));
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		die("unexpected VFIO API version");
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		die("the kernel has no VFIO type1v2 IOMMU backend");
	vm.cur = vm.ncontainers++;
	vm.containers[vm.cur] = fd;
	vm.container = fd;
	return 0;
}

static int open_container(void)
{
	new_container();
	printf("{\"event\":\"start\",\"pid\":%d,\"mem\":%" PRIu64 ",\"memlock\":%" PRIu64
	       ",\"vmlck_kb\":%ld}\n",
	       getpid(), vm.ram_size, vm.memlock, vmlck_kb());
	return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The words of @path as a fresh argv (the steps of --steps FILE). */
static void read_steps(const char *path, int *argc, char ***argv)
{
	FILE *f = fopen(path, "r");
	char word[64], fmt[16], **v = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		die("--steps %s: %s", path, strerror(errno));
	snprintf(fmt, sizeof(fmt), "%%%zus", sizeof(word) - 1);
	while (fscanf(f, fmt, word) == 1) {
		if (strlen(word) == sizeof(word) - 1)
			die("--steps %s: a word of %zu characters or more", path, sizeof(word) - 1);
		if (n + 1 >= cap) {
			if (cap > (size_t)INT_MAX / 2)
				die("--steps %s: too many steps", path);
			cap = cap ? 2 * cap : 256;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("--steps %s: out of memory", path);
		}
		v[n] = strdup(word);
		if (!v[n++])
			die("--steps %s: out of memory", path);
	}
	if (ferror(f))
		die("--steps %s: %s", path, strerror(errno));
	fclose(f);
	if (!v)
		die("--steps %s: no steps in it", path);
	v[n] = NULL;
	*argc = (int)n;
	*argv = v;
}

#define HUGE_PAGE (2ULL << 20)

/*
 * Anonymous guest RAM on 2 MiB boundaries, asked to be transparent huge
 * pages (MADV_HUGEPAGE), as a VMM backs it for THP.
 */
static void *thp_ram(uint64_t size)
{
	char *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0),
	     *a;

	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + size, (size_t)(p + size + HUGE_PAGE - (a + size)));
	if (madvise(a, size, MADV_HUGEPAGE))
		die("madvise(MADV_HUGEPAGE): %s", strerror(errno));
	return a;
}

/*
 * Every page of the guest RAM written once before any step (4k: with
 * MADV_NOHUGEPAGE first), then what backs it, from the kernel's own
 * account (/proc/self/smaps of the mapping): a "backing" line with the
 * bytes on huge pages (AnonHugePages, or hugetlbfs pages) and the
 * mapping's page size.
 */
static void populate(const char *backing)
{
	char line[256], start[32];
	uint64_t huge_kb = 0, page_kb = 0, kb;
	bool in = false;
	FILE *f;

	if (!strcmp(backing, "4k") && madvise(vm.ram, vm.ram_size, MADV_NOHUGEPAGE))
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	for (uint64_t off = 0; off < vm.ram_size; off += PAGE)
		((volatile char *)vm.ram)[off] = 1;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)vm.ram);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		die("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (isxdigit((unsigned char)line[0]) && strchr(line, '-') &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = !strncmp(line, start, strlen(start));
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "AnonHugePages: %" SCNu64 " kB", &kb) == 1 ||
		    sscanf(line, "Shared_Hugetlb: %" SCNu64 " kB", &kb) == 1 ||
		    sscanf(line, "Private_Hugetlb: %" SCNu64 " kB", &kb) == 1)
			huge_kb += kb;
		else if (sscanf(line, "KernelPageSize: %" SCNu64 " kB", &kb) == 1)
			page_kb = kb;
	}
	fclose(f);
	if (!page_kb)
		die("the guest RAM's mapping is not in /proc/self/smaps");
	printf("{\"event\":\"backing\",\"kind\":\"%s\",\"bytes\":%" PRIu64
	       ",\"huge_bytes\":%" PRIu64 ",\"kernel_page_kb\":%" PRIu64 "}\n",
	       backing, vm.ram_size, huge_kb * 1024, page_kb);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fputs("usage: vfiopin-vmm [--mem SIZE] [--memlock BYTES] [--keep-ipc-lock]\n"
	      "                   [--hugetlb PATH] [--backing 4k|thp|hugetlb] STEP...\n"
	      "       vfiopin-vmm [OPTION...] --steps FILE\n"
	      "steps: attach NAME | detach NAME | map IOVA SIZE | unmap IOVA SIZE |\n"
	      "       pin NAME IOVA NPAGES | unpin NAME IOVA NPAGES | sleep MS |\n"
	      "       hold | status | container   (STEP=ERRNO: the step must fail so)\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mem", required_argument, NULL, 'm'},     {"memlock", required_argument, NULL, 'l'},
	    {"keep-ipc-lock", no_argument, NULL, 'k'}, {"hugetlb", required_argument, NULL, 'H'},
	    {"backing", required_argument, NULL, 'b'}, {"steps", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	uint64_t memlock = 0;
	bool keep_cap = false, have_memlock = false;
	const char *hugetlb = NULL, *steps = NULL, *backing = NULL;
	int c, failures = 0;

	vm.ram_size = 64ULL << 20;
	while ((c = getopt_long(argc, argv, "+m:l:kH:b:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			vm.ram_size = parse_size(optarg, "--mem");
			break;
		case 'l':
			memlock = parse_size(optarg, "--memlock");
			have_memlock = true;
			break;
		case 'k':
			keep_cap = true;
			break;
		case 'H':
			hugetlb = optarg;
			break;
		case 'b':
			backing = optarg;
			if (strcmp(backing, "4k") && strcmp(backing, "thp") &&
			    strcmp(backing, "hugetlb"))
				die("--backing takes 4k, thp or hugetlb, not '%s'", backing);
			break;
		case 's':
			steps = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!vm.ram_size || vm.ram_size % PAGE)
		die("--mem must be a non-zero multiple of 4 KiB");
	if (backing && (!strcmp(backing, "hugetlb") != !!hugetlb))
		die("--backing hugetlb goes with --hugetlb PATH, and --hugetlb with no other "
		    "backing");
	if (backing && !strcmp(backing, "thp") && vm.ram_size % HUGE_PAGE)
		die("--backing thp needs --mem in whole 2 MiB");
	if (steps) {
		if (optind != argc)
			die("steps come from --steps %s or the command line, not both", steps);
		read_steps(steps, &argc, &argv);
		optind = 0;
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}

	if (have_memlock) {
		struct rlimit rl = {memlock, memlock};

		vm.memlock = memlock;
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			die("setrlimit(RLIMIT_MEMLOCK, %" PRIu64 "): %s", memlock, strerror(errno));
		/* With CAP_IPC_LOCK type1 does not enforce the limit. */
		if (!keep_cap)
			drop_ipc_lock();
	}

	if (hugetlb) {
		char path[PATH_MAX];
		int fd;

		snprintf(path, sizeof(path), "%s/vfiopin-vmm.XXXXXX", hugetlb);
		fd = mkstemp(path);
		if (fd < 0)
			die("hugetlbfs file in %s: %s", hugetlb, strerror(errno));
		unlink(path);
		vm.ram = mmap(NULL, vm.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else if (backing && !strcmp(backing, "thp")) {
		vm.ram = thp_ram(vm.ram_size);
	} else {
		vm.ram = mmap(NULL, vm.ram_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (vm.ram == MAP_FAILED)
		die("guest RAM of %" PRIu64 " bytes: %s", vm.ram_size, strerror(errno));
	if (backing)
		populate(backing);

	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (int dry = 1; dry >= 0; dry--)
		for (int i = optind; i < argc;) {
			char step[32], *eq;
			int expect = 0, ret = 0;
			uint64_t a = 0, b = 0, unmapped = 0, cycle_ns = 0, count = 0, step_ns;
			struct timespec s0, s1;
			const char *name = NULL;
			int need;

			snprintf(step, sizeof(step), "%s", argv[i++]);
			eq = strchr(step, '=');
			if (eq) {
				*eq = 0;
				expect = errno_by_name(eq + 1);
			}
			need = !strcmp(step, "attach") || !strcmp(step, "detach") ||
				       !strcmp(step, "sleep")
				   ? 1
			       : !strcmp(step, "map") || !strcmp(step, "unmap") ? 2
			       : !strcmp(step, "pin") || !strcmp(step, "unpin") ? 3
			       : !strcmp(step, "cycle")				? 4
			       : !strcmp(step, "hold") || !strcmp(step, "status") ||
				       !strcmp(step, "container")
				   ? 0
				   : -1;
			if (need < 0)
				die("unknown step '%s'", step);
			if (i + need > argc)
				die("step '%s' needs %d argument(s)", step, need);
			if (dry) {
				/* Validate everything before touching VFIO. */
				if (!strcmp(step, "sleep"))
					parse_num(argv[i], "sleep");
				if (need == 2)
					check_range(parse_num(argv[i], "IOVA"),
						    parse_size(argv[i + 1], "SIZE"), step);
				if (need == 4) {
					uint64_t n = parse_num(argv[i + 3], "COUNT");

					if (!n || n > 10000000)
						die("%s: COUNT must be 1..10000000", step);
				}
				if (need >= 3) {
					a = parse_num(argv[i + 1], "IOVA");
					b = parse_num(argv[i + 2], "NPAGES");
					if (!b || b > 512)
						die("%s: NPAGES must be 1..512", step);
					check_range(a, b * PAGE, step);
				}
				i += need;
				if (i == argc) {
					if (open_container())
						return 2;
				}
				continue;
			}

			clock_gettime(CLOCK_MONOTONIC, &s0);
			if (!strcmp(step, "attach")) {
				name = argv[i];
				ret = do_attach(name);
			} else if (!strcmp(step, "detach")) {
				name = argv[i];
				ret = do_detach(name);
			} else if (!strcmp(step, "sleep")) {
				uint64_t ms = parse_num(argv[i], "sleep");
				struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

				nanosleep(&ts, NULL);
			} else if (!strcmp(step, "map")) {
				a = parse_num(argv[i], "map IOVA");
				b = parse_size(argv[i + 1], "map SIZE");
				ret = do_map(a, b);
			} else if (!strcmp(step, "unmap")) {
				a = parse_num(argv[i], "unmap IOVA");
				b = parse_size(argv[i + 1], "unmap SIZE");
				ret = do_unmap(a, b, &unmapped);
			} else if (!strcmp(step, "pin") || !strcmp(step, "unpin")) {
				name = argv[i];
				a = parse_num(argv[i + 1], "IOVA");
				b = parse_num(argv[i + 2], "NPAGES");
				if (!b || b > 512)
					die("%s: NPAGES must be 1..512", step);
				ret = do_pin(name, a, b,
					     step[0] == 'p' ? MPIN_CMD_PIN : MPIN_CMD_UNPIN);
				if (ret > 0 && step[0] == 'p')
					vm.pages_pinned += ret;
				else if (ret > 0)
					vm.pages_unpinned += ret;
			} else if (!strcmp(step, "cycle")) {
				struct timespec t0, t1;

				name = argv[i];
				a = parse_num(argv[i + 1], "IOVA");
				b = parse_num(argv[i + 2], "NPAGES");
				count = parse_num(argv[i + 3], "COUNT");
				clock_gettime(CLOCK_MONOTONIC, &t0);
				for (uint64_t k = 0; k < count && !ret && !stop; k++) {
					ret = do_pin(name, a, b, MPIN_CMD_PIN);
					if (ret == (int)b)
						ret = do_pin(name, a, b, MPIN_CMD_UNPIN);
					ret = ret == (int)b ? 0 : ret < 0 ? ret : -EIO;
				}
				clock_gettime(CLOCK_MONOTONIC, &t1);
				cycle_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
					   (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
			} else if (!strcmp(step, "container")) {
				ret = new_container();
			} else if (!strcmp(step, "hold")) {
				char line[64];

				printf("{\"event\":\"holding\",\"pid\":%d,\"vmlck_kb\":%ld}\n",
				       getpid(), vmlck_kb());
				/* Until a line (or EOF) arrives on stdin, or a signal. */
				if (!stop && !fgets(line, sizeof(line), stdin))
					clearerr(stdin);
			}
			clock_gettime(CLOCK_MONOTONIC, &s1);
			step_ns = (uint64_t)(s1.tv_sec - s0.tv_sec) * 1000000000ULL +
				  (uint64_t)s1.tv_nsec - (uint64_t)s0.tv_nsec;
			i += need;

			printf("{\"step\":%d,\"op\":\"%s\"", vm.step++, step);
			if (name)
				printf(",\"dev\":\"%s\"", name);
			if (need >= 2)
				printf(",\"iova\":%" PRIu64 ",\"%s\":%" PRIu64, a,
				       need >= 3 ? "npages" : "size", b);
			if (need == 4)
				printf(",\"count\":%" PRIu64 ",\"ns\":%" PRIu64, count, cycle_ns);
			if (!strcmp(step, "unmap") && !ret)
				printf(",\"unmapped\":%" PRIu64, unmapped);
			printf(",\"ret\":%d,\"step_ns\":%" PRIu64, ret, step_ns);
			if (ret < 0)
				printf(",\"errno\":\"%s\"",
				       strerrorname_np(-ret) ? strerrorname_np(-ret) : "?");
			printf(",\"vmlck_kb\":%ld,\"container\":%d", vmlck_kb(), vm.cur);
			if (!strcmp(step, "status"))
				print_counters();
			printf("}\n");

			if (expect && ret != -expect) {
				fprintf(stderr,
					"vfiopin-vmm: step %d (%s) returned %d, expected -%s\n",
					vm.step - 1, step, ret, strerrorname_np(expect));
				failures++;
			} else if (!expect && ret < 0) {
				fprintf(stderr, "vfiopin-vmm: step %d (%s) failed: %s\n",
					vm.step - 1, step, strerror(-ret));
				failures++;
			}
		}

	printf("{\"event\":\"end\",\"steps\":%d,\"failures\":%d,\"pages_pinned\":%lu,"
	       "\"pages_unpinned\":%lu,\"vmlck_kb\":%ld}\n",
	       vm.step, failures, vm.pages_pinned, vm.pages_unpinned, vmlck_kb());
	return failures ? 1 : 0;
}
