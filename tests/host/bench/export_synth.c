// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's HTTP server over N synthetic containers, for the host
 * tests and the scrape benchmark (tests/host/export.sh): containers 1..N
 * as synth.c builds them; container 1's owner has a comm with a quote, a
 * backslash and a newline (label escaping), container 3's "qemu-synth";
 * the others have no comm (owners never seen running); container 2 is released (it
 * must be served for KEEP seconds, in at least one scrape, then dropped).
 * Serves on 127.0.0.1, an ephemeral port unless given (0), prints "port P"
 * and "tgid_base B" (container C's owner is B + C, synth.h), and runs until
 * SIGTERM.
 *
 *   export_synth CONTAINERS [PORT [KEEP [WEB-CONFIG]]]   (root: loads BPF programs)
 *
 * WEB-CONFIG: TLS and basic authentication, as vfiopin export --web-config.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "export.h"
#include "synth.h"
#include "webconfig.h"

const char *argp_program_version = "vfiopin-synthetic";

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 0;
	double keep = argc > 3 ? atof(argv[3]) : 0;
	struct vp_opts o = {.no_attach = true,
			    .max_containers = n + 16,
			    .keep_released_ns = (uint64_t)(keep * 1e9)};
	struct vp_web_config web;
	char listen[32], err[512];
	struct vp_exporter e;
	struct vp_loader l;

	if (!n) {
		fprintf(stderr, "usage: export_synth CONTAINERS [PORT [KEEP [WEB-CONFIG]]]\n");
		return 2;
	}
	if (argc > 4 && !vp_web_config_load(argv[4], &web, err, sizeof(err))) {
		fprintf(stderr, "export_synth: %s\n", err);
		return 2;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", argc > 2 ? argv[2] : "0");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (!vp_export_bind(&e, listen))
		return 1;
	e.web = argc > 4 ? &web : NULL;
	if (vp_open(&l, &o, NULL, NULL))
		return 1;
	/* containers 1 and 3 are this process's: their comm is recorded */
	for (unsigned int c = 1; c <= n; c++) {
		prctl(PR_SET_NAME, c == 1 ? "q\"b\\s\nx" : "qemu-synth");
		synth_container(l.skel, c, c == 1 || c == 3 ? (__u32)getpid() : SYNTH_TGID(c));
	}
	prctl(PR_SET_NAME, "export_synth");
	if (n >= 2)
		synth_release(l.skel, 2, SYNTH_TGID(2));
	if (!vp_export_serve(&e, &l, "tracepoint"))
		return 1;
	printf("port %s\ntgid_base %u\n", strrchr(e.where, ':') + 1, SYNTH_TGID_BASE);
	fflush(stdout);
	while (!stop)
		pause();
	vp_export_stop(&e);
	vp_close(&l);
	if (argc > 4)
		vp_web_config_free(&web);
	return 0;
}
