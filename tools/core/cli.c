// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

volatile int vp_stop;
static volatile int usr1;

bool vp_parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	int base = 10;
	char *end;

	/* a digit first: strtoull would skip white space and take a sign */
	if (!s || !isdigit((unsigned char)*s))
		return false;
	/* decimal, or hexadecimal with 0x: a leading zero is no octal */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return false;
		s += 2;
		base = 16;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool vp_parse_seconds(const char *s, double *out)
{
	double v;
	char *end;

	if (!s || (!isdigit((unsigned char)*s) && *s != '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > 31536000)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_VERBOSE = 0x100,
	OPT_MAX_CONTAINERS,
	OPT_RINGBUF_KB,
	OPT_MODE,
	OPT_WAIT_MODULES,
};

static const struct argp_option common_options[] = {
    {"duration", 'd', "SECONDS", 0,
     "Collect for this long (default: until Ctrl-C, or until COMMAND ends); with "
     "--wait-modules, the wait counts",
     1},
    {"max-containers", OPT_MAX_CONTAINERS, "N", 0,
     "Live containers tracked at once (default 1024, at most 16384; each takes about 17 KiB of "
     "kernel memory; more are counted as drops); a released one leaves the map a second "
     "after its release, kept for the next report",
     1},
    {"ringbuf-kb", OPT_RINGBUF_KB, "KB", 0, "Event ring buffer size, a power of two (default 4096)",
     1},
    {"output", 'o', "FILE", 0, "Write the output to FILE (COMMAND keeps standard output)", 1},
    {"verbose", OPT_VERBOSE, NULL, 0, "Show libbpf's messages", 1},
    {"mode", OPT_MODE, "MODE", 0,
     "How to observe the kernel: auto (default: the first that attaches), tracepoint, "
     "fentry or kprobe (the last two on kernels without the vfiopin patches, with fewer "
     "figures)",
     1},
    {"wait-modules", OPT_WAIT_MODULES, NULL, 0,
     "If VFIO's type1 driver is not loaded yet, wait for it", 1},
    {0},
};

static error_t common_parse(int key, char *arg, struct argp_state *state)
{
	struct vp_common *c = state->input;
	uint32_t v;

	switch (key) {
	case 'd':
		if (!vp_parse_seconds(arg, &c->duration))
			argp_error(state, "--duration takes a positive number of seconds, not '%s'",
				   arg);
		/* the whole run, a wait for the modules included */
		c->bpf.wait_max_s = c->duration;
		break;
	case OPT_MAX_CONTAINERS:
		if (!vp_parse_u32(arg, &v) || v < 1 || v > 16384)
			argp_error(state, "--max-containers takes 1..16384, not '%s'", arg);
		c->bpf.max_containers = v;
		break;
	case OPT_RINGBUF_KB:
		if (!vp_parse_u32(arg, &v) || v < 4 || v > 1048576 || (v & (v - 1)))
			argp_error(state,
				   "--ringbuf-kb takes a power of two from 4 to 1048576, not '%s'",
				   arg);
		c->bpf.ringbuf_kb = v;
		break;
	case OPT_VERBOSE:
		c->bpf.verbose = true;
		break;
	case OPT_MODE:
		for (c->bpf.mode = 0; c->bpf.mode < VP_MODE_MAX; c->bpf.mode++)
			if (!strcmp(arg, vp_mode_names[c->bpf.mode]))
				break;
		if (c->bpf.mode == VP_MODE_MAX)
			argp_error(state,
				   "--mode takes auto, tracepoint, fentry or kprobe, not '%s'",
				   arg);
		break;
	case OPT_WAIT_MODULES:
		c->bpf.wait_modules = true;
		break;
	case 'o':
		c->output = arg;
		break;
	case ARGP_KEY_ARG:
		/* everything from the first non-option on is COMMAND */
		c->cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp vp_common_argp = {
    .options = common_options,
    .parser = common_parse,
};

const struct argp_child vp_common_children[] = {
    {&vp_common_argp, 0, "Collection:", 1},
    {0},
};

void vp_arg_id(struct argp_state *state, const char *opt, const char *arg, uint32_t *out)
{
	if (!vp_parse_u32(arg, out) || !*out)
		argp_error(state, "%s takes %s (1 or more), not '%s'", opt,
			   strcmp(opt, "--pid") ? "a container id" : "a process id", arg);
}

error_t vp_select_parse(int key, const char *arg, struct argp_state *state, struct vp_select *sel)
{
	switch (key) {
	case 'j':
		sel->json = true;
		return 0;
	case 'c':
		vp_arg_id(state, "--cid", arg, &sel->cid);
		return 0;
	case 'p':
		vp_arg_id(state, "--pid", arg, &sel->tgid);
		return 0;
	case 's':
		sel->sort = vp_sort_parse(arg);
		if (sel->sort < 0)
			argp_error(state, "unknown sort key '%s'", arg);
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

int vp_select_apply(const struct vp_select *sel, struct vp_snapshot *s, bool *seen)
{
	if (vp_snapshot_filter(s, sel->cid, sel->tgid) || vp_snapshot_sort(s, sel->sort))
		return -ENOMEM;
	if (sel->cid && s->n)
		*seen = true;
	return 0;
}

FILE *vp_file_open(const char *path, bool *created)
{
	/* never through a symlink; a FIFO without a reader fails, never blocks */
	const int how = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
	FILE *f = NULL;
	int fd, en;

	*created = false;
	/* no O_TRUNC: what FILE holds stays until there is output to replace it */
	fd = open(path, how | O_CREAT | O_EXCL, 0666);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(path, how);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
		f = fdopen(fd, "w");
	if (f)
		return f;
	en = errno;
	fprintf(stderr, "vfiopin: cannot write %s: %s\n", path,
		en == ELOOP   ? "it is a symbolic link (give the path it points to)"
		: en == ENXIO ? "a FIFO with no reader"
			      : strerror(en));
	if (fd >= 0)
		close(fd);
	if (*created)
		unlink(path);
	*created = false;
	errno = en;
	return NULL;
}

bool vp_output_open(struct vp_common *c)
{
	c->out = stdout;
	c->created = c->begun = false;
	if (!c->output)
		return true;
	c->out = vp_file_open(c->output, &c->created);
	return c->out != NULL;
}

bool vp_output_begin(struct vp_common *c)
{
	if (c->begun || c->out == stdout)
		return true;
	c->begun = true;
	return vp_file_truncate(c->out, c->output);
}

bool vp_file_truncate(FILE *f, const char *path)
{
	struct stat st;

	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && ftruncate(fileno(f), 0)) {
		fprintf(stderr, "vfiopin: cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

bool vp_output_close(struct vp_common *c)
{
	bool ok;

	if (!c->out)
		return true;
	if (c->out != stdout && !c->begun) {
		/* nothing was written: FILE is as it was, or gone if this made it */
		fclose(c->out);
		if (c->created)
			unlink(c->output);
		c->out = NULL;
		return true;
	}
	ok = !ferror(c->out) && !fflush(c->out);
	if (c->out != stdout && fclose(c->out))
		ok = false;
	if (!ok)
		fprintf(stderr, "vfiopin: writing %s failed\n",
			c->output ? c->output : "the output");
	c->out = NULL;
	return ok;
}

static void on_stop(int sig)
{
	(void)sig;
	vp_stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

pid_t vp_spawn(char *const argv[], const int fds[VP_SPAWN_FDS])
{
	pid_t pid = fork();

	if (pid == 0) {
		/* the new program starts with the signals as the shell gave them */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGUSR1, SIG_DFL);
		for (int i = 0; fds && i < VP_SPAWN_FDS; i++)
			if (fds[i] >= 0 && fds[i] != i && dup2(fds[i], i) < 0)
				_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "vfiopin: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

bool vp_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		if (n && n < sizeof(buf) - strlen(prog) - 2) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
			if (!access(buf, X_OK))
				return true;
		}
		path += n + (path[n] == ':');
	}
	return false;
}

int vp_run(char *const argv[], const int fds[VP_SPAWN_FDS])
{
	pid_t pid = vp_spawn(argv, fds);
	int status;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void vp_signals_install(void)
{
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

int vp_collect(struct vp_loader *l, const struct vp_common *c, uint64_t tick_ns,
	       int (*tick)(void *ctx, bool usr1), void *ctx)
{
	uint64_t t0 = vp_now_ns(), next = t0 + tick_ns;
	uint64_t next_reap = t0 + 1000000000ULL;
	/* --duration bounds the whole run: what vp_open waited counts */
	double duration = c->duration > 0 ? c->duration - l->waited_s : 0;
	pid_t child = 0;
	int status = 0, err;

	vp_signals_install();
	if (c->cmd) {
		child = vp_spawn(c->cmd, NULL);
		if (child < 0) {
			err = -errno;
			fprintf(stderr, "vfiopin: fork: %s\n", strerror(errno));
			return err;
		}
	}
	while (!vp_stop) {
		uint64_t now = vp_now_ns();
		uint64_t left = next > now ? next - now : 0;
		int wait_ms = tick_ns && left < 100000000ULL ? (int)(left / 1000000) : 100;

		err = vp_poll(l, wait_ms);
		if (err < 0) {
			fprintf(stderr, "vfiopin: reading events: %s\n", strerror(-err));
			return err;
		}
		if (usr1) {
			usr1 = 0;
			if (tick && tick(ctx, true))
				break;
		}
		now = vp_now_ns();
		/* released containers out of the map, so they never crowd out live ones */
		if (now >= next_reap) {
			next_reap = now + 1000000000ULL;
			if (vp_reap(l, VP_REAP_GRACE_NS) == -ENOMEM)
				fprintf(stderr,
					"vfiopin: out of memory keeping released containers\n");
		}
		if (tick_ns && now >= next) {
			next += tick_ns;
			if (next < now)
				next = now + tick_ns;
			if (tick && tick(ctx, false))
				break;
		}
		if (c->duration > 0 && (double)(now - t0) / 1e9 >= duration)
			break;
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = 0;
			/* what the command did last is still in the ring */
			vp_poll(l, 0);
			break;
		}
	}
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, &status, 0);
	}
	if (!c->cmd)
		return 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

struct run_snap {
	int (*snap)(void *ctx, struct vp_loader *l, bool usr1);
	void *ctx;
	struct vp_loader *l;
};

static int run_snap_tick(void *ctx, bool usr1)
{
	struct run_snap *r = ctx;

	return r->snap(r->ctx, r->l, usr1);
}

int vp_run_snapshots(struct vp_common *c, bool row_lat,
		     int (*snap)(void *ctx, struct vp_loader *l, bool usr1), void *ctx,
		     const int *failed)
{
	struct vp_loader l;
	struct run_snap r = {snap, ctx, &l};
	int rc;

	c->bpf.announce = true;
	if (!vp_output_open(c))
		return VP_EXIT_FAIL;
	c->bpf.row_lat = row_lat;
	if (vp_open(&l, &c->bpf, NULL, NULL)) {
		vp_output_close(c);
		return VP_EXIT_FAIL;
	}
	if (!vp_output_begin(c)) {
		vp_close(&l);
		vp_output_close(c);
		return VP_EXIT_FAIL;
	}
	rc = vp_collect(&l, c, 0, run_snap_tick, &r);
	if (!*failed)
		snap(ctx, &l, false);
	vp_close(&l);
	if (!vp_output_close(c) || *failed)
		return VP_EXIT_FAIL;
	return rc < 0 ? VP_EXIT_FAIL : rc;
}
