/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP side of `vfiopin export` (libmicrohttpd): /metrics renders a
 * fresh snapshot per scrape, /healthz answers "ok", everything else 404.
 */
#ifndef VFIOPIN_EXPORT_H
#define VFIOPIN_EXPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "loader.h"

#define VP_EXPORT_PORT		 9739
#define VP_EXPORT_DEFAULT_LISTEN "127.0.0.1:9739"
/* seconds a released container stays served: two scrapes at Prometheus's default 1m */
#define VP_EXPORT_KEEP_RELEASED_S 120
#define VP_EXPORT_STR_(x)	  #x
#define VP_EXPORT_STR(x)	  VP_EXPORT_STR_(x)

struct MHD_Daemon;
struct vp_conn;
struct vp_body;
struct vp_web_config;

struct vp_exporter {
	struct vp_loader *l;
	const char *mode;
	bool container_hists;	   /* per-container latency histograms (the loader's row_lat) */
	struct vp_web_config *web; /* TLS and authentication (--web-config), or NULL */
	pthread_mutex_t lock;	   /* the loader's snapshot state and the bodies */
	struct vp_body *cur;	   /* the newest rendering */
	unsigned int bodies;	   /* renderings alive (the newest and those still being sent) */
	struct MHD_Daemon *d;
	/* open connections and the watchdog that cuts overdue ones */
	pthread_mutex_t conn_lock;
	pthread_cond_t wake;
	pthread_t watchdog;
	bool stopping;
	struct vp_conn *conns;
	unsigned int max_conn;
	uint64_t cut; /* connections cut for an overdue request */
	int fd;
	char where[80]; /* "127.0.0.1:9739" as bound */
	bool loopback;
	double last_render_s; /* -1 before the first scrape */
	uint64_t scrapes;
	uint64_t failures;
};

/*
 * Parse "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (loopback) into @ss.
 * Returns false, with a message in @err, if it is not one of those.
 */
bool vp_listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		     size_t errlen);

/* What a request gets, by its method and path (as sent, never decoded). */
enum vp_route { VP_ROUTE_METRICS, VP_ROUTE_HEALTHZ, VP_ROUTE_NOT_FOUND, VP_ROUTE_NOT_ALLOWED };
enum vp_route vp_export_route(const char *method, const char *url);

/* Whether an Accept-Encoding header value (NULL: none) accepts gzip. */
bool vp_accepts_gzip(const char *accept);

/*
 * Bind and listen on @listen (before loading anything: a port in use is
 * found at once); false with a message on stderr.
 */
bool vp_export_bind(struct vp_exporter *e, const char *listen);
/* Serve scrapes from @l; false with a message on stderr. */
bool vp_export_serve(struct vp_exporter *e, struct vp_loader *l, const char *mode);
void vp_export_stop(struct vp_exporter *e);

#endif
