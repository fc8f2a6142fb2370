# reformer_lab: `make demo` and `make test` do all the set-up a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export VENV

.PHONY: help install demo test accelerator-check test-sync test-nbs test-nbval test-py export clean-nbs readme docs study clean

help:
	@echo "make demo   - set up .venv and run 'reformer-lab demo'"
	@echo "make test   - set up .venv and run every check CI runs"
	@echo "make study  - the duplication task of the Reformer paper, scaled to a CPU (7-15 min; slow, not in make test)"
	@echo "make docs   - the site with Quarto, or (without it) nbdev's processing plus an offline preview in _preview/"
	@echo "make export / clean-nbs / readme"

$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/reformer-lab demo

test: install test-sync test-nbs test-nbval docs test-py
	@echo "make test: all checks passed"

test-sync: install
	tools/check_in_sync.sh

test-nbs: install
	$(BIN)/nbdev_test --n_workers 2 --timing

test-nbval: install
	$(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg nbs/

test-py: install
	$(BIN)/pytest -n 2 tests/

export: install
	$(BIN)/nbdev_export

clean-nbs: install
	$(BIN)/nbdev_clean

readme: install
	$(BIN)/python tools/make_readme.py

docs: install
	$(BIN)/python tools/build_docs.py

# The Reformer paper's duplication task (nbs/08_duplication.ipynb): trains four small models (7-15 min on
# 2 CPU cores), stores the results as the notebook's outputs and in nbs/duplication_results/.
# `make test` skips its training cells (they carry the `slow` flag).
study: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 nbs/08_duplication.ipynb
	$(BIN)/nbdev_clean --fname nbs/08_duplication.ipynb

accelerator-check: install
	$(BIN)/python tools/accelerator_check.py

clean:
	rm -rf _proc _docs .pytest_cache
