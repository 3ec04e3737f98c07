"""Loading a course file: what the example course creates, and how a reload updates it."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import (
    Course,
    CourseEvent,
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupMembership,
    Lecture,
    LetterGrade,
    Membership,
    ProjectGroup,
    Role,
    Score,
    ScoreChange,
    ScoreSource,
)
from coursesite.services import score_record
from presentations.models import Paper
from submissions.models import Assignment, Deliverable
from tests.conftest import EXAMPLE_COURSE

pytestmark = pytest.mark.django_db

User = get_user_model()

# Ordered so that every foreign key points to a model listed before it.
COURSE_MODELS: tuple[type[models.Model], ...] = (
    User,
    Course,
    LetterGrade,
    Membership,
    ProjectGroup,
    GroupMembership,
    GracePolicy,
    GradeCategory,
    GradeItem,
    Score,
    ScoreChange,
    Lecture,
    CourseEvent,
    Assignment,
    Deliverable,
    Paper,
)


def course_rows(*, with_ids: bool = True) -> dict[str, list[Any]]:
    """Every row of every model a course file writes, model by model.

    Without ids, each foreign key is replaced by the content of the row it points to, so that a
    course deleted and loaded again compares equal to the original although its keys are new.
    """
    content: dict[tuple[type[models.Model], Any], Any] = {}
    tables: dict[str, list[Any]] = {}
    for model in COURSE_MODELS:
        rows = list(model._default_manager.order_by("pk").values())
        if not with_ids:
            for row in rows:
                pk = row.pop("id")
                for field in model._meta.concrete_fields:
                    if field.is_relation and field.related_model is not None:
                        target = (field.related_model, row[field.attname])
                        row[field.attname] = content.get(target)
                content[(model, pk)] = sorted(row.items())
            rows.sort(key=repr)
        tables[model._meta.label] = rows
    return tables


def edited_example(directory: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the example course, beside a copy of its roster, with ``edit`` applied."""
    document = yaml.safe_load(EXAMPLE_COURSE.read_text(encoding="utf-8"))
    edit(document)
    roster = document.get("roster")
    if roster:
        shutil.copy(EXAMPLE_COURSE.parent / roster, directory / roster)
    for entry in document.get("assignments", []):
        # A course file names only paths inside its folder: the copy gets its own autograders
        # and starter folders.
        for key in ("autograder", "starter"):
            if key in entry:
                shutil.copytree(
                    EXAMPLE_COURSE.parent / entry[key],
                    directory / entry[key],
                    dirs_exist_ok=True,
                )
    path = directory / EXAMPLE_COURSE.name
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def item_entry(document: dict[str, Any], slug: str) -> dict[str, Any]:
    for category in document["grading"]:
        for item in category["items"]:
            if item["slug"] == slug:
                return item
    raise KeyError(slug)


@pytest.fixture
def course() -> Course:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return course


def test_it_creates_one_course(course: Course) -> None:
    assert list(Course.objects.values_list("slug", "code", "term", "time_zone")) == [
        ("comp541-fall2024", "COMP441/541", "Fall 2024", "Europe/Istanbul")
    ]


def test_it_creates_seven_categories_weighted_as_in_the_file(course: Course) -> None:
    weights = list(course.categories.order_by("position").values_list("weight", flat=True))
    assert weights == [2, 20, 17, 36, 10, 5, 10]
    assert sum(weights) == 100


def test_it_creates_the_programming_quiz_and_the_four_programming_assignments(
    course: Course,
) -> None:
    assignments = Assignment.objects.filter(item__course=course).order_by("item__due_at")
    assert [(a.item.slug, a.handin_files) for a in assignments] == [
        ("quiz-programming", ["quiz.py"]),
        ("a1", ["mlp.py"]),
        ("a2", ["layers.py", "cnn.py"]),
        ("a3", ["rnn.py"]),
        ("a4", ["transformer.py", "gnn.py"]),
    ]


def test_it_creates_six_deliverables_weighted_as_in_the_file(course: Course) -> None:
    deliverables = Deliverable.objects.filter(item__course=course).order_by("item__position")
    assert [d.item.weight for d in deliverables] == [2, 4, 6, 8, 12, 4]


def test_it_creates_the_ten_papers(course: Course) -> None:
    assert course.papers.count() == 10


def test_it_enrols_one_instructor_two_tas_and_twelve_students(course: Course) -> None:
    roles = Counter(course.memberships.values_list("role", flat=True))
    assert roles == {Role.INSTRUCTOR: 1, Role.TA: 2, Role.STUDENT: 12}


def test_it_forms_five_groups_of_two_or_three_students(course: Course) -> None:
    sizes = [group.members.count() for group in course.project_groups.order_by("name")]
    assert sizes == [3, 3, 2, 2, 2]


def test_it_schedules_two_classes_and_a_problem_session_each_week(course: Course) -> None:
    assert course.lectures.count() == 44
    for week in range(1, 15):
        kinds = Counter(course.lectures.filter(week=week).values_list("kind", flat=True))
        classes = "presentations" if week == 11 else "lecture"
        assert kinds == {classes: 2, "problem_session": 1}, f"week {week}"


def test_it_holds_week_eleven_presentations_on_tuesday_and_thursday(course: Course) -> None:
    days = course.lectures.filter(week=11, kind="presentations").order_by("date")
    assert [day.date.strftime("%a") for day in days] == ["Tue", "Thu"]


def test_it_reads_the_theory_quiz_due_time_in_the_course_time_zone(course: Course) -> None:
    due = course.items.get(slug="quiz-theory").due_at
    assert due == datetime(2024, 10, 9, 20, 59, tzinfo=UTC)
    assert due == datetime(2024, 10, 9, 23, 59, tzinfo=ZoneInfo("Europe/Istanbul"))


def test_it_requires_passing_the_theory_quiz(course: Course) -> None:
    quiz = course.items.get(slug="quiz-theory")
    assert (quiz.required_to_pass, quiz.pass_mark) == (True, Decimal(50))


def test_it_gives_a_pool_of_seven_grace_days(course: Course) -> None:
    assert GracePolicy.objects.get(course=course).pool_days == 7


def letter_scale(course: Course) -> list[tuple[str, Decimal]]:
    return list(course.letter_grades.order_by("-minimum").values_list("letter", "minimum"))


def test_it_gives_the_example_course_the_letters_of_koc_university(course: Course) -> None:
    letters = [letter for letter, _ in letter_scale(course)]
    assert letters == ["A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "F"]
    assert letter_scale(course)[-1] == ("F", Decimal(0))


def test_it_reports_nothing_changed_on_a_second_load(course: Course) -> None:
    _, changes = course_file_load(path=EXAMPLE_COURSE)
    assert changes.changed is False


def test_it_leaves_every_row_as_it_was_on_a_second_load(course: Course) -> None:
    before = course_rows()
    course_file_load(path=EXAMPLE_COURSE)
    assert course_rows() == before


def test_it_says_what_the_command_changed(db: None) -> None:
    first, second = StringIO(), StringIO()
    call_command("load_course", str(EXAMPLE_COURSE), stdout=first)
    call_command("load_course", str(EXAMPLE_COURSE), stdout=second)
    assert first.getvalue().startswith("comp541-fall2024: created ")
    assert second.getvalue() == "comp541-fall2024: nothing changed\n"


def test_it_changes_nothing_when_an_unedited_copy_is_loaded(course: Course, tmp_path: Path) -> None:
    _, changes = course_file_load(path=edited_example(tmp_path, lambda document: None))
    assert changes.changed is False


def test_it_applies_a_changed_pair_of_weights(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        item_entry(document, "a1")["weight"] = 7
        item_entry(document, "a2")["weight"] = 3

    _, changes = course_file_load(path=edited_example(tmp_path, edit))
    assert changes.updated == {"grade items": 2}
    weights = dict(course.items.filter(slug__in=["a1", "a2"]).values_list("slug", "weight"))
    assert weights == {"a1": 7, "a2": 3}


def test_it_lets_an_item_without_a_weight_share_what_its_category_has_left(
    course: Course, tmp_path: Path
) -> None:
    def edit(document: dict[str, Any]) -> None:
        del item_entry(document, "contribution")["weight"]

    _, changes = course_file_load(path=edited_example(tmp_path, edit))
    assert changes.updated == {"grade items": 1}
    assert course.items.get(slug="contribution").weight is None


def test_it_applies_a_changed_regrade_window(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["course"]["regrade_window_days"] = 14

    _, changes = course_file_load(path=edited_example(tmp_path, edit))
    assert changes.updated == {"courses": 1}
    course.refresh_from_db()
    assert course.regrade_window_days == 14


def test_it_resets_the_regrade_window_when_the_file_no_longer_gives_it(
    course: Course, tmp_path: Path
) -> None:
    course_file_load(
        path=edited_example(tmp_path, lambda doc: doc["course"].update(regrade_window_days=3))
    )
    course_file_load(
        path=edited_example(tmp_path, lambda doc: doc["course"].pop("regrade_window_days"))
    )
    course.refresh_from_db()
    assert course.regrade_window_days == 7


def test_it_replaces_a_changed_letter_scale(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        scale = document["letter_scale"]
        scale.insert(0, {"letter": "A+", "min": 97})
        next(step for step in scale if step["letter"] == "A-")["min"] = 87
        scale[:] = [step for step in scale if step["letter"] != "D"]

    before = {row.letter: row.pk for row in course.letter_grades.all()}
    _, changes = course_file_load(path=edited_example(tmp_path, edit))
    assert (changes.created, changes.deleted) == ({"letter grades": 2}, {"letter grades": 2})
    assert letter_scale(course)[:3] == [
        ("A+", Decimal(97)),
        ("A", Decimal(90)),
        ("A-", Decimal(87)),
    ]
    assert "D" not in dict(letter_scale(course))
    assert course.letter_grades.get(letter="B").pk == before["B"], "an unchanged step was replaced"


def test_it_gives_a_bound_to_another_letter_in_one_load(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        # A from 85 takes A-'s bound, and A- leaves the scale.
        document["letter_scale"][0:2] = [{"letter": "A", "min": 85}]

    course_file_load(path=edited_example(tmp_path, edit))
    assert letter_scale(course)[:2] == [("A", Decimal(85)), ("B+", Decimal(80))]


def test_it_removes_the_letter_scale_when_the_file_no_longer_has_one(
    course: Course, tmp_path: Path
) -> None:
    _, changes = course_file_load(
        path=edited_example(tmp_path, lambda doc: doc.pop("letter_scale"))
    )
    assert changes.deleted == {"letter grades": 11}
    assert not LetterGrade.objects.filter(course=course).exists()


def test_it_moves_a_student_to_another_group(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["groups"][0]["members"].remove("student03")
        document["groups"][2]["members"].append("student03")

    course_file_load(path=edited_example(tmp_path, edit))
    group = GroupMembership.objects.get(course=course, student__username="student03").group
    assert group.name == "Group 3"


def test_it_moves_a_due_date(course: Course, tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        item_entry(document, "a2")["due"] = "2024-11-21 23:59"

    course_file_load(path=edited_example(tmp_path, edit))
    istanbul = ZoneInfo("Europe/Istanbul")
    assert course.items.get(slug="a2").due_at == datetime(2024, 11, 21, 23, 59, tzinfo=istanbul)


def without_last_review(document: dict[str, Any]) -> None:
    """The file without the last review item, and what names it: its paper and its rubric."""
    reviews = next(c for c in document["grading"] if c["category"] == "Paper Reviews")
    assert reviews["items"].pop()["slug"] == "review-w14"
    for paper in document["papers"]:
        if paper.get("review") == "review-w14":
            del paper["review"]
    for rubric in document["rubrics"]:
        if "review-w14" in rubric.get("items", []):
            rubric["items"].remove("review-w14")


def test_it_refuses_to_remove_an_item_that_has_scores(course: Course, tmp_path: Path) -> None:
    score_record(
        item=course.items.get(slug="review-w14"),
        student=User.objects.get(username="student01"),
        points=Decimal(8),
        source=ScoreSource.MANUAL,
        changed_by=None,
        reason="reviewed",
    )
    before = course_rows()
    with pytest.raises(CourseFileError, match=r"grading: .*'review-w14'.* scores"):
        course_file_load(path=edited_example(tmp_path, without_last_review))
    assert course_rows() == before


def test_it_deletes_a_removed_item_without_scores(course: Course, tmp_path: Path) -> None:
    _, changes = course_file_load(path=edited_example(tmp_path, without_last_review))
    assert changes.deleted == {"grade items": 1}
    assert not course.items.filter(slug="review-w14").exists()


def test_it_keeps_the_groups_when_the_file_has_no_groups_section(
    course: Course, tmp_path: Path
) -> None:
    before = sorted(course.project_groups.values_list("name", flat=True))
    _, changes = course_file_load(path=edited_example(tmp_path, lambda doc: doc.pop("groups")))
    assert not changes.changed
    assert sorted(course.project_groups.values_list("name", flat=True)) == before


def test_it_refuses_to_remove_a_group_that_has_handed_in_work(
    course: Course, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from submissions.services import submission_create

    group = course.project_groups.get(name="Group 5")
    proposal = TemporaryUploadedFile("proposal.pdf", "application/pdf", 0, None)
    proposal.write(b"%PDF-1.4\n%%EOF\n")
    proposal.flush()
    submission_create(
        handin=course.items.get(slug="proposal").deliverable,
        group=group,
        submitted_by=group.members.first(),
        upload=proposal,
    )
    before = course_rows()
    with pytest.raises(CourseFileError, match="Group 5, which other records"):
        course_file_load(path=edited_example(tmp_path, lambda doc: doc["groups"].pop()))
    assert course_rows() == before
