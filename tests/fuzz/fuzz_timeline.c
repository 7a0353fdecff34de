// SPDX-License-Identifier: GPL-2.0
/*
 * capture's perf-script parser: the input, split at newlines, fed line by
 * line into a timeline, which must hold together (every container's
 * segments in time order of their starts, phases in range) and free
 * cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

const char *argp_program_version = "vfiopin-fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vp_timeline tl = {0};
	char *buf = malloc(size + 1), *line, *save = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		vp_timeline_line(&tl, line);
	for (size_t i = 0; i < tl.n; i++)
		for (size_t k = 0; k < tl.c[i].nseg; k++)
			if (tl.c[i].seg[k].phase >= PH_NONE || tl.c[i].seg[k].events == 0)
				abort();
	vp_timeline_free(&tl);
	free(buf);
	return 0;
}
