/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter's TLS and basic authentication, from a web configuration
 * file in the format Prometheus's Go exporters share (exporter-toolkit):
 *
 *   tls_server_config:
 *     cert_file: /etc/vfiopin/tls.crt
 *     key_file: /etc/vfiopin/tls.key
 *     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert
 *     client_ca_file: /etc/vfiopin/ca.crt
 *   basic_auth_users:
 *     prometheus: $2y$10$...                          # bcrypt
 *
 * A file with anything else, or anything malformed, is refused whole with
 * the line it is on: nothing of a bad file is applied.
 */
#ifndef VFIOPIN_WEBCONFIG_H
#define VFIOPIN_WEBCONFIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* what one file may hold at the most */
#define VP_WEB_MAX_FILE	 (1u << 20)
#define VP_WEB_MAX_USERS 1024
#define VP_WEB_MAX_NAME	 256
/*
 * bcrypt costs tens of milliseconds in the server's one thread: failed
 * checks are held to this many a second (a burst of as many), the rest
 * refused unchecked.  A user's accepted password is kept, so a scraper
 * that got in once is never checked again and never waits behind them.
 */
#define VP_WEB_CHECKS_PER_S 4
/* the highest bcrypt cost taken: 14 is about a second a check on a server core */
#define VP_WEB_MAX_COST 14

struct vp_web_user {
	char *name;
	char *hash; /* bcrypt: $2a$, $2b$ or $2y$, 60 characters */
	char *good; /* the last password it accepted, so bcrypt runs once */
};

struct vp_web_config {
	/* as the file names them (vp_web_config_parse) */
	char *cert_file, *key_file, *client_ca_file;
	bool verify_client; /* client_auth_type RequireAndVerifyClientCert */
	struct vp_web_user *users;
	size_t nusers;
	/* their contents (vp_web_config_load): PEM, NUL-terminated */
	char *cert_pem, *key_pem, *ca_pem;
	pthread_mutex_t lock;	      /* the users' good passwords, the check budget */
	double budget, budget_at;     /* checks left, and when it was counted */
	unsigned long long unchecked; /* attempts refused unchecked, over budget */
};

/*
 * Parse a web configuration's text (@len bytes; @name for messages) into
 * @c, reading no file.  False with "NAME:LINE: what" in @err.
 */
bool vp_web_config_parse(const char *text, size_t len, const char *name, struct vp_web_config *c,
			 char *err, size_t errlen);
/* Read and parse FILE, then the files it names.  False with a message in @err. */
bool vp_web_config_load(const char *path, struct vp_web_config *c, char *err, size_t errlen);
void vp_web_config_free(struct vp_web_config *c);

/* Whether @user with @pass is one of the configuration's users. */
bool vp_web_check_user(struct vp_web_config *c, const char *user, const char *pass);

#endif
