"""A sandbox started before its job: Python running, the heavy modules imported, waiting.

``sandbox_start`` starts a fresh sandbox exactly as ``run_sandboxed`` would (the same bwrap
command line, uid, cgroups, rlimits and binds) but runs ``launcher.py`` in it, which imports the
modules named (torch, numpy), says it is ready and waits. ``WaitingSandbox.run`` then hands it
its one job, a Python script or module: from then on the run is followed, limited and judged as
a cold run is, its wall clock and CPU time counted from that moment. A sandbox runs one job and
ends with it; one that is not used is ``abandon``-ed. Nothing of the job is in the sandbox while
it waits: the caller puts the job's files into the job folder just before ``run``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from grading.sandbox.bwrap import JOB
from grading.sandbox.limits import CPU_GRACE_SECONDS, Limits
from grading.sandbox.runner import BwrapProcess, SandboxResult, sandbox_setup

LAUNCHER = Path(__file__).with_name("launcher.py")
# Where the sandbox sees the launcher: outside the job folder, read-only.
LAUNCHER_AT = PurePosixPath("/opt/coursesite/launcher.py")
# CPU seconds the warm-up may spend on top of the job's own; the launcher gives back what it
# did not use before the job starts.
WARM_UP_CPU_SECONDS = 120
# How long ``run`` waits for a sandbox still importing before it gives it the job anyway.
READY_SECONDS = 120.0


@dataclasses.dataclass(frozen=True)
class Target:
    """What a waiting sandbox runs: ``python SCRIPT ARGS`` or ``python -m MODULE ARGS``."""

    script: str = ""
    module: str = ""
    args: tuple[str, ...] = ()

    def order(self, limits: Limits) -> dict[str, object]:
        order: dict[str, object] = {"args": list(self.args)}
        order["cpu_seconds"] = limits.cpu_limit_seconds
        order["cpu_grace"] = CPU_GRACE_SECONDS
        if self.module:
            order["module"] = self.module
        else:
            order["script"] = self.script
        return order


class WaitingSandbox:
    """A started sandbox waiting for ``run``; see the module's docstring."""

    def __init__(self, process: BwrapProcess, ready_read: int, limits: Limits) -> None:
        self._process = process
        self._ready_read = ready_read
        self.limits = limits
        self.started_at = time.monotonic()
        self.ready = False
        self.used = False
        self.abandoned = False

    def alive(self) -> bool:
        return not self.used and self._process.process.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """Whether the launcher said it is ready within ``timeout`` seconds."""
        if self.ready:
            return True
        readable, _, _ = select.select([self._ready_read], [], [], timeout)
        if readable:
            with contextlib.suppress(OSError):
                self.ready = os.read(self._ready_read, 16).startswith(b"ready")
        return self.ready

    def run(self, target: Target) -> SandboxResult:
        """Run ``target`` and follow it to its end, as a cold run is followed."""
        if self.used:
            raise RuntimeError("a sandbox runs one job")
        self.used = True
        self.wait_ready(READY_SECONDS)
        self._close_ready()
        self._process.hand_over_folder()
        stdin = self._process.process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):
            stdin.write(json.dumps(target.order(self.limits)).encode() + b"\n")
            stdin.close()
        return self._process.finish(started=time.monotonic())

    def abandon(self) -> None:
        """Stop the sandbox unused."""
        self.used = self.abandoned = True
        self._close_ready()
        self._process.abandon()

    def _close_ready(self) -> None:
        if self._ready_read >= 0:
            os.close(self._ready_read)
            self._ready_read = -1


def sandbox_start(
    *,
    job_dir: Path,
    limits: Limits,
    slot: int = 0,
    preload: Sequence[str] = (),
    read_only_at: Mapping[PurePosixPath, Path] | None = None,
    writable_at: Mapping[PurePosixPath, Path] | None = None,
    env: Mapping[str, str] | None = None,
    gpu_index: int | None = None,
    mount_at: PurePosixPath = JOB,
    grader: bool = False,
) -> WaitingSandbox:
    """Start a sandbox that imports ``preload`` and waits for its job; the arguments mean what
    they mean to ``run_sandboxed``, which checks the same way. The sandbox must be usable here
    (``sandbox_available()``): there is no unsandboxed way to wait."""
    setup = sandbox_setup(
        job_dir=job_dir,
        slot=slot,
        grader=grader,
        read_only=(),
        read_only_at={**(read_only_at or {}), LAUNCHER_AT: LAUNCHER},
        writable_at=writable_at,
        env=env,
        gpu_index=gpu_index,
        mount_at=mount_at,
    )
    warm_limits = dataclasses.replace(
        limits, cpu_seconds=limits.cpu_limit_seconds + WARM_UP_CPU_SECONDS
    )
    ready_read, ready_write = os.pipe2(os.O_CLOEXEC)
    argv = [sys.executable, "-P", "-B", str(LAUNCHER_AT), str(ready_write), *preload]
    try:
        process = BwrapProcess(
            argv, limits=warm_limits, feed=True, pass_fds=(ready_write,), **setup
        )
    except BaseException:
        os.close(ready_read)
        raise
    finally:
        os.close(ready_write)
    # The run is followed, and its CPU limit restored by the launcher, with the job's own limits.
    process.limits = limits
    return WaitingSandbox(process, ready_read, limits)
