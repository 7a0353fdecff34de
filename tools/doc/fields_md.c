// SPDX-License-Identifier: GPL-2.0
/*
 * The per-container figures' table (tools/core/fields.h) and the per-VM
 * one (tools/core/vm.h) as Markdown, for tools/README.md: `make docs`
 * writes them between the fields markers there, and check-host fails when
 * the README's copy is not what this prints.
 */
#include <stdio.h>
#include "fields.h"
#include "vm.h"

static void vm_table(void)
{
	printf("\nPer VM (the process owning containers; `vms` in `vfiopin.stat` and "
	       "`vfiopin.advise`, the VM rows of top and stat; Prometheus label `tgid`, its comm "
	       "and name in `vfiopin_vm_info`):\n\n");
	printf("| figure | JSON | Prometheus | unit | column | meaning |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int i = 0; i < VP_VM_FLD_MAX; i++) {
		const struct vp_vm_field *f = &vp_vm_fields[i];

		printf("| `%s` | `%s` | `vfiopin_%s` (%s) | %s | %s | %s |\n", f->member, f->json,
		       f->prom, f->counter ? "counter" : "gauge", f->unit, f->col ? f->col : "",
		       f->help);
	}
}

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
		       : f->flags & VP_FF_UU ? "with `vfio_unmap_unpin`"
					     : "yes",
		       f->help);
	}
	vm_table();
	return 0;
}
