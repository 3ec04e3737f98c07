"""What one polled API request costs the web process, computed and kept: CPU and queries per
request for a student's A1 hand-ins, one hand-in's status, a student's gradebook row and the
staff's whole gradebook, and for an upload, served one at a time in this process through
Django's whole request path (middleware, token authentication, DRF) with the production
settings.

Run from the repository root: ``.venv/bin/python bench/api_cost.py [--requests 100]``. It sets
up a fresh PostgreSQL database with the demo course as ``bench/api_load.py`` does (the same
``--database-url``, default ``coursesite_bench_api``, dropped at the end) and Redis db 14 as
the cache (flushed before and after), then measures in a process of its own with the
production settings. Each read is measured twice: with kept answers off
(``API_ANSWER_SECONDS=0``: computed every time) and on (the answer kept by a first request,
then served from the cache while nothing changes).

Then the first requests of a fresh web process, wall time: a student's hand-in list and an
upload, the first of each and the second, in fresh processes that load the site as gunicorn
loaded it before the warm-up (Django's WSGI application alone) and as it loads it now
(``coursesite.wsgi``, which calls ``coursesite.warmup.web_process_warm``); the median of
``FRESH_PROCESSES`` processes each.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import api_load  # noqa: E402 - the set-up of the load benchmark, shared

# How a fresh web process loads the site: as gunicorn did before the warm-up, and as it does now.
LOADS = ("application alone", "coursesite.wsgi")
FRESH_PROCESSES = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="per endpoint (default 100)")
    parser.add_argument("--database-url", default=api_load.DATABASE_URL)
    parser.add_argument("--redis-url", default=api_load.REDIS_URL)
    parser.add_argument("--plan", help=argparse.SUPPRESS)  # the measuring process's
    parser.add_argument("--fresh", choices=LOADS, help=argparse.SUPPRESS)  # a fresh process's
    return parser.parse_args()


def measure(call: Any, count: int) -> tuple[float, int]:
    """CPU milliseconds per call, and the queries of one call."""
    from django.db import connection

    queries: list[str] = []

    def record(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        call()
    started = time.process_time()
    for _ in range(count):
        call()
    return 1000 * (time.process_time() - started) / count, len(queries)


def main() -> None:
    args = parse_args()
    if args.plan and args.fresh:
        fresh_process(json.loads(Path(args.plan).read_text()), args.fresh)
        return
    if args.plan:
        import django

        django.setup()
        run(json.loads(Path(args.plan).read_text()), args.requests)
        return
    scratch = Path(tempfile.mkdtemp(prefix="api-cost-bench-"))
    # Every upload of the benchmark is one student's: no hourly limit in the way.
    os.environ["SUBMISSIONS_PER_HOUR"] = "100000"
    env = api_load.production_env(api_load.bench_env(args, scratch, "testserver"))
    try:
        api_load.database_recreate(args.database_url)
        api_load.redis_flush(args.redis_url)
        plan = scratch / "plan.json"
        plan.write_text(json.dumps(api_load.course_prepare(scratch)))
        # Measured in a process of its own with the production settings, as gunicorn runs them.
        subprocess.run(
            [sys.executable, __file__, "--plan", str(plan), "--requests", str(args.requests)],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        fresh_report(plan, env)
    finally:
        api_load.database_recreate(args.database_url, create=False)
        api_load.redis_flush(args.redis_url)
        shutil.rmtree(scratch, ignore_errors=True)


class Requests:
    """The benchmark's requests, through Django's test client and the whole request path."""

    def __init__(self, plan: dict[str, Any]) -> None:
        from django.test import Client

        self.client = Client()
        self.course = f"/api/v1/courses/{plan['course']}"
        self.handins = f"{self.course}/assignments/{plan['assignment']}/submissions/"
        self.handin = Path(plan["handin"]).read_bytes()

    def get(self, path: str, who: dict[str, str]) -> Any:
        answer = self.client.get(
            path, HTTP_AUTHORIZATION=f"Token {who['token']}", HTTP_ACCEPT="application/json",
            HTTP_X_FORWARDED_PROTO="https", secure=True,
        )  # fmt: skip
        assert answer.status_code == 200, answer.content[:300]
        return answer

    def upload(self, who: dict[str, str]) -> None:
        upload = io.BytesIO(self.handin)
        upload.name = "a1.zip"
        answer = self.client.post(
            self.handins, {"file": upload}, HTTP_AUTHORIZATION=f"Token {who['token']}",
            HTTP_ACCEPT="application/json", HTTP_X_FORWARDED_PROTO="https", secure=True,
        )  # fmt: skip
        assert answer.status_code == 201, answer.content[:300]


def fresh_process(plan: dict[str, Any], load: str) -> None:
    """In a fresh process: load the site as ``load`` says, then print the wall milliseconds of
    the first and second hand-in list, and of the first and second upload, as JSON."""
    if load == LOADS[0]:
        from django.core.wsgi import get_wsgi_application

        get_wsgi_application()
    else:
        import coursesite.wsgi  # noqa: F401 - loads the site as gunicorn does

    requests = Requests(plan)
    student = plan["students"][2]
    calls = [lambda: requests.get(requests.handins, student)] * 2
    calls += [lambda: requests.upload(student)] * 2
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    print(json.dumps(times))


def fresh_report(plan: Path, env: dict[str, str]) -> None:
    print(f"\nA fresh web process, wall ms (median of {FRESH_PROCESSES} processes):")
    print(f"{'loaded as':20} {'list 1st':>9} {'2nd':>6} {'upload 1st':>11} {'2nd':>6}")
    for load in LOADS:
        command = [sys.executable, __file__, "--plan", str(plan), "--fresh", load]
        runs = []
        for _ in range(FRESH_PROCESSES):
            done = subprocess.run(
                command, env=env, cwd=ROOT, check=True, capture_output=True, text=True
            )
            runs.append(json.loads(done.stdout.splitlines()[-1]))
        first, second, upload, again = (
            statistics.median(column) for column in zip(*runs, strict=True)
        )
        print(f"{load:20} {first:9.0f} {second:6.0f} {upload:11.0f} {again:6.0f}")


def run(plan: dict[str, Any], count: int) -> None:
    from django.conf import settings

    requests = Requests(plan)
    course, handins = requests.course, requests.handins
    student, staff = plan["students"][0], plan["staff"][0]
    get = requests.get

    def upload() -> None:
        requests.upload(plan["students"][1])

    newest = get(handins, student).json()[0]["id"]
    reads = {
        "a student's A1 hand-ins": (handins, student),
        "one hand-in's status": (f"/api/v1/submissions/{newest}/", student),
        "a student's gradebook row": (f"{course}/gradebook/", student),
        "the staff's whole gradebook": (f"{course}/gradebook/", staff),
    }
    kept_seconds = settings.API_ANSWER_SECONDS
    print(f"{count} requests each, one at a time; CPU ms per request (queries of one request)")
    print(f"{'request':32} {'computed':>16} {'kept':>16}")
    for name, (path, who) in reads.items():
        settings.API_ANSWER_SECONDS = 0
        computed = measure(lambda: get(path, who), count)  # noqa: B023 - called at once
        settings.API_ANSWER_SECONDS = kept_seconds
        get(path, who)  # kept by this one
        kept = measure(lambda: get(path, who), count)  # noqa: B023 - called at once
        print(f"{name:32} {computed[0]:9.1f} ms ({computed[1]:2}) {kept[0]:9.1f} ms ({kept[1]:2})")
    uploads = measure(upload, max(1, count // 5))
    print(f"{'an upload of A1':32} {uploads[0]:9.1f} ms ({uploads[1]:2})")
    print(json.dumps({"cpu_count": os.cpu_count(), "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
