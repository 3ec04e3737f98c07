"""The instructor panel through the test client: every list loads, a list costs the same number
of queries however long it grows, and the staff of one course reach nothing of another."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coursesite.course_file.load import course_file_load
from coursesite.models import (
    Course,
    GradeCategory,
    GradeItem,
    Lecture,
    Role,
    Score,
    ScoreSource,
)
from coursesite.services import STAFF_APPS, score_record, staff_access_grant
from tests.conftest import EXAMPLE_COURSE, make_course, make_member

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
COURSE_MODELS = [model for model in REGISTERED if model._meta.app_label in STAFF_APPS]
ACCOUNT_MODELS = [model for model in REGISTERED if model._meta.app_label not in STAFF_APPS]
DEMO_MARKS = ("COMP441/541", "comp541-fall2024")


def labels(models: list[type[Model]]) -> list[str]:
    return [model._meta.label for model in models]


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_page(instance: Model) -> str:
    meta = instance._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])


def logged_in(user: AbstractUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


def record_scores(course: Course) -> None:
    """Two scores with two changes each, so that the score and history lists have rows."""
    item = course.items.get(slug="a1")
    for student in get_user_model().objects.filter(username__in=["student01", "student02"]):
        for points, reason in [
            (Decimal(60), "Graded by the autograder."),
            (Decimal(75), "Regrade."),
        ]:
            score_record(
                item=item,
                student=student,
                points=points,
                source=ScoreSource.AUTOGRADER,
                changed_by=None,
                reason=reason,
            )


@pytest.fixture
def demo_course(db: None) -> Course:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    record_scores(course)
    return course


@pytest.fixture
def demo_instructor(demo_course: Course) -> AbstractUser:
    return get_user_model().objects.get(username="aerdem")


@pytest.fixture
def superuser(db: None) -> AbstractUser:
    return get_user_model().objects.create_superuser(username="root", password="root-password")


def load_second_copy(tmp_path: Path) -> Course:
    """The demo course again under another slug, with the same people: every list doubles."""
    copy = tmp_path / EXAMPLE_COURSE.name
    text = EXAMPLE_COURSE.read_text(encoding="utf-8")
    copy.write_text(
        text.replace("slug: comp541-fall2024", "slug: comp541-spring2025"), encoding="utf-8"
    )
    for roster in EXAMPLE_COURSE.parent.glob("*.csv"):
        shutil.copy(roster, tmp_path / roster.name)
    # A course file names only paths inside its folder: the copy gets its own autograders and
    # starter folders.
    for folder in [
        *EXAMPLE_COURSE.parent.glob("assignments/*/bundle"),
        *EXAMPLE_COURSE.parent.glob("assignments/*/starter"),
    ]:
        shutil.copytree(folder, tmp_path / folder.relative_to(EXAMPLE_COURSE.parent))
    course, _ = course_file_load(path=copy)
    record_scores(course)
    return course


@dataclass
class OtherCourse:
    course: Course
    instructor: AbstractUser
    category: GradeCategory


@pytest.fixture
def other_course(demo_course: Course) -> OtherCourse:
    course = make_course("ml-spring2025")
    category = GradeCategory.objects.create(course=course, name="Labs", weight=Decimal(100))
    GradeItem.objects.create(
        course=course, category=category, slug="lab1", title="Lab 1", max_points=10
    )
    instructor = make_member(course, "mira", Role.INSTRUCTOR)
    staff_access_grant(user=instructor)
    return OtherCourse(course=course, instructor=instructor, category=category)


def statuses(client: Client, models: list[type[Model]]) -> dict[str, int]:
    return {model._meta.label: client.get(changelist(model)).status_code for model in models}


def test_it_lists_every_model_for_a_superuser(superuser: AbstractUser, demo_course: Course) -> None:
    assert statuses(logged_in(superuser), REGISTERED) == dict.fromkeys(labels(REGISTERED), 200)


def test_it_lists_every_course_model_for_the_demo_instructor(demo_instructor: AbstractUser) -> None:
    found = statuses(logged_in(demo_instructor), COURSE_MODELS)
    assert found == dict.fromkeys(labels(COURSE_MODELS), 200)


def test_it_keeps_the_demo_instructor_out_of_the_account_lists(
    demo_instructor: AbstractUser,
) -> None:
    found = statuses(logged_in(demo_instructor), ACCOUNT_MODELS)
    assert found == dict.fromkeys(labels(ACCOUNT_MODELS), 403)


# Session, user, the time zone of the courses the user teaches, the staff group's permissions,
# the courses the user instructs (what they may add or delete), then the page's own few queries:
# a list that runs a query per row blows through these as soon as the second course doubles its
# rows.
@pytest.mark.parametrize(("model", "most", "rows"), [(Course, 10, 2), (GradeItem, 11, 50)])
def test_it_lists_courses_and_grade_items_in_a_fixed_number_of_queries(
    model: type[Model],
    most: int,
    rows: int,
    demo_instructor: AbstractUser,
    tmp_path: Path,
    django_assert_max_num_queries,
) -> None:
    load_second_copy(tmp_path)
    client = logged_in(demo_instructor)
    with django_assert_max_num_queries(most):
        response = client.get(changelist(model))
    assert response.context["cl"].result_count == rows


def test_it_keeps_every_list_s_query_count_as_the_courses_grow(
    superuser: AbstractUser, demo_course: Course, tmp_path: Path
) -> None:
    client = logged_in(superuser)

    def query_counts() -> dict[str, int]:
        counts = {}
        for model in REGISTERED:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(changelist(model)).status_code == 200
            counts[model._meta.label] = len(queries)
        return counts

    before = query_counts()
    load_second_copy(tmp_path)
    after = query_counts()
    grown = {
        label: (before[label], after[label]) for label in before if after[label] > before[label]
    }
    assert grown == {}


def test_it_lists_no_demo_row_to_another_course_s_instructor(
    demo_course: Course, other_course: OtherCourse
) -> None:
    client = logged_in(other_course.instructor)
    leaks = {}
    for model in COURSE_MODELS:
        response = client.get(changelist(model))
        assert response.status_code == 200
        course_path = admin.site.get_model_admin(model).course_path
        rows = response.context["cl"].queryset.filter(**{course_path: demo_course.pk}).count()
        page = response.content.decode()
        shown = [mark for mark in DEMO_MARKS if mark in page]
        if rows or shown:
            leaks[model._meta.label] = (rows, shown)
    assert leaks == {}


def test_it_sends_another_course_s_instructor_away_from_demo_rows(
    demo_course: Course, other_course: OtherCourse
) -> None:
    client = logged_in(other_course.instructor)
    demo_rows = [
        demo_course,
        demo_course.categories.first(),
        demo_course.items.first(),
        demo_course.memberships.first(),
        Lecture.objects.filter(course=demo_course).first(),
        Score.objects.filter(item__course=demo_course).first(),
    ]
    reached = {}
    for row in demo_rows:
        response = client.get(change_page(row))
        # The panel answers a row outside the user's courses as if it did not exist.
        if response.status_code != 404 and response.get("Location") != reverse("admin:index"):
            reached[row._meta.label] = response.status_code
    assert reached == {}


def test_it_offers_an_instructor_only_their_own_categories_for_a_grade_item(
    demo_course: Course, other_course: OtherCourse
) -> None:
    client = logged_in(other_course.instructor)
    form = client.get(reverse("admin:coursesite_gradeitem_add")).context["adminform"].form
    assert list(form.fields["category"].queryset) == [other_course.category]
    assert list(form.fields["course"].queryset) == [other_course.course]

    demo_category = demo_course.categories.get(name="Programming Assignments")
    response = client.post(
        reverse("admin:coursesite_gradeitem_add"),
        {
            "course": other_course.course.pk,
            "category": demo_category.pk,
            "slug": "sneaky",
            "title": "Sneaky",
            "max_points": "10",
            "position": "0",
        },
    )
    assert response.status_code == 200
    assert "category" in response.context["adminform"].form.errors
    assert not GradeItem.objects.filter(slug="sneaky").exists()


def test_it_refuses_another_course_s_instructor_a_score_on_a_demo_item(
    demo_course: Course, other_course: OtherCourse
) -> None:
    response = logged_in(other_course.instructor).post(
        reverse("admin:coursesite_score_add"),
        {
            "item": demo_course.items.get(slug="a2").pk,
            "student": get_user_model().objects.get(username="student01").pk,
            "points": "100",
            "comment": "",
            "reason": "Generous.",
        },
    )

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) >= {"item", "student"}
    assert not Score.objects.filter(item__slug="a2").exists()


def test_it_opens_a_course_with_its_inlines_in_a_bounded_number_of_queries(
    client: Client,
    demo_course: Course,
    demo_instructor: AbstractUser,
    django_assert_max_num_queries,
) -> None:
    # 15 members, 7 categories, 25 items and 44 meetings: a query per row would be hundreds.
    client.force_login(demo_instructor)
    with django_assert_max_num_queries(31):
        page = client.get(f"/admin/coursesite/course/{demo_course.pk}/change/")
    assert page.status_code == 200
    assert b"student12" in page.content
