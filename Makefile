# govchain — two set-up commands:
#   make demo   a single-node chain with a sample city, its API on 127.0.0.1:8700 (Ctrl-C stops)
#   make test   the whole test suite
# Each creates the virtual environment it needs (.venv) and installs into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DEMO_DIR ?= demo-network

.PHONY: demo test deps lint typecheck bench clean venv

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is not available; installing python3-venv"; \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; \
	  else \
	    echo "run: sudo apt-get install python3-venv"; exit 1; \
	  fi; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	@$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/govchain demo --dir $(DEMO_DIR)

deps:
	scripts/install-deps

# two workers (the machine's cores); a test module stays on one worker, with its fixtures
test: $(VENV)/.installed-dev deps
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(VENV)/.installed
	bench/run.sh

clean:
	rm -rf $(VENV) $(DEMO_DIR) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
