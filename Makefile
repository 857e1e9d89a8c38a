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
# Test processes (pytest-xdist; one per core of the 2-core CI machine). Whole test files stay in
# one process (--dist loadfile), so module fixtures and the wheel/venv tests are built once.
TEST_JOBS ?= 2
# The PyTorch build installed before the package. Default: the CPU wheel (a plain `torch`
# requirement would pull a multi-GB CUDA build). For a CUDA build, for example:
#   make setup TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
# Extras installed into the development environment (see setup.cfg).
EXTRAS ?= all,dev

.PHONY: setup test main bench wheel clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The chosen torch build first: the `neural` extra's `torch` requirement is then satisfied.
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

# The linter (configuration in pyproject.toml), then the whole suite, including the slow tests
# (wheel -> a fresh venv outside the checkout; committed results re-run).
test: setup
	$(VENV)/bin/ruff check nasbench_tools predictors simulation scripts tests
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile

main: setup
	$(VENV)/bin/nasbench-study data verify
	$(VENV)/bin/nasbench-study reproduce --preset quick --out $(OUT) --jobs $(JOBS)

wheel: setup
	$(PY) -m pip wheel -q --no-deps . -w dist

bench: setup
	$(PY) scripts/bench_startup.py
	$(PY) scripts/bench_load.py
	$(PY) scripts/bench_predictors.py
	$(PY) scripts/bench_simulation.py
	$(PY) scripts/bench_supernet.py
	$(PY) scripts/bench_latency.py

clean:
	rm -rf $(VENV) build dist *.egg-info
