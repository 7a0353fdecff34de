// SPDX-License-Identifier: GPL-2.0
/* vfiopin trace: the vfio_type1 event stream, as text or JSON lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"
#include "output.h"

struct trace_opts {
	struct vp_common common;
	struct vp_select sel; /* --cid and --pid filter in the BPF programs */
	bool no_pages;
	uint64_t t0;
	uint64_t shown;
	int failed;
};

static const char trace_doc[] =
    "The vfio_type1 events as they happen: container and group life, "
    "locked memory accounting, pin and unpin calls and pages, DMA map, "
    "unmap and replay, invalidations.  _end events carry the time since "
    "their _begin.  Filtering happens in the kernel.  Events the ring "
    "buffer had no room for are counted and reported at the end."
    "\v"
    "Examples:\n"
    "  vfiopin trace                      everything, until Ctrl-C\n"
    "  vfiopin trace -c 3 --no-pages      container 3, calls only\n"
    "  vfiopin trace --json -p 4242 -d 5  process 4242, JSON lines\n";

static const struct argp_option trace_options[] = {
    VP_OPT_JSON("One JSON object per event"),
    VP_OPT_CID("Only events of container CID"),
    VP_OPT_PID("Only events of containers owned by TGID"),
    {"no-pages", 'P', NULL, 0, "Leave out the per-page pin_page/unpin_page events", 0},
    {0},
};

static error_t trace_parse(int key, char *arg, struct argp_state *state)
{
	struct trace_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case 'P':
		o->no_pages = true;
		break;
	case ARGP_KEY_END:
		o->common.bpf.filter_cid = o->sel.cid;
		o->common.bpf.filter_tgid = o->sel.tgid;
		break;
	default:
		return vp_select_parse(key, arg, state, &o->sel);
	}
	return 0;
}

static const struct argp trace_argp = {
    .options = trace_options,
    .parser = trace_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = trace_doc,
    .children = vp_common_children,
};

static int on_event(void *ctx, const void *data, size_t len)
{
	struct trace_opts *o = ctx;
	const struct vp_event *e = data;
	char line[512];

	if (len < sizeof(*e))
		return 0;
	if (o->no_pages && (e->type == VP_EV_PIN_PAGE || e->type == VP_EV_UNPIN_PAGE))
		return 0;
	if (!o->t0)
		o->t0 = e->ts_ns;
	if (o->sel.json) {
		json_t *j = vp_json_event(e);

		if (vp_json_print(o->common.out, j))
			o->failed = 1;
		json_decref(j);
	} else {
		vp_format_event(line, sizeof(line), e, o->t0);
		if (fprintf(o->common.out, "%s\n", line) < 0)
			o->failed = 1;
	}
	o->shown++;
	/* a closed pipe ends the trace */
	return o->failed ? -EPIPE : 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = {0};
	struct vp_loader l;
	struct vp_snapshot s;
	uint64_t drops = 0;
	int rc;

	argp_parse(&trace_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	o.common.bpf.events = true;
	o.common.bpf.announce = true;
	if (!vp_output_open(&o.common))
		return VP_EXIT_FAIL;
	/* every container's latency histograms in each snapshot */
	o.common.bpf.row_lat = true;
	if (vp_open(&l, &o.common.bpf, on_event, &o)) {
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	if (!vp_output_begin(&o.common)) {
		vp_close(&l);
		vp_output_close(&o.common);
		return VP_EXIT_FAIL;
	}
	if (!o.sel.json) {
		fprintf(o.common.out, "%10s %-16s %7s %-9s %-12s %-17s %s\n", "TIME(s)", "TASK",
			"TASK-PID", "CID", "OWNER", "EVENT", "FIELDS");
		fflush(o.common.out);
	}
	rc = vp_collect(&l, &o.common, 0, NULL, NULL);
	vp_poll(&l, 0);
	if (!vp_snapshot_and_retire(&l, &s)) {
		drops = s.g.drop_ringbuf;
		vp_snapshot_free(&s);
	}
	vp_close(&l);
	fprintf(stderr, "vfiopin trace: %llu events shown", (unsigned long long)o.shown);
	if (drops)
		fprintf(stderr, ", %llu LOST: the ring buffer was full (raise --ringbuf-kb)",
			(unsigned long long)drops);
	fprintf(stderr, "\n");
	if (!vp_output_close(&o.common) || (o.failed && rc >= 0))
		return VP_EXIT_FAIL;
	return rc < 0 ? VP_EXIT_FAIL : rc;
}
