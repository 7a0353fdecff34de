/* SPDX-License-Identifier: GPL-2.0 */
/* Text and JSON renderings of snapshots, histograms and events. */
#ifndef VFIOPIN_OUTPUT_H
#define VFIOPIN_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "snapshot.h"

/* The stat JSON schema (docs: tools/README.md). */
#define VP_STAT_SCHEMA	"vfiopin.stat"
#define VP_STAT_VERSION 1

/* One snapshot as a JSON object; @hists adds the full histograms. */
json_t *vp_json_snapshot(const struct vp_snapshot *s, bool hists);
json_t *vp_json_row(const struct vp_row *r, bool hists);
json_t *vp_json_event(const struct vp_event *e);

struct vp_vm;
/* One VM of @s (vm.h) as a JSON object, and every VM of @s as an array. */
json_t *vp_json_vm(const struct vp_snapshot *s, const struct vp_vm *vm);
json_t *vp_json_vms(const struct vp_snapshot *s);
/* The VM rows of top and stat: headings and one VM (width-limited). */
int vp_format_vm_heading(char *buf, size_t len);
int vp_format_vm_row(char *buf, size_t len, const struct vp_vm *vm);

/* Print @j on one line and a newline; returns -1 on a write error. */
int vp_json_print(FILE *f, json_t *j);

/* The table vfiopin stat and top -b print: the header, the containers, the VMs. */
void vp_print_table(FILE *f, const struct vp_snapshot *s);
/* Column headings and one row, as top shows them (width-limited). */
int vp_format_row(char *buf, size_t len, const struct vp_row *r);
int vp_format_heading(char *buf, size_t len);

/* Every histogram of one row, as text. */
void vp_print_hists(FILE *f, const struct vp_row *r);

/* One event as a text line (no newline); @t0 is the time origin. */
int vp_format_event(char *buf, size_t len, const struct vp_event *e, uint64_t t0);

/*
 * @s made safe to show on a terminal or in a Markdown table: control
 * bytes, invalid UTF-8 and the C1 controls as \xNN, a backslash doubled,
 * and with @md a '|' as \|.  A fresh string (free it); NULL when out of
 * memory.
 */
char *vp_printable(const char *s, bool md);
/*
 * The same into @buf (@len bytes, VP_ESC_LEN(n) for all of an n-byte
 * string), cut before the first unit that does not fit; returns @buf.
 * Every outside string (a comm, a VM's name) reaches text output so.
 */
#define VP_ESC_LEN(n) (4 * (n) + 1)
const char *vp_escape(char *buf, size_t len, const char *s, bool md);

/* "12.5M" style sizes; "unlim" for unlimited. */
const char *vp_fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* @u in decimal into @buf (21 bytes or more), as "%llu" writes it, without a format string. */
const char *vp_fmt_u64(char *buf, uint64_t u);
/* @v in decimal into @buf (22 bytes or more), as "%lld" writes it. */
const char *vp_fmt_i64(char *buf, int64_t v);

#endif
