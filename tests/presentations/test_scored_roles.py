"""Presenters of a role that staff have scored: a new assignment keeps them, and moving them
moves their presentation Scores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coursesite.models import GradeCategory, GradeItem, Score
from grading.models import Criterion, Rubric
from grading.rubrics import MarkInput, evaluation_save
from presentations.models import Presenter, RolePlan
from presentations.slots import presenters_assign, presenters_swap
from tests.presentations.conftest import Papers


@pytest.fixture
def scored(papers: Papers) -> GradeItem:
    """The course's presentation item with an overview and a strengths rubric of 10 points."""
    course = papers.course
    category = GradeCategory.objects.create(course=course, name="Presentations", weight=10)
    item = GradeItem.objects.create(
        course=course, category=category, slug="paper-presentation", title="Presentation",
        max_points=Decimal(100),
    )  # fmt: skip
    papers.policy_set(item=item)
    for role in ("overview", "strengths", "weaknesses"):
        rubric = Rubric.objects.create(course=course, slug=role, title=role)
        Criterion.objects.create(rubric=rubric, title="Content", max_points=10)
        RolePlan.objects.create(course=course, role=role, minutes=8, rubric=rubric)
    return item


def place(papers: Papers, key: str, role: str, student: object) -> Presenter:
    return Presenter.objects.get(
        slot_role__slot__paper__key=key, slot_role__role=role, student=student
    )


def score(papers: Papers, item: GradeItem, student: object) -> Decimal | None:
    found = Score.objects.filter(item=item, student=student).first()
    return None if found is None else found.points


def evaluate(papers: Papers, item: GradeItem, presenter: Presenter, points: int) -> None:
    criterion = Criterion.objects.get(rubric__slug=presenter.slot_role.role)
    evaluation_save(
        item=item, subject=presenter.slot_role.subject, grader=papers.personas.bob,
        marks=[MarkInput(criterion.pk, points=Decimal(points))],
    )  # fmt: skip


def test_it_moves_a_scored_roles_points_with_a_swapped_presenter(
    papers: Papers, scored: GradeItem
) -> None:
    frank = place(papers, "alexnet", "overview", papers.frank)
    erin = place(papers, "alexnet", "strengths", papers.erin)
    evaluate(papers, scored, frank, 8)
    assert (score(papers, scored, papers.frank), score(papers, scored, papers.erin)) == (
        Decimal(80),
        None,
    )
    presenters_swap(first=frank, second=erin)
    # Erin now holds the scored overview; Frank's strengths are not scored yet.
    assert score(papers, scored, papers.erin) == Decimal(80)
    assert score(papers, scored, papers.frank) is None


def test_a_new_assignment_keeps_the_presenters_of_a_scored_role(
    papers: Papers, scored: GradeItem
) -> None:
    erin = place(papers, "alexnet", "strengths", papers.erin)
    evaluate(papers, scored, erin, 6)
    for seed in range(5):
        presenters_assign(course=papers.course, seed=seed)
        kept = Presenter.objects.filter(slot_role=erin.slot_role)
        assert list(kept.values_list("student__username", flat=True)) == ["erin"]
    assert score(papers, scored, papers.erin) == Decimal(60)
