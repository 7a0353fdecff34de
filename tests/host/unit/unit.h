/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiopin's unit tests (cmocka), one file per part of tools/: core.c,
 * vm.c, render.c, offline.c; helpers.c has what more than one uses, main.c
 * the list.  Expected values are worked out by hand.
 */
#ifndef VFIOPIN_UNIT_H
#define VFIOPIN_UNIT_H

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "benchfile.h"
#include "cli.h"
#include "fields.h"
#include "timeline.h"
#include "hist.h"
#include "output.h"
#include "export.h"
#include "prom.h"
#include "stats.h"
#include "snapshot.h"
#include "vm.h"
#include "vmname.h"

/* helpers.c */
/* What the BPF side does with one value. */
void hist_put(struct vp_hist *h, __u64 v);
struct vp_container mk(__u32 cid, __u64 locked, __u64 limit);
json_t *roundtrip(json_t *j);
/* A container of VM @tgid for the per-VM view. */
struct vp_container vmc(__u32 cid, __u32 tgid, bool iommu, __s64 charged, __u64 peak);

/* the tests (main.c lists them) */
void test_slot_bounds(void **state);
void test_hist_quantiles(void **state);
void test_hist_range_race(void **state);
void test_lin_quantiles(void **state);
void test_hist_print(void **state);
void test_row_derive(void **state);
void test_sort_and_total(void **state);
void test_json_snapshot(void **state);
void test_events(void **state);
void test_format_row(void **state);
void test_hostile_strings(void **state);
void test_arg_helpers(void **state);
void test_sort_keeps_vms(void **state);
void test_select_apply(void **state);
void test_vms(void **state);
void test_vm_advice_sources(void **state);
void test_vm_plugged(void **state);
void test_vm_refused_start(void **state);
void test_vm_many_containers(void **state);
void test_vm_name_parse(void **state);
void test_vm_names(void **state);
void test_prom(void **state);
void test_accepts_gzip(void **state);
void test_listen_parse(void **state);
void test_stats(void **state);
void test_stats_vs_pairs(void **state);
void test_timeline(void **state);
void test_field_table(void **state);
void test_benchfile_roundtrip(void **state);
void test_holm(void **state);

#endif /* VFIOPIN_UNIT_H */
