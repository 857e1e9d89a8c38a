"""Shared machinery of the torch predictors: seeding, mini-batch schedules, state I/O.

Every random choice comes from explicit generators derived from ``random_state`` and a
stream number (numpy ``Generator`` for shuffling and dropout masks, ``torch.Generator`` for
initialisation and sampling noise); modules are built on the meta device, so fits are
reproducible and never touch torch's global RNG (safe under threads).
Data are converted to tensors once per fit; batches are index gathers, never per-sample
Python work.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from nasbench_tools.errors import InputDataError, ParameterError, PredictorFileError

from ..base import Prediction, Predictor, seed_int
from ..constraints import COUNT, POSITIVE
from ..space import IntUniform, Uniform

if TYPE_CHECKING:
    from nasbench_tools.encodings import GraphLayout
    from nasbench_tools.spaces import SearchSpace

#: Training runs in float32 for speed; predictions use a float64 copy of the fitted module
#: (as do relaxed functions called with float64 weights), so both agree to float64 rounding.
DTYPE = torch.float32
PREDICT_DTYPE = torch.float64
#: Rows per forward pass when predicting (bounds memory for the whole 15,625-arch space).
PREDICT_CHUNK = 4096
#: Prefix of module tensors in the persisted state (other keys are metadata).
STATE_PREFIX = "module."
#: Random streams of a fit (see :func:`torch_generator`): initialisation, shuffling, dropout/noise.
SEED_INIT, SEED_SHUFFLE, SEED_DROPOUT = 1, 2, 3
#: Tuning ranges of BONAS and NAO (Table A.1): hidden width, batch size, learning rate.
HIDDEN_BATCH_LR_SPACE = {
    "hidden_size": IntUniform(16, 128, log=True),
    "batch_size": IntUniform(32, 256, log=True),
    "learning_rate": Uniform(1e-5, 1e-1, log=True),
}


def torch_generator(random_state: int | None, stream: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from ``random_state`` and a stream number."""
    g = torch.Generator()
    g.manual_seed(seed_int(random_state, stream))
    return g


def numpy_rng(random_state: int | None, stream: int) -> np.random.Generator:
    return np.random.default_rng(seed_int(random_state, stream))


def shuffled_batches(rng: np.random.Generator, epochs: int, n: int, batch_size: int, drop_last: bool,
                     members: int = 1) -> Iterator[tuple[int, torch.Tensor]]:
    """``(epoch, indices (members, batch))`` over all epochs; every epoch draws an
    independent shuffle per member in one vectorised call."""
    slices = batch_slices(n, batch_size, drop_last)
    for epoch in range(epochs):
        perm = torch.from_numpy(np.argsort(rng.random((members, n)), axis=-1))
        for s in slices:
            yield epoch, perm[:, s]


def batch_slices(n: int, batch_size: int, drop_last: bool) -> list[slice]:
    """Batch boundaries of one epoch. Always at least one batch: with ``drop_last`` and
    ``n < batch_size`` the single batch holds all ``n`` samples (the original GCN trained on
    no batch at all at n = 5, a defect the protocol says not to copy)."""
    b = min(batch_size, n)
    stops = range(b, n + 1, b) if drop_last else range(b, n + b, b)
    return [slice(s - b, min(s, n)) for s in stops]


def cosine_lr(base_lr: float, epoch: int, epochs: int) -> float:
    """``CosineAnnealingLR(T_max=epochs, eta_min=0)`` in closed form, for epoch ``epoch``."""
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def cosine_schedule(optimizer: torch.optim.Optimizer, batches: Iterable[tuple[int, torch.Tensor]], base_lr: float,
                    epochs: int) -> Iterator[torch.Tensor]:
    """The indices of ``batches`` (from :func:`shuffled_batches`), setting the cosine learning
    rate of each epoch (:func:`cosine_lr`) on ``optimizer`` when the epoch starts."""
    current = -1
    for epoch, idx in batches:
        if epoch != current:
            set_lr(optimizer, cosine_lr(base_lr, epoch, epochs))
            current = epoch
        yield idx


def optimiser_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   before_step: Callable[[], Any] | None = None) -> None:
    """One training step on ``loss`` (gradients zeroed first; ``before_step`` e.g. clips them)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if before_step is not None:
        before_step()
    optimizer.step()


def make_adam(params: Iterable[torch.Tensor], lr: float, **kwargs: Any) -> torch.optim.Adam:
    """Adam with the fused CPU kernel (one launch per step; about half the per-step cost of
    the multi-tensor version on these small models); multi-tensor where torch lacks it."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **kwargs)
    except RuntimeError:  # torch < 2.4: no fused Adam on CPU
        return torch.optim.Adam(params, lr=lr, foreach=True, **kwargs)


def dropout(x: torch.Tensor, p: float, rng: np.random.Generator | None) -> torch.Tensor:
    """Inverted dropout with masks drawn from the numpy ``rng`` (several times faster than
    torch's CPU generator for these many small masks); identity when ``rng`` is None
    (evaluation) or ``p == 0``."""
    if rng is None or p <= 0.0:
        return x
    mask = (rng.random(tuple(x.shape), dtype=np.float32) >= p).astype(np.float32)
    mask *= 1.0 / (1.0 - p)
    return x * torch.from_numpy(mask).to(x.dtype)


def uniform_(t: torch.Tensor, bound: float, generator: torch.Generator) -> None:
    with torch.no_grad():
        t.uniform_(-bound, bound, generator=generator)


def reset_linear_(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default ``nn.Linear`` initialisation, drawn from ``generator``."""
    bound = 1.0 / math.sqrt(layer.in_features)
    uniform_(layer.weight, bound, generator)
    if layer.bias is not None:
        uniform_(layer.bias, bound, generator)


def xavier_uniform_(t: torch.Tensor, fan_in: int, fan_out: int, generator: torch.Generator) -> None:
    uniform_(t, math.sqrt(6.0 / (fan_in + fan_out)), generator)


def predict_in_chunks(forward: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor) -> np.ndarray:
    """Evaluate ``forward`` without gradients on row chunks of ``X``; float64 result."""
    with torch.no_grad():
        parts = [forward(X[i:i + PREDICT_CHUNK]) for i in range(0, len(X), PREDICT_CHUNK)]
    return torch.cat(parts, dim=-1).to(torch.float64).numpy()


def module_state(module: nn.Module) -> dict[str, np.ndarray]:
    """A module's ``state_dict`` (parameters and buffers) as named numpy arrays."""
    return {STATE_PREFIX + k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_module_state(module: nn.Module, state: dict[str, np.ndarray], label: str) -> None:
    """Inverse of :func:`module_state`; a missing or mis-shaped tensor is a clear error."""
    own = module.state_dict()
    tensors = {k[len(STATE_PREFIX):]: v for k, v in state.items() if k.startswith(STATE_PREFIX)}
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise PredictorFileError(f"{label}: saved state does not match the model (missing {missing}, "
                                 f"unexpected {unexpected})")
    for k, ref in own.items():
        if tuple(tensors[k].shape) != tuple(ref.shape):
            raise PredictorFileError(f"{label}: saved tensor {k!r} has shape {tuple(tensors[k].shape)}, "
                             f"the model expects {tuple(ref.shape)}")
    module.load_state_dict({k: torch.as_tensor(np.asarray(v)).to(own[k].dtype) for k, v in tensors.items()})


def state_int(state: dict[str, np.ndarray], key: str, label: str) -> int:
    if key not in state:
        raise PredictorFileError(f"{label}: saved state lacks {key!r}")
    return int(np.asarray(state[key]).reshape(()))


class DtypeCache:
    """Frozen copies of a fitted module in the dtypes callers ask for (relaxed functions are
    often evaluated in float64, e.g. for gradient checks, while training ran in float32).
    Copying at creation also keeps a relaxed function tied to the fit it was made from."""

    def __init__(self, module: nn.Module) -> None:
        self._module = copy.deepcopy(module).eval().requires_grad_(False)
        self._copies: dict[torch.dtype, nn.Module] = {}

    def __call__(self, dtype: torch.dtype) -> nn.Module:
        if dtype not in self._copies:
            self._copies[dtype] = copy.deepcopy(self._module).to(dtype)
        return self._copies[dtype]


def infer_graph_layout(X: np.ndarray, global_node: bool, label: str) -> tuple[int, int]:
    """``(n_nodes, n_features)`` of a flattened graph encoding ``[adjacency, node one-hot]``.

    The width alone is ambiguous, so the split is the one for which the adjacency is 0/1,
    every node's feature row is one-hot, and the last node is a global node exactly when
    ``global_node`` is asked for, in every sample (see
    :func:`nasbench_tools.encodings.unflatten_graph`)."""
    width = X.shape[1]
    found = []
    for n in range(2, int(math.isqrt(width)) + 1):
        rest = width - n * n
        if rest <= 0 or rest % n:
            continue
        f = rest // n
        if f < 2 + int(global_node):
            continue
        adj, feats = X[:, :n * n], X[:, n * n:].reshape(len(X), n, f)
        if np.all((adj == 0) | (adj == 1)) and np.all((feats == 0) | (feats == 1)) \
                and np.all(feats.sum(axis=2) == 1) \
                and _has_global_node(adj.reshape(-1, n, n)) == global_node:
            found.append((n, f))
    if len(found) != 1:
        what = "no" if not found else f"an ambiguous ({found})"
        raise InputDataError(f"{label}: X (n_features={width}) has {what} split into a flattened "
                         f"{'graph_bonas' if global_node else 'graph'} encoding "
                         "(n_nodes**2 adjacency values, then one-hot node features)")
    return found[0]


def _has_global_node(adj: np.ndarray) -> bool:
    """Whether the last node is linked both ways with every other node in every sample
    (the BONAS global node of ``graph_bonas``)."""
    return bool(np.all(adj[:, -1, :-1] == 1) and np.all(adj[:, :-1, -1] == 1))


def check_graph_space(label: str, space: "SearchSpace", layout: "GraphLayout", n_nodes: int,
                      n_features: int) -> None:
    if (layout.n_nodes, layout.n_features) != (n_nodes, n_features):
        raise ParameterError(
            f"{label}: search space {space.name} has graphs of {layout.n_nodes} nodes x "
            f"{layout.n_features} features, the predictor was fitted on {n_nodes} x {n_features}")


class TorchPredictor(Predictor):
    """Common persistence and prediction plumbing: subclasses build ``self.module_`` in
    ``_build(meta)`` from their parameters plus the integer metadata ``meta`` they need
    (e.g. input width), which is persisted next to the module tensors.  Every one trains with
    mini-batches for some epochs at a learning rate, and is differentiable."""

    differentiable = True
    extra = "neural"
    parameter_constraints = {"batch_size": COUNT, "learning_rate": POSITIVE, "epochs": COUNT}
    # parameters every subclass declares in __init__
    batch_size: int
    learning_rate: float
    epochs: int
    random_state: int | None

    def _build(self, meta: dict[str, int]) -> nn.Module:
        raise NotImplementedError

    def _initial_module(self, meta: dict[str, int]) -> nn.Module:
        """Record ``meta`` and build the module with its seeded initialisation."""
        self.meta_ = meta
        module = self._new_module(meta)
        module.reset_parameters(torch_generator(self.random_state, SEED_INIT))
        return module

    def _batches(self, n: int, drop_last: bool, members: int = 1) -> Iterator[tuple[int, torch.Tensor]]:
        """The fit's seeded mini-batches (see :func:`shuffled_batches`)."""
        rng = numpy_rng(self.random_state, SEED_SHUFFLE)
        return shuffled_batches(rng, self.epochs, n, self.batch_size, drop_last, members)

    def _new_module(self, meta: dict[str, int]) -> nn.Module:
        """``_build`` on the meta device, then uninitialised CPU storage: layer constructors
        never draw from torch's global RNG; callers initialise from their own generator or
        load saved tensors."""
        with torch.device("meta"):
            module = self._build(meta)
        return module.to_empty(device="cpu")

    def _meta(self) -> dict[str, int]:
        return dict(self.meta_)

    def _get_state(self) -> dict[str, np.ndarray]:
        if not hasattr(self, "module_"):
            raise PredictorFileError(f"{self._label()}: not fitted, nothing to save")
        state = module_state(self.module_)
        state.update({f"meta.{k}": np.asarray(v, dtype=np.int64) for k, v in self._meta().items()})
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        meta = {k[len("meta."):]: state_int(state, k, self._label()) for k in state if k.startswith("meta.")}
        try:
            module = self._new_module(meta)
        except KeyError as err:
            raise PredictorFileError(f"{self._label()}: saved state lacks 'meta.{err.args[0]}'") from None
        self.meta_ = meta
        load_module_state(module, state, self._label())
        self._set_module(module)

    def _set_module(self, module: nn.Module) -> None:
        """Install a trained module (and its frozen copies for prediction and export)."""
        self.module_ = module.eval()
        self.frozen_ = DtypeCache(module)

    def _predictor_module(self) -> nn.Module:
        """The fitted module in :data:`PREDICT_DTYPE`, without gradients."""
        return self.frozen_(PREDICT_DTYPE)

    def _relaxed_modules(self) -> DtypeCache:
        """The fitted module, frozen, in any dtype (for ``_torch_function`` closures)."""
        return self.frozen_


class GraphTorchPredictor(TorchPredictor):
    """Shared plumbing of the graph-encoding predictors (GCN, BONAS): the flattened graph
    encoding is split into node features and the propagation matrix ``_propagation`` makes of
    the adjacency; ``_global_node`` says whether the encoding carries BONAS's global node."""

    _global_node: ClassVar[bool] = False

    @staticmethod
    def _propagation(adj: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _start_fit(self, X: np.ndarray, y: np.ndarray) -> tuple[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The initialised module, node features, propagation matrices and targets of a fit
        (the graph layout is read from ``X`` and recorded in ``meta_``)."""
        n_nodes, n_feat = infer_graph_layout(X, global_node=self._global_node, label=self._label())
        module = self._initial_module({"n_nodes": n_nodes, "n_node_features": n_feat})
        feats, prop = self._graphs(X)
        return module, feats, prop, torch.as_tensor(y, dtype=DTYPE)

    def _train_cosine(self, module: nn.Module, n: int, drop_last: bool, loss_of: Callable[[torch.Tensor], torch.Tensor],
                      **adam_kwargs: Any) -> None:
        """Train ``module`` with Adam (``adam_kwargs``, e.g. weight decay) at ``learning_rate`` on a
        cosine schedule over the epochs, one step per mini-batch of ``loss_of(batch indices)``;
        then install it."""
        optimizer = make_adam(module.parameters(), self.learning_rate, **adam_kwargs)
        module.train()
        for idx in cosine_schedule(optimizer, self._batches(n, drop_last), self.learning_rate, self.epochs):
            optimiser_step(optimizer, loss_of(idx[0]))
        self._set_module(module)

    def _graphs(self, X: np.ndarray, dtype: torch.dtype = DTYPE) -> tuple[torch.Tensor, torch.Tensor]:
        n, f = self.meta_["n_nodes"], self.meta_["n_node_features"]
        t = torch.as_tensor(X, dtype=dtype)
        return t[:, n * n:].reshape(-1, n, f), self._propagation(t[:, :n * n].reshape(-1, n, n))

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        feats, prop = self._graphs(X, PREDICT_DTYPE)
        net = self._predictor_module()
        return predict_in_chunks(lambda r: net(feats[r], prop[r]), torch.arange(len(X)))

    def _torch_function(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from nasbench_tools.encodings import graph_layout

        from ..relaxed import relaxed_graph

        lay = graph_layout(space, global_node=self._global_node)
        check_graph_space(self._label(), space, lay, self.meta_["n_nodes"], self.meta_["n_node_features"])
        n, f = lay.n_nodes, lay.n_features
        net = self._relaxed_modules()

        def fn(w: torch.Tensor) -> torch.Tensor:
            x = relaxed_graph(space, w, global_node=self._global_node)
            prop = self._propagation(x[:, :n * n].reshape(-1, n, n))
            return net(x.dtype)(x[:, n * n:].reshape(-1, n, f), prop)

        return fn
