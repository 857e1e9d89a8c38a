"""CPU peak-memory meter (HeapPeak): sees forward and backward allocations, and frees."""

from __future__ import annotations

import torch

from nasbench_tools.utils.memory import HeapPeak, heap_in_use

MB = 2**20
N = 4 * MB  # float32 elements: 16 MB per tensor


def _warm() -> None:
    with HeapPeak():  # first use of an op builds caches; measure afterwards
        (torch.ones(N) * 2).sum()


def test_peak_counts_live_tensors_not_freed_ones():
    _warm()
    with HeapPeak() as one:
        a = torch.ones(N)
        del a
        b = torch.ones(N)
        del b
    with HeapPeak() as two:
        a = torch.ones(N)
        b = torch.ones(N)
        del a, b
    assert 16 * MB <= one.growth < 20 * MB  # two 16 MB tensors, never alive together
    assert 32 * MB <= two.growth < 36 * MB


def test_peak_sees_backward():
    x = torch.ones(N, requires_grad=True)
    _warm()
    y = (x * x).sum()  # forward outside the meter
    with HeapPeak() as back:
        y.backward()  # allocates x.grad (16 MB) inside the autograd engine
    assert back.growth >= 16 * MB
    assert x.grad is not None and heap_in_use() > 0
