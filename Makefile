# vfiopin — observability for VFIO type1 page pinning.
#
#   make demo        boot the lab kernel and watch a scripted VM hotplug workload
#   make check       every test tier: host, kernel patches, lab
#
# Other targets: deps kernel kernel-debug vmlinux.h tools lab check-host
# check-patches check-lab clean.  `make lab CMD='...'` runs a command in the lab.

SHELL := /bin/bash
BUILD := build
CC ?= cc
CFLAGS_COMMON := -std=c11 -Wall -Wextra -Werror -O2 -g
KERNEL_SH := lab/kernel.sh
LAB := lab/run.sh

.PHONY: all deps kernel kernel-debug tools lab demo check check-host \
	check-patches check-lab check-scenarios check-debug vmlinux-h clean

all: tools

deps:
	@lab/deps.sh

kernel: deps
	@$(KERNEL_SH) build lab

kernel-debug: deps
	@$(KERNEL_SH) build debug

# vmlinux.h is committed; this regenerates it from the patched kernel's BTF.
vmlinux-h: kernel
	bpftool btf dump file "$$($(KERNEL_SH) path lab)/vmlinux.btf" format c > vmlinux.h.tmp
	mv vmlinux.h.tmp vmlinux.h

tools: $(BUILD)/vfiopin-vmm

$(BUILD)/vfiopin-vmm: lab/vmm/vmm.c | $(BUILD)
	$(CC) $(CFLAGS_COMMON) -o $@ $<

$(BUILD):
	mkdir -p $@

# make lab CMD='uname -a; ls /sys/kernel/tracing/events/vfio_type1'
lab: kernel tools
	@$(LAB) -- bash -c '$(CMD)'

demo: kernel tools
	@$(LAB) --timeout 600 -- tests/lab/demo.sh

check: check-host check-patches check-lab

# The seed's test matrix S1-S9 (also part of check-lab).
check-scenarios: kernel tools
	@tests/lab/run-in-lab.sh scenarios -- tests/lab/scenarios.sh

# The matrix on the lockdep + KASAN + kmemleak kernel (slow: see README).
check-debug: kernel-debug tools
	@tests/lab/run-in-lab.sh debug --flavour debug --mem 3G -- tests/lab/debug-check.sh

check-host: deps tools
	@tests/host/run.sh

check-patches: kernel
	@lab/check-patches.sh

check-lab: kernel tools
	@tests/lab/hang-check.sh
	@tests/lab/run-in-lab.sh smoke -- tests/lab/smoke.sh
	@tests/lab/run-in-lab.sh scenarios -- tests/lab/scenarios.sh

clean:
	rm -rf $(BUILD)
