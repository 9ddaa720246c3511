# MAMcrawler. `make run` starts the service; `make test` installs what tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench lint system-deps postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/mamcrawler db upgrade
	$(BIN)/mamcrawler serve

system-deps:
	scripts/install-system-deps.sh

postgres:
	scripts/ensure-postgres.sh

test: system-deps postgres $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: system-deps $(VENV)/.installed-test
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
