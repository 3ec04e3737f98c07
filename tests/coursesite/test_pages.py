"""The course pages of the web site: logging in and out, the caller's courses, the syllabus."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from html.parser import HTMLParser
from typing import Protocol, cast

import pytest
from django.contrib.auth.models import AbstractBaseUser, User
from django.test import Client

from coursesite.models import CourseEvent, GracePolicy, GradeCategory, Lecture, LectureKind
from tests.conftest import Personas

# The course page in a fixed number of queries: session, user, membership with its course, then
# the course with its grace policy, meetings, events with their items, categories, items; then
# the student's dashboard: hand-ins, grace-day ledger, quizzes, papers, presentations and the
# gradebook.
COURSE_PAGE_QUERIES = 35


BLOCKS = {
    "p", "div", "li", "dt", "dd", "td", "th", "tr", "br", "h1", "h2", "h3", "caption", "section",
    "article", "nav", "header", "main", "form", "label", "button", "option",
}  # fmt: skip
HIDDEN = {"script", "style", "title"}


class Page(Protocol):
    content: bytes


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden += tag in HIDDEN
        if tag in BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in HIDDEN
        if tag in BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def page_text(response: Page) -> str:
    """What a reader of the page sees, block by block, with runs of white space made one space."""
    parser = _Text()
    parser.feed(response.content.decode())
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def logged_in(user: AbstractBaseUser) -> Client:
    client = Client()
    # The personas are typed by their base class; the site's user model is User.
    client.force_login(cast(User, user))
    return client


@pytest.fixture
def syllabus(personas: Personas) -> Personas:
    course = personas.course
    GracePolicy.objects.create(course=course, pool_days=7)
    Lecture.objects.create(
        course=course, week=1, date=date(2024, 10, 8), starts_at=time(16, 0),
        ends_at=time(17, 10), room="SOS 103", kind=LectureKind.LECTURE,
        topic="Introduction to Deep Learning",
    )  # fmt: skip
    Lecture.objects.create(
        course=course, week=2, date=date(2024, 10, 18), starts_at=time(14, 30),
        ends_at=time(15, 40), room="SOS 103", kind=LectureKind.PROBLEM_SESSION,
        topic="Machine Learning Overview",
    )  # fmt: skip
    CourseEvent.objects.create(
        course=course, week=1, title="Self-Assessment Quiz (Theory)", item=personas.quiz
    )
    projects = GradeCategory.objects.create(
        course=course, name="Course Project", weight=Decimal("36"), position=1
    )
    projects.items.create(
        course=course, slug="proposal", title="Project proposal", max_points=100,
        weight=Decimal("2"),
    )  # fmt: skip
    return personas


def test_it_sends_an_anonymous_visitor_of_the_courses_to_the_login_page(personas):
    answer = Client().get("/")
    assert (answer.status_code, answer["Location"]) == (302, "/accounts/login/?next=/")


def test_it_sends_an_anonymous_visitor_of_a_course_to_the_login_page(personas):
    answer = Client().get(f"/courses/{personas.course.slug}/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/accounts/login/?next=/courses/{personas.course.slug}/"


def test_it_logs_in_through_the_form_and_lands_on_the_courses(personas):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    answer = client.post("/accounts/login/", {"username": "carol", "password": "secret-password"})
    assert (answer.status_code, answer["Location"]) == (302, "/")
    assert client.get("/").status_code == 200


def test_it_refuses_a_wrong_password_on_the_login_form(personas):
    answer = Client().post("/accounts/login/", {"username": "carol", "password": "wrong"})
    assert answer.status_code == 200
    assert "Please enter a correct username and password" in page_text(answer)


def test_it_logs_out_with_a_post_and_forgets_the_session(personas):
    client = logged_in(personas.carol)
    answer = client.post("/accounts/logout/")
    assert (answer.status_code, answer["Location"]) == (302, "/accounts/login/")
    assert client.get("/").status_code == 302


def test_it_lists_the_users_courses_with_their_role_and_nothing_else(personas):
    answer = logged_in(personas.bob).get("/")
    assert "COMP541 Deep Learning Fall 2024 · Teaching assistant" in page_text(answer)
    assert f'href="/courses/{personas.course.slug}/"' in answer.content.decode()
    assert f'href="/courses/{personas.other_course.slug}/"' not in answer.content.decode()


def test_it_shows_due_dates_in_the_course_time_zone_and_names_the_zone(syllabus):
    text = page_text(logged_in(syllabus.carol).get(f"/courses/{syllabus.course.slug}/"))
    # 23:59 in Istanbul is 20:59 UTC: the page must show the course's wall clock.
    assert "Wed 9 Oct 2024, 23:59 (Europe/Istanbul)" in text
    assert "20:59" not in text


def test_it_shows_the_grade_categories_with_their_weights(syllabus):
    text = page_text(logged_in(syllabus.carol).get(f"/courses/{syllabus.course.slug}/"))
    assert "Quizzes 100%" in text
    assert "Course Project 36%" in text
    assert "Project proposal 100 2%" in text


def test_it_shows_the_schedule_week_by_week_with_meetings_and_events(syllabus):
    text = page_text(logged_in(syllabus.carol).get(f"/courses/{syllabus.course.slug}/"))
    week_1 = text[text.index("Week 1") : text.index("Week 2")]
    lecture = "Tue 8 Oct 2024 16:00\N{EN DASH}17:10 Lecture Introduction to Deep Learning SOS 103"
    assert lecture in week_1
    assert "Self-Assessment Quiz (Theory) — due Wed 9 Oct 2024, 23:59" in week_1
    week_2 = text[text.index("Week 2") :]
    session = "Fri 18 Oct 2024 14:30\N{EN DASH}15:40 Problem session Machine Learning Overview"
    assert session in week_2


def test_it_links_a_student_to_their_work_page_and_not_to_staff_pages(syllabus):
    html = logged_in(syllabus.carol).get(f"/courses/{syllabus.course.slug}/").content.decode()
    assert f'href="/courses/{syllabus.course.slug}/work/"' in html
    assert "grace-days/" not in html and 'href="/admin/"' not in html


def test_it_links_staff_to_the_grace_day_table_and_the_panel(syllabus):
    html = logged_in(syllabus.alice).get(f"/courses/{syllabus.course.slug}/").content.decode()
    assert f'href="/courses/{syllabus.course.slug}/grace-days/"' in html
    assert 'href="/admin/"' in html


def test_it_answers_404_to_a_student_of_another_course(personas):
    assert logged_in(personas.dave).get(f"/courses/{personas.course.slug}/").status_code == 404


def test_it_answers_404_for_a_course_that_does_not_exist(personas):
    assert logged_in(personas.carol).get("/courses/no-such-course/").status_code == 404


def test_it_reads_the_course_page_in_a_fixed_number_of_queries(syllabus, django_assert_num_queries):
    client = logged_in(syllabus.carol)
    with django_assert_num_queries(COURSE_PAGE_QUERIES):
        assert client.get(f"/courses/{syllabus.course.slug}/").status_code == 200
