"""Peak memory of a stretch of CPU tensor work.

CUDA has an allocator peak counter (``torch.cuda.max_memory_allocated``); the CPU has none.
:class:`HeapPeak` stands in for it on Linux/glibc: it samples the bytes malloc has handed out
(``mallinfo2``: heap chunks + mmapped chunks) after every aten operation run under it, forward
and backward alike, and keeps the largest value.  Memory taken and given back inside a single
operation is not seen; everything that outlives an operation (activations, gradients,
temporaries between kernels) is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any, Callable

from torch.utils._python_dispatch import TorchDispatchMode

from ..errors import HeapStatsUnavailable


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


@functools.lru_cache(maxsize=1)
def _mallinfo2() -> Callable[[], Any]:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    try:
        fn = libc.mallinfo2
    except AttributeError:
        raise HeapStatsUnavailable("the C library has no mallinfo2 (glibc >= 2.33 is needed for CPU peak memory)") from None
    fn.restype = _MallInfo2
    return fn


def heap_in_use() -> int:
    """Bytes malloc has handed out and not got back (heap chunks + mmapped chunks)."""
    info = _mallinfo2()()
    return int(info.uordblks + info.hblkhd)


class HeapPeak(TorchDispatchMode):
    """Context manager: ``growth`` is the largest heap use seen after any aten operation inside
    it, minus the heap use on entry (bytes)."""

    def __enter__(self) -> "HeapPeak":
        self.start = heap_in_use()
        self.peak = self.start
        return super().__enter__()

    @property
    def growth(self) -> int:
        return self.peak - self.start

    def __torch_dispatch__(self, func: Callable[..., Any], types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        self.peak = max(self.peak, heap_in_use())
        return out
