/* SPDX-License-Identifier: GPL-2.0 */
/* What the subcommands share: argument helpers and the collection loop. */
#ifndef VFIOPIN_CLI_H
#define VFIOPIN_CLI_H

#include <argp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include "loader.h"

/* Exit statuses: 0 fine, 1 a runtime failure, 2 bad usage. */
#define VP_EXIT_FAIL  1
#define VP_EXIT_USAGE 2

/* Options every subcommand takes (the "common" argp child). */
struct vp_common {
	struct vp_opts bpf;
	double duration;    /* seconds; 0: until interrupted or COMMAND ends */
	char **cmd;	    /* argv of COMMAND after "--", or NULL */
	const char *output; /* -o FILE; NULL: standard output */
	FILE *out;	    /* where the output goes (vp_output_open) */
	bool created;	    /* -o FILE did not exist before */
	bool begun;	    /* FILE truncated for this run's output */
};

extern const struct argp vp_common_argp;
/*
 * The common options as an argp child, for subcommands that collect: the
 * subcommand's parser hands it its struct vp_common on ARGP_KEY_INIT with
 * VP_COMMON_INPUT(state, &opts->common).
 */
extern const struct argp_child vp_common_children[];
#define VP_COMMON_INPUT(state, common) ((state)->child_inputs[0] = (common))

/* Parse a whole number / a positive number of seconds; false if malformed. */
bool vp_parse_u32(const char *s, uint32_t *out);
bool vp_parse_seconds(const char *s, double *out);
/* Parse --cid or --pid ARG into @out, or end with argp's usage error. */
void vp_arg_id(struct argp_state *state, const char *opt, const char *arg, uint32_t *out);

/*
 * What to show and how, one option set for every command that takes it:
 * --json, --cid CID, --pid TGID (0: every container or process), --sort
 * KEY (enum vp_sort; cid by default).  A command declares those it takes
 * with VP_OPT_JSON/CID/PID/SORT (each with its own help) and hands other
 * keys of its parser to vp_select_parse.
 */
struct vp_select {
	bool json;
	uint32_t cid;
	uint32_t tgid;
	int sort;
};
/* clang-format off */
#define VP_OPT_JSON(doc) {"json", 'j', NULL, 0, doc, 0}
#define VP_OPT_CID(doc)  {"cid", 'c', "CID", 0, doc, 0}
#define VP_OPT_PID(doc)  {"pid", 'p', "TGID", 0, doc, 0}
#define VP_OPT_SORT      {"sort", 's', "KEY", 0, VP_SORT_DOC, 0}
/* clang-format on */
/* -j, -c, -p and -s into @sel; ARGP_ERR_UNKNOWN for any other key. */
error_t vp_select_parse(int key, const char *arg, struct argp_state *state, struct vp_select *sel);
/*
 * What --cid, --pid and --sort mean, for every command that shows a
 * snapshot: @s keeps only the containers they select, in their order, with
 * the VM view and totals of those alone; *@seen turns true when --cid
 * names a container that is there.  -ENOMEM when out of memory.
 */
int vp_select_apply(const struct vp_select *sel, struct vp_snapshot *s, bool *seen);

/*
 * Run until the duration passes, SIGINT/SIGTERM arrives or COMMAND exits,
 * delivering events; @tick runs every @tick_ns (0: never) and on SIGUSR1 (with
 * @usr1 true).  Returns COMMAND's exit status (0 without one), or
 * a negative errno.
 */
int vp_collect(struct vp_loader *l, const struct vp_common *c, uint64_t tick_ns,
	       int (*tick)(void *ctx, bool usr1), void *ctx);

/*
 * The life of a subcommand that prints snapshots (stat, advise): open the
 * output, load and attach (@row_lat: every row's histograms), collect with
 * @snap on SIGUSR1 and once more at the end, close.  @snap sets *@failed
 * on an error, which ends the collection.  Returns the exit status: COMMAND's, or VP_EXIT_FAIL.
 */
int vp_run_snapshots(struct vp_common *c, bool row_lat,
		     int (*snap)(void *ctx, struct vp_loader *l, bool usr1), void *ctx,
		     const int *failed);

/*
 * Run @argv (found in PATH) in a child whose signals are reset; with
 * @fds, each fds[i] >= 0 becomes the child's descriptor i (0 to 3; a
 * descriptor the caller wants gone must be close-on-exec).  The child's
 * pid, or -1 with errno.  A program that cannot be run exits 127 with a
 * message.
 */
#define VP_SPAWN_FDS 4
pid_t vp_spawn(char *const argv[], const int fds[VP_SPAWN_FDS]);
/* Whether @prog is an executable in $PATH. */
bool vp_in_path(const char *prog);
/* vp_spawn and wait: the exit status (128 + N for signal N; 127: not run), -1 if no child. */
int vp_run(char *const argv[], const int fds[VP_SPAWN_FDS]);

/*
 * SIGINT/SIGTERM/SIGHUP set vp_stop; SIGUSR1 asks vp_collect for a
 * snapshot.  main installs them before any subcommand can wait.
 */
void vp_signals_install(void);

/*
 * Open -o FILE (or take standard output) into c->out; false on failure.
 * An existing FILE is not truncated yet: a run that fails its checks
 * leaves it as it was.
 */
bool vp_output_open(struct vp_common *c);
/*
 * @path opened for writing the way -o is (never through a symlink, never
 * blocking on a FIFO, not truncated: vp_output_begin does that), *@created
 * set when this made it; NULL with a message on stderr.
 */
FILE *vp_file_open(const char *path, bool *created);
/* Empty a regular file opened so, before its first output; false with a message. */
bool vp_file_truncate(FILE *f, const char *path);
/* The checks passed and output follows: truncate FILE.  False on failure. */
bool vp_output_begin(struct vp_common *c);
/*
 * Flush and close c->out; false if anything failed to be written.  Before
 * vp_output_begin it writes nothing: FILE is left as it was, or removed
 * if vp_output_open created it.
 */
bool vp_output_close(struct vp_common *c);

/* Set by SIGINT/SIGTERM. */
extern volatile int vp_stop;

#endif
