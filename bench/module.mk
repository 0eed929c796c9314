# bench/: benchmark programs (the scripts are bench/*.sh, run by bench/run.sh).
# table_bench: soft-state table (roam/table.h) inserts, lookups, expiries, bytes per entry.
# Built with `make all` (bench/table.sh needs it) but kept out of PROGS: not installed.
TABLE_BENCH := $(BUILD)/bin/table_bench
$(TABLE_BENCH): $(BUILD)/bench/table_bench.o $(LIBROAM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/bench/table_bench.o $(LIBROAM) $(LIBS)
all: $(TABLE_BENCH)
# l2tp_park: memory per parked call through lnsd's own code (bench/l2tp.sh), linked with
# lnsd's objects like its unit tests; not installed either.
# (lnsd's objects named here: this file is included before lns/module.mk sets lnsd_LIBOBJS.)
L2TP_PARK := $(BUILD)/bin/l2tp_park
L2TP_PARK_LNS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out lns/main.c,$(wildcard lns/*.c)))
$(L2TP_PARK): $(BUILD)/bench/l2tp_park.o $(L2TP_PARK_LNS) $(LIBROAM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(BUILD)/bench/l2tp_park.o $(L2TP_PARK_LNS) $(LIBROAM) $(LIBS)
all: $(L2TP_PARK)
