# etmem: top-level build. Plain make; output under $(BUILD); V=1 shows
# every command; WERROR=1 (CI) turns warnings into errors.
#
#   make            user space, plus the modules for every installed kernel
#   make KVER=X     modules for one kernel only
#   make deps       install the Debian packages the build and tests need
#   make check      deps, build, then unit, host and VM tests
#   make demo       build and show etmem reclaiming cold memory in a VM
#   make fuzz       libFuzzer targets (t/fuzz/), FUZZ_TIME seconds each

BUILD   ?= build
TOP     := $(CURDIR)
# The one version number: packages, --version of every program,
# MODULE_VERSION and the pkg-config file all take it from VERSION.
VERSION := $(shell cat $(TOP)/VERSION)
KVERS   := $(if $(KVER),$(KVER),$(shell . t/lib/kernels.sh; etmem_kernels))

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
PKGS    := libnl-3.0 libnl-genl-3.0 glib-2.0 json-glib-1.0 numa libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_LIBS   := -lnl-genl-3 -lnl-3 -ljson-glib-1.0 -lgobject-2.0 -lglib-2.0 -lnuma -lsystemd
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DETMEM_VERSION='"$(VERSION)"' $(WARN) $(CPPFLAGS) $(CFLAGS) -Iinclude/uapi -Iinclude -Ilib \
	      -Ietmemd -Ietmemd/engine $(PKG_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lpthread -ldl -lm

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

LIB_SRCS     := $(wildcard lib/*.c)
ETMEMD_SRCS  := $(filter-out etmemd/main.c,$(wildcard etmemd/*.c etmemd/engine/*.c))
ETMEM_SRCS   := $(wildcard etmem/*.c)
UNIT_SRCS    := $(wildcard t/unit/test_*.c)
HELPER_SRCS  := $(wildcard t/helpers/*.c)

LIB_OBJS     := $(LIB_SRCS:%.c=$(BUILD)/%.o)
ETMEMD_OBJS  := $(ETMEMD_SRCS:%.c=$(BUILD)/%.o)
ETMEM_OBJS   := $(ETMEM_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS    := $(UNIT_SRCS:%.c=$(BUILD)/%)
HELPER_BINS  := $(HELPER_SRCS:%.c=$(BUILD)/%)

LIBETMEM     := $(BUILD)/lib/libetmem.a
LIBETMEMD    := $(BUILD)/etmemd/libetmemd.a
BINS         := $(if $(wildcard etmemd/main.c),$(BUILD)/etmemd/etmemd) \
		$(if $(ETMEM_SRCS),$(BUILD)/etmem/etmem)

PREFIX  ?= /usr/local

.PHONY: all user modules deps check demo clean fuzz fuzz-build $(addprefix modules-,$(KVERS))
all: user modules

user: $(LIBETMEM) $(BINS) $(HELPER_BINS) $(UNIT_BINS) extra-user

$(BUILD)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(LIBETMEM): $(LIB_OBJS)
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBETMEMD): $(ETMEMD_OBJS)
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/etmemd/etmemd: $(BUILD)/etmemd/main.o $(LIBETMEMD) $(LIBETMEM)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

# etmem links the daemon's parser for "obj check" (and exports its
# symbols, as etmemd does, for a third-party engine that check loads).
$(BUILD)/etmem/etmem: $(ETMEM_OBJS) $(LIBETMEMD) $(LIBETMEM)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

# Test programs and unit tests link the daemon's modules (all but main.c)
# and the shared library; a unit test stubs I/O with -Wl,--wrap= flags
# listed on a line '// wrap: sym1 sym2' in its source.
$(BUILD)/t/helpers/%: t/helpers/%.c $(LIBETMEMD) $(LIBETMEM)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBETMEMD) $(LIBETMEM) $(LDLIBS)

$(BUILD)/t/unit/%: t/unit/%.c $(LIBETMEMD) $(LIBETMEM)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< \
		$(addprefix -Wl$(comma)--wrap=,$(shell sed -n 's|^// wrap: *||p' $<)) \
		$(LIBETMEMD) $(LIBETMEM) $(LDLIBS) -lcmocka
comma := ,

# Further user-space parts (memory tools, scanning library, examples)
# hook in here from their own makefiles.
-include $(wildcard */build.mk)
extra-user: $(EXTRA_USER)
.PHONY: extra-user

# libFuzzer targets: t/fuzz/fuzz_*.c linked with the library and the
# daemon's modules built again by clang with ASan and UBSan. "make fuzz"
# runs each for FUZZ_TIME seconds on its corpus (build/fuzz/corpus/NAME,
# seeded from t/fuzz/seeds/NAME and, for the config parser, etc/etmem);
# a crash stops it and is kept in build/fuzz/crashes/NAME/.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# With -MMD -MP (ALL_CFLAGS' own): an object built before a header changed
# is rebuilt, not linked with another layout of the structs it shares.
FUZZ_CFLAGS  := $(filter-out -Werror,$(ALL_CFLAGS)) -g -O1 $(FUZZ_SAN)
FUZZ_SRCS    := $(wildcard t/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(notdir $(FUZZ_SRCS:.c=))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_LIBOBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_OBJS    := $(FUZZ_LIBOBJS) $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(ETMEMD_SRCS))
.SECONDARY: $(FUZZ_OBJS)

$(BUILD)/fuzz/obj/%.o: %.c
	$(call msg,FUZZCC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# The protocol decoder needs the library only; the config parser the
# daemon's modules too, with dlopen() stubbed.
$(BUILD)/fuzz/fuzz_proto: t/fuzz/fuzz_proto.c $(FUZZ_LIBOBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_config: t/fuzz/fuzz_config.c $(FUZZ_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -Wl,--wrap=dlopen $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@for t in $(FUZZ_NAMES); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$t $(BUILD)/fuzz/crashes/$$t; \
		echo "== $$t for $(FUZZ_TIME) s"; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/crashes/$$t/ $(BUILD)/fuzz/corpus/$$t \
			t/fuzz/seeds/$$t $(if $(filter fuzz_config,$$t),etc/etmem) \
			2>$(BUILD)/fuzz/$$t.log || { tail -n 40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(BUILD)/fuzz/$$t.log; \
	done

# Kernel modules: Kbuild wants to build in place, so each kernel gets its
# own copy of the sources under $(BUILD)/kmod/KVER.
modules: $(addprefix modules-,$(KVERS))
$(addprefix modules-,$(KVERS)): modules-%:
	$(call msg,KMOD,$*)
	@mkdir -p $(BUILD)/kmod/$*/uapi/linux
	@cp -p kmod/Kbuild kmod/*.c kmod/*.h VERSION $(BUILD)/kmod/$*/ 2>/dev/null; \
	 cp -p include/uapi/linux/etmem.h $(BUILD)/kmod/$*/uapi/linux/
	$(Q)$(MAKE) -s -C "$$(. t/lib/kernels.sh; etmem_kernel_build $*)" M=$(TOP)/$(BUILD)/kmod/$* \
		$(if $(filter 1,$(WERROR)),KCFLAGS=-Werror) modules \
		$(if $(filter 1,$(V)),V=1,>$(TOP)/$(BUILD)/kmod/$*.log 2>&1 || \
		{ cat $(TOP)/$(BUILD)/kmod/$*.log; exit 1; }; \
		grep -i warning $(TOP)/$(BUILD)/kmod/$*.log && exit 1; true)

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory WERROR=1 all
	@t/run-tests

demo: deps
	@$(MAKE) --no-print-directory all
	@t/vm-run t/demo/demo.sh

# ---- installing ----
# make install [DESTDIR=...] [PREFIX=/usr/local] builds only the programs
# (no test dependencies), installs them, the scanning library, headers,
# pkg-config file, man pages, bash completion and the unit, and the
# example configurations only where none exist. make uninstall removes
# all of it, and a configuration only while it is still the shipped one.
# make modules_install puts the modules of KVERS under
# /lib/modules/KVER/updates/etmem and runs depmod.
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBSUBDIR  ?= lib
LIBDIR     ?= $(PREFIX)/$(LIBSUBDIR)
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(if $(filter /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc))
MODDIR     ?= /lib/modules

MT_INSTALL  := $(addprefix $(BUILD)/memtools/,$(MT_TOOLS))
CONF_FILES  := $(wildcard etc/etmem/*.yaml)
MAN_PAGES   := $(wildcard man/*.[0-9])
COMPLETIONS := $(wildcard etc/bash-completion/*)
HEADERS     := $(wildcard include/etmem/*.h)

progs: $(LIBETMEM) $(BINS) $(SCAN_SO) $(MT_INSTALL)
.PHONY: progs install uninstall modules_install

$(BUILD)/etmemd.service: etc/etmem/etmemd.service Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/etmem|$(SYSCONFDIR)/etmem|g' $< >$@

install: progs $(BUILD)/etmemd.service
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/etmem $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/etmemd/etmemd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BUILD)/etmem/etmem $(DESTDIR)$(BINDIR)/
	$(foreach t,$(MT_INSTALL),install -m 0755 $(t) $(DESTDIR)$(SBINDIR)/etmem-$(notdir $(t));)
	install -m 0644 $(SCAN_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SCAN_SONAME) $(DESTDIR)$(LIBDIR)/libetmemd_scan.so
	install -m 0644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/etmem/
	printf '%s\n' "$$SCAN_PC" >$(DESTDIR)$(LIBDIR)/pkgconfig/etmemd_scan.pc
	install -m 0644 $(BUILD)/etmemd.service $(DESTDIR)$(UNITDIR)/etmemd.service
	$(foreach m,$(MAN_PAGES),install -m 0644 $(m) $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/;)
	$(foreach c,$(COMPLETIONS),install -m 0644 $(c) $(DESTDIR)$(COMPDIR)/;)
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/etmem
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/etmem/etmemd.d
	@for f in $(CONF_FILES); do \
		t=$(DESTDIR)$(SYSCONFDIR)/etmem/$$(basename $$f); \
		if [ -e "$$t" ]; then echo "  keeping $$t"; \
		else install -m 0600 $$f "$$t"; fi; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/etmemd $(DESTDIR)$(BINDIR)/etmem \
		$(addprefix $(DESTDIR)$(SBINDIR)/etmem-,$(notdir $(MT_INSTALL))) \
		$(DESTDIR)$(LIBDIR)/$(SCAN_SONAME) $(DESTDIR)$(LIBDIR)/libetmemd_scan.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/etmemd_scan.pc \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/etmem/,$(notdir $(HEADERS))) \
		$(DESTDIR)$(UNITDIR)/etmemd.service \
		$(foreach m,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))) \
		$(addprefix $(DESTDIR)$(COMPDIR)/,$(notdir $(COMPLETIONS)))
	@for f in $(CONF_FILES); do \
		t=$(DESTDIR)$(SYSCONFDIR)/etmem/$$(basename $$f); \
		if cmp -s $$f "$$t"; then rm -f "$$t"; \
		elif [ -e "$$t" ]; then echo "  keeping changed $$t"; fi; \
	done
	rmdir $(DESTDIR)$(INCLUDEDIR)/etmem $(DESTDIR)$(SYSCONFDIR)/etmem/etmemd.d \
		$(DESTDIR)$(SYSCONFDIR)/etmem 2>/dev/null || true

# The module sources as DKMS builds them (etmem-dkms ships this tree with
# debian/etmem-dkms.dkms as its dkms.conf).
DKMS_SRC := $(PREFIX)/src/etmem-$(VERSION)
dkms-src:
	install -d $(DESTDIR)$(DKMS_SRC)/uapi/linux
	install -m 0644 kmod/Kbuild kmod/*.c kmod/*.h VERSION $(DESTDIR)$(DKMS_SRC)/
	install -m 0644 include/uapi/linux/etmem.h $(DESTDIR)$(DKMS_SRC)/uapi/linux/
.PHONY: dkms-src

modules_install: modules
	@for k in $(KVERS); do \
		d=$(DESTDIR)$(MODDIR)/$$k/updates/etmem; \
		install -d $$d && install -m 0644 $(BUILD)/kmod/$$k/*.ko $$d/ || exit 1; \
		if [ -z "$(DESTDIR)" ]; then depmod -a $$k || exit 1; \
		else depmod -b $(DESTDIR) $$k 2>/dev/null || true; fi; \
		echo "  installed $$d"; \
	done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
