// SPDX-License-Identifier: GPL-2.0
/*
 * Reading `vfiopin bench` files (schema vfiopin.bench, tools/README.md):
 * every part compare uses is checked here, sizes before any arithmetic,
 * so that what follows can trust them.  Fuzzed by
 * tests/fuzz/fuzz_benchfile.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "benchfile.h"
#include "output.h"
#include "stats.h"

/*
 * "per_run", when there, counts the samples each repetition gave, in
 * order; they must add up to the samples.
 */
/* "vfiopin compare: PATH: metrics.NAME" and the rest: the name, from the file, escaped. */
static bool metric_error(const char *path, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool metric_error(const char *path, const char *name, const char *fmt, ...)
{
	char *safe = vp_printable(name, false);
	va_list ap;

	fprintf(stderr, "vfiopin compare: %s: metrics.%s", path, safe ? safe : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	free(safe);
	return false;
}

static bool check_per_run(const char *path, const char *name, json_t *metric)
{
	json_t *pr = json_object_get(metric, "per_run"), *x;
	size_t i, left = json_array_size(json_object_get(metric, "samples"));

	if (!pr)
		return true;
	if (!json_is_array(pr))
		goto bad;
	/* each count taken from what is left, so no sum can wrap */
	json_array_foreach(pr, i, x)
	{
		if (!json_is_integer(x) || json_integer_value(x) < 0 ||
		    (uint64_t)json_integer_value(x) > left)
			goto bad;
		left -= (size_t)json_integer_value(x);
	}
	if (!left)
		return true;
bad:
	return metric_error(path, name, ".per_run must be counts adding up to the samples");
}

/* Check the document in b->root (NULL: it did not parse, as @err says). */
bool vp_json_same(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;

	/* one rule for numbers: 64 and 64.0 are the same, as for the version */
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (!a || !b || json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach(a, k,
				    v) if (!vp_json_same(v, json_object_get(b, k))) return false;
		return true;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!vp_json_same(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	return json_equal(a, b);
}

static bool check(struct vp_bench *b, const json_error_t *err)
{
	const char *path = b->path, *name;
	json_t *v;

	if (!b->root) {
		/* jansson quotes the bytes it choked on: escaped, as any file contents */
		char text[VP_ESC_LEN(sizeof(err->text))];

		vp_escape(text, sizeof(text), err->text, false);
		if (!err->text[0]) /* jansson says nothing when an allocation fails */
			fprintf(stderr, "vfiopin compare: %s: cannot load it: out of memory\n",
				path);
		else if (err->line < 0)
			fprintf(stderr, "vfiopin compare: %s: %s\n", path, text);
		else
			fprintf(stderr, "vfiopin compare: %s:%d:%d (byte %d): %s\n", path,
				err->line, err->column, err->position, text);
		return false;
	}
	v = json_object_get(b->root, "schema");
	if (!json_is_string(v) || strcmp(json_string_value(v), VP_BENCH_SCHEMA)) {
		fprintf(
		    stderr,
		    "vfiopin compare: %s: not a vfiopin bench file (\"schema\" is not \"%s\")\n",
		    path, VP_BENCH_SCHEMA);
		return false;
	}
	/* 1 and 1.0 are the same number in JSON */
	v = json_object_get(b->root, "version");
	if (!json_is_number(v) || json_number_value(v) != VP_BENCH_VERSION) {
		if (!v)
			fprintf(stderr,
				"vfiopin compare: %s: no \"version\"; this vfiopin reads bench "
				"files of version 1\n",
				path);
		else if (!json_is_number(v))
			fprintf(stderr, "vfiopin compare: %s: \"version\" is not a number\n", path);
		else
			fprintf(stderr,
				"vfiopin compare: %s: bench file version %g; this vfiopin reads "
				"version 1\n",
				path, json_number_value(v));
		return false;
	}
	b->workload = json_object_get(b->root, "workload");
	b->metrics = json_object_get(b->root, "metrics");
	if (!json_is_object(b->workload) || !json_is_object(b->metrics)) {
		fprintf(stderr,
			"vfiopin compare: %s: \"workload\" and \"metrics\" must be objects\n",
			path);
		return false;
	}
	json_object_foreach(b->metrics, name, v)
	{
		json_t *s = json_object_get(v, "samples"), *x;
		json_t *better = json_object_get(v, "better");
		size_t i;

		if (!json_is_array(s) || !json_is_string(better) ||
		    (strcmp(json_string_value(better), "lower") &&
		     strcmp(json_string_value(better), "higher")))
			return metric_error(path, name,
					    " needs \"samples\" (an array) and \"better\" "
					    "(\"lower\" or \"higher\")");
		/*
		 * every metric is a duration or a rate, and a change is told
		 * relative to the base median: zero or less is no measurement
		 */
		json_array_foreach(s, i, x)
		{
			if (!json_is_number(x) || !isfinite(json_number_value(x)))
				return metric_error(path, name,
						    ".samples[%zu] is not a finite number", i);
			if (json_number_value(x) <= 0)
				return metric_error(path, name,
						    ".samples[%zu] is %g: samples are durations or "
						    "rates, above 0",
						    i, json_number_value(x));
		}
		if (!check_per_run(path, name, v))
			return false;
	}
	return true;
}

/* check() has made sure each per_run adds up to its samples */
double *vp_bench_values(const struct vp_bench *b, int n, const char *name, size_t *count,
			size_t *raw)
{
	size_t total = 0, i;
	double *v, *tmp;
	json_t *x;

	for (int f = 0; f < n; f++)
		if (__builtin_add_overflow(total,
					   json_array_size(json_object_get(
					       json_object_get(b[f].metrics, name), "samples")),
					   &total))
			return NULL;
	*raw = total;
	if (total > SIZE_MAX / sizeof(double) - 1)
		return NULL;
	v = malloc((total ? total : 1) * sizeof(double));
	tmp = malloc((total ? total : 1) * sizeof(double));
	if (!v || !tmp) {
		free(v);
		free(tmp);
		return NULL;
	}
	*count = 0;
	for (int f = 0; f < n; f++) {
		json_t *metric = json_object_get(b[f].metrics, name);
		json_t *s = json_object_get(metric, "samples");
		json_t *pr = json_object_get(metric, "per_run");
		size_t at = 0;

		if (!pr) {
			json_array_foreach(s, i, x) v[(*count)++] = json_number_value(x);
			continue;
		}
		json_array_foreach(pr, i, x)
		{
			size_t k = (size_t)json_integer_value(x);

			if (!k)
				continue;
			for (size_t j = 0; j < k; j++)
				tmp[j] = json_number_value(json_array_get(s, at + j));
			v[(*count)++] = vp_median(tmp, k);
			at += k;
		}
	}
	free(tmp);
	return v;
}
bool vp_bench_load(struct vp_bench *b, const char *path)
{
	json_error_t err;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	return check(b, &err);
}

bool vp_bench_load_buf(struct vp_bench *b, const char *name, const char *buf, size_t len)
{
	json_error_t err;

	memset(b, 0, sizeof(*b));
	b->path = name;
	b->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	return check(b, &err);
}

void vp_bench_free(struct vp_bench *b)
{
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

json_t *vp_bench_new(json_t *workload, json_t *run, json_t *environment)
{
	json_t *doc = json_object();

	if (!doc || !workload || !run || !environment ||
	    json_object_set_new(doc, "schema", json_string(VP_BENCH_SCHEMA)) ||
	    json_object_set_new(doc, "version", json_integer(VP_BENCH_VERSION)) ||
	    json_object_set_new(doc, "workload", workload) ||
	    json_object_set_new(doc, "run", run) ||
	    json_object_set_new(doc, "environment", environment) ||
	    json_object_set_new(doc, "metrics", json_object())) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int vp_bench_add_metric(json_t *doc, const char *name, const char *unit, bool lower_better,
			const char *what, const double *samples, size_t n, const uint32_t *per_run,
			size_t runs)
{
	json_t *s = json_array(), *pr = json_array(), *m;

	for (size_t k = 0; s && k < n; k++)
		if (json_array_append_new(s, json_real(samples[k])))
			goto fail;
	for (size_t k = 0; pr && k < runs; k++)
		if (json_array_append_new(pr, json_integer(per_run[k])))
			goto fail;
	m = json_pack("{s:s,s:s,s:s,s:o,s:o}", "unit", unit, "better",
		      lower_better ? "lower" : "higher", "what", what, "samples", s, "per_run", pr);
	if (!m)
		return -1; /* json_pack took s and pr either way */
	return json_object_set_new(json_object_get(doc, "metrics"), name, m) ? -1 : 0;
fail:
	json_decref(s);
	json_decref(pr);
	return -1;
}
