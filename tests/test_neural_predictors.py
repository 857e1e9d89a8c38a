"""The torch predictors: contract, determinism, persistence hooks, relaxed export, and
accuracy with the protocol's defaults on real HW-NAS-Bench data."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from nasbench_tools.encodings import encode, nao_vocab_size
from predictors.neural._common import torch_generator
from predictors.neural.bananas import Bananas
from predictors.neural.bohamiann import Bohamiann
from predictors.neural.bonas import Bonas
from predictors.neural.gcn import GCN
from predictors.neural.mlp import MLPLarge, MLPSmall
from predictors.neural.nao import NAO
from predictors.relaxed import hard_weights
from predictors.space import Choice, IntUniform, Uniform

DATASET = "hwnas/cifar10/edgegpu_latency"
N_TEST, N_TRAIN, N_QUICK = 625, 200, 40
SPLIT_SEED = 0
TAU_MIN = 0.5

#: Small, fast configurations for properties that do not depend on full training.
QUICK = {
    "mlp_large": lambda: MLPLarge(num_layers=3, layer_width=8, epochs=5),
    "mlp_small": lambda: MLPSmall(epochs=5, activation="tanh"),
    "bananas": lambda: Bananas(num_layers=3, layer_width=8, epochs=5),
    "gcn": lambda: GCN(hidden_size=16, epochs=3),
    "bonas": lambda: Bonas(hidden_size=16, batch_size=16, epochs=3),
    "nao": lambda: NAO(hidden_size=16, batch_size=16, epochs=3),
    "bohamiann": lambda: Bohamiann(num_steps=30),
}
CLASSES = {"mlp_large": MLPLarge, "mlp_small": MLPSmall, "bananas": Bananas, "gcn": GCN,
           "bonas": Bonas, "nao": NAO, "bohamiann": Bohamiann}
DIFFERENTIABLE = ["mlp_large", "mlp_small", "bananas", "gcn", "bonas", "nao"]


@dataclass
class Split:
    space: object
    ops: np.ndarray
    values: np.ndarray
    train: np.ndarray
    test: np.ndarray

    def X(self, encoding: str, rows: np.ndarray) -> np.ndarray:
        return encode(self.space, self.ops[rows], encoding)


@pytest.fixture(scope="module")
def split(store) -> Split:
    ds = store.load(DATASET)
    ops = ds.space.enumerate()
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(ops))
    return Split(ds.space, ops, ds.values, perm[N_TEST:N_TEST + N_TRAIN], perm[:N_TEST])


@pytest.fixture(scope="module")
def quick_fitted(split) -> dict:
    """One quickly fitted model per predictor, shared by the property tests."""
    out = {}
    rows = split.train[:N_QUICK]
    for name, make in QUICK.items():
        est = make()
        out[name] = est.fit(split.X(est.encoding, rows), split.values[rows])
    return out


# ------------------------------------------------------------------ declared contract
@pytest.mark.parametrize("name", list(CLASSES))
def test_declared_attributes_and_tuning_space(name):
    cls = CLASSES[name]
    est = cls()
    assert cls.name == name
    assert est.get_params()["random_state"] == 0
    assert cls.differentiable == (name in DIFFERENTIABLE)
    params = est.get_params()
    for param, dist in cls.tuning_space.items():
        assert param in params, f"{name}: tuned parameter {param} is not an __init__ parameter"
        assert isinstance(dist, (Uniform, IntUniform, Choice))
        assert dist.contains(params[param]), f"{name}: default {param}={params[param]} outside {dist.describe()}"


def test_table_a1_ranges():
    """Spot checks of Table A.1 (ranges and log flags) and the protocol defaults."""
    assert GCN.tuning_space["hidden_size"] == IntUniform(64, 200, log=True)
    assert GCN.tuning_space["weight_decay"] == Uniform(1e-5, 1e-1, log=True)
    assert Bonas.tuning_space["batch_size"] == IntUniform(32, 256, log=True)
    assert NAO.tuning_space["learning_rate"] == Uniform(1e-5, 1e-1, log=True)
    assert MLPSmall.tuning_space["layer_width"] == IntUniform(16, 128, log=True)
    assert MLPSmall.tuning_space["activation"] == Choice(("relu", "tanh", "hardswish"))
    assert Bananas.tuning_space["num_layers"] == IntUniform(5, 25)
    assert (MLPLarge().num_layers, MLPLarge().layer_width) == (20, 20)
    assert (MLPSmall().num_layers, MLPSmall().layer_width) == (3, 32)
    assert (GCN().hidden_size, GCN().batch_size, GCN().epochs) == (144, 7, 300)
    assert (Bonas().hidden_size, Bonas().batch_size, Bonas().epochs) == (64, 128, 100)
    assert (NAO().hidden_size, NAO().batch_size, NAO().epochs) == (64, 100, 50)


# ------------------------------------------------------------------------ estimator API
@pytest.mark.parametrize("name", list(CLASSES))
def test_clone_round_trip(name):
    est = QUICK[name]()
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    twin.set_params(random_state=7)
    assert twin.random_state == 7 and est.random_state == 0
    with pytest.raises(ValueError):
        twin.set_params(no_such_parameter=1)


@pytest.mark.parametrize("name", list(CLASSES))
def test_predict_before_fit_raises(name, split):
    est = CLASSES[name]()
    with pytest.raises(NotFittedError, match="fit"):
        est.predict(split.X(est.encoding, split.test[:3]))


BAD_PARAMS = {
    "mlp_large": [("num_layers", 0), ("layer_width", 2.5), ("learning_rate", -1e-3), ("batch_size", 0),
                  ("epochs", 0), ("regularization", -0.1), ("random_state", -1)],
    "mlp_small": [("activation", "sigmoid"), ("num_layers", "3")],
    "bananas": [("n_ensemble", 0), ("layer_width", 0)],
    "gcn": [("hidden_size", 0), ("batch_size", 0), ("weight_decay", -1.0), ("dropout", 1.0),
            ("learning_rate", 0.0)],
    "bonas": [("hidden_size", -4), ("batch_size", 1.5), ("epochs", 0)],
    "nao": [("hidden_size", 0), ("grad_clip", 0.0), ("vocab_size", 1), ("batch_size", None)],
    "bohamiann": [("num_steps", 15), ("keep_every", 0), ("mdecay", 0.0), ("n_units", 0)],
}


@pytest.mark.parametrize("name,param,value", [(n, p, v) for n, bad in BAD_PARAMS.items() for p, v in bad])
def test_bad_params_raise_naming_the_parameter(name, param, value, split):
    est = QUICK[name]().set_params(**{param: value})
    rows = split.train[:10]
    with pytest.raises(ValueError, match=param):
        est.fit(split.X(est.encoding, rows), split.values[rows])


def test_graph_predictors_reject_non_graph_input(split):
    rows = split.train[:10]
    with pytest.raises(ValueError, match="graph"):
        GCN(epochs=1).fit(split.X("onehot", rows), split.values[rows])
    with pytest.raises(ValueError, match="graph_bonas"):
        Bonas(epochs=1).fit(split.X("graph", rows), split.values[rows])


# ------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("name", list(CLASSES))
def test_same_seed_same_predictions(name, split, quick_fitted):
    est = quick_fitted[name]
    rows = split.train[:N_QUICK]
    X, y = split.X(est.encoding, rows), split.values[rows]
    Xt = split.X(est.encoding, split.test[:100])
    again = clone(est).fit(X, y)
    np.testing.assert_array_equal(again.predict(Xt), est.predict(Xt))
    other = clone(est).set_params(random_state=1).fit(X, y)
    assert not np.allclose(other.predict(Xt), est.predict(Xt))


def test_fitting_leaves_global_torch_rng_alone(split):
    """Seeding uses private generators only (safe for threads, no hidden global state)."""
    rows = split.train[:20]
    before = torch.random.get_rng_state().clone()
    for name in ("gcn", "nao", "bohamiann"):
        est = QUICK[name]()
        est.fit(split.X(est.encoding, rows), split.values[rows])
    assert torch.equal(torch.random.get_rng_state(), before)


# ------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("name", list(CLASSES))
def test_state_round_trip_gives_identical_predictions(name, split, quick_fitted):
    est = quick_fitted[name]
    state = est._get_state()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in state.values())
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        loaded = {k: npz[k] for k in npz.files}
    twin = clone(est)
    twin.y_mean_, twin.y_scale_, twin.n_features_in_ = est.y_mean_, est.y_scale_, est.n_features_in_
    twin._set_state(loaded)
    Xt = split.X(est.encoding, split.test[:200])
    np.testing.assert_array_equal(twin.predict(Xt), est.predict(Xt))


def test_state_mismatch_is_a_clear_error(quick_fitted):
    state = quick_fitted["mlp_small"]._get_state()
    twin = clone(quick_fitted["mlp_small"]).set_params(layer_width=7)
    with pytest.raises(ValueError, match="shape"):
        twin._set_state(state)


# ---------------------------------------------------------------- differentiable export
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_relaxed_function_equals_predict_at_one_hot_corners(name, split, quick_fitted):
    est = quick_fitted[name]
    rows = split.test[:100]
    fn = est.torch_function(split.space)
    got = fn(hard_weights(split.space, split.ops[rows])).detach().numpy()
    want = est.predict(split.X(est.encoding, rows))
    # both evaluate a float64 copy of the float32-trained module
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * est.y_scale_)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_relaxed_gradient_matches_finite_differences(name, split, quick_fitted):
    fn = quick_fitted[name].torch_function(split.space)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, split.space.n_slots, split.space.n_ops, generator=g, dtype=torch.float64)
    w = torch.softmax(logits, dim=-1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: fn(v) / quick_fitted[name].y_scale_, (w,), eps=1e-6, atol=1e-5)


def test_relaxed_function_checks_the_space(quick_fitted, split):
    from nasbench_tools.spaces import get_space

    other = get_space("transnas-micro")
    for name in ("mlp_large", "gcn", "nao"):
        with pytest.raises(ValueError):
            fn = quick_fitted[name].torch_function(other)
            fn(hard_weights(other, other.enumerate()[:2]))



@pytest.mark.parametrize("name", ["mlp_small", "nao"])
def test_relaxed_function_on_a_sequential_space(name):
    """TransNAS macro: no cells, some op codes invalid per slot; export still exact at corners."""
    from nasbench_tools.spaces import get_space

    space = get_space("transnas-macro")
    ops = space.enumerate()
    est = QUICK[name]()
    est.fit(encode(space, ops[:60], est.encoding), np.linspace(0.0, 1.0, 60))
    got = est.torch_function(space)(hard_weights(space, ops[60:100])).detach().numpy()
    np.testing.assert_allclose(got, est.predict(encode(space, ops[60:100], est.encoding)), rtol=1e-9,
                               atol=1e-9 * est.y_scale_)

def test_bohamiann_is_not_differentiable(quick_fitted, split):
    with pytest.raises(NotImplementedError):
        quick_fitted["bohamiann"].torch_function(split.space)


# ----------------------------------------------------------------- model-specific checks
def test_bohamiann_keeps_every_fifth_sample_after_burn_in(split):
    """100 steps in total incl. 10 burn-in, keep every 5th: steps 15, 20, ..., 95."""
    rows = split.train[:50]
    est = Bohamiann().fit(split.X("onehot", rows), split.values[rows])
    assert est.samples_.shape[0] == 17
    mean, std = est.predict(split.X("onehot", split.test[:50]), return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)


def test_bananas_std_is_the_ensemble_spread(split, quick_fitted):
    est = quick_fitted["bananas"]
    Xt = split.X("path", split.test[:50])
    members = est._member_predictions(Xt) * est.y_scale_ + est.y_mean_
    assert members.shape == (3, 50)
    mean, std = est.predict(Xt, return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, members.std(axis=0), rtol=1e-5)
    assert np.all(std > 0)


def test_gcn_trains_even_when_fewer_samples_than_a_batch(split):
    """Original defect: with drop_last and batch 7 nothing was trained at n = 5."""
    rows = split.train[:5]
    est = GCN(hidden_size=16, epochs=1).fit(split.X("graph", rows), split.values[rows])
    fresh = est._new_module(est.meta_)
    fresh.reset_parameters(torch_generator(est.random_state, 1))
    moved = [not torch.equal(a, b) for a, b in zip(fresh.parameters(), est.module_.parameters())]
    assert all(moved)


def test_hidden_sizes_are_honoured(split, quick_fitted):
    """Original defects: GCN ignored its tuned width, NAO all of its hyper-parameters."""
    assert quick_fitted["gcn"].module_.fc1.in_features == 16
    assert quick_fitted["bonas"].module_.fc.in_features == 16
    assert quick_fitted["nao"].module_.enc_embedding.embedding_dim == 16
    rows = split.train[:N_QUICK]
    X, y = split.X("nao", rows), split.values[rows]
    Xt = split.X("nao", split.test[:50])
    base = QUICK["nao"]()
    a = clone(base).fit(X, y).predict(Xt)
    b = clone(base).set_params(learning_rate=1e-2).fit(X, y).predict(Xt)
    c = clone(base).set_params(batch_size=8).fit(X, y).predict(Xt)
    assert not np.allclose(a, b) and not np.allclose(a, c)


def test_nao_handles_ops_unseen_in_training(split):
    rows = split.train[np.all(split.ops[split.train] != 4, axis=1)][:30]  # no avg_pool anywhere
    Xt = split.X("nao", split.test[:50])
    inferred = NAO(hidden_size=16, epochs=2).fit(split.X("nao", rows), split.values[rows])
    assert np.all(np.isfinite(inferred.predict(Xt)))
    full = NAO(hidden_size=16, epochs=2, vocab_size=nao_vocab_size(split.space))
    full.fit(split.X("nao", rows), split.values[rows])
    assert full.module_.enc_embedding.num_embeddings == nao_vocab_size(split.space)
    fn = full.torch_function(split.space)
    got = fn(hard_weights(split.space, split.ops[split.test[:50]])).detach().numpy()
    np.testing.assert_allclose(got, full.predict(Xt), rtol=1e-9, atol=1e-9 * full.y_scale_)


# Accuracy with the protocol defaults (tau > 0.5 on 625 held-out architectures after 200) is
# checked for every registered predictor in tests/test_predictors_contract.py.

