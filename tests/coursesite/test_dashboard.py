"""A student's dashboard on the course page and the next deadlines on their list of courses:
the week's meetings, deadlines with countdowns and hand-in states, grace days, grades so far, the
quiz required to pass and the student's presentation slots, each from the app that knows it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from coursesite.dashboard import Outlook, countdown, meeting_week
from coursesite.models import (
    Course,
    CourseEvent,
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupMembership,
    Lecture,
    LectureKind,
    ProjectGroup,
    Role,
    ScoreSource,
)
from coursesite.services import score_record
from presentations.models import Paper
from quizzes.models import Attempt, Quiz
from submissions.models import Assignment, Deliverable, Extension, Submission
from tests.conftest import Personas, make_member
from tests.coursesite.test_pages import logged_in, page_text
from tests.presentations.conftest import paper, review_item, slot, submitted

ISTANBUL = ZoneInfo("Europe/Istanbul")
# Rendering takes far less than this: a countdown to "now + days + hours + SLACK" reads whole
# hours on the page.
SLACK = timedelta(seconds=30)


@dataclass
class Semester:
    personas: Personas
    carol: User
    erin: User
    now: datetime
    a0: Assignment
    a1: Assignment
    a2: Assignment
    extended: Assignment
    proposal: Deliverable
    quiz: Quiz
    alexnet: Paper

    @property
    def course(self) -> Course:
        return self.personas.course

    @property
    def url(self) -> str:
        return f"/courses/{self.course.slug}/"


def assignment(
    course: Course, slug: str, due_at: datetime, opens_at: datetime | None = None
) -> Assignment:
    category, _ = GradeCategory.objects.get_or_create(
        course=course, name="Assignments", defaults={"weight": Decimal(50), "position": 1}
    )
    item = GradeItem.objects.create(
        course=course, category=category, slug=slug, title=slug.upper(), max_points=100,
        opens_at=opens_at, due_at=due_at, uses_grace_days=True,
    )  # fmt: skip
    return Assignment.objects.create(item=item, handin_files=["mlp.py"])


def hand_in(
    item: GradeItem, at: datetime, by: User, group: ProjectGroup | None = None
) -> Submission:
    """``by``'s hand-in, or their group's."""
    return Submission.objects.create(
        item=item, student=None if group else by, group=group, submitted_by=by, submitted_at=at,
        file=f"handins/{item.slug}.zip", filename="handin.zip", sha256="0" * 64, size=100,
        kind="zip",
    )  # fmt: skip


def meeting(course: Course, week: int, day: date, topic: str) -> Lecture:
    return Lecture.objects.create(
        course=course, week=week, date=day, starts_at=time(16, 0), ends_at=time(17, 10),
        room="SOS 103", kind=LectureKind.LECTURE, topic=topic,
    )  # fmt: skip


@pytest.fixture
def semester(personas: Personas) -> Semester:
    """Carol's course, now: a meeting tomorrow (week 5) and one in three weeks (week 8); A0 due
    ten days ago, handed in two days late, graded and released; A1 due in 2 days 4 hours and
    handed in; A2 open now and due in 30 days; A3 due in 40 days and not open yet; A-ext due
    yesterday, extended for Carol to 3 days from now; a group proposal due in 5 days that Erin
    handed in; a quiz due tomorrow not taken; the self-assessment quiz required to pass, passed
    with 7 of 10; a paper review due in 6 days, submitted; Carol presents AlexNet with Frank."""
    course, now = personas.course, timezone.now()
    carol, alice = cast(User, personas.carol), cast(User, personas.alice)
    erin = cast(User, make_member(course, "erin", Role.STUDENT))
    frank = cast(User, make_member(course, "frank", Role.STUDENT))
    frank.first_name, frank.last_name = "Frank", "Kaya"
    frank.save(update_fields=["first_name", "last_name"])
    GracePolicy.objects.create(course=course, pool_days=3)

    tomorrow = (now + timedelta(days=1)).astimezone(ISTANBUL).date()
    meeting(course, 5, tomorrow, "Convolutional Networks")
    meeting(course, 8, tomorrow + timedelta(days=21), "Transformers")
    CourseEvent.objects.create(course=course, week=5, title="A1 in", date=tomorrow)

    a0 = assignment(course, "a0", now - timedelta(days=10))
    hand_in(a0.item, now - timedelta(days=8, hours=1), carol)
    score_record(
        item=a0.item, student=carol, points=Decimal(80), source=ScoreSource.MANUAL,
        changed_by=alice, reason="graded",
    )  # fmt: skip
    GradeItem.objects.filter(pk=a0.item.pk).update(released=True, released_at=now)
    a1 = assignment(course, "a1", now + timedelta(days=2, hours=4) + SLACK, now - timedelta(days=3))
    hand_in(a1.item, now - timedelta(hours=1), carol)
    a2 = assignment(course, "a2", now + timedelta(days=30), now - timedelta(days=1))
    assignment(course, "a3", now + timedelta(days=40), now + timedelta(days=10))
    extended = assignment(course, "a-ext", now - timedelta(days=1))
    Extension.objects.create(
        item=extended.item, student=carol, due_at=now + timedelta(days=3), reason="illness",
        granted_by=alice, granted_at=now - timedelta(days=2),
    )  # fmt: skip

    projects = GradeCategory.objects.create(course=course, name="Project", weight=Decimal(20))
    proposal_item = GradeItem.objects.create(
        course=course, category=projects, slug="proposal", title="Project proposal",
        max_points=100, due_at=now + timedelta(days=5),
    )  # fmt: skip
    proposal = Deliverable.objects.create(item=proposal_item, handin_files=["proposal.pdf"])
    group = ProjectGroup.objects.create(course=course, name="Neurons")
    for student in (carol, erin):
        GroupMembership.objects.create(course=course, group=group, student=student)
    hand_in(proposal_item, now - timedelta(hours=2), erin, group)

    required = personas.quiz
    GradeItem.objects.filter(pk=required.pk).update(required_to_pass=True, pass_mark=6)
    self_assessment = Quiz.objects.create(item=required, attempts_allowed=2)
    Attempt.objects.create(
        quiz=self_assessment, student=carol, number=1, started_at=now - timedelta(days=20),
        deadline_at=now - timedelta(days=19), submitted_at=now - timedelta(days=20),
        points=Decimal(7),
    )  # fmt: skip
    quiz_item = GradeItem.objects.create(
        course=course, category=required.category, slug="quiz-2", title="Quiz 2",
        max_points=10, opens_at=now - timedelta(hours=1), due_at=now + timedelta(days=1),
    )  # fmt: skip
    quiz = Quiz.objects.create(item=quiz_item)

    alexnet = paper(course, "alexnet", 5, review_item(course, "review-w05", now + timedelta(6)))
    submitted(alexnet, carol, now)
    slot(alexnet, tomorrow, {"overview": [carol, frank]})
    return Semester(personas, carol, erin, now, a0, a1, a2, extended, proposal, quiz, alexnet)


def section(text: str, heading: str, next_heading: str) -> str:
    return text[text.index(heading) : text.index(next_heading, text.index(heading))]


def test_it_shows_a_student_the_meetings_of_the_week_and_its_events(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    week = section(text, "week 5", "Upcoming deadlines")
    assert "16:00\N{EN DASH}17:10 Lecture: Convolutional Networks · SOS 103" in week
    assert "A1 in" in week
    assert "Transformers" not in week


def test_it_lists_the_deadlines_ahead_soonest_first_with_the_students_own_due_dates(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    deadlines = section(text, "Upcoming deadlines", "Grace days")
    titles = re.findall(
        r"(Quiz 2|A1|A-EXT|Project proposal|Review of The alexnet paper|A2) ", deadlines
    )
    # A2 is due in 30 days but open now; A0 is past, A3 not open yet and far away.
    assert titles == [
        "Quiz 2",
        "A1",
        "A-EXT",
        "Project proposal",
        "Review of The alexnet paper",
        "A2",
    ]
    assert "A0" not in deadlines and "A3" not in deadlines
    extended_to = (semester.now + timedelta(days=3)).astimezone(ISTANBUL)
    assert f"A-EXT assignment not handed in yet due {extended_to:%a} " in deadlines
    assert f"{extended_to:%H:%M} (Europe/Istanbul)" in deadlines


def test_it_says_whether_each_deadline_is_handed_in_or_taken(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    assert "Quiz 2 quiz not taken yet" in text
    assert "A1 assignment handed in" in text
    # Erin handed in the group's proposal: it is Carol's too.
    assert "Project proposal project deliverable handed in" in text
    assert "Review of The alexnet paper paper review submitted" in text
    assert "A2 assignment not handed in yet" in text


def test_it_links_each_deadline_to_its_page(semester):
    html = logged_in(semester.carol).get(semester.url).content.decode()
    slug = semester.course.slug
    assert f'href="{reverse("assignment", args=[slug, semester.a1.pk])}">A1</a>' in html
    assert f'href="{reverse("deliverable", args=[slug, semester.proposal.pk])}"' in html
    assert f'href="{reverse("quiz", args=[slug, "quiz-2"])}">Quiz 2</a>' in html
    assert f'href="{reverse("review", args=[slug, "alexnet"])}"' in html


def test_it_renders_a_countdown_with_the_deadline_for_the_script(semester):
    answer = logged_in(semester.carol).get(semester.url)
    html = answer.content.decode()
    due = semester.a1.item.due_at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<span class="countdown" data-deadline="{due}">in 2 days 4 hours</span>' in html
    assert 'src="/static/coursesite/countdown.js" defer' in html
    assert "<script>" not in html and "style=" not in html


def test_it_shows_the_grace_days_left(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    grace = section(text, "Grace days", "Grades so far")
    assert "Left 1 of 3 Used on A0: 2 days." in grace


def test_it_shows_released_scores_the_current_total_and_work_waiting_for_a_grade(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    grades = section(text, "Grades so far", "Required to pass")
    assert "80.00% current total" in grades
    assert "A0: 80 of 100" in grades
    # Handed in (the review is submitted) and not graded or not released yet.
    assert "Waiting for a grade: Paper review (review-w05), Project proposal, A1." in grades


def test_it_shows_whether_the_required_quiz_is_passed(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    assert "Required to pass Quiz: passed with 7 of 10 points" in text


def test_it_shows_a_required_quiz_not_taken_yet(semester):
    Attempt.objects.filter(student=semester.carol).delete()
    text = page_text(logged_in(semester.carol).get(semester.url))
    assert "Required to pass Quiz: not taken: the quiz is closed" in text


def test_it_shows_a_required_quiz_not_passed_with_the_attempts_left(semester):
    Attempt.objects.filter(student=semester.carol).update(points=Decimal(5))
    GradeItem.objects.filter(pk=semester.personas.quiz.pk).update(
        due_at=semester.now + timedelta(days=1)
    )
    text = page_text(logged_in(semester.carol).get(semester.url))
    assert "Quiz: not passed yet: 5 of 10 points; 1 attempt left" in text


def test_it_shows_the_students_presentation_slots(semester):
    text = page_text(logged_in(semester.carol).get(semester.url))
    mine = section(text, "My presentations", "Paper presentations")
    assert "Overview (14 min): The alexnet paper With Frank Kaya." in mine


def test_it_shows_the_next_two_deadlines_on_the_students_courses(semester):
    text = page_text(logged_in(semester.carol).get("/"))
    assert "Next deadlines Quiz 2 quiz not taken yet" in text
    assert "A1 assignment handed in" in text and "in 2 days 4 hours" in text
    assert "A-EXT" not in text


def test_it_shows_staff_the_course_page_without_a_dashboard(semester):
    text = page_text(logged_in(semester.personas.alice).get(semester.url))
    assert "Upcoming deadlines" not in text and "Grades so far" not in text
    assert "Gradebook" in text


def test_it_links_staff_to_the_grading_queue_once_it_exists(semester):
    html = logged_in(semester.personas.alice).get(semester.url).content.decode()
    try:
        queue = reverse("grading-queue", args=[semester.course.slug])
    except NoReverseMatch:
        assert "Grading queue" not in html
    else:
        assert f'href="{queue}">Grading queue</a>' in html


def test_it_shows_nothing_of_another_students_work(semester):
    # Erin shares the group's proposal, but not Carol's A1, her grace days or her slot.
    text = page_text(logged_in(semester.erin).get(semester.url))
    assert "A1 assignment not handed in yet" in text
    assert "Project proposal project deliverable handed in" in text
    assert "Left 3 of 3" in text
    assert "You hold no presentation role yet." in text


def test_it_reads_the_dashboard_in_queries_that_do_not_grow_with_the_course(semester):
    client = logged_in(semester.carol)
    with CaptureQueriesContext(connection) as before:
        assert client.get(semester.url).status_code == 200
    course = semester.course
    for number in range(5):
        student = cast(User, make_member(course, f"student{number}", Role.STUDENT))
        extra = assignment(course, f"b{number}", semester.now + timedelta(days=number + 1))
        hand_in(extra.item, semester.now, student)
        hand_in(extra.item, semester.now, semester.carol)
        Quiz.objects.create(
            item=GradeItem.objects.create(
                course=course,
                category=extra.item.category,
                slug=f"q{number}",
                title=f"Q{number}",
                max_points=10,
                due_at=semester.now + timedelta(days=2),
            )
        )
    with CaptureQueriesContext(connection) as after:
        assert "B4" in page_text(client.get(semester.url))
    assert len(after.captured_queries) == len(before.captured_queries)


# The rules, as pure functions.

NOW = datetime(2024, 10, 16, 12, 0, tzinfo=ISTANBUL)  # a Wednesday


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(days=2, hours=4, minutes=59), "in 2 days 4 hours"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=3, minutes=5), "in 3 days"),
        (timedelta(hours=1, minutes=1), "in 1 hour 1 minute"),
        (timedelta(minutes=29, seconds=59), "in 29 minutes 59 seconds"),
        (timedelta(minutes=2), "in 2 minutes"),
        (timedelta(seconds=1), "in 1 second"),
        (timedelta(0), "due now"),
        (timedelta(seconds=-5), "due now"),
    ],
)
def test_it_words_a_countdown_in_its_two_largest_units(left, words):
    assert countdown(NOW + left, NOW) == words


def test_it_shows_a_deadline_due_soon_or_open_now_but_never_a_past_one(personas):
    outlook = Outlook(personas.course, cast(User, personas.carol), NOW)
    assert outlook.shows(due_at=NOW + timedelta(days=14))
    assert not outlook.shows(due_at=NOW + timedelta(days=14, seconds=1))
    assert outlook.shows(due_at=NOW + timedelta(days=30), opens_at=NOW - timedelta(days=1))
    assert not outlook.shows(due_at=NOW + timedelta(days=30), opens_at=NOW + timedelta(days=1))
    assert not outlook.shows(due_at=NOW - timedelta(seconds=1), opens_at=NOW - timedelta(days=3))
    assert not outlook.shows(due_at=None)


@pytest.fixture
def weeks(personas: Personas) -> Course:
    """Week 2 meets on Tue 15 and Fri 18 Oct 2024; week 3 on Tue 22; week 5 on Tue 5 Nov."""
    course = personas.course
    meeting(course, 2, date(2024, 10, 15), "Week two, Tuesday")
    meeting(course, 2, date(2024, 10, 18), "Week two, Friday")
    meeting(course, 3, date(2024, 10, 22), "Week three")
    meeting(course, 5, date(2024, 11, 5), "Week five")
    return course


def test_it_shows_this_weeks_meetings_while_one_is_still_to_come(weeks):
    week = meeting_week(weeks, NOW)
    assert week is not None and (week.number, week.label) == (2, "This week")
    assert [(m.topic, over) for m, over in week.meetings] == [
        ("Week two, Tuesday", True),
        ("Week two, Friday", False),
    ]


def test_it_shows_next_weeks_meetings_once_this_weeks_are_over(weeks):
    saturday = datetime(2024, 10, 19, 9, 0, tzinfo=ISTANBUL)
    week = meeting_week(weeks, saturday)
    assert week is not None and (week.number, week.label) == (3, "Next week")


def test_it_names_the_week_of_meetings_after_a_break(weeks):
    after_week_three = datetime(2024, 10, 23, 9, 0, tzinfo=ISTANBUL)
    week = meeting_week(weeks, after_week_three)
    assert week is not None and (week.number, week.label) == (5, "Week 5")


def test_it_counts_a_meeting_over_on_the_courses_wall_clock(weeks):
    # Friday 17:10 in Istanbul is 14:10 UTC: at 14:11 UTC the Friday meeting is over.
    just_after = datetime(2024, 10, 18, 14, 11, tzinfo=ZoneInfo("UTC"))
    week = meeting_week(weeks, just_after)
    assert week is not None and week.number == 3


def test_it_shows_no_week_after_the_last_meeting(weeks):
    assert meeting_week(weeks, datetime(2024, 12, 1, tzinfo=ISTANBUL)) is None
