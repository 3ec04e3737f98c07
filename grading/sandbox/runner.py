"""Running one command in the sandbox, and what came of it."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grading.sandbox.bwrap import JOB, Fds, Tools, bwrap_argv, etc_files, slot_uid
from grading.sandbox.cgroups import CgroupError, JobGroups, Usage, cgroups
from grading.sandbox.limits import Limits, rlimits_apply
from grading.sandbox.seccomp import SeccompUnavailable, seccomp_bpf
from grading.sandbox.stream import CappedOutput, Ending, stream_until

log = logging.getLogger(__name__)

UNSANDBOXED_WARNING = (
    "untrusted code is running WITHOUT a sandbox (COURSESITE_ALLOW_UNSANDBOXED): it can read "
    "this machine's files and secrets and reach its network; use this only on your own code"
)
# Shell convention, which bwrap follows: a command killed by signal N exits with 128 + N.
SIGNAL_EXIT_BASE = 128
MEMORY_TEXT = re.compile(
    r"MemoryError|std::bad_alloc|Cannot allocate memory|can't allocate memory|out of memory",
    re.IGNORECASE,
)
STDERR_TAIL_CHARS = 4096
SWEEP_ROUNDS = 20
SWEEP_PAUSE_SECONDS = 0.01
TEARDOWN_SECONDS = 1.0


class SandboxUnavailable(Exception):
    """The sandbox cannot run here (no bwrap, not root, no seccomp) or could not be set up."""


@dataclass(frozen=True)
class SandboxResult:
    """What came of a run.

    ``verdict`` is "ok" (exit status 0), "memory" (the kernel killed a process of the job for
    memory, or an allocation failed), "timeout" (wall clock or CPU limit), "output_limit" (more
    output than the limit) or "crashed" (any other non-zero exit or signal). ``stdout`` and
    ``stderr`` hold at most the output limit between them and end with a marker where they were
    cut. A command inside the sandbox that exits with 128 + N is reported as killed by signal N.
    ``cgroup`` says how the run was confined beyond rlimits ("v2: memory, pids", or "" where it
    had no cgroup of its own); ``peak_memory_bytes`` is the most memory it held, where known.
    """

    exit_code: int | None
    signal: int | None
    verdict: str
    stdout: str
    stderr: str
    wall_seconds: float
    output_truncated: bool
    cgroup: str = ""
    peak_memory_bytes: int | None = None


def sandbox_available() -> bool:
    return _sandbox_problem() is None


def run_sandboxed(
    argv: Sequence[str],
    *,
    job_dir: Path,
    limits: Limits,
    slot: int = 0,
    read_only: Sequence[Path] = (),
    read_only_at: Mapping[PurePosixPath, Path] | None = None,
    env: Mapping[str, str] | None = None,
    gpu_index: int | None = None,
    allow_unsandboxed: bool = False,
    mount_at: PurePosixPath = JOB,
    grader: bool = False,
    writable_at: Mapping[PurePosixPath, Path] | None = None,
) -> SandboxResult:
    """Run ``argv`` in ``job_dir`` (seen as ``mount_at``, /job by default, inside) under
    ``limits``, as the uid of ``slot`` (its grader uid with ``grader``: a bundle's trusted
    grader never shares a uid with the student code it judges).

    Before the run, ``job_dir`` and everything in it is handed to the slot's uid, and it stays
    so: whatever the job left there is untrusted. ``read_only`` paths are visible read-only at
    their own paths, ``read_only_at`` host paths at the inside paths that name them (and
    ``writable_at`` read-write); ``env`` adds to the fixed environment of the job. Without a
    usable sandbox this raises SandboxUnavailable, unless ``allow_unsandboxed``: then the command
    runs with rlimits only, as the worker's own user, with a warning on every run. Bad
    arguments (nothing to run, no job directory, a relative bound path, a slot out of range)
    raise ValueError first, whether or not this machine can run the sandbox.
    """
    if not argv:
        raise ValueError("nothing to run")
    setup = sandbox_setup(
        job_dir=job_dir,
        slot=slot,
        grader=grader,
        read_only=read_only,
        read_only_at=read_only_at,
        writable_at=writable_at,
        env=env,
        gpu_index=gpu_index,
        mount_at=mount_at,
    )
    problem = _sandbox_problem()
    if problem is None:
        return _run_in_bwrap(argv, limits=limits, **setup)
    if not allow_unsandboxed:
        raise SandboxUnavailable(problem)
    warnings.warn(UNSANDBOXED_WARNING, RuntimeWarning, stacklevel=2)
    log.warning("%s (%s)", UNSANDBOXED_WARNING, problem)
    job_dir = setup["job_dir"]
    return _run_unsandboxed(
        argv, job_dir=job_dir, limits=limits, env=job_environment(env or {}, home=str(job_dir))
    )


def sandbox_setup(
    *,
    job_dir: Path,
    slot: int,
    grader: bool,
    read_only: Sequence[Path],
    read_only_at: Mapping[PurePosixPath, Path] | None,
    writable_at: Mapping[PurePosixPath, Path] | None,
    env: Mapping[str, str] | None,
    gpu_index: int | None,
    mount_at: PurePosixPath,
) -> dict[str, Any]:
    """The checked arguments of a ``BwrapProcess`` but its command and limits; raises
    ValueError for a missing job directory, a relative path or a slot out of range."""
    job_dir = Path(job_dir).resolve()
    if not job_dir.is_dir():
        raise ValueError(f"job directory {job_dir} does not exist")
    binds = dict(read_only_at or {})
    writable = dict(writable_at or {})
    relative = [
        str(path)
        for path in [*read_only, *binds, *binds.values(), *writable, *writable.values()]
        if not PurePosixPath(path).is_absolute()
    ]
    if relative:
        raise ValueError(f"bound paths must be absolute: {', '.join(relative)}")
    return {
        "job_dir": job_dir,
        "uid": slot_uid(slot, grader=grader),
        "read_only": [*python_prefixes(), *(Path(path) for path in read_only)],
        "read_only_at": binds,
        "writable_at": writable,
        "env": job_environment(env or {}, home=str(mount_at)),
        "gpu_index": gpu_index,
        "mount_at": mount_at,
    }


def job_environment(extra: Mapping[str, str], *, home: str) -> dict[str, str]:
    """The job's whole environment: a fixed few variables, then ``extra``; none of the worker's."""
    environment = {
        "PATH": f"{Path(sys.prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # A job gets one slot of a shared machine; libraries would otherwise take every core.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    environment.update(extra)
    return environment


def python_prefixes() -> list[Path]:
    """The Python environment the job runs with: this venv and the interpreter it was made from.

    The interpreter may live in a folder the job's uid cannot cross on the host (/root/.pyenv);
    inside, only the prefix itself is bound, with crossable folders above it.
    """
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    paths = sorted({Path(prefix).resolve() for prefix in prefixes} | {Path(p) for p in prefixes})
    return [path for path in paths if not path.is_relative_to("/usr")]


def _sandbox_problem() -> str | None:
    """Why the sandbox cannot run here, or None when it can."""
    if sys.platform != "linux":
        return "the sandbox needs Linux"
    if os.geteuid() != 0:
        return "the worker must run as root to drop each job to a uid of its own"
    missing = [name for name in ("bwrap", "setpriv", "prlimit") if _tools_path(name) is None]
    if missing:
        return f"{', '.join(missing)} not found"
    try:
        seccomp_bpf()
    except SeccompUnavailable as error:
        return str(error)
    return None


def _tools_path(name: str) -> str | None:
    return shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")


@contextlib.contextmanager
def _job_groups(uid: int, limits: Limits) -> Iterator[JobGroups | None]:
    """The run's cgroups; a host whose cgroups fail now runs it on rlimits alone, logged."""
    try:
        groups = cgroups().job(str(uid), limits)
    except CgroupError as error:
        log.error("%s; this run is bounded by rlimits only", error)
        groups = None
    try:
        yield groups
    finally:
        if groups is not None:
            groups.close()


def _run_in_bwrap(argv: Sequence[str], **setup: Any) -> SandboxResult:
    run = BwrapProcess(argv, **setup)
    return run.finish(started=run.spawned)


class BwrapProcess:
    """One bwrap sandbox from its start to its end: the slot's uid cleared of processes, the job
    folder handed to it, the run's cgroups, and bwrap started with ``argv`` inside. ``finish``
    follows it to its end from the moment ``started`` (the wall-clock limit counts from there)
    and tells what came of it; ``stdin`` is a pipe when ``feed`` is set, /dev/null otherwise,
    and ``pass_fds`` are handed on into the sandbox."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        job_dir: Path,
        limits: Limits,
        uid: int,
        read_only: Sequence[Path],
        read_only_at: Mapping[PurePosixPath, Path],
        env: Mapping[str, str],
        gpu_index: int | None,
        mount_at: PurePosixPath,
        writable_at: Mapping[PurePosixPath, Path] | None = None,
        feed: bool = False,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.uid, self.limits, self.job_dir = uid, limits, job_dir
        tools = Tools(bwrap=_found("bwrap"), setpriv=_found("setpriv"), prlimit=_found("prlimit"))
        slot_processes_end(uid, grace_seconds=0)
        _chown_tree(job_dir, uid)
        self._closing = contextlib.ExitStack()
        self.groups = self._closing.enter_context(_job_groups(uid, limits))
        memory_bounded = self.groups is not None and self.groups.memory_limited
        self.status_read, status_write = os.pipe()
        self._closing.callback(os.close, self.status_read)
        try:
            with contextlib.ExitStack() as passed:
                passed.callback(os.close, status_write)
                fds = Fds(
                    seccomp=passed.enter_context(_data_fd("seccomp", seccomp_bpf())),
                    status=status_write,
                    etc={
                        path: passed.enter_context(_data_fd(path, data))
                        for path, data in etc_files(uid, mount_at).items()
                    },
                )
                command = bwrap_argv(
                    argv,
                    tools=tools,
                    fds=fds,
                    job_dir=job_dir,
                    limits=limits,
                    uid=uid,
                    env=env,
                    read_only=read_only,
                    read_only_at=read_only_at,
                    writable_at=writable_at,
                    gpu_index=gpu_index,
                    mount_at=mount_at,
                    address_space=not memory_bounded,
                )
                if self.groups is not None:
                    command = self.groups.join_command(command)
                self.spawned = time.monotonic()
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    # bwrap becomes pid 1 of the sandbox, whose /proc/1/environ the job may read.
                    env={},
                    start_new_session=True,
                    pass_fds=(fds.seccomp, fds.status, *fds.etc.values(), *pass_fds),
                )
        except BaseException:
            self._closing.close()
            raise

    def hand_over_folder(self) -> None:
        """Give what was put into the job folder since the start to the sandbox's uid."""
        _chown_tree(self.job_dir, self.uid)

    def finish(self, *, started: float) -> SandboxResult:
        try:
            ending, output, returncode = _follow(self.process, limits=self.limits, started=started)
            wall = time.monotonic() - started
            command_ran = _bwrap_ran_command(self.status_read)
            groups = self.groups
            usage = groups.usage() if groups is not None else Usage(0, None)
        finally:
            self._closing.close()
            slot_processes_end(self.uid, grace_seconds=TEARDOWN_SECONDS)
        if not command_ran and ending == "exited":
            raise SandboxUnavailable(f"bwrap could not set up the sandbox: {output.text('stderr')}")
        result = _result(ending, output, returncode, wall, signal_exits=True, usage=usage)
        if groups is None:
            return result
        confinement = f"v{groups.version}: {', '.join(groups.controllers)}"
        return dataclasses.replace(result, cgroup=confinement)

    def abandon(self) -> None:
        """Kill the sandbox unused and free what it held."""
        _kill_group(self.process.pid)
        with self.process:
            self.process.wait()
        self._closing.close()
        slot_processes_end(self.uid, grace_seconds=TEARDOWN_SECONDS)


def _run_unsandboxed(
    argv: Sequence[str], *, job_dir: Path, limits: Limits, env: Mapping[str, str]
) -> SandboxResult:
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        cwd=job_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        start_new_session=True,
        # Only in this development mode, where prlimit(1) may be missing (macOS).
        preexec_fn=functools.partial(rlimits_apply, limits, uid_per_job=False),
    )
    ending, output, returncode = _follow(process, limits=limits, started=started)
    wall = time.monotonic() - started
    return _result(ending, output, returncode, wall, signal_exits=False, usage=Usage(0, None))


def _follow(
    process: subprocess.Popen[bytes], *, limits: Limits, started: float
) -> tuple[Ending, CappedOutput, int]:
    """Stream the run to its end and reap it."""
    output = CappedOutput(limits.output_bytes)
    kill = functools.partial(_kill_group, process.pid)
    with process:
        try:
            ending = stream_until(
                process, deadline=started + limits.wall_seconds, output=output, kill=kill
            )
        except BaseException:
            kill()
            raise
        returncode = process.wait()
    return ending, output, returncode


def _kill_group(pid: int) -> None:
    # Under bwrap the group is bwrap itself; --die-with-parent and the pid namespace take the rest.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _exit_of(code: int, *, signal_exits: bool) -> tuple[int | None, int | None]:
    if code < 0:
        return None, -code
    if signal_exits and SIGNAL_EXIT_BASE < code <= SIGNAL_EXIT_BASE + signal.SIGRTMAX:
        return None, code - SIGNAL_EXIT_BASE
    return code, None


def _result(
    ending: Ending,
    output: CappedOutput,
    returncode: int,
    wall: float,
    *,
    signal_exits: bool,
    usage: Usage,
) -> SandboxResult:
    exit_code, killed_by = _exit_of(returncode, signal_exits=signal_exits)
    return SandboxResult(
        exit_code=exit_code,
        signal=killed_by,
        verdict=_verdict(ending, output, exit_code, killed_by, oom_kills=usage.oom_kills),
        stdout=output.text("stdout"),
        stderr=output.text("stderr"),
        wall_seconds=wall,
        output_truncated=output.overflowed,
        peak_memory_bytes=usage.peak_memory_bytes,
    )


def _verdict(
    ending: Ending,
    output: CappedOutput,
    exit_code: int | None,
    killed_by: int | None,
    *,
    oom_kills: int,
) -> str:
    """The run's verdict. Memory comes first: a job whose process the kernel killed for memory
    (counted by its cgroup) and that did not succeed anyway ran out of memory, even if what was
    left of it then hung until the deadline. Without a cgroup, memory is recognised only by the
    errors allocators report when the address space runs out."""
    if oom_kills and exit_code != 0:
        return "memory"
    if ending == "timeout" or killed_by == signal.SIGXCPU:
        return "timeout"
    if ending == "output_limit" or output.overflowed:
        return "output_limit"
    if exit_code == 0:
        return "ok"
    if MEMORY_TEXT.search(output.text("stderr")[-STDERR_TAIL_CHARS:]):
        return "memory"
    return "crashed"


def _bwrap_ran_command(status_read: int) -> bool:
    """Whether bwrap reported the command's exit status, which it does only for a command it set
    up and started; a run it killed (timeout, output) reports none."""
    os.set_blocking(status_read, False)
    report = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(status_read, 4096):
            report += chunk
    for line in report.decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            if "exit-code" in json.loads(line):
                return True
    return False


def slot_processes(uid: int) -> list[int]:
    """Live processes (zombies aside) whose real, effective, saved or file-system uid is ``uid``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uids = fields.get("Uid", "").split()
        if str(uid) in uids and not fields.get("State", "").strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def slot_processes_end(uid: int, *, grace_seconds: float) -> None:
    """Make sure nothing runs as the slot's uid. The kernel takes down the sandbox's pid namespace
    once bwrap is gone, which may take a moment: ``grace_seconds``. Anything left after that
    escaped the sandbox's own clean-up: it is killed, and logged."""
    give_up = time.monotonic() + grace_seconds
    while slot_processes(uid) and time.monotonic() < give_up:
        time.sleep(SWEEP_PAUSE_SECONDS)
    for _ in range(SWEEP_ROUNDS):
        pids = slot_processes(uid)
        if not pids:
            return
        log.warning("processes of sandbox uid %d outlived their run: %s", uid, pids)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(SWEEP_PAUSE_SECONDS)
    log.error("processes of sandbox uid %d keep coming back", uid)


def _chown_tree(root: Path, uid: int) -> None:
    # lchown never follows a link; a hard link out of the tree cannot exist, as link(2) fails
    # across the mounts the job sees.
    os.lchown(root, uid, uid)
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            os.lchown(os.path.join(folder, name), uid, uid)


@contextlib.contextmanager
def _data_fd(name: str, data: bytes) -> Iterator[int]:
    """A descriptor reading ``data`` from its start, for bwrap to copy into the sandbox."""
    fd = os.memfd_create(f"sandbox-{Path(name).name}", os.MFD_CLOEXEC)
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        yield fd
    finally:
        os.close(fd)


def _found(name: str) -> str:
    path = _tools_path(name)
    assert path is not None, f"{name} was found a moment ago"
    return path
