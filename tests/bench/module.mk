# make bench: benchmarks (tests/bench/run.sh prints one table).
BENCH_BIN := $(B)/bench/bench_core

$(BENCH_BIN): tests/bench/bench_core.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Wno-missing-prototypes $(CORE_CFLAGS) -o $@ $< $(LIB) $(CORE_LIBS) -lpthread $(BASE_LDFLAGS)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory bench-run

bench-run: build $(BENCH_BIN)
	@B=$(B) tests/bench/run.sh
.PHONY: bench-run
