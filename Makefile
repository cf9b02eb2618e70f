# Sealcast: the two set-up commands are `make run` and `make test` (see README.md).
# Every target installs what is missing first, so both work on a fresh Debian bookworm machine.

PRESET ?= release
BUILD_DIR := build
JOBS ?= $(shell nproc)
# `make fuzz`: seconds each libFuzzer target runs, and which targets (fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= client_frame server_frame admin_http config codec

.PHONY: all deps configure build run test test-asan dev clean format fuzz fuzz-build

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

run: build
	./$(BUILD_DIR)/bin/sealcastd $(ARGS)

# The suite includes a 30 s smoke of each fuzz target (label fuzz), so the fuzzers are built too.
test: build fuzz-build
	ctest --preset $(PRESET) -j $(JOBS) --timeout 600

# The libFuzzer targets (clang 14, ASan, UBSan) in build-fuzz/fuzz.
fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

# Runs each fuzz target for FUZZ_SECONDS on a scratch copy of its seed corpus; fails on any finding.
fuzz: fuzz-build
	@failed=""; for t in $(FUZZ_TARGETS); do bash fuzz/run.sh $$t $(FUZZ_SECONDS) || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "make fuzz: findings in:$$failed"; exit 1; fi

# Debug build with warnings as errors, and the same tests under the sanitizers.
dev:
	@$(MAKE) --no-print-directory PRESET=dev BUILD_DIR=build-dev test

test-asan:
	@$(MAKE) --no-print-directory PRESET=asan BUILD_DIR=build-asan test

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build build-dev build-asan build-fuzz build-uring
