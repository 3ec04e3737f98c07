"""Rubric grading's core (``grading.rubrics``): from evaluations to Scores and their history,
marks refused, two graders under each consensus, disagreements, one member of a pair adjusted,
what a student sees, copying a rubric.

The work is Carol's midterm (``student:<pk>``), scored with a rubric of 16 points: a derivation
judged by levels (0, 2 or 6 points) and a discussion worth up to 10 free points, on an item
worth 10 points, so that a mark of 9 is 5.625 points on the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError

from coursesite.gradebook.services import item_release
from coursesite.models import GradeItem, Role, Score, ScoreChange, ScoreSource
from grading import rubrics
from grading.course_file import CriterionSpec, LevelSpec, RubricSpec, rubric_save
from grading.models import Consensus, Criterion, Rubric, RubricEvaluation, RubricPolicy
from grading.rubrics import (
    MarkInput,
    SubjectSource,
    Work,
    comparison,
    disagreements,
    evaluation_delete,
    evaluation_save,
    item_outcomes,
    item_scores_refresh,
    member_adjust,
    rubric_copy,
    student_evaluations,
)
from tests.conftest import Personas, make_member

pytestmark = pytest.mark.django_db


def exam_spec(slug: str, item: str) -> RubricSpec:
    return RubricSpec(
        slug=slug,
        title="Midterm Exam",
        description="",
        items=(item,),
        criteria=(
            CriterionSpec(
                title="Derivation",
                levels=(
                    LevelSpec("Wrong", Decimal(0)),
                    LevelSpec("Partial", Decimal(2)),
                    LevelSpec("Right", Decimal(6), "Every step shown."),
                ),
            ),
            CriterionSpec(title="Discussion", points=Decimal(10)),
        ),
    )


@dataclass
class Exam:
    personas: Personas
    item: GradeItem
    rubric: Rubric
    derivation: Criterion
    discussion: Criterion
    subject: str

    def marks(self, level: str = "Right", points: str = "3", **comments: str) -> list[MarkInput]:
        return [
            MarkInput(
                self.derivation.pk,
                level_id=self.derivation.levels.get(title=level).pk,
                comment=comments.get("derivation", ""),
            ),
            MarkInput(self.discussion.pk, points=Decimal(points)),
        ]

    def evaluate(
        self, grader: AbstractUser, level: str = "Right", points: str = "3"
    ) -> RubricEvaluation:
        return evaluation_save(
            item=self.item,
            subject=self.subject,
            grader=grader,
            marks=self.marks(level, points),
            comment="Well argued.",
        )

    def score(self, student: AbstractUser | None = None) -> Score | None:
        student = student or self.personas.carol
        return Score.objects.filter(item=self.item, student=student).first()

    def points(self, student: AbstractUser | None = None) -> Decimal | None:
        score = self.score(student)
        return score.points if score else None

    def policy(self, **values: object) -> RubricPolicy:
        policy, _ = RubricPolicy.objects.update_or_create(
            course=self.personas.course, defaults=values
        )
        return policy

    def outcome_points(self) -> Decimal | None:
        return item_outcomes(self.item)[self.subject].points


@pytest.fixture
def exam(personas: Personas) -> Exam:
    item = GradeItem.objects.create(
        course=personas.course,
        category=personas.quiz.category,
        slug="midterm",
        title="Midterm",
        max_points=Decimal(10),
    )
    rubric = rubric_save(course=personas.course, spec=exam_spec("midterm", "midterm"))
    return Exam(
        personas=personas,
        item=item,
        rubric=rubric,
        derivation=rubric.criteria.get(title="Derivation"),
        discussion=rubric.criteria.get(title="Discussion"),
        subject=f"student:{personas.carol.pk}",
    )


def history(score: Score | None) -> list[tuple[Decimal | None, Decimal | None, str]]:
    assert score is not None
    return list(
        ScoreChange.objects.filter(score=score).values_list("old_points", "new_points", "reason")
    )


def test_it_sums_the_marks_and_scales_them_to_the_item_rounding_half_up(exam: Exam) -> None:
    evaluation = exam.evaluate(exam.personas.alice)
    assert evaluation.points == Decimal(9)
    assert list(evaluation.marks.values_list("criterion__title", "points")) == [
        ("Derivation", Decimal(6)),
        ("Discussion", Decimal(3)),
    ]
    score = exam.score()
    assert score is not None
    # 9 / 16 x 10 = 5.625: half up, not to the even 5.62.
    assert (score.points, score.source) == (Decimal("5.63"), ScoreSource.RUBRIC)
    assert score.comment == "rubric: carol: 5.63 (Derivation 6/6, Discussion 3/10)"


def test_it_keeps_every_change_of_the_score_in_its_history(exam: Exam) -> None:
    alice = exam.personas.alice
    exam.evaluate(alice)
    exam.evaluate(alice, level="Partial")
    reason = "rubric evaluation of carol by alice"
    assert history(exam.score()) == [
        (None, Decimal("5.63"), reason),
        # 5 / 16 x 10 = 3.125
        (Decimal("5.63"), Decimal("3.13"), reason),
    ]
    assert RubricEvaluation.objects.filter(grader=alice).count() == 1, "the second replaced it"
    exam.evaluate(alice, level="Partial")
    assert len(history(exam.score())) == 2, "the same evaluation again changed the Score"


@pytest.fixture
def other_level(exam: Exam) -> int:
    """A level of the same title in a copy of the rubric: another criterion's level."""
    copy = rubric_copy(rubric=exam.rubric, course=exam.personas.course, slug="midterm-copy")
    return copy.criteria.get(title="Derivation").levels.get(title="Right").pk


def refusal(exam: Exam, marks: list[MarkInput]) -> dict[str, list[str]]:
    """What ``evaluation_save`` says is wrong with Alice's marks; nothing may be stored."""
    with pytest.raises(ValidationError) as caught:
        evaluation_save(
            item=exam.item, subject=exam.subject, grader=exam.personas.alice, marks=marks
        )
    assert not RubricEvaluation.objects.exists()
    assert exam.score() is None
    return caught.value.message_dict


def test_it_refuses_an_evaluation_that_leaves_a_criterion_unmarked(exam: Exam) -> None:
    assert refusal(exam, exam.marks()[:1]) == {"marks": ["Mark every criterion: Discussion."]}


def test_it_refuses_a_level_of_another_criterion(exam: Exam, other_level: int) -> None:
    marks = [MarkInput(exam.derivation.pk, level_id=other_level), exam.marks()[1]]
    assert refusal(exam, marks) == {"marks": ["Choose one of the levels of 'Derivation'."]}
    marks = [exam.marks()[0], MarkInput(exam.discussion.pk, level_id=other_level)]
    assert refusal(exam, marks) == {"marks": ["'Discussion' has no levels: give points."]}


def test_it_refuses_free_points_above_the_criterion_s_maximum(exam: Exam) -> None:
    assert refusal(exam, exam.marks(points="10.50")) == {
        "marks": ["'Discussion' takes 0 to 10.00 points, in hundredths at most."]
    }


def test_it_refuses_a_student_as_grader(exam: Exam) -> None:
    with pytest.raises(ValidationError) as caught:
        exam.evaluate(exam.personas.carol)
    assert caught.value.message_dict == {
        "grader": ["carol is not on the staff of COMP541 Fall 2024."]
    }
    assert not RubricEvaluation.objects.exists()


def test_it_averages_two_graders_in_average_mode(exam: Exam) -> None:
    exam.evaluate(exam.personas.alice)
    exam.evaluate(exam.personas.bob, level="Partial")
    assert exam.outcome_points() == Decimal(7)
    # 7 / 16 x 10 = 4.375
    assert exam.points() == Decimal("4.38")


@pytest.fixture
def tina(exam: Exam) -> AbstractUser:
    return make_member(exam.personas.course, "tina", Role.TA)


def test_it_counts_the_final_grader_in_final_mode(exam: Exam, tina: AbstractUser) -> None:
    alice, bob = exam.personas.alice, exam.personas.bob
    exam.policy(consensus=Consensus.FINAL)
    exam.evaluate(bob, level="Partial")
    assert exam.outcome_points() == Decimal(5), "the others' mean until a final one exists"
    exam.evaluate(tina, level="Wrong")
    assert exam.outcome_points() == Decimal(4)
    exam.evaluate(alice)
    assert exam.outcome_points() == Decimal(9), "an instructor's evaluation is final"
    assert exam.points() == Decimal("5.63")

    exam.policy(consensus=Consensus.FINAL, final_grader=bob)
    assert exam.outcome_points() == Decimal(5), "the designated final grader's counts"
    item_scores_refresh(item=exam.item, changed_by=alice, reason="bob grades finally")
    assert exam.points() == Decimal("3.13")


def test_it_averages_in_final_mode_until_the_designated_grader_evaluates(
    exam: Exam, tina: AbstractUser
) -> None:
    exam.policy(consensus=Consensus.FINAL, final_grader=tina)
    exam.evaluate(exam.personas.alice)
    exam.evaluate(exam.personas.bob, level="Partial")
    assert exam.outcome_points() == Decimal(7)
    exam.evaluate(tina, level="Wrong", points="10")
    assert exam.outcome_points() == Decimal(10)


def test_it_lists_a_disagreement_only_above_the_margin(exam: Exam) -> None:
    exam.policy(disagreement_percent=Decimal(25))
    exam.evaluate(exam.personas.alice)
    # 9 and 5 differ by 4, exactly 25% of the rubric's 16 points: not more than the margin.
    exam.evaluate(exam.personas.bob, level="Partial")
    assert disagreements(exam.personas.course) == []
    exam.evaluate(exam.personas.bob, level="Partial", points="2.99")
    found = disagreements(exam.personas.course)
    assert [(d.item, d.work.subject, d.work.label) for d in found] == [
        (exam.item, exam.subject, "carol")
    ]
    outcome = found[0].outcome
    assert [e.grader.username for e in outcome.evaluations] == ["alice", "bob"]
    rows = comparison(outcome)
    assert [
        (row.criterion.title, [mark.points if mark else None for mark in row.marks], row.spread)
        for row in rows
    ] == [
        ("Derivation", [Decimal(6), Decimal(2)], Decimal(4)),
        ("Discussion", [Decimal(3), Decimal("2.99")], Decimal("0.01")),
    ]
    assert [mark.level.title for mark in rows[0].marks if mark and mark.level] == [
        "Right",
        "Partial",
    ]


class PairSource(SubjectSource):
    """``pair:1``: Carol and Erin's joint work on the project item."""

    kind = "pair"

    def __init__(self, students: tuple[int, ...]) -> None:
        self.students = students

    def claims(self, item: GradeItem) -> bool:
        return item.slug == "project"

    def works(self, item: GradeItem) -> list[Work]:
        return [Work("pair:1", "Pair 1", self.students)]


@dataclass
class Pair:
    exam: Exam
    item: GradeItem
    erin: AbstractUser


@pytest.fixture
def pair(exam: Exam, monkeypatch: pytest.MonkeyPatch) -> Pair:
    personas = exam.personas
    erin = make_member(personas.course, "erin", Role.STUDENT)
    monkeypatch.setitem(rubrics._sources, "pair", PairSource((personas.carol.pk, erin.pk)))
    item = GradeItem.objects.create(
        course=personas.course,
        category=personas.quiz.category,
        slug="project",
        title="Project",
        max_points=Decimal(100),
    )
    rubric_save(course=personas.course, spec=exam_spec("project", "project"))
    return Pair(exam, item, erin)


def test_it_gives_both_members_the_pair_s_score_and_adjusts_one_with_the_reason(
    pair: Pair,
) -> None:
    carol, alice = pair.exam.personas.carol, pair.exam.personas.alice
    project = Exam(
        pair.exam.personas,
        pair.item,
        pair.item.rubrics.get(),
        Criterion.objects.get(rubric__slug="project", title="Derivation"),
        Criterion.objects.get(rubric__slug="project", title="Discussion"),
        "pair:1",
    )
    project.evaluate(alice)
    # 9 / 16 x 100 = 56.25
    assert (project.points(carol), project.points(pair.erin)) == (
        Decimal("56.25"),
        Decimal("56.25"),
    )

    member_adjust(
        item=pair.item,
        subject="pair:1",
        student=pair.erin,
        points=Decimal("-6.25"),
        reason="missed two meetings",
        by=alice,
    )
    assert (project.points(carol), project.points(pair.erin)) == (
        Decimal("56.25"),
        Decimal("50.00"),
    )
    erin_score = project.score(pair.erin)
    assert erin_score is not None
    assert erin_score.comment == (
        "rubric: Pair 1: 56.25, adjusted -6.25 (missed two meetings)"
        " (Derivation 6/6, Discussion 3/10)"
    )
    assert history(erin_score)[-1] == (
        Decimal("56.25"),
        Decimal("50.00"),
        "Pair 1: -6.25 by alice: missed two meetings",
    )
    assert len(history(project.score(carol))) == 1, "the other member's Score did not change"


def test_it_refuses_to_adjust_a_student_outside_the_pair(pair: Pair) -> None:
    outsider = make_member(pair.exam.personas.course, "frank", Role.STUDENT)
    with pytest.raises(ValidationError, match=r"frank has no share in Pair 1\."):
        member_adjust(
            item=pair.item,
            subject="pair:1",
            student=outsider,
            points=Decimal(1),
            reason="helped",
            by=pair.exam.personas.alice,
        )


def test_it_shows_a_student_their_evaluation_only_after_release(exam: Exam) -> None:
    alice, carol = exam.personas.alice, exam.personas.carol
    alice.first_name, alice.last_name = "Alice", "Archer"
    alice.save()
    exam.evaluate(alice)
    assert student_evaluations(item=exam.item, student=carol) == []
    item_release(item=exam.item, released=True)
    shown = student_evaluations(item=exam.item, student=carol)
    assert [(s.work.subject, s.evaluation.points, s.grader_name) for s in shown] == [
        (exam.subject, Decimal(9), None)
    ]
    assert [
        (m.criterion.title, m.level.title if m.level else None, m.points) for m in shown[0].marks
    ] == [
        ("Derivation", "Right", Decimal(6)),
        ("Discussion", None, Decimal(3)),
    ]
    assert student_evaluations(item=exam.item, student=exam.personas.dave) == []
    exam.policy(show_grader_names=True)
    assert [s.grader_name for s in student_evaluations(item=exam.item, student=carol)] == [
        "Alice Archer"
    ]


def test_it_copies_a_rubric_with_its_criteria_and_levels(exam: Exam) -> None:
    other = exam.personas.other_course
    copy = rubric_copy(rubric=exam.rubric, course=other)
    assert (copy.course, copy.slug, copy.title) == (other, "midterm", "Midterm Exam")
    assert list(copy.criteria.values_list("position", "title", "max_points")) == [
        (0, "Derivation", Decimal(6)),
        (1, "Discussion", Decimal(10)),
    ]
    levels = copy.criteria.get(title="Derivation").levels
    assert list(levels.values_list("title", "points", "description")) == [
        ("Wrong", Decimal(0), ""),
        ("Partial", Decimal(2), ""),
        ("Right", Decimal(6), "Every step shown."),
    ]
    assert not copy.items.exists()
    assert exam.rubric.criteria.count() == 2 and exam.derivation.levels.count() == 3
    with pytest.raises(ValidationError, match="already has a rubric 'midterm'"):
        rubric_copy(rubric=exam.rubric, course=other)


def test_it_empties_the_rubric_score_when_the_evaluation_is_deleted(exam: Exam) -> None:
    evaluation = exam.evaluate(exam.personas.bob)
    evaluation_delete(evaluation=evaluation, by=exam.personas.alice)
    score = exam.score()
    assert score is not None
    assert (score.points, score.comment) == (None, "rubric: no evaluation counts")
    assert history(score)[-1] == (Decimal("5.63"), None, "evaluation of carol by bob deleted")
    assert not RubricEvaluation.objects.exists()
