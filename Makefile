# Sealcast: the two set-up commands are `make run` and `make test` (see README.md).
# Every target installs what is missing first, so both work on a fresh Debian bookworm machine.

PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test test-asan dev clean format

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	./$(BUILD_DIR)/bin/sealcastd $(ARGS)

test: build
	ctest --preset $(PRESET) -j $(JOBS) --timeout 600

# Debug build with warnings as errors, and the same tests under the sanitizers.
dev:
	@$(MAKE) --no-print-directory PRESET=dev BUILD_DIR=build-dev test

test-asan:
	@$(MAKE) --no-print-directory PRESET=asan BUILD_DIR=build-asan test

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build build-dev build-asan
