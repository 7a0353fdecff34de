// SPDX-License-Identifier: GPL-2.0
/*
 * The namer's parsers of /proc.  The VM name parser: a process's command
 * line (/proc/PID/cmdline, any bytes, NUL-separated or not).  The name
 * must be NUL-terminated within VP_VM_NAME_LEN bytes, empty exactly when
 * none was found, and hold no byte of the input that was not in it; its
 * count of passthrough devices never above its "-device" arguments.  The
 * same bytes as a /proc/PID/status: VmLck and VmPeak never negative, the
 * peaks never below what was there; and as a /proc/PID/smaps start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vm.h"
#include "vmname.h"

const char *argp_program_version = "vfiopin-fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[VP_VM_NAME_LEN + 1];
	/* exactly @size bytes: a read past them is ASan's to catch */
	char *buf = malloc(size ? size : 1);
	bool found;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(out, 0x55, sizeof(out));
	found = vp_vm_name_parse(buf, size, out);
	if (strnlen(out, sizeof(out)) > VP_VM_NAME_LEN)
		abort();
	if (found != (out[0] != 0))
		abort();
	for (size_t i = 0; out[i]; i++)
		if (!memchr(buf, out[i], size))
			abort();
	/* the devices plugged at the start: never more than its "-device"s */
	{
		int n = vp_vm_cold_passthrough(buf, size), devs = 0;

		for (size_t i = 0; i + 7 <= size; i++)
			devs += !memcmp(buf + i, "-device", 7);
		if (n < 0 || n > devs)
			abort();
	}
	free(buf);

	/* as text, NUL-terminated as the namer reads it */
	char *text = malloc(size + 1);
	struct vp_proc_sample ps = {-1, 5, 7, false};

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (vp_proc_status_parse(text, &ps) && (ps.vmlck < 0 || ps.vmlck_peak < ps.vmlck))
		abort();
	if (ps.vmlck_peak < 5 || ps.vm_peak < 7)
		abort();
	(void)vp_smaps_first_locked(text);
	free(text);
	return 0;
}
