// SPDX-License-Identifier: GPL-2.0
/* The web configuration file (webconfig.h): libyaml's document, then crypt(3). */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include "webconfig.h"

struct ctx {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
};

static bool bad(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(x->err, x->errlen, "%s:%zu: %s", x->name, (size_t)n->start_mark.line + 1,
			 what);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->name, what);
	return false;
}

/* A scalar's text, NUL-free, at most @max bytes; NULL (said) otherwise. */
static const char *scalar(struct ctx *x, const yaml_node_t *n, const char *key, size_t max)
{
	if (n->type != YAML_SCALAR_NODE)
		return bad(x, n, "%s takes a string", key), NULL;
	if (!n->data.scalar.length)
		return bad(x, n, "%s is empty", key), NULL;
	if (n->data.scalar.length > max)
		return bad(x, n, "%s is longer than %zu bytes", key, max), NULL;
	if (memchr(n->data.scalar.value, 0, n->data.scalar.length))
		return bad(x, n, "%s holds a NUL byte", key), NULL;
	return (const char *)n->data.scalar.value;
}

static bool set_str(struct ctx *x, char **dst, const yaml_node_t *n, const char *key)
{
	const char *s = scalar(x, n, key, 4096);

	if (!s)
		return false;
	if (*dst)
		return bad(x, n, "a second %s", key);
	*dst = strdup(s);
	return *dst ? true : bad(x, n, "out of memory");
}

/* The pairs of a mapping node, each key a string. */
#define FOR_PAIRS(x, map, k, v)                                                                    \
	for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;                               \
	     p_ < (map)->data.mapping.pairs.top &&                                                 \
	     ((k) = yaml_document_get_node((x)->doc, p_->key)) &&                                  \
	     ((v) = yaml_document_get_node((x)->doc, p_->value));                                  \
	     p_++)

static bool key_of(struct ctx *x, const yaml_node_t *k, const char **name)
{
	*name = scalar(x, k, "a key", 64);
	return *name != NULL;
}

/* tls_server_config (@at its key, for what concerns the whole block) */
static bool parse_tls(struct ctx *x, const yaml_node_t *at, const yaml_node_t *m,
		      struct vp_web_config *c)
{
	const yaml_node_t *k, *v;
	const char *key, *auth = NULL;

	if (m->type != YAML_MAPPING_NODE)
		return bad(x, m, "tls_server_config takes a mapping");
	FOR_PAIRS(x, m, k, v)
	{
		if (!key_of(x, k, &key))
			return false;
		if (!strcmp(key, "cert_file")) {
			if (!set_str(x, &c->cert_file, v, key))
				return false;
		} else if (!strcmp(key, "key_file")) {
			if (!set_str(x, &c->key_file, v, key))
				return false;
		} else if (!strcmp(key, "client_ca_file")) {
			if (!set_str(x, &c->client_ca_file, v, key))
				return false;
		} else if (!strcmp(key, "client_auth_type")) {
			if (auth)
				return bad(x, k, "a second client_auth_type");
			auth = scalar(x, v, key, 64);
			if (!auth)
				return false;
			if (!strcmp(auth, "RequireAndVerifyClientCert"))
				c->verify_client = true;
			else if (strcmp(auth, "NoClientCert"))
				return bad(
				    x, v,
				    "client_auth_type '%.64s': vfiopin knows NoClientCert and "
				    "RequireAndVerifyClientCert",
				    auth);
		} else if (!strcmp(key, "min_version") || !strcmp(key, "max_version") ||
			   !strcmp(key, "cipher_suites") || !strcmp(key, "curve_preferences") ||
			   !strcmp(key, "prefer_server_cipher_suites")) {
			return bad(x, k, "%s is not supported by vfiopin (GnuTLS's defaults apply)",
				   key);
		} else {
			return bad(x, k, "unknown key '%.64s' in tls_server_config", key);
		}
	}
	if (!c->cert_file || !c->key_file)
		return bad(x, at, "tls_server_config needs both cert_file and key_file");
	if (c->verify_client != (c->client_ca_file != NULL))
		return bad(x, at,
			   c->verify_client ? "RequireAndVerifyClientCert needs client_ca_file"
					    : "client_ca_file needs client_auth_type "
					      "RequireAndVerifyClientCert");
	return true;
}

static bool is_bcrypt(const char *h)
{
	static const char b64[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || !h[2] ||
	    h[3] != '$' || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	/* bcrypt's costs 4 to 31; above VP_WEB_MAX_COST a check takes seconds */
	if ((h[4] - '0') * 10 + (h[5] - '0') < 4 ||
	    (h[4] - '0') * 10 + (h[5] - '0') > VP_WEB_MAX_COST)
		return false;
	return strspn(h + 7, b64) == 53;
}

static bool parse_users(struct ctx *x, const yaml_node_t *m, struct vp_web_config *c)
{
	const yaml_node_t *k, *v;
	size_t n;

	if (m->type != YAML_MAPPING_NODE)
		return bad(x, m, "basic_auth_users takes a mapping of user: bcrypt hash");
	if (c->users)
		return bad(x, m, "a second basic_auth_users");
	n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	if (n > VP_WEB_MAX_USERS)
		return bad(x, m, "more than %u users", VP_WEB_MAX_USERS);
	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		return bad(x, m, "out of memory");
	FOR_PAIRS(x, m, k, v)
	{
		const char *user = scalar(x, k, "a user name", VP_WEB_MAX_NAME), *hash;

		if (!user)
			return false;
		if (strchr(user, ':'))
			return bad(x, k,
				   "a user name with ':' cannot be sent in basic authentication");
		for (size_t i = 0; i < c->nusers; i++)
			if (!strcmp(c->users[i].name, user))
				return bad(x, k, "user '%.64s' twice", user);
		hash = scalar(x, v, "a password hash", 128);
		if (!hash)
			return false;
		if (!is_bcrypt(hash))
			return bad(x, v,
				   "the hash of user '%.64s' is not bcrypt ($2y$NN$ and 53 more, a "
				   "cost NN of 04 to %d)",
				   user, VP_WEB_MAX_COST);
		c->users[c->nusers].name = strdup(user);
		c->users[c->nusers].hash = strdup(hash);
		if (!c->users[c->nusers].name || !c->users[c->nusers].hash) {
			free(c->users[c->nusers].name);
			free(c->users[c->nusers].hash);
			return bad(x, k, "out of memory");
		}
		c->nusers++;
	}
	return true;
}

static bool parse_root(struct ctx *x, const yaml_node_t *root, struct vp_web_config *c)
{
	const yaml_node_t *k, *v;
	const char *key;
	bool tls = false;

	/* an empty file: plain HTTP, no authentication, as without one */
	if (!root)
		return true;
	if (root->type != YAML_MAPPING_NODE)
		return bad(x, root, "the file is not a mapping of settings");
	FOR_PAIRS(x, root, k, v)
	{
		if (!key_of(x, k, &key))
			return false;
		if (!strcmp(key, "tls_server_config")) {
			if (tls)
				return bad(x, k, "a second tls_server_config");
			tls = true;
			if (!parse_tls(x, k, v, c))
				return false;
		} else if (!strcmp(key, "basic_auth_users")) {
			if (!parse_users(x, v, c))
				return false;
		} else if (!strcmp(key, "http_server_config")) {
			return bad(x, k, "http_server_config is not supported by vfiopin");
		} else {
			return bad(x, k, "unknown key '%.64s'", key);
		}
	}
	return true;
}

bool vp_web_config_parse(const char *text, size_t len, const char *name, struct vp_web_config *c,
			 char *err, size_t errlen)
{
	struct ctx x = {.name = name, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	yaml_document_t doc, more;
	bool ok;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	if (len > VP_WEB_MAX_FILE)
		return bad(&x, NULL, "larger than %u bytes", VP_WEB_MAX_FILE);
	if (!yaml_parser_initialize(&parser))
		return bad(&x, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu: %s", name, (size_t)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return false;
	}
	x.doc = &doc;
	ok = parse_root(&x, yaml_document_get_root_node(&doc), c);
	if (ok) {
		/* one document: what follows a second "---" would be ignored */
		if (!yaml_parser_load(&parser, &more)) {
			snprintf(err, errlen, "%s:%zu: %s", name,
				 (size_t)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "not YAML");
			ok = false;
		} else {
			if (yaml_document_get_root_node(&more))
				ok = bad(&x, yaml_document_get_root_node(&more),
					 "a second YAML document");
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!ok)
		vp_web_config_free(c);
	return ok;
}

/* A whole file of at most VP_WEB_MAX_FILE bytes, NUL-terminated, NUL-free. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)VP_WEB_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file");
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = 0;
	if (memchr(buf, 0, got)) {
		snprintf(err, errlen, "%s: holds a NUL byte", path);
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

/* The contents of the PEM file setting @key names, said when it holds no @what. */
static char *pem(const char *conf, const char *key, const char *path, const char *what, char *err,
		 size_t errlen)
{
	char why[400];
	size_t len;
	char *s = slurp(path, &len, why, sizeof(why));

	if (s && !strstr(s, what)) {
		snprintf(why, sizeof(why), "%s: no '%s' in it (a PEM file is needed)", path, what);
		free(s);
		s = NULL;
	}
	if (!s)
		snprintf(err, errlen, "%s: %s %s", conf, key, why);
	return s;
}

bool vp_web_config_load(const char *path, struct vp_web_config *c, char *err, size_t errlen)
{
	size_t len;
	char *text = slurp(path, &len, err, errlen);
	bool ok;

	memset(c, 0, sizeof(*c));
	if (!text)
		return false;
	ok = vp_web_config_parse(text, len, path, c, err, errlen);
	free(text);
	if (!ok)
		return false;
	if (c->cert_file) {
		c->cert_pem =
		    pem(path, "cert_file", c->cert_file, "-----BEGIN CERTIFICATE", err, errlen);
		c->key_pem = c->cert_pem ? pem(path, "key_file", c->key_file, "PRIVATE KEY-----",
					       err, errlen)
					 : NULL;
		if (!c->key_pem) {
			vp_web_config_free(c);
			return false;
		}
	}
	if (c->client_ca_file) {
		c->ca_pem = pem(path, "client_ca_file", c->client_ca_file, "-----BEGIN CERTIFICATE",
				err, errlen);
		if (!c->ca_pem) {
			vp_web_config_free(c);
			return false;
		}
	}
	return true;
}

void vp_web_config_free(struct vp_web_config *c)
{
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
		if (c->users[i].good)
			explicit_bzero(c->users[i].good, strlen(c->users[i].good));
		free(c->users[i].good);
	}
	free(c->users);
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->ca_pem);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

/* Equal strings, in a time that does not depend on where they differ. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

bool vp_web_check_user(struct vp_web_config *c, const char *user, const char *pass)
{
	struct crypt_data *cd;
	struct vp_web_user *u = NULL;
	struct timespec ts;
	const char *h;
	bool ok, spent = false;
	double now;

	for (size_t i = 0; i < c->nusers; i++)
		if (same(c->users[i].name, user))
			u = &c->users[i];
	if (!u || !pass)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_lock(&c->lock);
	ok = u->good && same(u->good, pass);
	if (!ok) {
		/* the budget of bcrypt checks refills VP_WEB_CHECKS_PER_S a second */
		c->budget += (now - c->budget_at) * VP_WEB_CHECKS_PER_S;
		if (c->budget > VP_WEB_CHECKS_PER_S || c->budget_at == 0)
			c->budget = VP_WEB_CHECKS_PER_S;
		c->budget_at = now;
		spent = c->budget >= 1;
		if (spent)
			c->budget -= 1;
		else
			c->unchecked++;
	}
	pthread_mutex_unlock(&c->lock);
	if (ok)
		return true;
	if (!spent)
		return false;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	h = crypt_r(pass, u->hash, cd);
	ok = h && h[0] == '$' && same(h, u->hash);
	free(cd);
	if (ok) {
		char *g = strdup(pass);

		pthread_mutex_lock(&c->lock);
		if (g) {
			if (u->good)
				explicit_bzero(u->good, strlen(u->good));
			free(u->good);
			u->good = g;
		}
		pthread_mutex_unlock(&c->lock);
	}
	return ok;
}
