"""The staff's grading queue of a course, and one grading job's page.

The queue page shows what the workers are doing: the jobs waiting in each queue (cpu, gpu,
regrade) oldest first, with each job's place in its own queue; the jobs running, with how long
they have run and on which worker; each worker's share of the last days' work; and the jobs of
the last days that failed, whether grading itself gave up (``error``) or the student's code did
not run to the end (a verdict other than ``ok``). A job's page shows everything the job stored:
its tests with their visibility to students, its logs, its images, and why grading failed.

Staff act on a job with the same services as the instructor panel and the hand-ins' API: a job in
``error`` is given new attempts (``grading_job_requeue``), and a finished job is graded again on the
regrade queue (``grading_job_regrade``: the job's hand-in, as a hand-in's regrade does). Both
answer 404 to anyone who does not run the course. The page costs a fixed number of queries,
however many jobs it lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from coursesite.models import Course
from coursesite.views import staff_course
from grading.job_names import owner_names, subject_url
from grading.models import GradingJob, JobStatus, Queue, Verdict
from grading.services import grading_job_regrade, grading_job_requeue

RECENT_DAYS = 7
FAILED = Q(status=JobStatus.ERROR) | (Q(status=JobStatus.DONE) & ~Q(verdict=Verdict.OK))


def elapsed_text(elapsed: timedelta) -> str:
    """A running time as staff read it: "45 s", "3 min 20 s", "2 h 05 min"."""
    seconds = max(0, int(elapsed.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02} min"
    return f"{minutes} min {seconds:02} s" if minutes else f"{seconds} s"


@dataclass
class JobRow:
    job: GradingJob
    owner: str
    subject_url: str | None
    place: int | None = None
    elapsed: str = ""

    @property
    def may_requeue(self) -> bool:
        return self.job.status == JobStatus.ERROR

    @property
    def may_regrade(self) -> bool:
        return self.job.status == JobStatus.DONE


@dataclass
class QueueState:
    queue: str
    label: str
    waiting: list[JobRow] = field(default_factory=list)
    running: int = 0
    failed: int = 0


@dataclass
class WorkerState:
    worker: str
    running: list[JobRow] = field(default_factory=list)
    finished: int = 0
    failed: int = 0


@dataclass
class GradingQueue:
    queues: list[QueueState]
    running: list[JobRow]
    workers: list[WorkerState]
    failed: list[JobRow]
    since: datetime


def job_rows(course: Course, jobs: list[GradingJob]) -> list[JobRow]:
    names = owner_names(job.owner for job in jobs)
    return [
        JobRow(
            job=job,
            owner=names.get(job.owner, job.owner),
            subject_url=subject_url(course, job.subject),
        )
        for job in jobs
    ]


def grading_queue(*, course: Course, now: datetime) -> GradingQueue:
    """The course's queue as the page shows it (see the module doc): four queries."""
    since = now - timedelta(days=RECENT_DAYS)
    jobs = job_rows(
        course,
        list(
            GradingJob.objects.filter(item__course=course)
            .filter(
                Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                | (FAILED & Q(finished_at__gte=since))
            )
            .select_related("item")
            .order_by("enqueued_at", "pk")
        ),
    )
    queues = {queue: QueueState(queue, str(label)) for queue, label in Queue.choices}
    workers: dict[str, WorkerState] = {}
    running, failed = [], []
    for row in jobs:
        job, state = row.job, queues[row.job.queue]
        if job.status == JobStatus.QUEUED:
            state.waiting.append(row)
            row.place = len(state.waiting)
        elif job.status == JobStatus.RUNNING:
            state.running += 1
            row.elapsed = elapsed_text(now - job.started_at) if job.started_at else ""
            running.append(row)
            workers.setdefault(job.worker, WorkerState(job.worker)).running.append(row)
        else:
            state.failed += 1
            failed.append(row)
    finished = (
        GradingJob.objects.filter(
            item__course=course,
            status__in=[JobStatus.DONE, JobStatus.ERROR],
            finished_at__gte=since,
        )
        .exclude(worker="")
        .values("worker")
        .annotate(finished=Count("pk"), failed=Count("pk", filter=FAILED))
    )
    for counts in finished:
        worker = workers.setdefault(counts["worker"], WorkerState(counts["worker"]))
        worker.finished, worker.failed = counts["finished"], counts["failed"]
    running.sort(key=lambda row: (row.job.started_at or now, row.job.pk))
    failed.sort(key=lambda row: (row.job.finished_at or now, row.job.pk), reverse=True)
    return GradingQueue(
        queues=list(queues.values()),
        running=running,
        workers=sorted(workers.values(), key=lambda worker: worker.worker),
        failed=failed,
        since=since,
    )


def course_job(course: Course, pk: int) -> GradingJob:
    """A grading job of the course; 404 for a job of another course, as for none."""
    job = (
        GradingJob.objects.filter(pk=pk, item__course=course)
        .select_related("item", "bundle")
        .first()
    )
    if job is None:
        raise Http404
    return job


@login_required
@require_safe
def queue_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    queue = grading_queue(course=course, now=timezone.now())
    waiting = sum(len(state.waiting) for state in queue.queues)
    context = {"course": course, "queue": queue, "waiting": waiting, "days": RECENT_DAYS}
    return render(request, "grading/queue.html", context)


@login_required
@require_safe
def job_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = staff_course(request, slug)
    job = course_job(course, pk)
    (row,) = job_rows(course, [job])
    context = {"course": course, "row": row, "job": job, "tests": list(job.tests.all())}
    return render(request, "grading/job.html", context)


@login_required
@require_POST
def job_requeue_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Give a job in error new attempts."""
    course = staff_course(request, slug)
    job = course_job(course, pk)
    if grading_job_requeue(job=job):
        messages.success(request, f"Job {job.pk} is queued again, with new attempts.")
    else:
        messages.error(request, f"Job {job.pk} is not in error any more; nothing was changed.")
    return redirect("grading-queue", slug=course.slug)


@login_required
@require_POST
def job_regrade_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Grade a finished job's hand-in again with the item's current autograder."""
    course = staff_course(request, slug)
    job = course_job(course, pk)
    try:
        regrade = grading_job_regrade(job=job)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("grading-queue", slug=course.slug)
    if regrade is None:
        messages.error(request, f"{job.item} has no autograder any more.")
    else:
        messages.success(
            request, f"Job {regrade.pk} grades the work of job {job.pk} again (regrade queue)."
        )
    return redirect("grading-queue", slug=course.slug)
