"""What grading adds to running a driver: the sandbox, and the whole pipeline.

Three medians, for the small bundle of the pipeline's tests (``tests/grading/pipeline_bundle``):

- bare: ``python driver.py`` run directly in a prepared job folder;
- sandboxed: the same driver through ``run_sandboxed`` (goal: under 100 ms more than bare);
- pipeline: from ``submission_create`` (a real upload) to the stored result, with a warm Celery
  worker on Redis and the sandbox (goal: under 500 ms more than bare).

Run from the repository root, as root, with bwrap and Redis on this machine:
``.venv/bin/python bench/grading_overhead.py [--runs N] [--redis redis://127.0.0.1:6379/13]``.
It works in a temporary folder with a SQLite database of its own and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "tests" / "grading" / "pipeline_bundle"
HANDIN = b"VALUE = 42\n"


def prepare(scratch: Path, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=str(scratch / "var"),
        CELERY_BROKER_URL=redis_url,
    )
    for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def job_folder(scratch: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix="job-"))
    shutil.copy(BUNDLE / "driver.py", folder)
    (folder / "answer.py").write_bytes(HANDIN)
    (folder / "out").mkdir()
    return folder


def bare_ms(scratch: Path) -> float:
    folder = job_folder(scratch)
    started = time.perf_counter()
    subprocess.run([sys.executable, "driver.py"], cwd=folder, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def sandboxed_ms(scratch: Path) -> float:
    from grading.sandbox import Limits, run_sandboxed

    folder = job_folder(scratch)
    started = time.perf_counter()
    result = run_sandboxed(["python", "driver.py"], job_dir=folder, limits=Limits(), slot=900)
    elapsed = (time.perf_counter() - started) * 1000
    if result.verdict != "ok":
        raise SystemExit(f"the sandboxed driver failed: {result}")
    return elapsed


def course(scratch: Path):  # type: ignore[no-untyped-def]
    import io
    import zipfile
    from datetime import date, timedelta
    from decimal import Decimal

    from django.contrib.auth.models import User
    from django.utils import timezone

    from coursesite.models import Course, GracePolicy, GradeCategory, GradeItem, Membership
    from grading.services import bundle_upload
    from submissions.models import Assignment

    today = date.today()
    course = Course.objects.create(
        slug="bench", code="BENCH", title="Bench", term="Now", time_zone="UTC",
        starts_on=today, ends_on=today + timedelta(days=30),
    )  # fmt: skip
    GracePolicy.objects.create(course=course)
    teacher = User.objects.create(username="teacher")
    category = GradeCategory.objects.create(course=course, name="A", weight=Decimal(100))
    item = GradeItem.objects.create(
        course=course, category=category, slug="answer", title="Answer", max_points=Decimal(10),
        due_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(BUNDLE.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(BUNDLE).as_posix())
    bundle_zip = scratch / "bundle.zip"
    bundle_zip.write_bytes(buffer.getvalue())
    bundle_upload(item=item, path=bundle_zip, uploaded_by=teacher)
    student = User.objects.create(username="student")
    Membership.objects.create(course=course, user=student, role="student")
    return Assignment.objects.create(item=item, handin_files=["answer.py"]), student


def pipeline_ms(assignment, student) -> float:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from grading.models import GradingJob, JobStatus
    from submissions.services import submission_create

    upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
    upload.write(HANDIN)
    upload.flush()
    started = time.perf_counter()
    submission = submission_create(
        handin=assignment, student=student, submitted_by=student, upload=upload
    )
    job = GradingJob.objects.get(subject=submission.grading_subject)
    while job.status not in (JobStatus.DONE, JobStatus.ERROR):
        time.sleep(0.005)
        job.refresh_from_db(fields=["status"])
    elapsed = (time.perf_counter() - started) * 1000
    if job.status != JobStatus.DONE:
        raise SystemExit(f"the pipeline failed: {job.error}")
    return elapsed


def start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coursesite", "worker", "-Q", "cpu", "--concurrency",
         "1", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=REPO, env={**os.environ, "SUBMISSIONS_PER_HOUR": "100000"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    options = parser.parse_args()
    os.environ["SUBMISSIONS_PER_HOUR"] = "100000"
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as folder:
        scratch = Path(folder)
        prepare(scratch, options.redis)
        from grading.sandbox import sandbox_available

        if not sandbox_available():
            raise SystemExit("bwrap is not usable here; run as root where it is installed")
        bare = [bare_ms(scratch) for _ in range(options.runs)]
        sandboxed = [sandboxed_ms(scratch) for _ in range(options.runs)]
        assignment, student = course(scratch)
        worker = start_worker()
        try:
            pipeline_ms(assignment, student)  # warms the worker: its first job imports everything
            piped = [pipeline_ms(assignment, student) for _ in range(options.runs)]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    report(bare, sandboxed, piped)


def report(bare: list[float], sandboxed: list[float], piped: list[float]) -> None:
    base = statistics.median(bare)
    print(f"runs: {len(bare)} each")
    print(f"bare driver:        median {base:7.1f} ms")
    print(
        f"sandboxed driver:   median {statistics.median(sandboxed):7.1f} ms, "
        f"+{statistics.median(sandboxed) - base:.1f} ms (goal: under +100 ms)"
    )
    print(f"whole pipeline:     median {statistics.median(piped):7.1f} ms, "
          f"+{statistics.median(piped) - base:.1f} ms (goal: under +500 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
