"""How well super-network accuracies select architectures (Section 6.3.4)."""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau

TOP_TAU = 50
TOP_N = (1, 5, 10)


def selection_metrics(predicted: np.ndarray, truth: np.ndarray, top_tau: int = TOP_TAU, top_n: tuple[int, ...] = TOP_N) -> dict[str, float]:
    """Kendall's tau (all, and the ``top_tau`` best by ground truth), mean ground truth of the
    top-N architectures ranked by ``predicted``, and the improvement value of each top-N
    (0 = population mean, 1 = population best)."""
    predicted = np.asarray(predicted, dtype=float)
    truth = np.asarray(truth, dtype=float)
    ok = np.isfinite(predicted) & np.isfinite(truth)
    p, t = predicted[ok], truth[ok]
    out: dict[str, float] = {"n_evaluated": float(len(p))}
    out["kendall_tau"] = float(kendalltau(p, t).statistic) if len(p) > 1 else float("nan")
    best = np.argsort(-t, kind="stable")[:top_tau]
    out[f"kendall_tau_top{top_tau}"] = float(kendalltau(p[best], t[best]).statistic) if len(best) > 1 else float("nan")
    order = np.argsort(-p, kind="stable")
    mean, top = t.mean() if len(t) else float("nan"), t.max() if len(t) else float("nan")
    for n in top_n:
        sel = t[order[:n]].mean() if len(t) else float("nan")
        out[f"top{n}_truth"] = float(sel)
        out[f"top{n}_improvement"] = float((sel - mean) / (top - mean)) if top > mean else float("nan")
    out["population_mean_truth"] = float(mean)
    out["population_best_truth"] = float(top)
    return out
