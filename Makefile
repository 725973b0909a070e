# A thin front to CMake. `make run` and `make test` install what is missing themselves.
BUILD ?= build
# the sanitizer pass of `make test` (tests/sanitize.sh): an ASan+UBSan Debug build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build run test unit clean deps

all: build

deps:
	@scripts/deps.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	scripts/run.sh $(BUILD)/tessera

test:
	@scripts/deps.sh --test
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	scripts/lint.sh $(BUILD)
	tests/run.sh $(BUILD)
	JOBS=$(JOBS) tests/sanitize.sh $(ASAN_BUILD)
	$(if $(filter-out 0,$(FUZZ_SMOKE_SECONDS)),tests/fuzz/run.sh --build $(FUZZ_BUILD) --jobs $(JOBS) --seconds $(FUZZ_SMOKE_SECONDS) $(FUZZERS))

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure

# cppcheck, clang-tidy, flawfinder, gcc -fanalyzer and the secret scan (scripts/lint.sh); `make test` runs it too
.PHONY: lint
lint:
	@scripts/deps.sh --test
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	scripts/lint.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# Benchmark against the peers in ../shared/peers (not part of `make test`): a Release build in
# $(BENCH_BUILD), then tests/bench/run.sh; `make bench BENCH_ARGS=--quick` for a smoke run.
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=
.PHONY: bench
bench: deps
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target tessera
	BENCH_COMMAND='make bench$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' tests/bench/run.sh --bin $(BENCH_BUILD)/tessera $(BENCH_ARGS)

# Soak (not part of `make test`): SOAK_SECONDS (default 600) of mixed traffic against the $(BUILD) binary;
# reports RSS and open descriptors (start, peak, end) and fails if RSS grows in the second half or fds leak.
.PHONY: soak
soak: build
	tests/soak/run.sh $(BUILD)/tessera

# libFuzzer harnesses (tests/fuzz/, not built by `make build`): a clang tree in $(FUZZ_BUILD), each harness run
# FUZZ_SECONDS by `make fuzz` and FUZZ_SMOKE_SECONDS by `make test` (0 skips the smoke); FUZZERS="form scope"
# runs only those. A crash fails the run and keeps the input in tests/fuzz/out/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 15
FUZZERS ?=
.PHONY: fuzz
fuzz:
	@scripts/deps.sh --test
	tests/fuzz/run.sh --build $(FUZZ_BUILD) --jobs $(JOBS) --seconds $(FUZZ_SECONDS) $(FUZZERS)
