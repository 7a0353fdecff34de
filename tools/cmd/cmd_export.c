// SPDX-License-Identifier: GPL-2.0
/* vfiopin export: every per-container figure for Prometheus, over HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cmd.h"
#include "export.h"
#include "webconfig.h"

enum { OPT_CONTAINER_HISTS = 0x300, OPT_KEEP_RELEASED, OPT_WEB_CONFIG };

struct export_opts {
	struct vp_common common;
	const char *listen;
	const char *web_config;
	bool container_hists;
	double keep_released_s;
};

static const char export_doc[] =
    "Serve every container's figures to Prometheus.\n"
    "\n"
    "Attaches like the other subcommands and serves, over HTTP, /metrics "
    "(Prometheus text format 0.0.4: locked bytes, RLIMIT_MEMLOCK, headroom, "
    "pinned pages, pin/unpin/invalidation/limit-hit/leak counters, latency "
    "histograms in seconds, host-wide unless --container-histograms, drops) "
    "and /healthz; gzip-compressed to scrapers that accept it.  Every scrape reads the "
    "BPF maps afresh; a torn-down container is served with "
    "vfiopin_container_released 1 for --keep-released seconds, in at least one "
    "scrape, then its series are dropped.  Listens on " VP_EXPORT_DEFAULT_LISTEN " unless "
    "--listen says otherwise; an address other than loopback exposes the "
    "owners' process ids and command names to whoever can reach the port.  "
    "--web-config FILE adds TLS and basic authentication, in the file format of "
    "Prometheus's own exporters (tls_server_config: cert_file, key_file, "
    "client_auth_type NoClientCert or RequireAndVerifyClientCert, client_ca_file; "
    "basic_auth_users: user: bcrypt hash); a file with anything else is refused."
    "\v"
    "Examples:\n"
    "  vfiopin export                          serve on " VP_EXPORT_DEFAULT_LISTEN "\n"
    "  vfiopin export --listen 0.0.0.0:9739    every interface (see above)\n"
    "  vfiopin export --listen [::1]:9739      IPv6 loopback\n"
    "  vfiopin export --listen 0.0.0.0:9739 --web-config /etc/vfiopin/web.yml\n"
    "  curl -s localhost:9739/metrics | grep vfiopin_vm_locked_bytes\n";

static const struct argp_option export_options[] = {
    {"listen", 'l', "ADDR:PORT", 0,
     "Where to serve (default " VP_EXPORT_DEFAULT_LISTEN "; :PORT is loopback; port 0 picks one)",
     0},
    {"keep-released", OPT_KEEP_RELEASED, "SECONDS", 0,
     "Serve a torn-down container's last figures this long after its release, so that "
     "every scraper (an HA pair, a human with curl) sees them (default " VP_EXPORT_STR(
	 VP_EXPORT_KEEP_RELEASED_S) "; 0: in the next scrape only)",
     0},
    {"web-config", OPT_WEB_CONFIG, "FILE", 0,
     "TLS and basic authentication from FILE (see above); default: plain HTTP, no "
     "authentication",
     0},
    {"container-histograms", OPT_CONTAINER_HISTS, NULL, 0,
     "Serve the latency histograms of every container too (vfiopin_container_*_duration_"
     "seconds: 27 series per histogram per container), not only the host-wide ones",
     0},
    {0},
};

static error_t export_parse(int key, char *arg, struct argp_state *state)
{
	struct export_opts *o = state->input;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[160];

	switch (key) {
	case ARGP_KEY_INIT:
		VP_COMMON_INPUT(state, &o->common);
		break;
	case 'l':
		if (!vp_listen_parse(arg, &ss, &len, err, sizeof(err)))
			argp_error(state, "--listen %s", err);
		o->listen = arg;
		break;
	case OPT_KEEP_RELEASED:
		/* 0 is meaningful here: the next scrape only */
		if (!strcmp(arg, "0"))
			o->keep_released_s = 0;
		else if (!vp_parse_seconds(arg, &o->keep_released_s))
			argp_error(
			    state,
			    "--keep-released takes a number of seconds (0 or more), not '%s'", arg);
		break;
	case OPT_CONTAINER_HISTS:
		o->container_hists = true;
		break;
	case OPT_WEB_CONFIG:
		o->web_config = arg;
		break;
	case ARGP_KEY_END:
		if (o->common.output)
			argp_error(state, "export serves over HTTP; -o does not apply");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp export_argp = {
    .options = export_options,
    .parser = export_parse,
    .args_doc = "[-- COMMAND [ARG...]]",
    .doc = export_doc,
    .children = vp_common_children,
};

int cmd_export(int argc, char **argv)
{
	struct export_opts o = {.listen = VP_EXPORT_DEFAULT_LISTEN,
				.keep_released_s = VP_EXPORT_KEEP_RELEASED_S};
	struct vp_web_config web;
	struct vp_exporter e;
	struct vp_loader l;
	char err[512];
	int rc = VP_EXIT_FAIL;

	argp_parse(&export_argp, argc, argv, ARGP_IN_ORDER, NULL, &o);
	o.common.bpf.announce = true;
	o.common.bpf.row_lat = o.container_hists;
	o.common.bpf.keep_released_ns = (uint64_t)(o.keep_released_s * 1e9);
	/* the whole file or nothing, before anything is bound or loaded */
	if (o.web_config && !vp_web_config_load(o.web_config, &web, err, sizeof(err))) {
		fprintf(stderr, "vfiopin export: --web-config %s\n", err);
		return VP_EXIT_USAGE;
	}
	if (!vp_export_bind(&e, o.listen))
		goto out;
	e.container_hists = o.container_hists;
	e.web = o.web_config ? &web : NULL;
	if (vp_open(&l, &o.common.bpf, NULL, NULL)) {
		vp_export_stop(&e);
		goto out;
	}
	if (!vp_export_serve(&e, &l, vp_mode_names[l.mode])) {
		vp_export_stop(&e);
		vp_close(&l);
		goto out;
	}
	fprintf(stderr, "vfiopin export: serving %s://%s/metrics%s%s\n",
		e.web && web.cert_pem ? "https" : "http", e.where,
		e.web && web.nusers ? " (basic authentication)" : "",
		e.loopback ? "" : " (not loopback: reachable from the network)");
	rc = vp_collect(&l, &o.common, 0, NULL, NULL);
	vp_export_stop(&e);
	fprintf(stderr,
		"vfiopin export: %llu scrapes served, %llu failed, %llu connections cut for a "
		"request not sent or taken within the deadline\n",
		(unsigned long long)e.scrapes, (unsigned long long)e.failures,
		(unsigned long long)e.cut);
	vp_close(&l);
	rc = rc < 0 ? VP_EXIT_FAIL : rc;
out:
	if (o.web_config)
		vp_web_config_free(&web);
	return rc;
}
