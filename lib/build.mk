# libetmemd_scan.so: the scanning library third-party policies link
# against. It exports only the calls of include/etmem/etmemd_scan.h.
SCAN_SONAME := libetmemd_scan.so.1
SCAN_SO     := $(BUILD)/lib/$(SCAN_SONAME)
SCAN_OBJS   := $(BUILD)/lib/scan/etmemd_scan.o

$(SCAN_SO): $(SCAN_OBJS) $(LIBETMEM) lib/scan/libetmemd_scan.map
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SCAN_SONAME) \
		-Wl,--version-script=lib/scan/libetmemd_scan.map \
		-o $@ $(SCAN_OBJS) $(LIBETMEM) $(LDLIBS)
	$(Q)ln -sf $(SCAN_SONAME) $(BUILD)/lib/libetmemd_scan.so

EXTRA_USER += $(SCAN_SO)

# pkg-config file for the installed library; PREFIX and LIBSUBDIR (lib,
# or lib/<multiarch triplet> for Debian) are fixed at install.
define SCAN_PC
prefix=$(PREFIX)
libdir=$${prefix}/$(LIBSUBDIR)
includedir=$${prefix}/include

Name: etmemd_scan
Description: etmem scanning library for third-party memory policies
Version: $(VERSION)
Requires: glib-2.0
Requires.private: libnl-genl-3.0
Cflags: -I$${includedir}
Libs: -L$${libdir} -letmemd_scan
endef
export SCAN_PC

.PHONY: print-scan-pc
print-scan-pc:
	@printf '%s\n' "$$SCAN_PC"
