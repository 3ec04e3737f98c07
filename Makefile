# The two commands: `make run` serves coursesite with the demo course; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint typecheck check clean gpu-check screenshots

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[worker,dev]'
	touch $@

# The demo shows its week 9 today; `make run AS_OF=2025-03-04` shows it on another day.
run: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo $(if $(AS_OF),--as-of $(AS_OF))
	$(BIN)/python manage.py run_embedded --addr 127.0.0.1:8000

# First the system programs the tests use (bwrap, chromium, ...): installed where this runs as
# root with apt-get, named where they are missing otherwise.
test: $(INSTALLED)
	.ci/system-packages
	$(BIN)/python -m pytest -n $${TEST_WORKERS:-auto} --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# Full-page screenshots of the main pages on a 1400 px screen and a 375 px phone, into
# docs/screenshots/ (its README lists them), taken by the browser sweep that checks every page.
screenshots: $(INSTALLED)
	SCREENSHOTS=docs/screenshots REQUIRE_SERVICES=1 $(BIN)/python -m pytest tests/test_site_pages_browser.py $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

check: lint typecheck test

# On a machine with an NVIDIA GPU: grade the four assignments' solutions on the GPU and the CPU.
gpu-check: $(INSTALLED)
	$(BIN)/python bench/gpu_check.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
