// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin compare BASE.json NEW.json: per metric of two `vfiopin bench`
 * files (schema vfiopin.bench), the median change with a Hodges-Lehmann
 * confidence interval, a Mann-Whitney U p-value and a verdict.  Either side
 * may be several files of the same workload (BASE... vs NEW...), their
 * samples pooled: runs of A and B taken in turn share whatever drifts on the
 * machine, which one long run of A and then one of B do not.
 *
 * A metric regressed when the difference is significant (p < alpha after
 * Holm's correction over all metrics of the comparison, so that the chance
 * of any false verdict among them stays at alpha) and the whole confidence
 * interval of the shift, relative to the base median, lies beyond the
 * noise threshold in the metric's bad direction; improved the same way in
 * the good direction; otherwise unchanged.
 *
 * --bisect answers `git bisect run`: bad (exit 1) when a metric regressed
 * as above, good (0) when every metric's whole interval lies short of the
 * threshold in the bad direction (no change of that size, with the
 * confidence asked), and skip (125) otherwise: the samples cannot tell,
 * or the candidate left no bench file (its build or boot failed).  What
 * would make every step meaningless (a bad argument, an unreadable BASE)
 * exits 255, which ends the bisection.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "cmd.h"
#include "benchfile.h"
#include "output.h"
#include "stats.h"

#define VP_COMPARE_SCHEMA "vfiopin.compare"
#define MIN_SAMPLES	  8
/* what `git bisect run` takes for a revision it cannot test, and for "stop" */
#define VP_EXIT_SKIP  125
#define VP_EXIT_ABORT 255

enum fmt { FMT_TEXT, FMT_JSON, FMT_MD };

/* one side of the comparison: the files named for it */
struct side {
	char **files;
	int n;
};

struct compare_opts {
	struct side side[2];
	double threshold; /* relative, e.g. 0.05 */
	double alpha;
	double conf;
	bool holm;
	enum fmt fmt;
	const char *output;
	bool bisect;	    /* exit as `git bisect run` expects */
	bool improvement;   /* ... looking for an improvement, not a regression */
	const char *metric; /* compare this metric alone (NULL: all) */
};

static const char compare_doc[] =
    "Compare two benchmark files from `vfiopin bench` metric by metric.\n"
    "\n"
    "With `vs` between them, either side may be several files of the same "
    "workload, their samples pooled: run the base and the new kernel or "
    "setting in turn (A B A B ...) so that a slow drift of the machine lands "
    "on both sides instead of looking like a change.\n"
    "\n"
    "The unit of comparison is the repetition: where a file says which "
    "samples each repetition gave (\"per_run\", as `vfiopin bench` writes), "
    "a metric with many samples per repetition (pin calls) is reduced to "
    "each repetition's median first, since calls of one run share its "
    "conditions and are not independent draws.\n"
    "\n"
    "For every metric in both: the medians, the change of NEW against BASE "
    "(the Hodges-Lehmann shift, relative to BASE's median) with its "
    "confidence interval, the two-sided Mann-Whitney U p-value, and a "
    "verdict.  The p-values are adjusted by Holm's method over all the "
    "metrics compared, so that --alpha bounds the chance of any false "
    "verdict in the whole comparison, not in each metric.  A metric regressed "
    "when its adjusted p < --alpha and the whole confidence interval of the "
    "change lies beyond --threshold in the metric's bad direction (slower, "
    "fewer pages per second); improved likewise the other way; otherwise "
    "unchanged.  Too few "
    "samples for the test to reach --alpha get a warning.  Files of different "
    "workloads are refused, and so are samples of 0 or below: every metric is "
    "a duration or a rate.  Exit status: 0 nothing regressed, 1 something "
    "regressed, 2 bad arguments or input."
    "\v"
    "Examples:\n"
    "  vfiopin compare base.json new.json\n"
    "  vfiopin compare a1.json a2.json a3.json vs b1.json b2.json b3.json\n"
    "  vfiopin compare --format markdown base.json new.json >> $GITHUB_STEP_SUMMARY\n"
    "  vfiopin compare --threshold 2 --json base.json new.json\n"
    "  git bisect run sh -c 'make bench-here && vfiopin compare --bisect --threshold 10% "
    "--metric pin_call_ns good.json here.json'\n"
    "\n"
    "--bisect: exit 1 (bad) when a metric regressed as above; 0 (good) when every "
    "metric's whole interval lies short of --threshold in its bad direction, so that "
    "no change of that size is there at the confidence asked; 125 (skip) otherwise: "
    "the samples cannot tell, or a NEW file is missing or unreadable (the candidate's "
    "build or boot failed).  255 (end the bisection) on bad arguments or an unreadable "
    "BASE.  With --improvement the same for an improvement.\n";

enum {
	OPT_FORMAT = 0x100,
	OPT_ALPHA,
	OPT_THRESHOLD,
	OPT_CONF,
	OPT_CORRECTION,
	OPT_BISECT,
	OPT_IMPROVEMENT,
	OPT_METRIC,
};

static const struct argp_option compare_options[] = {
    {"format", OPT_FORMAT, "FMT", 0, "text (default), json or markdown", 0},
    {"json", 'j', NULL, 0, "Same as --format json", 0},
    {"threshold", OPT_THRESHOLD, "PERCENT", 0,
     "Noise threshold: smaller changes are never a verdict (default 5)", 0},
    {"alpha", OPT_ALPHA, "P", 0, "Significance level (default 0.05)", 0},
    {"confidence", OPT_CONF, "LEVEL", 0, "Of the interval (default 0.95)", 0},
    {"correction", OPT_CORRECTION, "METHOD", 0,
     "For testing many metrics at once: holm (default) or none (each metric "
     "on its own at --alpha)",
     0},
    {"output", 'o', "FILE", 0, "Write to FILE instead of standard output", 0},
    {"metric", OPT_METRIC, "NAME", 0, "Compare this metric alone", 0},
    {"bisect", OPT_BISECT, NULL, 0,
     "Exit as `git bisect run` expects: 0 good, 1 bad, 125 cannot tell (below)", 0},
    {"improvement", OPT_IMPROVEMENT, NULL, 0,
     "With --bisect: bad is an improvement (bisecting what made it faster)", 0},
    {0},
};

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno && *out >= lo && *out <= hi;
}

static error_t compare_parse(int key, char *arg, struct argp_state *state)
{
	struct compare_opts *o = state->input;

	switch (key) {
	case OPT_FORMAT:
		if (!strcmp(arg, "text"))
			o->fmt = FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->fmt = FMT_JSON;
		else if (!strcmp(arg, "markdown") || !strcmp(arg, "md"))
			o->fmt = FMT_MD;
		else
			argp_error(state, "--format takes text, json or markdown, not '%s'", arg);
		break;
	case 'j':
		o->fmt = FMT_JSON;
		break;
	case OPT_THRESHOLD: {
		/* "10" or "10%" */
		char num[32];
		size_t len = strlen(arg);

		if (len && arg[len - 1] == '%')
			len--;
		if (len >= sizeof(num))
			len = 0;
		memcpy(num, arg, len);
		num[len] = 0;
		if (!parse_double(num, 0, 1000, &o->threshold))
			argp_error(state, "--threshold takes a percentage 0..1000, not '%s'", arg);
		o->threshold /= 100;
		break;
	}
	case OPT_BISECT:
		o->bisect = true;
		break;
	case OPT_IMPROVEMENT:
		o->improvement = true;
		break;
	case OPT_METRIC:
		if (!*arg)
			argp_error(state, "--metric takes a metric's name");
		o->metric = arg;
		break;
	case OPT_ALPHA:
		if (!parse_double(arg, 1e-9, 0.5, &o->alpha))
			argp_error(state, "--alpha takes a probability in (0, 0.5], not '%s'", arg);
		break;
	case OPT_CONF:
		if (!parse_double(arg, 0.5, 0.999999, &o->conf))
			argp_error(state, "--confidence takes 0.5..0.999999, not '%s'", arg);
		break;
	case OPT_CORRECTION:
		if (!strcmp(arg, "holm"))
			o->holm = true;
		else if (!strcmp(arg, "none"))
			o->holm = false;
		else
			argp_error(state, "--correction takes holm or none, not '%s'", arg);
		break;
	case 'o':
		o->output = arg;
		break;
	case ARGP_KEY_ARGS: {
		char **v = state->argv + state->next;
		int n = state->argc - state->next, vs = -1;

		for (int i = 0; i < n; i++) {
			if (strcmp(v[i], "vs"))
				continue;
			if (vs >= 0)
				argp_error(state, "`vs` may appear once");
			vs = i;
		}
		if (vs < 0 && n != 2)
			argp_error(state, "takes two files, BASE.json and NEW.json, or "
					  "BASE.json... vs NEW.json...");
		if (vs == 0 || vs == n - 1)
			argp_error(state, "`vs` needs files on both sides");
		if (vs < 0) {
			o->side[0] = (struct side){.files = v, .n = 1};
			o->side[1] = (struct side){.files = v + 1, .n = 1};
		} else {
			o->side[0] = (struct side){.files = v, .n = vs};
			o->side[1] = (struct side){.files = v + vs + 1, .n = n - vs - 1};
		}
		state->next = state->argc;
		break;
	}
	case ARGP_KEY_END:
		if (o->improvement && !o->bisect)
			argp_error(state, "--improvement goes with --bisect");
		break;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "takes two files, BASE.json and NEW.json, or BASE.json... vs "
				  "NEW.json...");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp compare_argp = {
    .options = compare_options,
    .parser = compare_parse,
    .args_doc = "BASE.json NEW.json\nBASE.json... vs NEW.json...",
    .doc = compare_doc,
};

struct result {
	const char *name;
	const char *unit;
	bool lower_better;
	size_t nb, nn;	       /* values tested: repetitions, or samples */
	size_t sb, sn;	       /* samples */
	double mb, mn;	       /* medians */
	double change, lo, hi; /* relative to mb */
	double p, p_adj;       /* raw, and adjusted for the number of metrics */
	bool exact, ci_full;
	const char *verdict;
	/* for --bisect: "bad", "good" (the interval short of the threshold), "undecided" */
	const char *bisect;
	char warning[160];
};

/* One metric of both sides into @r; -1 when out of memory. */
static int compare_metric(const struct compare_opts *o, const char *name,
			  struct vp_bench *const b[2], struct result *r)
{
	double *x, *y;
	struct vp_mwu u;
	struct vp_shift s;
	json_t *mb = json_object_get(b[0][0].metrics, name);
	json_t *unit = json_object_get(mb, "unit");
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->name = name;
	r->unit = json_is_string(unit) ? json_string_value(unit) : "";
	r->lower_better = !strcmp(json_string_value(json_object_get(mb, "better")), "lower");
	x = vp_bench_values(b[0], o->side[0].n, name, &r->nb, &r->sb);
	y = vp_bench_values(b[1], o->side[1].n, name, &r->nn, &r->sn);
	r->verdict = "unchanged";
	r->change = r->lo = r->hi = r->p = r->p_adj = NAN;
	r->mb = r->mn = NAN;
	if (!x || !y)
		goto out;
	rc = 0;
	/* each side's median where it has samples (null in JSON where not) */
	if (r->nb)
		r->mb = vp_median(x, r->nb);
	if (r->nn)
		r->mn = vp_median(y, r->nn);
	if (!r->nb || !r->nn) {
		snprintf(r->warning, sizeof(r->warning), "no samples %s",
			 r->nb	 ? "in NEW"
			 : r->nn ? "in BASE"
				 : "on either side");
		r->verdict = "no data";
		goto out;
	}
	if (vp_mann_whitney(x, r->nb, y, r->nn, &u) ||
	    vp_hodges_lehmann(x, r->nb, y, r->nn, o->conf, &s)) {
		rc = -1;
		goto out;
	}
	r->p = u.p;
	r->exact = u.exact;
	r->ci_full = s.ci_full;
	/* samples are above 0 (benchfile.c), and so is the base median */
	r->change = s.est / r->mb;
	r->lo = s.lo / r->mb;
	r->hi = s.hi / r->mb;
out:
	free(x);
	free(y);
	return rc;
}

/*
 * The verdicts of @n compared metrics, once every p-value is known: Holm's
 * adjustment over the @m of them that have one, then significance and the
 * interval against the threshold.
 */
static int decide(const struct compare_opts *o, struct result *r, size_t n)
{
	double *p = malloc((n ? n : 1) * sizeof(*p)), *adj = malloc((n ? n : 1) * sizeof(*adj));
	double level; /* what the smallest p must beat: alpha / m under Holm */
	size_t m = 0;
	int rc = -1;

	if (!p || !adj)
		goto out;
	for (size_t i = 0; i < n; i++) {
		p[i] = r[i].p;
		m += !isnan(p[i]);
	}
	if (!o->holm)
		memcpy(adj, p, n * sizeof(*p));
	else if (vp_holm(p, n, adj))
		goto out;
	level = o->holm && m ? o->alpha / (double)m : o->alpha;
	for (size_t i = 0; i < n; i++) {
		struct result *x = &r[i];

		x->p_adj = adj[i];
		x->bisect = "undecided";
		if (isnan(x->p))
			continue;
		if (vp_mwu_min_p(x->nb, x->nn) >= level)
			snprintf(x->warning, sizeof(x->warning),
				 "too few samples (%zu vs %zu): no difference can reach p < %g%s",
				 x->nb, x->nn, level,
				 o->holm && m > 1 ? " (alpha over the metrics compared)" : "");
		else if (x->nb < MIN_SAMPLES || x->nn < MIN_SAMPLES)
			snprintf(x->warning, sizeof(x->warning),
				 "few samples (%zu vs %zu; %d or more each recommended)", x->nb,
				 x->nn, MIN_SAMPLES);
		/*
		 * a verdict needs significance and the whole interval beyond
		 * the threshold: a point estimate past it with an interval
		 * reaching back into the noise is not enough.  A bound may be
		 * infinite (a shift beyond DBL_MAX times BASE's median): it
		 * still lies on its side of the threshold.
		 */
		if (x->p_adj < o->alpha && !isnan(x->lo) && !isnan(x->hi)) {
			double worse_lo = x->lower_better ? x->lo : -x->hi;
			double better_lo = x->lower_better ? -x->hi : x->lo;

			if (worse_lo > o->threshold)
				x->verdict = "regressed";
			else if (better_lo > o->threshold)
				x->verdict = "improved";
		}
		/*
		 * a bisection's answer: the change looked for (a regression,
		 * or with --improvement an improvement) is bad; good needs the
		 * whole interval short of the threshold that way
		 */
		if (!strcmp(x->verdict, o->improvement ? "improved" : "regressed")) {
			x->bisect = "bad";
		} else if (!isnan(x->lo) && !isnan(x->hi)) {
			double toward_hi = x->lower_better != o->improvement ? x->hi : -x->lo;

			if (toward_hi < o->threshold)
				x->bisect = "good";
		}
	}
	rc = 0;
out:
	free(p);
	free(adj);
	return rc;
}

static const char *pct(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (isinf(v))
		snprintf(buf, len, "%sinf%%", v > 0 ? "+" : "-");
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%+.3g%%", 100 * v);
	else
		snprintf(buf, len, "%+.1f%%", 100 * v);
	return buf;
}

static const char *num(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e6 || (fabs(v) < 0.01 && v != 0))
		snprintf(buf, len, "%.4g", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static int print_text(FILE *f, const struct result *r, size_t n, bool md,
		      const struct compare_opts *o)
{
	char a[32], b[32], c[32], lo[32], hi[32];
	int w = 22; /* the name column: as wide as the longest name, up to 64 */

	for (size_t i = 0; !md && i < n; i++) {
		char *name = vp_printable(r[i].name, false);

		if (!name)
			return -1;
		if (strlen(name) > (size_t)w)
			w = strlen(name) < 64 ? (int)strlen(name) : 64;
		free(name);
	}
	if (md) {
		fprintf(f,
			"| metric | unit | base median | new median | change | %g%% CI | p | "
			"%s | verdict |\n",
			100 * o->conf, o->holm ? "p (Holm)" : "p (uncorrected)");
		fprintf(f, "|---|---|---:|---:|---:|---|---:|---:|---|\n");
	} else {
		fprintf(f, "%-*s %-6s %12s %12s %8s  %-19s %8s %8s  %s\n", w, "metric", "unit",
			"base median", "new median", "change", "CI", "p",
			o->holm ? "p Holm" : "p used", "verdict");
	}
	for (size_t i = 0; i < n; i++) {
		const struct result *x = &r[i];
		/* names and units come from the files: never raw to a terminal */
		char *name = vp_printable(x->name, md), *unit = vp_printable(x->unit, md);
		char ci[80], pv[16], pa[16];

		if (!name || !unit) {
			free(name);
			free(unit);
			return -1;
		}
		snprintf(ci, sizeof(ci), "[%s, %s]", pct(lo, sizeof(lo), x->lo),
			 pct(hi, sizeof(hi), x->hi));
		snprintf(pv, sizeof(pv), isfinite(x->p) ? "%.4f" : "-", x->p);
		snprintf(pa, sizeof(pa), isfinite(x->p_adj) ? "%.4f" : "-", x->p_adj);
		if (md)
			fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s%s |\n", name, unit,
				num(a, sizeof(a), x->mb), num(b, sizeof(b), x->mn),
				pct(c, sizeof(c), x->change), ci, pv, pa,
				!strcmp(x->verdict, "regressed") ? "**regressed**" : x->verdict,
				x->warning[0] ? " ⚠" : "");
		else
			fprintf(f, "%-*s %-6s %12s %12s %8s  %-19s %8s %8s  %s\n", w, name, unit,
				num(a, sizeof(a), x->mb), num(b, sizeof(b), x->mn),
				pct(c, sizeof(c), x->change), ci, pv, pa, x->verdict);
		free(name);
		free(unit);
	}
	for (size_t i = 0; i < n; i++) {
		char *name;

		if (!r[i].warning[0])
			continue;
		name = vp_printable(r[i].name, false);
		if (!name)
			return -1;
		fprintf(f, md ? "\n⚠ %s: %s\n" : "warning: %s: %s\n", name, r[i].warning);
		free(name);
	}
	return 0;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *to_json(const struct result *r, size_t n, const struct compare_opts *o,
		       int regressions, char kernels[2][160])
{
	json_t *root = json_object(), *arr = json_array();

	json_object_set_new(root, "schema", json_string(VP_COMPARE_SCHEMA));
	json_object_set_new(root, "version", json_integer(1));
	for (int k = 0; k < 2; k++) {
		json_t *files = json_array();

		for (int f = 0; f < o->side[k].n; f++)
			json_array_append_new(files, json_string(o->side[k].files[f]));
		json_object_set_new(root, k ? "new" : "base", files);
		json_object_set_new(root, k ? "new_kernel" : "base_kernel",
				    json_string(kernels[k]));
	}
	json_object_set_new(root, "threshold", json_real(o->threshold));
	json_object_set_new(root, "alpha", json_real(o->alpha));
	json_object_set_new(root, "confidence", json_real(o->conf));
	json_object_set_new(root, "correction", json_string(o->holm ? "holm" : "none"));
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_object();

		json_object_set_new(m, "metric", json_string(r[i].name));
		json_object_set_new(m, "unit", json_string(r[i].unit));
		json_object_set_new(m, "better",
				    json_string(r[i].lower_better ? "lower" : "higher"));
		json_object_set_new(m, "n_base", json_integer((json_int_t)r[i].nb));
		json_object_set_new(m, "n_new", json_integer((json_int_t)r[i].nn));
		json_object_set_new(m, "samples_base", json_integer((json_int_t)r[i].sb));
		json_object_set_new(m, "samples_new", json_integer((json_int_t)r[i].sn));
		json_object_set_new(m, "median_base", jnum(r[i].mb));
		json_object_set_new(m, "median_new", jnum(r[i].mn));
		json_object_set_new(m, "change", jnum(r[i].change));
		json_object_set_new(m, "ci_low", jnum(r[i].lo));
		json_object_set_new(m, "ci_high", jnum(r[i].hi));
		json_object_set_new(m, "ci_whole_range", json_boolean(r[i].ci_full));
		json_object_set_new(m, "p", jnum(r[i].p));
		json_object_set_new(m, "p_adjusted", jnum(r[i].p_adj));
		json_object_set_new(m, "p_exact", json_boolean(r[i].exact));
		json_object_set_new(m, "verdict", json_string(r[i].verdict));
		if (o->bisect)
			json_object_set_new(m, "bisect", json_string(r[i].bisect));
		json_object_set_new(m, "warning",
				    r[i].warning[0] ? json_string(r[i].warning) : json_null());
		json_array_append_new(arr, m);
	}
	json_object_set_new(root, "metrics", arr);
	json_object_set_new(root, "regressions", json_integer(regressions));
	return root;
}

/* "RELEASE (BUILD)" of the kernel a bench file ran on, into @buf. */
static const char *kernel_of(const struct vp_bench *b, char *buf, size_t len)
{
	json_t *e = json_object_get(b->root, "environment");
	const char *rel = json_string_value(json_object_get(e, "kernel_release"));
	const char *build = json_string_value(json_object_get(e, "kernel_build"));

	if (!rel)
		snprintf(buf, len, "unknown");
	else if (!build)
		snprintf(buf, len, "%s", rel);
	else
		snprintf(buf, len, "%s (%s)", rel, build);
	return buf;
}

/*
 * Whether metric @name means the same in every file: one unit, one
 * direction, and per_run in all or none (repetition medians are not
 * raw samples).  False, with the metric, the files and both values on
 * stderr, if not.
 */
static bool same_metric(struct vp_bench *const b[2], const int nfiles[2], const char *name)
{
	static const char *const keys[] = {"unit", "better", "per_run"};
	json_t *m0 = json_object_get(b[0][0].metrics, name);

	for (int k = 0; k < 2; k++) {
		for (int f = 0; f < nfiles[k]; f++) {
			json_t *m = json_object_get(b[k][f].metrics, name);

			for (size_t i = 0; m && i < sizeof(keys) / sizeof(keys[0]); i++) {
				json_t *v0 = json_object_get(m0, keys[i]),
				       *v = json_object_get(m, keys[i]);
				bool per_run = i == 2,
				     same = per_run ? !v0 == !v : json_equal(v0, v);
				char *safe, *s0, *s1;

				if (same)
					continue;
				safe = vp_printable(name, false);
				s0 = per_run ? strdup(v0 ? "present" : "absent")
					     : json_dumps(v0, JSON_ENCODE_ANY | JSON_COMPACT);
				s1 = per_run ? strdup(v ? "present" : "absent")
					     : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
				fprintf(stderr,
					"vfiopin compare: metric %s has %s %s in %s but %s in %s; "
					"refusing to compare\n",
					safe ? safe : "?", keys[i], s0 ? s0 : "?", b[0][0].path,
					s1 ? s1 : "?", b[k][f].path);
				free(safe);
				free(s0);
				free(s1);
				return false;
			}
		}
	}
	return true;
}

/* The first field in which two workloads differ, for the refusal. */
static void first_difference(json_t *a, json_t *b, char *buf, size_t len)
{
	const char *k;
	json_t *v;

	json_object_foreach(a, k, v)
	{
		json_t *w = json_object_get(b, k);

		if (!vp_json_same(v, w)) {
			char *sa = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			char *sb = w ? json_dumps(w, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

			char *key = vp_printable(k, false);

			snprintf(buf, len, "%s: %s vs %s", key ? key : "?", sa ? sa : "?",
				 sb ? sb : "(absent)");
			free(key);
			free(sa);
			free(sb);
			return;
		}
	}
	json_object_foreach(b, k, v)
	{
		if (!json_object_get(a, k)) {
			char *key = vp_printable(k, false);

			snprintf(buf, len, "%s: (absent) vs present", key ? key : "?");
			free(key);
			return;
		}
	}
	snprintf(buf, len, "?");
}

int cmd_compare(int argc, char **argv)
{
	struct compare_opts o = {.threshold = 0.05, .alpha = 0.05, .conf = 0.95, .holm = true};
	struct vp_bench *b[2] = {NULL, NULL};
	struct result *res = NULL;
	size_t n = 0, compared = 0;
	int regressions = 0, rc = VP_EXIT_USAGE;
	const char *name;
	json_t *mb;
	FILE *out = stdout;
	char diff[256], kernels[2][160];
	int nfiles[2];
	bool created = false;
	const char *bisect = NULL;

	/* under `git bisect run` a usage error must end the bisection, not mark a revision bad */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--bisect"))
			argp_err_exit_status = rc = VP_EXIT_ABORT;
	argp_parse(&compare_argp, argc, argv, 0, NULL, &o);
	nfiles[0] = o.side[0].n;
	nfiles[1] = o.side[1].n;
	for (int k = 0; k < 2; k++) {
		b[k] = calloc(o.side[k].n, sizeof(*b[k]));
		if (!b[k]) {
			fprintf(stderr, "vfiopin compare: out of memory\n");
			goto done;
		}
		for (int f = 0; f < o.side[k].n; f++)
			if (!vp_bench_load(&b[k][f], o.side[k].files[f])) {
				/* the candidate's: its build, boot or bench failed */
				if (k && o.bisect)
					rc = VP_EXIT_SKIP;
				goto done;
			}
	}
	if (o.metric) {
		for (int k = 0; k < 2; k++)
			for (int f = 0; f < o.side[k].n; f++) {
				char *safe;

				if (json_object_get(b[k][f].metrics, o.metric))
					continue;
				safe = vp_printable(o.metric, false);
				fprintf(stderr, "vfiopin compare: %s has no metric %s\n",
					b[k][f].path, safe ? safe : "?");
				free(safe);
				if (k && o.bisect)
					rc = VP_EXIT_SKIP;
				goto done;
			}
	}
	/* every file, on either side, must have run the first one's workload */
	for (int k = 0; k < 2; k++) {
		for (int f = 0; f < o.side[k].n; f++) {
			const struct vp_bench *x = &b[k][f];

			if (vp_json_same(b[0][0].workload, x->workload))
				continue;
			first_difference(b[0][0].workload, x->workload, diff, sizeof(diff));
			fprintf(stderr,
				"vfiopin compare: %s and %s ran different workloads (%s); refusing "
				"to compare\n",
				b[0][0].path, x->path, diff);
			goto done;
		}
	}
	/* each side's kernel; a side pooling runs of several kernels is odd */
	for (int k = 0; k < 2; k++) {
		kernel_of(&b[k][0], kernels[k], sizeof(kernels[k]));
		for (int f = 1; f < o.side[k].n; f++) {
			char other[160];

			char *one, *two;

			if (!strcmp(kernel_of(&b[k][f], other, sizeof(other)), kernels[k]))
				continue;
			one = vp_printable(kernels[k], false);
			two = vp_printable(other, false);
			fprintf(stderr,
				"vfiopin compare: warning: %s pools runs of different "
				"kernels: %s in %s, %s in %s\n",
				k ? "NEW" : "BASE", one ? one : "?", b[k][0].path, two ? two : "?",
				b[k][f].path);
			free(one);
			free(two);
		}
	}
	/* a metric only in NEW is named, not dropped without a word */
	for (int f = 0; f < o.side[1].n; f++) {
		json_object_foreach(b[1][f].metrics, name, mb)
		{
			char *safe;

			if (json_object_get(b[0][0].metrics, name))
				continue;
			safe = vp_printable(name, false);
			fprintf(stderr, "vfiopin compare: warning: %s has no metric %s\n",
				b[0][0].path, safe ? safe : "?");
			free(safe);
		}
	}
	res = calloc(json_object_size(b[0][0].metrics) + 1, sizeof(*res));
	if (!res)
		goto done;
	json_object_foreach(b[0][0].metrics, name, mb)
	{
		const char *missing = NULL;

		if (o.metric && strcmp(name, o.metric))
			continue;
		for (int k = 0; k < 2 && !missing; k++)
			for (int f = 0; f < o.side[k].n && !missing; f++)
				if (!json_object_get(b[k][f].metrics, name))
					missing = b[k][f].path;
		if (!same_metric(b, nfiles, name))
			goto done;
		if (missing) {
			char *safe = vp_printable(name, false);

			fprintf(stderr, "vfiopin compare: warning: %s has no metric %s\n", missing,
				safe ? safe : "?");
			free(safe);
			continue;
		}
		if (compare_metric(&o, name, b, &res[n])) {
			fprintf(stderr,
				"vfiopin compare: out of memory comparing %zu vs %zu "
				"samples\n",
				res[n].sb, res[n].sn);
			goto done;
		}
		if (!strcmp(res[n].verdict, "no data")) {
			char *safe = vp_printable(name, false);

			fprintf(stderr, "vfiopin compare: warning: metric %s: %s\n",
				safe ? safe : "?", res[n].warning);
			free(safe);
		}
		compared += !isnan(res[n].p);
		n++;
	}
	if (!n) {
		fprintf(stderr, "vfiopin compare: the files have no metric in common\n");
		if (o.bisect)
			rc = VP_EXIT_SKIP;
		goto done;
	}
	/* a gate must not pass on nothing */
	if (!compared) {
		fprintf(
		    stderr,
		    "vfiopin compare: nothing to compare: none of the %zu metric%s has samples on "
		    "both sides\n",
		    n, n == 1 ? "" : "s");
		if (o.bisect)
			rc = VP_EXIT_SKIP;
		goto done;
	}
	if (decide(&o, res, n)) {
		fprintf(stderr, "vfiopin compare: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		regressions += !strcmp(res[i].verdict, "regressed");
	/* bad if any metric is, good only if every one is */
	bisect = "good";
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(res[i].bisect, "bad"))
			bisect = "bad";
		else if (strcmp(res[i].bisect, "good") && strcmp(bisect, "bad"))
			bisect = "undecided";
	}
	if (o.output && !(out = vp_file_open(o.output, &created))) {
		out = stdout;
		goto done;
	}
	if (out != stdout && !vp_file_truncate(out, o.output))
		goto done;
	if (o.fmt == FMT_JSON) {
		json_t *j = to_json(res, n, &o, regressions, kernels);

		if (o.bisect)
			json_object_set_new(j, "bisect", json_string(bisect));

		json_dumpf(j, out, JSON_INDENT(2));
		fputc('\n', out);
		json_decref(j);
	} else {
		for (int k = 0; k < 2; k++) {
			char *kernel = vp_printable(kernels[k], o.fmt == FMT_MD);

			fprintf(out,
				o.fmt == FMT_MD ? "- %s: %d file%s, kernel %s\n"
						: "%s: %d file%s, kernel %s\n",
				k ? "new" : "base", o.side[k].n, o.side[k].n == 1 ? "" : "s",
				kernel ? kernel : "?");
			free(kernel);
		}
		fputc('\n', out);
		if (print_text(out, res, n, o.fmt == FMT_MD, &o)) {
			fprintf(stderr, "vfiopin compare: out of memory\n");
			goto done;
		}
		fprintf(out,
			o.fmt == FMT_MD ? "\n%d regressed (threshold %g%%, alpha %g%s)\n"
					: "%d regressed (threshold %g%%, alpha %g%s)\n",
			regressions, 100 * o.threshold, o.alpha,
			o.holm ? " over all metrics, Holm" : " per metric");
		if (o.bisect)
			fprintf(
			    out, "bisect: %s\n",
			    !strcmp(bisect, "bad")
				? (o.improvement ? "bad (an improvement)" : "bad (a regression)")
			    : !strcmp(bisect, "good") ? "good (no change of the threshold's size)"
						      : "skip (the samples cannot tell)");
	}
	if (ferror(out) || fflush(out)) {
		fprintf(stderr, "vfiopin compare: writing %s failed\n",
			o.output ? o.output : "the output");
		goto done;
	}
	rc = regressions ? 1 : 0;
	if (o.bisect)
		rc = !strcmp(bisect, "bad") ? 1 : !strcmp(bisect, "good") ? 0 : VP_EXIT_SKIP;
done:
	if (out != stdout)
		fclose(out);
	free(res);
	for (int k = 0; k < 2; k++) {
		for (int f = 0; b[k] && f < o.side[k].n; f++)
			vp_bench_free(&b[k][f]);
		free(b[k]);
	}
	return rc;
}
