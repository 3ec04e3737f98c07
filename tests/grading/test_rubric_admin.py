"""Rubrics in the instructor panel: levels that set a criterion's points, copying a rubric to
another course, and the staff of another course kept out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coursesite.models import GradeItem, Role, Score
from coursesite.services import staff_access_grant
from grading.course_file import CriterionSpec, LevelSpec, RubricSpec, rubric_save
from grading.models import Criterion, CriterionMark, Rubric, RubricEvaluation
from grading.rubrics import MarkInput, evaluation_save
from tests.conftest import Personas, make_course, make_member


@dataclass
class Panel:
    personas: Personas
    rubric: Rubric
    criterion: Criterion
    alice: Client


PRESENTATION = RubricSpec(
    slug="presentation",
    title="Paper presentation",
    description="",
    items=("quiz",),
    criteria=(
        CriterionSpec(
            title="Clarity",
            levels=(LevelSpec("Poor", Decimal(0)), LevelSpec("Clear", Decimal(5))),
        ),
        CriterionSpec(title="Answers to questions", points=Decimal(5)),
    ),
)


@pytest.fixture
def panel(personas: Personas) -> Panel:
    make_member(personas.other_course, "alice", Role.INSTRUCTOR)
    staff_access_grant(user=personas.alice)
    rubric = rubric_save(course=personas.course, spec=PRESENTATION)
    client = Client()
    client.force_login(personas.alice)
    return Panel(personas, rubric, rubric.criteria.get(title="Clarity"), client)


def criterion_page(criterion: Criterion) -> str:
    return reverse("admin:grading_criterion_change", args=[criterion.pk])


def criterion_form(criterion: Criterion, points: dict[str, str], **extra: str) -> dict[str, Any]:
    """The criterion's change form as the page posts it, with each level's points from
    ``points`` (by level title)."""
    levels = list(criterion.levels.all())
    data: dict[str, Any] = {
        "rubric": criterion.rubric_id,
        "position": criterion.position,
        "title": criterion.title,
        "description": criterion.description,
        "max_points": str(criterion.max_points),
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": str(len(levels)),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, level in enumerate(levels):
        prefix = f"levels-{index}-"
        data |= {
            f"{prefix}id": level.pk,
            f"{prefix}criterion": criterion.pk,
            f"{prefix}position": level.position,
            f"{prefix}title": level.title,
            f"{prefix}points": points.get(level.title, str(level.points)),
            f"{prefix}description": level.description,
        }
    return data | extra


def test_it_makes_a_criterion_worth_its_best_level_when_a_level_changes(panel: Panel) -> None:
    response = panel.alice.post(
        criterion_page(panel.criterion), criterion_form(panel.criterion, {"Clear": "8"})
    )
    assert response.status_code == 302
    panel.criterion.refresh_from_db()
    assert panel.criterion.max_points == Decimal(8)
    assert panel.criterion.levels.get(title="Clear").points == Decimal(8)


def test_it_refuses_to_leave_a_criterion_one_level(panel: Panel) -> None:
    data = criterion_form(panel.criterion, {}, **{"levels-1-DELETE": "on"})
    response = panel.alice.post(criterion_page(panel.criterion), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert errors == ["a criterion with levels needs at least two"]
    assert panel.criterion.levels.count() == 2


def test_it_shows_the_criteria_of_a_rubric_in_use_read_only(panel: Panel) -> None:
    personas = panel.personas
    evaluation = RubricEvaluation.objects.create(
        rubric=panel.rubric,
        item=personas.quiz,
        subject=f"student:{personas.carol.pk}",
        grader=personas.bob,
        points=Decimal(5),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    CriterionMark.objects.create(
        evaluation=evaluation,
        criterion=panel.criterion,
        level=panel.criterion.levels.get(title="Clear"),
        points=Decimal(5),
    )
    response = panel.alice.post(
        criterion_page(panel.criterion), criterion_form(panel.criterion, {"Clear": "8"})
    )
    assert response.status_code == 403
    assert panel.alice.get(criterion_page(panel.criterion)).status_code == 200
    panel.criterion.refresh_from_db()
    assert panel.criterion.max_points == Decimal(5)


def test_it_offers_a_rubric_only_the_items_of_its_course(panel: Panel) -> None:
    other = panel.personas.other_course
    category = other.categories.create(name="Labs", weight=Decimal(100))
    GradeItem.objects.create(
        course=other, category=category, slug="lab", title="Lab", max_points=Decimal(10)
    )
    page = panel.alice.get(reverse("admin:grading_rubric_change", args=[panel.rubric.pk]))
    form = page.context["adminform"].form
    assert [item.slug for item in form.fields["items"].queryset] == ["quiz"]


def copy_action(client: Client, rubric: Rubric, **form: Any) -> Any:
    data: dict[str, Any] = {"action": "copy_to_course", "_selected_action": [rubric.pk], **form}
    return client.post(reverse("admin:grading_rubric_changelist"), data)


def test_it_copies_a_rubric_to_another_course_the_instructor_teaches(panel: Panel) -> None:
    elsewhere = make_course("cv-spring2025")
    page = copy_action(panel.alice, panel.rubric)
    assert page.status_code == 200
    offered = list(page.context["form"].fields["course"].queryset)
    assert offered == [panel.personas.course, panel.personas.other_course]
    assert elsewhere not in offered

    other = panel.personas.other_course
    done = copy_action(panel.alice, panel.rubric, copy="1", course=other.pk, slug="talk")
    assert done.status_code == 302
    copy = Rubric.objects.get(course=other, slug="talk")
    assert [(c.title, c.max_points) for c in copy.criteria.all()] == [
        ("Clarity", Decimal(5)),
        ("Answers to questions", Decimal(5)),
    ]
    assert list(copy.criteria.get(title="Clarity").levels.values_list("title", "points")) == [
        ("Poor", Decimal(0)),
        ("Clear", Decimal(5)),
    ]
    assert not copy.items.exists(), "the copy scores no item of the other course yet"


def test_it_refuses_a_copy_whose_slug_the_course_already_has(panel: Panel) -> None:
    course = panel.personas.course
    page = copy_action(panel.alice, panel.rubric, copy="1", course=course.pk, slug="presentation")
    assert page.status_code == 200
    assert page.context["form"].errors == {
        "slug": [f"{course} already has a rubric 'presentation'."]
    }
    assert Rubric.objects.filter(slug="presentation").count() == 1


def test_it_refuses_a_copy_to_a_course_the_instructor_does_not_teach(panel: Panel) -> None:
    elsewhere = make_course("cv-spring2025")
    page = copy_action(panel.alice, panel.rubric, copy="1", course=elsewhere.pk, slug="talk")
    assert page.status_code == 200
    assert "course" in page.context["form"].errors
    assert not Rubric.objects.filter(course=elsewhere).exists()


@pytest.fixture
def other_ta(panel: Panel) -> AbstractUser:
    tom = make_member(panel.personas.other_course, "tom", Role.TA)
    staff_access_grant(user=tom)
    return tom


def test_it_hides_the_rubric_from_a_ta_of_another_course(
    panel: Panel, other_ta: AbstractUser
) -> None:
    own = panel.alice.get(reverse("admin:grading_rubric_changelist"))
    assert b"Paper presentation" in own.content
    client = Client()
    client.force_login(other_ta)
    listed = client.get(reverse("admin:grading_rubric_changelist"))
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == []
    assert b"Paper presentation" not in listed.content
    for page in (
        reverse("admin:grading_rubric_change", args=[panel.rubric.pk]),
        criterion_page(panel.criterion),
    ):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")
    criteria = client.get(reverse("admin:grading_criterion_changelist"))
    assert list(criteria.context["cl"].queryset) == []


def test_it_brings_the_scores_in_line_with_a_policy_set_in_the_panel(panel: Panel) -> None:
    personas = panel.personas
    clarity, answers = panel.criterion, panel.rubric.criteria.get(title="Answers to questions")
    for grader, level, points in ((personas.alice, "Clear", 5), (personas.bob, "Poor", 1)):
        evaluation_save(
            item=personas.quiz,
            subject=f"student:{personas.carol.pk}",
            grader=grader,
            marks=[
                MarkInput(clarity.pk, level_id=clarity.levels.get(title=level).pk),
                MarkInput(answers.pk, points=Decimal(points)),
            ],
        )
    score = Score.objects.get(item=personas.quiz, student=personas.carol)
    assert score.points == Decimal("5.50"), "the mean of 10 and 1 of 10 points"
    response = panel.alice.post(
        reverse("admin:grading_rubricpolicy_add"),
        {
            "course": personas.course.pk,
            "consensus": "final",
            "final_grader": "",
            "disagreement_percent": "10",
        },
    )
    assert response.status_code == 302
    score.refresh_from_db()
    assert score.points == Decimal(10), "the instructor's evaluation is final"


def test_it_refuses_a_final_grader_who_is_not_on_the_course_s_staff(panel: Panel) -> None:
    # Olga teaches Alice's other course, so the panel offers her; she is not on this one's staff.
    olga = make_member(panel.personas.other_course, "olga", Role.INSTRUCTOR)
    response = panel.alice.post(
        reverse("admin:grading_rubricpolicy_add"),
        {
            "course": panel.personas.course.pk,
            "consensus": "final",
            "final_grader": olga.pk,
            "disagreement_percent": "10",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "final_grader": ["olga is not an instructor or TA of COMP541 Fall 2024."]
    }
