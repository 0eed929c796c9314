# bench/: benchmark programs (the scripts are bench/*.sh, run by bench/run.sh).
# table_bench: soft-state table (roam/table.h) inserts, lookups, expiries, bytes per entry.
# Built with `make all` (bench/table.sh needs it) but kept out of PROGS: not installed.
TABLE_BENCH := $(BUILD)/bin/table_bench
$(TABLE_BENCH): $(BUILD)/bench/table_bench.o $(LIBROAM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/bench/table_bench.o $(LIBROAM) $(LIBS)
all: $(TABLE_BENCH)
