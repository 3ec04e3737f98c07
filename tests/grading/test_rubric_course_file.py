"""Rubrics and the rubric grading policy in the course file: loading, reloading, dumping, and
bad rubrics refused with the line and key at fault.

Every file here is the example course with the rubrics below (a midterm with a free-points
criterion per question, a paper review rubric with levels, a presentation role's rubric that
scores no item itself), edited as each test says.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import Course, Score
from grading.course_file import RubricsSection
from grading.models import (
    Consensus,
    Criterion,
    CriterionMark,
    Level,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
)
from grading.rubrics import MarkInput, evaluation_save
from tests.coursesite.test_course_file_errors import assert_names
from tests.coursesite.test_course_file_load import edited_example

pytestmark = pytest.mark.django_db

Document = dict[str, Any]

RUBRICS: list[Document] = [
    {
        "slug": "midterm",
        "title": "Midterm Exam",
        "description": "One criterion per question.",
        "items": ["midterm"],
        "criteria": [
            {"title": "Q1 Backpropagation", "points": 30},
            {"title": "Q2 Convolutions", "points": 25},
            {"title": "Q3 Recurrent networks", "points": 25},
            {"title": "Q4 Discussion", "description": "Short answer.", "points": 20},
        ],
    },
    {
        "slug": "paper-review",
        "title": "Paper review",
        "items": ["review-w05", "review-w06"],
        "criteria": [
            {
                "title": "Summary",
                "levels": [
                    {"title": "Missing", "points": 0},
                    {"title": "Partial", "points": 1},
                    {"title": "Complete", "points": 2, "description": "Problem, method, results."},
                ],
            },
            {
                "title": "Strengths and weaknesses",
                "levels": [
                    {"title": "Missing", "points": 0},
                    {"title": "Shallow", "points": 2},
                    {"title": "Insightful", "points": 4.5},
                ],
            },
            {"title": "Suggestions and questions", "points": 3.5},
        ],
    },
    {
        "slug": "presentation-overview",
        "title": "Presentation: overview role",
        "criteria": [
            {
                "title": "Clarity",
                "levels": [{"title": "Poor", "points": 0}, {"title": "Clear", "points": 5}],
            },
        ],
    },
]

POLICY: Document = {
    "consensus": "final",
    "final_grader": "aerdem",
    "disagreement_percent": 15,
    "show_grader_names": True,
}


def with_rubrics(directory: Path, edit: Callable[[Document], None] = lambda document: None) -> Path:
    def add(document: Document) -> None:
        document["rubrics"] = copy.deepcopy(RUBRICS)
        # The example's presentation roles name its own rubrics, which these replace.
        for role in document.get("presentations", {}).get("roles", []):
            role.pop("rubric", None)
        # So does the theory quiz's derivation question: its points go to the question before.
        for quiz in document.get("quizzes", []):
            questions = quiz["questions"]
            for index, question in reversed(list(enumerate(questions))):
                if question["kind"] == "derivation":
                    questions[index - 1]["points"] += questions.pop(index)["points"]
        document["rubric_grading"] = dict(POLICY)
        edit(document)

    return edited_example(directory, add)


def rubric_rows() -> list[tuple[Any, ...]]:
    """Every rubric, criterion, level and policy as plain values, ids left out."""
    rows: list[tuple[Any, ...]] = []
    for rubric in Rubric.objects.order_by("slug"):
        items = sorted(rubric.items.values_list("slug", flat=True))
        rows.append((rubric.slug, rubric.title, rubric.description, items))
    rows += sorted(
        Criterion.objects.values_list(
            "rubric__slug", "position", "title", "description", "max_points"
        )
    )
    rows += sorted(
        Level.objects.values_list("criterion__title", "position", "title", "points", "description")
    )
    rows += list(
        RubricPolicy.objects.values_list(
            "consensus", "final_grader__username", "disagreement_percent", "show_grader_names"
        )
    )
    return rows


@pytest.fixture
def course(tmp_path: Path) -> Course:
    course, _ = course_file_load(path=with_rubrics(tmp_path))
    return course


def test_it_loads_rubrics_with_their_criteria_levels_and_items(course: Course) -> None:
    midterm = Rubric.objects.get(course=course, slug="midterm")
    assert list(midterm.items.values_list("slug", flat=True)) == ["midterm"]
    assert [(c.title, c.max_points) for c in midterm.criteria.all()] == [
        ("Q1 Backpropagation", 30),
        ("Q2 Convolutions", 25),
        ("Q3 Recurrent networks", 25),
        ("Q4 Discussion", 20),
    ]
    assert midterm.max_points == 100
    assert not Level.objects.filter(criterion__rubric=midterm).exists()
    review = Rubric.objects.get(course=course, slug="paper-review")
    assert sorted(review.items.values_list("slug", flat=True)) == ["review-w05", "review-w06"]
    strengths = review.criteria.get(title="Strengths and weaknesses")
    assert strengths.max_points == Decimal("4.5"), "a criterion is worth its best level"
    assert [(level.position, level.title) for level in strengths.levels.all()] == [
        (0, "Missing"),
        (1, "Shallow"),
        (2, "Insightful"),
    ]
    assert review.max_points == Decimal(10)
    assert not Rubric.objects.get(slug="presentation-overview").items.exists()


def test_it_loads_the_rubric_grading_policy(course: Course) -> None:
    policy = RubricPolicy.objects.get(course=course)
    assert policy.consensus == Consensus.FINAL
    assert policy.final_grader is not None
    assert policy.final_grader.username == "aerdem"
    assert (policy.disagreement_percent, policy.show_grader_names) == (Decimal(15), True)


def test_it_publishes_the_file_s_rubric_slugs_to_later_sections(tmp_path: Path) -> None:
    from coursesite.course_file.reader import read_course_yaml
    from coursesite.course_file.spec import parse_course

    root = read_course_yaml(with_rubrics(tmp_path))
    nodes = root.mapping(optional=tuple(root.value))
    plan = parse_course(root, nodes, tmp_path)
    RubricsSection().parse(nodes["rubrics"], plan)
    assert plan.published["rubrics"] == {"midterm", "paper-review", "presentation-overview"}


def test_it_changes_nothing_on_a_second_load(course: Course, tmp_path: Path) -> None:
    before = rubric_rows()
    _, changes = course_file_load(path=with_rubrics(tmp_path))
    assert changes.changed is False, changes.summary()
    assert rubric_rows() == before


def test_it_writes_rubrics_back_so_that_loading_the_dump_changes_nothing(
    course: Course, tmp_path: Path
) -> None:
    before = rubric_rows()
    dumped = course_file_dump(course)
    assert "rubrics:" in dumped and "rubric_grading:" in dumped
    path = tmp_path / "dumped.yaml"
    path.write_text(dumped, encoding="utf-8")
    _, changes = course_file_load(path=path)
    assert changes.changed is False, changes.summary()
    assert rubric_rows() == before
    assert course_file_dump(course) == dumped


def test_it_loads_a_dumped_course_into_an_empty_database_as_it_was(
    course: Course, tmp_path: Path
) -> None:
    before = rubric_rows()
    path = tmp_path / "dumped.yaml"
    path.write_text(course_file_dump(course), encoding="utf-8")
    course.delete()
    course_file_load(path=path)
    assert rubric_rows() == before


def test_it_updates_criteria_and_levels_in_place_by_title(course: Course, tmp_path: Path) -> None:
    review = Rubric.objects.get(slug="paper-review")
    summary = review.criteria.get(title="Summary")

    def edit(document: Document) -> None:
        criteria = document["rubrics"][1]["criteria"]
        criteria.reverse()
        criteria[2]["levels"][1]["description"] = "Some of it."

    _, changes = course_file_load(path=with_rubrics(tmp_path, edit))
    assert changes.created == {} and changes.deleted == {}
    assert review.criteria.first().title == "Suggestions and questions"
    summary.refresh_from_db()
    assert summary.position == 2, "the criterion kept its row and took its new place"
    assert summary.levels.get(title="Partial").description == "Some of it."


def test_it_moves_an_item_to_another_rubric(course: Course, tmp_path: Path) -> None:
    def edit(document: Document) -> None:
        document["rubrics"][1]["items"].remove("review-w06")
        document["rubrics"][2]["items"] = ["review-w06"]

    _, changes = course_file_load(path=with_rubrics(tmp_path, edit))
    assert (changes.created, changes.updated, changes.deleted) == ({}, {"rubrics": 2}, {})
    scored = Rubric.objects.filter(items__slug="review-w06").values_list("slug", flat=True)
    assert list(scored) == ["presentation-overview"]


def test_it_turns_a_criterion_with_levels_into_one_with_free_points(
    course: Course, tmp_path: Path
) -> None:
    def edit(document: Document) -> None:
        summary = document["rubrics"][1]["criteria"][0]
        del summary["levels"]
        summary["points"] = 3

    course_file_load(path=with_rubrics(tmp_path, edit))
    summary = Criterion.objects.get(rubric__slug="paper-review", title="Summary")
    assert (summary.max_points, summary.levels.count()) == (3, 0)


def test_it_removes_a_rubric_the_file_no_longer_lists(course: Course, tmp_path: Path) -> None:
    _, changes = course_file_load(path=with_rubrics(tmp_path, lambda d: d["rubrics"].pop(2)))
    assert changes.deleted == {"rubrics": 1}
    assert not Rubric.objects.filter(slug="presentation-overview").exists()
    assert not Criterion.objects.filter(title="Clarity").exists()


def test_it_resets_the_policy_to_the_defaults_without_rubric_grading(
    course: Course, tmp_path: Path
) -> None:
    course_file_load(path=with_rubrics(tmp_path, lambda d: d.pop("rubric_grading")))
    policy = RubricPolicy.objects.get(course=course)
    assert (policy.consensus, policy.final_grader, policy.disagreement_percent) == (
        Consensus.AVERAGE,
        None,
        Decimal(10),
    )
    assert policy.show_grader_names is False


def test_it_makes_no_policy_for_a_course_that_never_had_one(tmp_path: Path) -> None:
    course, _ = course_file_load(path=with_rubrics(tmp_path, lambda d: d.pop("rubric_grading")))
    assert not RubricPolicy.objects.filter(course=course).exists()
    assert "rubric_grading" not in course_file_dump(course)


def test_it_brings_the_scores_in_line_when_the_policy_changes(
    course: Course, tmp_path: Path
) -> None:
    student = get_user_model().objects.get(username="student01")
    criteria = Rubric.objects.get(slug="midterm").criteria.all()
    for grader, points in (("abond", 10), ("aerdem", 20)):
        evaluation_save(
            item=course.items.get(slug="midterm"),
            subject=f"student:{student.pk}",
            grader=get_user_model().objects.get(username=grader),
            marks=[MarkInput(criterion.pk, points=Decimal(points)) for criterion in criteria],
        )
    score = Score.objects.get(item__slug="midterm", student=student)
    assert score.points == Decimal(80), "the final grader's evaluation counts"

    def edit(document: Document) -> None:
        document["rubric_grading"] = {"consensus": "average"}

    course_file_load(path=with_rubrics(tmp_path, edit))
    score.refresh_from_db()
    assert score.points == Decimal(60), "the mean of 40 and 80"
    assert score.changes.last().reason == "the course's rubric grading policy changed"


def evaluate(course: Course, rubric_slug: str, item_slug: str) -> RubricEvaluation:
    """An evaluation written straight into the tables: these tests are about the file only."""
    rubric = Rubric.objects.get(course=course, slug=rubric_slug)
    grader = get_user_model().objects.get(username="abond")
    student = get_user_model().objects.get(username="student01")
    evaluation = RubricEvaluation.objects.create(
        rubric=rubric,
        item=course.items.get(slug=item_slug),
        subject=f"student:{student.pk}",
        grader=grader,
        points=Decimal(1),
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    for criterion in rubric.criteria.all():
        level = criterion.levels.order_by("points").last()
        CriterionMark.objects.create(
            evaluation=evaluation,
            criterion=criterion,
            level=level,
            points=level.points if level else Decimal(1),
        )
    return evaluation


def reload_refusal(tmp_path: Path, edit: Callable[[Document], None]) -> CourseFileError:
    before = rubric_rows()
    path = with_rubrics(tmp_path, edit)
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    assert rubric_rows() == before, "a refused file changed the rubrics"
    assert str(caught.value).startswith(f"{path}: rubrics: ")
    return caught.value


def test_it_refuses_to_drop_a_rubric_that_evaluations_use(course: Course, tmp_path: Path) -> None:
    evaluate(course, "midterm", "midterm")
    error = reload_refusal(tmp_path, lambda d: d["rubrics"].pop(0))
    assert "no longer lists the rubric(s) 'midterm', which evaluations use" in error.problem


def test_it_refuses_to_change_the_points_that_evaluations_count(
    course: Course, tmp_path: Path
) -> None:
    evaluate(course, "paper-review", "review-w05")

    def edit(document: Document) -> None:
        document["rubrics"][1]["criteria"][0]["levels"][2]["points"] = 3

    error = reload_refusal(tmp_path, edit)
    assert error.problem == (
        "evaluations use the rubric 'paper-review', so 'Summary' stays worth 2.00 points"
    )


def test_it_refuses_to_add_a_criterion_to_a_rubric_in_use(course: Course, tmp_path: Path) -> None:
    evaluate(course, "midterm", "midterm")

    def edit(document: Document) -> None:
        document["rubrics"][0]["criteria"].append({"title": "Q5 Bonus", "points": 5})

    error = reload_refusal(tmp_path, edit)
    assert "its criteria stay as they are ('Q5 Bonus' added)" in error.problem


def test_it_lets_a_rubric_in_use_change_its_titles_and_descriptions(
    course: Course, tmp_path: Path
) -> None:
    evaluate(course, "paper-review", "review-w05")

    def edit(document: Document) -> None:
        document["rubrics"][1]["title"] = "Weekly paper review"
        document["rubrics"][1]["criteria"][0]["description"] = "Two sentences."

    _, changes = course_file_load(path=with_rubrics(tmp_path, edit))
    assert changes.updated == {"rubrics": 1, "criteria": 1}


def set_in(document: Document, path: str, value: Any) -> None:
    """Set the value at a path such as ``rubrics[0].criteria[1].points`` (``None`` deletes)."""
    parts: list[Any] = []
    for name in path.replace("]", "").replace("[", ".").split("."):
        parts.append(int(name) if name.isdigit() else name)
    target: Any = document
    for part in parts[:-1]:
        target = target[part]
    if value is None:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


# Each bad file: the changes to the good one, then the key, the problem and what the reported
# line holds.
BAD_FILES: list[tuple[str, dict[str, Any], str, str, str]] = [
    (
        "one level",
        {"rubrics[2].criteria[0].levels": [{"title": "Clear", "points": 5}]},
        "rubrics[2].criteria[0].levels",
        "a criterion with levels needs at least two",
        "levels:",
    ),
    (
        "levels and points",
        {"rubrics[2].criteria[0].points": 5},
        "rubrics[2].criteria[0].points",
        "a criterion has levels or points (free points up to it), not both",
        "points: 5",
    ),
    (
        "neither levels nor points",
        {"rubrics[0].criteria[1].points": None},
        "rubrics[0].criteria[1]",
        "give the criterion levels (at least two) or points (free points up to it)",
        "title: Q2 Convolutions",
    ),
    (
        "a level title twice",
        {"rubrics[1].criteria[1].levels[2].title": "Shallow"},
        "rubrics[1].criteria[1].levels[2].title",
        "two levels are titled 'Shallow'",
        "title: Shallow",
    ),
    (
        "a negative level",
        {"rubrics[1].criteria[0].levels[0].points": -1},
        "rubrics[1].criteria[0].levels[0].points",
        "-1 is out of range (0 to 100000)",
        "points: -1",
    ),
    (
        "free points of 0",
        {"rubrics[0].criteria[3].points": 0},
        "rubrics[0].criteria[3].points",
        "a criterion's points must be more than 0",
        "points: 0",
    ),
    (
        "every level worth 0",
        {"rubrics[2].criteria[0].levels[1].points": 0},
        "rubrics[2].criteria[0].levels",
        "the best level must be worth more than 0 points",
        "levels:",
    ),
    (
        "an item scored by two rubrics",
        {"rubrics[1].items": ["review-w05", "midterm"]},
        "rubrics[1].items[1]",
        "the item 'midterm' is already scored by the rubric 'midterm', so the rubric "
        "'paper-review' cannot score it too (an item has one rubric)",
        # An entry of a list of plain values is reported on the list's line.
        "items:",
    ),
    (
        "an unknown item",
        {"rubrics[0].items": ["final-exam"]},
        "rubrics[0].items[0]",
        "no graded item has the slug 'final-exam' (see grading)",
        "items:",
    ),
    (
        "a rubric slug twice",
        {"rubrics[2].slug": "midterm"},
        "rubrics[2].slug",
        "two rubrics have the slug 'midterm'",
        "slug: midterm",
    ),
    (
        "a criterion title twice",
        {"rubrics[0].criteria[1].title": "Q1 Backpropagation"},
        "rubrics[0].criteria[1].title",
        "two criteria are titled 'Q1 Backpropagation'",
        "title: Q1 Backpropagation",
    ),
    (
        "no criteria",
        {"rubrics[2].criteria": []},
        "rubrics[2].criteria",
        "a rubric needs at least one criterion",
        "criteria: []",
    ),
    (
        "an unknown key",
        {"rubrics[0].criteria[0].weight": 2},
        "rubrics[0].criteria[0].weight",
        "unknown key (known keys here: description, levels, points, title)",
        "weight: 2",
    ),
    (
        "points with three decimals",
        {"rubrics[0].criteria[0].points": 2.125},
        "rubrics[0].criteria[0].points",
        "2.125 has more than two decimals",
        "points: 2.125",
    ),
    (
        "an unknown consensus",
        {"rubric_grading.consensus": "majority"},
        "rubric_grading.consensus",
        "use one of average, final",
        "consensus: majority",
    ),
    (
        "a student as final grader",
        {"rubric_grading.final_grader": "student01"},
        "rubric_grading.final_grader",
        "'student01' is not an instructor or TA of the course",
        "final_grader: student01",
    ),
    (
        "a final grader without the final consensus",
        {"rubric_grading.consensus": "average"},
        "rubric_grading.final_grader",
        "only used with consensus: final",
        "final_grader: aerdem",
    ),
    (
        "a margin over 100 percent",
        {"rubric_grading.disagreement_percent": 150},
        "rubric_grading.disagreement_percent",
        "150 is out of range (0 to 100)",
        "disagreement_percent: 150",
    ),
]


@pytest.mark.parametrize(
    ("changes", "key", "problem", "line_holds"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_it_refuses_a_bad_rubric_with_its_line_and_key(
    tmp_path: Path, changes: dict[str, Any], key: str, problem: str, line_holds: str
) -> None:
    def edit(document: Document) -> None:
        for path, value in changes.items():
            set_in(document, path, value)

    path = with_rubrics(tmp_path, edit)
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    assert caught.value.problem == problem
    assert_names(caught.value, path, key, problem, line_holds)
    assert not Course.objects.exists(), "a refused file wrote something"
