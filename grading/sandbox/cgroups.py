"""A control group of its own for each sandboxed run, where the host delegates one to the worker.

A cgroup bounds what rlimits cannot: the memory a job's processes hold together (not each one's
address space, which CUDA and some allocators reserve by the gigabyte without using it), the
processes it has at once, and, when a bundle asks, its CPU time per second. It also tells how a
run ended: the kernel counts the processes it killed for memory, so a job killed outright for
memory reads as ``memory``, not as a crash or a timeout.

Two layouts exist. cgroup v2, one tree, used where its ``memory`` and ``pids`` controllers can
be enabled below the worker's own cgroup: a job's group is a sibling of a ``coursesite-worker``
leaf the worker's processes move into first, as v2 allows no process beside child groups that
have controllers. cgroup v1, one tree per controller, used where v2 lacks those controllers and
the v1 ``memory`` tree is writable (hybrid hosts). Neither: runs fall back to rlimits alone, and
the worker logs so once. A job joins its groups before bwrap starts (``join_command``), so
nothing it forks escapes them; the groups are emptied and removed after each run.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grading.sandbox.limits import Limits

log = logging.getLogger(__name__)

PREFIX = "coursesite"
WORKER_LEAF = f"{PREFIX}-worker"
CPU_PERIOD_MICROSECONDS = 100_000
KILL_ROUNDS = 50
KILL_PAUSE_SECONDS = 0.02
# The shell that moves itself into the job's groups, then becomes the sandbox: the groups'
# cgroup.procs files come first, then "--", then the command, which env(1) starts with an empty
# environment (the shell would have added PWD).
JOIN_SCRIPT = (
    'while [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; exec env -i -- "$@"'
)
MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUP = Path("/proc/self/cgroup")


class CgroupError(Exception):
    """A job's group could not be made, limited or removed."""


@dataclass(frozen=True)
class Hierarchy:
    """Where cgroups can be made: the folder of the worker's own group in one tree."""

    version: int  # 1 or 2
    controllers: frozenset[str]
    base: Path


@dataclass(frozen=True)
class Usage:
    """What the kernel counted for a run's group."""

    oom_kills: int
    peak_memory_bytes: int | None


def parse_mountinfo(text: str) -> list[tuple[Path, str, frozenset[str]]]:
    """The cgroup file systems in ``/proc/self/mountinfo``: mount point, type, v1 controllers."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 10:
            continue
        after = line.split(" - ", 1)[1].split()
        if len(after) < 3 or after[0] not in ("cgroup", "cgroup2"):
            continue
        options = frozenset(after[2].split(",")) if after[0] == "cgroup" else frozenset()
        found.append((Path(_unescape(fields[4])), after[0], options))
    return found


def parse_own_cgroups(text: str) -> dict[str, str]:
    """The worker's group per controller from ``/proc/self/cgroup``; "" names the v2 tree."""
    groups = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def count_of(text: str, key: str) -> int:
    """The number after ``key`` in a flat-keyed file (memory.events, memory.oom_control)."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


class JobGroups:
    """The groups of one run, made with its limits; ``close()`` kills what is left and removes
    them."""

    def __init__(self, hierarchies: Sequence[Hierarchy], name: str, limits: Limits) -> None:
        self.version = hierarchies[0].version
        self.folders: list[Path] = []
        self._by_controller: dict[str, Path] = {}
        try:
            for hierarchy in hierarchies:
                folder = hierarchy.base / name
                _remove_group(folder)  # left by a worker that died in the middle of a run
                folder.mkdir()
                self.folders.append(folder)
                for controller in hierarchy.controllers:
                    self._by_controller[controller] = folder
            self._limit(limits)
        except OSError as error:
            self.close()
            raise CgroupError(f"cannot make the job's cgroup {name}: {error}") from error

    @property
    def controllers(self) -> list[str]:
        return sorted(self._by_controller)

    @property
    def memory_limited(self) -> bool:
        return "memory" in self._by_controller

    def join_command(self, command: Sequence[str]) -> list[str]:
        """``command`` started by a shell that first moves itself into every group of the run."""
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        return ["/bin/sh", "-c", JOIN_SCRIPT, "join-cgroup", *procs, "--", *command]

    def usage(self) -> Usage:
        memory = self._by_controller.get("memory")
        if memory is None:
            return Usage(oom_kills=0, peak_memory_bytes=None)
        if self.version == 2:
            kills = count_of(_read(memory / "memory.events"), "oom_kill")
            peak = _read(memory / "memory.peak").strip()
        else:
            kills = count_of(_read(memory / "memory.oom_control"), "oom_kill")
            peak = _read(memory / "memory.max_usage_in_bytes").strip()
        return Usage(oom_kills=kills, peak_memory_bytes=int(peak) if peak.isdigit() else None)

    def close(self) -> None:
        for folder in reversed(self.folders):
            _remove_group(folder)
        self.folders = []

    def _limit(self, limits: Limits) -> None:
        memory = self._by_controller.get("memory")
        pids = self._by_controller.get("pids")
        cpu = self._by_controller.get("cpu")
        if self.version == 2:
            if memory is not None:
                _write(memory / "memory.max", limits.memory_bytes)
                _write_if_there(memory / "memory.swap.max", 0)
            if pids is not None:
                _write(pids / "pids.max", limits.processes)
            if cpu is not None and limits.cpus is not None:
                quota = math.ceil(limits.cpus * CPU_PERIOD_MICROSECONDS)
                _write(cpu / "cpu.max", f"{quota} {CPU_PERIOD_MICROSECONDS}")
            return
        if memory is not None:
            _write(memory / "memory.limit_in_bytes", limits.memory_bytes)
            # No swap either, where swap is accounted: the same bound on memory and swap together.
            _write_if_there(memory / "memory.memsw.limit_in_bytes", limits.memory_bytes)
        if pids is not None:
            _write(pids / "pids.max", limits.processes)
        if cpu is not None and limits.cpus is not None:
            _write(cpu / "cpu.cfs_period_us", CPU_PERIOD_MICROSECONDS)
            _write(cpu / "cpu.cfs_quota_us", math.ceil(limits.cpus * CPU_PERIOD_MICROSECONDS))


class Cgroups:
    """The cgroup layout this worker can use, found once; ``problem`` says why there is none."""

    def __init__(self, hierarchies: list[Hierarchy], problem: str = "") -> None:
        self.hierarchies = hierarchies
        self.problem = problem

    @property
    def version(self) -> int | None:
        return self.hierarchies[0].version if self.hierarchies else None

    def job(self, name: str, limits: Limits) -> JobGroups | None:
        """New groups for a run, or None where there are none; the caller closes them."""
        if not self.hierarchies:
            return None
        wanted = {"memory", "pids", *(("cpu",) if limits.cpus is not None else ())}
        chosen = [h for h in self.hierarchies if h.controllers & wanted]
        return JobGroups(chosen, f"{PREFIX}-{name}", limits)


_found: Cgroups | None = None


def cgroups() -> Cgroups:
    """This worker's cgroup layout, found on first use and logged when there is none."""
    global _found
    if _found is None:
        _found = find_cgroups()
        if _found.problem:
            log.warning(
                "jobs run without a cgroup of their own (%s): memory is bounded by each "
                "process's address space (RLIMIT_AS) only, and a job the kernel kills for "
                "memory reads as crashed",
                _found.problem,
            )
        else:
            controllers = sorted({c for h in _found.hierarchies for c in h.controllers})
            log.info("jobs run in cgroup v%s groups (%s)", _found.version, ", ".join(controllers))
    return _found


def find_cgroups(
    mountinfo: Path = MOUNTINFO, own: Path = OWN_CGROUP, *, v2: bool = True, v1: bool = True
) -> Cgroups:
    """The best layout of this host: v2 with memory and pids, else v1's memory tree (with pids
    and cpu where mounted), else none with the reason."""
    if os.geteuid() != 0:
        return Cgroups([], "the worker is not root")
    try:
        mounts = parse_mountinfo(mountinfo.read_text())
        groups = parse_own_cgroups(own.read_text())
    except OSError as error:
        return Cgroups([], f"cannot read {error.filename}")
    problems = []
    if v2:
        unified = [point for point, kind, _ in mounts if kind == "cgroup2"]
        if unified and "" in groups:
            try:
                return Cgroups([_v2_hierarchy(unified[0], groups[""])])
            except (CgroupError, OSError) as error:
                problems.append(f"cgroup v2: {error}")
        else:
            problems.append("cgroup v2: not mounted")
    if v1:
        try:
            return Cgroups(_v1_hierarchies(mounts, groups))
        except (CgroupError, OSError) as error:
            problems.append(f"cgroup v1: {error}")
    return Cgroups([], "; ".join(problems))


def _v2_hierarchy(mount: Path, own: str) -> Hierarchy:
    base = mount / own.lstrip("/")
    available = set(_read(base / "cgroup.controllers").split())
    needed = {"memory", "pids"}
    if not needed <= available:
        raise CgroupError(f"the controllers {', '.join(sorted(needed - available))} are not here")
    wanted = needed | ({"cpu"} & available)
    enabled = set(_read(base / "cgroup.subtree_control").split())
    if not wanted <= enabled:
        _v2_delegate(base, wanted)
    return Hierarchy(2, frozenset(wanted), base)


def _v2_delegate(base: Path, controllers: set[str]) -> None:
    """Enable ``controllers`` for groups below ``base``, moving the processes in ``base`` into a
    leaf first (v2 enables controllers only for a group without processes of its own). Other
    workers of the same group may do this at the same moment: a lock file serialises them."""
    try:
        lock_path = Path(tempfile.gettempdir(), f"{PREFIX}-cgroup.lock")
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise CgroupError(f"cannot lock: {error}") from error
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        leaf = base / WORKER_LEAF
        leaf.mkdir(exist_ok=True)
        for _ in range(KILL_ROUNDS):
            pids = _read(base / "cgroup.procs").split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):  # a process that ended meanwhile
                    _write(leaf / "cgroup.procs", pid)
        _write(base / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(controllers)))
    except OSError as error:
        raise CgroupError(f"cannot enable {', '.join(sorted(controllers))}: {error}") from error
    finally:
        os.close(lock)


def _v1_hierarchies(
    mounts: list[tuple[Path, str, frozenset[str]]], groups: dict[str, str]
) -> list[Hierarchy]:
    found = []
    for controller in ("memory", "pids", "cpu"):
        points = [p for p, kind, options in mounts if kind == "cgroup" and controller in options]
        if not points or controller not in groups:
            continue
        base = points[0] / groups[controller].lstrip("/")
        if not os.access(base, os.W_OK):
            continue
        found.append(Hierarchy(1, frozenset({controller}), base))
    if not any("memory" in h.controllers for h in found):
        raise CgroupError("no writable memory controller")
    return found


def _remove_group(folder: Path) -> None:
    """Kill every process in ``folder``'s group, then remove it."""
    if not folder.is_dir():
        return
    kill_file = folder / "cgroup.kill"
    for _ in range(KILL_ROUNDS):
        pids = _read(folder / "cgroup.procs").split()
        if not pids:
            break
        if kill_file.exists():
            with contextlib.suppress(OSError):
                _write(kill_file, 1)
        else:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        time.sleep(KILL_PAUSE_SECONDS)
    for _ in range(KILL_ROUNDS):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            # EBUSY while the kernel finishes reaping the processes killed above.
            time.sleep(KILL_PAUSE_SECONDS)
    log.error("could not remove the cgroup %s", folder)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _write(path: Path, value: object) -> None:
    with open(path, "w") as file:
        file.write(str(value))


def _write_if_there(path: Path, value: object) -> None:
    if path.exists():
        _write(path, value)
