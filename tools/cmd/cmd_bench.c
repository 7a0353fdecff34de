// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin bench: run a parameterised pinning workload with the VFIO client
 * (vfiopin-vmm) several times and write one JSON file (schema
 * vfiopin.bench, version 1, documented in tools/README.md): the workload,
 * the environment, raw samples per metric, and vfiopin's own histograms
 * of the runs.  `vfiopin compare` reads two of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <jansson.h>
#include "benchfile.h"
#include "cli.h"
#include "cmd.h"
#include "output.h"

#define PAGE (1ULL << VP_PAGE_SHIFT)
#define HUGE (2ULL << 20)

enum workload { WL_MDEV, WL_PT, WL_MIXED };
static const char *const workload_names[] = {"mdev", "passthrough", "mixed"};

/* Metrics, in the order they are written. */
enum metric {
	M_PIN_CALL,
	M_UNPIN_CALL,
	M_PIN_PPS,
	M_MAP,
	M_MAP_PPS,
	M_REPLAY,
	M_UNMAP,
	M_MAX,
};

static const struct {
	const char *name, *unit, *better, *what;
} metric_info[M_MAX] = {
    [M_PIN_CALL] = {"pin_call_ns", "ns", "lower", "one vfio_pin_pages call through the mdev"},
    [M_UNPIN_CALL] = {"unpin_call_ns", "ns", "lower", "one vfio_unpin_pages call"},
    [M_PIN_PPS] = {"pin_pages_per_s", "1/s", "higher", "pages per second of each pin call"},
    [M_MAP] = {"map_ns", "ns", "lower", "VFIO_IOMMU_MAP_DMA of the whole guest RAM"},
    [M_MAP_PPS] = {"map_pages_per_s", "1/s", "higher",
		   "pages per second pinned and mapped by MAP_DMA (passthrough)"},
    [M_REPLAY] = {"replay_ns", "ns", "lower",
		  "attaching a passthrough group to a container with mappings (replay)"},
    [M_UNMAP] = {"unmap_ns", "ns", "lower", "VFIO_IOMMU_UNMAP_DMA of the whole guest RAM"},
};

struct bench_opts {
	struct vp_common common;
	enum workload workload;
	uint32_t per_call;
	uint32_t total;
	uint32_t repeat;
	uint32_t warmup;
	const char *hugetlb;
	const char *backing; /* 4k, thp, hugetlb; NULL: the client's default */
	uint32_t size_mib;
	bool total_set;
	const char *mdev;
	const char *pci;
	const char *vmm;
	bool no_hists;
	char **argv;
	int argc;
};

/* What the client said backed its guest RAM, over the recorded runs. */
struct backing_seen {
	uint32_t runs;
	uint64_t bytes, huge_min, page_kb;
};

struct series {
	double *v;
	size_t n, cap;
	uint32_t *per_run; /* samples each repetition gave; NULL for warm-ups */
};

static const char bench_doc[] =
    "Run a pinning workload with the VFIO client and write its samples as JSON.\n"
    "\n"
    "Each repetition starts a fresh vfiopin-vmm: attach the devices, map the "
    "guest RAM (--total-pages, 4 KiB pages, optionally from hugetlbfs), pin "
    "it through the mdev in calls of --pages-per-call pages, unpin, unmap, "
    "detach.  mdev: only the mdev; passthrough: only the vfio-pci device "
    "(MAP_DMA pins everything); mixed: the mdev pins, then the passthrough "
    "device is hot-plugged (replay) and unplugged.  Every call's time is a "
    "sample.  --warmup repetitions run first and are not recorded: the first "
    "run of a code path pays for cold caches (and, under emulation, for "
    "translating the code), which is not what a comparison should measure.  "
    "The JSON (schema \"vfiopin.bench\" version 1, tools/README.md) "
    "has the workload, the environment (kernel release and build, command "
    "line, CPUs, type1's disable_hugepages), the samples per metric and, "
    "unless --no-hists, vfiopin's histograms of the runs.  --backing 4k, thp "
    "or hugetlb writes every page of the guest RAM before any step (4k: "
    "with MADV_NOHUGEPAGE, thp: 2 MiB aligned with MADV_HUGEPAGE, hugetlb: "
    "from --hugetlb's hugetlbfs) and records what the kernel says backed it "
    "(/proc/PID/smaps); a thp or hugetlb run none of whose repetitions got a "
    "huge page is refused, one that got fewer than all of its pages flagged.  "
    "Needs root, VFIO and the mpin sample driver (for mdev and mixed)."
    "\v"
    "Examples:\n"
    "  vfiopin bench --mdev $UUID -o base.json\n"
    "  vfiopin bench --workload passthrough --pci 0000:00:03.0 --hugetlb /mnt/huge -o pt.json\n"
    "  vfiopin bench --workload passthrough --pci 0000:00:03.0 --size-mib 1024 --backing thp "
    "-o thp.json\n"
    "  vfiopin compare base.json new.json\n";

enum {
	OPT_WORKLOAD = 0x100,
	OPT_PER_CALL,
	OPT_TOTAL,
	OPT_REPEAT,
	OPT_WARMUP,
	OPT_HUGETLB,
	OPT_MDEV,
	OPT_PCI,
	OPT_VMM,
	OPT_NO_HISTS,
	OPT_BACKING,
	OPT_SIZE_MIB
};

static const struct argp_option bench_options[] = {
    {"workload", OPT_WORKLOAD, "KIND", 0,
     "What the client pins through: mdev (default), passthrough or mixed (--mode is how vfiopin "
     "observes the kernel, as for every subcommand)",
     0},
    {"pages-per-call", OPT_PER_CALL, "N", 0, "Pages per pin/unpin call, 1..512 (default 64)", 0},
    {"total-pages", OPT_TOTAL, "N", 0, "Guest RAM in 4 KiB pages (default 1024)", 0},
    {"repeat", OPT_REPEAT, "N", 0, "Repetitions, each a fresh client (default 10)", 0},
    {"warmup", OPT_WARMUP, "N", 0,
     "Unrecorded repetitions first, before vfiopin attaches (default 1)", 0},
    {"hugetlb", OPT_HUGETLB, "DIR", 0, "Back guest RAM with 2 MiB pages from hugetlbfs DIR", 0},
    {"backing", OPT_BACKING, "KIND", 0,
     "4k, thp or hugetlb (with --hugetlb): the guest RAM written before any step, its backing "
     "verified and recorded",
     0},
    {"size-mib", OPT_SIZE_MIB, "N", 0, "Guest RAM in MiB, 1..16384 (instead of --total-pages)", 0},
    {"mdev", OPT_MDEV, "UUID", 0, "The mpin mdev to pin through (mdev, mixed)", 0},
    {"pci", OPT_PCI, "ADDR", 0, "The vfio-pci device (passthrough, mixed)", 0},
    {"vmm", OPT_VMM, "PATH", 0, "The client (default: vfiopin-vmm beside vfiopin)", 0},
    {"no-hists", OPT_NO_HISTS, NULL, 0, "Do not attach vfiopin (no histograms)", 0},
    {0},
};

static void arg_u32(struct argp_state *state, const char *opt, const char *arg, uint32_t lo,
		    uint32_t hi, uint32_t *out)
{
	if (!vp_parse_u32(arg, out) || *out < lo || *out > hi)
		argp_error(state, "%s takes %u..%u, not '%s'", opt, lo, hi, arg);
}

static error_t bench_parse(int key, char *arg, struct argp_state *state)
{
	struct bench_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case OPT_WORKLOAD:
		for (o->workload = 0; o->workload <= WL_MIXED; o->workload++)
			if (!strcmp(arg, workload_names[o->workload]))
				return 0;
		argp_error(state, "--workload takes mdev, passthrough or mixed, not '%s'", arg);
		break;
	case OPT_PER_CALL:
		arg_u32(state, "--pages-per-call", arg, 1, 512, &o->per_call);
		break;
	case OPT_TOTAL:
		arg_u32(state, "--total-pages", arg, 1, 1u << 22, &o->total);
		o->total_set = true;
		break;
	case OPT_SIZE_MIB:
		arg_u32(state, "--size-mib", arg, 1, 16384, &o->size_mib);
		break;
	case OPT_BACKING:
		if (strcmp(arg, "4k") && strcmp(arg, "thp") && strcmp(arg, "hugetlb"))
			argp_error(state, "--backing takes 4k, thp or hugetlb, not '%s'", arg);
		o->backing = arg;
		break;
	case OPT_REPEAT:
		arg_u32(state, "--repeat", arg, 1, 100000, &o->repeat);
		break;
	case OPT_WARMUP:
		arg_u32(state, "--warmup", arg, 0, 1000, &o->warmup);
		break;
	case OPT_HUGETLB:
		o->hugetlb = arg;
		break;
	case OPT_MDEV:
		o->mdev = arg;
		break;
	case OPT_PCI:
		o->pci = arg;
		break;
	case OPT_VMM:
		o->vmm = arg;
		break;
	case OPT_NO_HISTS:
		o->no_hists = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "takes no arguments ('%s')", arg);
		break;
	case ARGP_KEY_END:
		if (o->workload != WL_PT && !o->mdev)
			argp_error(state, "--workload %s needs --mdev UUID",
				   workload_names[o->workload]);
		if (o->workload != WL_MDEV && !o->pci)
			argp_error(state, "--workload %s needs --pci ADDR",
				   workload_names[o->workload]);
		if (o->workload == WL_PT && o->mdev)
			argp_error(state, "--workload passthrough does not use --mdev");
		if (o->workload == WL_MDEV && o->pci)
			argp_error(state, "--workload mdev does not use --pci");
		if (o->common.cmd || o->common.duration > 0)
			argp_error(state, "bench runs its own workload: no -d or COMMAND");
		if (o->size_mib && o->total_set)
			argp_error(state, "--size-mib and --total-pages say the same: give one");
		if (o->size_mib)
			o->total = o->size_mib << (20 - VP_PAGE_SHIFT);
		if (o->backing && !strcmp(o->backing, "hugetlb") && !o->hugetlb)
			argp_error(state, "--backing hugetlb needs --hugetlb DIR");
		if (o->backing && strcmp(o->backing, "hugetlb") && o->hugetlb)
			argp_error(state, "--hugetlb DIR is --backing hugetlb, not %s", o->backing);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp bench_argp = {
    .options = bench_options,
    .parser = bench_parse,
    .doc = bench_doc,
    .children = vp_common_children,
};

static bool push(struct series *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return false;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return true;
}

/* argv for one repetition of the client; @oom once an add found no memory */
struct args {
	char **v;
	size_t n, cap;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 64;
		char **v = realloc(a->v, nc * sizeof(*v));

		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = nc;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void pins(struct args *a, const struct bench_opts *o, const char *op)
{
	for (uint32_t p = 0; p < o->total; p += o->per_call) {
		uint32_t n = o->total - p < o->per_call ? o->total - p : o->per_call;

		add(a, "%s", op);
		add(a, "%s", o->mdev);
		add(a, "0x%llx", (unsigned long long)p * PAGE);
		add(a, "%u", n);
	}
}

static uint64_t ram_bytes(const struct bench_opts *o)
{
	uint64_t b = (uint64_t)o->total * PAGE;

	return o->hugetlb || (o->backing && !strcmp(o->backing, "thp"))
		   ? (b + HUGE - 1) / HUGE * HUGE
		   : b;
}

/*
 * The client's command line into @a and its steps into @st: the steps
 * reach it through a file (--steps), as there may be more of them than a
 * command line holds (one pin and one unpin per call).
 */
static void build_args(struct args *a, struct args *st, const struct bench_opts *o)
{
	uint64_t ram = ram_bytes(o);

	add(a, "%s", o->vmm);
	add(a, "--mem");
	add(a, "%llu", (unsigned long long)ram);
	add(a, "--memlock");
	add(a, "%llu", (unsigned long long)(2 * ram));
	if (o->hugetlb) {
		add(a, "--hugetlb");
		add(a, "%s", o->hugetlb);
	}
	if (o->backing) {
		add(a, "--backing");
		add(a, "%s", o->backing);
	}
	add(a, "--steps");
	add(a, "/proc/self/fd/3"); /* /dev/fd is not everywhere */
	add(st, "attach");
	add(st, "%s", o->workload == WL_PT ? o->pci : o->mdev);
	add(st, "map");
	add(st, "0");
	add(st, "%llu", (unsigned long long)ram);
	if (o->workload != WL_PT)
		pins(st, o, "pin");
	if (o->workload == WL_MIXED) {
		add(st, "attach");
		add(st, "%s", o->pci);
		add(st, "detach");
		add(st, "%s", o->pci);
	}
	if (o->workload != WL_PT)
		pins(st, o, "unpin");
	add(st, "unmap");
	add(st, "0");
	add(st, "%llu", (unsigned long long)ram);
	add(st, "detach");
	add(st, "%s", o->workload == WL_PT ? o->pci : o->mdev);
}

/*
 * One repetition: run the client, turn its step lines into samples.  @rep
 * counts from 1; negative for a warm-up run.
 */
static int run_once(const struct bench_opts *o, struct series *m, int rep, struct backing_seen *bk)
{
	struct args a = {0}, st = {0};
	int pfd[2], status, rc = 0;
	char line[4096];
	size_t before[M_MAX];
	bool oom = false;
	pid_t pid;
	FILE *f, *steps = tmpfile();

	for (int i = 0; i < M_MAX; i++)
		before[i] = m[i].n;
	build_args(&a, &st, o);
	for (size_t i = 0; steps && !st.oom && i < st.n; i++)
		fprintf(steps, "%s\n", st.v[i]);
	for (size_t i = 0; i < st.n; i++)
		free(st.v[i]);
	free(st.v);
	if (a.oom || st.oom) {
		fprintf(stderr, "vfiopin bench: out of memory building the client's arguments\n");
		rc = -1;
		goto out;
	}
	if (!steps || fflush(steps) || fseek(steps, 0, SEEK_SET)) {
		perror("vfiopin bench: writing the client's steps");
		rc = -1;
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		perror("vfiopin bench: pipe");
		rc = -1;
		goto out;
	}
	/* the client's steps on descriptor 3, its lines to us on 1 */
	pid = vp_spawn(a.v, (const int[VP_SPAWN_FDS]){-1, pfd[1], -1, fileno(steps)});
	close(pfd[1]);
	if (pid < 0) {
		perror("vfiopin bench: fork");
		close(pfd[0]);
		rc = -1;
		goto out;
	}
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *op = json_string_value(json_object_get(j, "op"));
		json_int_t ret = json_integer_value(json_object_get(j, "ret"));
		double ns = (double)json_integer_value(json_object_get(j, "step_ns"));
		const char *dev = json_string_value(json_object_get(j, "dev"));
		double np = (double)json_integer_value(json_object_get(j, "npages"));
		const char *ev = json_string_value(json_object_get(j, "event"));

		if (ev && !strcmp(ev, "backing") && rep > 0) {
			uint64_t huge =
			    (uint64_t)json_integer_value(json_object_get(j, "huge_bytes"));

			bk->bytes = (uint64_t)json_integer_value(json_object_get(j, "bytes"));
			bk->page_kb =
			    (uint64_t)json_integer_value(json_object_get(j, "kernel_page_kb"));
			if (!bk->runs++ || huge < bk->huge_min)
				bk->huge_min = huge;
		}
		if (op && ret >= 0 && ns > 0) {
			if (!strcmp(op, "pin")) {
				oom |= !push(&m[M_PIN_CALL], ns);
				oom |= !push(&m[M_PIN_PPS], np * 1e9 / ns);
			} else if (!strcmp(op, "unpin")) {
				oom |= !push(&m[M_UNPIN_CALL], ns);
			} else if (!strcmp(op, "map")) {
				oom |= !push(&m[M_MAP], ns);
				if (o->workload == WL_PT)
					oom |= !push(&m[M_MAP_PPS], o->total * 1e9 / ns);
			} else if (!strcmp(op, "unmap")) {
				oom |= !push(&m[M_UNMAP], ns);
			} else if (!strcmp(op, "attach") && o->workload == WL_MIXED && dev &&
				   !strcmp(dev, o->pci)) {
				oom |= !push(&m[M_REPLAY], ns);
			}
		}
		json_decref(j);
	}
	if (f)
		fclose(f);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr,
			"vfiopin bench: %s %d: the client failed (%s %d); its messages are "
			"above\n",
			rep < 0 ? "warm-up run" : "repetition", rep < 0 ? -rep : rep,
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		rc = -1;
	}
	if (oom) {
		fprintf(stderr, "vfiopin bench: out of memory for the samples\n");
		rc = -1;
	}
	for (int i = 0; i < M_MAX && rep > 0; i++)
		if (m[i].per_run)
			m[i].per_run[rep - 1] = (uint32_t)(m[i].n - before[i]);
out:
	if (steps)
		fclose(steps);
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	return rc;
}

static char *slurp_line(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return strdup(buf);
}

/* FNV-1a over a file's bytes, folded into @h. */
static uint64_t fnv_file(uint64_t h, const char *path)
{
	unsigned char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return h;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
	fclose(f);
	return h;
}

static json_t *jstr_free(char *s)
{
	json_t *j = s ? json_string(s) : json_null();

	free(s);
	return j;
}

static json_t *environment(const struct bench_opts *o)
{
	json_t *e = json_object(), *cmd = json_array();
	struct utsname u;
	const char *kdir = getenv("VFIOPIN_KERNEL");
	char build[64];
	char *dh = slurp_line("/sys/module/vfio_iommu_type1/parameters/disable_hugepages");

	uname(&u);
	json_object_set_new(e, "kernel_release", json_string(u.release));
	json_object_set_new(e, "kernel_version", jstr_free(slurp_line("/proc/version")));
	/* the lab kernel's cache key is the hash of its sources, patches and config */
	if (kdir && strrchr(kdir, '/')) {
		json_object_set_new(e, "kernel_build", json_string(strrchr(kdir, '/') + 1));
	} else {
		uint64_t h =
		    fnv_file(fnv_file(0xcbf29ce484222325ULL, "/proc/version"), "/proc/config.gz");

		snprintf(build, sizeof(build), "fnv1a-%016llx", (unsigned long long)h);
		json_object_set_new(e, "kernel_build", json_string(build));
	}
	json_object_set_new(e, "kernel_cmdline", jstr_free(slurp_line("/proc/cmdline")));
	json_object_set_new(
	    e, "clocksource",
	    jstr_free(
		slurp_line("/sys/devices/system/clocksource/clocksource0/current_clocksource")));
	json_object_set_new(e, "type1_disable_hugepages",
			    dh ? json_boolean(dh[0] == 'Y' || dh[0] == '1') : json_null());
	free(dh);
	json_object_set_new(e, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(e, "vfiopin_attached", json_boolean(!o->no_hists));
	json_object_set_new(e, "vfiopin_version", json_string(argp_program_version));
	for (int i = 0; i < o->argc; i++)
		json_array_append_new(cmd, json_string(o->argv[i]));
	json_object_set_new(e, "command", cmd);
	return e;
}

/* Whether every recorded run was backed as --backing asked: all or none of it huge. */
static bool backing_as_asked(const struct bench_opts *o, const struct backing_seen *bk)
{
	if (!strcmp(o->backing, "4k"))
		return bk->huge_min == 0 && bk->page_kb == 4;
	return bk->bytes && bk->huge_min == bk->bytes;
}

/*
 * A thp or hugetlb run that got no huge page at all measured 4 KiB pages:
 * refused.  Fewer than all of them: said, and flagged in the file.
 */
static int check_backing(const struct bench_opts *o, const struct backing_seen *bk)
{
	char *thp = slurp_line("/sys/kernel/mm/transparent_hugepage/enabled");
	int rc = 0;

	if (bk->runs != o->repeat) {
		fprintf(stderr, "vfiopin bench: the client reported its backing in %u of %u runs\n",
			bk->runs, o->repeat);
		rc = -1;
	} else if (strcmp(o->backing, "4k") && !bk->huge_min) {
		fprintf(stderr,
			"vfiopin bench: --backing %s: a repetition's guest RAM had no huge page "
			"(%s); nothing written\n",
			o->backing,
			!strcmp(o->backing, "thp")
			    ? (thp ? thp : "no /sys/kernel/mm/transparent_hugepage/enabled")
			    : "reserve 2 MiB pages: sysctl vm.nr_hugepages");
		rc = -1;
	} else if (!backing_as_asked(o, bk)) {
		fprintf(
		    stderr,
		    "vfiopin bench: --backing %s: as little as %llu of %llu bytes on huge pages "
		    "in a repetition (flagged: \"as_asked\": false)\n",
		    o->backing, (unsigned long long)bk->huge_min, (unsigned long long)bk->bytes);
	}
	free(thp);
	return rc;
}

static const char *default_vmm(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return "vfiopin-vmm";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash + 1, "vfiopin-vmm");
	return path;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {
	    .per_call = 64, .total = 1024, .repeat = 10, .warmup = 1, .argv = argv, .argc = argc};
	struct series m[M_MAX] = {0}, scratch[M_MAX] = {0};
	struct backing_seen bk = {0};
	struct vp_loader l;
	bool attached = false;
	json_t *root = NULL, *w;
	int rc = VP_EXIT_FAIL;

	argp_parse(&bench_argp, argc, argv, 0, NULL, &o);
	if (!o.vmm)
		o.vmm = default_vmm();
	if (access(o.vmm, X_OK)) {
		fprintf(stderr,
			"vfiopin bench: the client %s is not there (build it: make tools; or --vmm "
			"PATH)\n",
			o.vmm);
		return VP_EXIT_FAIL;
	}
	if (!vp_output_open(&o.common))
		return VP_EXIT_FAIL;
	for (int i = 0; i < M_MAX; i++) {
		m[i].per_run = calloc(o.repeat, sizeof(*m[i].per_run));
		if (!m[i].per_run) {
			fprintf(stderr, "vfiopin bench: out of memory\n");
			goto out;
		}
	}
	vp_signals_install();
	/* warm-up runs: samples thrown away, and before vfiopin counts */
	for (uint32_t r = 0; r < o.warmup && !vp_stop; r++)
		if (run_once(&o, scratch, -(int)r - 1, &bk))
			goto out;
	if (!o.no_hists && !vp_stop) {
		o.common.bpf.row_lat = true;
		if (vp_open(&l, &o.common.bpf, NULL, NULL))
			goto out;
		attached = true;
	}
	for (uint32_t r = 0; r < o.repeat && !vp_stop; r++)
		if (run_once(&o, m, (int)r + 1, &bk))
			goto out;
	if (vp_stop) {
		fprintf(stderr, "vfiopin bench: interrupted; nothing written\n");
		goto out;
	}

	if (o.backing && check_backing(&o, &bk))
		goto out;
	w = json_pack("{s:s,s:I,s:I,s:b}", "mode", workload_names[o.workload], "pages_per_call",
		      (json_int_t)(o.workload == WL_PT ? 0 : o.per_call), "total_pages",
		      (json_int_t)o.total, "hugepages", o.hugetlb != NULL);
	/* only when asked for: files of the client's default backing stay comparable */
	if (w && o.backing)
		json_object_set_new(w, "backing", json_string(o.backing));
	root = vp_bench_new(w,
			    json_pack("{s:I,s:I}", "repetitions", (json_int_t)o.repeat, "warmup",
				      (json_int_t)o.warmup),
			    environment(&o));
	for (int i = 0; root && i < M_MAX; i++)
		if (m[i].n && vp_bench_add_metric(root, metric_info[i].name, metric_info[i].unit,
						  !strcmp(metric_info[i].better, "lower"),
						  metric_info[i].what, m[i].v, m[i].n, m[i].per_run,
						  o.repeat)) {
			json_decref(root);
			root = NULL;
		}
	if (root && o.backing &&
	    json_object_set_new(root, "backing",
				json_pack("{s:s,s:I,s:I,s:f,s:I,s:b}", "kind", o.backing, "bytes",
					  (json_int_t)bk.bytes, "huge_bytes_min",
					  (json_int_t)bk.huge_min, "huge_fraction_min",
					  bk.bytes ? (double)bk.huge_min / (double)bk.bytes : 0.0,
					  "kernel_page_kb", (json_int_t)bk.page_kb, "as_asked",
					  backing_as_asked(&o, &bk)))) {
		json_decref(root);
		root = NULL;
	}
	if (!root) {
		fprintf(stderr, "vfiopin bench: out of memory\n");
		goto out;
	}
	if (attached) {
		struct vp_snapshot s;
		struct vp_row total;

		if (vp_snapshot_and_retire(&l, &s)) {
			fprintf(stderr, "vfiopin bench: cannot read vfiopin's maps\n");
			goto out;
		}
		vp_total(&s, &total);
		json_object_set_new(root, "containers", json_integer((json_int_t)s.n));
		json_object_set_new(root, "vfiopin", vp_json_row(&total, true));
		vp_snapshot_free(&s);
	}
	if (!vp_output_begin(&o.common) || json_dumpf(root, o.common.out, JSON_INDENT(1)) ||
	    fputc('\n', o.common.out) == EOF)
		goto out;
	rc = 0;
out:
	json_decref(root);
	if (attached)
		vp_close(&l);
	for (int i = 0; i < M_MAX; i++) {
		free(m[i].v);
		free(m[i].per_run);
		free(scratch[i].v);
	}
	if (!vp_output_close(&o.common))
		rc = VP_EXIT_FAIL;
	return rc;
}
