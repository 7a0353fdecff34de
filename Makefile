# vfiopin — observability for VFIO type1 page pinning.
#
#   make demo        boot the lab kernel and watch a scripted VM hotplug workload
#   make check       every test tier: host, kernel patches, lab
#
# Other targets: deps kernel kernel-debug vmlinux.h tools lab check-host
# check-patches check-lab bench bench-kernels fuzz docs format clean.  `make lab CMD='...'` runs a command in the lab.

SHELL := /bin/bash
BUILD := build
CC ?= cc
CFLAGS_COMMON := -std=c11 -Wall -Wextra -Werror -O2 -g
KERNEL_SH := lab/kernel.sh
LAB := lab/run.sh
# one lab test, quietly, its results printed (tests/host/lab/run-in-lab.sh NAME ...)
LAB_RUN := tests/host/lab/run-in-lab.sh

# The Debian kernel line the lab kernel is built from, with its own series in
# kernel-patch/$(KERNEL)/: 6.1 (the default) or 6.12.  make kernel KERNEL=6.12
DEFAULT_KERNEL := 6.1
KERNEL ?= $(DEFAULT_KERNEL)
export VFIOPIN_BASE := $(KERNEL)
# Every line with a series (lab/kernel.sh bases knows them), the default first.
BASES = $(DEFAULT_KERNEL) $(filter-out $(DEFAULT_KERNEL),$(shell $(KERNEL_SH) bases))
# $(call tag,LINE): "" for the default line, else -LINE.  Lab results of a
# line other than the default go to build/lab-NAME-LINE/.
tag = $(if $(filter $(DEFAULT_KERNEL),$(1)),,-$(1))
LAB_TAG := $(call tag,$(KERNEL))

.PHONY: all bin install uninstall deb deps deps-build deps-package deps-host kernel kernel-debug tools host-tests fuzz fuzz-build docs format check-format bench bench-kernels bench-top bench-self bench-export bench-events bench-overhead bench-boots bench-churn lab demo check check-host \
	check-package check-patches check-lab check-lab-core check-stock check-service check-scenarios check-debug vmlinux-h clean

all: tools

deps:
	@lab/deps.sh all

deps-build:
	@lab/deps.sh build

deps-package:
	@lab/deps.sh package

deps-host:
	@lab/deps.sh host

kernel: deps
	@$(KERNEL_SH) build lab

kernel-debug: deps
	@$(KERNEL_SH) build debug

# vmlinux.h is committed; this regenerates it from the patched kernel's BTF.
vmlinux-h: kernel
	bpftool btf dump file "$$($(KERNEL_SH) path lab)/vmlinux.btf" format c > vmlinux.h.tmp
	mv vmlinux.h.tmp vmlinux.h

tools: $(BUILD)/vfiopin-vmm bin $(BUILD)/test_mlock

# what an installation has: the tool (vfiopin-top is vfiopin top)
bin: $(BUILD)/vfiopin $(BUILD)/vfiopin-top

# --- vfiopin: BPF programs (bpf/) and the one CLI on top of them (tools/)
#
# tools/ by concern: core/ (loader, snapshot, field table, histograms,
# statistics, the shared CLI), render/ (text, JSON, Prometheus, HTTP),
# offline/ (bench files, capture's timeline), cmd/ (main and one file per
# subcommand).  Every source is compiled once per flavour into a static
# library (plain, ASan + UBSan, libFuzzer) that the binaries and tests
# link; dependency files (-MMD) rebuild what a header change touches.
# the BPF skeletons every tool source may include (bpf/: which object is what)
SKELS := $(BUILD)/vfiopin.skel.h $(BUILD)/mlock.skel.h
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror -I. -Ibpf
TOOL_DIRS := core render offline cmd
LIB_SRCS := $(filter-out tools/cmd/vfiopin.c,$(foreach d,$(TOOL_DIRS),$(wildcard tools/$(d)/*.c)))
TOOL_INC := -Ibpf $(foreach d,$(TOOL_DIRS),-Itools/$(d)) -I$(BUILD)
TOOL_CFLAGS := $(CFLAGS_COMMON) -D_GNU_SOURCE $(TOOL_INC)
TOOL_LIBS := $$(pkg-config --libs libbpf ncursesw jansson libmicrohttpd zlib yaml-0.1 gnutls libcrypt) -lpthread -lm
# The version, said once: the newest entry of debian/changelog.
VERSION := $(shell head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')
SAN := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_CFLAGS := $(TOOL_CFLAGS) -O1 $(SAN)
FUZZ_LIB_CFLAGS := $(TOOL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)

# flavour: objects directory, compiler, flags.  The plain one takes the
# caller's CPPFLAGS, CFLAGS and LDFLAGS too (a distribution's hardening).
$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/tools/cmd/vfiopin.o: TOOL_CFLAGS += -DVP_VERSION='"$(VERSION)"'
$(BUILD)/obj/tools/cmd/vfiopin.o: debian/changelog

$(BUILD)/obj-san/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj-fuzz/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	clang $(FUZZ_LIB_CFLAGS) -MMD -MP -c -o $@ $<

LIB := $(BUILD)/libvfiopin.a
LIB_SAN := $(BUILD)/libvfiopin-san.a
LIB_FUZZ := $(BUILD)/libvfiopin-fuzz.a

$(LIB): $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(LIB_SAN): $(LIB_SRCS:%.c=$(BUILD)/obj-san/%.o)
	rm -f $@ && ar rcs $@ $^

$(LIB_FUZZ): $(LIB_SRCS:%.c=$(BUILD)/obj-fuzz/%.o)
	rm -f $@ && ar rcs $@ $^

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san $(BUILD)/obj-fuzz -name '*.d' 2> /dev/null)

# BPF by concern (bpf/core.bpf.h): the core unit and each backend's entry
# points compiled apart, then linked into one object by bpftool.
BPF_UNITS := vfiopin type1 type1-fallback

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/core.bpf.h bpf/vfiopin.h vmlinux.h
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/vfiopin.bpf.o: $(BPF_UNITS:%=$(BUILD)/bpf/%.bpf.o)
	bpftool gen object $@ $^

$(BUILD)/vfiopin.skel.h: $(BUILD)/vfiopin.bpf.o
	bpftool gen skeleton $< > $@.tmp
	mv $@.tmp $@

# a process's own locking (mlock), an object apart: optional, loaded after
$(BUILD)/mlock.skel.h: $(BUILD)/bpf/mlock.bpf.o
	bpftool gen skeleton $< name mlock_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/vfiopin: $(BUILD)/obj/tools/cmd/vfiopin.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TOOL_LIBS)

$(BUILD)/vfiopin-top: $(BUILD)/vfiopin
	ln -sf vfiopin $@

# Unit tests of the userspace pieces, plain and under ASan + UBSan; the BPF
# aggregation under BPF_PROG_TEST_RUN (root).
# (tests/host/unit/: one file per part of tools/, main.c the list).
UNIT_SRCS := $(wildcard tests/host/unit/*.c)

$(BUILD)/test_unit: $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(CC) -o $@ $^ $(TOOL_LIBS) -lcmocka

$(BUILD)/test_unit-san: $(UNIT_SRCS:%.c=$(BUILD)/obj-san/%.o) $(LIB_SAN)
	$(CC) $(SAN) -o $@ $^ $(TOOL_LIBS) -lcmocka

$(BUILD)/test_bpf: $(BUILD)/obj-san/tests/host/bpf/test_bpf.o
	$(CC) $(SAN) -o $@ $^ $(TOOL_LIBS) -lcmocka

# bpf/mlock.bpf.c attached for real (the lab's kernels run it; tests/guest/modes.sh)
$(BUILD)/test_mlock: $(BUILD)/obj-san/tests/host/bpf/test_mlock.o $(LIB_SAN) | $(BUILD)/mlock_child
	$(CC) $(SAN) -o $@ $^ $(TOOL_LIBS) -lcmocka

# test_bpf's process that locks memory of its own: plain, allocating nothing
$(BUILD)/mlock_child: $(BUILD)/obj/tests/host/bpf/mlock_child.o
	$(CC) -o $@ $^

# libFuzzer targets (tests/fuzz/): every parser of outside input, under
# ASan + UBSan.  `make fuzz` runs each for FUZZ_SECONDS (default 300);
# check-host runs each for 30 s.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 300

$(BUILD)/fuzz/%: $(BUILD)/obj-fuzz/tests/fuzz/%.o $(LIB_FUZZ)
	@mkdir -p $(@D)
	clang -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(TOOL_LIBS)

# the objects of the pattern rules are kept, not deleted as intermediates
.SECONDARY:

fuzz-build: $(FUZZ_TARGETS)

fuzz: deps-host tools fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# tools/README.md's table of figures, generated from tools/core/fields.h
$(BUILD)/fields_md: $(BUILD)/obj/tools/doc/fields_md.o $(LIB)
	$(CC) -o $@ $^

docs: $(BUILD)/fields_md
	@tools/doc/update-readme.sh

host-tests: $(BUILD)/fields_md $(BUILD)/test_unit $(BUILD)/test_unit-san $(BUILD)/test_bpf \
	$(BUILD)/test_mlock \
	$(BUILD)/export_synth $(BUILD)/export_synth-san $(BUILD)/churn_synth-san $(BUILD)/bench_top \
	$(BUILD)/bench_events $(BUILD)/bench_fallback $(FUZZ_TARGETS)

# Synthetic containers for the exporter's host tests (ASan + UBSan) and the
# benchmarks (plain).
SYNTH_OBJ := $(BUILD)/obj/tests/host/bench/synth.o
SYNTH_OBJ_SAN := $(BUILD)/obj-san/tests/host/bench/synth.o

$(BUILD)/bench_top: $(BUILD)/obj/tests/host/bench/bench_top.o $(SYNTH_OBJ) $(LIB)
	$(CC) -o $@ $^ $(TOOL_LIBS)

$(BUILD)/export_synth: $(BUILD)/obj/tests/host/bench/export_synth.o $(SYNTH_OBJ) $(LIB)
	$(CC) -o $@ $^ $(TOOL_LIBS)

$(BUILD)/export_synth-san: $(BUILD)/obj-san/tests/host/bench/export_synth.o $(SYNTH_OBJ_SAN) $(LIB_SAN)
	$(CC) $(SAN) -o $@ $^ $(TOOL_LIBS)

# 500 VM lifetimes through 16 slots beside a live VM (ASan + UBSan)
$(BUILD)/churn_synth-san: $(BUILD)/obj-san/tests/host/bench/churn_synth.o $(SYNTH_OBJ_SAN) $(LIB_SAN)
	$(CC) $(SAN) -o $@ $^ $(TOOL_LIBS)

# Benchmarks (ratios and costs measured in one run, written as JSON; never
# asserted): vfiopin-top's refresh over 1,000 synthetic containers and the
# BPF cost per event on this machine; pin throughput with vfiopin attached
# vs. not in the lab, with the TSC as clocksource as on real hardware (TCG's
# default, the HPET, makes every clock read an emulated device access).
# the BPF run-time figures the host benchmarks take (tests/host/bench/bpfstats.c)
BENCH_BPF_OBJ := $(BUILD)/obj/tests/host/bench/bpfstats.o

$(BUILD)/bench_events: $(BUILD)/obj/tests/host/bench/bench_events.o $(BENCH_BPF_OBJ) $(LIB)
	$(CC) -o $@ $^ $(TOOL_LIBS)

bench-events: $(BUILD)/bench_events $(BUILD)/bench_fallback
	$(BUILD)/bench_events | tee $(BUILD)/bench-events.json
	$(BUILD)/bench_fallback | tee $(BUILD)/bench-fallback.json

# the fallback's handlers under raw_tp programs the host can run
$(BUILD)/fb_bench.bpf.o: tests/host/bench/fb_bench.bpf.c bpf/type1-fallback.bpf.c bpf/core.bpf.h \
	bpf/vfiopin.h vmlinux.h
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/fb_bench.skel.h: $(BUILD)/fb_bench.bpf.o
	bpftool gen skeleton $< name fb_bench_bpf > $@.tmp
	mv $@.tmp $@

$(BUILD)/obj/tests/host/bench/bench_fallback.o: $(BUILD)/fb_bench.skel.h

$(BUILD)/bench_fallback: $(BUILD)/obj/tests/host/bench/bench_fallback.o $(BENCH_BPF_OBJ)
	$(CC) -o $@ $^ $(TOOL_LIBS)

bench-export: $(BUILD)/export_synth
	tests/host/bench/bench-export.sh 1000 20 | tee $(BUILD)/bench-export.json

bench-top: $(BUILD)/bench_top
	$(BUILD)/bench_top 1000 50 | tee $(BUILD)/bench-top.json

# The host benchmarks of commit BASE against the work tree's, in turns,
# judged by vfiopin compare (exit 1 when something regressed); ROUNDS=N
# rounds (default 8).  make bench-self BASE=HEAD~3
bench-self: tools $(BUILD)/bench_top $(BUILD)/bench_events $(BUILD)/export_synth
	@tests/host/bench/bench-self.sh "$(BASE)"

# The benchmark suite in the lab: vfiopin bench over mdev, mixed and
# passthrough workloads, A/A pairs and an injected slowdown judged by
# vfiopin compare (build/lab-bench/bench/), then the overhead ratios.
bench: kernel tools
	@$(LAB_RUN) bench --append "tsc=reliable clocksource=tsc" -- \
		bash -c 'tests/guest/bench.sh && tests/guest/bench-overhead.sh'
	@cat $(BUILD)/lab-bench/bench/summary.json $(BUILD)/lab-bench/bench-overhead.json

# The lab kernel against the debug kernel (lockdep, KASAN, kmemleak), boots
# alternated: compare across kernels must find the debug one regressed.
bench-kernels: kernel kernel-debug tools
	@tests/host/lab/bench-kernels.sh

# 30 lab boots with the CPUs kept busy: how many end as they should
# (build/bench-boots.json); a benchmark, not part of make check.
bench-boots: kernel tools
	@tests/host/lab/bench-boots.sh | tee $(BUILD)/bench-boots.json

# 5,000 VM lifetimes past a long-lived VM under stat and export at the
# default --max-containers (build/lab-churn/); tests/guest/churn.sh.
bench-churn: kernel tools
	@$(LAB_RUN) churn -- tests/guest/churn.sh 5000

bench-overhead: kernel tools
	@$(LAB_RUN) bench$(LAB_TAG) --append "tsc=reliable clocksource=tsc" -- tests/guest/bench-overhead.sh
	@cp $(BUILD)/lab-bench$(LAB_TAG)/bench-overhead.json $(BUILD)/bench-overhead$(LAB_TAG).json && \
		cat $(BUILD)/bench-overhead$(LAB_TAG).json

# --- installation: make install [PREFIX=/usr/local] [DESTDIR=]
# The tool, its man page, the exporter's unit and defaults, the dashboards
# and alert rules, bash completion.  With PREFIX=/usr (the package) the
# unit goes where systemd's own are and the defaults to /etc; otherwise
# under PREFIX, where systemd also looks.
PREFIX ?= /usr/local
BINDIR := $(PREFIX)/bin
SYSCONFDIR := $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR := $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DATADIR := $(PREFIX)/share
INSTALL_FILES := $(BINDIR)/vfiopin $(BINDIR)/vfiopin-top $(DATADIR)/man/man8/vfiopin.8 \
	$(DATADIR)/man/man8/vfiopin-top.8 $(UNITDIR)/vfiopin-exporter.service \
	$(SYSCONFDIR)/default/vfiopin-exporter $(DATADIR)/vfiopin/grafana/vfiopin.json \
	$(DATADIR)/vfiopin/prometheus/vfiopin-rules.yml \
	$(DATADIR)/bash-completion/completions/vfiopin \
	$(DATADIR)/bash-completion/completions/vfiopin-top

install: bin
	install -d $(addprefix $(DESTDIR),$(BINDIR) $(DATADIR)/man/man8 $(UNITDIR) \
		$(SYSCONFDIR)/default $(DATADIR)/vfiopin/grafana $(DATADIR)/vfiopin/prometheus \
		$(DATADIR)/bash-completion/completions)
	install -m 0755 $(BUILD)/vfiopin $(DESTDIR)$(BINDIR)/vfiopin
	ln -sf vfiopin $(DESTDIR)$(BINDIR)/vfiopin-top
	sed '/^\.TH /s/"vfiopin"/"vfiopin $(VERSION)"/' tools/vfiopin.8 > $(DESTDIR)$(DATADIR)/man/man8/vfiopin.8
	chmod 0644 $(DESTDIR)$(DATADIR)/man/man8/vfiopin.8
	echo '.so man8/vfiopin.8' > $(DESTDIR)$(DATADIR)/man/man8/vfiopin-top.8
	sed 's|@BINDIR@|$(BINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		tools/systemd/vfiopin-exporter.service.in > $(DESTDIR)$(UNITDIR)/vfiopin-exporter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vfiopin-exporter.service
	install -m 0644 tools/systemd/vfiopin-exporter.default $(DESTDIR)$(SYSCONFDIR)/default/vfiopin-exporter
	install -m 0644 dashboards/grafana/vfiopin.json $(DESTDIR)$(DATADIR)/vfiopin/grafana/
	install -m 0644 dashboards/prometheus/vfiopin-rules.yml $(DESTDIR)$(DATADIR)/vfiopin/prometheus/
	install -m 0644 tools/completion/vfiopin.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/vfiopin
	ln -sf vfiopin $(DESTDIR)$(DATADIR)/bash-completion/completions/vfiopin-top

# what install wrote; the directories it made stay where others may share them
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	-rmdir $(addprefix $(DESTDIR),$(DATADIR)/vfiopin/grafana $(DATADIR)/vfiopin/prometheus \
		$(DATADIR)/vfiopin) 2> /dev/null

# The Debian package, built by Debian's own tools from a copy of the
# committed tree (build/deb/vfiopin_VERSION_amd64.deb), and lintian's word on it.
deb: deps-package
	@tests/host/package/build-deb.sh $(BUILD)/deb

$(BUILD)/vfiopin-vmm: lab/vmm/vmm.c | $(BUILD)
	$(CC) $(CFLAGS_COMMON) -o $@ $<

$(BUILD):
	mkdir -p $@

# make lab CMD='uname -a; ls /sys/kernel/tracing/events/vfio_type1'
lab: kernel tools
	@$(LAB) -- bash -c '$(CMD)'

demo: kernel tools
	@$(LAB) -- tests/guest/demo.sh

# Every tier runs to its end even when one before it failed; a summary of
# all of them follows, and the exit status is non-zero if any failed.
# Every kernel line (BASES): the series of each, every lab tier on the
# default line and the core ones on the others (check-lab-core), the stock
# kernel of each.  One after the other: two lab guests side by side slowed
# each other down far more than twofold on this two-CPU machine.
SUBMAKE := $(MAKE) --no-print-directory
check:
	@tests/run-tiers.sh "check-host=$(SUBMAKE) check-host" "check-package=$(SUBMAKE) check-package" \
		$(foreach b,$(BASES),"check-patches$(call tag,$(b))=$(SUBMAKE) check-patches KERNEL=$(b)") \
		"check-lab=$(SUBMAKE) check-lab KERNEL=$(DEFAULT_KERNEL)" \
		$(foreach b,$(filter-out $(DEFAULT_KERNEL),$(BASES)),"check-lab-$(b)=$(SUBMAKE) check-lab-core KERNEL=$(b)") \
		$(foreach b,$(BASES),"check-stock$(call tag,$(b))=$(SUBMAKE) check-stock STOCK=$(b)") \
		"check-service=$(SUBMAKE) check-service"

# vfiopin on Debian's own, unpatched kernel of the line STOCK (6.1 by
# default, or 6.12; the newest ABI Debian has for it: lab/stock/): starting
# before type1 is loaded, fentry and kprobe mode over the same VMs
# (modes.sh), the scenario matrix with both attached; booted with
# lockdown=confidentiality, what it says (lockdown.sh).
STOCK ?= $(DEFAULT_KERNEL)
STOCK_TAG := $(call tag,$(STOCK))
check-stock: deps tools
	@tests/run-tiers.sh "stock-start$(STOCK_TAG)=$(LAB_RUN) stock-start$(STOCK_TAG) --kernel \"\$$(lab/stock/stock.sh build $(STOCK))\" -- tests/guest/stock-start.sh" \
		"stock-modes$(STOCK_TAG)=$(LAB_RUN) stock-modes$(STOCK_TAG) --kernel \"\$$(lab/stock/stock.sh path $(STOCK))\" -- tests/guest/modes.sh" \
		"stock$(STOCK_TAG)=$(LAB_RUN) stock$(STOCK_TAG) --kernel \"\$$(lab/stock/stock.sh path $(STOCK))\" -- tests/guest/scenarios.sh" \
		"stock-lockdown$(STOCK_TAG)=$(LAB_RUN) stock-lockdown$(STOCK_TAG) --kernel \"\$$(lab/stock/stock.sh path $(STOCK))\" --append lockdown=confidentiality -- tests/guest/lockdown.sh"

# The exporter as a host runs it: Debian's stock kernel (STOCK) booted with
# systemd as the guest's init, vfiopin-exporter.service as make install
# writes it, started by systemd, scraped by this machine's Prometheus over
# TLS with basic authentication (tests/guest/service.sh).
check-service: deps tools
	@tests/host/lab/export-e2e.sh --service

# The test matrix S1-S10 (also part of check-lab).
check-scenarios: kernel tools
	@$(LAB_RUN) scenarios -- tests/guest/scenarios.sh

# The matrix on the lockdep + KASAN + kmemleak kernel (slow: see README).
check-debug: kernel-debug tools
	@$(LAB_RUN) debug --flavour debug --mem 3G -- tests/guest/debug-check.sh

# The C of bpf/, tools/, tests/ and lab/vmm/ follows .clang-format (the
# kernel patches follow the kernel's style: check-patches).
FORMAT_SRCS = $(filter-out vmlinux.h,$(shell git ls-files '*.c' '*.h' 2> /dev/null))

format:
	clang-format -i $(FORMAT_SRCS)

check-format:
	@out=$$(clang-format --dry-run $(FORMAT_SRCS) 2>&1 | \
		sed -n 's/^\([^ :][^:]*:[0-9]*\):[0-9]*: warning.*/\1/p' | sort -u); \
	if [ -n "$$out" ]; then echo "FAIL: not as .clang-format has it (make format):"; \
		echo "$$out" | head -20; exit 1; fi; \
	echo "ok: every C file follows .clang-format"

check-host: deps-host tools host-tests check-format
	@tests/host/run.sh

# The Debian package: built, lintian, installed and purged in a clean root.
check-package: deps-host
	@tests/host/package/check-package.sh

check-patches: kernel
	@lab/check-patches.sh

check-lab: kernel tools
	@tests/run-tiers.sh "hang&=tests/host/lab/hang-check.sh" \
		"smoke$(LAB_TAG)=$(LAB_RUN) smoke$(LAB_TAG) -- tests/guest/smoke.sh" \
		"top-tty=$(LAB_RUN) top-tty -- tests/guest/top-tty.sh" \
		"frontends=$(LAB_RUN) frontends -- tests/guest/frontends.sh" \
		"modes$(LAB_TAG)=$(LAB_RUN) modes$(LAB_TAG) -- tests/guest/modes.sh" \
		"capture=$(LAB_RUN) capture -- tests/guest/capture.sh" \
		"bench-check=$(LAB_RUN) bench-check -- tests/guest/bench.sh --small" \
		"export-e2e=tests/host/lab/export-e2e.sh" \
		"scenarios$(LAB_TAG)=$(LAB_RUN) scenarios$(LAB_TAG) -- tests/guest/scenarios.sh" \
		"qemu=$(LAB_RUN) qemu -- tests/guest/qemu.sh" \
		"minimum=$(LAB_RUN) minimum --edu 3 -- tests/guest/minimum.sh" \
		"churn=$(LAB_RUN) churn -- tests/guest/churn.sh 300 15 32"

# What every patched kernel line must pass (make check runs it on 6.12): the
# smoke test, the tracepoint/fentry/kprobe equality and the scenario matrix
# with vfiopin attached.
check-lab-core: kernel tools
	@tests/run-tiers.sh "smoke$(LAB_TAG)=$(LAB_RUN) smoke$(LAB_TAG) -- tests/guest/smoke.sh" \
		"modes$(LAB_TAG)=$(LAB_RUN) modes$(LAB_TAG) -- tests/guest/modes.sh" \
		"scenarios$(LAB_TAG)=$(LAB_RUN) scenarios$(LAB_TAG) -- tests/guest/scenarios.sh"

clean:
	rm -rf $(BUILD)
