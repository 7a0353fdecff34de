// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers more than one unit test file uses.
 */
#include "unit.h"

/* What the BPF side does with one value. */
void hist_put(struct vp_hist *h, __u64 v)
{
	int s = vp_lat_slot(v);

	if (!h->count || (__u32)s < h->lo)
		h->lo = s;
	if ((__u32)s > h->hi)
		h->hi = s;
	h->slots[s]++;
	h->count++;
	h->sum += v;
}

struct vp_container mk(__u32 cid, __u64 locked, __u64 limit)
{
	struct vp_container c;

	memset(&c, 0, sizeof(c));
	c.cid = cid;
	c.tgid = 1000 + cid;
	memcpy(c.comm, "qemu-vm", 8);
	c.locked_vm = locked;
	c.charged = locked; /* alone in its process: its own charge is the process's */
	c.limit = limit;
	c.flags = VP_F_SEEN_OPEN | VP_F_LIMIT_KNOWN;
	return c;
}

json_t *roundtrip(json_t *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t err;
	json_t *back;

	assert_int_equal(vp_json_print(f, j), 0);
	fclose(f);
	/* one line */
	assert_non_null(strchr(buf, '\n'));
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	back = json_loads(buf, 0, &err);
	assert_non_null(back);
	free(buf);
	json_decref(j);
	return back;
}

/* A container of VM @tgid for the per-VM view. */
struct vp_container vmc(__u32 cid, __u32 tgid, bool iommu, __s64 charged, __u64 peak)
{
	struct vp_container c = mk(cid, 0, 1ULL << 30);

	c.tgid = tgid;
	c.charged = (__u64)charged;
	c.charged_peak = peak;
	c.locked_vm = 0;
	if (iommu)
		c.flags |= VP_F_IOMMU;
	return c;
}
