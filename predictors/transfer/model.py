"""Transfer predictors: a GP on [source values, one-hot, op counts] fitted on k measurements.

The model (chosen by measurement, see the README's transfer section): the target, standardised,
is a Gaussian process whose kernel sums linear kernels on these feature groups,

* the source values (other devices' measurements of the same architecture), each column
  standardised over the whole space: what the other devices know;
* the one-hot encoding: an additive per-op cost, which is what a lookup table knows;
* the op counts (``op_counts``; how many edges hold each op): the same additive cost when an op
  costs the same on every edge, as on NB201's equal-width cell edges, with 5 weights to learn
  instead of 30 (benchmark latency, suggested sets: Kendall's tau 0.80 -> 0.86 at k = 10, the
  additive Eyeriss 0.74 -> 0.96; the README's transfer section);
* the one-hot encoding again, under a prior on the per-op costs learned across the source
  devices (``meta_prior``, :mod:`.prior`): its covariance (a linear kernel on ``onehot @ L``)
  and its mean (the typical device's cost as one more feature), so that with 10 measurements
  an additive device is placed within the spread of the known devices' op costs;
* with ``cell_edges="live"`` (a runtime that skips the edges that cannot reach the cell output,
  as ``nasbench-study latency measure`` does), the source values of each architecture's pruned
  form (:func:`nasbench_tools.spaces.cells.pruned`): the benchmark devices execute every edge,
  so their cost of the pruned network is what such a device's cost follows (on the CPU table,
  Kendall's tau of a least-squares fit on all of it: 0.74 with the sources, 0.91 with their
  pruned form; ``results/transfer/cell_edges.csv``);

with one weight per group and the noise fitted by marginal likelihood.  When every lookup-table
architecture of the space was measured (``use_lut``) and at least ``MIN_LUT_CHECK`` other
architectures were, the model predicts with the lookup table alone if it ranks those other
architectures at least as well (Kendall's tau) as the GP's leave-one-out predictions do, less
``LUT_TAU_MARGIN`` (the additive devices, where the GP only blurs the lookup table's ties); the
predictions are then the lookup table's own, fitted on the measured values, so such a device is
exactly as good as the lookup table.  The lookup table is not a GP feature: fitted on its own
architectures, it reproduces them exactly, and marginal likelihood trusted it on EdgeGPU, where
it ranks at 0.2 (tau at k = 50: 0.64 with it, 0.70 without).  ``X`` is the one-hot
encoding (as for every other predictor), the source table is a parameter aligned with the
space's canonical order, so ``clone``/``get_params`` work and the study grid needs nothing new.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.stats import kendalltau

from nasbench_tools.encodings import encode
from nasbench_tools.errors import InputDataError, ParameterError, PredictorFileError
from nasbench_tools.spaces import get_space

from ..base import Prediction, Predictor, standardise
from ..constraints import NO_PARAMS, Bool, Constraint, NoneOr, Options, SpaceName, Text, Texts, space_of
from ..lookup_table import LookupTable, decode_onehot
from ._gp import SumLinearGP
from .design import CELL_EDGE_MODES, count_features, live_index
from .prior import OpCostPrior, op_cost_prior
from .sources import guard_mask
from .study import suggested_training

log = logging.getLogger(__name__)

#: Measurement designs: random (the caller's draw) or suggested (see :meth:`TransferGP.suggest_training`).
DESIGNS = ("random", "suggested")
#: Fewest measured non-lookup-table architectures on which the lookup table is checked against
#: the GP (below this the GP is always used: too few honest residuals to choose by).
MIN_LUT_CHECK = 5
#: The lookup table is preferred unless the GP ranks those architectures better by this margin:
#: the lookup table is exact on additive devices, so a GP that is only level with it on ~25
#: held-out ranks is noise (measured: margin 0 left eyeriss 0.002 below the lookup table at k=50).
LUT_TAU_MARGIN = 0.03
#: Target transforms: raw values (the measured default) or logarithms.
TARGET_TRANSFORMS = ("raw", "log")


class SourceTable(Constraint):
    """None (set before ``fit``) or a finite ``(space.size, m)`` array of source values, m >= 1,
    for the search space named by parameter ``space``."""

    def is_valid(self, value: Any, params: Mapping[str, Any] = NO_PARAMS) -> bool:
        if value is None:
            return True
        try:
            table = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        space = space_of(params.get("space"))  # an unknown space is reported by its own constraint
        rows_ok = table.ndim == 2 and (space is None or table.shape[0] == space.size)
        return rows_ok and table.shape[1] >= 1 and bool(np.all(np.isfinite(table)))

    def describe(self, params: Mapping[str, Any] | None = None) -> str:
        space = space_of((params or {}).get("space"))
        rows = "space.size" if space is None else f"{space.size}"
        return f"None or a finite ({rows}, m) array of source values, m >= 1" + (
            "" if space is None else f" (space {space.name})")


class TransferGP(Predictor):
    """Few-shot predictor for a new device from k measurements and source tables.

    Parameters
    ----------
    sources: ``(space.size, m)`` array of source values in the space's canonical order
        (e.g. :func:`predictors.transfer.load_sources` ``.values``); must be set before ``fit``.
    source_names: the ``m`` dataset IDs of the columns (needed by the leakage guard).
    target: dataset ID of the target; with ``leakage_guard`` every source column of the same
        device (any dataset, any metric) is ignored.
    space: search-space name of the one-hot encoding ``X``.
    target_transform: ``"raw"`` or ``"log"`` (positive targets; predictions exp'd back).
    use_lut: predict with the lookup table alone when every lookup-table architecture was
        measured and it ranks the other measured architectures as well as the GP (see above).
    op_counts: add the op-count group (of the pruned form with ``cell_edges="live"``).
    meta_prior: add the one-hot groups under the per-op cost prior learned across the sources.
    design: how the study chooses the k training architectures: ``"random"`` or ``"suggested"``
        (:func:`predictors.transfer.suggest`); the model itself does not use it.
    cell_edges: ``"all"`` (the device runs every edge of a cell, as the benchmarks' devices do) or
        ``"live"`` (it skips edges that cannot reach the cell output, as PyTorch networks built by
        this toolkit do): adds the sources' values of each architecture's pruned form.
    """

    name = "transfer_gp"
    encoding = "onehot"
    probabilistic = True
    min_train_samples = 3
    needs_space = True
    uses_sources = True
    parameter_constraints = {
        "sources": SourceTable(), "source_names": NoneOr(Texts()), "target": NoneOr(Text()), "leakage_guard": Bool(),
        "space": SpaceName(), "target_transform": Options(*TARGET_TRANSFORMS), "use_lut": Bool(),
        "design": Options(*DESIGNS), "meta_prior": Bool(), "cell_edges": Options(*CELL_EDGE_MODES),
        "op_counts": Bool(),
    }
    #: Parameters saved among the state arrays, not in the JSON metadata (see predictors.persistence).
    state_params = ("sources",)

    def __init__(self, sources: Any = None, source_names: Sequence[str] | None = None, target: str | None = None,
                 leakage_guard: bool = True, space: str = "nb201", target_transform: str = "raw",
                 use_lut: bool = True, design: str = "random", random_state: int | None = 0,
                 meta_prior: bool = True, cell_edges: str = "all", op_counts: bool = True) -> None:
        self._store_params(locals())

    def suggest_training(self, values: np.ndarray, pool: np.ndarray, size: int, seed: int) -> np.ndarray | None:
        """With ``design="suggested"``: the suggested design of ``size`` architectures for the
        (guarded) sources (:func:`predictors.transfer.study.suggested_training`); else None."""
        if self.design != "suggested":
            return None
        return suggested_training(self, values, pool, size, seed)

    def probe_input(self, rows: int) -> np.ndarray:
        """One-hot rows of the space's first architectures (zeros are no architecture)."""
        space = get_space(self.space)
        return encode(space, space.enumerate()[:rows], self.encoding).astype(np.float64)

    def _source_columns(self) -> np.ndarray:
        """The source matrix after the leakage guard, each column standardised over the space."""
        label = self._label()
        space = get_space(self.space)
        if self.sources is None:
            raise ParameterError(f"{label}: parameter sources is not set; pass a ({space.size}, m) array of source values")
        S = np.asarray(self.sources, dtype=np.float64)
        keep = np.ones(S.shape[1], dtype=bool)
        if self.source_names is not None:
            names = list(self.source_names)
            if len(names) != S.shape[1]:
                raise ParameterError(f"{label}: {len(names)} source_names for {S.shape[1]} source columns")
            if self.leakage_guard and self.target is not None:
                keep = guard_mask(names, self.target)
                if not keep.any():
                    raise ParameterError(f"{label}: the leakage guard removes every source column for target "
                                         f"{self.target}")
        S = S[:, keep]
        sd = S.std(axis=0)
        S = (S - S.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        return S / np.sqrt(S.shape[1])

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any) -> "TransferGP":
        if y is None or np.iscomplexobj(y) or np.iscomplexobj(X):  # Predictor.fit gives scikit-learn's errors
            return super().fit(X, y)
        y = np.asarray(y, dtype=np.float64).ravel()
        if self.target_transform == "log":
            if np.any(~(y > 0)):
                row = int(np.flatnonzero(~(y > 0))[0])
                raise InputDataError(f"{self._label()}: target_transform='log' needs positive y; row {row} is {y[row]}")
            y = np.log(y)
        super().fit(X, y)
        self._choose_lut(np.asarray(X, dtype=np.float64), y)
        return self

    def _groups(self, X: np.ndarray) -> list[np.ndarray]:
        space = get_space(self.space)
        idx = space.index(decode_onehot(space, X, self._label()))
        groups = [self.S_[idx], X / np.sqrt(space.n_slots)]
        if self.prior_ is not None:
            groups += [self.prior_.cov_features(X), self.prior_.mean_feature(X)]
        if self.pruned_ is not None:
            groups.append(self.S_[self.pruned_[idx]])
        if self.counts_ is not None:
            groups.append(self.counts_[idx])
        return groups

    def _pruned_index(self, space: Any) -> np.ndarray | None:
        """Index of every architecture's pruned form with ``cell_edges="live"``, else None."""
        return live_index(space, self._label()) if self.cell_edges == "live" else None

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        space = get_space(self.space)
        self.S_ = self._source_columns()
        self.pruned_ = self._pruned_index(space)
        self.counts_ = self._count_features(space)
        self.prior_: OpCostPrior | None = None
        if self.meta_prior:
            onehot = encode(space, space.enumerate(), self.encoding).astype(np.float64)
            self.prior_ = op_cost_prior(self.S_, onehot)
        self.train_groups_ = self._groups(X)
        self.gp_ = SumLinearGP.fit(self.train_groups_, y)
        self.lut_, self.lut_only_, self.lut_rmse_ = None, False, 0.0
        log.debug("%s: log weights %s", self._label(), np.round(self.gp_.theta, 2))

    def _count_features(self, space: Any) -> np.ndarray | None:
        """Op counts of every architecture (its pruned form's when live) with ``op_counts``, else None
        (after ``pruned_`` is set)."""
        return count_features(space, self.pruned_) if self.op_counts else None

    def _choose_lut(self, X: np.ndarray, y: np.ndarray) -> None:
        """With ``use_lut`` and every lookup-table architecture among the rows of ``X``: fit the
        lookup table on the (transformed, unstandardised) targets ``y``, so that its predictions
        are exactly a stand-alone lookup table's, and use it alone when it ranks the measured
        non-lookup-table architectures (Kendall's tau) at least as well as the GP's leave-one-out
        predictions, less ``LUT_TAU_MARGIN``; a NaN tau (constant values) keeps the GP."""
        if not self.use_lut:
            return
        space = get_space(self.space)
        codes = space.codes(decode_onehot(space, X, self._label()))
        lut_codes = space.codes(space.lut_architectures())
        if not np.isin(lut_codes, codes).all():
            return
        other = ~np.isin(codes, lut_codes)
        if other.sum() < MIN_LUT_CHECK:
            return
        # exactly the stand-alone lookup table's input: its architectures, in their order (its
        # sums of equal op costs tie only to the last bit, and the row order changes the
        # standardisation's last bit: 1-10 of 20 permutations gave other predictions on Eyeriss/FPGA)
        rows = np.concatenate([np.flatnonzero(codes == c) for c in lut_codes])
        lut = LookupTable(space=space.name).fit(X[rows], y[rows])
        lut_pred = lut.predict(X[other])
        lut_tau = kendalltau(lut_pred, y[other])[0]
        gp_tau = kendalltau(self.gp_.loo_mean(standardise(y, self.y_mean_, self.y_scale_))[other], y[other])[0]
        self.lut_only_ = bool(lut_tau >= gp_tau - LUT_TAU_MARGIN)
        if self.lut_only_:  # kept (and saved) only when it predicts
            self.lut_ = lut
            self.lut_rmse_ = float(np.sqrt(np.mean((y[other] - lut_pred) ** 2)))
        log.debug("%s: lookup table alone: %s (tau %.3f vs GP leave-one-out %.3f)", self._label(), self.lut_only_,
                  lut_tau, gp_tau)

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        groups = self._groups(X)
        cross = [G @ T.T for G, T in zip(groups, self.train_groups_)]
        diag = [np.einsum("ij,ij->i", G, G) for G in groups] if return_std else None
        mean, std = self.gp_.predict(cross, diag)
        return (mean, std) if return_std else mean

    def predict(self, X: Any, return_std: bool = False) -> Prediction:
        if getattr(self, "lut_only_", False):  # the lookup table's own predictions, in the target's units
            mean = self.lut_.predict(self._check_X(X, fitting=False))
            out: Prediction = (mean, np.full(len(mean), self.lut_rmse_)) if return_std else mean
        else:
            out = super().predict(X, return_std=return_std)
        if self.target_transform != "log":
            return out
        if return_std:
            mean, std = out
            value = np.exp(mean)
            return value, value * std  # delta method: sd of exp(Z) ~ exp(mu) * sd(Z)
        return np.exp(out)


    # ------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, np.ndarray]:
        state = {"sources": np.asarray(self.sources, dtype=np.float64), "S": self.S_,
                 "gp_theta": self.gp_.theta, "gp_chol": self.gp_.chol, "gp_alpha": self.gp_.alpha,
                 "lut_only": np.array([self.lut_only_]), "lut_rmse": np.array([self.lut_rmse_]),
                 "n_groups": np.array([len(self.train_groups_)])}
        state.update({f"train_group_{i}": g for i, g in enumerate(self.train_groups_)})
        if self.prior_ is not None:
            state.update(prior_mu=self.prior_.mu, prior_chol=self.prior_.chol)
        if self.lut_ is not None:
            state.update({f"lut_{k}": v for k, v in self.lut_._get_state().items()})
            state["lut_standardisation"] = np.array([self.lut_.y_mean_, self.lut_.y_scale_])
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`_get_state`; shapes are checked against each other (a file is untrusted)."""
        space = get_space(self.space)
        self.sources = np.asarray(state["sources"], dtype=np.float64)
        self.S_ = np.asarray(state["S"], dtype=np.float64)
        n_groups = int(state["n_groups"][0])
        groups = [np.asarray(state[f"train_group_{i}"], dtype=np.float64) for i in range(n_groups)]
        theta, chol, alpha = (np.asarray(state[k], dtype=np.float64) for k in ("gp_theta", "gp_chol", "gp_alpha"))
        n = len(alpha)
        if (self.sources.shape[0] != space.size or self.S_.shape[0] != space.size or len(theta) != n_groups + 1
                or chol.shape != (n, n) or any(g.ndim != 2 or g.shape[0] != n for g in groups)):
            raise PredictorFileError("inconsistent shapes of the sources, GP and training-group arrays")
        self.prior_ = None
        if "prior_mu" in state:
            self.prior_ = OpCostPrior(np.asarray(state["prior_mu"], dtype=np.float64),
                                      np.asarray(state["prior_chol"], dtype=np.float64))
        self.lut_ = None
        lut_state = {k[len("lut_"):]: v for k, v in state.items() if k in ("lut_table", "lut_offset")}
        if lut_state:
            self.lut_ = LookupTable(space=space.name)
            self.lut_._set_state(lut_state)
            self.lut_.y_mean_, self.lut_.y_scale_ = (float(v) for v in state["lut_standardisation"][:2])
            self.lut_.n_features_in_ = self.n_features_in_
        self.pruned_ = self._pruned_index(space)
        self.counts_ = self._count_features(space)
        widths = [g.shape[1] for g in self._groups(self.probe_input(1))]
        if widths != [g.shape[1] for g in groups]:
            raise PredictorFileError(f"training groups of widths {[g.shape[1] for g in groups]}, but these parameters "
                                     f"give {widths} (saved by another version of transfer_gp?)")
        self.train_groups_ = groups
        self.gp_ = SumLinearGP(theta, chol, alpha)
        self.lut_only_ = bool(state["lut_only"][0])
        self.lut_rmse_ = float(state["lut_rmse"][0])


class TransferGPSuggested(TransferGP):
    """:class:`TransferGP` whose study training sets are the suggested designs (registry name)."""

    name = "transfer_gp_suggested"

    def __init__(self, sources: Any = None, source_names: Sequence[str] | None = None, target: str | None = None,
                 leakage_guard: bool = True, space: str = "nb201", target_transform: str = "raw",
                 use_lut: bool = True, design: str = "suggested", random_state: int | None = 0,
                 meta_prior: bool = True, cell_edges: str = "all", op_counts: bool = True) -> None:
        self._store_params(locals())


class TransferGPLive(TransferGP):
    """:class:`TransferGP` for a device that skips dead edges (``cell_edges="live"``), trained on
    suggested sets for that model (registry name)."""

    name = "transfer_gp_live"

    def __init__(self, sources: Any = None, source_names: Sequence[str] | None = None, target: str | None = None,
                 leakage_guard: bool = True, space: str = "nb201", target_transform: str = "raw",
                 use_lut: bool = True, design: str = "suggested", random_state: int | None = 0,
                 meta_prior: bool = True, cell_edges: str = "live", op_counts: bool = True) -> None:
        self._store_params(locals())
