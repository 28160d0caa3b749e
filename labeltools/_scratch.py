"""Per-thread work arrays, reused from call to call.

A fresh array of a few hundred kB comes from mmap, or from heap memory that glibc
hands back to the system as soon as a few such arrays are freed, and page-faults on
first touch: on a VOC-sized image that costs more than the arithmetic done with it
(rgb2index: ~750 faults, 0.7 ms a mask). Per-image steps that run thousands of times
put their intermediates in these instead.

A work array is valid until the same thread asks for the same ``name`` again: use
it inside one call and never hand it to a caller.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["work_array"]

_local = threading.local()
#: Buffers up to this size are kept for the life of the thread; a larger request gets
#: an array of its own, so no huge buffer lingers after one huge image.
MAX_KEPT_BYTES = 1 << 25


def work_array(name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` (contents undefined), reused per thread and name."""
    dt = np.dtype(dtype)
    n = 1
    for s in shape:
        n *= s
    nbytes = n * dt.itemsize
    if nbytes > MAX_KEPT_BYTES:
        return np.empty(shape, dt)
    buffers: dict[str, np.ndarray] | None = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    buf = buffers.get(name)
    if buf is None or buf.size < nbytes:
        buf = buffers[name] = np.empty(nbytes, np.uint8)
    return buf[:nbytes].view(dt).reshape(shape)
