# reformer_lab: `make demo` and `make test` do all the set-up a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements-lock.txt
# pytest-xdist workers; `--dist loadfile` sends each notebook (its cells share one kernel) to one worker.
WORKERS ?= 2
NBVAL := $(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg
export VENV

# JAX's persistent compilation cache for the test runs: most of a run is XLA compiling, and a second run
# loads the compiled programs instead (14_decode's notebook: 81 s cold, 31 s warm). The key already holds
# the program, the compile options and XLA_FLAGS; the directory also names this CPU (its /proc/cpuinfo
# flags), so that code compiled for one CPU is never loaded on another. `make clean` empties it.
CPU_TAG := $(shell (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | cksum | cut -d' ' -f1)
COMPILE_CACHE ?= $(CURDIR)/.cache/jax-$(CPU_TAG)
test-nbval test-py test-portable: export JAX_COMPILATION_CACHE_DIR = $(COMPILE_CACHE)
test-nbval test-py test-portable: export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS = 0.2

.PHONY: help install lock demo test test-portable accelerator-check test-sync test-all test-nbval test-py \
        test-nbdev test-light lint-workflows check-lock export clean-nbs readme docs study clean

help:
	@echo "make demo          - set up .venv and run 'reformer-lab demo'"
	@echo "make test          - set up .venv and run every check CI runs (see the README for measured times)"
	@echo "make test-light    - a second venv without the trax extra: Trax/TensorFlow absent, the core tests pass"
	@echo "make test-portable - the stored outputs again, under two other CPU code paths, one thread each (CI runs it)"
	@echo "make lock          - refresh $(LOCK) (keeps pins; 'make lock UPGRADE=1' moves every package to its newest release)"
	@echo "make study         - the duplication task of the Reformer paper, scaled to a CPU, with decoding, under Trax's and the paper's LSH rule (about 50 min; slow, not in make test)"
	@echo "make docs          - the site with Quarto, or (without it) nbdev's processing plus an offline preview in _preview/"
	@echo "make export / clean-nbs / readme"

# The environment is the lock: every package at the version `make test` was run with (see README, "Upgrading").
$(STAMP): settings.ini setup.py $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev,trax,lab]'
	@touch $(STAMP)

install: $(STAMP)

# Re-solve settings.ini's requirements (and the dev extra) for CPython 3.11 on Linux x86-64 with uv.
# Without UPGRADE, uv keeps every version already in the lock and only adds or drops what changed.
lock: install
	$(BIN)/uv pip compile setup.py --extra dev --extra trax --extra lab --python-version 3.11.7 --python-platform x86_64-manylinux_2_28 \
	  --annotation-style line --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) -o $(LOCK)

demo: install
	$(BIN)/reformer-lab demo

test: install check-lock test-sync lint-workflows test-nbval docs test-py test-light
	@echo "make test: all checks passed"

# Installed versions == the lock, so a green run says which environment it was green in.
check-lock: install
	$(BIN)/python tools/check_lock.py $(LOCK)

test-sync: install
	tools/check_in_sync.sh

lint-workflows: install
	$(BIN)/zizmor --offline .github/workflows/

# Every notebook executed once (nbval runs each cell under nbdev_test's skip rules and compares its stored
# outputs; a notebook stays on one worker), then the plain tests spread test by test over the workers.
test-all: test-nbval test-py  # (make test also builds the docs between them: the browser test reads the preview)

test-nbval: install
	$(NBVAL) -n $(WORKERS) --dist loadfile --durations 10 nbs/

test-py: install
	$(BIN)/pytest -n $(WORKERS) --durations 10 -m 'not light' tests/

# The light install, for real: a second venv with `pip install reformer-lab` and no extras (the lock as constraints),
# where Trax and TensorFlow must not be importable, the Trax-backed modules must say `pip install "reformer-lab[trax]"`,
# and the function, NNX and padding tests pass (tests/test_light.py, marked `light`).
LIGHT_VENV ?= .venv-light
LIGHT_STAMP := $(LIGHT_VENV)/.installed-stamp
$(LIGHT_STAMP): settings.ini setup.py $(LOCK)
	@test -x $(LIGHT_VENV)/bin/python || $(PYTHON) -m venv $(LIGHT_VENV)
	$(LIGHT_VENV)/bin/python -m pip install --quiet -c $(LOCK) -e . pytest
	@touch $(LIGHT_STAMP)

test-light: $(LIGHT_STAMP)
	REFORMER_LAB_LIGHT=1 $(LIGHT_VENV)/bin/pytest -m light --durations 5 tests/test_light.py

# nbdev's own runner: executes the notebooks without comparing outputs, so `test-all` already covers it.
test-nbdev: install
	$(BIN)/nbdev_test --n_workers $(WORKERS)

# The stored outputs must not depend on the CPU: XLA picks its kernels by the CPU's vector instructions.
# Two passes at once, each on one core (so each also runs with one thread): SSE4.2 and AVX code paths.
test-portable: install
	$(BIN)/python tools/portable.py

accelerator-check: install
	$(BIN)/python tools/accelerator_check.py

export: install
	$(BIN)/nbdev_export

clean-nbs: install
	$(BIN)/nbdev_clean

readme: install
	$(BIN)/python tools/make_readme.py

docs: install
	$(BIN)/python tools/build_docs.py

# The Reformer paper's duplication task (nbs/08_duplication.ipynb): trains five small models under Trax's LSH rule
# (28 min in the recorded run on 2 shared CPU cores) and three under the paper's (18 min on one core), stores the
# results as the notebook's outputs and in nbs/duplication_results/ (results.json, paper_rule.json).
# `make test` skips its training cells (they carry the `slow` flag).
study: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 nbs/08_duplication.ipynb
	$(BIN)/nbdev_clean --fname nbs/08_duplication.ipynb

clean:
	rm -rf _proc _docs .pytest_cache .cache $(LIGHT_VENV)
