"""The clients of the API load benchmark; ``bench/api_load.py`` sets up the course, writes their
plan (``BENCH_API_PLAN``: the course, the A1 assignment, a token per demo student and per member
of staff, the hand-in to upload) and runs them with locust.

- A polling student watches their A1 hand-ins (the list, newest first, then the newest one's
  status) and their gradebook row, every 1 to 3 seconds, as the hand-in page and a student's
  script do. The pollers go round the class, so several share a student.
- A polling member of staff reads the whole gradebook at the same pace (one poller in ten).
- An uploader hands in A1 as one student, every 4 to 6 seconds: about 24 hand-ins in two
  minutes, under the 30 an hour a student may try with the default settings. The uploaders
  are not in step: each starts at a random moment of its first period (locust would start
  them all in the same millisecond, five uploads at once that no class sends).

Every request says that it came over HTTPS, as the TLS proxy in front of gunicorn does. A 429 is
reported as a failure whose message starts with "429", which the report counts as throttled,
apart from the errors.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, between, task
from locust.contrib.fasthttp import ResponseContextManager
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(Path(os.environ["BENCH_API_PLAN"]).read_text())
HANDIN = Path(PLAN["handin"]).read_bytes()
COURSE = f"/api/v1/courses/{PLAN['course']}"
SUBMISSIONS = f"{COURSE}/assignments/{PLAN['assignment']}/submissions/"
GRADES = f"{COURSE}/gradebook/"
# Seconds between two uploads of one uploader.
UPLOAD_PERIOD = (4, 6)

# Who each client is: pollers go round the class; each uploader is a student of their own.
_pollers = itertools.cycle(PLAN["students"])
_staff = itertools.cycle(PLAN["staff"])
_uploaders = iter(PLAN["students"])


# The endpoints as the report names them; each request names its own in X-Bench-Endpoint, which
# gunicorn's access log records beside the time the request took inside the worker.
LIST = "/courses/{course}/assignments/{id}/submissions/ (student)"
STATUS = "/submissions/{id}/ (student)"
OWN_GRADES = "/courses/{course}/gradebook/ (student)"
GRADEBOOK = "/courses/{course}/gradebook/ (staff)"
UPLOAD = "/courses/{course}/assignments/{id}/submissions/ (upload)"


def judged(response: ResponseContextManager, expected: int) -> Any:
    """Mark the answer as a success, a throttled request or an error; return its JSON body."""
    if response.status_code == expected:
        response.success()
        return response.json()
    if response.status_code == 429:
        response.failure("429 throttled")
    else:
        body = (response.text or "")[:120].replace("\n", " ")
        response.failure(f"HTTP {response.status_code}: {body}")
    return None


class ApiClient(FastHttpUser):
    abstract = True
    identity: dict[str, str]

    def call(self, method: str, path: str, name: str, expected: int = 200, **options: Any) -> Any:
        headers = {
            "Authorization": f"Token {self.identity['token']}",
            "Accept": "application/json",
            "X-Forwarded-Proto": "https",
            "X-Bench-Endpoint": name,
        }
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **options
        ) as response:
            return judged(response, expected)


class PollingStudent(ApiClient):
    weight = 9
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.identity = next(_pollers)
        self.newest: int | None = None

    @task(2)
    def submissions(self) -> None:
        rows = self.call("GET", SUBMISSIONS, LIST)
        if rows:
            self.newest = rows[0]["id"]

    @task(2)
    def submission_status(self) -> None:
        if self.newest is None:
            self.submissions()
        else:
            self.call("GET", f"/api/v1/submissions/{self.newest}/", STATUS)

    @task(1)
    def gradebook(self) -> None:
        self.call("GET", GRADES, OWN_GRADES)


class PollingStaff(ApiClient):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.identity = next(_staff)

    @task
    def gradebook(self) -> None:
        self.call("GET", GRADES, GRADEBOOK)


class Uploader(ApiClient):
    fixed_count = int(os.environ.get("BENCH_API_UPLOADERS", "5"))
    wait_time = between(*UPLOAD_PERIOD)

    def on_start(self) -> None:
        identity = next(_uploaders, None)
        if identity is None:
            raise StopUser("more uploaders than students")
        self.identity = identity
        # Locust starts the uploaders together, at once; students uploading on their own are
        # not in step: each starts at a moment of its own within its first period.
        gevent.sleep(random.uniform(0, UPLOAD_PERIOD[1]))  # noqa: S311 - a spread, not a secret

    @task
    def upload(self) -> None:
        upload = {"file": ("a1.zip", HANDIN, "application/zip")}
        self.call("POST", SUBMISSIONS, UPLOAD, expected=201, files=upload)
