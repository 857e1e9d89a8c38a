# Two commands (see README): `make main` sets up and runs the main job, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NASBENCH_DATA ?= $(abspath ../shared/benchmarks)
export NASBENCH_DATA
# Keep BLAS/torch from oversubscribing the 2-core machines when joblib runs folds in parallel.
export OMP_NUM_THREADS ?= 1
OUT ?= results/quick-run
JOBS ?= 2

.PHONY: setup test main bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first: the package's plain `torch` requirement is then satisfied.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

test: setup
	$(PY) -m pytest -q

main: setup
	$(VENV)/bin/nasbench-study data verify
	$(VENV)/bin/nasbench-study reproduce --preset quick --out $(OUT) --jobs $(JOBS)

bench: setup
	$(PY) scripts/bench_load.py
	$(PY) scripts/bench_predictors.py
	$(PY) scripts/bench_simulation.py
	$(PY) scripts/bench_supernet.py
	$(PY) scripts/bench_latency.py

clean:
	rm -rf $(VENV) build *.egg-info
