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
FUZZ_CHECK_TIME ?= 10
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

FUZZ_SRC_fuzz_proto  := src/common/proto.c
FUZZ_SRC_fuzz_config := src/vp/config.c src/common/error.c src/common/names.c src/common/fsutil.c
FUZZ_SRC_fuzz_request := $(FUZZ_SRC_fuzz_config)
FUZZ_SRC_fuzz_names  := src/common/names.c src/devices/keymap.c
FUZZ_SRC_fuzz_evdev  := src/devices/evdev.c src/devices/keymap.c

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(FUZZ_SRC_%) $(wildcard src/*/*.h) tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(PKG_LIBS)

fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZERS))

# Each harness over its committed corpus, then for TIME seconds more. New inputs go to
# build/fuzz/corpus/NAME (the first directory), never into the committed one; a crash
# leaves its input in build/fuzz/artifacts/ and fails the run.
define fuzz_run
	@set -e; for f in $(FUZZERS); do \
		n=$${f#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus/$$n $(BUILD)/fuzz/artifacts; \
		echo "== $$f: $(1) s"; \
		$(BUILD)/fuzz/$$f -max_total_time=$(1) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/$$n- \
			$(BUILD)/fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>$(BUILD)/fuzz/$$n.log || \
			{ tail -n 60 $(BUILD)/fuzz/$$n.log; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|new_units_added)' $(BUILD)/fuzz/$$n.log | \
			tr '\n' ' '; echo; \
	done
endef

fuzz-check: fuzz-build
	$(call fuzz_run,$(FUZZ_CHECK_TIME))

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_TIME))

.PHONY: fuzz fuzz-build fuzz-check
