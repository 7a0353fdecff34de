// SPDX-License-Identifier: GPL-2.0
/*
 * The per-container figures' table (tools/core/fields.h) as Markdown, for
 * tools/README.md: `make docs` writes it between the fields markers there,
 * and check-host fails when the README's copy is not what this prints.
 */
#include <stdio.h>
#include "fields.h"

int main(void)
{
	printf("| figure | JSON (`vfiopin.stat`) | Prometheus | unit | column | "
	       "fentry/kprobe | meaning |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < VP_FLD_MAX; i++) {
		const struct vp_field *f = &vp_fields[i];
		const char *g = vp_field_group_names[f->group];

		printf("| `%s` | `%s%s%s` | ", f->member, g, *g ? "." : "", f->json);
		if (f->prom)
			printf("`vfiopin_%s` (%s%s)", f->prom,
			       f->type == VP_FT_COUNTER ? "counter" : "gauge",
			       f->flags & VP_FF_BYTES ? ", bytes" : "");
		else
			printf("—");
		printf(" | %s%s | %s | %s | %s |\n", f->unit,
		       f->flags & VP_FF_SIGNED ? ", signed" : "", f->col ? f->col : "",
		       f->flags & VP_FF_TP   ? "unavailable"
		       : f->flags & VP_FF_FB ? "only there"
					     : "yes",
		       f->help);
	}
	return 0;
}
