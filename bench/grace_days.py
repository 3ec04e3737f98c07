"""Time a full recomputation of grace days for 300 students and 12 items.

Run from the repository root: ``.venv/bin/python bench/grace_days.py``. No Django setup is needed;
the engine is a pure function. Goal: a full recomputation in under 50 ms.

With ``--with-database`` it also writes the same course into a SQLite database of its own (in a
temporary folder) and times ``grace_ledger``, which reads the inputs in six queries and runs the
engine: what a page or the API pays for a whole course.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, Python puts only bench/ on the path; the engine lives at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from submissions.grace import Due, Extension, GraceLedger, HandIn, Policy, grace_compute

STUDENTS = 300
ITEMS = 12
RUNS = 20
GOAL_MS = 50.0
COURSE_ZONE = "America/New_York"


@dataclass(frozen=True)
class Course:
    items: list[Due]
    students: list[str]
    extensions: list[Extension]
    handins: list[HandIn]


def build_course(seed: int = 541) -> Course:
    """A term of weekly deadlines across the fall-back change, with a realistic spread of work."""
    rng = random.Random(seed)  # noqa: S311 - made-up course data, not a secret
    first_due = datetime(2024, 9, 12, 23, 59, tzinfo=ZoneInfo(COURSE_ZONE))
    # Every third item (quizzes, the project report) does not draw on the pool.
    items = [
        Due(f"item{n:02}", first_due + timedelta(weeks=n), uses_grace_days=n % 3 != 2)
        for n in range(ITEMS)
    ]
    students = [f"student{n:03}" for n in range(STUDENTS)]
    extensions = [
        Extension(student, due.item, due.due_at + timedelta(days=rng.choice((1, 2, 3))))
        for student in students
        for due in items
        if due.due_at is not None and rng.random() < 0.05
    ]
    handins = [
        HandIn(student, due.item, due.due_at + hand_in_offset(rng))
        for student in students
        for due in items
        if due.due_at is not None and rng.random() < 0.95
    ]
    return Course(items=items, students=students, extensions=extensions, handins=handins)


def hand_in_offset(rng: random.Random) -> timedelta:
    """Most work comes in the day before; about one hand-in in five is up to four days late."""
    if rng.random() < 0.8:
        return -timedelta(minutes=rng.randint(1, 24 * 60))
    return timedelta(minutes=rng.randint(1, 4 * 24 * 60))


def recompute(course: Course, policy: Policy) -> GraceLedger:
    return grace_compute(
        policy=policy,
        items=course.items,
        students=course.students,
        extensions=course.extensions,
        handins=course.handins,
    )


def database_timings(course: Course, policy: Policy) -> list[float]:
    """The same course in a fresh SQLite database, and the time of reading its whole ledger."""
    import os
    import tempfile

    os.environ.update(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=tempfile.mkdtemp(prefix="grace-bench-"),
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from coursesite.models import Course as CourseRow
    from coursesite.models import GracePolicy, GradeCategory, GradeItem, Membership
    from submissions.models import Extension as ExtensionRow
    from submissions.models import Submission
    from submissions.selectors import grace_ledger

    call_command("migrate", verbosity=0)
    row = CourseRow.objects.create(
        slug="bench", code="BENCH", title="Bench", term="Fall", time_zone=COURSE_ZONE,
        starts_on=course.items[0].due_at.date() - timedelta(days=14),  # type: ignore[union-attr]
        ends_on=course.items[-1].due_at.date() + timedelta(days=14),  # type: ignore[union-attr]
    )  # fmt: skip
    GracePolicy.objects.create(
        course=row, pool_days=policy.pool_days, per_item_cap=policy.per_item_cap,
        slack_minutes=int(policy.slack.total_seconds() // 60), after_pool=policy.after_pool,
        penalty_percent_per_day=policy.penalty_percent_per_day,
    )  # fmt: skip
    category = GradeCategory.objects.create(course=row, name="All", weight=Decimal(100))
    items = {
        due.item: GradeItem.objects.create(
            course=row,
            category=category,
            slug=str(due.item),
            title=str(due.item),
            max_points=Decimal(10),
            due_at=due.due_at,
            uses_grace_days=due.uses_grace_days,
        )
        for due in course.items
    }
    users = {name: User(username=str(name)) for name in course.students}
    User.objects.bulk_create(users.values())
    users = {user.username: user for user in User.objects.all()}
    Membership.objects.bulk_create(
        Membership(course=row, user=user, role="student") for user in users.values()
    )
    Submission.objects.bulk_create(
        Submission(
            item=items[handin.item],
            student=users[str(handin.student)],
            submitted_by=users[str(handin.student)],
            submitted_at=handin.submitted_at,
            file="handins/x",
            filename="x.zip",
            sha256="0" * 64,
            size=1,
            kind="zip",
        )
        for handin in course.handins
    )
    ExtensionRow.objects.bulk_create(
        ExtensionRow(
            item=items[extension.item],
            student=users[str(extension.student)],
            due_at=extension.due_at,
            reason="bench",
            granted_by=users[str(extension.student)],
            granted_at=extension.due_at,
        )
        for extension in course.extensions
    )
    timings_ms = []
    for _ in range(RUNS):
        started = time.perf_counter()
        grace_ledger(course=CourseRow.objects.select_related("grace_policy").get(pk=row.pk))
        timings_ms.append((time.perf_counter() - started) * 1000)
    return timings_ms


def main() -> None:
    course = build_course()
    policy = Policy(
        time_zone=COURSE_ZONE,
        pool_days=7,
        per_item_cap=3,
        slack=timedelta(minutes=10),
        after_pool="percent_per_day",
        penalty_percent_per_day=Decimal(20),
    )
    timings_ms: list[float] = []
    for _ in range(RUNS):
        started = time.perf_counter()
        ledger = recompute(course, policy)
        timings_ms.append((time.perf_counter() - started) * 1000)
    late = sum(1 for row in ledger.lateness.values() if row.days_late)
    print(
        f"{STUDENTS} students x {ITEMS} items: {len(ledger.lateness)} hand-ins "
        f"({late} late), {len(course.extensions)} extensions"
    )
    median = statistics.median(timings_ms)
    best = min(timings_ms)
    print(f"full recomputation over {RUNS} runs: median {median:.1f} ms, best {best:.1f} ms")
    verdict = "met" if median < GOAL_MS else "MISSED"
    print(f"goal: under {GOAL_MS:.0f} ms (median) -- {verdict}")
    if "--with-database" in sys.argv[1:]:
        read = database_timings(course, policy)
        print(
            f"read from SQLite and recomputed (grace_ledger) over {RUNS} runs: "
            f"median {statistics.median(read):.1f} ms, best {min(read):.1f} ms"
        )


if __name__ == "__main__":
    main()
