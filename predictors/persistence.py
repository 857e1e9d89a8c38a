"""Save and load fitted predictors without pickles: one ``.npz`` of plain arrays + JSON.

File layout (``numpy.load(path, allow_pickle=False)`` reads it):

``__meta__``      a 0-d unicode array holding JSON: format name and version, the toolkit
                  version, the registry name and ``module:Class`` of the predictor, its
                  parameters, ``y_mean_``/``y_scale_``/``n_features_in_`` and the state keys;
``state/<key>``   each array of the predictor's ``_get_state()``.

How each model stores its fitted state (its ``_get_state``): linear models, Bayesian linear
regression, the lookup table and both GPs: their weight/posterior arrays; random forest: the
scikit-learn tree node arrays; XGBoost: the native UBJSON model; LightGBM: the native text
model; SVR and NGBoost (no pickle-free format exists): the standardised training data, refitted
deterministically (same parameters and seed) on load; neural predictors: their ``state_dict``
arrays.  A :class:`~predictors.tuning.TunedPredictor` is saved as its ``best_estimator_``.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np

import nasbench_tools
from nasbench_tools.errors import NasbenchError
from nasbench_tools.utils.io import atomic_write

from .base import Predictor
from .registry import class_path, get_class, name_of

FORMAT_NAME = "nasbench-study-predictor"
FORMAT_VERSION = 1
META_KEY = "__meta__"
STATE_PREFIX = "state/"


class PredictorFileError(NasbenchError, ValueError):
    """A predictor file is unreadable, from an incompatible toolkit version or of another class."""


def _major(version: str) -> str:
    return str(version).split(".", 1)[0]


def _jsonable(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v, where) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    raise PredictorFileError(f"cannot save parameter {where}={value!r}: only numbers, strings, lists and dicts are stored")


def save(predictor: Predictor, path: str | Path) -> Path:
    """Write fitted ``predictor`` to ``path`` (atomically: a failure leaves no partial file)."""
    from .tuning import TunedPredictor

    if isinstance(predictor, TunedPredictor):
        predictor = predictor._fitted()
    if not isinstance(predictor, Predictor):
        raise TypeError(f"save() needs a fitted Predictor, got {type(predictor).__name__}")
    if not hasattr(predictor, "y_mean_"):
        raise PredictorFileError(f"{predictor._label()}: call fit() before saving it")
    name = name_of(type(predictor))
    state = predictor._get_state()
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise PredictorFileError(f"{name}: state array {key!r} has dtype object, which cannot be saved without pickle")
        arrays[STATE_PREFIX + key] = arr
    params = {k: _jsonable(v, k) for k, v in predictor.get_params(deep=False).items()}
    meta = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "toolkit_version": nasbench_tools.__version__,
        "name": name, "class": class_path(type(predictor)), "params": params,
        "y_mean": float(predictor.y_mean_), "y_scale": float(predictor.y_scale_),
        "n_features_in": int(predictor.n_features_in_), "state_keys": sorted(state),
    }
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a predictor file (nothing else is read)."""
    with _open(path) as data:
        return _meta(data, path)


def _open(path: str | Path):  # noqa: ANN202 - numpy's NpzFile
    try:
        return np.load(Path(path), allow_pickle=False)
    except FileNotFoundError:
        raise PredictorFileError(f"{path}: no such predictor file") from None
    except (OSError, ValueError) as exc:
        raise PredictorFileError(f"{path}: not a predictor .npz file ({exc})") from None


def _meta(data, path: str | Path) -> dict[str, Any]:  # noqa: ANN001
    if META_KEY not in data.files:
        raise PredictorFileError(f"{path}: not a predictor file (no {META_KEY} entry)")
    try:
        meta = json.loads(str(data[META_KEY][()]))
    except (json.JSONDecodeError, ValueError) as exc:
        raise PredictorFileError(f"{path}: unreadable metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise PredictorFileError(f"{path}: not a {FORMAT_NAME} file")
    return meta


def load(path: str | Path, expected: str | type | None = None) -> Predictor:
    """Read a predictor written by :func:`save`.

    ``expected`` (a registry name or class) makes loading a file of another predictor an
    error.  Files of another toolkit major version, or whose class differs from what the
    registry now maps its name to, are rejected with a clear message.
    """
    with _open(path) as data:
        meta = _meta(data, path)
        state = {k[len(STATE_PREFIX):]: data[k] for k in data.files if k.startswith(STATE_PREFIX)}
    saved_version = str(meta.get("toolkit_version", "?"))
    if _major(saved_version) != _major(nasbench_tools.__version__):
        raise PredictorFileError(
            f"{path}: written by nasbench-study {saved_version}, this is {nasbench_tools.__version__}; "
            "files are only compatible within one major version (refit and save again)"
        )
    name = meta.get("name")
    cls = get_class(name)
    if class_path(cls) != meta.get("class"):
        raise PredictorFileError(
            f"{path}: holds predictor {name!r} of class {meta.get('class')}, but the registry maps {name!r} to "
            f"{class_path(cls)}"
        )
    if expected is not None:
        want = get_class(expected) if isinstance(expected, str) else expected
        if want is not cls:
            raise PredictorFileError(
                f"{path}: holds a {name!r} predictor ({class_path(cls)}), expected {class_path(want)}"
            )
    missing = sorted(set(meta.get("state_keys", [])) - set(state))
    if missing:
        raise PredictorFileError(f"{path}: state arrays missing: {', '.join(missing)}")
    predictor = cls(**meta["params"])
    predictor.y_mean_ = float(meta["y_mean"])
    predictor.y_scale_ = float(meta["y_scale"])
    predictor.n_features_in_ = int(meta["n_features_in"])
    predictor._set_state(state)
    return predictor
