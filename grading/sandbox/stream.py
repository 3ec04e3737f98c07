"""Reading a run's stdout and stderr as they come, within a byte budget and a deadline.

The pipes are read in chunks while the job runs, so a job that floods them is stopped once it
passes the budget instead of being buffered whole in the worker's memory.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Callable
from typing import Literal

CHUNK_BYTES = 64 * 1024
# After the job has exited, how long descendants that still hold its pipes may keep writing.
DRAIN_SECONDS = 0.5
# Without pidfds (not Linux), how often to look whether the job has exited.
EXIT_POLL_SECONDS = 0.05

Ending = Literal["exited", "timeout", "output_limit"]


class CappedOutput:
    """stdout and stderr of one run, sharing one budget of ``cap`` bytes in the order they came."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._kept = {"stdout": bytearray(), "stderr": bytearray()}
        self._cut: set[str] = set()
        self._room = cap

    def add(self, stream: str, data: bytes) -> None:
        kept = data[: self._room]
        self._kept[stream] += kept
        self._room -= len(kept)
        if len(kept) < len(data):
            self._cut.add(stream)

    @property
    def overflowed(self) -> bool:
        return bool(self._cut)

    def text(self, stream: str) -> str:
        text = self._kept[stream].decode("utf-8", errors="replace")
        if stream in self._cut:
            text += f"\n[output cut at {self.cap} bytes]"
        return text


def stream_until(
    process: subprocess.Popen[bytes],
    *,
    deadline: float,
    output: CappedOutput,
    kill: Callable[[], None],
) -> Ending:
    """Read ``process``'s stdout and stderr into ``output`` until it has exited and its pipes are
    closed. ``kill`` is called once, when the monotonic ``deadline`` passes or the output overflows;
    the answer says which of those ended the run, if either did. The caller reaps the process."""
    assert process.stdout is not None and process.stderr is not None
    ending: Ending = "exited"
    exited_at: float | None = None
    exit_fd = _exit_fd(process.pid)
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        if exit_fd is not None:
            selector.register(exit_fd, selectors.EVENT_READ, None)
        try:
            while True:
                now = time.monotonic()
                if exited_at is None and exit_fd is None and process.poll() is not None:
                    exited_at = now
                pipes_open = any(key.data for key in selector.get_map().values())
                if exited_at is not None and (not pipes_open or now >= exited_at + DRAIN_SECONDS):
                    return ending
                if ending == "exited" and now >= deadline:
                    kill()
                    ending = "timeout"
                wait = _wait_seconds(now, deadline, exited_at, killed=ending != "exited")
                if exit_fd is None:
                    wait = min(wait, EXIT_POLL_SECONDS)
                for key, _ in selector.select(wait):
                    if key.data is None:
                        exited_at = time.monotonic()
                        selector.unregister(key.fileobj)
                        continue
                    chunk = os.read(key.fd, CHUNK_BYTES)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    output.add(key.data, chunk)
                    if output.overflowed and ending == "exited":
                        kill()
                        ending = "output_limit"
        finally:
            if exit_fd is not None:
                os.close(exit_fd)


def _wait_seconds(now: float, deadline: float, exited_at: float | None, *, killed: bool) -> float:
    if exited_at is not None:
        return max(0.0, exited_at + DRAIN_SECONDS - now)
    if killed:
        # A killed process is gone in moments; look again soon rather than sleep to a deadline.
        return EXIT_POLL_SECONDS
    return max(0.0, deadline - now)


def _exit_fd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits, where the system has pidfds."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
