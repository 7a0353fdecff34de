// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin: observability for VFIO type1 page pinning.
 *
 *   vfiopin top | stat | advise | hist | trace | export | capture | bench | compare
 *           [OPTION...]
 *
 * Called as vfiopin-top, it is `vfiopin top`.  Each subcommand lives in
 * cmd/cmd_<name>.c; they share core/ (the loader, the field table) and
 * the BPF programs (bpf/).
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"

/* the Makefile says it, from debian/changelog */
#ifndef VP_VERSION
#error "VP_VERSION is not defined"
#endif
const char *argp_program_version = "vfiopin " VP_VERSION;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} cmds[] = {
    {"top", cmd_top, "live per-container monitor (also: vfiopin-top)"},
    {"stat", cmd_stat, "per-container and per-VM figures, one snapshot, text or JSON"},
    {"advise", cmd_advise, "per VM, the RLIMIT_MEMLOCK it needs and what a hotplug adds"},
    {"hist", cmd_hist, "latency and refcount histograms"},
    {"trace", cmd_trace, "the event stream, text or JSON lines"},
    {"export", cmd_export, "Prometheus exporter (HTTP /metrics)"},
    {"capture", cmd_capture, "perf capture around a command: timeline per container, plot"},
    {"bench", cmd_bench, "run a pinning benchmark with the VFIO client, write JSON"},
    {"compare", cmd_compare, "compare two bench files: change, CI, p-value, verdict"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vfiopin COMMAND [OPTION...]\n"
		   "Observability for VFIO type1 page pinning: who holds which guest pages,\n"
		   "how close each VM is to RLIMIT_MEMLOCK, how long pins take.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\n'vfiopin COMMAND --help' for each; 'man vfiopin' for the whole,\n"
		   "including what attaching costs (OVERHEAD).\n");
}

/* argv[1] names the command */
static int run(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			char name[64];

			/* argp names the program in its messages */
			snprintf(name, sizeof(name), "vfiopin %s", cmds[i].name);
			argv[1] = name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "vfiopin: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return VP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	argp_err_exit_status = VP_EXIT_USAGE;
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "vfiopin-top"))
		return cmd_top(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return VP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		/* `vfiopin help COMMAND` is `vfiopin COMMAND --help` */
		if (argc == 3 && !strcmp(argv[1], "help")) {
			char *help[] = {argv[0], argv[2], "--help", NULL};

			return run(3, help);
		}
		if (argc > 2) {
			fprintf(stderr, "vfiopin: %s takes no arguments but a command name\n",
				argv[1]);
			return VP_EXIT_USAGE;
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		if (argc > 2) {
			fprintf(stderr, "vfiopin: %s takes no arguments, not '%s'\n", argv[1],
				argv[2]);
			return VP_EXIT_USAGE;
		}
		printf("%s\n", argp_program_version);
		return 0;
	}
	return run(argc, argv);
}
