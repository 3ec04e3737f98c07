"""What one sandboxed run may use, and the rlimits that enforce it."""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

MEBIBYTE = 1024 * 1024
GIBIBYTE = 1024 * MEBIBYTE

OPEN_FILES = 1024
# A process past its CPU seconds gets SIGXCPU; one that ignores it is killed this much later.
CPU_GRACE_SECONDS = 2


@dataclass(frozen=True)
class Limits:
    """The limits of one run; a bundle's ``autograder.toml`` sets them, these are the defaults.

    ``cpu_seconds`` left empty means twice the wall-clock limit. ``memory_bytes`` bounds the
    memory the job's processes hold together, in a cgroup of the run's own; where the host has no
    cgroup for the worker, it bounds each process's address space instead, and then not for GPU
    jobs, as CUDA reserves far more address space than it uses. ``processes`` counts the job's
    processes (the cgroup's, and every process of the slot's uid). ``cpus`` caps the CPU time per
    second (1.5: one and a half cores), where the host has the cgroup's cpu controller.
    ``job_bytes`` caps the job folder as a whole (it is a sized tmpfs, so what the job writes
    there is held in memory and counts towards ``memory_bytes``); ``file_bytes`` caps each file.
    """

    wall_seconds: float = 60
    cpu_seconds: int | None = None
    memory_bytes: int = 2 * GIBIBYTE
    processes: int = 64
    file_bytes: int = 256 * MEBIBYTE
    output_bytes: int = 1 * MEBIBYTE
    tmp_bytes: int = 256 * MEBIBYTE
    shm_bytes: int = 64 * MEBIBYTE
    job_bytes: int = 1 * GIBIBYTE
    cpus: float | None = None
    gpu: bool = False

    def __post_init__(self) -> None:
        sizes = {
            "wall_seconds": self.wall_seconds,
            "cpu_seconds": self.cpu_limit_seconds,
            "memory_bytes": self.memory_bytes,
            "processes": self.processes,
            "file_bytes": self.file_bytes,
            "output_bytes": self.output_bytes,
            "tmp_bytes": self.tmp_bytes,
            "shm_bytes": self.shm_bytes,
            "job_bytes": self.job_bytes,
            "cpus": 1 if self.cpus is None else self.cpus,
        }
        for name, value in sizes.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")

    @property
    def cpu_limit_seconds(self) -> int:
        if self.cpu_seconds is not None:
            return self.cpu_seconds
        return math.ceil(self.wall_seconds * 2)


@dataclass(frozen=True)
class Rlimit:
    option: str  # the long option of prlimit(1) that sets it
    resource: int
    soft: int
    hard: int


def rlimits(
    limits: Limits, *, uid_per_job: bool = True, address_space: bool = True
) -> list[Rlimit]:
    """The rlimits of a run.

    RLIMIT_NPROC counts every process of the uid, so it bounds a job only when the job has a uid of
    its own (``uid_per_job``); under a developer's own uid it would count their desktop too.
    RLIMIT_AS is left out where a cgroup bounds the job's memory (``address_space`` false).
    """
    cpu = limits.cpu_limit_seconds
    table = [
        Rlimit("cpu", resource.RLIMIT_CPU, cpu, cpu + CPU_GRACE_SECONDS),
        Rlimit("fsize", resource.RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes),
        Rlimit("core", resource.RLIMIT_CORE, 0, 0),
        Rlimit("nofile", resource.RLIMIT_NOFILE, OPEN_FILES, OPEN_FILES),
    ]
    if uid_per_job:
        table.append(Rlimit("nproc", resource.RLIMIT_NPROC, limits.processes, limits.processes))
    if address_space and not limits.gpu:
        table.append(Rlimit("as", resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes))
    return table


def prlimit_options(limits: Limits, *, address_space: bool = True) -> list[str]:
    table = rlimits(limits, address_space=address_space)
    return [f"--{limit.option}={limit.soft}:{limit.hard}" for limit in table]


def rlimits_apply(limits: Limits, *, uid_per_job: bool) -> None:
    """Set the rlimits on the calling process; meant to run in a child just before it execs."""
    for limit in rlimits(limits, uid_per_job=uid_per_job):
        resource.setrlimit(limit.resource, (limit.soft, limit.hard))
