// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's web configuration parser (--web-config): any bytes as
 * the file.  Accepted or refused, never a crash or a leak; a refusal
 * always says where, and an accepted file's users hold bcrypt hashes and
 * its TLS block both files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "webconfig.h"

const char *argp_program_version = "vfiopin-fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vp_web_config c;
	char err[512] = "";
	/* exactly @size bytes: a read past them is ASan's to catch */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (vp_web_config_parse(buf, size, "f", &c, err, sizeof(err))) {
		for (size_t i = 0; i < c.nusers; i++)
			if (strlen(c.users[i].hash) != 60 || !c.users[i].name[0])
				abort();
		if (!c.cert_file != !c.key_file || (c.verify_client && !c.client_ca_file))
			abort();
		/* a wrong password is refused (a cheap hash only: bcrypt's cost doubles a step) */
		if (c.nusers && !strncmp(c.users[0].hash + 3, "$04$", 4) &&
		    vp_web_check_user(&c, c.users[0].name, "\x01not it"))
			abort();
		vp_web_config_free(&c);
	} else if (strncmp(err, "f:", 2)) {
		abort();
	}
	free(buf);
	return 0;
}
