"""Per-role permissions in the instructor panel and the API: only an instructor of the course
changes roles, adds or removes people, edits the grade structure's weights and uploads
autograders; a TA keeps everything else staff do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from coursesite.models import GradeCategory, Membership, Role
from coursesite.services import staff_access_grant
from tests.conftest import Personas, make_member


def page(instance: Model, action: str = "change") -> str:
    meta = instance._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=[instance.pk])


def panel(user: AbstractUser) -> Client:
    staff_access_grant(user=user)  # type: ignore[arg-type]
    client = Client()
    client.force_login(user)
    return client


def membership_form(membership: Membership, **changes: Any) -> dict[str, Any]:
    form = {
        "user": membership.user_id,
        "course": membership.course_id,
        "role": membership.role,
        "section": membership.section,
        "sis_user_id": membership.sis_user_id,
        "sis_login_id": membership.sis_login_id,
    }
    form.update(changes)
    return form


@pytest.fixture
def ta_panel(personas: Personas) -> Client:
    panel(personas.alice)
    return panel(personas.bob)


def role_of(user: AbstractUser, personas: Personas) -> str:
    return Membership.objects.get(course=personas.course, user=user).role


def test_a_ta_cannot_make_themselves_instructor(personas: Personas, ta_panel: Client) -> None:
    own = Membership.objects.get(course=personas.course, user=personas.bob)
    ta_panel.post(page(own), membership_form(own, role=Role.INSTRUCTOR))
    assert role_of(personas.bob, personas) == Role.TA


def test_a_ta_cannot_make_a_student_ta(personas: Personas, ta_panel: Client) -> None:
    carol = Membership.objects.get(course=personas.course, user=personas.carol)
    ta_panel.post(page(carol), membership_form(carol, role=Role.TA))
    assert role_of(personas.carol, personas) == Role.STUDENT


def test_a_ta_may_not_delete_the_instructors_membership(
    personas: Personas, ta_panel: Client
) -> None:
    alice = Membership.objects.get(course=personas.course, user=personas.alice)
    assert ta_panel.get(page(alice, "delete")).status_code == 403
    assert ta_panel.post(page(alice, "delete"), {"post": "yes"}).status_code == 403
    assert role_of(personas.alice, personas) == Role.INSTRUCTOR


def test_a_ta_may_not_add_people(personas: Personas, ta_panel: Client) -> None:
    add = reverse("admin:coursesite_membership_add")
    assert ta_panel.get(add).status_code == 403
    dave = personas.dave
    ta_panel.post(add, {"user": dave.pk, "course": personas.course.pk, "role": Role.INSTRUCTOR})
    assert not Membership.objects.filter(course=personas.course, user=dave).exists()


def test_a_ta_who_instructs_another_course_cannot_add_people_to_this_one(
    personas: Personas,
) -> None:
    make_member(personas.other_course, "bob", Role.INSTRUCTOR)
    client = panel(personas.bob)
    add = reverse("admin:coursesite_membership_add")
    form = {"user": personas.dave.pk, "course": personas.course.pk, "role": Role.TA}
    client.post(add, form)
    assert not Membership.objects.filter(course=personas.course, user=personas.dave).exists()


def test_an_instructor_changes_roles(personas: Personas) -> None:
    client = panel(personas.alice)
    carol = Membership.objects.get(course=personas.course, user=personas.carol)
    response = client.post(page(carol), membership_form(carol, role=Role.TA))
    assert response.status_code == 302
    assert role_of(personas.carol, personas) == Role.TA


def test_a_ta_sees_the_weights_read_only(personas: Personas, ta_panel: Client) -> None:
    category = GradeCategory.objects.get(course=personas.course)
    ta_panel.post(
        page(category),
        {"course": personas.course.pk, "name": "Quizzes", "weight": "1", "drop_lowest": 0,
         "position": 0, "items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0},
    )  # fmt: skip
    category.refresh_from_db()
    assert category.weight == Decimal(100)
    body = ta_panel.get(page(category)).content.decode()
    assert 'name="weight"' not in body


def test_an_instructor_edits_the_weights(personas: Personas) -> None:
    client = panel(personas.alice)
    category = GradeCategory.objects.get(course=personas.course)
    assert 'name="weight"' in client.get(page(category)).content.decode()


def test_only_an_instructor_uploads_an_autograder(personas: Personas) -> None:
    url = f"/api/v1/courses/{personas.course.slug}/items/quiz/autograder/"
    assert personas.client(personas.bob).post(url, {}).status_code == 403
    assert personas.client(personas.bob).get(url).status_code == 200
    assert personas.client(personas.alice).post(url, {}).status_code == 400
    assert (
        panel(personas.bob)
        .get(
            reverse(
                "admin:grading_autogradebundle_add".replace("autogradebundle", "autograderbundle")
            )
        )
        .status_code
        == 403
    )


def test_a_ta_releases_only_where_the_course_lets_tas_release(personas: Personas) -> None:
    url = f"/api/v1/courses/{personas.course.slug}/items/quiz/release/"
    ta, instructor = personas.client(personas.bob), personas.client(personas.alice)
    assert ta.post(url).status_code == 200
    personas.course.tas_release = False
    personas.course.save(update_fields=["tas_release"])
    refused = ta.post(url)
    assert refused.status_code == 403
    assert "only its instructors release" in refused.json()["detail"]
    assert instructor.post(url).status_code == 200


def test_the_panel_release_action_follows_the_course_setting(personas: Personas) -> None:
    from coursesite.models import GradeItem

    personas.course.tas_release = False
    personas.course.save(update_fields=["tas_release"])
    changelist = reverse("admin:coursesite_gradeitem_changelist")
    form = {"action": "release_scores", "_selected_action": [personas.quiz.pk]}
    panel(personas.bob).post(changelist, form)
    assert not GradeItem.objects.get(pk=personas.quiz.pk).released
    panel(personas.alice).post(changelist, form)
    assert GradeItem.objects.get(pk=personas.quiz.pk).released


def test_a_ta_grants_extensions_only_where_the_course_lets_tas(personas: Personas) -> None:
    url = f"/api/v1/courses/{personas.course.slug}/extensions/"
    body = {"item": "quiz", "student": "carol", "due_at": "2024-10-12T23:59", "reason": "ill"}
    personas.course.tas_grant_extensions = False
    personas.course.save(update_fields=["tas_grant_extensions"])
    refused = personas.client(personas.bob).post(url, body, format="json")
    assert refused.status_code == 403
    assert "only its instructors grant" in refused.json()["detail"]
    assert personas.client(personas.alice).post(url, body, format="json").status_code == 201
