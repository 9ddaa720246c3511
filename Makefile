# MAMcrawler. `make run` starts the service; `make test` installs what tests need and runs them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The suite waits on real processes (qBittorrent, ffmpeg, servers) more than it computes:
# three workers keep two cores busy. One test file stays in one worker (its fixtures).
PYTEST_ARGS ?= -n 3 --dist loadfile

.PHONY: run test bench lint sim system-deps postgres clean

$(BIN)/python:
	@echo "creating $(VENV) (first run only)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --disable-pip-version-check --upgrade pip

# Stamps re-install only when pyproject.toml changes. -qq: pip shows errors only, so the
# first `make run` prints two lines before the service's own.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "installing MAMcrawler and its dependencies into $(VENV) (a minute or two)"
	@$(BIN)/pip install -qq --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# exec: the service replaces the shell, so a stop (SIGTERM, Ctrl-C) reaches it directly and
# its clean exit is make's.
run: $(VENV)/.installed
	@$(BIN)/mamcrawler db upgrade && exec $(BIN)/mamcrawler serve

system-deps:
	scripts/install-system-deps.sh

postgres:
	scripts/ensure-postgres.sh

test: system-deps postgres $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: system-deps $(VENV)/.installed-test
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# A year on the account, simulated (SIM_ARGS e.g. --seed 2 --chart sim-year.html).
sim: $(VENV)/.installed
	$(BIN)/mamcrawler sim year $(SIM_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
