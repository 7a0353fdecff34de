// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin capture: record the vfio_type1 tracepoints and the IOMMU's map
 * and unmap events with perf, system-wide, while a command runs (a VM
 * hotplug, say), then render what happened per container:
 *
 *   DIR/perf.data       perf's recording (perf script/report read it)
 *   DIR/timeline.txt    per container, its phases in order with counts
 *                       and durations, and totals
 *   DIR/timeline.json   the same, for programs
 *   DIR/capture.svg     locked memory and pin rate over time (gnuplot)
 *
 * `vfiopin capture --report DIR` renders again from DIR/perf.data.  The
 * phases and how perf script's lines become them: timeline.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>
#include "cli.h"
#include "cmd.h"
#include "hist.h"
#include "timeline.h"

#define PIN_BIN_S 0.01 /* pin-rate plot resolution */

struct capture_opts {
	struct vp_common common;
	const char *dir;
	const char *report;
};

static const char capture_doc[] =
    "Record the pin path with perf while COMMAND runs; render a timeline and a plot.\n"
    "\n"
    "Runs perf record system-wide on the vfio_type1 tracepoints and the "
    "iommu map/unmap events from just before COMMAND starts until it ends, "
    "then writes DIR/perf.data, DIR/timeline.txt (per container: its phases "
    "in order with counts and durations, and totals), DIR/timeline.json and "
    "DIR/capture.svg (locked memory and pin rate over time, if gnuplot is "
    "installed).  COMMAND's exit status becomes vfiopin's; the capture is "
    "written even when COMMAND fails.  --report DIR renders an existing "
    "capture again.  Needs perf (Debian's linux-perf) and CAP_PERFMON or root."
    "\v"
    "Examples:\n"
    "  vfiopin capture -D hotplug -- virsh attach-device vm1 gpu.xml\n"
    "  vfiopin capture -D s5 -- ./vfiopin-vmm attach $MDEV map 0 16M ...\n"
    "  vfiopin capture --report hotplug\n";

enum { OPT_REPORT = 0x100 };

static const struct argp_option capture_options[] = {
    {"output-dir", 'D', "DIR", 0, "The directory to write into (default: vfiopin-capture)", 0},
    {"output", 'o', "FILE", OPTION_HIDDEN, NULL, 0},
    {"report", OPT_REPORT, "DIR", 0, "Render DIR/perf.data again; record nothing", 0},
    {0},
};

static error_t capture_parse(int key, char *arg, struct argp_state *state)
{
	struct capture_opts *o = state->input;

	switch (key) {
	case 'D':
		o->dir = arg;
		break;
	case 'o':
		argp_error(state, "capture writes a directory: --output-dir DIR (-D DIR), not -o");
		break;
	case OPT_REPORT:
		o->report = arg;
		break;
	case ARGP_KEY_ARG:
		/* everything from the first non-option on is COMMAND */
		o->common.cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (o->report && (o->common.cmd || o->dir))
			argp_error(state, "--report DIR takes neither --output-dir nor COMMAND");
		if (!o->report && !o->common.cmd)
			argp_error(
			    state,
			    "what to run while capturing: vfiopin capture [-D DIR] -- COMMAND...");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp capture_argp = {
    .options = capture_options,
    .parser = capture_parse,
    .args_doc = "-- COMMAND [ARG...]\n--report DIR",
    .doc = capture_doc,
};

static void write_text(FILE *f, const struct vp_timeline *cap, const char *data)
{
	fprintf(f, "vfiopin capture of %s: %zu container(s), %llu events\n", data, cap->n,
		(unsigned long long)cap->lines);
	for (size_t i = 0; i < cap->n; i++) {
		const struct tl_container *c = &cap->c[i];
		const struct totals *x = &c->t;
		char d[32];

		fprintf(f, "\ncontainer %u (owner tgid %d)%s\n", c->cid, c->tgid,
			c->released ? ", released" : "");
		fprintf(f, "  %-12s %-10s %7s %8s %8s %9s %s\n", "start", "phase", "events",
			"calls", "pages", "iommu", "duration");
		for (size_t k = 0; k < c->nseg; k++) {
			const struct segment *s = &c->seg[k];
			char io[32];

			vp_fmt_ns(d, sizeof(d), (s->end - s->start) * 1e9);
			snprintf(io, sizeof(io), "%llu/%llu", (unsigned long long)s->iommu_maps,
				 (unsigned long long)s->iommu_unmaps);
			fprintf(f, "  +%-11.6f %-10s %7llu %8llu %8llu %9s %s\n", s->start,
				phase_names[s->phase], (unsigned long long)s->events,
				(unsigned long long)s->calls, (unsigned long long)s->pages, io, d);
		}
		fprintf(f,
			"  totals: pin calls %llu (%llu pages), unpin calls %llu (%llu pages), "
			"MAP_DMA %llu, unmaps %llu, replays %llu, invalidations %llu, "
			"reaccounts %llu,\n          iommu maps %llu (%llu bytes), unmaps %llu, "
			"locked peak %llu kB, last %llu kB, limit hits %llu, leaked pins %llu\n",
			(unsigned long long)x->pin_calls, (unsigned long long)x->pin_pages,
			(unsigned long long)x->unpin_calls, (unsigned long long)x->unpin_pages,
			(unsigned long long)x->dma_maps, (unsigned long long)x->dma_unmaps,
			(unsigned long long)x->replays, (unsigned long long)x->invalidations,
			(unsigned long long)x->reaccounts, (unsigned long long)x->iommu_maps,
			(unsigned long long)x->iommu_map_bytes, (unsigned long long)x->iommu_unmaps,
			(unsigned long long)x->locked_peak_kb,
			(unsigned long long)x->locked_last_kb, (unsigned long long)x->limit_hits,
			(unsigned long long)x->leaked);
	}
	if (cap->unattributed_iommu)
		fprintf(f,
			"\n%llu iommu map/unmap events outside any container's MAP_DMA, replay or "
			"unmap\n",
			(unsigned long long)cap->unattributed_iommu);
}

static json_t *to_json(const struct vp_timeline *cap)
{
	json_t *root = json_object(), *cs = json_array();

	json_object_set_new(root, "schema", json_string("vfiopin.capture"));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "events", json_integer((json_int_t)cap->lines));
	json_object_set_new(root, "unattributed_iommu_events",
			    json_integer((json_int_t)cap->unattributed_iommu));
	for (size_t i = 0; i < cap->n; i++) {
		const struct tl_container *c = &cap->c[i];
		const struct totals *x = &c->t;
		json_t *o = json_object(), *segs = json_array();

		json_object_set_new(o, "cid", json_integer(c->cid));
		json_object_set_new(o, "tgid", json_integer(c->tgid));
		json_object_set_new(o, "released", json_boolean(c->released));
		for (size_t k = 0; k < c->nseg; k++) {
			const struct segment *s = &c->seg[k];

			json_array_append_new(
			    segs,
			    json_pack("{s:s,s:f,s:f,s:I,s:I,s:I,s:I,s:I}", "phase",
				      phase_names[s->phase], "start_s", s->start, "duration_s",
				      s->end - s->start, "events", (json_int_t)s->events, "calls",
				      (json_int_t)s->calls, "pages", (json_int_t)s->pages,
				      "iommu_maps", (json_int_t)s->iommu_maps, "iommu_unmaps",
				      (json_int_t)s->iommu_unmaps));
		}
		json_object_set_new(o, "phases", segs);
		json_object_set_new(
		    o, "totals",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			      "pin_calls", (json_int_t)x->pin_calls, "pin_pages",
			      (json_int_t)x->pin_pages, "unpin_calls", (json_int_t)x->unpin_calls,
			      "unpin_pages", (json_int_t)x->unpin_pages, "dma_maps",
			      (json_int_t)x->dma_maps, "dma_unmaps", (json_int_t)x->dma_unmaps,
			      "replays", (json_int_t)x->replays, "invalidations",
			      (json_int_t)x->invalidations, "reaccounts", (json_int_t)x->reaccounts,
			      "iommu_maps", (json_int_t)x->iommu_maps, "iommu_unmaps",
			      (json_int_t)x->iommu_unmaps, "iommu_map_bytes",
			      (json_int_t)x->iommu_map_bytes, "locked_peak_kb",
			      (json_int_t)x->locked_peak_kb, "locked_last_kb",
			      (json_int_t)x->locked_last_kb, "limit_hits",
			      (json_int_t)x->limit_hits, "leaked", (json_int_t)x->leaked));
		json_array_append_new(cs, o);
	}
	json_object_set_new(root, "containers", cs);
	return root;
}

/* Data files and a gnuplot script; runs gnuplot if it is there. */
/* @s in a gnuplot single-quoted string: a quote doubled */
static void gp_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/*
 * Outputs are written as NAME.tmp and renamed over NAME when whole: a
 * failed report leaves the previous one as it was.
 */
static bool finish_output(const char *dir, const char *name, bool ok)
{
	char tmp[4200], path[4200];

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ok && !rename(tmp, path))
		return true;
	if (ok)
		fprintf(stderr, "vfiopin capture: cannot write %s: %s\n", path, strerror(errno));
	unlink(tmp);
	return false;
}

static int plot(const struct vp_timeline *cap, const char *dir)
{
	char path[4096], svg[4200], dat[4200];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/plot.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	/* one gnuplot data block per container: locked kB, then pin rate */
	for (size_t i = 0; i < cap->n; i++) {
		const struct tl_container *c = &cap->c[i];

		fprintf(f, "# container %u locked_kb\n0 0\n", c->cid);
		for (size_t k = 0; k < c->nlocked; k++)
			fprintf(f, "%.6f %.0f\n", c->locked[k].t, c->locked[k].v);
		fprintf(f, "\n\n# container %u pages pinned per second\n", c->cid);
		if (c->npin) {
			double t = c->pin_t[0] - PIN_BIN_S, end = c->pin_t[c->npin - 1] + PIN_BIN_S;
			size_t k = 0;

			for (; t <= end; t += PIN_BIN_S) {
				size_t n = 0;

				while (k < c->npin && c->pin_t[k] < t + PIN_BIN_S) {
					k++;
					n++;
				}
				fprintf(f, "%.6f %.1f\n", t, n / PIN_BIN_S);
			}
		} else {
			fprintf(f, "0 0\n");
		}
		fprintf(f, "\n\n");
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/plot.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	snprintf(svg, sizeof(svg), "%s/capture.svg.tmp", dir);
	snprintf(dat, sizeof(dat), "%s/plot.dat", dir);
	fprintf(f, "set terminal svg size 1000,700 dynamic background '#ffffff'\nset output ");
	gp_quoted(f, svg);
	fprintf(f, "\nset multiplot layout 2,1 title 'vfiopin capture'\n"
		   "set xlabel 'seconds'\nset grid\nset key outside right\n"
		   "set ylabel 'locked memory (kB)'\n");
	fprintf(f, "plot ");
	for (size_t i = 0; i < cap->n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		gp_quoted(f, dat);
		fprintf(f, " index %zu with steps lw 2 title 'cid %u'", 2 * i, cap->c[i].cid);
	}
	fprintf(f, "%s\nset ylabel 'pages pinned per second (mdev)'\nplot ", cap->n ? "" : "NaN");
	for (size_t i = 0; i < cap->n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		gp_quoted(f, dat);
		fprintf(f, " index %zu with steps lw 2 title 'cid %u'", 2 * i + 1, cap->c[i].cid);
	}
	fprintf(f, "%s\nunset multiplot\n", cap->n ? "" : "NaN");
	fclose(f);
	{
		/* no shell: DIR may hold any character */
		char err[4200], *argv[] = {"gnuplot", path, NULL};
		int efd;

		snprintf(err, sizeof(err), "%s/gnuplot.err", dir);
		efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		rc = vp_run(argv, (const int[VP_SPAWN_FDS]){-1, efd, efd, -1});
		if (efd >= 0)
			close(efd);
	}
	if (!finish_output(dir, "capture.svg", rc == 0) && rc == 0)
		return -1;
	if (rc == 127) {
		fprintf(stderr,
			"vfiopin capture: gnuplot not found: no capture.svg (install gnuplot-nox; "
			"the data is in plot.dat, the script in plot.gp)\n");
		return 1;
	}
	if (rc) {
		fprintf(stderr, "vfiopin capture: gnuplot failed; see %s/gnuplot.err\n", dir);
		return -1;
	}
	return 0;
}

static int report(const char *dir)
{
	struct vp_timeline cap = {0};
	int oom = 0;
	char cmd[4200], path[4096], line[8192];
	FILE *p, *f;
	json_t *j;
	int rc = 0, st;
	bool ok;

	snprintf(path, sizeof(path), "%s/perf.data", dir);
	if (access(path, R_OK)) {
		fprintf(stderr, "vfiopin capture: no %s: %s\n", path, strerror(errno));
		return VP_EXIT_FAIL;
	}
	{
		/* perf script's lines through a pipe, its complaints to a file; no shell */
		char *argv[] = {"perf", "script", "-i", path, "-F", "trace:tid,time,event,trace",
				"--ns", NULL};
		int pfd[2], efd;
		pid_t pid;

		snprintf(cmd, sizeof(cmd), "%s/script.err", dir);
		efd = open(cmd, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (pipe2(pfd, O_CLOEXEC)) {
			fprintf(stderr, "vfiopin capture: pipe: %s\n", strerror(errno));
			if (efd >= 0)
				close(efd);
			return VP_EXIT_FAIL;
		}
		pid = vp_spawn(argv, (const int[VP_SPAWN_FDS]){-1, pfd[1], efd, -1});
		close(pfd[1]);
		if (efd >= 0)
			close(efd);
		p = pid < 0 ? NULL : fdopen(pfd[0], "r");
		if (!p) {
			fprintf(stderr, "vfiopin capture: cannot run perf script: %s\n",
				strerror(errno));
			close(pfd[0]);
			if (pid > 0)
				waitpid(pid, NULL, 0);
			return VP_EXIT_FAIL;
		}
		while (!oom && fgets(line, sizeof(line), p))
			oom = vp_timeline_line(&cap, line);
		/* out of memory: perf script gets EPIPE once the pipe is closed */
		fclose(p);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		st = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (oom) {
		fprintf(stderr,
			"vfiopin capture: out of memory reading the events of %s (no output "
			"written)\n",
			path);
		vp_timeline_free(&cap);
		return VP_EXIT_FAIL;
	}
	if (st) {
		/* nothing replaced: an earlier report of DIR stays whole */
		fprintf(stderr,
			"vfiopin capture: perf script failed on %s; see %s/script.err (no "
			"output written)\n",
			path, dir);
		vp_timeline_free(&cap);
		return VP_EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/timeline.txt.tmp", dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vfiopin capture: cannot write %s: %s\n", path, strerror(errno));
		return VP_EXIT_FAIL;
	}
	write_text(f, &cap, dir);
	/* perf's own warnings (lost events) belong with the figures */
	snprintf(path, sizeof(path), "%s/script.err", dir);
	p = fopen(path, "r");
	while (p && fgets(line, sizeof(line), p))
		if (strcasestr(line, "lost"))
			fprintf(f, "\nperf: %s", line);
	if (p)
		fclose(p);
	ok = !ferror(f);
	if (fclose(f))
		ok = false;
	if (!finish_output(dir, "timeline.txt", ok))
		rc = VP_EXIT_FAIL;
	j = to_json(&cap);
	snprintf(path, sizeof(path), "%s/timeline.json.tmp", dir);
	if (!finish_output(dir, "timeline.json", j && !json_dump_file(j, path, JSON_INDENT(1))))
		rc = VP_EXIT_FAIL;
	json_decref(j);
	if (plot(&cap, dir) < 0)
		rc = VP_EXIT_FAIL;
	fprintf(stderr, "vfiopin capture: %zu container(s), %llu events: %s/timeline.txt\n", cap.n,
		(unsigned long long)cap.lines, dir);
	vp_timeline_free(&cap);
	return rc;
}

/* Wait up to @ms for perf's "ack" on @fd. */
static bool wait_ack(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[16];

	if (poll(&pfd, 1, ms) <= 0)
		return false;
	return read(fd, buf, sizeof(buf)) > 0 && !strncmp(buf, "ack", 3);
}

static int record(struct capture_opts *o)
{
	char data[4096], ctl[4200], ack[4200], perf_err[4096], fifo[8500], tmp[4096];
	pid_t perf, child;
	int ctl_fd = -1, ack_fd = -1, status = 0, rc;
	char *argv[32];
	int n = 0;

	if (!vp_in_path("perf")) {
		fprintf(stderr, "vfiopin capture: perf not found: install Debian's linux-perf\n");
		return VP_EXIT_FAIL;
	}
	if (!vp_trace_events(vp_type1.trace_system)) {
		fprintf(stderr, "vfiopin capture: no vfio_type1 tracepoints in tracefs: boot a "
				"kernel with the vfiopin patch series (kernel-patch/)\n");
		return VP_EXIT_FAIL;
	}
	if (mkdir(o->dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "vfiopin capture: cannot create %s: %s\n", o->dir, strerror(errno));
		return VP_EXIT_FAIL;
	}
	snprintf(data, sizeof(data), "%s/perf.data", o->dir);
	snprintf(perf_err, sizeof(perf_err), "%s/perf-record.log", o->dir);
	/* perf's control fifos: in a private directory (DIR may be on a share without fifos) */
	snprintf(tmp, sizeof(tmp), "%s/vfiopin-capture.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		fprintf(stderr,
			"vfiopin capture: cannot create a directory for perf's control fifos (%s): "
			"%s\n",
			tmp, strerror(errno));
		return VP_EXIT_FAIL;
	}
	snprintf(ctl, sizeof(ctl), "%s/ctl", tmp);
	snprintf(ack, sizeof(ack), "%s/ack", tmp);
	if (mkfifo(ctl, 0600) || mkfifo(ack, 0600)) {
		fprintf(stderr, "vfiopin capture: mkfifo in %s: %s\n", tmp, strerror(errno));
		unlink(ctl);
		rmdir(tmp);
		return VP_EXIT_FAIL;
	}
	snprintf(fifo, sizeof(fifo), "fifo:%s,%s", ctl, ack);
	argv[n++] = "perf";
	argv[n++] = "record";
	argv[n++] = "-a";
	argv[n++] = "-q";
	argv[n++] = "-m";
	argv[n++] = "8M";
	argv[n++] = "-D";
	argv[n++] = "-1";
	argv[n++] = "--control";
	argv[n++] = fifo;
	argv[n++] = "-o";
	argv[n++] = data;
	argv[n++] = "-e";
	argv[n++] = "vfio_type1:*";
	if (vp_trace_events("iommu/map")) {
		argv[n++] = "-e";
		argv[n++] = "iommu:map";
		argv[n++] = "-e";
		argv[n++] = "iommu:unmap";
	}
	argv[n] = NULL;
	{
		/* perf's own output to a file we show if it fails */
		int fd = open(perf_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		perf = vp_spawn(argv, (const int[VP_SPAWN_FDS]){-1, fd, fd, -1});
		if (fd >= 0)
			close(fd);
	}
	if (perf < 0) {
		fprintf(stderr, "vfiopin capture: cannot start perf: %s\n", strerror(errno));
		rc = VP_EXIT_FAIL;
		goto out;
	}
	/* perf opens the control fifo when it starts; both ends block until then */
	ctl_fd = open(ctl, O_WRONLY);
	ack_fd = open(ack, O_RDONLY | O_NONBLOCK);
	if (ctl_fd < 0 || ack_fd < 0 || write(ctl_fd, "enable\n", 7) != 7 ||
	    !wait_ack(ack_fd, 30000)) {
		char msg[512] = "";
		FILE *f;

		kill(perf, SIGINT);
		waitpid(perf, NULL, 0);
		f = fopen(perf_err, "r");
		if (f) {
			size_t k = fread(msg, 1, sizeof(msg) - 1, f);

			msg[k] = 0;
			fclose(f);
		}
		fprintf(stderr, "vfiopin capture: perf record did not start%s%s\n%s",
			strstr(msg, "ermission") || strstr(msg, "paranoid")
			    ? ": it needs CAP_PERFMON (or root, or kernel.perf_event_paranoid=-1) "
			      "to record system-wide"
			    : "",
			msg[0] ? "; perf said:" : "", msg);
		rc = VP_EXIT_FAIL;
		goto out;
	}
	vp_signals_install();
	child = vp_spawn(o->common.cmd, NULL);
	if (child < 0) {
		fprintf(stderr, "vfiopin capture: cannot start %s: %s\n", o->common.cmd[0],
			strerror(errno));
		status = 127 << 8;
	}
	while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
		if (vp_stop)
			kill(child, SIGTERM);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (write(ctl_fd, "disable\n", 8) == 8)
		wait_ack(ack_fd, 5000);
	kill(perf, SIGINT);
	waitpid(perf, NULL, 0);
	if (rc)
		fprintf(stderr,
			"vfiopin capture: %s exited with status %d; writing the capture anyway\n",
			o->common.cmd[0], rc);
	if (report(o->dir) && !rc)
		rc = VP_EXIT_FAIL;
out:
	if (ctl_fd >= 0)
		close(ctl_fd);
	if (ack_fd >= 0)
		close(ack_fd);
	unlink(ctl);
	unlink(ack);
	rmdir(tmp);
	return rc;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_opts o = {0};

	argp_parse(&capture_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	if (o.report)
		return report(o.report);
	if (!o.dir)
		o.dir = "vfiopin-capture";
	return record(&o);
}
