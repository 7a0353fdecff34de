// SPDX-License-Identifier: GPL-2.0
/*
 * The type1 backend's tracepoint entry points: one raw_tp program per
 * vfio_type1 tracepoint, its arguments in the order of the contract
 * (kernel-patch/README.md), each calling one handler of core.bpf.h.
 */
#include "core.bpf.h"

SEC("raw_tp/vfio_type1_container_open")
int BPF_PROG(tp_container_open, unsigned int cid, int tgid, unsigned int dmas, unsigned long pinned,
	     unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_OPEN, cid, tgid, dmas, pinned, locked);
}

SEC("raw_tp/vfio_type1_container_release")
int BPF_PROG(tp_container_release, unsigned int cid, int tgid, unsigned int dmas,
	     unsigned long pinned, unsigned long locked)
{
	return on_container(VP_EV_CONTAINER_RELEASE, cid, tgid, dmas, pinned, locked);
}

SEC("raw_tp/vfio_type1_group_attach")
int BPF_PROG(tp_group_attach, unsigned int cid, int tgid, int group, bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_ATTACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_group_detach")
int BPF_PROG(tp_group_detach, unsigned int cid, int tgid, int group, bool emulated, int ret)
{
	return on_group(VP_EV_GROUP_DETACH, cid, tgid, group, emulated, ret);
}

SEC("raw_tp/vfio_type1_account")
int BPF_PROG(tp_account, unsigned int cid, int tgid, long delta, unsigned long locked_vm,
	     unsigned long limit, bool lock_cap, bool async, int ret)
{
	return on_account(cid, tgid, delta, locked_vm, limit, lock_cap, async, ret);
}

SEC("raw_tp/vfio_type1_pin_begin")
int BPF_PROG(tp_pin_begin, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret)
{
	return on_pin_begin(VP_EV_PIN_BEGIN, cid, tgid, iova, npage, prot, false);
}

SEC("raw_tp/vfio_type1_unpin_begin")
int BPF_PROG(tp_unpin_begin, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret)
{
	return on_pin_begin(VP_EV_UNPIN_BEGIN, cid, tgid, iova, npage, prot, false);
}

/* An end: the duration since its begin, measured by the kernel (0: not measured). */
SEC("raw_tp/vfio_type1_pin_end")
int BPF_PROG(tp_pin_end, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret,
	     u64 duration_ns)
{
	return on_pin_end(VP_EV_PIN_END, cid, tgid, iova, npage, prot, ret, duration_ns);
}

SEC("raw_tp/vfio_type1_unpin_end")
int BPF_PROG(tp_unpin_end, unsigned int cid, int tgid, u64 iova, int npage, int prot, int ret,
	     u64 duration_ns)
{
	return on_pin_end(VP_EV_UNPIN_END, cid, tgid, iova, npage, prot, ret, duration_ns);
}

SEC("raw_tp/vfio_type1_pin_page")
int BPF_PROG(tp_pin_page, unsigned int cid, int tgid, u64 iova, unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_PIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_unpin_page")
int BPF_PROG(tp_unpin_page, unsigned int cid, int tgid, u64 iova, unsigned int ref_count, bool edge)
{
	return on_page(VP_EV_UNPIN_PAGE, cid, tgid, iova, ref_count, edge);
}

SEC("raw_tp/vfio_type1_dma_map_begin")
int BPF_PROG(tp_dma_map_begin, unsigned int cid, int tgid, u64 iova, u64 size, bool pin, int ret)
{
	on_map(VP_EV_DMA_MAP_BEGIN, cid, tgid, iova, size, pin, 0, ret);
	return 0;
}

SEC("raw_tp/vfio_type1_dma_map_end")
int BPF_PROG(tp_dma_map_end, unsigned int cid, int tgid, u64 iova, u64 size, bool pin, int ret)
{
	on_map(VP_EV_DMA_MAP_END, cid, tgid, iova, size, pin, pin ? size >> VP_PAGE_SHIFT : 0, ret);
	return 0;
}

SEC("raw_tp/vfio_type1_dma_unmap")
int BPF_PROG(tp_dma_unmap, unsigned int cid, int tgid, u64 iova, u64 size, long unpinned,
	     bool accounted)
{
	return on_dma_unmap(cid, tgid, iova, size, unpinned, accounted);
}

SEC("raw_tp/vfio_type1_dma_remove")
int BPF_PROG(tp_dma_remove, unsigned int cid, int tgid, u64 iova, u64 size, unsigned long leaked)
{
	return on_dma_remove(cid, tgid, iova, size, leaked);
}

SEC("raw_tp/vfio_type1_replay_begin")
int BPF_PROG(tp_replay_begin, unsigned int cid, int tgid, unsigned int dmas,
	     unsigned long pin_pages, unsigned long map_pages)
{
	return on_replay_begin(cid, tgid, dmas, pin_pages, map_pages);
}

SEC("raw_tp/vfio_type1_replay_end")
int BPF_PROG(tp_replay_end, unsigned int cid, int tgid, int ret)
{
	return on_replay_end(cid, tgid, ret);
}

SEC("raw_tp/vfio_type1_reaccount")
int BPF_PROG(tp_reaccount, unsigned int cid, int tgid, u64 iova, u64 size, long unpinned,
	     long locked)
{
	return on_reaccount(cid, tgid, iova, size, unpinned, locked);
}

SEC("raw_tp/vfio_type1_invalidate_begin")
int BPF_PROG(tp_invalidate_begin, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_BEGIN, cid, tgid, iova, size, pinned, devices, retry);
}

SEC("raw_tp/vfio_type1_invalidate_end")
int BPF_PROG(tp_invalidate_end, unsigned int cid, int tgid, u64 iova, u64 size,
	     unsigned long pinned, unsigned int devices, int retry)
{
	return on_invalidate(VP_EV_INVALIDATE_END, cid, tgid, iova, size, pinned, devices, retry);
}
