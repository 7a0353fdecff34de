/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands: each takes its own argv (argv[0] its name) and returns the exit status. */
#ifndef VFIOPIN_CMD_H
#define VFIOPIN_CMD_H

int cmd_top(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_hist(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_capture(int argc, char **argv);

#endif
