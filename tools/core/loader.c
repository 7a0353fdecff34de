// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "fields.h"
#include "loader.h"
#include "vm.h"
#include "vmname.h"
#include "vfiopin.skel.h"
#include "mlock.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BTF_PATH "/sys/kernel/btf/vmlinux"

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

uint64_t vp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * CAP_SYS_ADMIN: without it libbpf cannot look a module's BTF up by id, and
 * fentry programs on a module's functions cannot be loaded (kprobes can).
 */
static bool sys_admin;

/*
 * Whether the kernel is locked down for confidentiality: then BPF may not
 * read kernel memory, and no program of vfiopin's loads.  Read from
 * securityfs where it is mounted, else from the boot command line.
 */
static bool locked_down(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (f) {
		bool on = fgets(buf, sizeof(buf), f) && strstr(buf, "[confidentiality]");

		fclose(f);
		return on;
	}
	f = fopen("/proc/cmdline", "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, "lockdown=confidentiality") != NULL;
}

#define LOCKDOWN_MSG                                                                               \
	"vfiopin: the kernel is locked down for confidentiality (lockdown=confidentiality): "      \
	"BPF programs may not read kernel memory, and vfiopin's must; boot with "                  \
	"lockdown=integrity (or none) to use vfiopin\n"

/* The capabilities BPF tracing needs: CAP_BPF + CAP_PERFMON, or SYS_ADMIN. */
static int check_caps(void)
{
	struct __user_cap_header_struct h = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	char missing[64] = "";

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d)) {
		fprintf(stderr, "vfiopin: cannot read this process's capabilities: %s\n",
			strerror(errno));
		return -errno;
	}
	sys_admin = has_cap(d, CAP_SYS_ADMIN);
	if (sys_admin)
		return 0;
	if (!has_cap(d, CAP_BPF))
		strcat(missing, " CAP_BPF");
	if (!has_cap(d, CAP_PERFMON))
		strcat(missing, " CAP_PERFMON");
	if (!missing[0])
		return 0;
	fprintf(stderr,
		"vfiopin: missing capability%s (or CAP_SYS_ADMIN): loading and "
		"attaching BPF tracing programs needs them; run as root or grant "
		"them (setcap cap_bpf,cap_perfmon+ep vfiopin)\n",
		missing);
	return -EPERM;
}

const char *const vp_mode_names[VP_MODE_MAX] = {
    [VP_MODE_AUTO] = "auto",
    [VP_MODE_TRACEPOINT] = "tracepoint",
    [VP_MODE_FENTRY] = "fentry",
    [VP_MODE_KPROBE] = "kprobe",
};

const struct vp_backend vp_type1 = {
    .name = "type1",
    .module = "vfio_iommu_type1",
    .trace_system = "vfio_type1",
    /* bpf/type1-fallback.bpf.c */
    .fallback_fns = "vfio_iommu_type1_open, _release, _attach_group, _detach_group, _pin_pages, "
		    "_unpin_pages, _ioctl, mm_lock_acct, vfio_pin_pages_remote, "
		    "vfio_unpin_pages_remote (and vfio_unmap_unpin where it is)",
};

/* The mode a program belongs to, by its name's prefix. */
static enum vp_mode prog_mode(const struct bpf_program *prog)
{
	const char *n = bpf_program__name(prog);

	if (!strncmp(n, "tp_", 3))
		return VP_MODE_TRACEPOINT;
	if (!strncmp(n, "fe_", 3) || !strncmp(n, "fx_", 3))
		return VP_MODE_FENTRY;
	return VP_MODE_KPROBE;
}

/*
 * kernel.perf_event_paranoid: above 2 (Debian's default, 3, a patch of its
 * own) perf_event_open, and so a kprobe's attachment, needs CAP_SYS_ADMIN.
 */
static int perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * What a refused kprobe needs, for a message: the sysctl's value, or where
 * it could not be read (a sandbox with ProcSubset=pid hides /proc/sys)
 */
static void paranoid_words(char *buf, size_t n)
{
	int v = perf_paranoid();

	if (v >= 0)
		snprintf(buf, n, "%d", v);
	else
		snprintf(buf, n,
			 "unknown here: /proc/sys is hidden from this process "
			 "(ProcSubset=pid?)");
}

/* Set when the kernel refused a kprobe for want of CAP_SYS_ADMIN. */
static bool kprobe_refused;

/*
 * Whether @b's driver is a loaded module without BTF of its own
 * (/sys/kernel/btf/MODULE): fentry cannot attach to its functions then.
 * A built-in driver's functions are in vmlinux's BTF.
 */
static bool module_btf_missing(const struct vp_backend *b)
{
	char path[160];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", b->module);
	if (access(path, F_OK))
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", b->module);
	return access(path, F_OK) != 0;
}

#define NO_MODULE_BTF_MSG                                                                          \
	"vfiopin: the %s module has no BTF (/sys/kernel/btf/%s is missing: a kernel built "        \
	"without CONFIG_DEBUG_INFO_BTF_MODULES, or the module built apart from its kernel), so "   \
	"fentry cannot attach to its functions; --mode kprobe needs no BTF of it\n"

/* Attach every loaded program; on failure say why, in @mode's terms. */
static int attach_all(struct vfiopin_bpf *skel, enum vp_mode mode, bool quiet, int *n)
{
	struct bpf_program *prog;

	*n = 0;
	bpf_object__for_each_program(prog, skel->obj)
	{
		const char *sec = bpf_program__section_name(prog);
		const char *target = strchr(sec, '/') + 1;
		struct bpf_link *link;
		int err;

		if (prog_mode(prog) != mode || !bpf_program__autoload(prog))
			continue;
		link = mode == VP_MODE_TRACEPOINT ? bpf_program__attach_raw_tracepoint(prog, target)
						  : bpf_program__attach(prog);
		err = link ? 0 : -errno;
		if (!link && mode == VP_MODE_KPROBE && err == -EACCES && !sys_admin)
			kprobe_refused = true;
		if (!link) {
			if (quiet)
				return err;
			if (mode == VP_MODE_TRACEPOINT && err == -ENOENT)
				fprintf(stderr,
					"vfiopin: the running kernel has no %s "
					"tracepoints (looked for the raw tracepoint %s): "
					"boot a kernel with the vfiopin patch series "
					"(kernel-patch/), or, if VFIO's %s driver is a "
					"module, load it first (modprobe %s)\n",
					vp_type1.trace_system, target, vp_type1.name,
					vp_type1.module);
			else if (kprobe_refused && (perf_paranoid() > 2 || perf_paranoid() < 0)) {
				char why[160];

				paranoid_words(why, sizeof(why));
				fprintf(stderr,
					"vfiopin: cannot attach kprobe to %s: "
					"kernel.perf_event_paranoid is %s, and above 2 "
					"attaching a kprobe needs CAP_SYS_ADMIN: grant it, or set "
					"the sysctl to 2 (then CAP_BPF and CAP_PERFMON suffice)\n",
					target, why);
			} else
				fprintf(stderr, "vfiopin: cannot attach %s to %s: %s\n",
					vp_mode_names[mode], target, strerror(-err));
			return err;
		}
		(*n)++;
		/* the skeleton's destroy detaches what is in its links array */
		bpf_program__set_autoattach(prog, false);
		for (int i = 0; i < skel->skeleton->prog_cnt; i++)
			if (*skel->skeleton->progs[i].prog == prog)
				*skel->skeleton->progs[i].link = link;
	}
	return 0;
}

/*
 * Whether the running kernel has @fn as a function of its own that @mode
 * can hook: a kprobe needs its symbol (/proc/kallsyms, an exact name: a
 * ".isra" or ".constprop" clone has other arguments), fentry its BTF (the
 * module's, /sys/kernel/btf/MODULE, or vmlinux's for a built-in driver).
 * Both files are world-readable: no privilege is needed to look.
 */
static bool kernel_has_fn(const struct vp_backend *b, const char *fn, enum vp_mode mode)
{
	bool found = false;

	if (mode == VP_MODE_KPROBE) {
		FILE *f = fopen("/proc/kallsyms", "re");
		char line[512], name[256];

		if (!f)
			return false;
		while (!found && fgets(line, sizeof(line), f))
			found = sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, fn);
		fclose(f);
	} else if (mode == VP_MODE_FENTRY) {
		struct btf *vmlinux = btf__load_vmlinux_btf(), *mod = NULL;
		char path[160];

		if (!vmlinux)
			return false;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", b->module);
		if (!access(path, R_OK))
			mod = btf__parse_split(path, vmlinux);
		found = btf__find_by_name_kind(mod ? mod : vmlinux, fn, BTF_KIND_FUNC) >= 0;
		btf__free(mod);
		btf__free(vmlinux);
	}
	return found;
}

/* Whether a backend's driver is there (built in, or its module loaded). */
static bool backend_loaded(const struct vp_backend *b)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", b->module);
	return !access(path, F_OK);
}

struct rb_ctx {
	vp_event_fn fn;
	void *ctx;
};

static struct rb_ctx rb_ctx;

static int rb_cb(void *ctx, void *data, size_t len)
{
	struct rb_ctx *c = ctx;

	return c->fn(c->ctx, data, len);
}

/*
 * Open, configure, load and attach the programs of one mode.  @quiet: an
 * attempt of --mode=auto that may fail (the caller says what was tried).
 */
static int try_mode(struct vp_loader *l, const struct vp_opts *o, enum vp_mode mode, bool quiet,
		    int *n)
{
	struct vfiopin_bpf *skel;
	struct bpf_program *prog;
	__u32 max, nslots;
	bool uu;
	size_t len;
	void *m;
	int err;

	skel = vfiopin_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "vfiopin: cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	/* configure: one family of programs, the options */
	bpf_object__for_each_program(prog, skel->obj)
	    bpf_program__set_autoload(prog, prog_mode(prog) == mode);
	/* the fallback's optional probe, where the kernel has the function */
	uu = mode != VP_MODE_TRACEPOINT && kernel_has_fn(&vp_type1, "vfio_unmap_unpin", mode);
	if (!uu) {
		bpf_program__set_autoload(skel->progs.fe_unmap_unpin, false);
		bpf_program__set_autoload(skel->progs.fx_unmap_unpin, false);
		bpf_program__set_autoload(skel->progs.kp_unmap_unpin, false);
		bpf_program__set_autoload(skel->progs.kr_unmap_unpin, false);
	} else if (verbose) {
		fprintf(stderr, "vfiopin: vfio_unmap_unpin is there: DMA unmaps, re-accounting "
				"and invalidations are counted\n");
	}
	/* the ends carry the calls' durations: the begins matter to the stream alone */
	if (!o->events) {
		bpf_program__set_autoload(skel->progs.tp_pin_begin, false);
		bpf_program__set_autoload(skel->progs.tp_unpin_begin, false);
	}
	skel->rodata->emit_events = o->events;
	skel->rodata->filter_cid = o->filter_cid;
	skel->rodata->filter_tgid = o->filter_tgid;
	skel->rodata->concurrent = mode != VP_MODE_TRACEPOINT;
	/*
	 * the array holds them all while their cids span fewer than its
	 * slots (a cid's low bits); the spill map all of them otherwise
	 */
	max = o->max_containers ? o->max_containers : VP_MAX_CONTAINERS;
	for (nslots = 1; nslots < max; nslots <<= 1)
		;
	skel->rodata->slot_mask = nslots - 1;
	bpf_map__set_max_entries(skel->maps.containers, nslots);
	bpf_map__set_max_entries(skel->maps.spill, max);
	bpf_map__set_max_entries(skel->maps.retired, max);
	bpf_map__set_max_entries(skel->maps.fb_ids, max);
	/* command lines for VMs gone before /proc is read: a few thousand VMs at most */
	bpf_map__set_max_entries(skel->maps.vm_args, max < 4096 ? max : 4096);
	if (o->ringbuf_kb)
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_kb * 1024);
	/* load */
	err = vfiopin_bpf__load(skel);
	if (err) {
		if (!quiet && locked_down())
			fputs(LOCKDOWN_MSG, stderr);
		else if (!quiet && mode == VP_MODE_FENTRY && module_btf_missing(&vp_type1))
			fprintf(stderr, NO_MODULE_BTF_MSG, vp_type1.module, vp_type1.module);
		else if (!quiet && mode == VP_MODE_TRACEPOINT)
			fprintf(stderr,
				"vfiopin: the kernel refused the BPF programs: %s "
				"(run with --verbose for the verifier's log)\n",
				strerror(-err));
		else if (!quiet && mode == VP_MODE_FENTRY && !sys_admin)
			fprintf(stderr,
				"vfiopin: cannot load the fentry programs: fentry on the %s "
				"module's functions needs CAP_SYS_ADMIN (libbpf finds a module's "
				"BTF by id only with it); --mode kprobe needs CAP_BPF and "
				"CAP_PERFMON alone\n",
				vp_type1.module);
		else if (!quiet)
			fprintf(
			    stderr,
			    "vfiopin: cannot load the %s programs on %s: %s (run with "
			    "--verbose for libbpf's reasons: a function inlined or without BTF?)\n",
			    vp_mode_names[mode], vp_type1.fallback_fns, strerror(-err));
		goto fail;
	}
	len = ((size_t)nslots * sizeof(struct vp_slot) + (size_t)getpagesize() - 1) &
	      ~((size_t)getpagesize() - 1);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel->maps.containers),
		 0);
	if (m == MAP_FAILED) {
		err = -errno;
		fprintf(stderr, "vfiopin: cannot map the containers array: %s\n", strerror(-err));
		goto fail;
	}
	/* attach */
	*n = 0;
	err = o->no_attach ? 0 : attach_all(skel, mode, quiet, n);
	if (err) {
		munmap(m, len);
		goto fail;
	}
	l->skel = skel;
	l->mode = mode;
	l->unmap_probe = uu;
	l->slots = m;
	l->nslots = nslots;
	l->map_len = len;
	return 0;
fail:
	vfiopin_bpf__destroy(skel);
	return err;
}

bool vp_trace_readable(void)
{
	return !access("/sys/kernel/tracing/events", R_OK | X_OK) ||
	       !access("/sys/kernel/debug/tracing/events", R_OK | X_OK);
}

bool vp_trace_events(const char *path)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char buf[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(buf, sizeof(buf), "%s/events/%s", roots[i], path);
		if (!access(buf, F_OK))
			return true;
	}
	return false;
}

struct mlock_bpf *vp_mlock_attach(uint32_t filter_tgid)
{
	struct mlock_bpf *m = mlock_bpf__open();

	if (!m)
		return NULL;
	m->rodata->filter_tgid = filter_tgid;
	if (mlock_bpf__load(m) || mlock_bpf__attach(m)) {
		mlock_bpf__destroy(m);
		return NULL;
	}
	return m;
}

/*
 * A process's own locking (bpf/mlock.bpf.c), beside the backend's
 * programs; without it when the kernel refuses its kprobes: the advice
 * for a VM that mlocks all its memory is then bounded by its VmPeak
 * instead (vm.h).
 */
static void watch_mlock(struct vp_loader *l, const struct vp_opts *o)
{
	uint64_t since = vp_now_ns();

	l->mlock = vp_mlock_attach(o->filter_tgid);
	l->mlock_since_ns = since;
	if (!l->mlock && verbose)
		fprintf(stderr, "vfiopin: processes' own mlock is not watched: no kprobe attaches "
				"to __mm_populate and do_mmap\n");
}

int vp_open(struct vp_loader *l, const struct vp_opts *o, vp_event_fn fn, void *ctx)
{
	enum vp_mode mode = o->no_attach ? VP_MODE_TRACEPOINT : o->mode;
	int err, n = 0;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->row_lat = o->row_lat;
	l->keep_ns = o->keep_released_ns;
	verbose = o->verbose;
	libbpf_set_print(print_libbpf);
	err = check_caps();
	if (err)
		return err;
	if (access(BTF_PATH, R_OK)) {
		fprintf(stderr,
			"vfiopin: the running kernel has no BTF (%s is missing): "
			"vfiopin needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
			BTF_PATH);
		return -ENOTSUP;
	}
	const struct vp_backend *b = &vp_type1;

	if (!o->no_attach && !backend_loaded(b)) {
		if (!o->wait_modules) {
			fprintf(stderr,
				"vfiopin: VFIO's %s driver is not loaded yet (no "
				"/sys/module/%s): load it (modprobe "
				"%s), or pass --wait-modules to start once it is\n",
				b->name, b->module, b->module);
			return -ENOENT;
		}
		uint64_t t0 = vp_now_ns();

		/* Ctrl-C, SIGTERM or SIGHUP ends the wait cleanly, its -o file gone */
		vp_signals_install();
		fprintf(stderr, "vfiopin: waiting for %s to be loaded\n", b->module);
		while (!backend_loaded(b) && !vp_stop) {
			l->waited_s = (double)(vp_now_ns() - t0) / 1e9;
			if (o->wait_max_s > 0 && l->waited_s >= o->wait_max_s) {
				fprintf(stderr,
					"vfiopin: %s was not loaded within the %g s "
					"of --duration\n",
					b->module, o->wait_max_s);
				return -ETIMEDOUT;
			}
			usleep(100000);
		}
		if (vp_stop)
			return -EINTR;
		l->waited_s = (double)(vp_now_ns() - t0) / 1e9;
	}

	if (mode == VP_MODE_AUTO) {
		/* by what attaches: the tracepoints, else fentry, else kprobes */
		for (int m = VP_MODE_TRACEPOINT; m < VP_MODE_MAX; m++) {
			/* tracefs says when they are absent, where this process may read it */
			if (m == VP_MODE_TRACEPOINT && !vp_trace_events(b->trace_system) &&
			    vp_trace_readable())
				continue;
			err = try_mode(l, o, m, true, &n);
			if (!err)
				break;
		}
		if ((err || !l->skel) && locked_down()) {
			fputs(LOCKDOWN_MSG, stderr);
			return err ? err : -EPERM;
		}
		if (err || !l->skel) {
			char why[384] = "";

			if (!sys_admin && kprobe_refused) {
				char p[160];

				paranoid_words(p, sizeof(p));
				snprintf(
				    why, sizeof(why),
				    "; without CAP_SYS_ADMIN, neither can: fentry needs it, "
				    "and kprobes too while kernel.perf_event_paranoid is above "
				    "2 (it is %s)",
				    p);
			} else if (!sys_admin) {
				snprintf(why, sizeof(why),
					 "; fentry needs CAP_SYS_ADMIN, which this process lacks");
			} else if (module_btf_missing(b)) {
				snprintf(why, sizeof(why),
					 "; fentry cannot: the %s module has no BTF "
					 "(/sys/kernel/btf/%s is missing)",
					 b->module, b->module);
			}
			fprintf(stderr,
				"vfiopin: no way to observe VFIO %s on this kernel: no "
				"%s tracepoints (the vfiopin patch series, kernel-patch/), "
				"and neither fentry nor kprobes attach to %s (run with --verbose "
				"for libbpf's reasons)%s\n",
				b->name, b->trace_system, b->fallback_fns, why);
			return err ? err : -ENOENT;
		}
	} else {
		err = try_mode(l, o, mode, false, &n);
		if (err)
			return err;
	}

	if (!o->no_attach)
		watch_mlock(l, o);
	if (o->events && fn) {
		rb_ctx.fn = fn;
		rb_ctx.ctx = ctx;
		l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), rb_cb, &rb_ctx, NULL);
		if (!l->rb) {
			err = -errno;
			fprintf(stderr, "vfiopin: cannot set up the event ring buffer: %s\n",
				strerror(-err));
			vp_close(l);
			return err;
		}
	}
	l->lat_retired = calloc(1, sizeof(*l->lat_retired));
	if (!l->lat_retired) {
		vp_close(l);
		return -ENOMEM;
	}
	l->last_ts = vp_now_ns();
	if (o->announce && l->mode == VP_MODE_TRACEPOINT)
		fprintf(stderr, "vfiopin: attached to %d %s tracepoints; Ctrl-C ends\n", n,
			b->trace_system);
	else if (o->announce)
		fprintf(stderr,
			"vfiopin: attached to %d %s functions with %s (no %s "
			"tracepoints: the devices an invalidation notified, its retries and "
			"its latency are unavailable%s); Ctrl-C ends\n",
			n, b->name, vp_mode_names[l->mode], b->trace_system,
			l->unmap_probe ? ""
				       : ", and, without vfio_unmap_unpin, DMA unmaps, "
					 "re-accounting and invalidations");
	return 0;
}

static int cmp_cid(const void *a, const void *b)
{
	const struct vp_container *x = a, *y = b;

	return x->cid < y->cid ? -1 : x->cid > y->cid;
}

static int cmp_row_cid(const void *a, const void *b)
{
	const struct vp_row *x = a, *y = b;

	return x->c.cid < y->c.cid ? -1 : x->c.cid > y->c.cid;
}

/* Container @cid's slot of the mapped array, or NULL if it is in the spill map. */
static struct vp_slot *in_array(struct vp_loader *l, __u32 cid)
{
	struct vp_slot *sl = &l->slots[cid & (l->nslots - 1)];

	return __atomic_load_n(&sl->c.cid, __ATOMIC_ACQUIRE) == cid ? sl : NULL;
}

/*
 * Every container now in the maps, to @fn: a copy of its counters and its
 * latency histograms (in the mapped array: valid during the call only).
 */
typedef int (*slot_fn)(struct vp_loader *l, void *ctx, const struct vp_container *c,
		       const struct vp_lat *lat);

static int each_container(struct vp_loader *l, slot_fn fn, void *ctx)
{
	int fd = bpf_map__fd(l->skel->maps.spill), err = 0;
	size_t cap = bpf_map__max_entries(l->skel->maps.spill), n = 0;
	__u32 key, next, *pk = NULL;
	struct vp_slot *tmp;

	for (size_t i = 0; i < l->nslots && !err; i++) {
		struct vp_slot *sl = &l->slots[i];
		struct vp_container c;

		if (!__atomic_load_n(&sl->c.cid, __ATOMIC_ACQUIRE))
			continue;
		memcpy(&c, &sl->c, sizeof(c));
		/* a slot retired under the copy */
		if (c.cid && (c.cid & (l->nslots - 1)) == i)
			err = fn(l, ctx, &c, &sl->lat);
	}
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	while (!err && n++ < cap && !bpf_map_get_next_key(fd, pk, &next)) {
		key = next;
		pk = &key;
		if (!bpf_map_lookup_elem(fd, &key, tmp) && tmp->c.cid)
			err = fn(l, ctx, &tmp->c, &tmp->lat);
	}
	free(tmp);
	return err;
}

/*
 * Take container @cid out of the maps, marked retired for the BPF side
 * first (its late events are not counted to it).  Its histograms are
 * added to the retired ones if @count, its whole slot copied to @copy if
 * not NULL.  False if it was not there.
 */
static bool retire(struct vp_loader *l, __u32 cid, bool count, struct vp_slot *copy)
{
	int sfd = bpf_map__fd(l->skel->maps.spill);
	struct vp_slot *sl;
	__u8 one = 1;

	bpf_map_update_elem(bpf_map__fd(l->skel->maps.retired), &cid, &one, BPF_ANY);
	sl = in_array(l, cid);
	if (sl) {
		if (copy)
			memcpy(copy, sl, sizeof(*sl));
		if (count)
			vp_lat_add(l->lat_retired, &sl->lat);
		/* the slot free last: the BPF side claims it by its cid */
		memset((char *)sl + sizeof(sl->c.cid), 0, sizeof(*sl) - sizeof(sl->c.cid));
		__atomic_store_n(&sl->c.cid, 0, __ATOMIC_RELEASE);
		return true;
	}
	if (count || copy) {
		struct vp_slot *tmp = copy ? copy : malloc(sizeof(*tmp));

		if (tmp && !bpf_map_lookup_elem(sfd, &cid, tmp) && count)
			vp_lat_add(l->lat_retired, &tmp->lat);
		if (tmp != copy)
			free(tmp);
	}
	return !bpf_map_delete_elem(sfd, &cid);
}

/* The loader's namer, made when first needed (none when out of memory). */
static struct vp_namer *namer(struct vp_loader *l)
{
	if (!l->names)
		l->names = vp_namer_new("/proc");
	return l->names;
}

/*
 * What the BPF side took of a VM's command line as it opened a container,
 * for each VM the namer does not know yet: a VMM gone before its /proc
 * was read (a start that failed within a second) keeps its name.
 */
static void learn_args(struct vp_loader *l, const struct vp_snapshot *s)
{
	int fd = bpf_map__fd(l->skel->maps.vm_args);
	struct vp_args a;

	for (size_t i = 0; i < s->vms.n; i++) {
		uint32_t tgid = s->vms.vm[i].tgid;

		if (!tgid || !vp_namer_wants_args(l->names, tgid) ||
		    bpf_map_lookup_elem(fd, &tgid, &a))
			continue;
		vp_namer_learn(l->names, tgid, a.start_ns, a.args,
			       a.len < sizeof(a.args) ? a.len : sizeof(a.args));
	}
}

/*
 * The most each VM's process had locked when it locked memory itself, as
 * bpf/mlock.bpf.c read it: the same process as its containers' (started
 * before them), watched whole when it started after the watch began.
 */
static void learn_locked(struct vp_loader *l, struct vp_snapshot *s)
{
	struct vp_proc_locked p;
	int fd;

	if (!l->mlock)
		return;
	fd = bpf_map__fd(l->mlock->maps.proc_locked);
	for (size_t i = 0; i < s->vms.n; i++) {
		struct vp_vm *vm = &s->vms.vm[i];
		uint32_t tgid = vm->tgid;

		if (!tgid || bpf_map_lookup_elem(fd, &tgid, &p) || p.start_ns > vm->first_ns)
			continue;
		vp_vm_locked_seen(vm, p.peak_pages, p.need_pages, p.start_ns >= l->mlock_since_ns);
	}
}

struct reap_walk {
	uint64_t now, grace_ns;
	__u32 *dead;
	size_t n, cap;
};

static int reap_one(struct vp_loader *l, void *ctx, const struct vp_container *c,
		    const struct vp_lat *lat)
{
	struct reap_walk *w = ctx;

	(void)lat;
	if ((c->flags & VP_F_RELEASED) && w->now - c->released_ns >= w->grace_ns && w->n < w->cap)
		w->dead[w->n++] = c->cid;
	/* a live VM's name, while its process runs */
	if (!(c->flags & VP_F_RELEASED) && namer(l))
		vp_namer_note(l->names, c->tgid, w->now);
	return 0;
}

/* Whether the previous snapshot's reports count (always, unless gated). */
static bool reports_final(const struct vp_loader *l)
{
	return !l->gated || l->delivered;
}

void vp_report_on_delivery(struct vp_loader *l)
{
	pthread_mutex_lock(&l->lock);
	l->gated = true;
	pthread_mutex_unlock(&l->lock);
}

void vp_snapshot_delivered(struct vp_loader *l, uint64_t gen)
{
	pthread_mutex_lock(&l->lock);
	if (gen == l->gen)
		l->delivered = true;
	pthread_mutex_unlock(&l->lock);
}

int vp_reap(struct vp_loader *l, uint64_t grace_ns)
{
	struct reap_walk w = {.now = vp_now_ns(), .grace_ns = grace_ns};
	int err = 0;

	w.cap = l->nslots + bpf_map__max_entries(l->skel->maps.spill);
	w.dead = calloc(w.cap, sizeof(*w.dead));
	if (!w.dead)
		return -ENOMEM;
	pthread_mutex_lock(&l->lock);
	/* the walk first, the retirements after */
	err = each_container(l, reap_one, &w);
	for (size_t k = 0; k < w.n && !err; k++) {
		size_t i = 0;

		while (i < l->nreported && l->reported[i] != w.dead[k])
			i++;
		/*
		 * reported by a snapshot whose delivery is not known yet: left
		 * in the map, for the next snapshot to retire (delivered) or
		 * report again (not)
		 */
		if (i < l->nreported && !reports_final(l))
			continue;
		/* reported already: retired here, so not again by the next snapshot */
		if (i < l->nreported) {
			l->reported[i] = l->reported[--l->nreported];
			if (retire(l, w.dead[k], true, NULL))
				l->retired++;
			continue;
		}
		/* not reported yet: kept here for the next snapshot to report */
		if (l->nreaped == l->capreaped) {
			size_t nc = l->capreaped ? 2 * l->capreaped : 16;
			struct vp_slot *r =
			    nc < SIZE_MAX / sizeof(*r) ? realloc(l->reaped, nc * sizeof(*r)) : NULL;

			if (!r) {
				err = -ENOMEM; /* it stays in the map */
				continue;
			}
			l->reaped = r;
			l->capreaped = nc;
		}
		if (retire(l, w.dead[k], false, &l->reaped[l->nreaped]))
			l->nreaped++;
	}
	pthread_mutex_unlock(&l->lock);
	free(w.dead);
	return err;
}

/* A released container reported now for the last time?  (One released after @now: not.) */
static bool last_report(const struct vp_loader *l, const struct vp_container *c, uint64_t now)
{
	return !l->keep_ns || (now >= c->released_ns && now - c->released_ns >= l->keep_ns);
}

/*
 * After a snapshot reported them: retire the reaped containers whose time
 * is over among the first @shown (those it had; vp_reap appends), and the
 * oldest beyond as many as the map holds.
 */
static void retire_reaped(struct vp_loader *l, uint64_t now, size_t shown)
{
	size_t over = l->nreaped > l->nslots ? l->nreaped - l->nslots : 0, kept = 0;

	for (size_t i = 0; i < l->nreaped; i++) {
		if (i < over || (i < shown && last_report(l, &l->reaped[i].c, now))) {
			vp_lat_add(l->lat_retired, &l->reaped[i].lat);
			l->retired++;
		} else {
			l->reaped[kept++] = l->reaped[i];
		}
	}
	l->nreaped = kept;
}

static void retire_reported(struct vp_loader *l)
{
	for (size_t i = 0; i < l->nreported; i++)
		if (retire(l, l->reported[i], true, NULL))
			l->retired++;
	l->nreported = 0;
}

struct snap_walk {
	struct vp_snapshot *s;
	size_t cap;
	uint64_t now;
};

/* One container into the snapshot (its rate comes once all are in). */
static int snap_one(struct vp_loader *l, void *ctx, const struct vp_container *c,
		    const struct vp_lat *lat)
{
	struct snap_walk *w = ctx;
	struct vp_snapshot *s = w->s;
	struct vp_row *r;

	if (s->n == w->cap)
		return 0;
	r = &s->rows[s->n];
	vp_row_derive(r, c, NULL, 0);
	vp_row_latency(r, lat);
	vp_lat_add(s->lat_rows, lat);
	if (s->lats) {
		memcpy(&s->lats[s->n], lat, sizeof(*lat));
		r->lat = &s->lats[s->n];
	}
	/* released, still in the map, its time over: retired by the next snapshot */
	if ((c->flags & VP_F_RELEASED) && last_report(l, c, w->now))
		l->reported[l->nreported++] = c->cid;
	s->n++;
	return 0;
}

static void read_globals(struct vp_loader *l, struct vp_globals *g)
{
	int ncpu = libbpf_num_possible_cpus();
	struct vp_globals *per;
	__u32 zero = 0;

	memset(g, 0, sizeof(*g));
	if (ncpu <= 0)
		return;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (per && !bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.stats), &zero, per)) {
		for (int c = 0; c < ncpu; c++) {
			const __u64 *src = (const __u64 *)&per[c];
			__u64 *dst = (__u64 *)g;

			for (size_t i = 0; i < sizeof(*g) / sizeof(__u64); i++)
				dst[i] += src[i];
		}
	}
	free(per);
}

int vp_snapshot_and_retire(struct vp_loader *l, struct vp_snapshot *s)
{
	struct snap_walk w = {.s = s};
	struct vp_container *raw;
	uint64_t now;
	int err;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&l->lock);
	if (reports_final(l)) {
		retire_reported(l);
		/* gated: the reaped ones the delivered snapshot reported last */
		if (l->gated)
			retire_reaped(l, l->last_ts, l->nreaped_shown);
	}
	l->delivered = false;
	w.cap = l->nslots + bpf_map__max_entries(l->skel->maps.spill) + l->nreaped;
	raw = calloc(w.cap, sizeof(*raw));
	s->rows = calloc(w.cap, sizeof(*s->rows));
	s->lat_rows = calloc(1, sizeof(*s->lat_rows));
	s->lat_all = malloc(sizeof(*s->lat_all));
	if (l->row_lat)
		s->lats = calloc(w.cap, sizeof(*s->lats));
	/* this snapshot's reports (an undelivered one's are made again here) */
	free(l->reported);
	l->reported = calloc(w.cap, sizeof(*l->reported));
	l->nreported = 0;
	if (!raw || !s->rows || !s->lat_rows || !s->lat_all || (l->row_lat && !s->lats) ||
	    !l->reported) {
		free(raw);
		vp_snapshot_free(s);
		pthread_mutex_unlock(&l->lock);
		return -ENOMEM;
	}
	now = vp_now_ns();
	w.now = now;
	err = each_container(l, snap_one, &w);
	if (err) {
		free(raw);
		vp_snapshot_free(s);
		pthread_mutex_unlock(&l->lock);
		return err;
	}
	/* released and already out of the map (vp_reap): reported here */
	l->nreaped_shown = 0;
	for (size_t i = 0; i < l->nreaped && s->n < w.cap; i++) {
		struct vp_row *r = &s->rows[s->n];

		l->nreaped_shown = i + 1;
		vp_row_derive(r, &l->reaped[i].c, NULL, 0);
		vp_row_latency(r, &l->reaped[i].lat);
		vp_lat_add(s->lat_rows, &l->reaped[i].lat);
		if (s->lats) {
			s->lats[s->n] = l->reaped[i].lat;
			r->lat = &s->lats[s->n];
		}
		s->n++;
	}
	/* every container so far: the retired ones, then these */
	memcpy(s->lat_all, l->lat_retired, sizeof(*s->lat_all));
	vp_lat_add(s->lat_all, s->lat_rows);
	if (!l->gated)
		retire_reaped(l, now, l->nreaped_shown);
	qsort(s->rows, s->n, sizeof(*s->rows), cmp_row_cid);
	s->ts_ns = now;
	s->interval_s = l->prev ? (double)(now - l->last_ts) / 1e9 : 0;
	for (size_t i = 0; i < s->n; i++) {
		struct vp_row *r = &s->rows[i];
		const struct vp_container *prev = NULL;

		raw[i] = r->c;
		if (l->prev)
			prev = bsearch(&r->c, l->prev, l->nprev, sizeof(*raw), cmp_cid);
		vp_row_rate(r, prev, s->interval_s);
		r->lacks = l->mode == VP_MODE_TRACEPOINT
			       ? VP_FF_FB
			       : VP_FF_TP | (l->unmap_probe ? 0 : VP_FF_UU);
	}
	read_globals(l, &s->g);
	if (vp_snapshot_derive(s)) {
		free(raw);
		vp_snapshot_free(s);
		pthread_mutex_unlock(&l->lock);
		return -ENOMEM;
	}
	learn_locked(l, s);
	if (namer(l)) {
		learn_args(l, s);
		vp_namer_name(l->names, s, now);
	}
	s->retired = l->retired;
	s->gen = ++l->gen;
	s->mode = vp_mode_names[l->mode];
	s->mlock_watch = l->mlock ? "kprobe" : NULL;
	free(l->prev);
	l->prev = raw;
	l->nprev = s->n;
	l->last_ts = now;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int vp_read_lat(struct vp_loader *l, uint32_t cid, struct vp_lat *out)
{
	struct vp_slot *sl, *tmp;
	int err = -ENOENT;

	pthread_mutex_lock(&l->lock);
	sl = in_array(l, cid);
	if (sl) {
		memcpy(out, &sl->lat, sizeof(*out));
		err = 0;
	} else if ((tmp = malloc(sizeof(*tmp)))) {
		if (!bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.spill), &cid, tmp)) {
			memcpy(out, &tmp->lat, sizeof(*out));
			err = 0;
		}
		free(tmp);
	} else {
		err = -ENOMEM;
	}
	for (size_t i = 0; err == -ENOENT && i < l->nreaped; i++)
		if (l->reaped[i].c.cid == cid) {
			memcpy(out, &l->reaped[i].lat, sizeof(*out));
			err = 0;
		}
	pthread_mutex_unlock(&l->lock);
	return err;
}

int vp_poll(struct vp_loader *l, int timeout_ms)
{
	int err;

	if (!l->rb) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	err = ring_buffer__poll(l->rb, timeout_ms);
	return err == -EINTR ? 0 : err;
}

void vp_close(struct vp_loader *l)
{
	ring_buffer__free(l->rb);
	if (l->slots)
		munmap(l->slots, l->map_len);
	free(l->lat_retired);
	mlock_bpf__destroy(l->mlock);
	vfiopin_bpf__destroy(l->skel);
	free(l->prev);
	free(l->reported);
	free(l->reaped);
	vp_namer_free(l->names);
	pthread_mutex_destroy(&l->lock);
	memset(l, 0, sizeof(*l));
}
