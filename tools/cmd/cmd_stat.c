// SPDX-License-Identifier: GPL-2.0
/* vfiopin stat: per-container figures, one snapshot (text or JSON). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"
#include "output.h"

struct stat_opts {
	struct vp_common common;
	struct vp_select sel;
	bool hists;
	bool seen_cid;
	int failed;
};

static const char stat_doc[] =
    "Per-container VFIO pinning figures: one snapshot when collection ends.\n"
    "\n"
    "Attaches to the vfio_type1 tracepoints, collects until Ctrl-C, the "
    "--duration, or the end of COMMAND, and prints every container seen: "
    "locked memory and RLIMIT_MEMLOCK headroom, pages pinned through mdev "
    "and passthrough paths, pin/unpin counts and latency, refcounts, "
    "invalidations, limit hits and leaked pins.  SIGUSR1 prints a snapshot "
    "without stopping.  The JSON output (--json, one object per line) is "
    "schema \"vfiopin.stat\" version 1, documented in tools/README.md."
    "\v"
    "Examples:\n"
    "  vfiopin stat -d 10                 10 seconds, as a table\n"
    "  vfiopin stat --json -- qemu-system-x86_64 ...   while QEMU runs\n"
    "  vfiopin stat --json -c 3 --hist    container 3 with histograms\n"
    "  kill -USR1 $(pidof vfiopin)        a snapshot now\n";

static const struct argp_option stat_options[] = {
    VP_OPT_JSON("One JSON object per snapshot"),
    {"hist", 'H', NULL, 0, "Include the full histograms in JSON", 0},
    VP_OPT_CID("Only container CID (an error if never seen)"),
    VP_OPT_PID("Only containers owned by process TGID"),
    VP_OPT_SORT,
    {0},
};

static error_t stat_parse(int key, char *arg, struct argp_state *state)
{
	struct stat_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case 'H':
		o->hists = true;
		break;
	default:
		return vp_select_parse(key, arg, state, &o->sel);
	}
	return 0;
}

static const struct argp stat_argp = {
    .options = stat_options,
    .parser = stat_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = stat_doc,
    .children = vp_common_children,
};

static int print_snapshot(void *ctx, struct vp_loader *l, bool usr1)
{
	struct stat_opts *o = ctx;
	struct vp_snapshot s;
	int err;

	(void)usr1;
	err = vp_snapshot_and_retire(l, &s);
	if (err) {
		fprintf(stderr, "vfiopin stat: cannot read the container map: %s\n",
			strerror(-err));
		o->failed = 1;
		return 1;
	}
	if (vp_select_apply(&o->sel, &s, &o->seen_cid)) {
		fprintf(stderr, "vfiopin stat: out of memory\n");
		vp_snapshot_free(&s);
		o->failed = 1;
		return 1;
	}
	if (o->sel.json) {
		json_t *j = vp_json_snapshot(&s, o->hists);

		if (vp_json_print(o->common.out, j))
			o->failed = 1;
		json_decref(j);
	} else {
		vp_print_table(o->common.out, &s);
		fflush(o->common.out);
	}
	vp_snapshot_free(&s);
	return o->failed;
}

int cmd_stat(int argc, char **argv)
{
	struct stat_opts o = {.sel.sort = VP_SORT_CID};
	int rc;

	argp_parse(&stat_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	/* every container's latency histograms in each snapshot */
	rc = vp_run_snapshots(&o.common, true, print_snapshot, &o, &o.failed);
	if (rc != VP_EXIT_FAIL && o.sel.cid && !o.seen_cid) {
		fprintf(stderr, "vfiopin stat: no container with id %u was seen\n", o.sel.cid);
		return VP_EXIT_FAIL;
	}
	return rc;
}
