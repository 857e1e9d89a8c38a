"""Stand-alone training of single architectures with the super-network recipe (ground truth
for miniature studies and the throughput baseline of the benchmark)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..networks.base import SlotNetwork
from .config import TrainConfig
from .data import ImageData, Normalizer, train_batches
from .trainer import cosine_lr, make_optimizer


@torch.no_grad()
def accuracy(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, norm: Normalizer, batch_size: int = 256) -> float:
    """Top-1 accuracy of ``net`` (eval mode) on uint8 images ``x``."""
    net.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((net(norm(x[i:i + batch_size])).argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(x)


def train_standalone(net: SlotNetwork, data: ImageData, cfg: TrainConfig, seed: int = 0) -> list[float]:
    """Train ``net`` for ``cfg.epochs`` epochs (SGD, cosine lr, Table B.4 settings of ``cfg``);
    returns the training loss of each epoch."""
    dev = next(net.parameters()).device
    data = data.to(dev)
    norm = Normalizer(data.mean, data.std, dev)
    opt = make_optimizer(net, cfg)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(cfg.epochs):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(cfg, epoch)
        net.train()
        total, n = 0.0, 0
        for x, y in train_batches(data, cfg.batch_size, gen, padding=cfg.crop_padding):
            loss = F.cross_entropy(net(norm(x)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(y)
            n += len(y)
        losses.append(total / max(n, 1))
    return losses
