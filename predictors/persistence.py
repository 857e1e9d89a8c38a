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

A file is untrusted input. Before use, :func:`load` checks every metadata field, the parameters
against the predictor's declared constraints (``parameter_constraints``), the sha256 recorded for every state
array, that numeric arrays are finite, and that the refit work of refit-persisted models is
bounded; native LightGBM/XGBoost models are parsed in a child process first (a malformed model
string can abort the interpreter); finally a probe prediction must be finite and of the right
shape (catches wrongly shaped or NaN weights). Every failure is one :class:`PredictorFileError`.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

import nasbench_tools
from nasbench_tools.errors import PredictorFileError
from nasbench_tools.utils.io import atomic_write

from ._refit import RefitStateMixin
from .base import Predictor
from .registry import class_path, get_class, name_of

#: Most training rows a refit-persisted model (SVR, NGBoost) may refit on at load (NB201: 15,625).
MAX_REFIT_ROWS = 20_000
#: Most boosting rounds a refit at load may run (the tuning space goes to 512).
MAX_REFIT_ESTIMATORS = 5_000
#: Widest input a file may declare (the widest encoding has a few hundred features).
MAX_FEATURES = 100_000
#: Rows of the probe prediction run after loading.
PROBE_ROWS = 2
#: Seconds the child process may take to parse a native boosting model.
NATIVE_CHECK_TIMEOUT_S = 120
#: Predictors whose state holds a native model string parsed by C++ code: state key and parser.
NATIVE_MODELS = {
    "lightgbm": ("model_txt", "import lightgbm, sys; lightgbm.Booster(model_str=sys.stdin.buffer.read().decode('utf-8'))"),
    "xgboost": ("model_ubj", "import xgboost, sys; xgboost.Booster().load_model(bytearray(sys.stdin.buffer.read()))"),
}
REQUIRED_META = ("name", "class", "params", "y_mean", "y_scale", "n_features_in", "state_keys")

FORMAT_NAME = "nasbench-study-predictor"
FORMAT_VERSION = 1
META_KEY = "__meta__"
STATE_PREFIX = "state/"


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
    # parameters a predictor stores among its state arrays (e.g. a transfer predictor's source table)
    in_state = set(getattr(predictor, "state_params", ()))
    params = {k: _jsonable(v, k) for k, v in predictor.get_params(deep=False).items() if k not in in_state}
    meta = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "toolkit_version": nasbench_tools.__version__,
        "name": name, "class": class_path(type(predictor)), "params": params,
        "y_mean": float(predictor.y_mean_), "y_scale": float(predictor.y_scale_),
        "n_features_in": int(predictor.n_features_in_), "state_keys": sorted(state),
        "state_sha256": {k[len(STATE_PREFIX):]: _array_sha(a) for k, a in arrays.items()},
    }
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _array_sha(arr: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes (what a reader gets back)."""
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def read_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a predictor file (nothing else is read)."""
    with _open(path) as data:
        return _meta(data, path)


def _open(path: str | Path):  # noqa: ANN202 - numpy's NpzFile
    try:
        return np.load(Path(path), allow_pickle=False)
    except FileNotFoundError:
        raise PredictorFileError(f"{path}: no such predictor file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise PredictorFileError(f"{path}: not a predictor .npz file ({exc})") from None


def _meta(data, path: str | Path) -> dict[str, Any]:  # noqa: ANN001
    if META_KEY not in data.files:
        raise PredictorFileError(f"{path}: not a predictor file (no {META_KEY} entry)")
    try:
        meta = json.loads(str(data[META_KEY][()]))
    except (json.JSONDecodeError, ValueError, IndexError, OSError, zipfile.BadZipFile) as exc:
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
        try:
            state = {k[len(STATE_PREFIX):]: data[k] for k in data.files if k.startswith(STATE_PREFIX)}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise PredictorFileError(f"{path}: unreadable state array ({_one_line(exc)})") from None
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
    _check_meta(path, meta)
    _check_state(path, meta, state)
    predictor = _build(path, cls, meta)
    _check_refit_bounds(path, predictor, state)
    _check_native_model(path, name, state)
    try:
        predictor._set_state(state)
    except Exception as exc:  # noqa: BLE001 - any library error on untrusted state is the file's fault
        raise PredictorFileError(f"{path}: the {name!r} state does not load ({type(exc).__name__}: {_one_line(exc)})") from None
    _probe(path, predictor)
    return predictor


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


def _check_meta(path: str | Path, meta: dict[str, Any]) -> None:
    """Every metadata field present and of a sane type and range."""
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise PredictorFileError(f"{path}: metadata lacks the field(s) {', '.join(missing)}")
    if not isinstance(meta["params"], dict):
        raise PredictorFileError(f"{path}: metadata field 'params' must be an object, got {type(meta['params']).__name__}")
    for key, low in (("y_mean", None), ("y_scale", 0.0)):
        v = meta[key]
        # y_scale 0 is a constant target (every prediction is y_mean, see predictors.base)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (low is not None and v < low):
            expected = "a finite number" + (" >= 0" if low is not None else "")
            raise PredictorFileError(f"{path}: metadata field {key!r} is {v!r}; expected {expected}")
    n = meta["n_features_in"]
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_FEATURES:
        raise PredictorFileError(f"{path}: metadata field 'n_features_in' is {n!r}; expected an integer in 1..{MAX_FEATURES}")
    if not isinstance(meta["state_keys"], list) or not all(isinstance(k, str) for k in meta["state_keys"]):
        raise PredictorFileError(f"{path}: metadata field 'state_keys' must be a list of names")


def _check_state(path: str | Path, meta: dict[str, Any], state: dict[str, np.ndarray]) -> None:
    """State arrays: all listed ones present, checksums match, numeric ones finite."""
    missing = sorted(set(meta["state_keys"]) - set(state))
    if missing:
        raise PredictorFileError(f"{path}: state arrays missing: {', '.join(missing)}")
    sums = meta.get("state_sha256")
    if sums is not None:
        if not isinstance(sums, dict):
            raise PredictorFileError(f"{path}: metadata field 'state_sha256' must be an object")
        for key, arr in state.items():
            if sums.get(key) != _array_sha(arr):
                raise PredictorFileError(f"{path}: state array {key!r} does not match its recorded sha256 (edited or damaged)")
    for key, arr in state.items():
        columns = [arr[f] for f in arr.dtype.names] if arr.dtype.names else [arr]  # structured: each field
        for col in columns:
            if col.dtype.kind not in "biufcUS":
                raise PredictorFileError(f"{path}: state array {key!r} has unsupported dtype {arr.dtype}")
            if col.dtype.kind in "fc" and not np.isfinite(col).all():
                raise PredictorFileError(f"{path}: state array {key!r} holds NaN or infinite values")


def _build(path: str | Path, cls: type[Predictor], meta: dict[str, Any]) -> Predictor:
    """The predictor with the file's parameters, checked like the constructor's callers do."""
    valid = set(cls._get_param_names())
    unknown = sorted(set(meta["params"]) - valid)
    if unknown:
        raise PredictorFileError(f"{path}: unknown parameter(s) {', '.join(unknown)} for {meta['name']!r}")
    try:
        predictor = cls(**meta["params"])
        predictor.check_params()
    except (ValueError, TypeError) as exc:
        raise PredictorFileError(f"{path}: invalid parameters ({_one_line(exc)})") from None
    predictor.y_mean_ = float(meta["y_mean"])
    predictor.y_scale_ = float(meta["y_scale"])
    predictor.n_features_in_ = int(meta["n_features_in"])
    return predictor


def _check_refit_bounds(path: str | Path, predictor: Predictor, state: dict[str, np.ndarray]) -> None:
    """Models persisted by refitting: training data of the declared width, bounded work."""
    if not isinstance(predictor, RefitStateMixin):
        return
    X, y = state.get("X_train"), state.get("y_train")
    if X is None or y is None or X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) < 1:
        raise PredictorFileError(f"{path}: refit state needs X_train (rows x features) and y_train (rows) of equal length")
    if X.shape[1] != predictor.n_features_in_:
        raise PredictorFileError(f"{path}: X_train has {X.shape[1]} columns, the file declares n_features_in={predictor.n_features_in_}")
    if len(y) > MAX_REFIT_ROWS:
        raise PredictorFileError(f"{path}: refitting on {len(y)} rows at load exceeds the limit of {MAX_REFIT_ROWS}")
    n_est = getattr(predictor, "n_estimators", None)
    if n_est is not None and n_est > MAX_REFIT_ESTIMATORS:
        raise PredictorFileError(
            f"{path}: n_estimators={n_est} would refit for a very long time at load; the limit is {MAX_REFIT_ESTIMATORS}"
        )


def _check_native_model(path: str | Path, name: str, state: dict[str, np.ndarray]) -> None:
    """Parse a native boosting model in a child process: a malformed one may abort, not raise."""
    if name not in NATIVE_MODELS:
        return
    key, code = NATIVE_MODELS[name]
    if key not in state:
        raise PredictorFileError(f"{path}: state array {key!r} missing")
    try:
        proc = subprocess.run([sys.executable, "-c", code], input=state[key].tobytes(), capture_output=True,
                              timeout=NATIVE_CHECK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise PredictorFileError(f"{path}: the {name} model did not parse within {NATIVE_CHECK_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise PredictorFileError(f"{path}: the {name} model is malformed ({last[:200]})")


def _probe(path: str | Path, predictor: Predictor) -> None:
    """A prediction on the predictor's probe input must work and be finite with one value per row."""
    X = predictor.probe_input(PROBE_ROWS)
    try:
        out = np.asarray(predictor.predict(X))
    except Exception as exc:  # noqa: BLE001 - a state of the wrong shape fails in many ways
        raise PredictorFileError(f"{path}: the loaded model cannot predict ({type(exc).__name__}: {_one_line(exc)})") from None
    if out.shape != (PROBE_ROWS,) or not np.isfinite(out).all():
        raise PredictorFileError(f"{path}: the loaded model predicts {out.ravel()[:4].tolist()} (shape {out.shape}) "
                                 "on a probe; expected finite values, one per row")
