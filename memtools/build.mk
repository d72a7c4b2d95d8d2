# Memory observability tools (procstat, sysstat, paf, pr): BPF programs
# compiled with clang against a vmlinux.h generated from this machine's
# BTF, skeletons from bpftool, user space linked with libbpf.
# Included by the top-level Makefile; everything lands in $(BUILD)/memtools.

MT_DIR       := $(BUILD)/memtools
MT_TOOLS     := $(filter $(patsubst memtools/%.bpf.c,%,$(wildcard memtools/*.bpf.c)),\
		  procstat sysstat paf pr)
MT_BPF_TOOLS := $(MT_TOOLS)
MT_SHARED    := $(addprefix $(MT_DIR)/,common.o gfp.o tracefs.o)
MT_BINS      := $(addprefix $(MT_DIR)/,$(MT_TOOLS)) $(MT_DIR)/mt-workload
MT_VMLINUX   := $(MT_DIR)/vmlinux.h
MT_BTF       ?= /sys/kernel/btf/vmlinux
BPFTOOL      ?= bpftool
CLANG        ?= clang
MT_ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MT_BPF_CFLAGS := -target bpf -g -O2 -Wall -D__TARGET_ARCH_$(MT_ARCH) \
		 -I$(MT_DIR) -Imemtools

EXTRA_USER += $(MT_BINS)

$(MT_VMLINUX): | $(MT_BTF)
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file $(MT_BTF) format c > $@.tmp && mv $@.tmp $@

$(MT_DIR)/%.bpf.o: memtools/%.bpf.c memtools/memtools.bpf.h memtools/%.h $(MT_VMLINUX)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(MT_BPF_CFLAGS) -c $< -o $@

$(MT_DIR)/%.skel.h: $(MT_DIR)/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# User-space objects come from the top-level %.o rule; they need the
# skeletons generated first and the build folder on the include path.
$(foreach t,$(MT_BPF_TOOLS),$(eval $(MT_DIR)/$(t).o: $(MT_DIR)/$(t).skel.h))
$(MT_DIR)/%.o: ALL_CFLAGS += -I$(MT_DIR)

$(addprefix $(MT_DIR)/,$(MT_TOOLS)): $(MT_DIR)/%: $(MT_DIR)/%.o $(MT_SHARED) $(LIBETMEM)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz $(PKG_LIBS)

$(MT_DIR)/mt-workload: $(MT_DIR)/workload.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^

.SECONDARY: $(MT_BPF_TOOLS:%=$(MT_DIR)/%.skel.h) $(MT_BPF_TOOLS:%=$(MT_DIR)/%.bpf.o)
