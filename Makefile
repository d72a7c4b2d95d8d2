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
KVERS   := $(if $(KVER),$(KVER),$(shell . t/lib/kernels.sh; etmem_kernels))

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
PKGS    := libnl-3.0 libnl-genl-3.0 glib-2.0 numa
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_LIBS   := -lnl-genl-3 -lnl-3 -lglib-2.0 -lnuma
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude/uapi -Iinclude -Ilib \
	      -Ietmemd $(PKG_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lpthread -ldl

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

LIB_SRCS     := $(wildcard lib/*.c)
ETMEMD_SRCS  := $(filter-out etmemd/main.c,$(wildcard etmemd/*.c))
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

.PHONY: all user modules deps check demo clean install fuzz fuzz-build $(addprefix modules-,$(KVERS))
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
	$(Q)$(CC) $(CFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

$(BUILD)/etmem/etmem: $(ETMEM_OBJS) $(LIBETMEM)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

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
FUZZ_CFLAGS  := $(filter-out -Werror -MMD -MP,$(ALL_CFLAGS)) -g -O1 $(FUZZ_SAN)
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
	@cp -p kmod/Kbuild kmod/*.c kmod/*.h $(BUILD)/kmod/$*/ 2>/dev/null; \
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

# Installs user space: etmemd in sbin (where etc/etmem/etmemd.service looks
# with the default PREFIX), etmem in bin, example configs in /etc/etmem.
install: user $(INSTALL_EXTRA)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/etmem
	$(if $(wildcard $(BUILD)/etmemd/etmemd),install -m 0755 $(BUILD)/etmemd/etmemd $(DESTDIR)$(PREFIX)/sbin/)
	$(if $(wildcard $(BUILD)/etmem/etmem),install -m 0755 $(BUILD)/etmem/etmem $(DESTDIR)$(PREFIX)/bin/)
	$(if $(wildcard etc/etmem/*.yaml),install -m 0600 $(wildcard etc/etmem/*.yaml) $(DESTDIR)/etc/etmem/)
	install -D -m 0644 etc/etmem/etmemd.service $(DESTDIR)/lib/systemd/system/etmemd.service

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
