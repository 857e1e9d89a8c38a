"""Real predictors instead of simulated ones: scores from a fitted registry predictor and from a
predictions file, next to the simulation at the same deviation std (Appendix A.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench_tools.errors import DataFormatError
from simulation.real import score_real_predictor

DATASET = "hwnas/cifar10/edgegpu_latency"


def test_fitted_ridge_scores_next_to_the_simulation(store):
    df = score_real_predictor([DATASET], predictor="ridge", train_sizes=(30, 300), subset_size=300, trials=15,
                              seeds=1, store=store)
    assert len(df) == 2 and set(df["predictor"]) == {"ridge"}
    assert (df["dev_std"] > 0).all()
    # more training data -> smaller deviations and higher tau
    small, large = df.sort_values("train_size").itertuples()
    assert large.dev_std < small.dev_std and large.pool_kendall_tau > small.pool_kendall_tau
    # the simulated predictor with the same std is roughly as good (the paper: slightly pessimistic)
    assert np.all(np.abs(df["sim_kendall_tau"] - df["pool_kendall_tau"]) < 0.2)
    assert (df["n_selected"] >= 1).all() and (df["mra_all"] >= 0).all()
    assert (df["hypervolume"] <= df["hypervolume_true_front"] + 1e-12).all()


def test_predictions_file(tmp_path, store):
    hw = store.load(DATASET).values
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.3 * hw.std(), hw.size)
    path = tmp_path / "pred.csv"
    pd.DataFrame({"arch_index": np.arange(hw.size), "prediction": hw + noise}).to_csv(path, index=False)
    df = score_real_predictor([DATASET], predictions=path, subset_size=500, trials=10, store=store)
    assert df.loc[0, "dev_std"] == pytest.approx(0.3, rel=0.05)
    assert df.loc[0, "sim_kendall_tau"] == pytest.approx(df.loc[0, "pool_kendall_tau"], abs=0.1)
    pd.DataFrame({"arch_index": [0, 0], "prediction": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError, match="unique"):
        score_real_predictor([DATASET], predictions=path, subset_size=10, trials=2, store=store)
    pd.DataFrame({"arch_index": [0, 1], "prediction": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError, match="not finite"):
        score_real_predictor([DATASET], predictions=path, subset_size=10, trials=2, store=store)
