// SPDX-License-Identifier: GPL-2.0
/* vfiopin hist: log2 latency and refcount histograms, per container or total. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"
#include "output.h"

struct hist_opts {
	struct vp_common common;
	struct vp_select sel;
	bool total;
};

static const char hist_doc[] =
    "Histograms of VFIO pinning: pin and unpin latency per call and per "
    "page, invalidation, MAP_DMA and replay latency (log2 buckets, "
    "nanoseconds), and the ref_count of pinned pages (live, and after each "
    "pin).  Collects like 'vfiopin stat', then prints one set per container "
    "(or for container CID, or summed with --total)."
    "\v"
    "Examples:\n"
    "  vfiopin hist -d 30                 every container, 30 seconds\n"
    "  vfiopin hist --total -- ./run-vm.sh\n"
    "  vfiopin hist -c 4 --json\n";

static const struct argp_option hist_options[] = {
    VP_OPT_JSON("JSON output"),
    VP_OPT_CID("Only container CID (an error if never seen)"),
    {"total", 't', NULL, 0, "One set of histograms summed over all containers", 0},
    {0},
};

static error_t hist_parse(int key, char *arg, struct argp_state *state)
{
	struct hist_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case 't':
		o->total = true;
		break;
	case ARGP_KEY_END:
		if (o->total && o->sel.cid)
			argp_error(state, "--total and --cid exclude each other");
		break;
	default:
		return vp_select_parse(key, arg, state, &o->sel);
	}
	return 0;
}

static const struct argp hist_argp = {
    .options = hist_options,
    .parser = hist_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = hist_doc,
    .children = vp_common_children,
};

int cmd_hist(int argc, char **argv)
{
	struct hist_opts o = {.sel.sort = VP_SORT_CID};
	struct vp_snapshot s;
	struct vp_loader l;
	struct vp_row total;
	bool seen = false;
	FILE *out;
	int rc, err;

	argp_parse(&hist_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	o.common.bpf.announce = true;
	if (!vp_output_open(&o.common))
		return VP_EXIT_FAIL;
	out = o.common.out;
	/* every container's latency histograms in each snapshot */
	o.common.bpf.row_lat = true;
	if (vp_open(&l, &o.common.bpf, NULL, NULL)) {
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	rc = vp_collect(&l, &o.common, 0, NULL, NULL);
	err = vp_snapshot_and_retire(&l, &s);
	vp_close(&l);
	if (err) {
		fprintf(stderr, "vfiopin hist: cannot read the container map: %s\n",
			strerror(-err));
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	if (vp_select_apply(&o.sel, &s, &seen) || (o.sel.cid && !seen)) {
		if (o.sel.cid && !seen)
			fprintf(stderr, "vfiopin hist: no container with id %u was seen\n",
				o.sel.cid);
		else
			fprintf(stderr, "vfiopin hist: out of memory\n");
		vp_snapshot_free(&s);
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	if (!vp_output_begin(&o.common)) {
		vp_snapshot_free(&s);
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	vp_total(&s, &total);
	total.c.cid = 0;
	if (o.sel.json) {
		json_t *j = json_pack("{s:s,s:i}", "schema", "vfiopin.hist", "version", 1);
		json_t *a = json_array();

		for (size_t i = 0; !o.total && i < s.n; i++)
			json_array_append_new(a, vp_json_row(&s.rows[i], true));
		json_object_set_new(j, "containers", a);
		if (!o.sel.cid)
			json_object_set_new(j, "total", vp_json_row(&total, true));
		if (vp_json_print(out, j))
			rc = VP_EXIT_FAIL;
		json_decref(j);
	} else if (o.total || !s.n) {
		vp_print_hists(out, &total);
	} else {
		for (size_t i = 0; i < s.n; i++) {
			vp_print_hists(out, &s.rows[i]);
			fprintf(out, "\n");
		}
	}
	vp_snapshot_free(&s);
	if (!vp_output_close(&o.common))
		return VP_EXIT_FAIL;
	return rc < 0 ? VP_EXIT_FAIL : rc;
}
