// SPDX-License-Identifier: GPL-2.0
/* vfiopin top (vfiopin-top): the live per-container monitor. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "fields.h"
#include "cmd.h"
#include "output.h"
#include "vm.h"

#define MIN_COLS 40
/* two header lines, a VM heading and row, a container heading and row, the keys */
#define MIN_LINES 10
/* LINES or COLUMNS beyond this in the environment are not a terminal's */
#define MAX_ENV_SIZE 4096

struct top_opts {
	struct vp_common common;
	bool batch;
	double interval;
	uint32_t iterations;
	struct vp_select sel; /* --cid */
};

static const char top_doc[] =
    "Live per-container view of VFIO page pinning: one row per VFIO "
    "container (a VM), with the owner, locked memory, its RLIMIT_MEMLOCK "
    "and headroom, mdev-pinned and passthrough pages, pin calls per second, "
    "p50/p99 pin latency, invalidations, limit hits and leaked pins; a "
    "header with totals and drop counters.  CID marks: ~ seen only after it "
    "was opened (figures from then on), x released (shown once more).\n"
    "\n"
    "Keys: q quit, p or space pause, Up/Down select, Enter or h the selected "
    "container's histograms, < > sort column, 1-9 0 - sort by cid tgid "
    "locked headroom mdev pt rate p99 inv hits leaks.\n"
    "\n"
    "Without a terminal on standard output (or with -b) it prints snapshots "
    "every INTERVAL seconds, ITERATIONS times, like top -b; there -o FILE "
    "and -- COMMAND (until it ends) apply as for stat.  --duration ends it "
    "either way."
    "\v"
    "Examples:\n"
    "  vfiopin-top\n"
    "  vfiopin top -s headroom           least headroom first\n"
    "  vfiopin top -b -i 1 -n 10 > log   ten batch snapshots\n"
    "  vfiopin-top --mode kprobe         on a kernel without the tracepoints\n";

static const struct argp_option top_options[] = {
    {"batch", 'b', NULL, 0, "Batch mode: print snapshots, no screen handling", 0},
    {"interval", 'i', "SECONDS", 0, "Time between updates (default 1)", 0},
    {"iterations", 'n', "N", 0, "Stop after N updates (default: never)", 0},
    VP_OPT_SORT,
    VP_OPT_CID("Only container CID"),
    {0},
};

static error_t top_parse(int key, char *arg, struct argp_state *state)
{
	struct top_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case 'b':
		o->batch = true;
		break;
	case 'i':
		if (!vp_parse_seconds(arg, &o->interval) || o->interval < 0.05)
			argp_error(state, "--interval takes seconds (0.05 or more), not '%s'", arg);
		break;
	case 'n':
		if (!vp_parse_u32(arg, &o->iterations) || !o->iterations)
			argp_error(state, "--iterations takes a count of 1 or more, not '%s'", arg);
		break;
	default:
		return vp_select_parse(key, arg, state, &o->sel);
	}
	return 0;
}

static const struct argp top_argp = {
    .options = top_options,
    .parser = top_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = top_doc,
    .children = vp_common_children,
};

/* ---- batch ------------------------------------------------------------- */

struct batch {
	struct top_opts *o;
	struct vp_loader *l;
	uint32_t done;
	bool seen;
	int failed;
};

static int batch_tick(void *ctx, bool usr1)
{
	struct batch *b = ctx;
	struct vp_snapshot s;
	int err;

	(void)usr1;
	err = vp_snapshot_and_retire(b->l, &s);
	if (err) {
		fprintf(stderr, "vfiopin top: cannot read the container map: %s\n", strerror(-err));
		b->failed = 1;
		return 1;
	}
	if (vp_select_apply(&b->o->sel, &s, &b->seen)) {
		fprintf(stderr, "vfiopin top: out of memory\n");
		vp_snapshot_free(&s);
		b->failed = 1;
		return 1;
	}
	if (b->done)
		fprintf(b->o->common.out, "\n");
	vp_print_table(b->o->common.out, &s);
	if (b->o->sel.cid && !s.n)
		fprintf(b->o->common.out, "(container %u: no event from it yet)\n", b->o->sel.cid);
	if (fflush(b->o->common.out))
		b->failed = 1;
	vp_snapshot_free(&s);
	b->done++;
	return b->failed || (b->o->iterations && b->done >= b->o->iterations);
}

static int run_batch(struct top_opts *o, struct vp_loader *l)
{
	struct batch b = {.o = o, .l = l};
	int rc;

	if (!vp_output_begin(&o->common))
		return VP_EXIT_FAIL;
	rc = vp_collect(l, &o->common, (uint64_t)(o->interval * 1e9), batch_tick, &b);
	if (!vp_output_close(&o->common) || b.failed || rc < 0)
		return VP_EXIT_FAIL;
	if (o->sel.cid && !b.seen) {
		fprintf(stderr, "vfiopin top: no container with id %u was seen\n", o->sel.cid);
		return VP_EXIT_FAIL;
	}
	return rc;
}

/* ---- the screen -------------------------------------------------------- */

struct screen {
	struct top_opts *o;
	struct vp_loader *l;
	struct vp_snapshot s;
	bool have;
	bool paused;
	bool vms_only; /* the containers folded away ('v') */
	size_t sel;
	uint32_t sel_cid;
	bool hist; /* showing one container's histograms */
	uint32_t hist_cid;
	int hist_top; /* first line shown */
	char *hist_text;
	struct vp_lat lat; /* the shown container's, read when its histograms open */
	int failed;
};

/* Up (@dir -1) or down (+1) to the next row, if there is one. */
static void select_step(struct screen *sc, int dir)
{
	if (sc->have && (dir < 0 ? sc->sel > 0 : sc->sel + 1 < sc->s.n))
		sc->sel = dir < 0 ? sc->sel - 1 : sc->sel + 1;
}

/* The selection on container @cid, or the first row when it is not shown. */
static void select_cid(struct screen *sc, uint32_t cid)
{
	sc->sel = 0;
	for (size_t i = 0; i < sc->s.n; i++)
		if (sc->s.rows[i].c.cid == cid)
			sc->sel = i;
}

static bool too_small(void)
{
	return COLS < MIN_COLS || LINES < MIN_LINES;
}

static void draw_small(void)
{
	char need[32];

	erase();
	mvprintw(0, 0, "%.*s", COLS, "terminal too small");
	snprintf(need, sizeof(need), "need %dx%d, or -b", MIN_COLS, MIN_LINES);
	if (LINES > 1)
		mvprintw(1, 0, "%.*s", COLS, need);
	refresh();
}

static void draw_hist(struct screen *sc)
{
	const char *p = sc->hist_text ? sc->hist_text : "";
	int line = 0, y = 0;

	erase();
	attron(A_REVERSE);
	mvprintw(0, 0, "%-*.*s", COLS, COLS, " histograms  (Up/Down scroll, q or Esc back)");
	attroff(A_REVERSE);
	y = 1;
	while (*p && y < LINES) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (line >= sc->hist_top) {
			mvprintw(y, 0, "%.*s", len < COLS ? len : COLS, p);
			y++;
		}
		line++;
		p = nl ? nl + 1 : p + len;
	}
	refresh();
}

static void open_hist(struct screen *sc)
{
	struct vp_row *r;
	size_t len = 0;
	FILE *f;

	if (!sc->have || !sc->s.n)
		return;
	r = &sc->s.rows[sc->sel];
	if (!r->lat && !vp_read_lat(sc->l, r->c.cid, &sc->lat))
		r->lat = &sc->lat;
	free(sc->hist_text);
	sc->hist_text = NULL;
	f = open_memstream(&sc->hist_text, &len);
	if (!f)
		return;
	vp_print_hists(f, r);
	fclose(f);
	sc->hist = true;
	sc->hist_cid = r->c.cid;
	sc->hist_top = 0;
}

static void draw(struct screen *sc)
{
	char line[512];
	int y;

	if (too_small()) {
		draw_small();
		return;
	}
	if (sc->hist) {
		draw_hist(sc);
		return;
	}
	erase();
	if (sc->have) {
		struct vp_row t;
		uint64_t ev = 0;
		char locked[16];
		bool dropped = false;
		int n;

		vp_total(&sc->s, &t);
		for (int i = 0; i < VP_EV_MAX; i++)
			ev += sc->s.g.events[i];
		mvprintw(0, 0, "%.*s", COLS, "");
		snprintf(
		    line, sizeof(line),
		    "vfiopin-top  %zu container%s  %zu VM%s  locked %s  mdev %llu pages  pt %llu "
		    "pages  %.1f pins/s  hits %llu  leaks %llu%s",
		    sc->s.n, sc->s.n == 1 ? "" : "s", sc->s.vms.n, sc->s.vms.n == 1 ? "" : "s",
		    vp_fmt_bytes(locked, sizeof(locked), (uint64_t)vp_vms_locked(&sc->s.vms)),
		    (unsigned long long)t.c.pages_pinned, (unsigned long long)t.c.pt_pages,
		    t.pins_per_s, (unsigned long long)t.c.limit_hits,
		    (unsigned long long)t.c.leaked, sc->paused ? "  [PAUSED]" : "");
		mvprintw(0, 0, "%.*s", COLS, line);
		/* the drops of fields.h's host-wide counters, bold when any */
		n = snprintf(line, sizeof(line), "events %llu  drops:", (unsigned long long)ev);
		for (int i = 0; i < VP_GLOBALS_MAX && n >= 0 && (size_t)n < sizeof(line); i++) {
			if (!vp_global_fields[i].drop)
				continue;
			dropped |= vp_global_get(&sc->s.g, i) != 0;
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %llu",
				      vp_global_fields[i].text,
				      (unsigned long long)vp_global_get(&sc->s.g, i));
		}
		if (n >= 0 && (size_t)n < sizeof(line))
			snprintf(line + n, sizeof(line) - (size_t)n, "  sort: %s",
				 vp_sort_names[sc->o->sel.sort]);
		if (dropped)
			attron(A_BOLD);
		mvprintw(1, 0, "%.*s", COLS, line);
		attroff(A_BOLD);
	} else {
		mvprintw(0, 0, "%.*s", COLS, "vfiopin-top: attached, waiting for the first update");
	}
	/* the VMs first: what an operator sizes limits for */
	y = 3;
	vp_format_vm_heading(line, sizeof(line));
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	/* at most half the screen when the containers are shown too */
	for (size_t i = 0;
	     sc->have && i < sc->s.vms.n && y < (sc->vms_only ? LINES - 1 : LINES / 2); i++) {
		vp_format_vm_row(line, sizeof(line), &sc->s.vms.vm[i]);
		mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	}
	if (sc->vms_only)
		goto keys;
	y++;
	vp_format_heading(line, sizeof(line));
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	if (sc->have && sc->o->sel.cid && !sc->s.n)
		mvprintw(y, 0, "%.*s", COLS, "(no event from the requested container yet)");
	for (size_t i = 0; sc->have && i < sc->s.n && y < LINES - 1; i++) {
		vp_format_row(line, sizeof(line), &sc->s.rows[i]);
		if (i == sc->sel)
			attron(A_REVERSE);
		mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
		if (i == sc->sel)
			attroff(A_REVERSE);
	}
keys:
	attron(A_DIM);
	mvprintw(LINES - 1, 0, "%.*s", COLS,
		 "q quit  p pause  v VMs only/containers  Enter/h histograms  < > 1-9 0 - sort");
	attroff(A_DIM);
	refresh();
}

static int screen_tick(void *ctx, bool usr1)
{
	struct screen *sc = ctx;
	int err;

	(void)usr1;
	if (!sc->paused) {
		struct vp_snapshot s;
		bool seen = false; /* the screen says it when not */

		err = vp_snapshot_and_retire(sc->l, &s);
		if (err) {
			sc->failed = 1;
			return 1;
		}
		if (vp_select_apply(&sc->o->sel, &s, &seen)) {
			vp_snapshot_free(&s);
			sc->failed = 1;
			return 1;
		}
		if (sc->have)
			vp_snapshot_free(&sc->s);
		sc->s = s;
		sc->have = true;
		/* keep the selection on the same container */
		select_cid(sc, sc->sel_cid);
	}
	draw(sc);
	return 0;
}

static const int sort_keys[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-'};

/* Handle one key; returns true to quit. */
static bool key(struct screen *sc, int ch)
{
	if (sc->hist) {
		if (ch == KEY_UP && sc->hist_top > 0)
			sc->hist_top--;
		else if (ch == KEY_DOWN)
			sc->hist_top++;
		else if (ch == KEY_NPAGE)
			sc->hist_top += LINES - 2;
		else if (ch == KEY_PPAGE)
			sc->hist_top = sc->hist_top > LINES - 2 ? sc->hist_top - (LINES - 2) : 0;
		else if (ch == 'q' || ch == 27 || ch == 'h' || ch == '\n' || ch == KEY_ENTER)
			sc->hist = false;
		return false;
	}
	/* nothing else is shown to act on */
	if (too_small())
		return ch == 'q' || ch == 'Q';
	switch (ch) {
	case 'q':
	case 'Q':
		return true;
	case 'p':
	case ' ':
		sc->paused = !sc->paused;
		break;
	case 'v':
		sc->vms_only = !sc->vms_only;
		break;
	case KEY_UP:
	case 'k':
		select_step(sc, -1);
		break;
	case KEY_DOWN:
	case 'j':
		select_step(sc, 1);
		break;
	case '\n':
	case KEY_ENTER:
	case 'h':
		open_hist(sc);
		break;
	case '<':
		sc->o->sel.sort = (sc->o->sel.sort + VP_SORT_MAX - 1) % VP_SORT_MAX;
		break;
	case '>':
		sc->o->sel.sort = (sc->o->sel.sort + 1) % VP_SORT_MAX;
		break;
	default:
		for (int i = 0; i < VP_SORT_MAX; i++)
			if (ch == sort_keys[i])
				sc->o->sel.sort = i;
		break;
	}
	if (sc->have) {
		if (sc->sel < sc->s.n)
			sc->sel_cid = sc->s.rows[sc->sel].c.cid;
		/* the VMs follow, in the new order of their rows */
		if (vp_snapshot_sort(&sc->s, sc->o->sel.sort))
			sc->failed = 1;
		select_cid(sc, sc->sel_cid);
	}
	return false;
}

static int run_screen(struct top_opts *o, struct vp_loader *l)
{
	struct screen sc = {.o = o, .l = l};
	uint64_t next = 0, step = (uint64_t)(o->interval * 1e9), t0 = vp_now_ns();
	uint32_t done = 0;

	SCREEN *scr;

	/* absurd sizes from the environment: the terminal's own instead */
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "COLUMNS" : "LINES", *v = getenv(name);
		uint32_t n;

		if (v && (!vp_parse_u32(v, &n) || !n || n > MAX_ENV_SIZE))
			unsetenv(name);
	}
	/* newterm, not initscr: initscr exits by itself when it cannot */
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr, "vfiopin top: cannot initialise the terminal (TERM=%s); use -b\n",
			getenv("TERM") ? getenv("TERM") : "");
		return VP_EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(100);
	draw(&sc);
	while (!vp_stop) {
		uint64_t now = vp_now_ns();
		int ch;

		if (o->common.duration > 0 && (double)(now - t0) / 1e9 >= o->common.duration)
			break;
		if (now >= next) {
			if (next && (screen_tick(&sc, false) || sc.failed))
				break;
			if (next && o->iterations && ++done >= o->iterations)
				break;
			next = now + step;
		}
		vp_poll(l, 0);
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			draw(&sc);
			continue;
		}
		if (key(&sc, ch))
			break;
		draw(&sc);
	}
	endwin();
	delscreen(scr);
	if (sc.have)
		vp_snapshot_free(&sc.s);
	free(sc.hist_text);
	if (sc.failed) {
		fprintf(stderr, "vfiopin top: cannot read the container map\n");
		return VP_EXIT_FAIL;
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_opts o = {.interval = 1, .sel.sort = VP_SORT_CID};
	struct vp_loader l;
	int rc;

	argp_parse(&top_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	if (!o.batch && (!isatty(STDOUT_FILENO) || o.common.output || o.common.cmd))
		o.batch = true; /* a file or a COMMAND's terminal is no screen */
	o.common.bpf.announce = o.batch;
	if (o.batch && !vp_output_open(&o.common))
		return VP_EXIT_FAIL;
	if (vp_open(&l, &o.common.bpf, NULL, NULL)) {
		if (o.batch)
			vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	if (o.batch) {
		rc = run_batch(&o, &l);
	} else {
		/* Ctrl-C ends the screen through vp_stop, like q */
		vp_signals_install();
		rc = run_screen(&o, &l);
	}
	vp_close(&l);
	return rc;
}
