"""A cgroup of its own per sandboxed run: memory deaths read as ``memory``, the run's processes
stay in its group and go with it, a CPU share holds, and a host without cgroups falls back to
rlimits and says so. The runs are real; this machine delegates cgroups to root."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from grading.sandbox import Limits, run_sandboxed
from grading.sandbox import cgroups as cgroups_module
from grading.sandbox.bwrap import slot_uid
from grading.sandbox.cgroups import (
    Cgroups,
    count_of,
    find_cgroups,
    parse_mountinfo,
    parse_own_cgroups,
)
from grading.sandbox.limits import MEBIBYTE
from grading.sandbox.runner import slot_processes
from tests.conftest import need_sandbox, xdist_slot

HOSTILE = Path(__file__).resolve().parent / "hostile"
SLOT_BASE = 3900
SMALL = Limits(wall_seconds=5, memory_bytes=256 * MEBIBYTE, processes=32, output_bytes=64 * 1024)

V2_MOUNTINFO = """\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw
"""
HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def slot(offset: int) -> int:
    return xdist_slot(SLOT_BASE, offset)


def run(case: str, tmp_path: Path, offset: int, limits: Limits = SMALL):
    job = tmp_path / "job"
    job.mkdir(exist_ok=True)
    shutil.copy(HOSTILE / f"{case}.py", job)
    result = run_sandboxed(["python", f"{case}.py"], job_dir=job, limits=limits, slot=slot(offset))
    assert slot_processes(slot_uid(slot(offset))) == []
    return result


def job_groups(uid: int) -> list[Path]:
    found = []
    for mount, kind, controllers in parse_mountinfo(Path("/proc/self/mountinfo").read_text()):
        if kind == "cgroup2" or controllers & {"memory", "pids", "cpu"}:
            found += mount.rglob(f"coursesite-{uid}")
    return found


def test_a_data_loader_dying_for_memory_reads_memory_not_timeout(tmp_path):
    need_sandbox()
    result = run("loader_memory_bomb", tmp_path, 0)
    # The parent waited for its dead worker until the deadline; the kernel's count says why.
    assert result.verdict == "memory"
    assert result.wall_seconds >= SMALL.wall_seconds


def test_a_gpu_job_is_held_to_its_memory_too(tmp_path):
    # No address-space limit for GPU jobs (CUDA reserves far more than it uses); the cgroup
    # bounds what they hold.
    need_sandbox()
    result = run("memory_bomb", tmp_path, 1, Limits(**{**SMALL.__dict__, "gpu": True}))
    assert (result.verdict, result.signal) == ("memory", signal.SIGKILL)


def test_the_runs_processes_live_in_its_group_and_go_with_it(tmp_path):
    need_sandbox()
    uid = slot_uid(slot(2))
    results = []
    running = threading.Thread(
        target=lambda: results.append(run("sleeper", tmp_path, 2, Limits(wall_seconds=3)))
    )
    running.start()
    try:
        for _ in range(300):
            if pids := slot_processes(uid):
                break
            time.sleep(0.01)
        membership = Path(f"/proc/{pids[0]}/cgroup").read_text()
        during = job_groups(uid)
    finally:
        running.join()
    assert f"/coursesite-{uid}" in membership
    assert during != []
    assert (results[0].verdict, job_groups(uid)) == ("timeout", [])


def test_a_group_left_by_a_dead_worker_is_emptied_and_replaced(tmp_path):
    need_sandbox()
    uid = slot_uid(slot(3))
    found = cgroups_module.cgroups()
    assert found.hierarchies, found.problem
    memory = next(h for h in found.hierarchies if "memory" in h.controllers)
    stale = memory.base / f"coursesite-{uid}"
    stale.mkdir()
    left = subprocess.Popen(["sleep", "600"])
    (stale / "cgroup.procs").write_text(str(left.pid))
    result = run("memory_bomb", tmp_path, 3)
    assert result.verdict == "memory"
    assert left.wait(timeout=5) == -signal.SIGKILL
    assert job_groups(uid) == []


def test_a_cpu_share_holds_the_run_to_it(tmp_path):
    need_sandbox()
    job = tmp_path / "job"
    job.mkdir()
    busy = "import time\nend = time.time() + 2\nwhile time.time() < end: pass\n"
    busy += "print(time.process_time())\n"
    (job / "busy.py").write_text(busy)
    result = run_sandboxed(
        ["python", "busy.py"],
        job_dir=job,
        limits=Limits(wall_seconds=10, cpus=0.2),
        slot=slot(4),
    )
    assert "cpu" in result.cgroup, result.cgroup
    # Two seconds of wall clock at a fifth of a CPU: about 0.4 s of CPU, never near 2.
    assert float(result.stdout) < 0.8


def test_without_cgroups_it_falls_back_to_rlimits_and_says_so(tmp_path, monkeypatch, caplog):
    need_sandbox()
    monkeypatch.setattr(cgroups_module, "_found", None)
    monkeypatch.setattr(
        cgroups_module, "find_cgroups", lambda: Cgroups([], "cgroup v1: no writable memory")
    )
    with caplog.at_level(logging.WARNING, logger="grading.sandbox"):
        result = run("memory_bomb", tmp_path, 5)
    # The address-space limit makes the allocation fail; Python says MemoryError.
    assert (result.verdict, result.cgroup) == ("memory", "")
    assert result.stderr.rstrip().endswith("MemoryError")
    assert "jobs run without a cgroup of their own (cgroup v1: no writable memory)" in caplog.text


def test_it_reads_where_the_cgroups_are():
    assert parse_mountinfo(V2_MOUNTINFO) == [(Path("/sys/fs/cgroup"), "cgroup2", frozenset())]
    assert parse_mountinfo(HYBRID_MOUNTINFO) == [
        (Path("/sys/fs/cgroup/memory"), "cgroup", frozenset({"rw", "memory"})),
        (Path("/sys/fs/cgroup/pids"), "cgroup", frozenset({"rw", "pids"})),
        (Path("/sys/fs/cgroup/cpu,cpuacct"), "cgroup", frozenset({"rw", "cpu", "cpuacct"})),
        (Path("/sys/fs/cgroup/unified"), "cgroup2", frozenset()),
    ]
    own = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/system.slice/worker.service\n"
    assert parse_own_cgroups(own) == {
        "pids": "/docker/abc",
        "cpu": "/docker/abc",
        "cpuacct": "/docker/abc",
        "": "/system.slice/worker.service",
    }
    events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"
    assert (count_of(events, "oom_kill"), count_of(events, "oom"), count_of("", "oom")) == (2, 3, 0)


def test_it_names_why_a_host_has_no_cgroups_for_it(tmp_path):
    need_sandbox()  # root, as the worker is: a non-root worker is refused before the mounts
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 27 0:21 / /proc rw,relatime - proc proc rw\n")
    own = tmp_path / "cgroup"
    own.write_text("0::/\n")
    found = find_cgroups(mountinfo, own)
    assert (found.hierarchies, found.problem) == (
        [],
        "cgroup v2: not mounted; cgroup v1: no writable memory controller",
    )
