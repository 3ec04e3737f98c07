"""The gradebook in the instructor panel: a Score's student picked by name from the course's
students, and grade items released and hidden again by an action."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractUser
from django.urls import reverse

from coursesite.models import GradeCategory, GradeItem, Role, Score, ScoreSource
from coursesite.services import staff_access_grant
from tests.conftest import Personas, make_member
from tests.coursesite.test_pages import logged_in

SCORE_ADD = reverse("admin:coursesite_score_add")
ITEMS = reverse("admin:coursesite_gradeitem_changelist")


@pytest.fixture
def panel(personas: Personas) -> Personas:
    for user in (personas.alice, personas.bob):
        staff_access_grant(user=user)
    type(personas.carol).objects.filter(pk=personas.carol.pk).update(
        first_name="Carol", last_name="Kaya"
    )
    make_member(personas.course, "erin", Role.STUDENT)
    return personas


def other_instructor(personas: Personas) -> AbstractUser:
    mira = make_member(personas.other_course, "mira", Role.INSTRUCTOR)
    staff_access_grant(user=mira)
    return mira


def test_it_offers_the_course_s_students_by_name_and_nobody_else(panel):
    form = logged_in(panel.bob).get(SCORE_ADD).context["adminform"].form
    choices = [(label, value) for value, label in form.fields["student"].choices if value]
    assert [label for label, _ in choices] == ["erin", "Kaya, Carol (carol)"]
    html = logged_in(panel.bob).get(SCORE_ADD).content.decode()
    assert '<select name="student"' in html and "vForeignKeyRawIdAdminField" not in html


def test_it_records_a_score_for_a_student_picked_from_the_list(panel):
    response = logged_in(panel.alice).post(
        SCORE_ADD,
        {
            "item": panel.quiz.pk,
            "student": panel.carol.pk,
            "points": "7",
            "comment": "",
            "reason": "Paper quiz, entered by hand.",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    score = Score.objects.get(item=panel.quiz, student=panel.carol)
    assert (score.points, score.source) == (Decimal(7), ScoreSource.MANUAL)
    assert score.changes.get().reason == "Paper quiz, entered by hand."


def test_it_offers_another_course_s_instructor_only_their_own_students(panel):
    form = logged_in(other_instructor(panel)).get(SCORE_ADD).context["adminform"].form
    assert [label for value, label in form.fields["student"].choices if value] == ["dave"]


def run_action(user: AbstractUser, action: str, items: list[GradeItem]):
    return logged_in(user).post(
        ITEMS, {"action": action, "_selected_action": [item.pk for item in items]}, follow=True
    )


def test_it_releases_and_unreleases_items_with_the_actions(panel):
    response = run_action(panel.bob, "release_scores", [panel.quiz])
    panel.quiz.refresh_from_db()
    assert panel.quiz.released and panel.quiz.released_at is not None
    assert "Scores released to their students: Quiz." in response.content.decode()

    run_action(panel.bob, "unrelease_scores", [panel.quiz])
    panel.quiz.refresh_from_db()
    assert not panel.quiz.released


def test_it_releases_no_item_of_a_course_the_user_does_not_run(panel):
    labs = GradeCategory.objects.create(course=panel.other_course, name="Labs", weight=Decimal(100))
    GradeItem.objects.create(
        course=panel.other_course, category=labs, slug="lab1", title="Lab 1", max_points=10
    )
    run_action(other_instructor(panel), "release_scores", [panel.quiz])
    panel.quiz.refresh_from_db()
    assert not panel.quiz.released
