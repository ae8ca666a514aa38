# `make check`: build everything, then run every registered suite through
# tests/run-suites.sh, which prints the closing `N passed, M failed` line.
#
# A fragment registers a suite with
#     CHECK_SUITES += NAME
#     SUITE_CMD_NAME := command that prints TAP (ok / not ok lines)
#     SUITE_DEPS_NAME := files the command needs built first
#     SUITE_TIMEOUT_NAME := seconds (optional, default 600)
# A suite that needs /dev/kvm prints `ok N - name # SKIP no /dev/kvm` where
# it is absent; skips are reported but never counted as passed.

SUITES ?= $(CHECK_SUITES)

# The harness itself, on made-up suites (summary line and exit status).
CHECK_SUITES += harness
SUITE_CMD_harness := sh tests/run-suites-test.sh
SUITE_TIMEOUT_harness := 60

check: $(DEPS_STAMP) $(ALL_TARGETS) $(foreach s,$(SUITES),$(SUITE_DEPS_$(s)))
	$(Q)B=$(B) sh tests/run-suites.sh $(foreach s,$(SUITES),'$(s)|$(or $(SUITE_TIMEOUT_$(s)),600)|$(SUITE_CMD_$(s))')
