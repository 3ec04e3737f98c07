"""What the fault tests of the grading pipeline break, and how they judge the outcome.

Each fault test runs its own servers, so that it can kill them: a Redis server, a PostgreSQL
cluster and the site under gunicorn, all on free ports of 127.0.0.1 (never the machine's own
services, which other tests use), plus a small tmpfs for the job folders. A rush of hand-ins goes
through the site's API as students send them; ``assert_graded_exactly_once`` then checks every
hand-in against the database, job by job.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import requests
from django.db import connections

from coursesite.models import Role, Score, ScoreChange
from coursesite.tokens import api_token_create
from grading.models import GradingJob, JobStatus, TestResult
from tests.conftest import REPO, django_env, make_member
from tests.grading.conftest import Pipeline

RIGHT, WRONG = 42, 41  # the pipeline bundle's answer, and another
POINTS = {RIGHT: Decimal(100), WRONG: Decimal(0)}  # the item's points for each (no lateness)
CHANGE_REASON = re.compile(r"grading job (\d+) ")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, ready: Callable[[], bool], timeout: float, pause: float = 0.2) -> float:
    """Wait until ``ready()``; returns the seconds it took, or fails the test after ``timeout``."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(pause)
    return time.monotonic() - start


class RedisServer:
    """A redis-server of the test's own that keeps nothing: killed and started again, it is empty,
    like a broker host that crashed."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder),
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            wait_for("redis-server to answer", lambda: _answers(client), timeout=20, pause=0.05)
        except AssertionError:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Killed for the block (SIGKILL: a crash), then started again, empty."""
        self.kill()
        try:
            yield
        finally:
            self.start()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl) in a folder under /tmp.

    PostgreSQL refuses to run as root, so as root every command runs as the ``postgres`` user,
    which owns the folder; /tmp is chosen because that user can reach it (pytest's own temporary
    folders are root's alone). Durability is off: the tests restart it, they never pull the plug.
    """

    def __init__(self) -> None:
        self.bin = postgres_programs()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server programs under /usr/lib/postgresql")
        self.folder = Path(tempfile.mkdtemp(prefix="coursesite-faults-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.owner is not None:
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        runas = ["runuser", "-u", "postgres", "--"] if self.owner is not None else []
        done = subprocess.run(
            [*runas, str(self.bin / program), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed: {done.stdout}{done.stderr}")

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                  "--no-locale", "-E", "UTF8")  # fmt: skip
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: the server ends every session, as in a restart for an upgrade or failover."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """Stopped (fast) for the block, then started again."""
        self.stop("fast")
        try:
            yield
        finally:
            self.start()

    def create_database(self, name: str) -> None:
        import psycopg

        info = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(info, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def postgres_programs() -> Path | None:
    """The folder of the newest PostgreSQL server programs installed (Debian's layout)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    return found[-1].parent if found else None


def _version(initdb: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", initdb.parent.parent.name))


@contextlib.contextmanager
def django_database_at(url: str) -> Iterator[None]:
    """Point this process's default database at ``url``, read as the site reads DATABASE_URL,
    for the block; the connection opened before is closed, and the old settings come back after.
    The caller holds pytest-django's database blocker open."""
    from coursesite.settings.env import env_database

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        wanted = env_database("DATABASE_URL", url)
    saved = connections.settings["default"]
    _use_default_database(connections.configure_settings({"default": wanted})["default"])
    try:
        yield
    finally:
        _use_default_database(saved)


def _use_default_database(settings_dict: dict[str, object]) -> None:
    connections["default"].close()
    # One dict with settings.DATABASES: what the tests read from there names this database too.
    connections.settings["default"] = settings_dict
    del connections["default"]


class SmallDisk:
    """A tmpfs of a few MB mounted at ``path`` (root only), to be filled and freed again."""

    def __init__(self, path: Path, size_bytes: int) -> None:
        self.path, self.size_bytes = path, size_bytes
        self.filler = path / "filler"

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        options = f"size={self.size_bytes},mode=0755"
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "coursesite-faults", str(self.path)], check=True
        )

    def fill(self) -> None:
        """Write one file until the disk refuses more."""
        block = b"\0" * 65536
        with self.filler.open("wb", buffering=0) as stream:
            try:
                while True:
                    stream.write(block)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
        # The last block may have gone in part: try byte by byte until not one more fits.
        with self.filler.open("ab", buffering=0) as stream, contextlib.suppress(OSError):
            while stream.write(b"\0"):
                pass

    def free(self) -> None:
        self.filler.unlink()

    @contextlib.contextmanager
    def full(self) -> Iterator[None]:
        """Full for the block, then freed."""
        self.fill()
        try:
            yield
        finally:
            self.free()

    def unmount(self) -> None:
        # Lazily: a killed worker may have left a job's own tmpfs mounted inside.
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True)


class WebServer:
    """The site under gunicorn, as it runs in production (sync workers), on a port of its own."""

    def __init__(self, log: Path, **environment: str) -> None:
        self.port, self.log = free_port(), log
        self.environment = environment
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 2) -> None:
        env = django_env(DJANGO_SETTINGS_MODULE="coursesite.settings.test", **self.environment)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "coursesite.wsgi", "--bind",
                 f"127.0.0.1:{self.port}", "--workers", str(workers), "--timeout", "60",
                 "--no-control-socket"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for("the site to answer", self._answers, timeout=60)
        except AssertionError:
            self.stop()
            raise

    def _answers(self) -> bool:
        try:
            requests.get(f"{self.url}/healthz", timeout=30)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class HandIn:
    student: str
    value: int
    submission: int | None = None  # the hand-in's id, once the site took it


def rush_plan() -> list[HandIn]:
    """24 hand-ins of 8 students, in rounds: everyone's first, then the second of those who hand
    in again, and so on; one student hands in seven times. A student's last hand-in is right and
    the earlier ones wrong, so the last one's grading always changes the Score, and one student
    hands in once, wrongly (a Score of 0 is a Score too)."""
    counts = {f"student{n}": count for n, count in enumerate([1, 1, 1, 2, 3, 4, 5, 7], start=1)}
    plan = []
    for round_ in range(max(counts.values())):
        for student, count in counts.items():
            if round_ < count:
                last = round_ == count - 1
                plan.append(HandIn(student, RIGHT if last and student != "student1" else WRONG))
    return plan


@dataclass
class Rush:
    """Hand-ins sent to the site's API as the students would, in the plan's order.

    A hand-in the site does not take (an error, or no answer) stays next in line: the student
    tries the same file again later. ``refused`` counts those answers.
    """

    web: WebServer
    pipeline: Pipeline
    plan: list[HandIn] = field(default_factory=rush_plan)
    tokens: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    refused: int = 0
    sleep: float = 0.0  # how long each hand-in's code dawdles before it answers

    def __post_init__(self) -> None:
        course = self.pipeline.assignment.item.course
        for student in dict.fromkeys(hand_in.student for hand_in in self.plan):
            user = make_member(course, student, Role.STUDENT)
            self.tokens[student] = api_token_create(user=user)[1]

    @property
    def address(self) -> str:
        assignment = self.pipeline.assignment
        course = assignment.item.course
        api = f"{self.web.url}/api/v1"
        return f"{api}/courses/{course.slug}/assignments/{assignment.pk}/submissions/"

    def send(self, count: int | None = None, pause: float = 0.05) -> int:
        """Send the next ``count`` hand-ins (all that are left by default); stops at the first
        the site does not take. Returns how many it took."""
        taken = 0
        for hand_in in self.plan[self.sent :][:count]:
            if not self.send_one(hand_in):
                break
            taken += 1
            time.sleep(pause)
        return taken

    def send_rest(self) -> bool:
        """Send what is left, as far as the site takes it; whether all is sent now."""
        self.send()
        return self.done

    def send_one(self, hand_in: HandIn) -> bool:
        upload = f"VALUE = {hand_in.value}\nSLEEP = {self.sleep}\n".encode()
        try:
            answer = requests.post(
                self.address,
                headers={"Authorization": f"Token {self.tokens[hand_in.student]}"},
                files={"file": ("answer.py", upload, "text/x-python")},
                timeout=30,
            )
        except requests.RequestException:
            answer = None
        if answer is None or answer.status_code != 201:
            assert answer is None or answer.status_code >= 500, answer.text[:500]
            self.refused += 1
            return False
        hand_in.submission = int(answer.json()["id"])
        self.sent += 1
        return True

    @property
    def done(self) -> bool:
        return self.sent == len(self.plan)

    def jobs(self) -> list[GradingJob]:
        subjects = [f"submission:{h.submission}" for h in self.plan if h.submission is not None]
        return list(GradingJob.objects.filter(subject__in=subjects))

    def settled(self) -> bool:
        """Every hand-in sent, every job finished one way or another, and every student's
        Score recorded from their last hand-in (a worker records it just after the result)."""
        finished = (JobStatus.DONE, JobStatus.SUPERSEDED, JobStatus.ERROR)
        if not self.done or any(job.status not in finished for job in self.jobs()):
            return False
        last = {hand_in.student: job_of(hand_in) for hand_in in self.plan}
        changes = ScoreChange.objects.filter(score__item=self.pipeline.assignment.item)
        named = {
            (change.score.student.username, int(found[1]))
            for change in changes.select_related("score__student")
            if (found := CHANGE_REASON.search(change.reason))
        }
        graded = [(name, job.pk) for name, job in last.items() if job.status == JobStatus.DONE]
        return all(pair in named for pair in graded)


def job_of(hand_in: HandIn) -> GradingJob:
    """The one job of a hand-in (``get`` fails if there were two)."""
    return GradingJob.objects.get(subject=f"submission:{hand_in.submission}")


def assert_graded_exactly_once(rush: Rush, attempts: dict[int, int] | None = None) -> None:
    """Every hand-in of the rush was graded exactly once, or superseded and never graded.

    For each student: one job per hand-in; the last hand-in's job is done; an earlier one is
    done or superseded. A done job has one result per test of the bundle and the score its answer
    earns; a superseded one has none. ``attempts`` gives the attempt count of the jobs a fault
    made try again (by job id); every other done job took one attempt, every other superseded
    job none. The Score is the last hand-in's, and its history names each grading that changed
    it once, in order, the last hand-in's last.
    """
    attempts = attempts or {}
    tests = rush.pipeline.bundle.manifest["tests"]
    item = rush.pipeline.assignment.item
    assert rush.done, f"{len(rush.plan) - rush.sent} hand-ins were never taken"
    for student in dict.fromkeys(hand_in.student for hand_in in rush.plan):
        hand_ins = [hand_in for hand_in in rush.plan if hand_in.student == student]
        jobs = [job_of(hand_in) for hand_in in hand_ins]
        assert jobs[-1].status == JobStatus.DONE, f"{student}'s last hand-in: {jobs[-1].status}"
        for hand_in, job in zip(hand_ins, jobs, strict=True):
            if job.status == JobStatus.DONE:
                _assert_graded(job, hand_in, tests, attempts.get(job.pk, 1))
            else:
                assert job.status == JobStatus.SUPERSEDED, f"job {job.pk}: {job.status}"
                assert job.attempt == attempts.get(job.pk, 0), f"job {job.pk}: {job.attempt}"
                assert (job.verdict, job.score) == ("", None), f"job {job.pk} has a grade"
                assert not TestResult.objects.filter(job=job).exists()
        score = Score.objects.get(item=item, student__username=student)
        assert score.points == POINTS[hand_ins[-1].value], f"{student}: {score.points}"
        _assert_history(score, hand_ins, jobs)


def _assert_graded(job: GradingJob, hand_in: HandIn, tests: list[dict], attempt: int) -> None:
    right = hand_in.value == RIGHT
    expected = ("ok", Decimal(10 if right else 0), Decimal(10), attempt)
    assert (job.verdict, job.score, job.max_score, job.attempt) == expected, (
        f"job {job.pk}: {job.verdict}, {job.score}/{job.max_score}, attempt {job.attempt}; "
        f"{job.error[-2000:]}{job.logs[-2000:]}"
    )
    results = list(TestResult.objects.filter(job=job).order_by("position"))
    assert [(r.position, r.name) for r in results] == [(n, t["name"]) for n, t in enumerate(tests)]
    assert [r.score for r in results] == [Decimal(10 if right else 0)]


def _assert_history(score: Score, hand_ins: list[HandIn], jobs: list[GradingJob]) -> None:
    """Each change names a done job of the student's, later than the one before, and chains from
    the points before it to that job's points; the last names the last hand-in's job."""
    position = {job.pk: n for n, job in enumerate(jobs) if job.status == JobStatus.DONE}
    changes = list(score.changes.order_by("changed_at", "id"))
    named = []
    for change in changes:
        found = CHANGE_REASON.search(change.reason)
        assert found and int(found[1]) in position, f"{change} names no graded hand-in"
        named.append(position[int(found[1])])
    assert named == sorted(set(named)), f"{score.student}: changes in the order {named}"
    assert named[-1] == len(jobs) - 1, f"{score.student}: the last hand-in changed nothing"
    before = None
    for change, n in zip(changes, named, strict=True):
        assert (change.old_points, change.new_points) == (before, POINTS[hand_ins[n].value])
        before = change.new_points
