# make demo   install missing Debian packages, build (Release), run `fibseg demo` into ./demo-out
# make test   the same set-up, then every test with ctest
# make bench  the same set-up (+ the Python reference), then bench/run (figures: bench/README.md)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench clean
deps:
	scripts/install-deps --browser  # chromium: the report's browser test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/fibseg demo demo-out

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench:
	scripts/install-deps --bench
	$(MAKE) build
	bench/run

clean:
	rm -rf $(BUILD)
