"""`load_demo`: the demo course in its week 9, its first weeks played, and demo accounts.

The hand-ins are only queued here (no worker runs); test_demo_semester.py grades them.
"""

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from coursesite.demo import week_of
from coursesite.gradebook.services import item_release
from coursesite.models import Course, CourseEvent, GradeItem, Lecture, Score, ScoreChange
from grading.models import GradingJob
from presentations.models import Presenter
from submissions.models import Submission
from submissions.selectors import grace_ledger
from tests.conftest import EXAMPLE_COURSE

AS_OF = date(2025, 3, 4)  # the Tuesday of week 9 once the course moves 13 weeks
STUDENTS = [f"student{n:02d}" for n in range(1, 13)]


def load_demo(**options):
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def demo_course():
    return Course.objects.get(slug="comp541-fall2024")


def everything_dated(course):
    """Every row the demo dates or plays, with its dates, as a comparable snapshot."""
    return {
        "course": (course.starts_on, course.ends_on, course.groups_locked_at),
        "items": sorted(
            GradeItem.objects.filter(course=course).values_list(
                "slug", "opens_at", "due_at", "released", "released_at"
            )
        ),
        "lectures": sorted(Lecture.objects.values_list("pk", "date", "starts_at", "week")),
        "events": sorted(CourseEvent.objects.values_list("pk", "date")),
        "hand-ins": sorted(Submission.objects.values_list("pk", "submitted_at", "active")),
        "jobs": sorted(GradingJob.objects.values_list("pk", "subject")),
        "scores": sorted(Score.objects.values_list("pk", "points", "updated_at")),
        "score changes": ScoreChange.objects.count(),
    }


def test_it_loads_the_demo_course_and_lets_every_member_log_in_with_demo(db, capsys):
    call_command("load_demo")
    output = capsys.readouterr().out
    course = Course.objects.get(slug="comp541-fall2024")
    usernames = ["aerdem", "abond", "hcapuk", *[f"student{n:02d}" for n in range(1, 13)]]
    assert sorted(course.memberships.values_list("user__username", flat=True)) == sorted(usernames)
    for username in usernames:
        assert authenticate(username=username, password="demo") is not None, username
        assert username in output


def test_it_lets_the_demo_staff_into_the_panel_but_not_the_students(db):
    call_command("load_demo")
    assert authenticate(username="aerdem", password="demo").is_staff
    assert authenticate(username="hcapuk", password="demo").is_staff
    assert not authenticate(username="student01", password="demo").is_staff


def test_it_refuses_demo_accounts_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("load_demo")
    assert not Course.objects.exists()


def test_it_puts_today_in_week_9_unless_told_another_day(db):
    output = load_demo()
    course = demo_course()
    assert week_of(starts_on=course.starts_on, day=timezone.localdate(timezone=course.tz)) == 9
    assert "week 9 runs from" in output


def test_it_refuses_an_as_of_date_after_today(db):
    later = timezone.localdate() + timedelta(days=2)  # after today in Istanbul too
    with pytest.raises(CommandError, match="after today"):
        load_demo(as_of=later)
    assert not Course.objects.exists()


def test_it_moves_the_calendar_of_the_course_file_by_whole_weeks(db):
    call_command("load_course", str(EXAMPLE_COURSE), stdout=io.StringIO())
    before = everything_dated(demo_course())
    load_demo(as_of=AS_OF)
    after = everything_dated(demo_course())
    # Istanbul keeps one offset all year: 13 weeks on its wall clock are 13 x 7 x 24 hours.
    weeks = timedelta(weeks=13)
    assert after["course"] == tuple(value + weeks for value in before["course"])
    assert [(slug, o and o + weeks, d and d + weeks) for slug, o, d, *_ in before["items"]] == [
        (slug, opens, due) for slug, opens, due, *_ in after["items"]
    ]
    assert sorted(day + weeks for _, day, *_ in before["lectures"]) == sorted(
        day for _, day, *_ in after["lectures"]
    )
    assert sorted(d + weeks for _, d in before["events"] if d) == sorted(
        d for _, d in after["events"] if d
    )


def presenters_before(course: Course, day: date) -> set[str]:
    return set(
        Presenter.objects.filter(slot__paper__course=course, slot__date__lt=day).values_list(
            "student__username", flat=True
        )
    )


def test_it_plays_the_staff_scores_and_the_hand_ins_of_the_first_eight_weeks(db):
    output = load_demo(as_of=AS_OF)
    course = demo_course()
    handed_in = {
        slug: sorted(
            Submission.objects.filter(item__slug=slug).values_list("student__username", flat=True)
        )
        for slug in ("a1", "a2", "a3")
    }
    assert handed_in == {"a1": STUDENTS, "a2": STUDENTS, "a3": []}  # A3 is due that night
    # A1 and A2, and the programming quiz (student12 never handed it in).
    assert GradingJob.objects.filter(status="queued").count() == 35
    scored = {
        slug: Score.objects.filter(item__slug=slug).count()
        for slug in ("quiz-theory", "quiz-programming", "midterm", "proposal", "review-w08",
                     "review-w09", "paper-presentation")
    }  # fmt: skip
    # The theory quiz from the attempts (student12 never took it); the programming quiz once
    # the worker grades it. Scored with rubrics: every group's proposal, the reviews handed in
    # more than four days ago (student09 never wrote the week 8 one), the roles held by then.
    assert scored == {
        "quiz-theory": 11,
        "quiz-programming": 0,
        "midterm": 12,
        "proposal": 12,
        "review-w08": 11,
        "review-w09": 0,
        "paper-presentation": len(presenters_before(course, AS_OF - timedelta(days=4))),
    }
    assert Score.objects.get(item__slug="quiz-theory", student__username="student07").points < 50
    a1 = course.items.get(slug="a1")
    assert (a1.released, a1.released_at is not None) == (True, True)
    assert "12 hand-ins of A1: MLPs and Backpropagation queued for grading" in output


def test_it_changes_nothing_and_plays_nothing_twice_on_a_second_run_the_same_day(db):
    load_demo(as_of=AS_OF)
    before = everything_dated(demo_course())
    output = load_demo(as_of=AS_OF)
    assert everything_dated(demo_course()) == before
    assert "nothing changed" in output
    assert "Nothing new to play" in output


def test_it_plays_what_fell_due_since_the_last_run_and_only_that(db):
    load_demo(as_of=AS_OF)
    before = set(Submission.objects.values_list("pk", "submitted_at"))
    output = load_demo(as_of=AS_OF + timedelta(days=1))  # the Wednesday: A3 was due last night
    assert "12 hand-ins of A3" in output
    assert before < set(Submission.objects.values_list("pk", "submitted_at"))
    assert Submission.objects.filter(item__slug="a3").count() == 12


def test_it_moves_the_calendar_and_what_was_played_again_on_a_later_day(db):
    load_demo(as_of=AS_OF)
    course = demo_course()
    lateness = {key: row.late_by for key, row in grace_ledger(course=course).lateness.items()}
    before = everything_dated(course)
    output = load_demo(as_of=AS_OF + timedelta(weeks=2))
    course = demo_course()
    after = everything_dated(course)
    assert after["course"][0] == before["course"][0] + timedelta(weeks=2)
    assert [pk for pk, *_ in after["hand-ins"]] == [pk for pk, *_ in before["hand-ins"]]
    assert [at for _, at, _ in after["hand-ins"]] == [
        at + timedelta(weeks=2) for _, at, _ in before["hand-ins"]
    ]
    assert {key: row.late_by for key, row in grace_ledger(course=course).lateness.items()} == (
        lateness
    )
    assert (after["jobs"], after["scores"], after["score changes"]) == (
        before["jobs"],
        before["scores"],
        before["score changes"],
    )
    assert "Nothing new to play" in output


def test_it_leaves_a_release_that_staff_took_back_taken_back(db):
    load_demo(as_of=AS_OF)
    item_release(item=demo_course().items.get(slug="a1"), released=False)
    load_demo(as_of=AS_OF)
    assert not demo_course().items.get(slug="a1").released


def test_it_gives_each_student_the_same_grace_days_from_their_own_ledger_as_from_the_course_s(db):
    load_demo(as_of=AS_OF + timedelta(weeks=4))
    course = demo_course()
    whole = grace_ledger(course=course)
    # Late work, and group hand-ins counting for each member: what a ledger of one could miss.
    assert any(row.late_by for row in whole.lateness.values())
    assert Submission.objects.filter(item__course=course, group__isnull=False).exists()
    for student, pool_left in whole.pool_left.items():
        own = grace_ledger(course=course, students=[student])
        assert own.pool_left == {student: pool_left}
        assert own.lateness == {
            key: row for key, row in whole.lateness.items() if key[0] == student
        }
