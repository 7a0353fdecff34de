// SPDX-License-Identifier: GPL-2.0
/*
 * Dead containers never crowd out live ones: with room for 16 containers,
 * one live VM and 500 VM lifetimes after it (open, pins, release), reaped
 * as vfiopin's collection loop does (every few lifetimes here, every
 * second there).  The oracle is what was put in: every lifetime reported
 * exactly once, the live VM in every snapshot, nothing dropped.
 * Prints "ok: ..." or "FAIL: ..." lines; exit 1 on a failure.
 *
 *   churn_synth            (root: loads BPF programs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader.h"
#include "snapshot.h"
#include "synth.h"

const char *argp_program_version = "vfiopin-synthetic";

#define LIVE	  1000u
#define LIFETIMES 500u
#define ROOM	  16u

static int failed;

static void expect(const char *what, unsigned long long got, unsigned long long want)
{
	if (got == want)
		printf("ok: %s = %llu\n", what, got);
	else
		printf("FAIL: %s = %llu, wanted %llu\n", what, got, want);
	if (got != want)
		failed = 1;
}

/* A snapshot into @s, counting the live VM's rows and the released ones. */
static int take(struct vp_loader *l, struct vp_snapshot *s, unsigned long long *live,
		unsigned long long *released)
{
	if (vp_snapshot_and_retire(l, s))
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		if (s->rows[i].c.cid == LIVE)
			(*live)++;
		else if (s->rows[i].c.flags & VP_F_RELEASED)
			(*released)++;
	}
	return 0;
}

/* Each released lifetime of @s counted in @once (by cid). */
static void count_each(const struct vp_snapshot *s, unsigned int *once)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].c.cid != LIVE && s->rows[i].c.cid <= LIFETIMES &&
		    (s->rows[i].c.flags & VP_F_RELEASED))
			once[s->rows[i].c.cid]++;
}

/*
 * One pass of LIFETIMES.  @gated: as the exporter runs it, a snapshot is
 * a report only once delivered, and every other one is not (a HEAD, a
 * client gone), and some are reaped between the snapshot and its
 * delivery: each lifetime must be in exactly one delivered snapshot.
 */
static int run(bool gated)
{
	struct vp_opts o = {.no_attach = true, .max_containers = ROOM};
	unsigned long long reported = 0, live_seen = 0, snaps = 0;
	const char *how = gated ? "churn, reports on delivery" : "churn";
	struct vp_loader l;
	struct vp_snapshot s;
	char what[96];
	unsigned int once[LIFETIMES + 1] = {0}, odd = 0;

	if (vp_open(&l, &o, NULL, NULL))
		return -1;
	if (gated)
		vp_report_on_delivery(&l);
	synth_container(l.skel, LIVE, SYNTH_TGID(LIVE));
	for (__u32 c = 1; c <= LIFETIMES; c++) {
		synth_container(l.skel, c, SYNTH_TGID(c));
		synth_release(l.skel, c, SYNTH_TGID(c));
		/*
		 * a snapshot now and then, as a scrape or SIGUSR1 would take,
		 * before the reap: what it reports the reap then retires
		 */
		if (c % 50 == 0 || (gated && c % 7 == 0)) {
			unsigned long long shown = 0;
			bool delivered = !gated || snaps % 2;

			if (take(&l, &s, &live_seen, &shown))
				return -1;
			/*
			 * the collector's reap can come while the response
			 * is still being sent: before it counts as delivered
			 */
			if (gated && snaps % 4 == 1 && vp_reap(&l, 0))
				failed = 1;
			if (delivered) {
				reported += shown;
				count_each(&s, once);
				vp_snapshot_delivered(&l, s.gen);
			}
			snaps++;
			vp_snapshot_free(&s);
		}
		if (c % 5 == 0 && vp_reap(&l, 0))
			failed = 1;
	}
	vp_reap(&l, 0);
	if (take(&l, &s, &live_seen, &reported))
		return -1;
	count_each(&s, once);
	snaps++;
	if (gated) {
		/* delivered, and one more to retire what it reported */
		vp_snapshot_delivered(&l, s.gen);
		vp_snapshot_free(&s);
		if (take(&l, &s, &live_seen, &(unsigned long long){0}))
			return -1;
		snaps++;
	}
	snprintf(what, sizeof(what), "%s: lifetimes reported, each once", how);
	expect(what, reported, LIFETIMES);
	for (__u32 c = 1; c <= LIFETIMES; c++)
		odd += once[c] != 1;
	snprintf(what, sizeof(what), "%s: lifetimes reported other than once", how);
	expect(what, odd, 0);
	snprintf(what, sizeof(what), "%s: the live VM in every snapshot", how);
	expect(what, live_seen, snaps);
	snprintf(what, sizeof(what), "%s: containers dropped for want of room", how);
	expect(what, s.g.drop_map_full, 0);
	snprintf(what, sizeof(what), "%s: retired", how);
	expect(what, s.retired, LIFETIMES);
	vp_snapshot_free(&s);
	vp_close(&l);
	return 0;
}

int main(void)
{
	if (run(false) || run(true))
		return 1;
	return failed;
}
