# Cells: several isolated virtual phones on one kernel.
# `make` builds build/{cellsd,cell,cell-init,apps/*,images/*}; `make demo` and `make check`
# do the whole set-up on a fresh Debian machine.

CC       ?= gcc
BUILD    := build
VERSION  := 0.1.0
CFLAGS   ?= -O2 -g
CFLAGS   += -pthread -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -Wmissing-prototypes -Wvla -Isrc \
	    -DCELLS_VERSION='"$(VERSION)"'
# Hardening of every binary we ship (checked by scripts/hardening-check): fortified libc
# calls (which need -O), stack canaries and clash probes, CET, position independence and
# full RELRO. The static programs are static-pie, so they get ASLR and RELRO too.
FORTIFY  := $(if $(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
HARDEN_CFLAGS  := $(FORTIFY) -fstack-protector-strong -fstack-clash-protection -fcf-protection \
	-fPIE
HARDEN_LDFLAGS := -Wl,-z,relro,-z,now -Wl,-z,noexecstack
PKGS     := jansson libseccomp libpng libvncserver fuse3 libnl-route-3.0 libnl-nf-3.0 libnftables
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libwpa-client (Debian libwpa-client-dev) ships a static library and no pkg-config file.
WPA_LIBS   := $(or $(shell pkg-config --libs libwpa_client 2>/dev/null),-lwpa_client)

COMMON_SRC := $(wildcard src/common/*.c)
CELLSD_SRC := $(wildcard src/cellsd/*.c src/vp/*.c src/scale/*.c src/devns/*.c src/devices/*.c src/sinks/*.c) \
	      src/viewer/proto.c
VIEWER_SRC := $(filter-out src/viewer/proto.c,$(wildcard src/viewer/*.c)) src/viewer/proto.c \
	      src/common/log.c src/common/error.c src/common/names.c
CLI_SRC    := $(wildcard src/cli/*.c)
APPS_SRC   := $(wildcard apps/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

BINS := $(BUILD)/cellsd $(BUILD)/cell $(BUILD)/cell-init $(BUILD)/cells-viewer $(BUILD)/cells-modemsim \
	$(patsubst apps/%.c,$(BUILD)/apps/%,$(APPS_SRC))

all: $(BINS) images

$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/cellsd: $(call obj,$(CELLSD_SRC) $(COMMON_SRC))
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -pie $(HARDEN_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(WPA_LIBS)

# cellsd with AddressSanitizer and UndefinedBehaviorSanitizer (any report aborts it), for
# `make check` to run integration tests against: what VPs do must not corrupt the daemon.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# One object per source, as the plain build, so that `make -j` builds it on every CPU.
asan_obj = $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(1))
$(BUILD)/asan/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/asan/cellsd: $(call asan_obj,$(CELLSD_SRC) $(COMMON_SRC))
	$(CC) $(filter-out -O2,$(CFLAGS)) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(WPA_LIBS)

asan: $(BUILD)/asan/cellsd

# The viewer: VNC and the web page without root (src/viewer/); it links nothing of the
# daemon's but the protocol and the logging.
$(BUILD)/cells-viewer: $(call obj,$(VIEWER_SRC))
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -pie $(HARDEN_LDFLAGS) -o $@ $^ \
		$(shell pkg-config --libs libvncserver libseccomp 2>/dev/null)

# The modem simulator (src/modemsim/, docs/TELEPHONY.md): tests and the demo run it; it links
# the AT parser and the PDU codec it shares with the telephony device, and jansson.
MODEMSIM_SRC := $(wildcard src/modemsim/*.c) src/common/at_cmd.c src/common/sms_pdu.c \
	src/common/ucs2.c src/common/error.c src/common/log.c
$(BUILD)/cells-modemsim: $(call obj,$(MODEMSIM_SRC))
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -pie $(HARDEN_LDFLAGS) -o $@ $^ \
		$(shell pkg-config --libs jansson 2>/dev/null)

# Static too: `cell` is on the way of every command (`cell start` is timed against
# bubblewrap), and loading and relocating libc and jansson took some 2 ms of each run.
$(BUILD)/cell: $(call obj,$(CLI_SRC) $(COMMON_SRC))
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -static-pie $(HARDEN_LDFLAGS) -o $@ $^ \
		$(shell pkg-config --static --libs jansson 2>/dev/null)

# Programs that run inside VPs link nothing of the root side and are static, so they
# run in any image (busybox, Debian, Alpine).
$(BUILD)/cell-init: src/init/cell-init.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -static-pie $(HARDEN_LDFLAGS) -o $@ $<

$(BUILD)/apps/%: apps/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -static-pie $(HARDEN_LDFLAGS) -o $@ $<

# Image recipes travel with the binaries: cellsd runs build/images/NAME/build.
images: $(patsubst %,$(BUILD)/%,$(wildcard images/*/*))
$(BUILD)/images/%: images/%
	@mkdir -p $(dir $@)
	cp -p $< $@

# Man pages, from docs/man/*.scd; `make all` builds them only where scdoc is installed.
SCDOC := $(shell command -v scdoc 2>/dev/null)
MANS  := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(wildcard docs/man/*.scd))
$(BUILD)/man/%: docs/man/%.scd Makefile
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< | scdoc >$@.tmp && mv $@.tmp $@
man: $(MANS)
all: $(if $(SCDOC),man)

# `make install [PREFIX=/usr/local] [DESTDIR=]`: cellsd finds PREFIX/lib/cells by itself.
PREFIX  ?= /usr/local
LIBDIR  := $(PREFIX)/lib/cells
MANDIR  := $(PREFIX)/share/man
COMPDIR := $(PREFIX)/share/bash-completion/completions
UNITDIR := $(PREFIX)/lib/systemd/system
APPS    := $(patsubst apps/%.c,apps/%,$(APPS_SRC))
RECIPES := $(wildcard images/*/*)
INSTALLED := $(PREFIX)/bin/cell $(PREFIX)/sbin/cellsd $(LIBDIR)/cell-init $(LIBDIR)/cells-viewer \
	$(LIBDIR)/cells-modemsim \
	$(addprefix $(LIBDIR)/,$(APPS) $(RECIPES)) $(COMPDIR)/cell $(UNITDIR)/cellsd.service \
	$(patsubst $(BUILD)/man/%,$(MANDIR)/man1/%,$(filter %.1,$(MANS))) \
	$(patsubst $(BUILD)/man/%,$(MANDIR)/man8/%,$(filter %.8,$(MANS)))

install: all
	install -D -m 0755 $(BUILD)/cell $(DESTDIR)$(PREFIX)/bin/cell
	install -D -m 0755 $(BUILD)/cellsd $(DESTDIR)$(PREFIX)/sbin/cellsd
	install -D -m 0755 $(BUILD)/cell-init $(DESTDIR)$(LIBDIR)/cell-init
	install -D -m 0755 $(BUILD)/cells-viewer $(DESTDIR)$(LIBDIR)/cells-viewer
	install -D -m 0755 $(BUILD)/cells-modemsim $(DESTDIR)$(LIBDIR)/cells-modemsim
	for f in $(APPS) $(RECIPES); do \
		install -D -m "$$(stat -c %a $(BUILD)/$$f)" $(BUILD)/$$f $(DESTDIR)$(LIBDIR)/$$f || exit 1; \
	done
	install -D -m 0644 completion/cell.bash $(DESTDIR)$(COMPDIR)/cell
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' data/cellsd.service.in >$(DESTDIR)$(UNITDIR)/cellsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cellsd.service
	$(if $(SCDOC),,@echo "install: scdoc is missing: no man pages (apt-get install scdoc)")
	for m in $(MANS); do \
		[ -f $$m ] || continue; s=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/} || exit 1; \
	done

# Removes the files install wrote, then lib/cells' directories if they are left empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	[ ! -d $(DESTDIR)$(LIBDIR) ] || find $(DESTDIR)$(LIBDIR) -depth -type d -empty -delete


include $(wildcard tests/unit/unit.mk)
include $(wildcard tests/fuzz/fuzz.mk)

# clang's static analyzer over the whole tree, built apart in build/analyze: every program,
# and each test's own file as an object (a unit test's sources are the programs' own, so
# linking them would analyze them again). Any report fails the run; the HTML reports stay
# in build/analyze/report.
SCAN_BUILD ?= scan-build
ANALYZE := $(BINS) $(patsubst %.c,$(BUILD)/test-obj/%.o,$(wildcard tests/*/*.c))
# Tests are built by their own runners with their own flags (and warnings): here only to
# be analyzed.
$(BUILD)/test-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Isrc -w $(PKG_CFLAGS) -c -o $@ $<
analyze:
	rm -rf $(BUILD)/analyze
	$(SCAN_BUILD) --status-bugs -o $(BUILD)/analyze/report $(MAKE) -s -j$$(nproc) \
		BUILD=$(BUILD)/analyze $(patsubst $(BUILD)/%,$(BUILD)/analyze/%,$(ANALYZE))

deps:
	@./scripts/install-deps

# After deps, a new make: this one read pkg-config's flags before the packages were there.
demo: deps
	$(MAKE) all
	./scripts/demo

check: deps
	$(MAKE) all
	./scripts/check

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

.PHONY: all images deps demo check format clean asan man install uninstall analyze
-include $(shell find $(BUILD)/obj $(BUILD)/asan/obj -name '*.d' 2>/dev/null)
