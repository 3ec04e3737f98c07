"""Load the REST API as a class does in the hours before a deadline: students polling the status
of their hand-ins and their gradebook row, staff polling the whole gradebook, and a few students
uploading A1 hand-ins, against gunicorn and PostgreSQL with the production settings.

Run from the repository root, with the ``bench`` extra installed (``pip install -e '.[bench]'``):
``.venv/bin/python bench/api_load.py [--users 50] [--uploaders 5] [--seconds 120]
[--web-workers 3]``. It sets everything up itself and leaves nothing behind:

1. a fresh PostgreSQL database (``--database-url``, default ``coursesite_bench_api`` on
   127.0.0.1:5432; a database of that name is dropped first), migrated, with the demo course
   loaded as ``manage.py load_demo`` loads it (its hand-ins are queued for grading);
2. an API token for each student and each member of staff, made by the token service;
3. gunicorn with the production settings (DEBUG off, a random secret key, HTTPS as a TLS proxy
   in front reports it with ``X-Forwarded-Proto``), its cache and Celery broker on Redis db 14
   (``--redis-url``), which is flushed before and after. No grading worker runs: an upload
   only queues its grading job, as it does in the web process in production;
4. locust, headless (``bench/locustfile_api.py``), for ``--seconds``;
5. where the CPU went during the load (gunicorn, PostgreSQL for the site, locust, other work
   on the machine; Linux /proc), and a table per endpoint: requests, errors, throttled answers
   (429, told apart from errors), p50, p95, p99 and max as the client waited, and p50 and p95
   inside a gunicorn worker (its access log); then gunicorn is stopped, the database dropped,
   Redis db 14 flushed and the temporary folder removed.

Goal: p95 under 100 ms on every endpoint, and no errors. The load generator runs on the same
machine as gunicorn and PostgreSQL and takes CPU from them: on a small machine the figures are
an upper bound on what the server alone would answer.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts only bench/ on the path; the project lives at the repository root.
sys.path.insert(0, str(ROOT))

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coursesite_bench_api"
REDIS_URL = "redis://127.0.0.1:6379/14"
LOCUSTFILE = ROOT / "bench" / "locustfile_api.py"
GOAL_P95_MS = 100.0
# What each A1 hand-in holds: the demo's reference solution.
A1_FOLDER = ROOT / "examples" / "assignments" / "a1-mlp" / "solution"
READY_SECONDS = 60
# All clients start within this many seconds.
RAMP_SECONDS = 5
# Each access log line: the endpoint the client named, the status, and the milliseconds the
# request spent inside a gunicorn worker (what it waited for a free worker is not in it).
ACCESS_FORMAT = "%(m)s %({x-bench-endpoint}i)s|%(s)s|%(M)s"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="clients polling (default 50)")
    parser.add_argument("--uploaders", type=int, default=5, help="clients uploading (default 5)")
    parser.add_argument("--seconds", type=int, default=120, help="how long the load lasts")
    parser.add_argument(
        "--web-workers", type=int, default=3, help="gunicorn workers (default 3, as in compose)"
    )
    parser.add_argument("--database-url", default=DATABASE_URL, help="created, then dropped")
    parser.add_argument("--redis-url", default=REDIS_URL, help="flushed before and after")
    args = parser.parse_args()
    if args.users < 1 or args.uploaders < 0 or args.seconds < 1 or args.web_workers < 1:
        parser.error("--users, --seconds and --web-workers must be at least 1")
    return args


# The database and Redis: made fresh, and left as they were found.


def _server_url(database_url: str) -> tuple[str, str]:
    """The URL of the server's maintenance database, and the name of the bench's database."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name or not parts.scheme.startswith("postgres"):
        raise SystemExit(f"--database-url must name a PostgreSQL database: {database_url!r}")
    return urlunsplit(parts._replace(path="/postgres")), name


def database_recreate(database_url: str, *, create: bool = True) -> None:
    """Drop the bench's database (closing any session left on it) and, unless told not to,
    create it empty."""
    import psycopg
    from psycopg import sql

    server, name = _server_url(database_url)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_flush(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


# The course, the tokens and the hand-in, made in this process with the demo's own commands.


def course_prepare(scratch: Path) -> dict[str, Any]:
    """Migrate, load the demo course, make every member a token, and write the A1 hand-in.

    Returns the plan the locust users read. Runs on the development settings, the only ones
    that allow the demo; gunicorn then serves the same database with the production ones.
    """
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from coursesite.models import Membership, Role
    from coursesite.tokens import api_token_create
    from submissions.models import Assignment

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo", stdout=io.StringIO())
    a1 = Assignment.objects.select_related("item__course").get(item__slug="a1")
    course = a1.item.course
    members = Membership.objects.filter(course=course).select_related("user")
    tokens: dict[str, list[dict[str, str]]] = {"students": [], "staff": []}
    for membership in members.order_by("user__username"):
        _, key = api_token_create(user=membership.user, name="api load bench", days=1)
        side = "students" if membership.role == Role.STUDENT else "staff"
        tokens[side].append({"username": membership.user.username, "token": key})
    handin = scratch / "a1.zip"
    with zipfile.ZipFile(handin, "w") as archive:
        for name in a1.handin_files:
            archive.write(A1_FOLDER / name, name)
    connections.close_all()
    return {
        "course": course.slug,
        "assignment": a1.pk,
        "handin": str(handin),
        "students": tokens["students"],
        "staff": tokens["staff"],
    }


# gunicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def production_env(env: dict[str, str]) -> dict[str, str]:
    """The production settings, as docker-compose.yml gives them, for this machine: the secret
    key and the rest come from ``env``, as the setup had them."""
    return {**env, "DJANGO_SETTINGS_MODULE": "coursesite.settings.production"}


def gunicorn_start(
    env: dict[str, str], port: int, workers: int, logs: Path
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "coursesite.wsgi",
        f"--bind=127.0.0.1:{port}", f"--workers={workers}", "--timeout=60",
        f"--access-logfile={logs / 'access.log'}", f"--access-logformat={ACCESS_FORMAT}",
        f"--error-logfile={logs / 'error.log'}",
    ]  # fmt: skip
    # The site's own log (a warning per 4xx answer) goes to a file beside gunicorn's.
    with (logs / "site.log").open("wb") as site_log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=site_log, stderr=site_log)


def gunicorn_wait(server: subprocess.Popen[bytes], port: int, logs: Path) -> None:
    """Wait until the site answers ``/healthz`` with 200 (the database is up)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n{log_tail(logs)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:  # not listening yet, or busy starting: ask again
            pass
        time.sleep(0.5)
    raise SystemExit(
        f"gunicorn did not answer /healthz within {READY_SECONDS} s:\n{log_tail(logs)}"
    )


def log_tail(logs: Path, lines: int = 30) -> str:
    found = [logs / "error.log", logs / "site.log"]
    return "\n".join(
        line for path in found if path.exists() for line in path.read_text().splitlines()[-lines:]
    )


def gunicorn_stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# Where the machine's CPU went during the load (Linux: /proc).

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far; one that is gone is left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


def gunicorn_pids(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [server.pid, *map(int, children)]


def database_pids(database_url: str) -> list[int]:
    """The PostgreSQL backends serving the bench's database (the site's connections)."""
    import psycopg

    server, name = _server_url(database_url)
    with psycopg.connect(server, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchall()
    return [pid for (pid,) in rows]


def machine_busy() -> float:
    """CPU seconds the whole machine has spent on anything but idling and waiting for I/O."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def children_cpu() -> float:
    """CPU seconds of this process's finished children (locust, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used during the load by gunicorn, by PostgreSQL for the site, by locust, and by
    everything else on the machine (other work on a shared machine takes its share too).

    The site's PostgreSQL connections close after ``CONN_MAX_AGE`` and new ones open, so their
    backends are sampled every second while the load runs, each kept at the last value seen.
    """

    def __init__(self, server: subprocess.Popen[bytes], database_url: str) -> None:
        self.server, self.database_url = server, database_url
        self.first: dict[str, dict[int, float]] = {}
        self.last: dict[str, dict[int, float]] = {"web": {}, "database": {}}
        self.stopped = threading.Event()
        self.sampler = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _now(self) -> dict[str, dict[int, float]]:
        return {
            "web": process_cpu(gunicorn_pids(self.server)),
            "database": process_cpu(database_pids(self.database_url)),
        }

    def _sample(self) -> None:
        for side, used in self._now().items():
            self.last[side].update(used)

    def _sample_until_stopped(self) -> None:
        while not self.stopped.wait(1.0):
            self._sample()

    def start(self) -> None:
        self.first = self._now()
        self.busy, self.locust, self.started = machine_busy(), children_cpu(), time.monotonic()
        self.sampler.start()

    def used(self, side: str) -> float:
        return sum(
            seconds - self.first[side].get(pid, 0.0) for pid, seconds in self.last[side].items()
        )

    def report(self, requests: int) -> str:
        """Call once the load has ended, before gunicorn stops."""
        self.stopped.set()
        self.sampler.join()
        self._sample()
        web, database = self.used("web"), self.used("database")
        locust = children_cpu() - self.locust
        busy = machine_busy() - self.busy
        capacity = (os.cpu_count() or 1) * (time.monotonic() - self.started)
        return (
            f"CPU seconds during the load, of {capacity:.0f} the machine had: gunicorn "
            f"{web:.0f}, PostgreSQL for the site {database:.0f}, locust {locust:.0f}, other "
            f"work {max(0.0, busy - web - database - locust):.0f}; the machine was busy "
            f"{100 * busy / capacity:.0f}% of the time. CPU per request: gunicorn "
            f"{1000 * web / max(1, requests):.0f} ms, PostgreSQL "
            f"{1000 * database / max(1, requests):.0f} ms"
        )


# The load and its figures.


def load_run(
    args: argparse.Namespace, plan: Path, host: str, prefix: Path, env: dict[str, str]
) -> str:
    """Run locust headless for ``--seconds``; return what it printed."""
    clients = args.users + args.uploaders
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "--users", str(clients), "--spawn-rate", str(max(1.0, clients / RAMP_SECONDS)),
        "--run-time", f"{args.seconds}s", "--stop-timeout", "10", "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        "PollingStudent", "PollingStaff", *(["Uploader"] if args.uploaders else []),
    ]  # fmt: skip
    env = {**env, "BENCH_API_PLAN": str(plan), "BENCH_API_UPLOADERS": str(args.uploaders)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"locust failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


@dataclass(frozen=True)
class Figures:
    name: str
    requests: int
    errors: int
    throttled: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    # Inside gunicorn's worker: the rest of the client's wait is for a free worker.
    server_p50: float = 0.0
    server_p95: float = 0.0


def server_times(access_log: Path) -> dict[str, list[int]]:
    """Milliseconds inside a gunicorn worker per endpoint (and ``Aggregated``), from its log."""
    times: dict[str, list[int]] = {"Aggregated": []}
    for line in access_log.read_text().splitlines():
        name, _, elapsed = line.rsplit("|", 2)
        if name.endswith(" -"):  # not a client of the load (the readiness checks)
            continue
        times.setdefault(name, []).append(int(elapsed))
        times["Aggregated"].append(int(elapsed))
    return times


def percentile(values: list[int], percent: int) -> float:
    if len(values) < 2:
        return float(values[0]) if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def figures_read(prefix: Path, access_log: Path) -> list[Figures]:
    """The endpoints' figures from locust's CSV files and gunicorn's access log; a 429 counts as
    throttled, not an error (the locust users name it so)."""
    inside = server_times(access_log)
    throttled: dict[str, int] = {}
    with Path(f"{prefix}_failures.csv").open() as failures:
        for row in csv.DictReader(failures):
            if row["Error"].startswith("429"):
                key = f"{row['Method']} {row['Name']}"
                throttled[key] = throttled.get(key, 0) + int(row["Occurrences"])
    rows = []
    with Path(f"{prefix}_stats.csv").open() as stats:
        for row in csv.DictReader(stats):
            name = f"{row['Type']} {row['Name']}".strip() if row["Type"] else row["Name"]
            held = (
                throttled.get(name, 0) if row["Name"] != "Aggregated" else sum(throttled.values())
            )
            rows.append(
                Figures(
                    name=name,
                    requests=int(row["Request Count"]),
                    errors=int(row["Failure Count"]) - held,
                    throttled=held,
                    rps=float(row["Requests/s"]),
                    p50=float(row["50%"]),
                    p95=float(row["95%"]),
                    p99=float(row["99%"]),
                    max=float(row["Max Response Time"]),
                    server_p50=percentile(inside.get(name, []), 50),
                    server_p95=percentile(inside.get(name, []), 95),
                )
            )
    return rows


def errors_read(prefix: Path) -> list[str]:
    with Path(f"{prefix}_failures.csv").open() as failures:
        return [
            f"{row['Occurrences']:>6}  {row['Method']} {row['Name']}: {row['Error']}"
            for row in csv.DictReader(failures)
            if not row["Error"].startswith("429")
        ]


def report_print(rows: list[Figures], errors: list[str]) -> None:
    head = f"{'endpoint (under /api/v1)':<62} {'requests':>8} {'errors':>6} {'429':>5} {'req/s':>6}"
    print(f"\n{head} {'p50':>5} {'p95':>5} {'p99':>5} {'max':>6} | {'p50':>5} {'p95':>5}")
    print(f"{'':<62} {'':>29} {'as the client waits (ms)':>24} | {'in worker':>11}")
    for row in rows:
        print(
            f"{row.name:<62} {row.requests:>8} {row.errors:>6} {row.throttled:>5} "
            f"{row.rps:>6.1f} {row.p50:>5.0f} {row.p95:>5.0f} {row.p99:>5.0f} {row.max:>6.0f} "
            f"| {row.server_p50:>5.0f} {row.server_p95:>5.0f}"
        )
    for line in errors:
        print(f"error: {line}")
    endpoints = [row for row in rows if row.name != "Aggregated"]
    slow = [row.name for row in endpoints if row.p95 >= GOAL_P95_MS]
    failed = sum(row.errors for row in endpoints)
    verdict = "met" if not slow and not failed else "MISSED"
    print(
        f"\ngoal: p95 under {GOAL_P95_MS:.0f} ms on every endpoint and no errors -- {verdict}"
        + (f" (p95 over the goal: {', '.join(slow)})" if slow else "")
        + (f" ({failed} errors)" if failed else "")
    )


def bench_env(args: argparse.Namespace, scratch: Path, host: str) -> dict[str, str]:
    """The environment of the set-up (the development settings, which allow the demo), put
    into this process's too; ``production_env`` turns it into the site's."""
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "COURSESITE_VAR_DIR": str(scratch / "var"),
        "DJANGO_SETTINGS_MODULE": "coursesite.settings.development",
        # One key for the setup and the site: a token keeps its owner's session hash, which the
        # key signs, and a token made under another key reads as revoked.
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": host,
    }
    os.environ.update(env)
    # No static files are served here; an empty folder keeps whitenoise from warning of none.
    (scratch / "var" / "static").mkdir(parents=True)
    return env


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="api-load-bench-"))
    env = bench_env(args, scratch, "127.0.0.1")
    server = None
    try:
        started = time.monotonic()
        database_recreate(args.database_url)
        redis_flush(args.redis_url)
        plan = course_prepare(scratch)
        if args.uploaders > len(plan["students"]):
            raise SystemExit(
                f"--uploaders: each is a student, and the demo has {len(plan['students'])}"
            )
        (scratch / "plan.json").write_text(json.dumps(plan))
        port = free_port()
        server = gunicorn_start(production_env(env), port, args.web_workers, scratch)
        gunicorn_wait(server, port, scratch)
        print(
            f"demo course {plan['course']}: {len(plan['students'])} students, "
            f"{len(plan['staff'])} staff; gunicorn with {args.web_workers} workers on port "
            f"{port}; set up in {time.monotonic() - started:.0f} s"
        )
        print(
            f"load: {args.users} polling clients and {args.uploaders} uploading for "
            f"{args.seconds} s; machine: {os.cpu_count()} cores, load average before "
            f"{os.getloadavg()[0]:.2f}"
        )
        meter = CpuMeter(server, args.database_url)
        meter.start()
        output = load_run(
            args, scratch / "plan.json", f"http://127.0.0.1:{port}", scratch / "locust", env
        )
        rows = figures_read(scratch / "locust", scratch / "access.log")
        print(meter.report(sum(row.requests for row in rows if row.name != "Aggregated")))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        if "CPU usage" in output:
            print("locust warned that its own CPU was saturated: latencies include its waits")
        report_print(rows, errors_read(scratch / "locust"))
    finally:
        if server is not None:
            gunicorn_stop(server)
        database_recreate(args.database_url, create=False)
        redis_flush(args.redis_url)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
