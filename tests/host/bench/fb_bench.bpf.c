// SPDX-License-Identifier: GPL-2.0
/*
 * The fallback's handlers (bpf/type1-fallback.bpf.c, compiled in whole,
 * its fentry and kprobe programs never loaded) under raw_tp programs that
 * BPF_PROG_TEST_RUN can run on a kernel without VFIO (bench_fallback.c):
 * one vendor driver's vfio_pin_pages or vfio_unpin_pages call, its entry
 * handler and its exit handler back to back; and the per-page record
 * alone (fb_page over a call's pages), the part the exit handler gained
 * when it began to rebuild per-page pins.
 */
#define VP_DEFINE
#include "type1-fallback.bpf.c"

SEC("raw_tp/vfiopin_bench")
int BPF_PROG(bench_pin, __u64 iommu, __u64 iova, __s32 npage)
{
	fb_pin_entry(FB_PIN, (void *)iommu, iova, npage, 3);
	return fb_pin_exit(FB_PIN, npage);
}

SEC("raw_tp/vfiopin_bench")
int BPF_PROG(bench_unpin, __u64 iommu, __u64 iova, __s32 npage)
{
	fb_pin_entry(FB_UNPIN, (void *)iommu, iova, npage, 0);
	return fb_pin_exit(FB_UNPIN, 0);
}

SEC("raw_tp/vfiopin_bench")
int BPF_PROG(bench_pages, __u64 iommu, __u64 iova, __s32 npage, bool pin)
{
	struct fb_pages x = {
	    .cid = fb_cid((void *)iommu), .tgid = fb_tgid(), .iova = iova, .pin = pin};

	bpf_loop(npage > 0 && npage <= FB_MAX_PIN_PAGES ? npage : 0, fb_page, &x, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
