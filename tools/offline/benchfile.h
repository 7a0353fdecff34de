/* SPDX-License-Identifier: GPL-2.0 */
/* `vfiopin bench` files: loading, checking, and the values compare tests. */
#ifndef VFIOPIN_BENCHFILE_H
#define VFIOPIN_BENCHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define VP_BENCH_SCHEMA	 "vfiopin.bench"
#define VP_BENCH_VERSION 1

/* A loaded bench file: the whole document and its checked parts. */
struct vp_bench {
	const char *path;
	json_t *root;
	json_t *workload;
	json_t *metrics;
};

/*
 * Load and check @path (or @len bytes at @buf, called @name in messages).
 * False, with a message on stderr naming the file and what is wrong, if it
 * is not a bench file this vfiopin reads: not JSON, not the schema or
 * version, a metric without samples or direction, a sample that is not a
 * finite number, per_run counts that do not add up to the samples.
 * vp_bench_free() either way.
 */
bool vp_bench_load(struct vp_bench *b, const char *path);
bool vp_bench_load_buf(struct vp_bench *b, const char *name, const char *buf, size_t len);
void vp_bench_free(struct vp_bench *b);

/*
 * The values metric @name is tested on, pooled over the @n files of one
 * side: one per repetition (the median of its samples) where the file
 * says which samples each repetition gave, else one per sample.  Calls of
 * one run share that run's conditions, so they are not independent draws;
 * the repetition is.  @count gets the values, @raw the samples.  A fresh
 * array; NULL when out of memory.
 */
double *vp_bench_values(const struct vp_bench *b, int n, const char *name, size_t *count,
			size_t *raw);

/*
 * Writing one: a document of the schema and version with @workload, @run
 * and @environment (their references are taken), then each metric's
 * samples and how many each of @runs repetitions gave.  NULL / -1 when out
 * of memory.
 */
json_t *vp_bench_new(json_t *workload, json_t *run, json_t *environment);
/* json_equal, but numbers compared by value (64 is 64.0), at any depth. */
bool vp_json_same(json_t *a, json_t *b);
int vp_bench_add_metric(json_t *doc, const char *name, const char *unit, bool lower_better,
			const char *what, const double *samples, size_t n, const uint32_t *per_run,
			size_t runs);

#endif
