"""`make run`'s live semester: `load_demo --as-of` moves the demo course to its week 9 and plays
its first weeks, and a real Celery worker (a folder broker, the test's database, the sandbox)
grades the queued hand-ins with the assignments' real autograders.

The demo is loaded and graded once for the module: grading 24 hand-ins is the expensive part.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from coursesite.demo import week_of
from coursesite.gradebook.engine import MISSING_WORK, REQUIRED_NOT_PASSED, StudentGrade
from coursesite.gradebook.selectors import gradebook_read
from coursesite.models import Course, Score, ScoreSource
from grading.models import GradingJob, JobStatus
from submissions.models import Submission
from submissions.selectors import grace_ledger
from tests.conftest import REPO, celery_broker, django_env, need_sandbox, xdist_slot
from tests.grading.conftest import database_url

AS_OF = date(2025, 3, 4)  # a Tuesday: in week 9 of the moved course, A3 is due that night
GRADING_TIMEOUT = 1800
STUDENTS = [f"student{n:02d}" for n in range(1, 13)]

# The tests read what the module's fixture kept; the mark makes the session set up the database.
pytestmark = pytest.mark.django_db


@dataclass
class Played:
    """What the played demo holds once graded, read before the test database is emptied."""

    jobs: set[tuple[str, str, str]]
    # What went wrong in grading, if anything did: the message of a failing test.
    job_errors: set[str]
    # item slug -> student -> (points, late penalty %) of the autograder's Scores
    autograded: dict[str, dict[str, tuple[Decimal | None, Decimal]]]
    grace_days_used: dict[tuple[str, str], int]
    grades: dict[str, StudentGrade]
    starts_on: date
    week_9: list[date]


def read_back(course: Course) -> Played:
    users = {m.user_id: m.user.username for m in course.memberships.select_related("user")}
    items = {item.pk: item.slug for item in course.items.all()}
    autograded: dict[str, dict[str, tuple[Decimal | None, Decimal]]] = {}
    for score in Score.objects.filter(item__course=course, source=ScoreSource.AUTOGRADER):
        autograded.setdefault(items[score.item_id], {})[users[score.student_id]] = (
            score.points,
            score.late_penalty_percent,
        )
    noon = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=course.tz)
    gradebook = gradebook_read(course=course, now=noon)
    return Played(
        jobs={
            (job.item.slug, job.status, job.verdict)
            for job in GradingJob.objects.filter(item__course=course).select_related("item")
        },
        job_errors={job.error[-2000:] for job in GradingJob.objects.exclude(error="")},
        autograded=autograded,
        grace_days_used={
            (users[lateness.student], items[lateness.item]): lateness.grace_days_used
            for lateness in grace_ledger(course=course).lateness.values()
            if lateness.grace_days_used
        },
        grades={row.student.username: row.grade for row in gradebook.rows},
        starts_on=course.starts_on,
        week_9=list(course.lectures.filter(week=9).values_list("date", flat=True)),
    )


def broker_folders(var_dir: Path) -> dict[str, object]:
    """The folder broker's options, as the settings make them for ``COURSESITE_VAR_DIR``."""
    broker = var_dir / "broker"
    for folder in ("messages", "control", "processed"):
        (broker / folder).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(broker / "messages"),
        "data_folder_out": str(broker / "messages"),
        "control_folder": str(broker / "control"),
        "processed_folder": str(broker / "processed"),
        "store_processed": False,
        "polling_interval": 0.25,
    }


def start_worker(var_dir: Path, media_root: Path) -> subprocess.Popen[bytes]:
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.test",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL="filesystem://",
        MEDIA_ROOT=str(media_root),
        COURSESITE_VAR_DIR=str(var_dir),
        # One grading at a time: one sandbox slot per pytest worker.
        GRADING_SLOT_OFFSET=str(xdist_slot(4900, 0, per_worker=1)),
        COURSESITE_ALLOW_UNSANDBOXED=os.environ.get("COURSESITE_ALLOW_UNSANDBOXED", "0"),
    )
    with (var_dir / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "coursesite", "worker", "-Q", "cpu,gpu,regrade",
             "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--hostname", "demo@%h", "--loglevel", "INFO"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def unscored_handins() -> set[tuple[int, int]]:
    """Active hand-ins of assignments without their autograder Score yet: a job's Score is
    written just after the job is marked done (on its commit), so done is not yet scored."""
    handed_in = set(
        Submission.objects.filter(active=True, item__assignment__isnull=False).values_list(
            "item_id", "student_id"
        )
    )
    scored = set(
        Score.objects.filter(source=ScoreSource.AUTOGRADER).values_list("item_id", "student_id")
    )
    return handed_in - scored


def wait_for_grading(var_dir: Path) -> None:
    deadline = time.monotonic() + GRADING_TIMEOUT
    waiting = GradingJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    while waiting.exists() or unscored_handins():
        if time.monotonic() > deadline:
            log = (var_dir / "worker.log").read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"{waiting.count()} demo jobs still waiting, {len(unscored_handins())} hand-ins "
                f"unscored; worker log:\n{log}"
            )
        time.sleep(1)


@pytest.fixture(scope="module")
def played(
    django_db_setup: None, django_db_blocker: pytest.DjangoDbBlocker, tmp_path_factory
) -> Played:
    """The demo loaded as of ``AS_OF`` and graded by a worker, read back, then flushed away: the
    worker is another process, so the data is committed, not rolled back."""
    if os.environ.get("COURSESITE_ALLOW_UNSANDBOXED") != "1":
        need_sandbox()
    var_dir = tmp_path_factory.mktemp("demo-var")
    media_root = var_dir / "media"
    with (
        celery_broker("filesystem://", broker_folders(var_dir)),
        override_settings(MEDIA_ROOT=media_root),
        django_db_blocker.unblock(),
    ):
        worker = None
        try:
            call_command("load_demo", as_of=AS_OF, stdout=io.StringIO())
            worker = start_worker(var_dir, media_root)
            wait_for_grading(var_dir)
            return read_back(Course.objects.get(slug="comp541-fall2024"))
        finally:
            if worker is not None:
                stop(worker)
            call_command("flush", interactive=False, verbosity=0)


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def test_it_grades_every_hand_in_of_the_programming_quiz_a1_and_a2_with_the_real_autograders(
    played,
):
    assert played.jobs == {
        ("quiz-programming", JobStatus.DONE, "ok"),
        ("a1", JobStatus.DONE, "ok"),
        ("a2", JobStatus.DONE, "ok"),
    }, played.job_errors
    assert sorted(played.autograded["quiz-programming"]) == [
        s for s in STUDENTS if s != "student12"
    ]
    assert sorted(played.autograded["a1"]) == STUDENTS
    assert sorted(played.autograded["a2"]) == STUDENTS


def test_it_scores_the_reference_the_flawed_variants_and_the_starter_apart(played):
    a1 = {name: points for name, (points, _) in played.autograded["a1"].items()}
    assert (a1["student01"], a1["student07"]) == (Decimal(100), Decimal(0))
    assert Decimal(0) < a1["student02"] < Decimal(100)  # its ReLU backward pass is wrong
    # Correct hand-ins in other styles than the reference: float32, loops.
    assert (a1["student05"], a1["student11"]) == (Decimal(100), Decimal(100))
    quiz = {name: points for name, (points, _) in played.autograded["quiz-programming"].items()}
    assert (quiz["student01"], quiz["student02"]) == (Decimal(100), Decimal(100))
    assert Decimal(0) < quiz["student07"] < Decimal(100)  # distances not clipped: a nan


def test_it_draws_grace_days_for_late_hand_ins_and_zeroes_one_beyond_the_pool(played):
    assert played.grace_days_used == {
        ("student03", "a1"): 2,
        ("student09", "a1"): 4,
        ("student12", "a1"): 1,
        ("student02", "a2"): 1,
        ("student05", "a2"): 3,
    }
    # Three days late on three grace days: full marks. Four days late with three left: nothing.
    assert played.autograded["a2"]["student05"] == (Decimal(100), Decimal(0))
    assert played.autograded["a2"]["student09"] == (Decimal(0), Decimal(100))


def test_it_fills_the_gradebook_with_a_total_for_every_student(played):
    grades = played.grades
    assert sorted(grades) == STUDENTS
    assert all(grade.current is not None and grade.final is not None for grade in grades.values())
    assert len({grade.current for grade in grades.values()}) > 6
    # student07 and student09 each never wrote one paper review; student12 missed both quizzes.
    missing = sorted(name for name, grade in grades.items() if MISSING_WORK in grade.flags)
    assert missing == ["student07", "student09", "student12"]
    # One is below the theory quiz's pass mark, the other missed the programming quiz.
    failed = [name for name, grade in grades.items() if REQUIRED_NOT_PASSED in grade.flags]
    assert failed == ["student07", "student12"]


def test_it_puts_the_as_of_date_in_week_9(played):
    assert week_of(starts_on=played.starts_on, day=AS_OF) == 9
    assert {day.isocalendar()[:2] for day in played.week_9} == {AS_OF.isocalendar()[:2]}
