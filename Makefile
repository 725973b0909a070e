# A thin front to CMake. `make run` and `make test` install what is missing themselves.
BUILD ?= build
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
	tests/run.sh $(BUILD)

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure

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
