"""The sandbox: each hostile program in hostile/ is run in it and must be contained.

Every sandboxed run is checked, besides its own point, for secrets of the test process in its
output, for processes of the slot's uid left running (or that only the worker's sweep caught), and
for this process still being able to start programs. Each test takes a slot of its own, so tests
running side by side (pytest-xdist) never share a uid.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from grading.sandbox import (
    Limits,
    SandboxResult,
    SandboxUnavailable,
    run_sandboxed,
    sandbox_available,
)
from grading.sandbox import runner as sandbox_runner
from grading.sandbox import stream as sandbox_stream
from grading.sandbox.bwrap import SLOT_UID_BASE, Fds, Tools, bwrap_argv
from grading.sandbox.limits import MEBIBYTE
from grading.sandbox.runner import UNSANDBOXED_WARNING, slot_processes
from grading.sandbox.seccomp import SeccompUnavailable
from grading.sandbox.stream import CappedOutput
from tests.conftest import REQUIRE_SERVICES, need_service, xdist_worker

HOSTILE = Path(__file__).resolve().parent / "hostile"
FAKE_SECRET_KEY = "sandbox-test-secret-key-4f9d2c"
FAKE_DATABASE_URL = "postgres://worker:sandbox-test-db-password-81ab@127.0.0.1:5432/coursesite"
SECRETS = (FAKE_SECRET_KEY, "sandbox-test-db-password-81ab")
SMALL = Limits(wall_seconds=5, memory_bytes=512 * MEBIBYTE, processes=16, output_bytes=64 * 1024)

_slots = itertools.count()


def unused_slot() -> int:
    """A slot no other test of this run uses, across pytest-xdist workers too."""
    return 10 + xdist_worker() * 100 + next(_slots)


@dataclass
class Sandbox:
    tmp_path: Path
    slot: int
    caplog: pytest.LogCaptureFixture

    @property
    def uid(self) -> int:
        return SLOT_UID_BASE + self.slot

    @property
    def job_dir(self) -> Path:
        return self.tmp_path / "job"

    def copy(self, case: str) -> None:
        self.job_dir.mkdir(exist_ok=True)
        shutil.copy(HOSTILE / f"{case}.py", self.job_dir)

    def run(
        self, case: str, *args: str, limits: Limits = SMALL, read_only: tuple[Path, ...] = ()
    ) -> SandboxResult:
        self.copy(case)
        result = run_sandboxed(
            ["python", f"{case}.py", *args],
            job_dir=self.job_dir,
            limits=limits,
            slot=self.slot,
            read_only=read_only,
        )
        self.assert_contained(result)
        return result

    def assert_contained(self, result: SandboxResult) -> None:
        output = result.stdout + result.stderr
        assert [secret for secret in SECRETS if secret in output] == []
        assert slot_processes(self.uid) == []
        assert [record.getMessage() for record in self.caplog.records] == []
        assert subprocess.run(["true"], check=False).returncode == 0


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Sandbox:
    """A working sandbox (bwrap, root), run from a process that holds secrets it must not leak."""
    if not sandbox_available():
        message = "the sandbox cannot run here (bwrap, setpriv, prlimit, libseccomp, root)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message}; REQUIRE_SERVICES=1 says it must")
        pytest.skip(message)
    monkeypatch.setenv("SECRET_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("DATABASE_URL", FAKE_DATABASE_URL)
    caplog.set_level(logging.WARNING, logger="grading.sandbox")
    return Sandbox(tmp_path, unused_slot(), caplog)


def test_it_runs_the_programs_that_debian_names_through_its_alternatives(sandbox):
    # /usr/bin/awk is a link to /etc/alternatives/awk, itself a link back into /usr.
    sandbox.job_dir.mkdir(exist_ok=True)
    result = run_sandboxed(
        ["awk", "BEGIN { print 6 * 7 }"], job_dir=sandbox.job_dir, limits=SMALL, slot=sandbox.slot
    )
    sandbox.assert_contained(result)
    assert (result.verdict, result.stdout.strip()) == ("ok", "42")


class TestHostilePrograms:
    def test_it_stops_an_infinite_loop_at_the_wall_clock(self, sandbox):
        result = sandbox.run("infinite_loop", limits=Limits(wall_seconds=1.5))
        assert (result.verdict, result.signal) == ("timeout", signal.SIGKILL)
        assert 1.5 <= result.wall_seconds < 3

    def test_it_stops_an_infinite_loop_at_its_cpu_seconds(self, sandbox):
        result = sandbox.run("infinite_loop", limits=Limits(wall_seconds=10, cpu_seconds=1))
        assert (result.verdict, result.signal) == ("timeout", signal.SIGXCPU)

    def test_it_contains_a_fork_bomb_within_its_process_limit(self, sandbox):
        counts = []
        done = threading.Event()

        def count_processes() -> None:
            while not done.is_set():
                counts.append(len(slot_processes(sandbox.uid)))
                time.sleep(0.05)

        counting = threading.Thread(target=count_processes)
        counting.start()
        try:
            result = sandbox.run("fork_bomb", limits=Limits(wall_seconds=2, processes=8))
        finally:
            done.set()
            counting.join()
        assert result.verdict == "timeout"
        assert 1 < max(counts) <= 8

    def test_it_calls_a_memory_bomb_memory(self, sandbox):
        # The run's cgroup holds it to its memory; the kernel kills it there, and counts it.
        result = sandbox.run("memory_bomb")
        assert (result.verdict, result.signal) == ("memory", signal.SIGKILL)
        assert result.cgroup.startswith(("v1: memory", "v2: memory"))
        assert result.peak_memory_bytes is not None
        assert SMALL.memory_bytes * 0.9 <= result.peak_memory_bytes <= SMALL.memory_bytes

    def test_it_stops_an_output_flood_at_the_cap(self, sandbox):
        result = sandbox.run("output_flood")
        marker = f"\n[output cut at {SMALL.output_bytes} bytes]"
        assert (result.verdict, result.output_truncated) == ("output_limit", True)
        assert result.stdout.endswith(marker)
        assert len(result.stdout.encode()) + len(result.stderr.encode()) <= (
            SMALL.output_bytes + len(marker)
        )

    def test_it_stops_a_file_in_the_job_directory_at_the_file_size_limit(self, sandbox):
        limits = Limits(wall_seconds=5, file_bytes=4 * MEBIBYTE)
        result = sandbox.run("fill_job_disk", limits=limits)
        assert (result.verdict, "File too large" in result.stderr) == ("crashed", True)
        assert (sandbox.job_dir / "checkpoint.bin").stat().st_size == 4 * MEBIBYTE

    def test_it_stops_filling_tmp_at_its_size(self, sandbox):
        result = sandbox.run("fill_tmp", limits=Limits(tmp_bytes=3 * MEBIBYTE))
        assert (result.verdict, "No space left on device" in result.stderr) == ("crashed", True)
        assert result.stdout.count("cached shard") in (2, 3)

    def test_it_stops_filling_shared_memory_at_its_size(self, sandbox):
        result = sandbox.run("fill_shm", limits=Limits(shm_bytes=3 * MEBIBYTE))
        assert (result.verdict, "No space left on device" in result.stderr) == ("crashed", True)
        assert result.stdout.count("shared batch") in (2, 3)

    def test_it_reaches_no_internet(self, sandbox):
        result = sandbox.run("internet")
        assert result.verdict == "ok"
        assert result.stdout.count("Network is unreachable") == 2
        assert "no lookup of pypi.org" in result.stdout

    def test_it_reaches_none_of_the_hosts_services(self, sandbox):
        result = sandbox.run("host_services")
        assert result.verdict == "ok"
        assert result.stdout.count("Connection refused") == 2
        # The other half of the proof: from outside, the same connections succeed.
        need_service("Redis", "127.0.0.1", 6379)
        need_service("PostgreSQL", "127.0.0.1", 5432)

    def test_it_keeps_the_workers_environment_out(self, sandbox):
        result = sandbox.run("read_secrets")
        assert result.verdict == "ok"
        assert "/proc/1/environ [Errno 13] Permission denied" in result.stdout

    def test_it_empties_the_environment_of_bwrap_itself(self, sandbox):
        # Seen from outside, as root, the bwrap processes above the job hold no environment.
        sandbox.copy("sleeper")
        results = []
        running = threading.Thread(
            target=lambda: results.append(
                run_sandboxed(
                    ["python", "sleeper.py"],
                    job_dir=sandbox.job_dir,
                    limits=Limits(wall_seconds=3),
                    slot=sandbox.slot,
                )
            )
        )
        running.start()
        try:
            bwraps = ancestors(first_process(sandbox.uid))
            environments = {Path(f"/proc/{pid}/environ").read_bytes() for pid in bwraps}
        finally:
            running.join()
        assert (len(bwraps), environments) == (2, {b""})
        sandbox.assert_contained(results[0])

    def test_it_hides_the_bundles_private_files_other_jobs_and_media(self, sandbox):
        answers = sandbox.tmp_path / "bundle" / "private" / "answers.npy"
        other_job = sandbox.tmp_path / "job-of-dave" / "mlp.py"
        media = sandbox.tmp_path / "media" / "submissions" / "carol.zip"
        for path in (answers, other_job, media):
            path.parent.mkdir(parents=True)
            path.write_text("MARKER-not-for-the-sandbox")
        result = sandbox.run("read_paths", str(answers), str(other_job), str(media))
        assert result.verdict == "ok"
        assert "MARKER" not in result.stdout
        assert result.stdout.count("No such file or directory") == 3
        assert "exists: True" not in result.stdout

    def test_it_shows_read_only_paths_without_letting_them_be_written(self, sandbox):
        public = sandbox.tmp_path / "bundle" / "public"
        public.mkdir(parents=True)
        (public / "data.txt").write_text("public data")
        read = sandbox.run("read_paths", str(public / "data.txt"), read_only=(public,))
        assert f"read {public / 'data.txt'}: b'public data'" in read.stdout
        written = sandbox.run("write_outside", str(public / "new"), read_only=(public,))
        assert "Read-only file system" in written.stdout
        assert not (public / "new").exists()

    def test_it_lets_nothing_be_written_outside_the_job(self, sandbox):
        targets = ["/usr/evil", "/etc/evil", "/evil", "/root/evil", "/dev/evil", "/proc/evil"]
        targets.append(f"{sys.prefix}/evil")
        result = sandbox.run("write_outside", *targets)
        assert result.verdict == "ok"
        assert result.stdout.count("cannot write") == len(targets)
        assert [path for path in targets if os.path.exists(path)] == []

    def test_it_survives_the_job_killing_its_parent_and_everything(self, sandbox):
        result = sandbox.run("kill_parent")
        assert "cannot kill the parent: [Errno 1] Operation not permitted" in result.stdout
        assert (result.verdict, result.signal) == ("crashed", signal.SIGKILL)

    def test_it_ends_a_daemon_that_would_outlive_the_run(self, sandbox):
        result = sandbox.run("daemon")
        assert (result.verdict, "started the helper" in result.stdout) == ("ok", True)
        last_beat = (sandbox.job_dir / "heartbeat").read_text()
        time.sleep(0.3)
        assert (sandbox.job_dir / "heartbeat").read_text() == last_beat

    def test_it_keeps_outputs_written_before_a_timeout(self, sandbox):
        result = sandbox.run("sleeper", limits=Limits(wall_seconds=1))
        assert (result.verdict, result.stdout) == ("timeout", "results written\n")
        assert (sandbox.job_dir / "out" / "result.json").read_text() == '{"accuracy": 0.99}'

    def test_it_refuses_the_system_calls_that_lead_out(self, sandbox):
        result = sandbox.run("escape_syscalls")
        outcomes = dict(line.split(": ") for line in result.stdout.splitlines())
        assert outcomes == {
            "unshare(CLONE_NEWUSER)": "EPERM",
            "unshare(CLONE_NEWNS)": "EPERM",
            "setns": "EPERM",
            "ptrace(PTRACE_TRACEME)": "EPERM",
            "ptrace(PTRACE_ATTACH, 1)": "EPERM",
            "mount": "EPERM",
            "umount2": "EPERM",
            "process_vm_readv": "EPERM",
            "keyctl": "EPERM",
            "bpf": "EPERM",
            "perf_event_open": "EPERM",
            "userfaultfd": "EPERM",
        }

    def test_it_runs_as_the_slots_uid_without_privileges(self, sandbox):
        result = sandbox.run("identity")
        ids = (sandbox.uid,) * 3
        assert result.stdout.splitlines()[0] == f"uids {ids} gids {ids} groups []"
        assert "cannot read /root: [Errno 13] Permission denied" in result.stdout
        assert "cannot read /etc/shadow: [Errno 2]" in result.stdout
        for line in ("CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"):
            assert line in result.stdout

    def test_it_hands_the_job_directory_to_the_slots_uid(self, sandbox):
        sandbox.run("identity")
        paths = [sandbox.job_dir, *sandbox.job_dir.rglob("*")]
        assert {path.lstat().st_uid for path in paths} == {sandbox.uid}

    def test_it_trains_a_torch_model_under_the_memory_limit(self, sandbox):
        limits = Limits(wall_seconds=15, memory_bytes=1024 * MEBIBYTE)
        result = sandbox.run("train_torch", limits=limits)
        assert result.verdict == "ok", result.stderr
        first, last = (float(word) for word in result.stdout.split() if word[0].isdigit())
        assert last < first / 10
        assert (sandbox.job_dir / "model.pt").stat().st_size > 0

    def test_it_refuses_when_bwrap_cannot_set_the_sandbox_up(self, sandbox):
        with pytest.raises(SandboxUnavailable, match="Can't find source path"):
            sandbox.run("identity", read_only=(sandbox.tmp_path / "missing",))


def first_process(uid: int) -> int:
    for _ in range(300):
        if pids := slot_processes(uid):
            return pids[0]
        time.sleep(0.01)
    raise AssertionError(f"no process of uid {uid} started")


def ancestors(pid: int) -> list[int]:
    """The processes between ``pid`` and this test process: the sandbox's bwrap processes."""
    found: list[int] = []
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        pid = int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])
        if pid in (0, os.getpid()):
            return found
        found.append(pid)


class TestWithoutASandbox:
    def test_it_refuses_to_run_untrusted_code(self, tmp_path, monkeypatch):
        monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "bwrap not found")
        with pytest.raises(SandboxUnavailable, match="bwrap not found"):
            run_sandboxed(["python", "-c", "pass"], job_dir=tmp_path, limits=Limits())

    def test_it_refuses_when_the_seccomp_filter_cannot_be_built(
        self, sandbox, tmp_path, monkeypatch
    ):
        def broken() -> bytes:
            raise SeccompUnavailable("libseccomp cannot be loaded: gone")

        monkeypatch.setattr(sandbox_runner, "seccomp_bpf", broken)
        with pytest.raises(SandboxUnavailable, match="libseccomp cannot be loaded"):
            run_sandboxed(["python", "-c", "pass"], job_dir=tmp_path, limits=Limits())

    def test_it_runs_with_rlimits_and_a_loud_warning_on_every_run_when_allowed(
        self, tmp_path, monkeypatch, caplog
    ):
        monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "bwrap not found")
        monkeypatch.setenv("SECRET_KEY", FAKE_SECRET_KEY)
        program = (
            "import os, resource; "
            "print(resource.getrlimit(resource.RLIMIT_FSIZE), os.environ.get('SECRET_KEY'))"
        )
        limits = Limits(wall_seconds=5, file_bytes=3 * MEBIBYTE)
        with (
            pytest.warns(RuntimeWarning, match="WITHOUT a sandbox") as warned,
            caplog.at_level(logging.WARNING, logger="grading.sandbox.runner"),
        ):
            results = [
                run_sandboxed(
                    [sys.executable, "-c", program],
                    job_dir=tmp_path,
                    limits=limits,
                    allow_unsandboxed=True,
                )
                for _ in range(2)
            ]
        assert {result.stdout for result in results} == {f"({3 * MEBIBYTE}, {3 * MEBIBYTE}) None\n"}
        assert len(warned) == 2
        assert [record.getMessage() for record in caplog.records] == [
            f"{UNSANDBOXED_WARNING} (bwrap not found)"
        ] * 2

    def test_it_stops_an_unsandboxed_run_at_the_wall_clock(self, tmp_path, monkeypatch):
        monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "bwrap not found")
        with pytest.warns(RuntimeWarning):
            result = run_sandboxed(
                [sys.executable, "-c", "import time; time.sleep(30)"],
                job_dir=tmp_path,
                limits=Limits(wall_seconds=0.5),
                allow_unsandboxed=True,
            )
        assert (result.verdict, result.signal) == ("timeout", signal.SIGKILL)

    def test_it_follows_a_run_where_the_system_has_no_pidfds(self, tmp_path, monkeypatch):
        monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "the sandbox needs Linux")
        monkeypatch.setattr(sandbox_stream, "_exit_fd", lambda pid: None)
        with pytest.warns(RuntimeWarning):
            finished, stopped = (
                run_sandboxed(
                    [sys.executable, "-c", program],
                    job_dir=tmp_path,
                    limits=Limits(wall_seconds=0.5),
                    allow_unsandboxed=True,
                )
                for program in ("print('done')", "import time; time.sleep(30)")
            )
        assert (finished.verdict, finished.stdout) == ("ok", "done\n")
        assert stopped.verdict == "timeout"


class TestCommandLine:
    TOOLS = Tools(bwrap="/usr/bin/bwrap", setpriv="/usr/bin/setpriv", prlimit="/usr/bin/prlimit")
    FDS = Fds(seccomp=10, status=11, etc={"/etc/passwd": 12})

    def argv(
        self,
        *,
        limits: Limits = SMALL,
        read_only: tuple[Path, ...] = (),
        gpu_index: int | None = None,
    ) -> list[str]:
        return bwrap_argv(
            ["python", "driver.py"],
            tools=self.TOOLS,
            fds=self.FDS,
            job_dir=Path("/srv/jobs/42"),
            limits=limits,
            uid=60007,
            env={"HOME": "/job"},
            read_only=read_only,
            gpu_index=gpu_index,
        )

    def test_it_binds_only_the_assigned_gpu_after_dev(self):
        argv = self.argv(gpu_index=1, limits=Limits(gpu=True))
        binds = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dev-bind"]
        assert binds[:3] == ["/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm"]
        assert "/dev/nvidia0" not in argv
        assert argv.index("--dev") < argv.index("--dev-bind") < argv.index("--remount-ro")
        assert argv[argv.index("/sys") - 1 : argv.index("/sys") + 2] == [
            "--ro-bind",
            "/sys",
            "/sys",
        ]

    def test_it_limits_address_space_on_cpu_jobs_only(self):
        def address_space(limits: Limits) -> list[str]:
            return [arg for arg in self.argv(limits=limits) if arg.startswith("--as=")]

        memory = SMALL.memory_bytes
        assert address_space(SMALL) == [f"--as={memory}:{memory}"]
        assert address_space(Limits(gpu=True)) == []

    def test_it_gives_cpu_jobs_no_gpu_and_no_sys(self):
        argv = self.argv()
        assert "--dev-bind" not in argv
        assert "/sys" not in argv

    def test_it_mounts_tmp_before_binds_and_shm_after_dev(self):
        argv = self.argv(read_only=(Path("/tmp/venv"),))
        assert argv.index("/tmp") < argv.index("/tmp/venv")
        assert argv.index("--dev") < argv.index("/dev/shm") < argv.index("--remount-ro")
        assert argv[argv.index("/tmp") - 5 : argv.index("/tmp")] == [
            "--perms",
            "1777",
            "--size",
            str(SMALL.tmp_bytes),
            "--tmpfs",
        ]

    def test_it_drops_to_the_uid_before_running_the_command(self):
        argv = self.argv()
        setpriv = argv.index("/usr/bin/setpriv")
        assert argv[setpriv - 1 : setpriv + 8] == [
            "--",
            "/usr/bin/setpriv",
            "--reuid=60007",
            "--regid=60007",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
        assert argv[-2:] == ["python", "driver.py"]

    def test_it_makes_crossable_folders_above_a_bound_interpreter(self):
        argv = self.argv(read_only=(Path("/root/.pyenv/versions/3.11.7"),))
        bind = argv.index("/root/.pyenv/versions/3.11.7")
        made = [argv[i + 1] for i, arg in enumerate(argv[:bind]) if arg == "--dir"]
        assert made[-3:] == ["/root", "/root/.pyenv", "/root/.pyenv/versions"]
        assert argv[argv.index("/root") - 2] == "0711"


class TestLimits:
    def test_it_gives_twice_the_wall_clock_as_cpu_seconds_by_default(self):
        assert Limits(wall_seconds=2.5).cpu_limit_seconds == 5
        assert Limits(wall_seconds=2.5, cpu_seconds=3).cpu_limit_seconds == 3

    def test_it_refuses_a_limit_that_is_not_positive(self):
        with pytest.raises(ValueError, match="output_bytes must be positive"):
            Limits(output_bytes=0)


class TestCappedOutput:
    def test_it_keeps_one_budget_for_both_streams_and_marks_the_cut(self):
        output = CappedOutput(10)
        output.add("stdout", b"123456")
        output.add("stderr", b"abcdef")
        assert (output.text("stdout"), output.text("stderr")) == (
            "123456",
            "abcd\n[output cut at 10 bytes]",
        )

    def test_it_decodes_a_character_cut_in_half_without_failing(self):
        output = CappedOutput(1)
        output.add("stdout", "é".encode())
        assert output.text("stdout") == "\ufffd\n[output cut at 1 bytes]"


def test_it_refuses_a_slot_without_a_uid_of_its_own(tmp_path):
    with pytest.raises(ValueError, match="slot must be between"):
        run_sandboxed(["true"], job_dir=tmp_path, limits=Limits(), slot=-1)


@pytest.mark.parametrize("allow_unsandboxed", [False, True])
def test_it_refuses_a_slot_without_a_uid_of_its_own_where_bwrap_is_missing(
    tmp_path, monkeypatch, allow_unsandboxed
):
    found = sandbox_runner._tools_path
    monkeypatch.setattr(
        sandbox_runner, "_tools_path", lambda name: None if name == "bwrap" else found(name)
    )
    assert not sandbox_available()
    with pytest.raises(ValueError, match="slot must be between"):
        run_sandboxed(
            ["true"],
            job_dir=tmp_path,
            limits=Limits(),
            slot=-1,
            allow_unsandboxed=allow_unsandboxed,
        )
