"""The servers of one deadline rush (bench/deadline_rush.py), each started for the run and taken
down after it, whatever happens: a PostgreSQL database and a Redis db of its own, a gunicorn web
server and one Celery worker. ``Services`` is a context manager; leaving it, by the end of the run,
an error or Ctrl-C, stops the processes, drops the database, flushes the Redis db and removes the
scratch folder, in that order.

The settings are production's (DEBUG off, the Redis cache, the Redis broker with its priority
order of queues), with a made-up secret key and no HTTPS redirect, so that the web server and the
worker run as they would at a real deadline.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import psycopg
import redis
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
STOP_SECONDS = 60


class Services(contextlib.AbstractContextManager["Services"]):
    """A database, a Redis db, a web server and a worker of its own; see the module doc."""

    def __init__(
        self,
        *,
        scratch: Path,
        postgres: str,
        redis_url: str,
        slot_offset: int,
        keep_logs: Path | None = None,
    ) -> None:
        self.scratch = scratch
        self.keep_logs = keep_logs
        self.postgres = postgres.rstrip("/")
        self.redis_url = redis_url
        self.database = f"coursesite_rush_{os.getpid()}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self._worker_index = -1
        self.logs: dict[str, Path] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "coursesite.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": f"{self.postgres}/{self.database}",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "COURSESITE_VAR_DIR": str(scratch / "var"),
            "MEDIA_ROOT": str(scratch / "media"),
            "GRADING_SLOT_OFFSET": str(slot_offset),
            "COURSESITE_ALLOW_UNSANDBOXED": "0",
            "LOG_LEVEL": "INFO",
        }
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Services:
        try:
            (self.scratch / "var").mkdir(parents=True)
            self._stack.callback(shutil.rmtree, self.scratch, ignore_errors=True)
            self._flush_redis()
            self._stack.callback(self._flush_redis)
            self._create_database()
            self._stack.callback(self._drop_database)
            self._stack.callback(self._keep_logs)
            self._stack.callback(self._stop_processes)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stack.close()

    def django_setup(self) -> None:
        """Set up Django in this process on the run's database, migrated."""
        os.environ.update(self.env)
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    def start_web(self, *, workers: int) -> str:
        """Start gunicorn on a free port of 127.0.0.1; returns its address once it answers."""
        port = _free_port()
        self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "coursesite.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"],
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        self._wait(lambda: _answers(f"{url}/healthz"), "web", seconds=60)
        return url

    def start_worker(self, *, slots: int) -> None:
        """Start one Celery worker with ``slots`` pool processes on every grading queue, the way
        production starts its CPU worker, and wait until it answers a ping."""
        hostname = f"rush{os.getpid()}@{socket.gethostname()}"
        self._start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "coursesite", "worker",
             "-Q", "cpu,gpu,regrade", "--concurrency", str(slots), "--prefetch-multiplier", "1",
             "--without-gossip", "--without-mingle", "--hostname", hostname,
             "--loglevel", "INFO"],
        )  # fmt: skip
        self._worker_index = len(self.processes) - 1
        from coursesite.celery import app

        def answers() -> bool:
            return bool(app.control.ping(destination=[hostname], timeout=1.0))

        self._wait(answers, "worker", seconds=120)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _start(self, name: str, argv: list[str]) -> None:
        self.logs[name] = self.scratch / f"{name}.log"
        with self.logs[name].open("ab") as log:
            # A session of its own: Ctrl-C reaches this script only, which stops them in order.
            process = subprocess.Popen(
                argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)

    def _wait(self, ready: Callable[[], bool], name: str, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.processes[-1].poll() is not None:
                raise RuntimeError(f"the {name} process ended:\n{self.log_tail(name)}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.5)
        raise RuntimeError(
            f"the {name} process did not answer in {seconds} s:\n{self.log_tail(name)}"
        )

    def stop_worker(self) -> None:
        """Stop the worker started last (letting its running job finish), so that another, with
        other settings, can take its place."""
        worker = self.processes.pop(self._worker_index)
        self._stop([worker])

    def _stop_processes(self) -> None:
        self._stop(self.processes)
        self.processes = []

    def _stop(self, processes: list[subprocess.Popen[bytes]]) -> None:
        """SIGTERM to each process we started, alone: Celery's main process then lets its pool
        finish the running jobs, and gunicorn's its workers finish their requests. Then SIGKILL to
        each one's process group: to what is left of it once it ended, or to all of it when it
        is still there after ``STOP_SECONDS``."""
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in reversed(processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever of its group outlived it (a pool process still winding down) goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _keep_logs(self) -> None:
        if self.keep_logs is None:
            return
        self.keep_logs.mkdir(parents=True, exist_ok=True)
        for path in self.logs.values():
            shutil.copy(path, self.keep_logs / path.name)

    def _flush_redis(self) -> None:
        redis.Redis.from_url(self.redis_url).flushdb()

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(f"{self.postgres}/postgres", autocommit=True)

    def _create_database(self) -> None:
        with self._admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _drop_database(self) -> None:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with self._admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own server)
        return bool(response.status == 200)
