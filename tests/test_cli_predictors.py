"""``nasbench-study predictors list|info|fit|predict`` on real benchmark values and real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictors
from nasbench_tools.cli import main
from nasbench_tools.encodings import encode
from predictors.persistence import load

DATASET = "hwnas/cifar10/edgegpu_latency"
N_TRAIN = 60


@pytest.fixture(scope="module")
def latency(store):
    return store.load(DATASET)


@pytest.fixture(scope="module")
def train_idx(latency):
    return np.random.default_rng(0).choice(latency.space.size, N_TRAIN, replace=False)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def train_csv(tmp_path, latency, train_idx):
    names = latency.space.format(latency.space.arch(train_idx))
    return _write_csv(tmp_path / "train.csv", ["arch", "value"], [[n, repr(float(v))] for n, v in
                                                                   zip(names, latency.values[train_idx])])


def test_list_and_info(capsys):
    assert main(["predictors", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["predictors"]}
    assert list(rows) == list(predictors.available()) and len(rows) >= 18
    assert rows["ridge"]["extra"] is None and rows["xgboost"]["extra"] == "boosting" and rows["gcn"]["extra"] == "neural"
    assert rows["gcn"]["encoding"] == "graph" and rows["gp"]["probabilistic"] is True
    assert all(r["installed"] for r in rows.values())
    assert main(["predictors", "list"]) == 0
    assert "bayesian_linear_regression  onehot" in capsys.readouterr().out

    assert main(["predictors", "info", "svr", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["defaults"] == predictors.make("svr").get_params() and doc["extra"] is None
    assert set(doc["tuning_space"]) == set(predictors.info("svr")["tuning_space"]) and doc["tuning_space"]["C"]
    assert main(["predictors", "info", "svr"]) == 0
    assert "kernel" in capsys.readouterr().out


def test_fit_and_predict_match_the_python_api(tmp_path, train_csv, latency, train_idx, capsys):
    space = latency.space
    model_dir, pred_dir = tmp_path / "model", tmp_path / "pred"
    fit = ["predictors", "fit", "ridge", "--space", "nb201", "--train", str(train_csv), "--out", str(model_dir),
           "--param", "alpha=2.5"]
    assert main(fit) == 0
    assert f"fitted ridge on {N_TRAIN} architectures of nb201" in capsys.readouterr().out
    model = load(model_dir / "model.npz", expected="ridge")
    assert model.get_params()["alpha"] == 2.5
    reference = predictors.make("ridge", alpha=2.5, random_state=0).fit(
        encode(space, space.arch(train_idx), "onehot"), latency.values[train_idx])

    query = np.arange(7) * 997
    archs = _write_csv(tmp_path / "archs.csv", ["arch"], [[a] for a in space.format(space.arch(query), "ops")])
    assert main(["predictors", "predict", "--model", str(model_dir), "--archs", str(archs), "--arch-format", "ops",
                 "--out", str(pred_dir)]) == 0
    pred = pd.read_csv(pred_dir / "predictions.csv")
    assert list(pred.columns) == ["arch", "prediction"]
    assert pred["arch"].tolist() == space.format(space.arch(query), "ops")  # the user's strings, as given
    np.testing.assert_allclose(pred["prediction"], reference.predict(encode(space, space.arch(query), "onehot")),
                               rtol=1e-12)

    assert main(["predictors", "predict", "--model", str(model_dir), "--all", "--out", str(tmp_path / "all")]) == 0
    every = pd.read_csv(tmp_path / "all" / "predictions.csv")
    assert len(every) == space.size and every["arch"].tolist()[:3] == space.format(space.arch(np.arange(3)))
    np.testing.assert_allclose(every["prediction"].to_numpy()[query], pred["prediction"], rtol=1e-12)

    # resume convention: same configuration -> nothing re-run, bytes unchanged; another -> refused; --overwrite
    saved = (model_dir / "model.npz").read_bytes()
    capsys.readouterr()
    assert main(fit) == 0 and "nothing to do" in capsys.readouterr().out
    assert (model_dir / "model.npz").read_bytes() == saved
    assert main(fit[:-1] + ["alpha=7"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "params: stored {'alpha': 2.5}, now {'alpha': 7}" in err and "--overwrite" in err
    assert (model_dir / "model.npz").read_bytes() == saved
    assert main(fit[:-1] + ["alpha=7", "--overwrite"]) == 0
    assert load(model_dir / "model.npz").get_params()["alpha"] == 7
    assert main(["predictors", "predict", "--model", str(model_dir), "--all", "--out", str(tmp_path / "all")]) == 2
    assert "model_sha256" in capsys.readouterr().err  # predictions of the old model are not silently kept


def test_probabilistic_predictor_writes_std_and_tuning_is_seeded(tmp_path, train_csv):
    for run in ("a", "b"):
        assert main(["predictors", "fit", "bayesian_linear_regression", "--space", "nb201", "--train", str(train_csv),
                     "--out", str(tmp_path / run), "--tune", "2", "--seed", "3"]) == 0
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()
    assert main(["predictors", "predict", "--model", str(tmp_path / "a"), "--all", "--out", str(tmp_path / "p")]) == 0
    pred = pd.read_csv(tmp_path / "p" / "predictions.csv")
    assert list(pred.columns) == ["arch", "prediction", "std"] and (pred["std"] > 0).all()
    assert main(["predictors", "predict", "--model", str(tmp_path / "a"), "--all", "--no-std",
                 "--out", str(tmp_path / "q")]) == 0
    assert list(pd.read_csv(tmp_path / "q" / "predictions.csv").columns) == ["arch", "prediction"]


BAD_ROWS = {
    "text value": (lambda rows: rows[1].__setitem__(1, "12.3ms"), "line 3: 'value' '12.3ms' is not a number"),
    "infinite value": (lambda rows: rows[2].__setitem__(1, "1e400"), "line 4: 'value' '1e400' is not finite"),
    "bad arch": (lambda rows: rows[3].__setitem__(0, "|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
                 "line 5: nb201: '|nor_conv_9x9~0|"),
    "empty arch": (lambda rows: rows[0].__setitem__(0, ""), "line 2: empty 'arch' cell"),
    "duplicate": (lambda rows: rows[4].__setitem__(0, rows[0][0]), "appears on lines 2, 6"),
    "no rows": (lambda rows: rows.clear(), "no data rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_training_rows_are_one_line_naming_the_row(case, tmp_path, train_csv, capsys):
    rows = [line.split(",", 1) for line in train_csv.read_text().splitlines()[1:]]
    edit, expected = BAD_ROWS[case]
    edit(rows)
    bad = _write_csv(tmp_path / "bad.csv", ["arch", "value"], rows)
    rc = main(["predictors", "fit", "ridge", "--space", "nb201", "--train", str(bad), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith(f"nasbench-study: error: {bad}")
    assert expected in err
    assert not (tmp_path / "m" / "model.npz").exists() and not (tmp_path / "m" / "model.json").exists()


@pytest.mark.parametrize("extra,expected", [
    (["--param", "alpha"], "--param 'alpha': expected KEY=VALUE"),
    (["--param", "nope=1"], "has no parameter(s) 'nope'"),
    (["--param", "alpha=-1"], "alpha"),
    (["--param", "alpha=1", "--param", "alpha=2"], "--param alpha is given twice"),
    (["--arch-format", "bogus"], "unknown architecture format 'bogus'"),
    (["--space", "nb999"], "nb999"),
])
def test_bad_options_are_one_line(extra, expected, tmp_path, train_csv, capsys):
    argv = ["predictors", "fit", "ridge", "--space", "nb201", "--train", str(train_csv), "--out", str(tmp_path / "m")]
    if extra[0] == "--space":
        argv[argv.index("nb201")] = extra[1]
        extra = []
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err
    assert not (tmp_path / "m" / "model.npz").exists()


def test_wrong_columns_and_not_a_model_folder(tmp_path, capsys):
    bad = _write_csv(tmp_path / "cols.csv", ["architecture", "latency"], [["x", "1"]])
    assert main(["predictors", "fit", "ridge", "--space", "nb201", "--train", str(bad), "--out", str(tmp_path / "m")]) == 2
    assert "missing column(s) arch, value" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["predictors", "predict", "--model", str(tmp_path / "empty"), "--all", "--out", str(tmp_path / "p")]) == 2
    assert "not a model folder (no model.json" in capsys.readouterr().err
