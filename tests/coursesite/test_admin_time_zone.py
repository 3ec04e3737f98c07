"""The instructor panel shows every date and time in the time zone of the staff member's course,
and names the zone in its header; a time typed into a form is read in that zone too.

The personas' course is in Istanbul (UTC+3), its quiz due 23:59 there, 20:59 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from coursesite.middleware import PanelTimeZoneMiddleware
from coursesite.models import Course, GradeItem, Membership, Role
from coursesite.services import staff_access_grant
from tests.conftest import Personas


def panel(user: AbstractUser) -> Client:
    staff_access_grant(user=user)  # type: ignore[arg-type]
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    return unescape(answer.content.decode())


def course_in(zone: str, *, slug: str, starts_on: date) -> Course:
    course = Course(
        slug=slug,
        code="COMP541",
        title="Deep Learning",
        term=slug,
        time_zone=zone,
        starts_on=starts_on,
        ends_on=date(starts_on.year + 1, 1, 31),
    )
    course.full_clean()
    course.save()
    return course


def change_form(item: GradeItem) -> str:
    return reverse("admin:coursesite_gradeitem_change", args=[item.pk])


def test_it_shows_a_due_time_in_the_course_time_zone_in_the_change_form(personas: Personas):
    shown = page(panel(personas.alice), change_form(personas.quiz))
    assert 'name="due_at_0" value="2024-10-09"' in shown
    assert 'name="due_at_1" value="23:59:00"' in shown


def test_it_shows_a_due_time_in_the_course_time_zone_in_the_list(personas: Personas):
    shown = page(panel(personas.bob), reverse("admin:coursesite_gradeitem_changelist"))
    assert "Oct. 9, 2024, 11:59 p.m." in shown
    assert "8:59 p.m." not in shown


def test_it_names_the_zone_in_the_panels_header(personas: Personas):
    shown = page(panel(personas.alice), reverse("admin:index"))
    assert '<div id="panel-zone">Times in Europe/Istanbul</div>' in shown


def test_it_reads_a_time_typed_into_a_form_in_the_course_time_zone(personas: Personas):
    client = panel(personas.alice)
    url = change_form(personas.quiz)
    form = FormFields()
    form.feed(page(client, url))
    assert form.values["due_at_1"] == "23:59:00"
    form.values["due_at_1"] = "22:00:00"
    answer = client.post(url, form.values)
    assert answer.status_code == 302, answer.content.decode()
    personas.quiz.refresh_from_db()
    assert personas.quiz.due_at == datetime(2024, 10, 9, 19, 0, tzinfo=UTC)


def test_it_uses_the_first_course_by_start_date_of_a_teacher_of_several_zones(
    personas: Personas,
):
    earlier = course_in("America/New_York", slug="summer-2024", starts_on=date(2024, 6, 3))
    later = course_in("Asia/Tokyo", slug="spring-2025", starts_on=date(2025, 2, 10))
    Membership.objects.create(course=earlier, user=personas.alice, role=Role.TA)
    Membership.objects.create(course=later, user=personas.alice, role=Role.INSTRUCTOR)
    shown = page(panel(personas.alice), reverse("admin:index"))
    assert "Times in America/New_York" in shown


def test_it_ignores_the_courses_a_staff_member_takes_as_a_student(personas: Personas):
    taken = course_in("America/New_York", slug="summer-2024", starts_on=date(2024, 6, 3))
    Membership.objects.create(course=taken, user=personas.bob, role=Role.STUDENT)
    shown = page(panel(personas.bob), reverse("admin:index"))
    assert "Times in Europe/Istanbul" in shown


def test_it_gives_a_superuser_without_a_course_the_latest_courses_zone(personas: Personas):
    course_in("Asia/Tokyo", slug="spring-2025", starts_on=date(2025, 2, 10))
    course_in("America/New_York", slug="summer-2024", starts_on=date(2024, 6, 3))
    root = get_user_model().objects.create_superuser("root", password="secret-password")
    client = Client()
    client.force_login(root)
    assert "Times in Asia/Tokyo" in page(client, reverse("admin:index"))


def test_it_keeps_the_servers_zone_for_staff_who_teach_no_course(db: None):
    user = get_user_model().objects.create_user("helper", password="secret-password")
    shown = page(panel(user), reverse("admin:index"))
    assert "Times in UTC" in shown


def zone_seen(user: AbstractUser | AnonymousUser, path: str) -> str:
    """The time zone a view behind the middleware works in, for ``user`` asking for ``path``."""
    seen = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get(path)
    request.user = user
    PanelTimeZoneMiddleware(view)(request)
    return seen[0]


def test_it_activates_the_zone_only_for_the_panel(personas: Personas):
    staff_access_grant(user=personas.bob)  # type: ignore[arg-type]
    assert zone_seen(personas.bob, "/admin/coursesite/gradeitem/") == "Europe/Istanbul"
    assert zone_seen(personas.bob, "/courses/dl-fall2024/") == "UTC"
    assert zone_seen(personas.bob, "/api/v1/courses/") == "UTC"


def test_it_activates_no_zone_for_a_student_or_a_visitor(personas: Personas):
    assert zone_seen(personas.carol, "/admin/") == "UTC"
    assert zone_seen(AnonymousUser(), "/admin/login/") == "UTC"


def test_it_leaves_the_zone_as_it_was_after_a_panel_page(personas: Personas):
    staff_access_grant(user=personas.alice)  # type: ignore[arg-type]
    zone_seen(personas.alice, "/admin/")
    assert timezone.get_current_timezone_name() == "UTC"


class FormFields(HTMLParser):
    """What a browser would post from a page's form: its fields with their current values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name:
            if attributes.get("type") in {"checkbox", "radio"} and "checked" not in attributes:
                return
            if attributes.get("type") not in {"submit", "button", "file"}:
                self.values[name] = attributes.get("value") or ""
        elif tag == "select" and name:
            self.select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attributes:
            self.values[self.select] = attributes.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data.removeprefix("\n")
