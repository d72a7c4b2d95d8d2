# Benchmark programs (bench/run drives them in a VM).
BENCH_BINS := $(BUILD)/bench/scancost $(BUILD)/bench/pageoutcost

$(BUILD)/bench/%: bench/%.c $(LIBETMEM)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBETMEM) $(LDLIBS)

EXTRA_USER += $(BENCH_BINS)
