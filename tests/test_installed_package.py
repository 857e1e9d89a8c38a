"""The package as users get it: the wheel installed non-editable into fresh virtual
environments outside the checkout, used from another directory.

Two installs: one with the ``boosting`` and ``report`` extras (the CLI's study, report and
simulator; a LightGBM fit), and a core-only one (no extras: the data layer, a ridge fit, a tiny
simulation, and one-line "install the extra" errors for the rest). A third check installs the
wheel with ``pip install --target`` (no ``sys.prefix`` data files): the packaged manifest must
still be found. Building and installing needs the package index (or pip's cache); these tests
take about two minutes, most of it pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: Longest a pip install may take before the test fails.
INSTALL_TIMEOUT_S = 900
#: Longest one command of the installed package may take.
COMMAND_TIMEOUT_S = 300


def _clean_env(data_dir: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["OMP_NUM_THREADS"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if data_dir is not None:
        env["NASBENCH_DATA"] = str(data_dir)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _base_python() -> str:
    """The interpreter the test venv was made from (venvs are made from it, not nested)."""
    return getattr(sys, "_base_executable", sys.executable)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(out)],
         cwd=out, env=_clean_env(None), timeout=INSTALL_TIMEOUT_S)
    wheels = list(out.glob("nasbench_study-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def _venv(root: Path, wheel: Path, extras: str) -> Path:
    venv = root / "venv"
    env = _clean_env(None)
    _run([_base_python(), "-m", "venv", str(venv)], cwd=root, env=env)
    spec = f"{wheel}[{extras}]" if extras else str(wheel)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", spec], cwd=root, env=env, timeout=INSTALL_TIMEOUT_S)
    return venv


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the checkout (so nothing is imported from it)."""
    return tmp_path_factory.mktemp("user-project")


def _assert_installed_copy(python: Path, cwd: Path, env: dict[str, str], venv: Path) -> None:
    code = "import nasbench_tools, predictors, simulation; print(nasbench_tools.__file__, predictors.__file__, simulation.__file__)"
    files = _run([str(python), "-c", code], cwd, env).stdout.split()
    for f in files:
        assert Path(f).is_relative_to(venv), f"{f} is not the installed copy in {venv}"


def _installed(root: Path, wheel: Path, extras: str, elsewhere: Path, data_dir: Path) -> tuple[Path, str, dict[str, str]]:
    """A fresh venv with the wheel (and ``extras``): its python, its CLI, and the environment to run them in."""
    venv = _venv(root, wheel, extras)
    py = venv / "bin" / "python"
    env = _clean_env(data_dir)
    _assert_installed_copy(py, elsewhere, env, venv)
    return py, str(venv / "bin" / "nasbench-study"), env


def test_wheel_contains_every_module(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for pkg in ("nasbench_tools", "predictors", "simulation"):
        for src in (REPO / pkg).rglob("*.py"):
            assert src.relative_to(REPO).as_posix() in names, f"{src} missing from the wheel"
    assert "nasbench_tools/datasets/manifest.json" in names
    assert {"nasbench_tools/py.typed", "predictors/py.typed", "simulation/py.typed"} <= names
    assert any(n.endswith("dist-info/licenses/LICENSE") or n.endswith("dist-info/LICENSE") for n in names)


def test_installed_with_extras(wheel: Path, elsewhere: Path, tmp_path_factory: pytest.TempPathFactory,
                               data_dir: Path) -> None:
    py, cli, env = _installed(tmp_path_factory.mktemp("full"), wheel, "boosting,report", elsewhere, data_dir)

    from nasbench_tools import __version__

    assert __version__ in _run([cli, "--version"], elsewhere, env).stdout
    assert __version__ in _run([str(py), "-m", "nasbench_tools.cli", "--version"], elsewhere, env).stdout
    verify = _run([cli, "data", "verify"], elsewhere, env).stdout
    assert "ok" in verify

    config = elsewhere / "tiny.toml"
    config.write_text(textwrap.dedent("""
        name = "tiny"
        datasets = ["hwnas/cifar10/edgegpu_latency"]
        predictors = ["ridge", "lightgbm", "lookup_table"]
        train_sizes = [25]
        test_size = 100
        seeds = [0, 1]
    """))
    _run([cli, "study", "run", "--config", str(config), "--out", "tiny-study", "--no-progress"], elsewhere, env)
    results = pd.read_csv(elsewhere / "tiny-study" / "results.csv")
    assert len(results) == 6 and set(results["status"]) == {"ok"}
    assert results.loc[results["predictor"] == "lookup_table", "kendall_tau"].gt(0).all()
    _run([cli, "study", "report", "--results", "tiny-study/results.csv", "--out", "tiny-report"], elsewhere, env)
    assert (elsewhere / "tiny-report" / "figure_5_3.png").stat().st_size > 0

    _run([cli, "simulate", "run", "--preset", "quick", "--trials", "1", "--out", "tiny-sim", "--no-progress"],
         elsewhere, env)
    sim = pd.read_csv(elsewhere / "tiny-sim" / "simulation.csv")
    assert len(sim) > 0 and sim["mra_all"].ge(0).all() and sim["kendall_tau"].between(-1, 1).all()

    fit = _run([str(py), "-c", textwrap.dedent("""
        import json, numpy as np, predictors
        from nasbench_tools.datasets import DataStore
        from nasbench_tools.encodings import encode
        d = DataStore().load("hwnas/cifar10/edgegpu_latency")
        X, y = encode(d.space, d.archs(), "onehot"), d.values
        order = np.random.default_rng(0).permutation(len(y))
        tr, te = order[:300], order[300:]
        m = predictors.make("lightgbm", random_state=0).fit(X[tr], y[tr])
        r = predictors.make("ridge").fit(X[tr], y[tr])
        print(json.dumps({"lgb": float(np.mean(np.abs(m.predict(X[te]) - y[te]))),
                          "ridge": float(np.mean(np.abs(r.predict(X[te]) - y[te]))),
                          "spread": float(np.mean(np.abs(y[te] - y[te].mean())))}))
    """)], elsewhere, env).stdout
    maes = json.loads(fit.strip().splitlines()[-1])
    assert maes["lgb"] < maes["spread"] and maes["ridge"] < maes["spread"]


def test_core_install_without_extras(wheel: Path, elsewhere: Path, tmp_path_factory: pytest.TempPathFactory,
                                     data_dir: Path) -> None:
    py, cli, env = _installed(tmp_path_factory.mktemp("core"), wheel, "", elsewhere, data_dir)
    missing = _run([str(py), "-c", "import importlib.util as u; print([m for m in ('torch', 'xgboost', 'lightgbm', "
                    "'ngboost', 'gpytorch', 'matplotlib', 'dask') if u.find_spec(m)])"], elsewhere, env).stdout
    assert missing.strip() == "[]", f"core install pulled optional libraries: {missing}"

    out = _run([str(py), "-c", textwrap.dedent("""
        import json, numpy as np, predictors
        from nasbench_tools.datasets import DataStore
        from nasbench_tools.encodings import encode
        from nasbench_tools.errors import MissingExtraError
        from simulation import SimulationConfig, run_simulation
        d = DataStore().load("hwnas/cifar10/edgegpu_latency")
        X, y = encode(d.space, d.archs(), "onehot"), d.values
        order = np.random.default_rng(0).permutation(len(y))
        tr, te = order[:300], order[300:]
        r = predictors.make("ridge").fit(X[tr], y[tr])
        mae = float(np.mean(np.abs(r.predict(X[te]) - y[te])))
        extras = {}
        for name in ("xgboost", "gp", "gcn"):
            try:
                predictors.make(name).fit(X[:20], y[:20])
                extras[name] = "fitted"
            except MissingExtraError as exc:
                extras[name] = str(exc)
        cfg = SimulationConfig(datasets=("hwnas/cifar10/edgegpu_latency",), sizes=(100,), stds=(0.5,), trials=2)
        path = run_simulation(cfg, "core-sim", progress=False)
        import pandas as pd
        rows = len(pd.read_csv(path))
        print(json.dumps({"mae": mae, "spread": float(np.mean(np.abs(y[te] - y[te].mean()))),
                          "extras": extras, "rows": rows}))
    """)], elsewhere, env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["mae"] < result["spread"]
    assert result["rows"] > 0
    assert "nasbench-study[boosting]" in result["extras"]["xgboost"]
    assert "nasbench-study[neural]" in result["extras"]["gp"]
    assert "nasbench-study[neural]" in result["extras"]["gcn"]

    assert _run([cli, "--version"], elsewhere, env).stdout.strip()
    _run([cli, "data", "list"], elsewhere, env)
    proc = subprocess.run([cli, "supernet", "train", "--help"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S)
    # --help of a torch command still works or names the extra in one line, never a traceback
    assert "Traceback" not in proc.stderr
    if proc.returncode != 0:
        assert proc.returncode == 2 and "nasbench-study[neural]" in proc.stderr


def test_target_install_finds_packaged_manifest(wheel: Path, elsewhere: Path, tmp_path_factory: pytest.TempPathFactory,
                                                data_dir: Path) -> None:
    target = tmp_path_factory.mktemp("target") / "site"
    env = _clean_env(data_dir)
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], elsewhere, env,
         timeout=INSTALL_TIMEOUT_S)
    env["PYTHONPATH"] = str(target)
    code = ("from nasbench_tools.datasets import DataStore; import nasbench_tools; "
            "s = DataStore(); print(nasbench_tools.__file__, len(s.files.manifest), len(s.load('nb201/cifar10/test_accuracy').values))")
    out = _run([sys.executable, "-c", code], elsewhere, env).stdout.split()
    assert Path(out[0]).is_relative_to(target)
    assert int(out[1]) >= 8 and int(out[2]) == 15625
