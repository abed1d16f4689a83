# Kechi CRM: `make run` serves the embedded mode, `make test` runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test install install-dev translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

translations: $(VENV)/.runtime
	@$(BIN)/pybabel compile -f -d translations >/dev/null

install: $(VENV)/.runtime translations

install-dev: $(VENV)/.dev translations

run: install
	$(BIN)/flask --app app serve

test: install-dev
	bash scripts/test.sh

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
