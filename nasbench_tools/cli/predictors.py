"""``nasbench-study predictors list|info|fit|predict``: the predictor catalogue from the command line.

``fit`` trains a registered predictor on a CSV of ``arch,value`` rows (architecture strings in
any format of the space) and saves it into a model folder (``model.npz`` written by
:func:`predictors.persistence.save`, plus ``model.json`` naming the space and the training
data); ``predict`` loads that folder and writes ``arch,prediction[,std]`` for a CSV of
architectures or the whole space.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from typing import Any

from ..errors import DataFormatError, InvalidArchitectureError, ParameterError
from .common import (add_format, add_out_dir, add_run_mode, check_existing_output, existing_dir, existing_file,
                     format_table, jsonable, non_negative_int, positive_int, print_json, write_config)

#: Files of a model folder (``fit --out``) and of a prediction folder (``predict --out``).
MODEL_NAME = "model.npz"
MODEL_META_NAME = "model.json"
PREDICTIONS_NAME = "predictions.csv"
PREDICTIONS_CONFIG_NAME = "predictions.config.json"
#: Columns of the training CSV and of the architecture CSV.
ARCH_COLUMN = "arch"
VALUE_COLUMN = "value"
#: Cross-validation folds of ``fit --tune``.
TUNE_FOLDS = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predictors", help="the predictor catalogue: list, info, fit on a CSV, predict architectures")
    psub = p.add_subparsers(dest="predictors_command", required=True, metavar="ACTION")

    ls = psub.add_parser("list", help="every registered predictor: encoding, probabilistic, the extra it needs")
    add_format(ls)
    ls.set_defaults(func=cmd_list)

    info = psub.add_parser("info", help="one predictor's defaults and tuning space")
    info.add_argument("name", help="registry name, e.g. ridge (see 'predictors list')")
    add_format(info)
    info.set_defaults(func=cmd_info)

    fit = psub.add_parser("fit", help="fit a predictor on a CSV of arch,value rows and save it into a model folder")
    fit.add_argument("name", help="registry name, e.g. ridge (see 'predictors list')")
    fit.add_argument("--space", required=True, help="search space of the architectures, e.g. nb201")
    fit.add_argument("--train", type=existing_file, required=True, metavar="CSV",
                     help=f"training data: columns '{ARCH_COLUMN}' (any string format of the space) and "
                          f"'{VALUE_COLUMN}' (finite numbers)")
    _add_arch_format(fit)
    add_out_dir(fit, f"{MODEL_NAME} and {MODEL_META_NAME}")
    fit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="override a parameter (repeatable); VALUE is read as JSON when it parses, else as text")
    fit.add_argument("--tune", type=positive_int, default=None, metavar="N",
                     help=f"random-search N configurations of the tuning space ({TUNE_FOLDS}-fold CV on "
                          "Kendall's tau) before the final fit")
    fit.add_argument("--seed", type=non_negative_int, default=0,
                     help="random_state of the predictor and of the tuning search")
    add_run_mode(fit)
    fit.set_defaults(func=cmd_fit)

    pr = psub.add_parser("predict", help="predict architectures with a saved model into DIR/predictions.csv")
    pr.add_argument("--model", type=existing_dir, required=True, metavar="DIR", help="model folder written by 'fit'")
    which = pr.add_mutually_exclusive_group(required=True)
    which.add_argument("--archs", type=existing_file, metavar="CSV",
                       help=f"architectures to predict: a CSV with column '{ARCH_COLUMN}'")
    which.add_argument("--all", action="store_true", help="every architecture of the model's space (canonical order)")
    _add_arch_format(pr)
    add_out_dir(pr, f"{PREDICTIONS_NAME} (arch, prediction[, std])")
    pr.add_argument("--no-std", action="store_true", help="leave out the std column of probabilistic predictors")
    add_run_mode(pr)
    pr.set_defaults(func=cmd_predict)


def _add_arch_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch-format", default=None, metavar="STYLE",
                        help="string format of the 'arch' cells (e.g. nb201, ops, naslib); default: detected from "
                             "the first cell (tuple formats must be named)")


# --------------------------------------------------------------------------- catalogue
def extra_of(name: str) -> str | None:
    """The pip extra predictor ``name`` needs (its class's ``extra``; ``None``: the core install suffices)."""
    from predictors.registry import extra_of as registered_extra

    return registered_extra(name)


def describe_space(space: dict[str, Any]) -> dict[str, str]:
    """A tuning space as text (``describe()`` of each distribution)."""
    return {k: v.describe() if hasattr(v, "describe") else repr(v) for k, v in space.items()}


def catalogue() -> list[dict[str, Any]]:
    """One entry per registered predictor; one whose extra is missing says so instead of failing."""
    import predictors

    from ..errors import MissingExtraError

    rows = []
    for name in predictors.available():
        entry: dict[str, Any] = {"name": name, "extra": extra_of(name), "installed": True}
        try:
            meta = predictors.info(name)
        except (MissingExtraError, ImportError):
            entry.update(installed=False, encoding=None, probabilistic=None, differentiable=None)
        else:
            entry.update(encoding=meta["encoding"], probabilistic=meta["probabilistic"],
                         differentiable=meta["differentiable"])
        rows.append(entry)
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    rows = catalogue()
    if args.format == "json":
        print_json({"predictors": rows})
        return 0

    def flag(value: bool | None) -> str:
        return "?" if value is None else ("yes" if value else "no")

    print(format_table(["predictor", "encoding", "probabilistic", "differentiable", "extra", "installed"],
                       [(r["name"], r["encoding"] or "?", flag(r["probabilistic"]), flag(r["differentiable"]),
                         r["extra"] or "(core)", flag(r["installed"])) for r in rows]))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import predictors

    meta = predictors.info(args.name)
    doc = {**meta, "tuning_space": describe_space(meta["tuning_space"]), "constraints": describe_space(meta["constraints"])}
    if args.format == "json":
        print_json(doc)
        return 0
    print(f"{doc['name']} ({doc['class']}): encoding {doc['encoding']}, probabilistic {doc['probabilistic']}, "
          f"differentiable {doc['differentiable']}, at least {doc['min_train_samples']} training samples, "
          f"extra {doc['extra'] or '(core)'}")
    print(format_table(["parameter", "default", "allowed", "tuning range"],
                       [(k, json.dumps(jsonable(v)), doc["constraints"].get(k, ""), doc["tuning_space"].get(k, ""))
                        for k, v in doc["defaults"].items()]))
    return 0


# --------------------------------------------------------------------------- reading CSVs
def parse_params(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE as JSON when it parses (numbers, true/false, lists), else text."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"--param {item!r}: expected KEY=VALUE, e.g. alpha=0.5")
        if key in params:
            raise ParameterError(f"--param {key} is given twice")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"--param {item!r}: expected a finite number")
        params[key] = value
    return params


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV that must have ``columns``; one-line errors name the file."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}; expected a header "
                                      f"with {', '.join(columns)}, got {', '.join(header) or 'nothing'}")
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    except csv.Error as exc:
        raise DataFormatError(f"{path}: not a readable CSV ({exc})") from None
    if not rows:
        raise DataFormatError(f"{path}: no data rows")
    return rows


def parse_architectures(space: Any, path: Path, rows: list[tuple[int, dict[str, str]]], style: str | None) -> Any:
    """Op-code rows of the ``arch`` cells (vectorised; on failure the first bad line is named)."""
    texts = [(row.get(ARCH_COLUMN) or "").strip() for _, row in rows]
    try:
        return space.parse(texts, style)
    except InvalidArchitectureError:
        pass
    for (line, _), text in zip(rows, texts):
        if not text:
            raise DataFormatError(f"{path} line {line}: empty '{ARCH_COLUMN}' cell")
        try:
            space.parse([text], style)
        except InvalidArchitectureError as exc:
            raise DataFormatError(f"{path} line {line}: {str(exc).splitlines()[0]}") from None
    raise DataFormatError(f"{path}: the '{ARCH_COLUMN}' cells mix string formats of {space.name}; use one format")


def read_training_csv(space: Any, path: Path, style: str | None) -> tuple[Any, Any]:
    """Architectures and finite target values of a training CSV; duplicates and bad cells are errors."""
    import numpy as np

    rows = _read_rows(path, (ARCH_COLUMN, VALUE_COLUMN))
    values = np.empty(len(rows))
    for i, (line, row) in enumerate(rows):
        cell = (row.get(VALUE_COLUMN) or "").strip()
        try:
            values[i] = float(cell)
        except ValueError:
            raise DataFormatError(f"{path} line {line}: '{VALUE_COLUMN}' {cell!r} is not a number") from None
        if not math.isfinite(values[i]):
            raise DataFormatError(f"{path} line {line}: '{VALUE_COLUMN}' {cell!r} is not finite")
    ops = parse_architectures(space, path, rows, style)
    index = space.index(ops)
    _, first, counts = np.unique(index, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = int(first[np.argmax(counts > 1)])
        again = [rows[i][0] for i in np.flatnonzero(index == index[dup])]
        raise DataFormatError(f"{path}: architecture {rows[dup][1][ARCH_COLUMN]!r} appears on lines "
                              f"{', '.join(map(str, again))}; give each architecture once")
    return ops, values


def file_sha256(path: Path) -> str:
    from ..datasets import sha256_file

    return sha256_file(Path(path))


# --------------------------------------------------------------------------- fit / predict
def build_predictor(name: str, space: str, params: dict[str, Any], seed: int, tune: int | None) -> Any:
    """The (possibly tuned) predictor ``name`` with ``params``; bad values are one-line errors."""
    import predictors
    from predictors.tuning import TunedPredictor

    cls = predictors.get_class(name)
    params = dict(params)
    valid = cls._get_param_names()
    if cls.needs_space:
        given = params.setdefault("space", space)
        if given != space:
            raise ParameterError(f"--param space={given} contradicts --space {space}")
    if "random_state" in valid:
        params.setdefault("random_state", seed)
    try:
        model = predictors.make(name, **params)
    except ValueError as exc:  # out-of-range parameter values (the registry names the parameter)
        raise ParameterError(f"predictor {name!r}: {str(exc).splitlines()[0]}") from None
    if tune is None:
        return model
    return TunedPredictor(model, n_configs=tune, time_budget_s=None, cv=TUNE_FOLDS, random_state=seed)


def cmd_fit(args: argparse.Namespace) -> int:
    from predictors.persistence import save

    from ..encodings import encode
    from ..runner.lock import OutputLock
    from ..spaces import get_space

    space = get_space(args.space)
    params = parse_params(args.param)
    out = Path(args.out)
    model_path, meta_path = out / MODEL_NAME, out / MODEL_META_NAME
    config = jsonable({
        "predictor": args.name, "space": space.name, "params": params, "tune": args.tune, "seed": args.seed,
        "arch_format": args.arch_format,
        "train": str(args.train), "train_sha256": file_sha256(args.train),
    })
    with OutputLock(out):
        if check_existing_output(model_path, meta_path, config, args):
            print(f"{model_path} is already fitted for this configuration; nothing to do")
            return 0
        ops, y = read_training_csv(space, args.train, args.arch_format)
        model = build_predictor(args.name, space.name, params, args.seed, args.tune)
        try:
            model.fit(encode(space, ops, model.encoding), y)
        except ValueError as exc:  # too few rows for the predictor, constant targets refused ...
            raise ParameterError(f"{args.train}: cannot fit {args.name} ({str(exc).splitlines()[0]})") from None
        write_config(meta_path, config)
        save(model, model_path)
    tuned = f", tuned over {args.tune} configurations" if args.tune else ""
    print(f"fitted {args.name} on {len(y)} architectures of {space.name}{tuned} -> {model_path}")
    return 0


def read_model(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The predictor and its ``model.json`` from a model folder."""
    from predictors.persistence import load

    meta_path = folder / MODEL_META_NAME
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise DataFormatError(f"{folder}: not a model folder (no {MODEL_META_NAME}; write one with 'predictors fit')") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{meta_path}: unreadable ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("space"), str) or not isinstance(meta.get("predictor"), str):
        raise DataFormatError(f"{meta_path}: expected an object with 'space' and 'predictor' names")
    return load(folder / MODEL_NAME, expected=meta["predictor"]), meta


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..encodings import encode
    from ..runner.lock import OutputLock
    from ..spaces import get_space
    from ..utils.io import write_csv_atomic

    model, meta = read_model(Path(args.model))
    space = get_space(meta["space"])
    out = Path(args.out)
    result, config_path = out / PREDICTIONS_NAME, out / PREDICTIONS_CONFIG_NAME
    config = jsonable({
        "model_sha256": file_sha256(Path(args.model) / MODEL_NAME), "archs": "all" if args.all else str(args.archs),
        "archs_sha256": None if args.all else file_sha256(args.archs), "std": not args.no_std,
        "arch_format": args.arch_format,
    })
    with OutputLock(out):
        if check_existing_output(result, config_path, config, args):
            print(f"{result} is complete for this configuration; nothing to do")
            return 0
        if args.all:
            ops = space.enumerate()
            names = space.format(ops)
        else:
            rows = _read_rows(args.archs, (ARCH_COLUMN,))
            ops = parse_architectures(space, args.archs, rows, args.arch_format)
            names = [row[ARCH_COLUMN].strip() for _, row in rows]
        X = encode(space, ops, model.encoding)
        frame = pd.DataFrame({"arch": names})
        if model.probabilistic and not args.no_std:
            frame["prediction"], frame["std"] = model.predict(X, return_std=True)
        else:
            frame["prediction"] = model.predict(X)
        write_config(config_path, config)
        write_csv_atomic(frame, result)
    print(f"wrote {result} ({len(frame)} architectures, {meta['predictor']} on {space.name})")
    return 0
