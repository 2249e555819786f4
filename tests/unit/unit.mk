# Unit tests (cmocka), built with AddressSanitizer and UndefinedBehaviorSanitizer.
# Each tests/unit/test_X.c links the sources it names in its `UNIT_SRC_test_X` line below.
UNIT_CFLAGS := -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation \
	-Isrc -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_LIBS := $(PKG_LIBS) -lcmocka
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))

UNIT_COMMON := src/common/error.c src/common/fsutil.c src/common/names.c src/common/proto.c \
	src/common/log.c src/common/fdpass.c src/common/rmtree.c
UNIT_SRC_test_names  := $(UNIT_COMMON)
UNIT_SRC_test_fsutil := $(UNIT_COMMON)
UNIT_SRC_test_proto  := $(UNIT_COMMON)
UNIT_SRC_test_config := $(UNIT_COMMON) src/vp/config.c src/vp/config_devices.c
UNIT_SRC_test_cgroup := $(UNIT_COMMON) src/vp/cgroup.c
UNIT_SRC_test_evdev  := src/devices/evdev.c src/common/keymap.c
UNIT_SRC_test_keymap := src/common/keymap.c
UNIT_SRC_test_input_router := src/devices/input_router.c src/devices/evdev.c \
	src/common/keymap.c src/common/error.c
UNIT_SRC_test_input_source := src/devices/input_source.c
UNIT_SRC_test_sysfs_layout := src/devns/sysfs_tree.c src/devices/sysfs_format.c \
	src/devices/sysfs_layout.c src/devices/udev_db.c src/devices/evdev.c \
	src/common/keymap.c src/common/error.c
UNIT_SRC_test_vma_access := src/devns/vma_access.c
UNIT_SRC_test_budget := src/devns/budget.c
UNIT_SRC_test_fusetree := src/devns/fusetree.c src/devns/fusetree_fuse.c src/common/loop.c \
	src/common/log.c src/common/error.c
UNIT_SRC_test_vt     := src/devices/vt_state.c
UNIT_SRC_test_power  := src/devices/power_locks.c src/devices/power_policy.c
UNIT_SRC_test_wifi_req := src/devices/wifi_req.c
UNIT_SRC_test_wifi_filter := src/devices/wifi_filter.c
UNIT_SRC_test_wifi_store := src/devices/wifi_store.c src/devices/wifi_req.c src/common/error.c
UNIT_SRC_test_net    := src/devices/net_parse.c src/devices/net_rules.c src/common/error.c
UNIT_SRC_test_mincore := src/devns/mincore.c src/devns/vma_access.c
UNIT_SRC_test_statfs := src/devns/statfs.c src/devns/vma_access.c
UNIT_SRC_test_help   := src/cli/help.c
UNIT_SRC_test_viewer_proto := src/viewer/proto.c src/viewer/http.c src/common/error.c \
	src/common/names.c
UNIT_SRC_test_sysinfo := src/devns/sysinfo.c src/devns/vma_access.c
UNIT_SRC_test_ksm    := $(UNIT_COMMON) src/scale/ksm.c src/common/loop.c
UNIT_SRC_test_lmk    := $(UNIT_COMMON) src/scale/lmk.c src/vp/cgroup.c src/common/loop.c src/vp/members.c
UNIT_SRC_test_proc_views := src/vp/proc_views.c src/common/error.c
UNIT_SRC_test_members := src/vp/members.c src/common/fsutil.c src/common/error.c
UNIT_SRC_test_fds := src/common/fds.c
UNIT_SRC_test_filter := $(UNIT_COMMON) src/vp/restrict.c src/vp/argfilter.c
UNIT_SRC_test_at_cmd := src/common/at_cmd.c src/common/error.c
UNIT_SRC_test_sms_pdu := src/common/sms_pdu.c src/common/ucs2.c src/common/error.c
UNIT_SRC_test_ucs2   := src/common/ucs2.c
UNIT_SRC_test_hex    :=
UNIT_SRC_test_telephony := src/devices/telephony_at.c src/devices/telephony_number.c \
	src/devices/telephony_sim.c src/common/ucs2.c src/common/at_cmd.c src/common/error.c

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(UNIT_SRC_%)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(UNIT_SRC_$*) $(UNIT_LIBS)

unit: $(UNIT_TESTS)

unit-test: unit
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

.PHONY: unit unit-test
