"""From upload to stored result, for each of A1-A4, with a cold worker and a warm one.

For each assignment one student hands in the reference solution through the REST API, several
times, each after the last was graded, so that no hand-in waits for a slot: what is measured is
the path itself. The same runs happen twice: with a worker started with
GRADING_WARM_SANDBOXES=0 (every run cold) and with one that keeps its next run started ahead. The
figure is the time from the hand-in's ``submitted_at`` to its job's ``finished_at`` (the result
stored), less the student code's own ``execution_time``: what the pipeline adds. A warm worker's
first hand-in of a bundle is cold (it has not seen the bundle yet), so it is shown apart.

The servers are the deadline rush's (``bench/_rush_services.py``): a PostgreSQL database and a
Redis db of their own, gunicorn, one Celery worker with one slot, all taken down at the end.
Goal: under 0.5 s warm for each assignment.

Run as root where bwrap is installed: ``.venv/bin/python bench/warm_pipeline.py [--handins 4]``.
"""

from __future__ import annotations

import argparse
import http.client
import io
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _rush_services import Services  # noqa: E402

ASSIGNMENTS = BENCH.parent / "examples" / "assignments"
NAMES = ("a1-mlp", "a2-cnn", "a3-rnn", "a4-transformer-gnn")
JOB_SECONDS = 600


@dataclass
class Course:
    slug: str
    assignments: dict[str, int]  # the example's name to the Assignment's id
    token: str


def course_create(scratch: Path, names: list[str]) -> Course:
    """A course with one student and the assignments ``names``, each graded by its bundle."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from coursesite.models import Course as CourseModel
    from coursesite.models import GracePolicy, GradeCategory, GradeItem, Membership, Role
    from coursesite.tokens import api_token_create
    from grading.bundles import load_bundle, pack_bundle
    from grading.services import bundle_upload
    from submissions.models import Assignment

    now = timezone.now()
    course = CourseModel.objects.create(
        slug="warm", code="WARM101", title="Warm sandboxes", term="Now", time_zone="UTC",
        starts_on=(now - timedelta(days=30)).date(), ends_on=(now + timedelta(days=60)).date(),
    )  # fmt: skip
    GracePolicy.objects.create(course=course)
    people = {}
    for username, role in (("instructor", Role.INSTRUCTOR), ("student", Role.STUDENT)):
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        Membership.objects.create(course=course, user=user, role=role)
        people[role] = user
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(100))
    assignments = {}
    for name in names:
        with load_bundle(ASSIGNMENTS / name / "bundle") as bundle:
            files, title = list(bundle.files), bundle.name
        item = GradeItem.objects.create(
            course=course, category=category, slug=name, title=title, max_points=Decimal(100),
            opens_at=now - timedelta(days=7), due_at=now + timedelta(days=7),
        )  # fmt: skip
        assignments[name] = Assignment.objects.create(item=item, handin_files=files).pk
        archive = scratch / f"{name}.zip"
        archive.write_bytes(pack_bundle(ASSIGNMENTS / name / "bundle"))
        bundle_upload(item=item, path=archive, uploaded_by=people[Role.INSTRUCTOR])
    return Course(course.slug, assignments, api_token_create(user=people[Role.STUDENT])[1])


def upload_of(name: str) -> tuple[str, bytes]:
    """The reference solution as a student uploads it: the file, or a zip of the files."""
    files = sorted((ASSIGNMENTS / name / "solution").glob("*.py"))
    if len(files) == 1:
        return files[0].name, files[0].read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in files:
            archive.write(path, path.name)
    return f"{name}.zip", buffer.getvalue()


def hand_in(url: str, course: Course, name: str) -> int:
    filename, data = upload_of(name)
    boundary = uuid.uuid4().hex
    body = b"".join([
        f"--{boundary}\r\n".encode(),
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode(),
        b"Content-Type: application/octet-stream\r\n\r\n", data, f"\r\n--{boundary}--\r\n".encode(),
    ])  # fmt: skip
    path = f"/api/v1/courses/{course.slug}/assignments/{course.assignments[name]}/submissions/"
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=120)
    try:
        connection.request("POST", path, body=body, headers={
            "Authorization": f"Token {course.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        })  # fmt: skip
        response = connection.getresponse()
        answer = response.read().decode(errors="replace")
    finally:
        connection.close()
    if response.status != 201:
        raise SystemExit(f"{name}: the upload was refused ({response.status}): {answer[:300]}")
    import json

    return int(json.loads(answer)["id"])


def graded(submission_id: int) -> Any:
    from grading.models import GradingJob, JobStatus

    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        job = GradingJob.objects.filter(subject=f"submission:{submission_id}").first()
        if job is not None and job.status in (JobStatus.DONE, JobStatus.ERROR):
            return job
        time.sleep(0.05)
    raise SystemExit(f"hand-in {submission_id} was not graded within {JOB_SECONDS} s")


def overheads(
    url: str, course: Course, name: str, handins: int, pause: float
) -> list[tuple[float, float]]:
    """(upload to stored result less the student code's time, that time) of each hand-in."""
    from submissions.models import Submission

    seen = []
    for _ in range(handins):
        submission = Submission.objects.get(pk=hand_in(url, course, name))
        job = graded(submission.pk)
        if job.verdict != "ok" or job.score != job.max_score:
            raise SystemExit(f"{name}: the solution got {job.score} ({job.verdict})")
        run = float(job.execution_time or 0)
        total = (job.finished_at - submission.submitted_at).total_seconds()
        seen.append((total - run, run))
        time.sleep(pause)  # the worker, idle, starts its next run meanwhile
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handins", type=int, default=4, help="hand-ins per assignment")
    parser.add_argument("--assignments", default=",".join(NAMES), help="comma-separated")
    parser.add_argument(
        "--pause", type=float, default=15, help="seconds between a result and the next hand-in"
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--slot-offset", type=int, default=1100)
    options = parser.parse_args()
    names = options.assignments.split(",")
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {name: {} for name in names}
    with tempfile.TemporaryDirectory(prefix="warm-pipeline-") as scratch:
        services = Services(
            scratch=Path(scratch) / "run", postgres=options.postgres, redis_url=options.redis,
            slot_offset=options.slot_offset,
        )  # fmt: skip
        with services:
            services.django_setup()
            course = course_create(Path(scratch), names)
            url = services.start_web(workers=1)
            for warm in ("0", "1"):
                services.env["GRADING_WARM_SANDBOXES"] = warm
                services.start_worker(slots=1)
                for name in names:
                    found = overheads(url, course, name, options.handins, options.pause)
                    rows[name]["warm" if warm == "1" else "cold"] = found
                    print(f"{name} {'warm' if warm == '1' else 'cold'}: {found}", flush=True)
                services.stop_worker()
    print()
    print("upload to stored result, less the student code's execution_time (seconds)")
    print(f"{'':20} {'cold median':>12} {'warm: first':>12} {'then median':>12} {'max':>6}")
    for name, row in rows.items():
        cold = statistics.median(overhead for overhead, _ in row["cold"])
        first, *rest = (overhead for overhead, _ in row["warm"])
        later = statistics.median(rest) if rest else float("nan")
        worst = max(rest) if rest else float("nan")
        print(f"{name:20} {cold:12.2f} {first:12.2f} {later:12.2f} {worst:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
