# Benchmark programs (bench/run drives them in a VM).
BENCH_BINS := $(BUILD)/bench/scancost $(BUILD)/bench/pageoutcost $(BUILD)/bench/countcost

# countcost times etmemd's own page counting: it links the daemon's modules.
$(BUILD)/bench/countcost: bench/countcost.c $(LIBETMEMD) $(LIBETMEM)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBETMEMD) $(LIBETMEM) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIBETMEM)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBETMEM) $(LDLIBS)

EXTRA_USER += $(BENCH_BINS)
