"""The package as users get it: the wheel installed non-editable into a fresh virtual
environment outside the checkout, used from another directory.

One environment, two stages: first the wheel alone (the core: the data layer, a ridge fit, a tiny
simulation, and one-line "install the extra" errors for the rest; no optional library may come
with it), then the ``boosting`` and ``report`` extras added on top, as a user would (the CLI's
study, report and simulator; a LightGBM fit). A third check installs the wheel with ``pip install
--target`` (no ``sys.prefix`` data files): the packaged manifest must still be found.

Speed without testing less: the environment is made without its own pip (this interpreter's pip
installs into it with ``--python``) and packages are installed with ``--no-compile`` (Python
compiles what it imports); the core-only observations are all made by one fixture before the
extras are added, so the order of the tests does not matter. Installing needs the package index
(or pip's cache); the module takes about a minute, most of it pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: Longest a pip install may take before the test fails.
INSTALL_TIMEOUT_S = 900
#: Longest one command of the installed package may take.
COMMAND_TIMEOUT_S = 300
#: The optional libraries (every extra's imports) that a core install must not bring.
OPTIONAL = ("torch", "xgboost", "lightgbm", "ngboost", "gpytorch", "matplotlib", "dask")
#: What the core-only fixture prints in the fresh environment: the optional libraries present, a
#: ridge fit's MAE against the spread, the error of each predictor that needs an extra, a simulation.
CORE_SCRIPT = textwrap.dedent("""
    import importlib.util, json, sys, numpy as np, predictors
    from nasbench_tools.datasets import DataStore
    from nasbench_tools.encodings import encode
    from nasbench_tools.errors import MissingExtraError
    from simulation import SimulationConfig, run_simulation
    present = [m for m in sys.argv[1:] if importlib.util.find_spec(m)]
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
    print(json.dumps({"present": present, "mae": mae, "spread": float(np.mean(np.abs(y[te] - y[te].mean()))),
                      "extras": extras, "rows": rows}))
""")


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


def _pip_install(python: Path, *args: str) -> None:
    """This interpreter's pip installing into the environment of ``python`` (which has no pip of its own)."""
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile", *args],
         cwd=python.parent, env=_clean_env(None), timeout=INSTALL_TIMEOUT_S)


def _last_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Installed:
    """A virtual environment with the wheel: its python, its ``nasbench-study`` and the environment to run them in."""

    venv: Path
    python: str
    cli: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(out)],
         cwd=out, env=_clean_env(None), timeout=INSTALL_TIMEOUT_S)
    wheels = list(out.glob("nasbench_study-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the checkout (so nothing is imported from it)."""
    return tmp_path_factory.mktemp("user-project")


def _assert_installed_copy(installed: Installed, cwd: Path) -> None:
    code = "import nasbench_tools, predictors, simulation; print(nasbench_tools.__file__, predictors.__file__, simulation.__file__)"
    files = _run([installed.python, "-c", code], cwd, installed.env).stdout.split()
    for f in files:
        assert Path(f).is_relative_to(installed.venv), f"{f} is not the installed copy in {installed.venv}"


@pytest.fixture(scope="module")
def core(wheel: Path, elsewhere: Path, tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Installed:
    """A fresh venv with the wheel and nothing else (its install requirements)."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    _run([_base_python(), "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent, env=_clean_env(None))
    installed = Installed(venv, str(venv / "bin" / "python"), str(venv / "bin" / "nasbench-study"), _clean_env(data_dir))
    _pip_install(venv / "bin" / "python", str(wheel))
    _assert_installed_copy(installed, elsewhere)
    return installed


@pytest.fixture(scope="module")
def core_only(core: Installed, elsewhere: Path) -> dict[str, subprocess.CompletedProcess]:
    """Everything the core-only test checks, run before :func:`with_extras` changes the environment."""
    return {
        "script": _run([core.python, "-c", CORE_SCRIPT, *OPTIONAL], elsewhere, core.env),
        "version": _run([core.cli, "--version"], elsewhere, core.env),
        "data_list": _run([core.cli, "data", "list"], elsewhere, core.env),
        # --help of a torch command: works, or names the extra in one line (checked in the test)
        "supernet_help": subprocess.run([core.cli, "supernet", "train", "--help"], cwd=elsewhere, env=core.env,
                                        capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S),
    }


@pytest.fixture(scope="module")
def with_extras(core: Installed, core_only: dict, wheel: Path, elsewhere: Path) -> Installed:
    """The same venv after ``pip install 'nasbench-study[boosting,report]'`` (the core-only checks ran first)."""
    _pip_install(Path(core.python), f"{wheel}[boosting,report]")
    _assert_installed_copy(core, elsewhere)
    return core


def test_wheel_contains_every_module(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for pkg in ("nasbench_tools", "predictors", "simulation"):
        for src in (REPO / pkg).rglob("*.py"):
            assert src.relative_to(REPO).as_posix() in names, f"{src} missing from the wheel"
    assert "nasbench_tools/datasets/manifest.json" in names
    assert {"nasbench_tools/py.typed", "predictors/py.typed", "simulation/py.typed"} <= names
    assert any(n.endswith("dist-info/licenses/LICENSE") or n.endswith("dist-info/LICENSE") for n in names)


def test_core_install_without_extras(core_only: dict[str, subprocess.CompletedProcess]) -> None:
    result = _last_json(core_only["script"])
    assert result["present"] == [], f"core install pulled optional libraries: {result['present']}"
    assert result["mae"] < result["spread"]
    assert result["rows"] > 0
    assert "nasbench-study[boosting]" in result["extras"]["xgboost"]
    assert "nasbench-study[neural]" in result["extras"]["gp"]
    assert "nasbench-study[neural]" in result["extras"]["gcn"]

    assert core_only["version"].stdout.strip()
    assert "hwnas/cifar10/edgegpu_latency" in core_only["data_list"].stdout
    proc = core_only["supernet_help"]
    # --help of a torch command still works or names the extra in one line, never a traceback
    assert "Traceback" not in proc.stderr
    if proc.returncode != 0:
        assert proc.returncode == 2 and "nasbench-study[neural]" in proc.stderr


def test_installed_with_extras(with_extras: Installed, elsewhere: Path) -> None:
    py, cli, env = with_extras.python, with_extras.cli, with_extras.env

    from nasbench_tools import __version__

    assert __version__ in _run([cli, "--version"], elsewhere, env).stdout
    assert __version__ in _run([py, "-m", "nasbench_tools.cli", "--version"], elsewhere, env).stdout
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

    fit = _run([py, "-c", textwrap.dedent("""
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


def test_target_install_finds_packaged_manifest(wheel: Path, elsewhere: Path, tmp_path_factory: pytest.TempPathFactory,
                                                data_dir: Path) -> None:
    target = tmp_path_factory.mktemp("target") / "site"
    env = _clean_env(data_dir)
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(target), str(wheel)],
         elsewhere, env, timeout=INSTALL_TIMEOUT_S)
    env["PYTHONPATH"] = str(target)
    code = ("from nasbench_tools.datasets import DataStore; import nasbench_tools; "
            "s = DataStore(); print(nasbench_tools.__file__, len(s.files.manifest), len(s.load('nb201/cifar10/test_accuracy').values))")
    out = _run([sys.executable, "-c", code], elsewhere, env).stdout.split()
    assert Path(out[0]).is_relative_to(target)
    assert int(out[1]) >= 8 and int(out[2]) == 15625
