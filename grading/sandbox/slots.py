"""Sandbox slots for programs that grade outside a worker pool (``grade_local``, benchmarks).

A slot is a uid; two runs at once in one slot would kill each other's processes when the first
one cleans up. A worker pool gives each process its own slot; other programs take a free one
from a range by holding an exclusive lock on a file named after it for as long as they run.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCAL_SLOTS = range(4900, 5000)


@contextmanager
def free_slot(slots: range = LOCAL_SLOTS) -> Iterator[int]:
    """Hold the first slot of ``slots`` that no other program on this machine holds."""
    folder = Path(tempfile.gettempdir())
    for slot in slots:
        fd = os.open(folder / f"coursesite-sandbox-slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield slot
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return
    raise RuntimeError(f"every sandbox slot from {slots.start} to {slots.stop - 1} is in use")
