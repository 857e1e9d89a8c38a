"""The core predictors work without the optional extras; the others name the extra to install.

Runs in a subprocess whose ``sys.meta_path`` starts with a finder that refuses torch, gpytorch,
torch_geometric, xgboost, lightgbm and ngboost (``ModuleNotFoundError``, as if not installed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BLOCKED = ("torch", "gpytorch", "torch_geometric", "xgboost", "lightgbm", "ngboost")

SCRIPT = textwrap.dedent(f"""
    import sys

    class Block:
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in {BLOCKED!r}:
                raise ModuleNotFoundError(f"No module named {{fullname!r}}", name=fullname)
            return None

    sys.meta_path.insert(0, Block())
    import numpy as np
    import predictors
    from nasbench_tools.encodings import encode
    from nasbench_tools.errors import MissingExtraError
    from nasbench_tools.spaces import get_space

    space = get_space("nb201")
    rng = np.random.default_rng(0)
    ops = np.unique(np.vstack([space.lut_architectures(), space.arch(rng.choice(space.size, 60, replace=False))]),
                    axis=0)
    X = encode(space, ops, "onehot")
    y = X @ rng.random(X.shape[1]) + 1.0
    for name in ("linear_regression", "ridge", "bayesian_linear_regression", "svr", "random_forest", "lookup_table"):
        pred = predictors.make(name).fit(X, y).predict(X)
        assert pred.shape == (len(X),) and np.all(np.isfinite(pred)), name
        print("ok", name)
    pipe = predictors.arch_pipeline("ridge", "nb201").fit(space.format(ops), y)
    assert np.all(np.isfinite(pipe.predict(space.format(ops))))
    for name, extra in (("gcn", "neural"), ("gp", "neural"), ("mlp_small", "neural")):
        try:
            predictors.make(name)
        except MissingExtraError as exc:
            assert f"[{{extra}}]" in str(exc) and "\\n" not in str(exc), exc
            print("missing", name, extra)
    for name in ("xgboost", "lightgbm", "ngboost"):
        try:
            predictors.make(name).fit(X, y)
        except MissingExtraError as exc:
            assert "[boosting]" in str(exc), exc
            print("missing", name, "boosting")
    from predictors.registry import extra_of
    for name in predictors.available():  # the extra is known even where the class cannot be imported
        print("extra", name, extra_of(name))
    assert not any(m in sys.modules for m in {BLOCKED!r})
""")


def test_core_predictors_without_optional_extras():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    for name in ("linear_regression", "ridge", "bayesian_linear_regression", "svr", "random_forest", "lookup_table"):
        assert f"ok {name}" in lines
    for name in ("gcn", "gp", "mlp_small"):
        assert f"missing {name} neural" in lines
    for name in ("xgboost", "lightgbm", "ngboost"):
        assert f"missing {name} boosting" in lines
    import predictors

    for name in predictors.available():  # what a missing import reports matches the class's declaration
        assert f"extra {name} {predictors.get_class(name).extra}" in lines, name
