# buildbuy: the two commands a new user needs are `make lab` and `make test`.
# Each creates (or updates) the local virtual environment .venv by itself:
# plain venv + pip, no conda. Python 3.11 or newer must be on the PATH.
#
#   make lab        open the course in JupyterLab
#   make test       run every test (lint, exercises, library, browser, notebooks)
#   make bench      print the accuracy and speed figures
#   make notebooks  re-execute the committed lesson notebooks (deterministic outputs)
#   make exercises  regenerate exercises/ from solutions/
#   make reports    per-learner reports for the example roster into build/reports/
#   make workshop   serve the code-free lesson and exercise dashboards with Voila
#                   (PERSONA=bank_support|hospital_notes|retail_search, HOST, PORT, TOKEN,
#                   CULL_IDLE_S, CULL_INTERVAL_S,
#                   ANSWERS: where learners' form answers are saved, default build/answers)

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
STAMP   := $(VENV)/.buildbuy-installed

PERSONA ?= bank_support
HOST    ?= 127.0.0.1
PORT    ?= 8866
TOKEN   ?=
WORKSHOP_DIR := build/workshop
# A closed page's kernel (about 0.22 GB) is shut down after CULL_IDLE_S idle seconds,
# checked every CULL_INTERVAL_S; an open page's kernel is never culled
# (buildbuy.workshop.CULL_IDLE_S / CULL_INTERVAL_S; tests/test_readme.py checks it).
CULL_IDLE_S     ?= 300
CULL_INTERVAL_S ?= 60
ANSWERS ?= build/answers

# Jupyter servers refuse to run as root unless told; CI containers run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test bench notebooks exercises reports workshop lint clean venv

venv: $(STAMP)

# Create the venv when missing; reinstall whenever the declared dependencies change.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "buildbuy needs Python >= 3.11; set PYTHON=python3.11 (or newer)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (buildbuy)" > /dev/null
	touch $(STAMP)

## Open the course in JupyterLab: the file browser shows the whole repository
## (notebooks/, exercises/, solutions/), starting at notebooks/00_start_here.ipynb.
lab: $(STAMP)
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=$(CURDIR) notebooks/00_start_here.ipynb

## Run every test, in this order: lint; exercises in sync with solutions; the
## library, packaging and browser tests; then every lesson notebook and dashboard
## under nbval. pytest's exit code 5 ("no tests collected") fails the target.
## learner_report.ipynb is a papermill template run per learner by the reports
## tests, so nbval skips it.
test: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/buildbuy exercises build --check
	@$(BIN)/pytest tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests under tests/"; fi; exit $$rc
	@$(BIN)/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider \
	  -o testpaths=notebooks notebooks/[0-9][0-9]_*.ipynb notebooks/dashboards/*.ipynb; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "ERROR: nbval collected no notebook cells"; fi; exit $$rc

## Print accuracy and speed figures (ratios measured side by side in one run).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py

## Re-execute the committed lessons and solutions in place (deterministic outputs),
## then regenerate exercises/ from the solutions.
notebooks: $(STAMP)
	$(PY) -m buildbuy.notebooks
	$(BIN)/buildbuy exercises build

## Regenerate exercises/ from solutions/.
exercises: $(STAMP)
	$(BIN)/buildbuy exercises build

## Per-learner reports for the example roster into build/reports/.
reports: $(STAMP)
	$(BIN)/buildbuy reports data/roster_example.csv --out build/reports

## Serve one code-free dashboard per lesson and one no-code form per exercise, starting
## from PERSONA, with Voila. Learners' answers go to ANSWERS/<learner>/ (grade them with
## `buildbuy exercises grade $(ANSWERS) --out grades.csv`).
## A room: make workshop HOST=0.0.0.0 TOKEN=<a shared word> PERSONA=hospital_notes
workshop: $(STAMP)
	$(BIN)/buildbuy workshop --persona $(PERSONA) --out $(WORKSHOP_DIR) --answers-dir $(ANSWERS)
	$(BIN)/voila --no-browser --Voila.ip=$(HOST) --port=$(PORT) \
	  $(if $(TOKEN),--token=$(TOKEN),) --show_tracebacks=False \
	  --MappingKernelManager.cull_interval=$(CULL_INTERVAL_S) \
	  --MappingKernelManager.cull_idle_timeout=$(CULL_IDLE_S) \
	  --MappingKernelManager.cull_connected=False \
	  $(WORKSHOP_DIR)

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks

clean:
	rm -rf build .pytest_cache .ruff_cache
