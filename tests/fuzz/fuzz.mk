# libFuzzer harnesses (clang), one per parser of untrusted input: see tests/fuzz/README.
# Every tests/fuzz/fuzz_NAME.c is found by the wildcard and links the sources its
# `FUZZ_SRC_fuzz_NAME` line below names: adding a harness is adding its file, its corpus
# (tests/fuzz/corpus/NAME/) and that line.
FUZZ_CC     := clang
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror -Wvla \
	-Wmissing-prototypes -Wno-unused-parameter -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TIME   ?= 300
# What `make check` gives each harness after its corpus.
FUZZ_CHECK_TIME ?= 5
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

FUZZ_SRC_fuzz_proto  := src/common/proto.c
FUZZ_SRC_fuzz_config := src/vp/config.c src/vp/config_devices.c src/common/error.c src/common/names.c src/common/fsutil.c
FUZZ_SRC_fuzz_request := $(FUZZ_SRC_fuzz_config)
FUZZ_SRC_fuzz_names  := src/common/names.c src/common/keymap.c
FUZZ_SRC_fuzz_evdev  := src/devices/evdev.c src/common/keymap.c
FUZZ_SRC_fuzz_input_router := src/devices/input_router.c src/devices/evdev.c \
	src/common/keymap.c src/common/error.c
FUZZ_SRC_fuzz_http   := src/viewer/http.c
FUZZ_SRC_fuzz_viewer_proto := src/viewer/proto.c src/common/error.c src/common/names.c
# The device file itself is included by the harness (its handler is static): a
# `FUZZ_INC_fuzz_NAME` line makes a change to it rebuild the harness.
FUZZ_SRC_fuzz_fbdev  := src/common/log.c src/common/error.c src/common/fsutil.c
FUZZ_INC_fuzz_fbdev  := src/devices/display.c
# The tree's FUSE side is included by the harness too; libfuse is given the harness's I/O.
FUZZ_SRC_fuzz_fusetree := src/devns/fusetree.c src/common/log.c src/common/loop.c \
	src/common/error.c
FUZZ_INC_fuzz_fusetree := src/devns/fusetree_fuse.c
FUZZ_SRC_fuzz_vt     := src/devices/vt_state.c
FUZZ_SRC_fuzz_power  := src/devices/power_locks.c src/devices/power_policy.c
FUZZ_SRC_fuzz_wifi_req := src/devices/wifi_req.c src/devices/wifi_store.c src/common/error.c
FUZZ_SRC_fuzz_net    := src/devices/net_parse.c src/common/error.c
FUZZ_SRC_fuzz_at_cmd := src/common/at_cmd.c src/common/error.c
FUZZ_SRC_fuzz_sms_pdu := src/common/sms_pdu.c src/common/ucs2.c src/common/error.c
FUZZ_SRC_fuzz_telephony_at := src/devices/telephony_at.c src/common/at_cmd.c src/common/ucs2.c \
	src/common/error.c
FUZZ_SRC_fuzz_ucs2   := src/common/ucs2.c

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(FUZZ_SRC_%) $$(FUZZ_INC_%) $(wildcard src/*/*.h tests/fuzz/*.h) \
		tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS)

fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))

# Each harness over its committed corpus, then for TIME seconds more, one per CPU at a
# time. New inputs go to build/fuzz/corpus/NAME (the first directory), never into the
# committed one; a crash leaves its input in build/fuzz/artifacts/ and fails the run.
FUZZ_RUN = $(BUILD)/fuzz/$(1) -max_total_time=$(2) -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/$(1:fuzz_%=%)- \
	$(BUILD)/fuzz/corpus/$(1:fuzz_%=%) tests/fuzz/corpus/$(1:fuzz_%=%)

fuzz-run-%: $(BUILD)/fuzz/%
	@mkdir -p $(BUILD)/fuzz/corpus/$(*:fuzz_%=%) $(BUILD)/fuzz/artifacts
	@$(call FUZZ_RUN,$*,$(FUZZ_SECONDS)) >$(BUILD)/fuzz/$*.log 2>&1 || \
		{ tail -n 60 $(BUILD)/fuzz/$*.log; echo "== $*: FAILED (log: $(BUILD)/fuzz/$*.log)"; exit 1; }
	@echo "== $*: $(FUZZ_SECONDS) s after the corpus:" \
		$$(sed -n 's/^stat::\(number_of_executed_units\|new_units_added\): *\([0-9]*\)/\1 \2/p' \
		$(BUILD)/fuzz/$*.log | tr '\n' ' ')

fuzz-check: fuzz-build
	@$(MAKE) -s -j$$(nproc) FUZZ_SECONDS=$(FUZZ_CHECK_TIME) $(addprefix fuzz-run-,$(FUZZERS))

fuzz: fuzz-build
	@$(MAKE) -s -j$$(nproc) FUZZ_SECONDS=$(FUZZ_TIME) $(addprefix fuzz-run-,$(FUZZERS))

.PHONY: fuzz fuzz-build fuzz-check
