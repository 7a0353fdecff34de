// SPDX-License-Identifier: GPL-2.0
/* vfiopin advise: per VM, the RLIMIT_MEMLOCK it needs (vm.h's figures). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"
#include "output.h"
#include "vm.h"

struct advise_opts {
	struct vp_common common;
	struct vp_select sel;
	bool seen;
	int failed;
};

static const char advise_doc[] =
    "The locked-memory limit each VM needs, from what type1 charged it.\n"
    "\n"
    "Attaches like stat, collects until Ctrl-C, the --duration, or the end "
    "of COMMAND, and prints per VM (the process owning containers: a "
    "QEMU): its locked memory, RLIMIT_MEMLOCK and headroom, how many "
    "containers charge its guest memory, the limit it needs for what it did "
    "and where that figure comes from (the most its process had locked at a "
    "charge or in a VmLck sample, what it held at a refused charge plus the "
    "whole refused size; after a refusal never less than each passthrough "
    "container charging what the largest one did, plus the mdev pins), and "
    "what one more passthrough device in a container of its own (a vIOMMU) "
    "would add.  A VM that failed to start on the limit is advised too.  "
    "SIGUSR1 prints the advice without stopping.  --json prints one object "
    "per snapshot, schema \"vfiopin.advise\" version 1 (tools/README.md)."
    "\v"
    "Examples:\n"
    "  vfiopin advise -- qemu-system-x86_64 -name vm1 ...   advice for one start\n"
    "  vfiopin advise -d 600 -p $(pidof qemu-system-x86_64) 10 minutes of one VM\n";

static const struct argp_option advise_options[] = {
    VP_OPT_JSON("One JSON object per snapshot"),
    VP_OPT_PID("Only the VM of process TGID (an error if never seen)"),
    {0},
};

static error_t advise_parse(int key, char *arg, struct argp_state *state)
{
	struct advise_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	default:
		return vp_select_parse(key, arg, state, &o->sel);
	}
	return 0;
}

static const struct argp advise_argp = {
    .options = advise_options,
    .parser = advise_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = advise_doc,
    .children = vp_common_children,
};

static const char *kib(char *buf, size_t len, int64_t bytes)
{
	/* limits are set in KiB (libvirt, ulimit -l): round up */
	snprintf(buf, len, "%" PRId64 " KiB", bytes > 0 ? (bytes + 1023) / 1024 : bytes / 1024);
	return buf;
}

static void print_vm(FILE *f, const struct vp_vm *vm)
{
	char *name = vp_printable(vm->name[0] ? vm->name : "", false);
	char *comm = vp_printable(vm->comm[0] ? vm->comm : "?", false);
	char a[32], b[32], c[32];

	fprintf(f, "VM %s%s(%s, pid %u)%s\n", name && *name ? name : "", name && *name ? " " : "",
		comm ? comm : "?", vm->tgid,
		vm->seen_open ? "" : "  [seen mid-life: a lower bound]");
	free(name);
	free(comm);
	fprintf(f, "  containers        %" PRId64 " now, %" PRId64 " with passthrough groups\n",
		vm->containers, vm->pt_containers);
	fprintf(f, "  locked now        %s (peak %s)\n", kib(a, sizeof(a), vm->locked),
		kib(b, sizeof(b), vm->locked_peak));
	if (vm->sampled)
		fprintf(f, "  VmLck sampled     %s last, peak %s; VmPeak %s%s\n",
			kib(a, sizeof(a), vm->process_locked),
			kib(b, sizeof(b), vm->process_locked_peak),
			kib(c, sizeof(c), vm->process_vm_peak),
			vm->mlocks && !vm->lock_watched
			    ? ": the process has all its memory locked (mlockall); "
			      "what it locks in passing, and a start refused on that "
			      "after its last VFIO charge, are not seen"
			    : "");
	if (vm->lock_seen)
		fprintf(f,
			"  locks itself      %s at its peak, %s asked for at most (mlock, as the "
			"kernel checked it)%s\n",
			kib(a, sizeof(a), vm->process_locked_peak), kib(b, sizeof(b), vm->own_need),
			vm->lock_watched ? "" : "; watched only since after it started");
	if (!vm->limit_known)
		fprintf(f, "  RLIMIT_MEMLOCK    not known yet (nothing charged)\n");
	else if (vm->unlimited)
		fprintf(f, "  RLIMIT_MEMLOCK    unlimited (or CAP_IPC_LOCK)\n");
	else
		fprintf(f, "  RLIMIT_MEMLOCK    %s, headroom %s, limit hits %" PRId64 "\n",
			kib(a, sizeof(a), vm->limit), kib(b, sizeof(b), vm->headroom),
			vm->limit_hits);
	fprintf(f, "  needs             %s: %s\n", kib(a, sizeof(a), vm->needed),
		vp_need_from_names[vm->need_from]);
	fprintf(f, "  charges           %zu passthrough container%s x %s + mdev %s = %s\n",
		vm->pt_all, vm->pt_all == 1 ? "" : "s", kib(a, sizeof(a), vm->pt_charge),
		kib(b, sizeof(b), vm->mdev_charge), kib(c, sizeof(c), vm->needed_charges));
	fprintf(f,
		"  next passthrough  +%s in a container of its own (vIOMMU), +0 KiB joining one: "
		"%s\n",
		kib(a, sizeof(a), vm->next_pt), vp_next_from_names[vm->next_from]);
	fprintf(f, "  next mdev         +%s, as the largest of its mdev containers charged\n",
		kib(a, sizeof(a), vm->next_mdev));
	if (vm->limit_known && !vm->unlimited && vm->limit < vm->needed)
		fprintf(f, "  verdict           limit too low by %s: raise it to %s\n",
			kib(a, sizeof(a), vm->needed - vm->limit), kib(b, sizeof(b), vm->needed));
	else if (vm->limit_known && !vm->unlimited)
		fprintf(f, "  verdict           enough for what it did\n");
	fprintf(f,
		"  set it            libvirt <memtune><hard_limit unit='KiB'>%" PRId64
		"</hard_limit></memtune>; prlimit --memlock=%" PRId64 "\n",
		(vm->needed + 1023) / 1024, vm->needed);
}

static int advise_snapshot(void *ctx, struct vp_loader *l, bool usr1)
{
	struct advise_opts *o = ctx;
	struct vp_snapshot s;
	const struct vp_vms *v;
	int err;

	(void)usr1;
	err = vp_snapshot_and_retire(l, &s);
	if (err) {
		fprintf(stderr, "vfiopin advise: cannot read the container map: %s\n",
			strerror(-err));
		o->failed = 1;
		return 1;
	}
	v = &s.vms;
	if (o->sel.json) {
		json_t *j = json_object(), *a = json_array();

		json_object_set_new(j, "schema", json_string("vfiopin.advise"));
		json_object_set_new(j, "version", json_integer(1));
		json_object_set_new(j, "mode", s.mode ? json_string(s.mode) : json_null());
		for (size_t i = 0; i < v->n; i++)
			if (!o->sel.tgid || v->vm[i].tgid == o->sel.tgid)
				json_array_append_new(a, vp_json_vm(&s, &v->vm[i]));
		json_object_set_new(j, "vms", a);
		if (vp_json_print(o->common.out, j))
			o->failed = 1;
		json_decref(j);
	} else {
		size_t shown = 0;

		for (size_t i = 0; i < v->n; i++) {
			if (o->sel.tgid && v->vm[i].tgid != o->sel.tgid)
				continue;
			print_vm(o->common.out, &v->vm[i]);
			shown++;
		}
		if (!shown)
			fprintf(o->common.out,
				"no VM charged locked memory while vfiopin watched\n");
		fflush(o->common.out);
	}
	for (size_t i = 0; i < v->n; i++)
		if (v->vm[i].tgid == o->sel.tgid)
			o->seen = true;
	vp_snapshot_free(&s);
	return o->failed;
}

int cmd_advise(int argc, char **argv)
{
	struct advise_opts o = {0};
	int rc;

	argp_parse(&advise_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	rc = vp_run_snapshots(&o.common, false, advise_snapshot, &o, &o.failed);
	if (rc != VP_EXIT_FAIL && o.sel.tgid && !o.seen) {
		fprintf(stderr, "vfiopin advise: no container of process %u was seen\n",
			o.sel.tgid);
		return VP_EXIT_FAIL;
	}
	return rc;
}
