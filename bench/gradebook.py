"""Time ``gradebook_read`` for a whole course: 300 students x 40 items in 7 categories.

Run from the repository root: ``.venv/bin/python bench/gradebook.py`` (SQLite, in a temporary
folder), or with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/coursesite_bench`` to run on
PostgreSQL: the bench then creates a fresh database of its own (``test_`` + the name in the URL,
as the test runner does) and drops it at the end. Goal: the whole course read and computed in
under 150 ms (median), in a number of queries that does not grow with the number of students.

The course has the demo course's categories and weights, with more items: drop-lowest on the
reviews and on participation, some excused scores, missing work, work handed in and not graded
yet, extensions, and late scores that already carry their penalty.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Run as a script, Python puts only bench/ on the path; the project lives at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STUDENTS = 300
RUNS = 15
GOAL_MS = 150.0
CENT = Decimal("0.01")
ZONE = ZoneInfo("Europe/Istanbul")
FIRST_DUE = datetime(2024, 10, 9, 23, 59, tzinfo=ZONE)
# Week 9 of the term: about half of the items are due.
NOW = datetime(2024, 12, 6, 12, 0, tzinfo=ZONE)

# (category, weight, drop lowest, item count, max points, each item's own weight or None)
CATEGORIES = (
    ("Self-Assessment Quiz", 2, 0, 2, 100, None),
    ("Programming Assignments", 20, 0, 4, 100, Decimal(5)),
    ("Midterm Exam", 17, 0, 1, 100, None),
    ("Course Project", 36, 0, 6, 100, Decimal(6)),
    ("Paper Presentations", 10, 0, 1, 100, None),
    ("Paper Reviews", 5, 2, 20, 10, None),
    ("Class Participation", 10, 1, 6, 10, None),
)


def setup_django() -> None:
    """Django on the database of ``DATABASE_URL``, or on SQLite in a temporary folder."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=tempfile.mkdtemp(prefix="gradebook-bench-"),
    )
    import django

    django.setup()


def build_course(students: int, seed: int = 541) -> Any:
    """The course, its people, Scores, hand-ins and extensions, written in bulk."""
    from django.contrib.auth.models import User

    from coursesite.models import Course, GradeCategory, GradeItem, Membership, Score
    from submissions.models import Extension, Submission

    rng = random.Random(seed)  # noqa: S311 - made-up course data, not a secret
    course = Course.objects.create(
        slug="bench", code="BENCH", title="Bench", term="Fall 2024", time_zone=str(ZONE),
        starts_on=date(2024, 10, 7), ends_on=date(2025, 1, 26),
    )  # fmt: skip
    items: list[GradeItem] = []
    for position, (name, weight, drop, count, points, own) in enumerate(CATEGORIES):
        category = GradeCategory.objects.create(
            course=course, name=name, weight=Decimal(weight), drop_lowest=drop, position=position
        )
        for n in range(count):
            items.append(
                GradeItem(
                    course=course,
                    category=category,
                    slug=f"c{position}-{n}",
                    title=f"{name} {n + 1}",
                    max_points=Decimal(points),
                    weight=own,
                    due_at=FIRST_DUE + timedelta(days=rng.randint(0, 100)),
                    position=n,
                    released=rng.random() < 0.5,
                )
            )
    GradeItem.objects.bulk_create(items)
    User.objects.bulk_create(User(username=f"student{n:03}") for n in range(students))
    users = list(User.objects.filter(username__startswith="student").order_by("username"))
    Membership.objects.bulk_create(
        Membership(course=course, user=user, role="student", section=f"S{n % 3 + 1}")
        for n, user in enumerate(users)
    )
    scores, handins, extensions = [], [], []
    for user in users:
        for item in items:
            due = item.due_at is not None and item.due_at < NOW
            roll = rng.random()
            if roll < 0.03:
                scores.append(bench_score(item, user, points=None, excused=True))
            elif due and roll < 0.93:
                late = rng.random() < 0.1
                points = Decimal(rng.randint(0, int(item.max_points) * 100)) / 100
                scores.append(
                    bench_score(
                        item,
                        user,
                        points=(points * Decimal("0.8")).quantize(CENT) if late else points,
                        penalty=Decimal(20) if late else Decimal(0),
                    )
                )
            elif due and roll < 0.96:
                handins.append(bench_submission(item, user))
            elif due and roll < 0.97:
                extensions.append(bench_extension(item, user))
            # Otherwise nothing: missing when due, pending when not.
    Score.objects.bulk_create(scores)
    Submission.objects.bulk_create(handins)
    Extension.objects.bulk_create(extensions)
    print(
        f"{students} students x {len(items)} items in {len(CATEGORIES)} categories: "
        f"{len(scores)} scores ({sum(s.excused for s in scores)} excused), "
        f"{len(handins)} hand-ins waiting to be graded, {len(extensions)} extensions"
    )
    return course


def bench_score(
    item: Any,
    user: Any,
    *,
    points: Decimal | None,
    excused: bool = False,
    penalty: Decimal = Decimal(0),
) -> Any:
    from coursesite.models import Score

    return Score(
        item=item, student=user, points=points, excused=excused, source="manual",
        late_penalty_percent=penalty, updated_at=NOW,
    )  # fmt: skip


def bench_submission(item: Any, user: Any) -> Any:
    from submissions.models import Submission

    return Submission(
        item=item, student=user, submitted_by=user, submitted_at=item.due_at,
        file="handins/x", filename="x.zip", sha256="0" * 64, size=1, kind="zip",
    )  # fmt: skip


def bench_extension(item: Any, user: Any) -> Any:
    from submissions.models import Extension

    return Extension(
        item=item, student=user, due_at=NOW + timedelta(days=3), reason="bench",
        granted_by=user, granted_at=item.due_at,
    )  # fmt: skip


def count_queries(**read: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from coursesite.gradebook.selectors import gradebook_read

    with CaptureQueriesContext(connection) as queries:
        gradebook_read(now=NOW, **read)
    return len(queries)


def read_timings(course: Any, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``runs`` reads of the whole course."""
    from coursesite.gradebook.selectors import gradebook_read

    wall_ms, cpu_ms = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        book = gradebook_read(course=course, now=NOW)
        wall_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - started_cpu) * 1000)
    flagged = Counter(flag for row in book.rows for flag in row.grade.flags)
    finals = [row.grade.final for row in book.rows if row.grade.final is not None]
    print(
        f"{len(book.rows)} rows, final totals {min(finals)} to {max(finals)}; flags: "
        + ", ".join(f"{flag} {count}" for flag, count in sorted(flagged.items()))
    )
    return wall_ms, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    vendor = connection.vendor
    # The test runner's machinery makes a fresh database and drops it: on PostgreSQL a database of
    # its own beside the one named in the URL, on SQLite a file in the temporary folder.
    if vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = connection.settings_dict["NAME"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        course = build_course(args.students)
        student = course.memberships.filter(role="student")[0].user
        queries = {
            "whole course": count_queries(course=course),
            "one section": count_queries(course=course, section="S1"),
            "one student": count_queries(course=course, student=student),
        }
        wall_ms, cpu_ms = read_timings(course, args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print("queries: " + ", ".join(f"{what} {count}" for what, count in queries.items()))
    median = statistics.median(wall_ms)
    # On a shared machine the wall clock includes waiting for a CPU; the CPU time does not.
    print(
        f"gradebook_read of the whole course on {vendor} over {args.runs} runs: "
        f"median {median:.1f} ms, best {min(wall_ms):.1f} ms "
        f"(CPU time in this process: median {statistics.median(cpu_ms):.1f} ms)"
    )
    verdict = "met" if median < GOAL_MS else "MISSED"
    print(f"goal: under {GOAL_MS:.0f} ms (median) -- {verdict}")


if __name__ == "__main__":
    main()
