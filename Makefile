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
