// SPDX-License-Identifier: GPL-2.0
/*
 * The command line's number, duration and address parsers, the exporter's
 * request routing, and the escaping of outside strings for a terminal,
 * each held to what it promises:
 *   - vp_parse_u32 accepts only a whole number (decimal, or hex after
 *     0x; a leading 0 is decimal) without sign or space, at most UINT32_MAX;
 *   - vp_parse_seconds only a finite number in (0, 1 year];
 *   - vp_listen_parse only ADDR:PORT with a numeric address and a port
 *     of digits 0..65535;
 *   - vp_export_route serves /metrics and /healthz to GET and HEAD alone,
 *     as a path or in the absolute form http://AUTHORITY/PATH;
 *   - vp_printable leaves no control byte and, for Markdown, no bare '|';
 *     vp_escape into any smaller buffer gives a prefix of it cut between
 *     whole units;
 *   - vp_accepts_gzip says yes only to a header naming gzip (any case).
 * The input is one string; for routing, its first line is the method.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"
#include "export.h"
#include "output.h"

const char *argp_program_version = "vfiopin-fuzz";

static void check_printable(const char *s, bool md)
{
	char *p = vp_printable(s, md), cut[64];

	if (!p)
		abort();
	/* a cut escape is a prefix of the whole one, and never ends mid-escape */
	for (size_t k = 1; k <= sizeof(cut); k += 7) {
		size_t n = strlen(vp_escape(cut, k, s, md));

		if (n >= k || strncmp(cut, p, n) ||
		    (n && cut[n - 1] == '\\' && p[n] != '\\' && (n < 2 || cut[n - 2] != '\\')))
			abort();
	}
	for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			abort();
		/* C1 controls as UTF-8 */
		if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
			abort();
		if (*c == '\\' && c[1]) {
			c++; /* an escaped byte */
			continue;
		}
		if (md && *c == '|')
			abort();
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[160], *nl;
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t u;
	double d;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	if (vp_parse_u32(s, &u)) {
		if (!isdigit((unsigned char)s[0]))
			abort();
		bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

		if (strtoull(hex ? s + 2 : s, NULL, hex ? 16 : 10) != u)
			abort();
	}
	if (vp_parse_seconds(s, &d) && !(d > 0 && d <= 31536000))
		abort();
	if (vp_listen_parse(s, &ss, &len, err, sizeof(err))) {
		const char *port = strrchr(s, ':') + 1;
		unsigned short p =
		    ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);

		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
			abort();
		if (!*port || strspn(port, "0123456789") != strlen(port) ||
		    strtoul(port, NULL, 10) != p)
			abort();
	}
	nl = strchr(s, '\n');
	if (nl) {
		enum vp_route r;

		const char *path = nl + 1;

		*nl = 0;
		r = vp_export_route(s, path);
		if (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8)) {
			path = strchr(strstr(path, "//") + 2, '/');
			if (!path && r != VP_ROUTE_NOT_FOUND && r != VP_ROUTE_NOT_ALLOWED)
				abort();
		}
		if ((r == VP_ROUTE_METRICS || r == VP_ROUTE_HEALTHZ) &&
		    ((strcmp(s, "GET") && strcmp(s, "HEAD")) ||
		     (strcmp(path, "/metrics") && strcmp(path, "/healthz"))))
			abort();
		*nl = '\n';
	}
	if (vp_accepts_gzip(s) && !strcasestr(s, "gzip"))
		abort();
	check_printable(s, false);
	check_printable(s, true);
	free(s);
	return 0;
}
