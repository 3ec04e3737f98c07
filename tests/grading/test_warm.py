"""Warm sandboxes: started before their job, with modules imported, then run like a cold one.

The hostile corpus runs against warm sandboxes too (``test_hostile_grading.py``); these tests
show that a warm run looks to the job like ``python script.py`` started fresh, that its limits
count from the job's start, and that a worker keeps one run ahead and throws it away when it
no longer fits.
"""

from __future__ import annotations

import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from coursesite.models import Role
from grading.bundles import load_bundle
from grading.models import GradingJob
from grading.runner import grade, run_prepare
from grading.sandbox import Limits
from grading.sandbox.bwrap import slot_uid
from grading.sandbox.runner import slot_processes, slot_processes_end
from grading.sandbox.warm import Target, WaitingSandbox, sandbox_start
from grading.worker import run_ahead, run_job, warm_slot
from submissions.services import submission_create
from tests.conftest import make_member, need_sandbox, xdist_slot
from tests.grading.conftest import PIPELINE_BUNDLE, course_with_autograder

SLOT_BASE = 3700


def slot(offset: int) -> int:
    return xdist_slot(SLOT_BASE, offset)


def started(folder: Path, offset: int, limits: Limits | None = None) -> WaitingSandbox:
    need_sandbox()
    folder.mkdir(exist_ok=True)
    waiting = sandbox_start(
        job_dir=folder, limits=limits or Limits(wall_seconds=20), slot=slot(offset),
        preload=["json", "numpy"],
    )  # fmt: skip
    assert waiting.wait_ready(60)
    return waiting


def test_a_warm_run_looks_to_the_job_like_a_fresh_python(tmp_path):
    waiting = started(tmp_path / "job", 0)
    (tmp_path / "job" / "helper.py").write_text("WHERE = 'beside the script'\n")
    (tmp_path / "job" / "main.py").write_text(
        "import sys, helper\n"
        "print(__name__, sys.argv, sys.path[0], helper.WHERE)\n"
        "print('numpy ready:', 'numpy' in sys.modules, 'stdin:', repr(sys.stdin.read()))\n"
        "def fails():\n"
        "    raise ValueError('the job failed')\n"
        "fails()\n"
    )
    result = waiting.run(Target(script="main.py", args=("--epochs", "3")))
    assert result.stdout.splitlines() == [
        "__main__ ['main.py', '--epochs', '3'] /job beside the script",
        "numpy ready: True stdin: ''",
    ]
    # The traceback is the job's own, as `python main.py` prints it.
    assert result.stderr.splitlines() == [
        "Traceback (most recent call last):",
        '  File "/job/main.py", line 6, in <module>',
        "    fails()",
        '  File "/job/main.py", line 5, in fails',
        "    raise ValueError('the job failed')",
        "ValueError: the job failed",
    ]
    assert (result.verdict, result.exit_code) == ("crashed", 1)
    assert slot_processes(slot_uid(slot(0))) == []


def test_a_warm_run_keeps_the_exit_status_of_sys_exit(tmp_path):
    waiting = started(tmp_path / "job", 1)
    (tmp_path / "job" / "main.py").write_text("import sys\nsys.exit(7)\n")
    result = waiting.run(Target(script="main.py"))
    assert (result.verdict, result.exit_code) == ("crashed", 7)


def test_the_limits_count_from_the_job_not_from_the_start(tmp_path):
    limits = Limits(wall_seconds=3, cpu_seconds=2)
    waiting = started(tmp_path / "job", 2, limits)
    time.sleep(3.5)  # longer than the wall limit, spent waiting
    (tmp_path / "job" / "main.py").write_text(
        "import resource, time\n"
        "used = resource.getrusage(resource.RUSAGE_SELF)\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_CPU)\n"
        "print(round(soft - used.ru_utime - used.ru_stime))\n"
    )
    result = waiting.run(Target(script="main.py"))
    assert result.verdict == "ok" and result.wall_seconds < 3
    # What is left of the CPU limit is the job's 2 s (the warm-up's seconds rounded up).
    assert int(result.stdout) in (2, 3)


def test_a_warm_job_that_spins_is_stopped_by_its_cpu_limit(tmp_path):
    waiting = started(tmp_path / "job", 3, Limits(wall_seconds=20, cpu_seconds=1))
    (tmp_path / "job" / "main.py").write_text("while True:\n    pass\n")
    result = waiting.run(Target(script="main.py"))
    assert result.verdict == "timeout" and result.wall_seconds < 10


def test_a_sandbox_runs_one_job_and_an_unused_one_leaves_nothing(tmp_path):
    waiting = started(tmp_path / "job", 4)
    (tmp_path / "job" / "main.py").write_text("print('once')\n")
    assert waiting.run(Target(script="main.py")).stdout == "once\n"
    with pytest.raises(RuntimeError, match="a sandbox runs one job"):
        waiting.run(Target(script="main.py"))
    unused = started(tmp_path / "other", 5)
    assert slot_processes(slot_uid(slot(5))) != []
    unused.abandon()
    assert not unused.alive()
    assert slot_processes(slot_uid(slot(5))) == []


def test_a_prepared_run_that_no_longer_fits_is_closed_and_the_hand_in_runs_cold(tmp_path):
    need_sandbox()
    bundle = load_bundle(PIPELINE_BUNDLE)
    work = tmp_path / "work"
    prepared = run_prepare(bundle, work_root=work, slot=slot(6))
    # Another slot's hand-in: the run started for slot 6 is of no use to slot 7.
    handin = tmp_path / "answer.py"
    handin.write_text("VALUE = 42\n")
    result = grade(bundle, handin, work_root=work, slot=slot(7), prepared=prepared)
    assert (result.verdict, result.score) == ("ok", result.max_score)
    assert prepared.student is not None and not prepared.student.alive()
    assert list(work.iterdir()) == []
    assert slot_processes(slot_uid(slot(6))) == []


def test_a_sandbox_killed_while_it_waited_is_started_again_for_its_hand_in(tmp_path):
    need_sandbox()
    bundle = load_bundle(PIPELINE_BUNDLE)
    work = tmp_path / "work"
    prepared = run_prepare(bundle, work_root=work, slot=slot(9))
    assert prepared.student is not None and prepared.student.wait_ready(60)
    ahead = prepared.student
    slot_processes_end(slot_uid(slot(9)), grace_seconds=0)  # as another run of the slot would
    handin = tmp_path / "answer.py"
    handin.write_text("VALUE = 42\n")
    # Found gone when the hand-in came: the run is given up, and the hand-in graded cold.
    result = grade(bundle, handin, work_root=work, slot=slot(9), prepared=prepared)
    assert (result.verdict, result.score) == ("ok", result.max_score)
    assert ahead.abandoned and not prepared.run_dir.exists()
    # Gone between that look and its use: that sandbox alone is started again.
    prepared = run_prepare(bundle, work_root=work, slot=slot(9))
    gone = prepared.grader
    assert gone is not None and gone.wait_ready(60)
    slot_processes_end(slot_uid(slot(9), grader=True), grace_seconds=0)
    deadline = time.monotonic() + 10
    while gone.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    grader = prepared.sandbox("grader")
    assert grader is not None and grader is not gone and grader.alive()
    assert gone.abandoned and prepared.grader is grader
    assert prepared.sandbox("student") is prepared.student
    prepared.close()
    assert list(work.iterdir()) == []


@pytest.mark.django_db
def test_a_worker_keeps_the_next_run_ahead_and_drops_it_when_it_waited_too_long(tmp_path, settings):
    need_sandbox()
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GRADING_WORK_DIR = tmp_path / "work"
    setup = course_with_autograder(tmp_path)
    assignment = setup["assignment"]

    students = iter(range(10))

    def job_of(value: int) -> GradingJob:
        student = make_member(assignment.item.course, f"warm{next(students)}", Role.STUDENT)
        upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
        upload.write(f"VALUE = {value}\n".encode())
        upload.flush()
        submission = submission_create(
            handin=assignment, student=student, submitted_by=student, upload=upload
        )
        return GradingJob.objects.get(subject=f"submission:{submission.pk}")

    try:
        assert run_job(job_of(42), slot=slot(8))["score"] == 10
        assert warm_slot.next is None  # started once the result is stored
        run_ahead()
        warm_slot._wait()
        ahead = warm_slot.next
        assert ahead is not None and ahead.student is not None and ahead.student.alive()
        assert run_job(job_of(41), slot=slot(8))["score"] == 0
        # The run started ahead graded that hand-in: its sandbox is used and gone.
        assert ahead.student.used and not ahead.student.abandoned
        run_ahead()
        warm_slot._wait()
        stale = warm_slot.next
        assert stale is not None
        settings.GRADING_WARM_MAX_IDLE_SECONDS = 0.5
        time.sleep(1)
        assert run_job(job_of(42), slot=slot(8))["score"] == 10
        assert stale.student is not None and stale.student.abandoned
        assert not stale.run_dir.exists()
    finally:
        warm_slot.close()
    assert Decimal(GradingJob.objects.count()) == 3
    assert slot_processes(slot_uid(slot(8))) == []
    assert [path.name for path in (tmp_path / "work").iterdir()] == []
    shutil.rmtree(tmp_path / "work")
