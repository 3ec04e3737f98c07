"""Presenters of the demo course: the fair assignment written to the slots, staff's pins and swaps
(accepted, or refused with the rule they would break), the reads pages use, the command, and a
reload of the course file that keeps them.

The demo course gets its ``presentations`` section here: the item, seed 0, and student01
blocked in weeks 5 and 6.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from coursesite.course_file.load import course_file_load
from coursesite.models import Course
from presentations.assignment import Slot, assignment_problems
from presentations.models import PRESENTING_ROLES, PresentationPolicy, Presenter, SlotRole
from presentations.selectors import fellow_presenters, presentations_of, slots_of_course
from presentations.slots import (
    presenter_pin,
    presenter_remove,
    presenter_unpin,
    presenters_assign,
    presenters_swap,
)
from tests.coursesite.test_course_file_load import edited_example

pytestmark = pytest.mark.django_db

PAPERS = [
    "alexnet", "dropout", "batchnorm", "resnet", "gcn",
    "transformer", "bert", "t5", "scaling-laws", "gpt3",
]  # fmt: skip


def with_presentations(document: dict[str, Any]) -> None:
    document["presentations"] = {
        "item": "paper-presentation",
        "seed": 0,
        "blocked": [{"student": "student01", "weeks": [5, 6], "reason": "A conference"}],
    }


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    return edited_example(tmp_path, with_presentations)


@pytest.fixture
def course(course_file: Path) -> Course:
    course, _ = course_file_load(path=course_file)
    return course


def student(username: str) -> User:
    return User.objects.get(username=username)


def role(paper: str, name: str) -> SlotRole:
    return SlotRole.objects.select_related("slot__paper").get(slot__paper__key=paper, role=name)


def holders(course: Course) -> dict[tuple[str, str], list[str]]:
    """Who holds each presenting role, by paper key and role."""
    return {
        (slot.paper.key, slot_role.role): [p.student.username for p in slot_role.presenters.all()]
        for slot in slots_of_course(course)
        for slot_role in slot.roles.all()
        if slot_role.role in PRESENTING_ROLES
    }


def pinned(course: Course) -> set[tuple[str, str, str]]:
    return {
        (p.student.username, p.slot_role.slot.paper.key, p.slot_role.role)
        for p in Presenter.objects.filter(slot__paper__course=course, pinned=True).select_related(
            "student", "slot_role__slot__paper"
        )
    }


def clear(course: Course) -> None:
    Presenter.objects.filter(slot__paper__course=course).delete()


def test_it_assigns_the_demo_slots_by_the_rules(course: Course) -> None:
    result = presenters_assign(course=course)

    groups = holders(course)
    assert (result.seed, result.kept, result.placed) == (0, 0, 30)
    assert sorted(groups) == sorted((paper, r) for paper in PAPERS for r in PRESENTING_ROLES)
    assert {len(names) for names in groups.values()} == {1}
    counts = Counter(name for names in groups.values() for name in names)
    assert result.counts == dict(sorted(counts.items()))
    assert sorted(counts.values()) == [2] * 6 + [3] * 6
    weeks = {paper: week for week, paper in enumerate(PAPERS, start=5)}
    assert all(weeks[paper] > 6 for (paper, _), names in groups.items() if "student01" in names)
    slots = [Slot(paper, weeks[paper], tuple(PRESENTING_ROLES)) for paper in PAPERS]
    problems = assignment_problems(
        students=[f"student{n:02d}" for n in range(1, 13)],
        slots=slots,
        blocked=[("student01", 5), ("student01", 6)],
        assignment=groups,
    )
    assert problems == []
    assert not Presenter.objects.filter(slot_role__role="qa").exists()


def test_it_gives_the_same_presenters_for_the_same_seed(course: Course) -> None:
    presenters_assign(course=course, seed=3)
    first = holders(course)
    presenters_assign(course=course, seed=4)
    presenters_assign(course=course, seed=3)
    assert holders(course) == first


def test_it_uses_the_course_s_seed_unless_given_one(course: Course) -> None:
    presenters_assign(course=course, seed=0)
    first = holders(course)
    assert presenters_assign(course=course).seed == 0
    assert holders(course) == first


def test_it_keeps_pinned_presenters_when_it_assigns_again(course: Course) -> None:
    presenters_assign(course=course)
    clear(course)
    presenter_pin(slot_role=role("gcn", "strengths"), student=student("student05"))

    result = presenters_assign(course=course, seed=8)

    assert (result.kept, result.placed) == (1, 29)
    assert pinned(course) == {("student05", "gcn", "strengths")}
    assert holders(course)[("gcn", "strengths")] == ["student05"]


def test_it_refuses_to_pin_a_student_in_a_blocked_week(course: Course) -> None:
    with pytest.raises(ValidationError) as refused:
        presenter_pin(slot_role=role("alexnet", "overview"), student=student("student01"))
    assert refused.value.messages == [
        "student01 presents in alexnet in week 5, a week they are blocked: a student never "
        "presents in a week they are blocked"
    ]
    assert not Presenter.objects.exists()


def test_it_refuses_to_give_a_student_a_second_role_in_a_slot(course: Course) -> None:
    presenter_pin(slot_role=role("bert", "overview"), student=student("student02"))
    with pytest.raises(ValidationError, match="student02 holds both the overview and the "
                       "strengths of bert: a student holds one role per slot"):  # fmt: skip
        presenter_pin(slot_role=role("bert", "strengths"), student=student("student02"))


def test_it_refuses_the_same_role_twice_in_a_row(course: Course) -> None:
    presenter_pin(slot_role=role("batchnorm", "overview"), student=student("student02"))
    with pytest.raises(ValidationError) as refused:
        presenter_pin(slot_role=role("resnet", "overview"), student=student("student02"))
    assert refused.value.messages == [
        "student02 holds the overview of batchnorm and then of resnet, two presentations in a "
        "row: a student never holds the same role in two presentations in a row"
    ]


def test_it_refuses_a_presenter_who_is_not_a_student_of_the_course(course: Course) -> None:
    with pytest.raises(ValidationError, match="aerdem holds the overview of gcn but is not a "
                       "student of the course"):  # fmt: skip
        presenter_pin(slot_role=role("gcn", "overview"), student=student("aerdem"))


def test_it_refuses_a_presenter_of_questions_and_answers(course: Course) -> None:
    with pytest.raises(ValidationError, match="belong to the whole class"):
        presenter_pin(slot_role=role("gcn", "qa"), student=student("student02"))


def test_it_pins_a_student_already_in_place_and_unpins_and_removes(course: Course) -> None:
    presenters_assign(course=course)
    held = Presenter.objects.select_related("slot_role", "student").filter(
        slot__paper__course=course
    )[0]
    again = presenter_pin(slot_role=held.slot_role, student=held.student)
    assert (again.pk, again.pinned) == (held.pk, True)
    assert presenter_unpin(presenter=again).pinned is False
    presenter_remove(presenter=again)
    assert not Presenter.objects.filter(pk=held.pk).exists()


def test_it_swaps_two_students_and_pins_both(course: Course) -> None:
    first = presenter_pin(slot_role=role("gcn", "overview"), student=student("student02"))
    second = presenter_pin(slot_role=role("bert", "weaknesses"), student=student("student03"))
    presenter_unpin(presenter=first)

    presenters_swap(first=first, second=second)

    assert pinned(course) == {("student03", "gcn", "overview"), ("student02", "bert", "weaknesses")}


def test_it_swaps_two_roles_within_a_slot(course: Course) -> None:
    first = presenter_pin(slot_role=role("gcn", "overview"), student=student("student02"))
    second = presenter_pin(slot_role=role("gcn", "strengths"), student=student("student03"))
    presenters_swap(first=first, second=second)
    assert pinned(course) == {("student03", "gcn", "overview"), ("student02", "gcn", "strengths")}


def test_it_refuses_a_swap_that_repeats_a_role_and_names_the_rule(course: Course) -> None:
    presenter_pin(slot_role=role("batchnorm", "overview"), student=student("student02"))
    moved = presenter_pin(slot_role=role("resnet", "strengths"), student=student("student02"))
    other = presenter_pin(slot_role=role("gcn", "overview"), student=student("student03"))
    before = pinned(course)

    with pytest.raises(ValidationError) as refused:
        presenters_swap(first=moved, second=other)

    assert refused.value.messages == [
        "student02 holds the overview of batchnorm and then of gcn, two presentations in a "
        "row: a student never holds the same role in two presentations in a row"
    ]
    assert pinned(course) == before


def test_it_refuses_a_swap_into_a_blocked_week(course: Course) -> None:
    first = presenter_pin(slot_role=role("alexnet", "overview"), student=student("student02"))
    second = presenter_pin(slot_role=role("gcn", "overview"), student=student("student01"))
    with pytest.raises(ValidationError, match="student01 presents in alexnet in week 5, a week "
                       "they are blocked"):  # fmt: skip
        presenters_swap(first=first, second=second)


def test_it_keeps_the_presenters_when_the_course_file_is_loaded_again(
    course: Course, course_file: Path
) -> None:
    presenters_assign(course=course)
    held = Presenter.objects.select_related("slot_role", "student")[0]
    presenter_pin(slot_role=held.slot_role, student=held.student)
    before = (holders(course), pinned(course))

    _, changes = course_file_load(path=course_file)

    assert changes.summary() == "nothing changed"
    assert (holders(course), pinned(course)) == before


def test_it_reads_the_course_s_slots_in_three_queries(
    course: Course, django_assert_num_queries: Any
) -> None:
    presenters_assign(course=course)
    with django_assert_num_queries(3):
        seen = [
            (
                slot.paper.key,
                slot.date,
                [(r.role, r.minutes, len(r.presenters.all())) for r in slot.roles.all()],
            )
            for slot in slots_of_course(course)
        ]
    assert [key for key, _, _ in seen] == PAPERS
    assert seen[0][1] == date(2024, 11, 8)  # the problem session of week 5
    assert seen[0][2] == [
        ("overview", 14, 1),
        ("strengths", 8, 1),
        ("weaknesses", 8, 1),
        ("qa", 10, 0),
    ]


def test_it_reads_a_student_s_presentations_with_their_fellows_in_two_queries(
    course: Course, django_assert_num_queries: Any
) -> None:
    PresentationPolicy.objects.filter(course=course).update(presenters_per_role=2)
    presenters_assign(course=course)
    groups = holders(course)
    mine = [place for place, names in groups.items() if "student02" in names]
    slots = {slot.paper.key: slot for slot in slots_of_course(course)}
    who = student("student02")
    with django_assert_num_queries(2):
        found = presentations_of(course=course, student=who)
        fellows = [[user.username for user in fellow_presenters(p)] for p in found]
        seen = [
            (p.slot.paper.key, p.slot.date, p.slot_role.role, p.slot_role.minutes, p.pinned)
            for p in found
        ]
    assert [(key, role) for key, _, role, _, _ in seen] == mine
    assert fellows == [[name for name in groups[place] if name != "student02"] for place in mine]
    assert all(len(names) == 1 for names in fellows)
    minutes = {
        (key, slot_role.role): slot_role.minutes
        for key, slot in slots.items()
        for slot_role in slot.roles.all()
    }
    assert [(day, length, held) for _, day, _, length, held in seen] == [
        (slots[key].date, minutes[(key, role)], False) for key, role in mine
    ]


# The command.


def test_it_assigns_and_prints_the_table_from_the_command(course: Course) -> None:
    out = StringIO()
    call_command("assign_presenters", course.slug, "--seed", "2", stdout=out)
    text = out.getvalue()
    assert text.startswith(
        "comp541-fall2024: assigned with seed 2: 30 places filled, 0 pinned kept (marked *)."
    )
    groups = holders(course)
    first = groups[("alexnet", "overview")][0]
    row = f"{'2024-11-08':<10}  {'alexnet':<20}  {'overview':<10}  {first}"
    assert row in text.splitlines()
    counts = Counter(name for names in groups.values() for name in names)
    assert f"{'student01':<20}  {counts['student01']}" in text.splitlines()


def test_it_refuses_an_unknown_course_from_the_command(db: None) -> None:
    with pytest.raises(CommandError, match="there is no course with the slug 'comp999'"):
        call_command("assign_presenters", "comp999")


def test_it_refuses_an_impossible_assignment_from_the_command_and_changes_nothing(
    tmp_path: Path,
) -> None:
    def everybody_away_in_week_7(document: dict[str, Any]) -> None:
        with_presentations(document)
        document["presentations"]["blocked"] = [
            {"student": f"student{n:02d}", "weeks": [7]} for n in range(1, 13)
        ]

    course, _ = course_file_load(path=edited_example(tmp_path, everybody_away_in_week_7))
    presenter_pin(slot_role=role("alexnet", "overview"), student=student("student02"))

    with pytest.raises(CommandError) as refused:
        call_command("assign_presenters", course.slug)

    assert "only 0 students are free to present in week 7" in str(refused.value)
    assert "No presenter was changed." in str(refused.value)
    assert pinned(course) == {("student02", "alexnet", "overview")}


# The instructor panel checks a presenter like a pin.


def test_it_refuses_a_presenter_in_a_blocked_week_in_the_panel(course: Course) -> None:
    client = Client()
    client.force_login(student("aerdem"))
    place = role("alexnet", "overview")
    url = f"/admin/presentations/slotrole/{place.pk}/change/"
    assert client.get(url).status_code == 200
    form = {
        "minutes": "14",
        "position": "0",
        "presenters-TOTAL_FORMS": "1",
        "presenters-INITIAL_FORMS": "0",
        "presenters-0-student": str(student("student01").pk),
        "presenters-0-pinned": "on",
    }

    refused = client.post(url, form)

    assert refused.status_code == 200
    assert "a week they are blocked" in refused.content.decode()
    assert not Presenter.objects.exists()

    form["presenters-0-student"] = str(student("student02").pk)
    assert client.post(url, form).status_code == 302
    assert pinned(course) == {("student02", "alexnet", "overview")}
