// SPDX-License-Identifier: GPL-2.0
/*
 * vfiopin's BPF object: this unit defines the globals bpf/core.bpf.h
 * declares; the backends' entry points are in their own units, linked
 * with this one by bpftool gen object (see core.bpf.h).
 */
#define VP_DEFINE
#include "core.bpf.h"

char LICENSE[] SEC("license") = "GPL";
