# buildbuy: the two commands a new user needs are `make lab` and `make test`.
# Each creates (or updates) the local virtual environment .venv by itself.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.buildbuy-installed

.PHONY: lab test bench notebooks exercises reports workshop lint clean venv

venv: $(STAMP)

# Reinstall whenever the declared dependencies change.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (buildbuy)" > /dev/null
	touch $(STAMP)

## Open the course in JupyterLab.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb

## Run every test: lint, library, notebooks (nbval + papermill), exercises, reports, browser.
test: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/buildbuy exercises build --check
	$(BIN)/pytest tests
	$(BIN)/pytest --nbval-lax -p no:cacheprovider notebooks/ -o testpaths=notebooks

## Print accuracy and speed figures (ratios measured side by side in one run).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py

## Re-execute the committed lesson notebooks in place (deterministic outputs).
notebooks: $(STAMP)
	$(PY) -m buildbuy.notebooks

## Regenerate exercises/ from solutions/.
exercises: $(STAMP)
	$(BIN)/buildbuy exercises build

## Per-learner reports for the example roster into build/reports/.
reports: $(STAMP)
	$(BIN)/buildbuy reports data/roster_example.csv --out build/reports

## Serve the lesson dashboards with Voila for a workshop room.
workshop: $(STAMP)
	$(BIN)/voila --no-browser --Voila.ip=0.0.0.0 --port=8866 notebooks/

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks

clean:
	rm -rf build .pytest_cache .ruff_cache
