# Vessel: one non-recursive build. `make help` lists the targets.
#
# Each component adds its objects, binaries, Debian packages and test suites
# in its own fragment under mk/; this file only ties them together.

.DEFAULT_GOAL := all

include mk/config.mk
include mk/deps.mk
include mk/ebpf.mk
include mk/vmm.mk
include mk/migrate.mk
include mk/blk.mk
include mk/guest.mk
include mk/user.mk
include mk/sptmodel.mk
include mk/user32.mk
include mk/lookahead.mk
include mk/tlb.mk
include mk/monitor.mk
include mk/pti.mk
include mk/tests.mk
include mk/bench.mk

.PHONY: all run run-qemu check bench clean help format

all: $(ALL_TARGETS)

help:
	@echo "make            build everything (VMM, kernel, user programs, tools)"
	@echo "make vmm | guest | user | ebpf | migrate   build one component"
	@echo "make run        boot the bundled kernel in the Vessel VMM, console on this terminal"
	@echo "                (RUN_ARGS='--cmdline selftest' adds vessel run options)"
	@echo "make run-qemu   boot the same kernel under QEMU TCG (Multiboot)"
	@echo "                (CMDLINE='selftest' sets the kernel command line)"
	@echo "make check      build everything and run every test suite"
	@echo "make check SUITES='a b'   run only the named suites ($(CHECK_SUITES))"
	@echo "make bench      run the benchmarks (compare on/off or ours/baseline)"
	@echo "make bench BENCH='a b'    run only the named benchmarks ($(BENCHES))"
	@echo "make format     reformat the sources with clang-format"
	@echo "make clean      remove $(B)/"
	@echo "V=1 shows the full commands"

clean:
	rm -rf $(B)

format:
	@command -v clang-format >/dev/null || { echo "make format needs clang-format:" \
		"apt-get install -y clang-format" >&2; exit 1; }
	clang-format -i $$(git ls-files '*.c' '*.h')

-include $(shell find $(B) -name '*.d' 2>/dev/null)
