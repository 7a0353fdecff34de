// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's HTTP server.  libmicrohttpd serves every connection from
 * one thread over epoll, so a stalled client costs its socket and a
 * bounded request buffer, never a thread.  What a client may hold:
 *   - a request must arrive whole, and its response be taken, within
 *     VP_REQUEST_S of the connection's start or its previous response
 *     (a watchdog cuts it otherwise: a byte every few seconds does not
 *     keep a connection alive, as it would under an idle timeout alone);
 *   - a connection idle for VP_CONN_TIMEOUT_S is closed;
 *   - at most e->max_conn connections at once (from RLIMIT_NOFILE, up to
 *     VP_MAX_CONN), each with VP_CONN_MEMORY of request buffer.
 * Scrapes that overlap share one rendered body (struct vp_body): at most
 * VP_BODIES_MAX are alive, so unread responses hold at most that many
 * renderings (and their gzip forms) whatever the number of connections.
 * A released container is in every response for --keep-released seconds
 * after its release, and in at least one sent in full (a HEAD, or a
 * response cut short, is no report), then it is retired and its series go.
 * With a web configuration (webconfig.h): TLS, a client certificate
 * verified against its CA when asked for, basic authentication with bcrypt
 * hashes; what fails them gets 403 or 401 and nothing of the figures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>
#include "export.h"
#include "prom.h"
#include "webconfig.h"

#define VP_MAX_CONN	  1024
#define VP_FD_RESERVE	  128 /* descriptors kept for BPF objects and the rest */
#define VP_CONN_TIMEOUT_S 10
#define VP_REQUEST_S	  10
#define VP_CONN_MEMORY	  (16 * 1024)
/* connections one address may hold: a flood from one client leaves room for the scraper */
#define VP_PER_IP_CONN 128
/* a request target longer than this gets 414 at once (Prometheus sends none near it) */
#define VP_MAX_TARGET 2048
/* rendered bodies alive at most, and how long one is shared by overlapping scrapes */
#define VP_BODIES_MAX	4
#define VP_BODY_SHARE_S 1.0

/* A request: its body, and the reference its response holds (freed by whichever ends last). */
struct vp_req {
	struct vp_exporter *e;
	struct vp_body *body, *resp_body;
	bool get, live;
};

extern const char *argp_program_version;

bool vp_listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		     size_t errlen)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char host[64], *end;
	const char *colon, *port;
	unsigned long p;
	int rc;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host)) {
			snprintf(err, errlen, "'%s' is not [IPV6]:PORT", spec);
			return false;
		}
		memcpy(host, spec + 1, rb - spec - 1);
		host[rb - spec - 1] = 0;
		port = rb + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
			snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:%d)", spec,
				 VP_EXPORT_PORT);
			return false;
		}
		memcpy(host, spec, colon - spec);
		host[colon - spec] = 0;
		if (!host[0])
			strcpy(host, "127.0.0.1");
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	/* digits only: strtoul alone would take " 80" and "+80" */
	if (strspn(port, "0123456789") != strlen(port) || !*port || *end || errno || p > 65535) {
		snprintf(err, errlen, "'%s': the port must be 0..65535", spec);
		return false;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "'%s': '%s' is not a numeric IPv4 or IPv6 address", spec,
			 host);
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void describe(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned int status, const char *msg)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(conn, "vfiopin", r);
	else
		ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The client's certificate, verified against the configured CA. */
static bool client_verified(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned int status = 0;

	if (!ci || !ci->tls_session)
		return false;
	return gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) ==
		   GNUTLS_E_SUCCESS &&
	       !status;
}

/* The request's basic-authentication user and password, one of the configuration's. */
static bool authorized(struct vp_web_config *w, struct MHD_Connection *conn)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(conn, &pass);
	bool ok = user && vp_web_check_user(w, user, pass);

	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

/*
 * The parameters of one coding, from @t (at a ';') to @end: false only for a
 * zero weight (q=0, q=0.0, q=0.000; the name "q" in either case).
 */
static bool weight_nonzero(const char *t, const char *end)
{
	while (t && t < end) {
		for (t++; t < end && (*t == ' ' || *t == '\t'); t++)
			;
		if (end - t >= 2 && (*t == 'q' || *t == 'Q') && t[1] == '=') {
			for (t += 2; t < end && (*t == '0' || *t == '.'); t++)
				;
			return t < end && *t >= '1' && *t <= '9';
		}
		t = memchr(t, ';', (size_t)(end - t));
	}
	return true;
}

bool vp_accepts_gzip(const char *accept)
{
	const char *p = accept;

	/* a comma-separated list of codings, each maybe with ";q=VALUE" */
	while (p && *p) {
		const char *end = strchr(p, ','), *semi;
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = end ? (size_t)(end - p) : strlen(p);
		semi = memchr(p, ';', n);
		if ((size_t)((semi ? semi : p + n) - p) >= 4 && !strncasecmp(p, "gzip", 4)) {
			const char *t = p + 4;

			while (t < p + n && (*t == ' ' || *t == '\t'))
				t++;
			if (t == p + n)
				return true;
			if (*t == ';')
				return weight_nonzero(t, p + n);
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* @in gzip-compressed into a new buffer, *len its size; NULL on failure. */
static char *gzip(const char *in, size_t in_len, size_t *len)
{
	z_stream z = {0};
	size_t cap;
	char *out;

	if (in_len > UINT32_MAX || deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return NULL;
	cap = deflateBound(&z, (uLong)in_len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*len = z.total_out;
	deflateEnd(&z);
	return out;
}

/*
 * One rendered /metrics, shared by every response that sends it: the
 * exporter's newest body holds a reference, and so does each response and
 * each request in flight.  Its gzip form is made once, when first asked.
 */
struct vp_body {
	unsigned int refs;
	uint64_t gen; /* the snapshot's (vp_snapshot_delivered) */
	double born;
	char *text, *gz;
	size_t len, gzlen;
	bool gz_tried;
};

/* under e->lock */
static void body_put(struct vp_exporter *e, struct vp_body *b)
{
	if (!b || --b->refs)
		return;
	free(b->text);
	free(b->gz);
	free(b);
	e->bodies--;
}

static void body_free_cb(void *cls)
{
	struct vp_req *q = cls;
	bool done;

	pthread_mutex_lock(&q->e->lock);
	body_put(q->e, q->resp_body);
	q->resp_body = NULL;
	done = !q->live;
	pthread_mutex_unlock(&q->e->lock);
	if (done)
		free(q);
}

/* A new body from a fresh snapshot, under e->lock; NULL on failure. */
static struct vp_body *render(struct vp_exporter *e)
{
	struct vp_prom_info info = {.version = argp_program_version,
				    .mode = e->mode,
				    .container_hists = e->container_hists,
				    .scrape_prev_s = e->last_render_s};
	struct vp_body *b = calloc(1, sizeof(*b));
	struct vp_snapshot s;
	double t0 = now_s();
	FILE *f;
	int err;

	if (!b) {
		e->failures++;
		return NULL;
	}
	err = vp_snapshot_and_retire(e->l, &s);
	if (err) {
		e->failures++;
		free(b);
		fprintf(stderr, "vfiopin export: cannot read the container map: %s\n",
			strerror(-err));
		return NULL;
	}
	/* the rows come in cid order (vp_snapshot_and_retire) */
	f = open_memstream(&b->text, &b->len);
	if (!f || vp_prom_write(f, &s, &info) || fclose(f)) {
		free(b->text);
		free(b);
		b = NULL;
		e->failures++;
	} else {
		b->gen = s.gen;
		b->born = now_s();
		b->refs = 1;
		e->bodies++;
		e->last_render_s = b->born - t0;
	}
	vp_snapshot_free(&s);
	return b;
}

/*
 * The body for a scrape now, with a reference for the caller: the newest
 * one while a response of it is still in flight and it is younger than
 * VP_BODY_SHARE_S, or whenever VP_BODIES_MAX are alive (what unread
 * responses can hold is bounded so); a fresh one otherwise.  NULL on
 * failure.
 */
static struct vp_body *body_get(struct vp_exporter *e, bool gz)
{
	struct vp_body *b = e->cur;

	if (!b || e->bodies < VP_BODIES_MAX) {
		if (!b || b->refs == 1 || now_s() - b->born >= VP_BODY_SHARE_S) {
			b = render(e);
			if (!b)
				return NULL;
			body_put(e, e->cur);
			e->cur = b;
		}
	}
	b->refs++;
	e->scrapes++;
	if (gz && !b->gz_tried) {
		b->gz_tried = true;
		b->gz = gzip(b->text, b->len, &b->gzlen);
	}
	return b;
}

enum vp_route vp_export_route(const char *method, const char *url)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return VP_ROUTE_NOT_ALLOWED;
	/* the absolute form (RFC 9112 3.2.2), which a server must accept: its path */
	if (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)) {
		url = strchr(strstr(url, "//") + 2, '/');
		if (!url)
			return VP_ROUTE_NOT_FOUND;
	}
	/* the path as sent (no_unescape): exactly these two, no query */
	if (!strcmp(url, "/metrics"))
		return VP_ROUTE_METRICS;
	if (!strcmp(url, "/healthz"))
		return VP_ROUTE_HEALTHZ;
	return VP_ROUTE_NOT_FOUND;
}

/*
 * Whether the client closed its side before its answer: no HTTP client
 * does that and then reads, so what is sent it is no report.
 */
static bool peer_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;

	return ci && recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Every request target, before libmicrohttpd splits its query into
 * arguments in the connection's 16 KiB: one too long to be a scrape is
 * answered 414 here and the connection closed (left to the library, a
 * query of thousands of arguments got no answer until the watchdog).
 * The connection has sent nothing of this request yet: the socket is
 * ours to answer on.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	static const char answer[] = "HTTP/1.1 414 URI Too Long\r\nConnection: close\r\n"
				     "Content-Type: text/plain; charset=utf-8\r\n"
				     "Content-Length: 36\r\n\r\n"
				     "request target over 2048 bytes: 414\n";
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	if (strlen(uri) <= VP_MAX_TARGET)
		return NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci) {
		/* if it does not go out whole, the close is the answer */
		(void)send(ci->connect_fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		shutdown(ci->connect_fd, SHUT_RDWR);
	}
	return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct vp_exporter *e = cls;
	enum vp_route route;
	struct vp_req *q;
	struct MHD_Response *r;
	enum MHD_Result ret;
	bool gz;

	(void)version;
	(void)upload_data;
	/* who may ask comes before what is asked */
	if (!*req_cls && e->web && e->web->verify_client && !client_verified(conn))
		return text(
		    conn, MHD_HTTP_FORBIDDEN,
		    "forbidden: a client certificate signed by the configured CA is needed\n");
	if (!*req_cls && e->web && e->web->nusers && !authorized(e->web, conn))
		return text(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	route = vp_export_route(method, url);
	if (route == VP_ROUTE_NOT_ALLOWED)
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed: GET or HEAD only\n");
	/* a GET with a body: answer once the headers are in, ignore the rest */
	if (!*req_cls) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->e = e;
		q->live = true;
		*req_cls = q;
		return MHD_YES;
	}
	q = *req_cls;
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (route == VP_ROUTE_HEALTHZ)
		return text(conn, MHD_HTTP_OK, "ok\n");
	if (route == VP_ROUTE_NOT_FOUND)
		return text(conn, MHD_HTTP_NOT_FOUND,
			    "not found: vfiopin export serves /metrics and /healthz\n");
	gz = vp_accepts_gzip(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	pthread_mutex_lock(&e->lock);
	q->body = body_get(e, gz);
	if (q->body) {
		/* one reference for the request, one for its response */
		q->body->refs++;
		q->resp_body = q->body;
	}
	pthread_mutex_unlock(&e->lock);
	if (!q->body)
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "vfiopin export: reading the BPF maps failed; see its log\n");
	q->get = !strcmp(method, MHD_HTTP_METHOD_GET) && !peer_gone(conn);
	gz = gz && q->body->gz;
	r = MHD_create_response_from_buffer_with_free_callback_cls(
	    gz ? q->body->gzlen : q->body->len, gz ? q->body->gz : q->body->text, body_free_cb, q);
	if (!r) {
		body_free_cb(q);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, VP_PROM_CONTENT_TYPE);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* client mistakes (bad requests, timeouts) are answered, not logged */
	if (getenv("VFIOPIN_HTTP_DEBUG")) {
		fputs("vfiopin export: http: ", stderr);
		vfprintf(stderr, fmt, ap);
	}
}

/*
 * Paths are served exactly as sent, never decoded: "/metrics%00.txt" must
 * not become "/metrics" (Prometheus never escapes a path).
 */
static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/* A connection's slot: its socket and when its current request is due. */
struct vp_conn {
	int fd; /* -1: free */
	bool cut;
	double deadline;
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct vp_exporter *e = cls;
	struct vp_conn *c = *socket_context;

	pthread_mutex_lock(&e->conn_lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		for (unsigned int i = 0; ci && i < e->max_conn; i++) {
			if (e->conns[i].fd >= 0)
				continue;
			e->conns[i] = (struct vp_conn){.fd = ci->connect_fd,
						       .deadline = now_s() + VP_REQUEST_S};
			*socket_context = &e->conns[i];
			break;
		}
	} else if (c) {
		/* MHD closes the socket after this: the watchdog never sees a reused fd */
		c->fd = -1;
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&e->conn_lock);
}

/* A response was taken (or a request failed): the next one gets a fresh deadline. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct vp_exporter *e = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct vp_conn *c = ci ? ci->socket_context : NULL;
	struct vp_req *q = *req_cls;

	if (q) {
		/* a report is a body sent in full, not a HEAD or a response cut short */
		if (q->body && q->get && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			vp_snapshot_delivered(e->l, q->body->gen);
		bool done;

		pthread_mutex_lock(&e->lock);
		body_put(e, q->body);
		q->body = NULL;
		q->live = false;
		/* the response's reference may outlive the request: it frees q then */
		done = !q->resp_body;
		pthread_mutex_unlock(&e->lock);
		if (done)
			free(q);
		*req_cls = NULL;
	}
	if (!c)
		return;
	pthread_mutex_lock(&e->conn_lock);
	c->deadline = now_s() + VP_REQUEST_S;
	pthread_mutex_unlock(&e->conn_lock);
}

/* Once a second: cut every connection whose request is overdue. */
static void *watchdog(void *arg)
{
	struct vp_exporter *e = arg;
	struct timespec ts;

	pthread_mutex_lock(&e->conn_lock);
	while (!e->stopping) {
		double now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&e->wake, &e->conn_lock, &ts);
		now = now_s();
		for (unsigned int i = 0; i < e->max_conn; i++) {
			struct vp_conn *c = &e->conns[i];

			if (c->fd < 0 || c->cut || c->deadline > now)
				continue;
			/* MHD sees the end of the stream and closes it in its own thread */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			e->cut++;
		}
	}
	pthread_mutex_unlock(&e->conn_lock);
	return NULL;
}

/*
 * How many connections may be open at once: what RLIMIT_NOFILE leaves
 * after VP_FD_RESERVE, up to VP_MAX_CONN (the soft limit is raised to the
 * hard one first, as far as that takes it).
 */
static unsigned int conn_limit(void)
{
	struct rlimit rl;
	rlim_t want = VP_MAX_CONN + VP_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 32;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur <= VP_FD_RESERVE + 32)
		return 32;
	return rl.rlim_cur - VP_FD_RESERVE > VP_MAX_CONN
		   ? VP_MAX_CONN
		   : (unsigned int)(rl.rlim_cur - VP_FD_RESERVE);
}

bool vp_export_bind(struct vp_exporter *e, const char *listen_spec)
{
	struct sockaddr_storage ss;
	socklen_t sslen, blen = sizeof(ss);
	char err[160];
	int one = 1;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->last_render_s = -1;
	if (!vp_listen_parse(listen_spec, &ss, &sslen, err, sizeof(err))) {
		fprintf(stderr, "vfiopin export: --listen %s\n", err);
		return false;
	}
	e->loopback = is_loopback(&ss);
	e->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0) {
		fprintf(stderr, "vfiopin export: socket: %s\n", strerror(errno));
		return false;
	}
	setsockopt(e->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(e->fd, (struct sockaddr *)&ss, sslen) || listen(e->fd, 64)) {
		int en = errno;

		describe(&ss, e->where, sizeof(e->where));
		fprintf(
		    stderr, "vfiopin export: cannot listen on %s: %s%s\n", e->where, strerror(en),
		    en == EADDRINUSE ? " (is another exporter running? pick a port with --listen)"
		    : en == EADDRNOTAVAIL ? " (no interface of this host has that address)"
		    : en == EACCES	  ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)"
					  : "");
		close(e->fd);
		e->fd = -1;
		return false;
	}
	getsockname(e->fd, (struct sockaddr *)&ss, &blen);
	describe(&ss, e->where, sizeof(e->where));
	return true;
}

/* What vp_export_serve set up beside the daemon, once that is stopped. */
static void free_sync(struct vp_exporter *e)
{
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->conn_lock);
	pthread_cond_destroy(&e->wake);
	free(e->conns);
	e->conns = NULL;
}

bool vp_export_serve(struct vp_exporter *e, struct vp_loader *l, const char *mode)
{
	e->l = l;
	vp_report_on_delivery(l);
	e->mode = mode;
	e->max_conn = conn_limit();
	e->conns = malloc(e->max_conn * sizeof(*e->conns));
	if (!e->conns) {
		fprintf(stderr, "vfiopin export: out of memory\n");
		return false;
	}
	for (unsigned int i = 0; i < e->max_conn; i++)
		e->conns[i].fd = -1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->conn_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&e->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	{
		/* TLS from the web configuration: its certificate, key and client CA */
		const struct vp_web_config *w = e->web;
		bool tls = w && w->cert_pem;
		struct MHD_OptionItem opt[] = {
		    {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, tls ? w->cert_pem : NULL},
		    {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, tls ? w->key_pem : NULL},
		    {tls && w->ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
		     tls ? w->ca_pem : NULL},
		    {MHD_OPTION_END, 0, NULL},
		};

		e->d = MHD_start_daemon(
		    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0), 0,
		    NULL, NULL, handle, e, MHD_OPTION_LISTEN_SOCKET, e->fd,
		    MHD_OPTION_CONNECTION_LIMIT, e->max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (unsigned int)VP_PER_IP_CONN, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)VP_CONN_TIMEOUT_S,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)VP_CONN_MEMORY,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, e, MHD_OPTION_NOTIFY_COMPLETED,
		    on_completed, e, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY,
		    tls ? opt : opt + 3, MHD_OPTION_END);
	}
	if (!e->d || pthread_create(&e->watchdog, NULL, watchdog, e)) {
		fprintf(stderr, "vfiopin export: cannot start the HTTP server on %s\n", e->where);
		if (e->d)
			MHD_stop_daemon(e->d);
		e->d = NULL;
		free_sync(e);
		return false;
	}
	return true;
}

void vp_export_stop(struct vp_exporter *e)
{
	if (e->d) {
		pthread_mutex_lock(&e->conn_lock);
		e->stopping = true;
		pthread_cond_signal(&e->wake);
		pthread_mutex_unlock(&e->conn_lock);
		pthread_join(e->watchdog, NULL);
		/* closes the listening socket too */
		MHD_stop_daemon(e->d);
		body_put(e, e->cur);
		e->cur = NULL;
		free_sync(e);
		e->fd = -1;
	}
	if (e->fd >= 0)
		close(e->fd);
	e->d = NULL;
	e->fd = -1;
}
