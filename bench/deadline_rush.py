"""The night before a deadline, measured: a rush of A1 hand-ins through the real pipeline.

A course of its own with ``--students`` students (default 40) and A1 with its real autograder
bundle (examples/assignments/a1-mlp/bundle). ``--handins`` hand-ins (default 200) arrive within
``--window`` seconds (default 60), each at its planned time, through the upload endpoint students
use (``POST /api/v1/courses/<course>/assignments/<id>/submissions/``, one API token per student).
Most students hand in one to four times, one in five 5 to 20 times; earlier hand-ins are mostly
flawed (a mistake of make_flawed.py), the starter or the forgery in fake/, and the last one mostly
a correct solution. ``--workers`` grading slots (default 2) grade them: one Celery worker,
``-Q cpu,gpu,regrade --concurrency N --prefetch-multiplier 1``, in the real bubblewrap sandbox.

Printed (``--json``: the same figures as one JSON document):

- makespan, from the first upload to the last stored result, against the ideal: the run times of
  the jobs that ran (finished_at - started_at) added up and shared by the slots; the jobs that
  ran, and those superseded by a newer hand-in of the same student, which must never have run;
- upload to stored result for the graded hand-ins: median and p95, and the same less the student
  code's own time (the result's ``execution_time``): the pipeline's overhead per job;
- the place in the queue a student's hand-in page shows (``submissions.selectors.grading_states``),
  read for a few hand-ins at upload and then every second, as a check that it counts down;
- unless ``--no-regrade``: staff regrade the whole assignment (``assignment_regrade``, through its
  API), and while the regrade runs a student hands in again: that hand-in's wait for a slot and
  its total time, and how many regrade jobs still waited when its result was stored. A fresh
  hand-in must never wait behind the regrade.

The uploads go to gunicorn on a free port of 127.0.0.1 rather than through Django's test client:
the web process is then a process of its own that competes with the graders for the CPUs and sends
the grading jobs to the broker itself, as at a real deadline, and uploads that arrive together are
served together instead of one after another in this process, so each arrives at its planned
time.

Run from the repository root, as root, where bwrap is installed, with PostgreSQL and Redis on this
machine::

    .venv/bin/python bench/deadline_rush.py [--handins 200] [--window 60] [--workers 2]
        [--students 40] [--no-regrade] [--json]

It creates a database of its own and drops it, uses a Redis db of its own (``--redis``, flushed
before and after), starts gunicorn and the worker, and stops them when it ends, on an error or
Ctrl-C too (bench/_rush_services.py). No beat runs: nothing is lost or re-sent in a healthy run.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _rush_services import REPO, Services

ASSIGNMENTS = REPO / "examples" / "assignments"
A1 = ASSIGNMENTS / "a1-mlp"
REFERENCE = ("solution", "solution-float32", "solution-loops")
MAX_PER_STUDENT = 20
POLL_SECONDS = 0.5
WATCH_SECONDS = 1.0


# The plan: who hands in what, and when. Pure, so that a seed gives the same rush again.


@dataclass(frozen=True)
class PlannedHandIn:
    student: int
    at: float  # seconds after the rush starts
    variant: str  # a folder of examples/assignments/a1-mlp, or flawed/<mistake>
    last: bool  # the student's last hand-in of the rush


def handin_counts(rng: random.Random, *, handins: int, students: int) -> list[int]:
    """How many times each student hands in: one in five 5 to 20 times, the others 1 to 4
    times, then nudged until they add up to ``handins``."""
    if handins > MAX_PER_STUDENT * students:
        raise SystemExit(f"{students} students hand in {MAX_PER_STUDENT} times at most each")
    heavy = max(1, students // 5)
    floors = [5 if s < heavy else 1 for s in range(students)]
    counts = [
        rng.randint(5, MAX_PER_STUDENT) if s < heavy else rng.randint(1, 4) for s in range(students)
    ]
    while sum(counts) > handins:
        above = [s for s in range(students) if counts[s] > floors[s]]
        counts[rng.choice(above or [s for s in range(students) if counts[s]])] -= 1
    while sum(counts) < handins:
        counts[rng.choice([s for s in range(students) if counts[s] < MAX_PER_STUDENT])] += 1
    return counts


def pick_variant(rng: random.Random, *, last: bool, flawed: Sequence[str]) -> str:
    """A last hand-in is mostly a correct solution; an earlier one mostly a flawed one."""
    if last:
        kinds = ((0.55, REFERENCE), (0.30, flawed), (0.10, ("fake",)), (0.05, ("starter",)))
    else:
        kinds = ((0.15, REFERENCE), (0.65, flawed), (0.05, ("fake",)), (0.15, ("starter",)))
    roll = rng.random()
    for share, names in kinds:
        if roll < share:
            return rng.choice(names)
        roll -= share
    return rng.choice(kinds[-1][1])


def rush_plan(
    rng: random.Random, *, handins: int, students: int, window: float, flawed: Sequence[str]
) -> list[PlannedHandIn]:
    """Every hand-in of the rush in time order, spread uniformly over ``window`` from 0."""
    counts = handin_counts(rng, handins=handins, students=students)
    owners = [student for student, count in enumerate(counts) for _ in range(count)]
    rng.shuffle(owners)
    times = sorted(rng.uniform(0, window) for _ in owners)
    times = [at - times[0] for at in times]
    seen: Counter[int] = Counter()
    plan = []
    for student, at in zip(owners, times, strict=True):
        seen[student] += 1
        last = seen[student] == counts[student]
        variant = pick_variant(rng, last=last, flawed=flawed)
        plan.append(PlannedHandIn(student=student, at=at, variant=variant, last=last))
    return plan


def watched(plan: Sequence[PlannedHandIn], count: int) -> set[int]:
    """Indexes of ``count`` last hand-ins spread over the rush, whose place in the queue is
    followed: a last hand-in is never superseded, so its place can only count down."""
    lasts = [index for index, handin in enumerate(plan) if handin.last]
    if count <= 0 or not lasts:
        return set()
    step = len(lasts) / min(count, len(lasts))
    return {lasts[int(step * n + step / 2)] for n in range(min(count, len(lasts)))}


def handin_sources(variants: Iterable[str], scratch: Path) -> dict[str, bytes]:
    """The mlp.py of each variant; a flawed one is written from the solution and its mistake,
    as the demo and the tests write it."""
    sys.path.insert(0, str(ASSIGNMENTS))
    from mistakes import mistakes_of, write_handin

    mistakes = mistakes_of(A1)
    sources = {}
    for variant in set(variants):
        kind, _, name = variant.partition("/")
        folder = A1 / variant
        if kind == "flawed":
            folder = write_handin(A1 / "solution", mistakes[name], scratch / "flawed" / name)
        sources[variant] = (folder / "mlp.py").read_bytes()
    return sources


def flawed_variants() -> list[str]:
    sys.path.insert(0, str(ASSIGNMENTS))
    from mistakes import mistakes_of

    return [f"flawed/{name}" for name in mistakes_of(A1)]


# The course, and the API the students and staff use.


@dataclass
class RushCourse:
    slug: str
    assignment: int
    item: int
    students: list[str]  # API tokens, by student number
    staff: str  # the instructor's API token


def course_create(*, students: int, scratch: Path) -> RushCourse:
    """A course with A1, due in two hours, graded by A1's bundle, and its students."""
    from django.utils import timezone

    from coursesite.models import Course, GracePolicy, GradeCategory, GradeItem, Role
    from coursesite.tokens import api_token_create
    from grading.bundles import pack_bundle
    from grading.services import bundle_upload
    from submissions.models import Assignment

    now = timezone.now()
    course = Course(
        slug="rush", code="RUSH101", title="Deadline rush", term="Now", time_zone="UTC",
        starts_on=(now - timedelta(days=30)).date(), ends_on=(now + timedelta(days=60)).date(),
    )  # fmt: skip
    course.full_clean()
    course.save()
    GracePolicy.objects.create(course=course)
    instructor = _member(course, "instructor", Role.INSTRUCTOR)
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(100))
    item = GradeItem.objects.create(
        course=course, category=category, slug="a1", title="A1: MLPs and backpropagation",
        max_points=Decimal(100), opens_at=now - timedelta(days=14),
        due_at=now + timedelta(hours=2), uses_grace_days=True,
    )  # fmt: skip
    assignment = Assignment.objects.create(item=item, handin_files=["mlp.py"])
    bundle_zip = scratch / "a1-bundle.zip"
    bundle_zip.write_bytes(pack_bundle(A1 / "bundle"))
    bundle_upload(item=item, path=bundle_zip, uploaded_by=instructor)
    tokens = [
        api_token_create(user=_member(course, f"student{n:03}", Role.STUDENT))[1]
        for n in range(students)
    ]
    return RushCourse(
        slug=course.slug,
        assignment=assignment.pk,
        item=item.pk,
        students=tokens,
        staff=api_token_create(user=instructor)[1],
    )


def _member(course: Any, username: str, role: str) -> Any:
    from django.contrib.auth.models import User

    from coursesite.models import Membership

    # No password: API tokens only, and no password hashing to wait for.
    user = User(username=username)
    user.set_unusable_password()
    user.save()
    Membership.objects.create(course=course, user=user, role=role)
    return user


@dataclass
class Api:
    url: str
    course: RushCourse

    def hand_in(self, token: str, source: bytes) -> tuple[int, dict[str, Any]]:
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                b'Content-Disposition: form-data; name="file"; filename="mlp.py"\r\n',
                b"Content-Type: text/x-python\r\n\r\n",
                source,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        path = (
            f"/api/v1/courses/{self.course.slug}/assignments/{self.course.assignment}/submissions/"
        )
        return self._post(path, token, body, f"multipart/form-data; boundary={boundary}")

    def regrade(self) -> tuple[int, dict[str, Any]]:
        path = f"/api/v1/courses/{self.course.slug}/assignments/{self.course.assignment}/regrade/"
        return self._post(path, self.course.staff, b"", "application/json")

    def _post(
        self, path: str, token: str, body: bytes, content_type: str
    ) -> tuple[int, dict[str, Any]]:
        address = urlsplit(self.url)
        connection = http.client.HTTPConnection(address.netloc, timeout=120)
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Authorization": f"Token {token}", "Content-Type": content_type},
            )
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, {"body": text[:500]}


# The rush: one thread per student hands in at the planned times, one at a time, as a student's
# browser does; a watcher reads the place in the queue of a few hand-ins.


@dataclass
class Upload:
    student: int
    variant: str
    planned_at: float  # epoch seconds
    sent_at: float = 0.0
    answered_at: float = 0.0
    status: int = 0
    submission: int | None = None
    error: str = ""


@dataclass
class PlaceTrail:
    student: int
    sent_at: float
    readings: list[tuple[float, str, int | None]] = field(default_factory=list)


def place_of(submission_id: int) -> tuple[str, int | None]:
    """The status and place in the queue the student's hand-in page shows."""
    from submissions.models import Submission
    from submissions.selectors import grading_states

    submission = Submission.objects.get(pk=submission_id)
    state = grading_states([submission])[submission_id]
    return state.status, state.queue_place


class PlaceWatch(threading.Thread):
    """Reads the place of the watched hand-ins every second until their job leaves the queue."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="place-watch")
        self.trails: dict[int, PlaceTrail] = {}
        self.active: set[int] = set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)

    def add(self, submission_id: int, trail: PlaceTrail) -> None:
        with self.lock:
            self.trails[submission_id] = trail
            self.active.add(submission_id)

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopped.wait(WATCH_SECONDS):
                with self.lock:
                    active = list(self.active)
                for submission_id in active:
                    self._read(submission_id)
        finally:
            connection.close()

    def _read(self, submission_id: int) -> None:
        status, place = place_of(submission_id)
        trail = self.trails[submission_id]
        reading = (round(time.time() - trail.sent_at, 1), status, place)
        if trail.readings[-1][1:] != reading[1:]:
            trail.readings.append(reading)
        if status != "queued":
            with self.lock:
                self.active.discard(submission_id)


def send(api: Api, token: str, upload: Upload, source: bytes) -> Upload:
    upload.sent_at = time.time()
    try:
        upload.status, answer = api.hand_in(token, source)
    except OSError as error:
        upload.error = str(error)
        return upload
    upload.answered_at = time.time()
    if upload.status == 201:
        upload.submission = int(answer["id"])
    else:
        upload.error = json.dumps(answer)[:300]
    return upload


def student_rush(
    api: Api,
    student: int,
    handins: list[tuple[int, PlannedHandIn]],
    *,
    start: float,
    sources: dict[str, bytes],
    uploads: list[Upload],
    watch: set[int],
    watcher: PlaceWatch,
) -> None:
    from django.db import connection

    try:
        for index, handin in handins:
            upload = Upload(student=student, variant=handin.variant, planned_at=start + handin.at)
            if watcher.stopped.wait(max(0.0, upload.planned_at - time.time())):
                return  # the run is being stopped
            send(api, api.course.students[student], upload, sources[handin.variant])
            uploads.append(upload)
            if index in watch and upload.submission is not None:
                trail = PlaceTrail(student=student, sent_at=upload.sent_at)
                status, place = place_of(upload.submission)
                trail.readings.append((round(time.time() - upload.sent_at, 1), status, place))
                watcher.add(upload.submission, trail)
    finally:
        connection.close()


def rush(
    api: Api,
    plan: list[PlannedHandIn],
    sources: dict[str, bytes],
    *,
    watch_count: int,
    watcher: PlaceWatch,
) -> list[Upload]:
    """Send every planned hand-in at its time; returns once every upload is answered."""
    by_student: dict[int, list[tuple[int, PlannedHandIn]]] = {}
    for index, handin in enumerate(plan):
        by_student.setdefault(handin.student, []).append((index, handin))
    uploads: list[Upload] = []
    watch = watched(plan, watch_count)
    watcher.start()
    start = time.time() + 1.0  # every thread is waiting when the first hand-in is due
    threads = [
        threading.Thread(
            target=student_rush,
            args=(api, student, handins),
            kwargs={
                "start": start,
                "sources": sources,
                "uploads": uploads,
                "watch": watch,
                "watcher": watcher,
            },
            daemon=True,
        )
        for student, handins in by_student.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return uploads


def wait_for_jobs(item_id: int, *, timeout: float, services: Services) -> None:
    """Wait until no job of the item is queued or running."""
    from grading.models import GradingJob, JobStatus

    deadline = time.monotonic() + timeout
    active = GradingJob.objects.filter(
        item_id=item_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    )
    while active.exists():
        if time.monotonic() > deadline:
            counts = Counter(active.values_list("status", flat=True))
            raise RuntimeError(
                f"jobs still active after {timeout:.0f} s: {dict(counts)}\n"
                f"worker log:\n{services.log_tail('worker')}"
            )
        time.sleep(POLL_SECONDS)


def wait_for_job(submission_id: int, *, timeout: float) -> Any:
    """The grading job of a hand-in, once it is done or in error."""
    from grading.models import GradingJob, JobStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = GradingJob.objects.filter(subject=f"submission:{submission_id}").first()
        if job is not None and job.status in (JobStatus.DONE, JobStatus.ERROR):
            return job
        time.sleep(POLL_SECONDS / 5)
    raise RuntimeError(f"hand-in {submission_id} was not graded within {timeout:.0f} s")


# Figures.


def p95(values: Sequence[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def spread(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "median": None, "p95": None, "max": None}
    return {
        "count": len(values),
        "median": round(statistics.median(values), 3),
        "p95": round(p95(values), 3),
        "max": round(max(values), 3),
    }


def run_span(job: Any) -> tuple[float, float] | None:
    """When a job that ran started and finished (its last attempt), in epoch seconds."""
    if job.started_at is None or job.finished_at is None:
        return None
    return job.started_at.timestamp(), job.finished_at.timestamp()


def rush_figures(uploads: list[Upload], *, item_id: int, slots: int) -> dict[str, Any]:
    from grading.models import GradingJob, JobStatus

    jobs = {job.subject: job for job in GradingJob.objects.filter(item_id=item_id)}
    stored = [u for u in uploads if u.submission is not None]
    ran = [job for job in jobs.values() if run_span(job)]
    spans = [span for job in ran if (span := run_span(job))]
    superseded = [job for job in jobs.values() if job.status == JobStatus.SUPERSEDED]
    first_upload = min(u.sent_at for u in stored)
    last_result = max(end for _, end in spans)
    busy = sum(end - start for start, end in spans)
    graded = [
        (u, jobs[f"submission:{u.submission}"])
        for u in stored
        if jobs[f"submission:{u.submission}"].status == JobStatus.DONE
    ]
    newest = {u.student: u for u in sorted(stored, key=lambda u: u.sent_at)}
    newest_done = [
        u for u in newest.values() if jobs[f"submission:{u.submission}"].status == JobStatus.DONE
    ]
    makespan = last_result - first_upload
    waits = [(job.created_at.timestamp(), job.started_at.timestamp()) for job in ran]
    return {
        "uploads": len(uploads),
        "stored": len(stored),
        "refused": [asdict(u) for u in uploads if u.submission is None],
        "api_seconds": spread([u.answered_at - u.sent_at for u in stored]),
        "late_arrival_seconds": round(max(u.sent_at - u.planned_at for u in uploads), 3),
        "jobs_ran": len(ran),
        "jobs_in_error": sum(job.status == JobStatus.ERROR for job in jobs.values()),
        "jobs_retried": sum(job.attempt > 1 for job in ran),
        "verdicts": dict(Counter(job.verdict for job in ran)),
        "scores": score_counts([job for _, job in graded]),
        "jobs_superseded": len(superseded),
        "superseded_that_ran": sum(bool(job.attempt or job.started_at) for job in superseded),
        "makespan_seconds": round(makespan, 3),
        "run_seconds_total": round(busy, 3),
        "ideal_seconds": round(busy / slots, 3),
        "makespan_over_ideal": round(makespan / (busy / slots), 3),
        "idle_slot_seconds": idle_slots(spans, waits, slots, first_upload, last_result),
        "graded_handins": len(graded),
        "newest_graded": len(newest_done),
        "students_handing_in": len(newest),
        **job_times(graded),
    }


def idle_slots(
    spans: list[tuple[float, float]],
    waits: list[tuple[float, float]],
    slots: int,
    begin: float,
    end: float,
) -> dict[str, float]:
    """Where the slot time the makespan holds beyond the runs went: each moment a slot ran no
    job counts either while a job that was to run waited for one (the pipeline's own time
    between runs: storing a result, fetching the next message, refusing superseded ones,
    claiming) or while nothing waited (before the first hand-in's job existed, a lull in the
    arrivals, the last runs ending one slot after another)."""
    changes: list[tuple[float, int, int]] = [(begin, 0, 0), (end, 0, 0)]
    changes += [change for start, finish in spans for change in ((start, 1, 0), (finish, -1, 0))]
    changes += [change for queued, start in waits for change in ((queued, 0, 1), (start, 0, -1))]
    changes.sort()
    running = waiting = 0
    between_runs = nothing_waiting = 0.0
    for (moment, run, wait), (following, _, _) in itertools.pairwise(changes):
        running, waiting = running + run, waiting + wait
        span = max(0.0, min(following, end) - max(moment, begin))
        idle = max(0, slots - running) * span
        if waiting > 0:
            between_runs += idle
        else:
            nothing_waiting += idle
    return {
        "while_a_job_waited": round(between_runs, 3),
        "per_run_while_a_job_waited": round(between_runs / max(1, len(spans)), 3),
        "with_nothing_waiting": round(nothing_waiting, 3),
    }


def score_counts(jobs: Iterable[Any]) -> dict[str, int]:
    """How the graded hand-ins scored: full marks, some, none."""

    def kind(job: Any) -> str:
        if job.score is None or job.score == 0:
            return "none"
        return "full" if job.score == job.max_score else "some"

    return dict(Counter(kind(job) for job in jobs))


def job_times(graded: list[tuple[Upload, Any]]) -> dict[str, Any]:
    """Upload to stored result, and its parts, over the graded hand-ins."""

    def seconds(pairs: list[tuple[Upload, Any]], part: Any) -> dict[str, float | int | None]:
        return spread([part(u, job) for u, job in pairs])

    def total(u: Upload, job: Any) -> float:
        return float(job.finished_at.timestamp() - u.sent_at)

    def run(u: Upload, job: Any) -> float:
        return float((job.finished_at - job.started_at).total_seconds())

    return {
        "upload_to_result": seconds(graded, total),
        "overhead": seconds(graded, lambda u, job: total(u, job) - (job.execution_time or 0)),
        "wait_for_slot": seconds(graded, lambda u, job: job.started_at.timestamp() - u.sent_at),
        "run": seconds(graded, run),
        "execution_time": seconds(graded, lambda u, job: job.execution_time or 0),
        "run_overhead": seconds(graded, lambda u, job: run(u, job) - (job.execution_time or 0)),
    }


def place_figures(watcher: PlaceWatch) -> list[dict[str, Any]]:
    watcher.stop()
    trails = []
    for submission_id, trail in watcher.trails.items():
        places = [place for _, status, place in trail.readings if place is not None]
        trails.append(
            {
                "submission": submission_id,
                "student": f"student{trail.student:03}",
                "readings": trail.readings,
                "counts_down": all(a >= b for a, b in itertools.pairwise(places)),
            }
        )
    return sorted(trails, key=lambda trail: trail["submission"])


# The regrade phase.


def regrade_phase(api: Api, *, slots: int, student: int, source: bytes) -> dict[str, Any]:
    """Staff regrade the assignment; once every slot grades a regrade job, a student hands in
    again. Returns how that hand-in fared against the regrade."""
    from grading.models import GradingJob, JobStatus

    status, answer = api.regrade()
    if status != 202:
        raise RuntimeError(f"the regrade was refused: {status} {answer}")
    regrade = GradingJob.objects.filter(pk__in=answer["queued"])
    deadline = time.monotonic() + 300
    busy = min(slots, len(answer["queued"]))
    while regrade.filter(status=JobStatus.RUNNING).count() < busy:
        if time.monotonic() > deadline:
            raise RuntimeError("the regrade jobs did not start within 300 s")
        time.sleep(POLL_SECONDS / 5)
    time.sleep(1.0)  # into the regrade jobs' run, not at their start
    upload = Upload(student=student, variant="solution", planned_at=time.time())
    running_at_upload = regrade.filter(status=JobStatus.RUNNING).count()
    send(api, api.course.students[student], upload, source)
    if upload.submission is None:
        raise RuntimeError(f"the fresh hand-in was refused: {upload.status} {upload.error}")
    job = wait_for_job(upload.submission, timeout=900)
    result_at, started_at = job.finished_at, job.started_at
    regrade_jobs = list(regrade.order_by("pk"))
    return {
        "timeline": regrade_timeline(regrade_jobs, job, upload.sent_at),
        "regrade_jobs": len(regrade_jobs),
        "regrade_running_at_upload": running_at_upload,
        "fresh_wait_seconds": round(started_at.timestamp() - upload.sent_at, 3),
        "fresh_total_seconds": round(result_at.timestamp() - upload.sent_at, 3),
        "fresh_run_seconds": round((result_at - started_at).total_seconds(), 3),
        "fresh_execution_time": job.execution_time,
        "fresh_verdict": job.verdict,
        "fresh_attempts": job.attempt,
        "fresh_score": float(job.score) if job.score is not None else None,
        "regrade_waiting_at_result": sum(
            j.started_at is None or j.started_at > result_at for j in regrade_jobs
        ),
        "regrade_done_at_result": sum(
            j.finished_at is not None and j.finished_at <= result_at for j in regrade_jobs
        ),
        "regrade_started_while_fresh_waited": sum(
            j.started_at is not None
            and upload.sent_at < j.started_at.timestamp()
            and j.started_at < started_at
            for j in regrade_jobs
        ),
    }


def regrade_timeline(regrade_jobs: list[Any], fresh: Any, sent_at: float) -> list[dict[str, Any]]:
    """When each regrade job and the fresh hand-in's job started and finished, in seconds from
    the fresh upload (negative: before it)."""

    def at(moment: Any) -> float | None:
        return None if moment is None else round(moment.timestamp() - sent_at, 2)

    return [
        {"job": job.pk, "queue": job.queue, "started": at(job.started_at),
         "finished": at(job.finished_at)}
        for job in [*regrade_jobs, fresh]
    ]  # fmt: skip


# The report.


def report(figures: dict[str, Any]) -> None:
    scenario, rush_, machine = figures["scenario"], figures["rush"], figures["machine"]
    print(
        f"Deadline rush: {scenario['handins']} hand-ins of A1 by {scenario['students']} students "
        f"within {scenario['window']:g} s, {scenario['workers']} grading slots "
        f"(one worker, --concurrency {scenario['workers']}), seed {scenario['seed']}"
    )
    print(f"hand-ins planned: {figures['plan']}")
    print(
        f"machine: {machine['cpus']} CPUs; load average {machine['load_before']} before, "
        f"{machine['load_after']} after; {figures['started']}"
    )
    _report_rush(rush_)
    _report_places(figures["places"])
    if figures.get("regrade"):
        _report_regrade(figures["regrade"])


def _s(part: dict[str, Any]) -> str:
    return f"median {part['median']:.1f} s, p95 {part['p95']:.1f} s, max {part['max']:.1f} s"


def _report_rush(rush_: dict[str, Any]) -> None:
    api = rush_["api_seconds"]
    print(
        f"uploads: {rush_['stored']} of {rush_['uploads']} stored "
        f"({len(rush_['refused'])} refused); API answer median {api['median'] * 1000:.0f} ms, "
        f"p95 {api['p95'] * 1000:.0f} ms; latest arrival {rush_['late_arrival_seconds']:.2f} s "
        f"after its planned time"
    )
    print(
        f"jobs: {rush_['jobs_ran']} ran ({rush_['jobs_in_error']} in error, "
        f"{rush_['jobs_retried']} graded again after grading itself failed; verdicts "
        f"{rush_['verdicts']}; scores {rush_['scores']}), {rush_['jobs_superseded']} superseded, "
        f"of which {rush_['superseded_that_ran']} had run (must be 0)"
    )
    print(
        f"makespan {rush_['makespan_seconds']:.1f} s (first upload to last result) against the "
        f"ideal {rush_['ideal_seconds']:.1f} s ({rush_['run_seconds_total']:.1f} s of runs / "
        f"slots): ratio {rush_['makespan_over_ideal']:.2f}"
    )
    idle = rush_["idle_slot_seconds"]
    print(
        f"  slot time not running a job: {idle['while_a_job_waited']:.1f} s while a job waited "
        f"({idle['per_run_while_a_job_waited'] * 1000:.0f} ms per run: between runs), "
        f"{idle['with_nothing_waiting']:.1f} s while none waited (start, lulls, the last runs)"
    )
    print(
        f"graded hand-ins: {rush_['graded_handins']}; the newest of {rush_['newest_graded']} of "
        f"{rush_['students_handing_in']} students graded"
    )
    print(f"  upload to stored result:        {_s(rush_['upload_to_result'])}")
    print(f"  less the student code's time:   {_s(rush_['overhead'])}  (pipeline overhead)")
    print(f"  of which waiting for a slot:    {_s(rush_['wait_for_slot'])}")
    print(f"  run (started to finished):      {_s(rush_['run'])}")
    print(f"  run less the student code:      {_s(rush_['run_overhead'])}")
    print(f"  the student code (driver):      {_s(rush_['execution_time'])}")


def _report_places(places: list[dict[str, Any]]) -> None:
    print("place in the queue shown on the hand-in page (seconds after upload: place):")
    for trail in places:
        steps = " -> ".join(
            f"{at:g}: {place}" if status == "queued" else f"{at:g}: {status}"
            for at, status, place in trail["readings"]
        )
        verdict = "counts down" if trail["counts_down"] else "DOES NOT count down"
        print(f"  {trail['student']} (hand-in {trail['submission']}): {steps}; {verdict}")


def _report_regrade(regrade: dict[str, Any]) -> None:
    print(
        f"regrade of the whole assignment: {regrade['regrade_jobs']} jobs; a fresh hand-in "
        f"arrived while {regrade['regrade_running_at_upload']} regrade jobs ran"
    )
    print(
        f"  fresh hand-in: waited {regrade['fresh_wait_seconds']:.1f} s for a slot, result after "
        f"{regrade['fresh_total_seconds']:.1f} s (run {regrade['fresh_run_seconds']:.1f} s, "
        f"verdict {regrade['fresh_verdict']}, score {regrade['fresh_score']}, "
        f"attempt {regrade['fresh_attempts']})"
    )
    if regrade["regrade_started_while_fresh_waited"]:
        print("  timeline (seconds from the fresh upload):")
        for row in regrade["timeline"]:
            print(f"    job {row['job']} ({row['queue']}): {row['started']} to {row['finished']}")
    print(
        f"  regrade jobs still waiting when its result was stored: "
        f"{regrade['regrade_waiting_at_result']} (done by then: "
        f"{regrade['regrade_done_at_result']}); regrade jobs started while it waited: "
        f"{regrade['regrade_started_while_fresh_waited']} (must be 0)"
    )


# The run.


def options_parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--handins", type=int, default=200)
    parser.add_argument("--window", type=float, default=60.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="grading slots")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--no-regrade", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--seed", type=int, default=541)
    parser.add_argument("--watch", type=int, default=4, help="hand-ins whose place is followed")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="flushed!")
    parser.add_argument("--slot-offset", type=int, default=1000, help="the sandbox slots' first")
    parser.add_argument("--timeout", type=float, default=1800, help="for the grading, seconds")
    parser.add_argument("--logs", type=Path, help="copy the web and worker logs to this folder")
    return parser.parse_args()


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(options: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    rng = random.Random(options.seed)  # noqa: S311 (a repeatable plan, not a secret)
    plan = rush_plan(
        rng, handins=options.handins, students=options.students, window=options.window,
        flawed=flawed_variants(),
    )  # fmt: skip
    figures: dict[str, Any] = {
        "scenario": {key: getattr(options, key) for key in
                     ("handins", "students", "window", "workers", "seed", "web_workers")},
        "machine": {"cpus": os.cpu_count(), "load_before": _load()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "plan": dict(Counter(handin.variant.split("/")[0] for handin in plan)),
    }  # fmt: skip
    with Services(
        scratch=scratch, postgres=options.postgres, redis_url=options.redis,
        slot_offset=options.slot_offset, keep_logs=options.logs,
    ) as services:  # fmt: skip
        _progress("creating the database, the course and A1's autograder")
        services.django_setup()
        from grading.sandbox import sandbox_available

        if not sandbox_available():
            raise SystemExit("the sandbox cannot run here: run as root where bwrap is installed")
        course = course_create(students=options.students, scratch=scratch)
        sources = handin_sources([h.variant for h in plan] + ["solution"], scratch)
        api = Api(url=services.start_web(workers=options.web_workers), course=course)
        services.start_worker(slots=options.workers)
        _progress(f"the rush: {len(plan)} hand-ins within {options.window:g} s")
        watcher = PlaceWatch()
        try:
            uploads = rush(api, plan, sources, watch_count=options.watch, watcher=watcher)
            _progress("every upload answered; waiting for the grading")
            wait_for_jobs(course.item, timeout=options.timeout, services=services)
            figures["rush"] = rush_figures(uploads, item_id=course.item, slots=options.workers)
            figures["places"] = place_figures(watcher)
        finally:
            watcher.stop()  # before the database goes, on Ctrl-C too
        if not options.no_regrade:
            _progress("the regrade, and a fresh hand-in during it")
            counts = Counter(u.student for u in uploads)
            figures["regrade"] = regrade_phase(
                api, slots=options.workers, student=min(counts, key=lambda s: (counts[s], s)),
                source=sources["solution"],
            )  # fmt: skip
        figures["machine"]["load_after"] = _load()
        _progress("stopping the worker and the web server, dropping the database")
    return figures


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    options = options_parse()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the sandbox drops each job to a uid of its own")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="deadline-rush-") as folder:
            figures = run(options, Path(folder) / "run")
    except KeyboardInterrupt:
        _progress("stopped; the worker, the web server, the database and the Redis db are gone")
        raise SystemExit(130) from None
    if options.json:
        print(json.dumps(figures, indent=2, default=str))
    else:
        report(figures)


if __name__ == "__main__":
    main()
