"""NAO (Luo et al., 2018) encoder-predictor-decoder, as in NASLib's ``SemiNASPredictor``
without the semi-supervised step (``semi=False``), which is how the study ran NAO.

Encoder: token embedding -> bidirectional LSTM -> projection + residual -> per-token L2
normalisation; the architecture embedding is the normalised token mean.  Predictor: a
residual 2-layer MLP (hidden -> 16 -> hidden, ReLU, dropout) and a linear regressor.
Decoder: an LSTM started from the embedding, with attention over the encoder outputs,
reconstructing the token sequence (teacher forcing).  Loss 0.8 x MSE + 0.2 x token NLL;
Adam 1e-3 (weight decay 1e-4), gradient norm clipped at 5, batch 100, 50 epochs.

Original defect not copied: NASLib read its tuned hyper-parameters but trained with module
constants; here ``hidden_size``, ``batch_size`` and ``learning_rate`` are honoured.

Vocabulary: the ``nao`` encoding's tokens (0 = start/padding).  ``vocab_size=None`` sizes
the embedding from the largest training token; tokens beyond it at prediction time (an op
never seen in training) use the padding embedding.  Pass ``vocab_size`` (e.g.
``nasbench_tools.encodings.nao_vocab_size(space)``) to give every token its own embedding.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_tools.errors import InputDataError, ParameterError

from ..base import Prediction
from ..constraints import COUNT, DROP_RATE, NON_NEGATIVE, POSITIVE, Int, NoneOr
from ._common import (
    DTYPE,
    HIDDEN_BATCH_LR_SPACE,
    SEED_DROPOUT,
    TorchPredictor,
    dropout,
    make_adam,
    numpy_rng,
    optimiser_step,
    predict_in_chunks,
    reset_linear_,
    uniform_,
)

if TYPE_CHECKING:
    from nasbench_tools.spaces import SearchSpace

#: Fixed architecture constants of the original (not tuned there).
MLP_HIDDEN = 16
TRADE_OFF = 0.8  # weight of the MSE term; 1 - TRADE_OFF weighs the reconstruction NLL
_RES_SCALE = math.sqrt(0.5)


class NAONet(nn.Module):
    """Encoder, predictor MLP and attention decoder of NAO (one LSTM layer each)."""

    def __init__(self, vocab: int, hidden: int, dropout_p: float) -> None:
        super().__init__()
        self.vocab, self.hidden, self.dropout_p = vocab, hidden, dropout_p
        self.enc_embedding = nn.Embedding(vocab, hidden, dtype=DTYPE)
        self.enc_rnn = nn.LSTM(hidden, hidden, 1, batch_first=True, bidirectional=True, dtype=DTYPE)
        self.enc_proj = nn.Linear(2 * hidden, hidden, dtype=DTYPE)
        self.mlp1 = nn.Linear(hidden, MLP_HIDDEN, dtype=DTYPE)
        self.mlp2 = nn.Linear(MLP_HIDDEN, hidden, dtype=DTYPE)
        self.regressor = nn.Linear(hidden, 1, dtype=DTYPE)
        self.dec_embedding = nn.Embedding(vocab, hidden, dtype=DTYPE)
        self.dec_rnn = nn.LSTM(hidden, hidden, 1, batch_first=True, dtype=DTYPE)
        self.att_in = nn.Linear(hidden, hidden, bias=False, dtype=DTYPE)
        self.att_out = nn.Linear(2 * hidden, hidden, bias=False, dtype=DTYPE)
        self.dec_out = nn.Linear(hidden, vocab, dtype=DTYPE)

    def reset_parameters(self, g: torch.Generator) -> None:
        """PyTorch's default initialisation of each layer type, drawn from ``g``."""
        with torch.no_grad():
            for emb in (self.enc_embedding, self.dec_embedding):
                emb.weight.normal_(generator=g)
        for rnn in (self.enc_rnn, self.dec_rnn):
            for p in rnn.parameters():
                uniform_(p, 1.0 / math.sqrt(self.hidden), g)
        for lin in (self.enc_proj, self.mlp1, self.mlp2, self.regressor, self.att_in, self.att_out, self.dec_out):
            reset_linear_(lin, g)

    def encode(self, emb: torch.Tensor, rng: np.random.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings ``(B, L, H)`` -> (encoder outputs ``(B, L, H)``, arch embedding ``(B, H)``)."""
        x = dropout(emb, self.dropout_p, rng)
        out, _ = self.enc_rnn(x)
        out = F.normalize(x + self.enc_proj(out), p=2, dim=-1)
        return out, F.normalize(out.mean(dim=1), p=2, dim=-1)

    def predict_value(self, arch: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
        x = dropout(F.relu(self.mlp1(arch)), self.dropout_p, rng)
        x = dropout(F.relu(self.mlp2(x)), self.dropout_p, rng)
        return self.regressor((arch + x) * _RES_SCALE).squeeze(-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Evaluation-mode prediction from integer tokens ``(B, L)``."""
        _, arch = self.encode(self.enc_embedding(tokens), None)
        return self.predict_value(arch, None)

    def decode_log_probs(self, tokens: torch.Tensor, enc_out: torch.Tensor, arch: torch.Tensor,
                         rng: np.random.Generator | None) -> torch.Tensor:
        """Teacher-forced reconstruction: log-probabilities ``(B, L, vocab)`` of ``tokens``."""
        start = torch.zeros_like(tokens[:, :1])  # start token 0
        x = dropout(self.dec_embedding(torch.cat([start, tokens[:, :-1]], dim=1)), self.dropout_p, rng)
        state = (arch.unsqueeze(0).contiguous(), arch.unsqueeze(0).contiguous())
        h, _ = self.dec_rnn(x, state)
        x = (x + h) * _RES_SCALE
        attn = torch.softmax(self.att_in(x) @ enc_out.transpose(1, 2), dim=-1)
        mixed = torch.tanh(self.att_out(torch.cat([attn @ enc_out, x], dim=-1)))
        x = (x + mixed) * _RES_SCALE
        return F.log_softmax(self.dec_out(x), dim=-1)


class NAO(TorchPredictor):
    """NAO encoder-predictor-decoder on the ``nao`` token encoding."""

    name = "nao"
    encoding = "nao"
    parameter_constraints = {"hidden_size": COUNT, "weight_decay": NON_NEGATIVE, "grad_clip": POSITIVE,
                             "dropout": DROP_RATE, "vocab_size": NoneOr(Int(2))}
    tuning_space = HIDDEN_BATCH_LR_SPACE

    def __init__(self, hidden_size: int = 64, batch_size: int = 100, learning_rate: float = 1e-3,
                 weight_decay: float = 1e-4, epochs: int = 50, grad_clip: float = 5.0,
                 dropout: float = 0.1, vocab_size: int | None = None, random_state: int | None = 0) -> None:
        self._store_params(locals())

    def _build(self, meta: dict[str, int]) -> NAONet:
        return NAONet(meta["vocab"], self.hidden_size, self.dropout)

    def _tokens(self, X: np.ndarray) -> torch.Tensor:
        tokens = np.rint(X).astype(np.int64)
        if np.any(tokens != X) or np.any(tokens < 0):
            raise InputDataError(f"{self._label()}: X must hold non-negative integer tokens (nao encoding)")
        tokens[tokens >= self.meta_["vocab"]] = 0  # unseen token -> start/padding embedding
        return torch.from_numpy(tokens)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        seen = int(np.rint(X).max()) + 1 if X.size else 1
        if self.vocab_size is not None and seen > self.vocab_size:
            raise InputDataError(f"{self._label()}: X holds token {seen - 1}, beyond vocab_size={self.vocab_size}")
        module = self._initial_module({"vocab": self.vocab_size or max(seen, 2)})
        tokens = self._tokens(X)
        yt = torch.as_tensor(y, dtype=DTYPE)
        drop_rng = numpy_rng(self.random_state, SEED_DROPOUT)
        optimizer = make_adam(module.parameters(), self.learning_rate, weight_decay=self.weight_decay)
        params = list(module.parameters())
        module.train()
        for _, idx in self._batches(len(X), drop_last=False):
            tok = tokens[idx[0]]
            enc_out, arch = module.encode(module.enc_embedding(tok), drop_rng)
            mse = F.mse_loss(module.predict_value(arch, drop_rng), yt[idx[0]])
            log_probs = module.decode_log_probs(tok, enc_out, arch, drop_rng)
            nll = F.nll_loss(log_probs.reshape(-1, module.vocab), tok.reshape(-1))
            optimiser_step(optimizer, TRADE_OFF * mse + (1.0 - TRADE_OFF) * nll,
                           lambda: torch.nn.utils.clip_grad_norm_(params, self.grad_clip, foreach=True))
        self._set_module(module)

    def _predict(self, X: np.ndarray, return_std: bool) -> Prediction:
        return predict_in_chunks(self._predictor_module(), self._tokens(X))

    def _torch_function(self, space: "SearchSpace") -> Callable[[torch.Tensor], torch.Tensor]:
        from nasbench_tools.encodings import nao_vocab_size
        from nasbench_tools.encodings.tabular import nao_tokens

        from ..relaxed import check_weights

        vocab = self.meta_["vocab"]
        if vocab > nao_vocab_size(space):
            raise ParameterError(f"{self._label()}: the predictor was fitted on tokens up to {vocab - 1}, "
                             f"beyond the nao vocabulary of {space.name} ({nao_vocab_size(space)} tokens)")
        zero = np.zeros((1, space.n_slots), dtype=np.int64)
        base = nao_tokens(space, zero)[0]  # unvalidated: all-zero ops may be invalid in the space
        if base.size != self.n_features_in_:
            raise ParameterError(f"{self._label()}: the nao encoding of {space.name} has {base.size} tokens, "
                             f"the predictor was fitted on {self.n_features_in_}")
        one = nao_tokens(space, zero + 1)[0]
        op_pos = np.flatnonzero(one != base)  # token positions holding an op (one per slot, in order)
        if op_pos.size != space.n_slots:
            raise ParameterError(f"{self._label()}: cannot locate the op tokens of {space.name}'s nao encoding")
        op_tokens = base[op_pos][:, None] + np.arange(space.n_ops)[None, :]  # (n_slots, n_ops)
        op_tokens[op_tokens >= vocab] = 0
        fixed = torch.from_numpy(np.where(base >= vocab, 0, base))
        op_tok, pos = torch.from_numpy(op_tokens), torch.from_numpy(op_pos)

        modules = self._relaxed_modules()

        def fn(w: torch.Tensor) -> torch.Tensor:
            w = check_weights(space, w)
            net = modules(w.dtype)
            table = net.enc_embedding.weight
            emb = table[fixed].unsqueeze(0).expand(w.shape[0], -1, -1)
            soft = torch.einsum("nso,soh->nsh", w, table[op_tok])  # soft token embeddings
            emb = emb.index_copy(1, pos, soft)
            _, arch = net.encode(emb, None)
            return net.predict_value(arch, None)

        return fn
