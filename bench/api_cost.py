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
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="per endpoint (default 100)")
    parser.add_argument("--database-url", default=api_load.DATABASE_URL)
    parser.add_argument("--redis-url", default=api_load.REDIS_URL)
    parser.add_argument("--plan", help=argparse.SUPPRESS)  # the measuring process's
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
    if args.plan:
        import django

        django.setup()
        run(json.loads(Path(args.plan).read_text()), args.requests)
        return
    scratch = Path(tempfile.mkdtemp(prefix="api-cost-bench-"))
    # Every upload of the benchmark is one student's: no hourly limit in the way.
    os.environ["SUBMISSIONS_PER_HOUR"] = "100000"
    env = api_load.bench_env(args, scratch, "testserver")
    try:
        api_load.database_recreate(args.database_url)
        api_load.redis_flush(args.redis_url)
        plan = scratch / "plan.json"
        plan.write_text(json.dumps(api_load.course_prepare(scratch)))
        # Measured in a process of its own with the production settings, as gunicorn runs them.
        subprocess.run(
            [sys.executable, __file__, "--plan", str(plan), "--requests", str(args.requests)],
            env=api_load.production_env(env), cwd=ROOT, check=True,
        )  # fmt: skip
    finally:
        api_load.database_recreate(args.database_url, create=False)
        api_load.redis_flush(args.redis_url)
        shutil.rmtree(scratch, ignore_errors=True)


def run(plan: dict[str, Any], count: int) -> None:
    from django.conf import settings
    from django.test import Client

    client = Client()
    course = f"/api/v1/courses/{plan['course']}"
    handins = f"{course}/assignments/{plan['assignment']}/submissions/"
    student, staff = plan["students"][0], plan["staff"][0]
    handin = Path(plan["handin"]).read_bytes()

    def get(path: str, who: dict[str, str]) -> Any:
        answer = client.get(
            path, HTTP_AUTHORIZATION=f"Token {who['token']}", HTTP_ACCEPT="application/json",
            HTTP_X_FORWARDED_PROTO="https", secure=True,
        )  # fmt: skip
        assert answer.status_code == 200, answer.content[:300]
        return answer

    def upload() -> None:
        upload = io.BytesIO(handin)
        upload.name = "a1.zip"
        answer = client.post(
            handins, {"file": upload}, HTTP_AUTHORIZATION=f"Token {plan['students'][1]['token']}",
            HTTP_ACCEPT="application/json", HTTP_X_FORWARDED_PROTO="https", secure=True,
        )  # fmt: skip
        assert answer.status_code == 201, answer.content[:300]

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
