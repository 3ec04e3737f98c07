"""Bad course files: each is refused with a message that says where and what, and changes nothing.

Every bad file here is the small course below, which describes the example course again (same
slug, same people) with one mistake. The example course is loaded first, so a refused file that
wrote anything would show up as a changed row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from tests.conftest import EXAMPLE_COURSE
from tests.coursesite.test_course_file_load import course_rows

pytestmark = pytest.mark.django_db

Document = dict[str, Any]

SMALL_COURSE: Document = {
    "course": {
        "slug": "comp541-fall2024",
        "code": "COMP441/541",
        "title": "Deep Learning",
        "term": "Fall 2024",
        "time_zone": "Europe/Istanbul",
        "starts_on": "2024-10-07",
        "ends_on": "2025-01-26",
    },
    "people": [
        {"username": "aerdem", "name": "Aykut Erdem", "role": "instructor"},
        {"username": "abond", "name": "Andrew Bond", "role": "ta"},
        {"username": "student01", "name": "Elif Yılmaz", "role": "student"},  # noqa: RUF001
        {"username": "student02", "name": "Mert Kaya", "role": "student"},
        {"username": "student03", "name": "Zeynep Demir", "role": "student"},
        {"username": "student04", "name": "Can Şahin", "role": "student"},
    ],
    "groups": [{"name": "Group 1", "members": ["student01", "student02"]}],
    "grace_days": {"pool": 7},
    "grading": [
        {
            "category": "Quizzes",
            "weight": 40,
            "items": [
                {
                    "slug": "quiz-theory",
                    "title": "Self-Assessment Quiz (Theory)",
                    "points": 100,
                    "due": "2024-10-09 23:59",
                    "required_to_pass": True,
                    "pass_mark": 50,
                },
            ],
        },
        {
            "category": "Coursework",
            "weight": 60,
            "items": [
                {
                    "slug": "a1",
                    "title": "A1: MLPs and Backpropagation",
                    "points": 100,
                    "weight": 30,
                    "opens": "2024-10-22 17:10",
                    "due": "2024-11-05 23:59",
                    "uses_grace_days": True,
                },
                {"slug": "proposal", "title": "Project proposal", "points": 100, "weight": 30},
            ],
        },
    ],
    "letter_scale": [
        {"letter": "A", "min": 90},
        {"letter": "B", "min": 75},
        {"letter": "C", "min": 60},
        {"letter": "F", "min": 0},
    ],
    "assignments": [{"item": "a1", "handin": ["mlp.py"]}],
    "deliverables": [{"item": "proposal", "handin": ["proposal.pdf"]}],
    "papers": [
        {"key": "resnet", "title": "Deep Residual Learning", "authors": "Kaiming He", "year": 2016}
    ],
    "schedule": [
        {
            "week": 1,
            "topic": "Introduction to Deep Learning",
            "meetings": [
                {"kind": "lecture", "date": "2024-10-08", "start": "16:00", "end": "17:10"},
            ],
            "events": [{"title": "Self-Assessment Quiz (Theory)", "item": "quiz-theory"}],
        },
    ],
}

ROSTER_HEADER = "username,name,email,section,sis_user_id,sis_login_id\n"


@pytest.fixture
def rows_before(db: None) -> dict[str, list[Any]]:
    course_file_load(path=EXAMPLE_COURSE)
    return course_rows()


def write_course(directory: Path, mistake: Callable[[Document], None]) -> Path:
    document = copy.deepcopy(SMALL_COURSE)
    mistake(document)
    path = directory / "course.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_roster(directory: Path, text: str) -> Path:
    path = directory / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path, rows_before: dict[str, list[Any]]) -> CourseFileError:
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    assert course_rows() == rows_before, "a refused file changed the database"
    return caught.value


def command_refusal(path: Path, rows_before: dict[str, list[Any]]) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("load_course", str(path))
    assert course_rows() == rows_before, "a refused file changed the database"
    return str(caught.value)


def assert_names(
    error: CourseFileError, file: Path, key: str, problem: str, line_holds: str
) -> None:
    """The message is FILE:LINE: key.path: problem, and LINE is where the fault is."""
    assert str(error).startswith(f"{file}:{error.line}: {key}: "), str(error)
    assert problem in error.problem
    assert line_holds in file.read_text(encoding="utf-8").splitlines()[error.line - 1]


def test_it_accepts_the_small_course_without_a_mistake(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    _, changes = course_file_load(path=write_course(tmp_path, lambda document: None))
    assert changes.changed is True


def test_it_refuses_category_weights_that_do_not_add_up_to_100(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][0]["weight"] = 41

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "grading", "the category weights add up to 101.00, not 100", "grading:"
    )


def test_it_refuses_an_unknown_top_level_key(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["office_hours"] = "Mondays"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "office_hours", "unknown key", "office_hours:")


def test_it_refuses_an_unknown_key_inside_an_item(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["late_penalty"] = 10

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "grading[1].items[0].late_penalty", "unknown key", "late_penalty:")


def test_it_refuses_a_date_that_does_not_exist(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["course"]["ends_on"] = "2025-02-30"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "course.ends_on", "'2025-02-30' is not a date written YYYY-MM-DD", "ends_on:"
    )


def test_it_refuses_a_due_time_not_written_as_date_and_time(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][0]["items"][0]["due"] = "Oct 9, 23:59"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[0].items[0].due",
        "'Oct 9, 23:59' is not a date and time written YYYY-MM-DD HH:MM",
        "due:",
    )


def test_it_refuses_a_due_date_outside_the_term(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["due"] = "2025-02-05 23:59"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[1].items[0].due",
        "2025-02-05 is outside the term (2024-10-07 to 2025-01-26)",
        "due:",
    )


def test_it_refuses_a_due_time_the_clocks_skip(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["course"].update(time_zone="America/New_York", starts_on="2024-01-08")
        document["grading"][0]["items"][0]["due"] = "2024-03-10 02:30"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[0].items[0].due",
        "2024-03-10 02:30 does not exist in America/New_York (the clocks skip it)",
        "due:",
    )


def test_it_refuses_a_person_listed_twice(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["people"].append({"username": "student01", "name": "Elif Y.", "role": "student"})

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "people[6]", "'student01' is listed twice (first at people[2])", "student01"
    )


def test_it_refuses_a_student_listed_inline_and_in_the_roster(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    roster = write_roster(tmp_path, ROSTER_HEADER + "student03,Zeynep Demir,,1,0080003,\n")

    def mistake(document: Document) -> None:
        document["roster"] = roster.name

    error = refusal(write_course(tmp_path, mistake), rows_before)
    assert_names(
        error, roster, "row 1", "'student03' is listed twice (first at people[4])", "student03"
    )


def test_it_refuses_a_roster_with_an_unknown_column(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    roster = write_roster(tmp_path, "username,name,major\nstudent05,Ayşe Çelik,CS\n")

    def mistake(document: Document) -> None:
        document["roster"] = roster.name

    error = refusal(write_course(tmp_path, mistake), rows_before)
    assert_names(error, roster, "header", "unknown column(s) major", "major")


def test_it_refuses_a_duplicate_key(rows_before: dict[str, list[Any]], tmp_path: Path) -> None:
    path = write_course(tmp_path, lambda document: None)
    with path.open("a", encoding="utf-8") as file:
        file.write("grace_days:\n  pool: 3\n")
    line = len(path.read_text(encoding="utf-8").splitlines()) - 1
    message = command_refusal(path, rows_before)
    assert message.startswith(f"{path}:{line}: not valid YAML: the key 'grace_days' appears twice")


def test_it_refuses_item_weights_that_do_not_add_up_to_the_category_weight(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["weight"] = 35

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[1].items",
        "the items' weights add up to 65.00, not to the category's 60.00",
        "items:",
    )


def test_it_refuses_item_weights_that_add_up_to_less_than_the_category_weight(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["weight"] = 25

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[1].items",
        "the items' weights add up to 55.00, not to the category's 60.00",
        "items:",
    )


def test_it_refuses_own_weights_above_the_category_weight_beside_an_item_without_one(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["weight"] = 61
        del document["grading"][1]["items"][1]["weight"]

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[1].items",
        "the items' own weights add up to 61.00, more than the category's 60.00",
        "items:",
    )


def test_it_refuses_own_weights_that_leave_nothing_for_the_items_without_one(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["grading"][1]["items"][0]["weight"] = 60
        del document["grading"][1]["items"][1]["weight"]

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[1].items",
        "the items' own weights take all of the category's 60.00, leaving nothing for the "
        "items without one (proposal)",
        "items:",
    )


def test_it_accepts_an_item_without_a_weight_sharing_what_the_others_leave(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def change(document: Document) -> None:
        del document["grading"][1]["items"][1]["weight"]

    course, _ = course_file_load(path=write_course(tmp_path, change))
    assert course.items.get(slug="proposal").weight is None


def test_it_accepts_a_category_of_weight_0_whose_items_share_nothing(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def change(document: Document) -> None:
        document["grading"][0]["weight"] = 0
        document["grading"][1]["weight"] = 100
        document["grading"][1]["items"][1]["weight"] = 70

    course, _ = course_file_load(path=write_course(tmp_path, change))
    assert course.categories.get(name="Quizzes").weight == 0


def test_it_refuses_an_item_required_to_pass_without_a_pass_mark(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        del document["grading"][0]["items"][0]["pass_mark"]

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "grading[0].items[0]",
        "required_to_pass: true needs a pass_mark",
        "quiz-theory",
    )


def test_it_refuses_a_group_larger_than_the_course_allows(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["groups"][0]["members"] += ["student03", "student04"]

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "groups[0].members", "the group has 4 members; groups have 2 to 3", "members:"
    )


def test_it_refuses_a_group_member_who_is_not_a_student(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["groups"][0]["members"].append("abond")

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "groups[0].members", "'abond' is not a student of the course", "members:"
    )


def test_it_refuses_an_event_about_an_unknown_item(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["schedule"][0]["events"][0]["item"] = "quiz-practice"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "schedule[0].events[0].item",
        "no graded item has the slug 'quiz-practice'",
        "quiz-practice",
    )


def test_it_refuses_an_assignment_of_an_unknown_item(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["assignments"][0]["item"] = "a9"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "assignments[0].item", "no graded item has the slug 'a9'", "a9")


def test_it_refuses_an_item_that_is_both_an_assignment_and_a_deliverable(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["deliverables"].append({"item": "a1", "handin": []})

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "deliverables[1].item",
        "the item 'a1' is already listed under assignments",
        "item: a1",
    )


def test_it_refuses_text_that_is_not_yaml(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    path = tmp_path / "course.yaml"
    path.write_text("course: {slug: comp541-fall2024\ngrading: []\n", encoding="utf-8")
    message = command_refusal(path, rows_before)
    assert message.startswith(f"{path}:2: not valid YAML: expected ',' or '}}'")


def test_it_refuses_a_file_that_is_not_there(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    path = tmp_path / "nowhere.yaml"
    message = command_refusal(path, rows_before)
    assert message == f"{path}: no such file\nNothing was changed."


def test_it_refuses_an_unknown_time_zone(rows_before: dict[str, list[Any]], tmp_path: Path) -> None:
    def mistake(document: Document) -> None:
        document["course"]["time_zone"] = "Europe/Constantinople2"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "course.time_zone",
        "'Europe/Constantinople2' is not an IANA time zone",
        "time_zone:",
    )


def test_it_refuses_a_role_that_does_not_exist(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["people"][1]["role"] = "assistant"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "people[1].role",
        "'assistant' is not a role (use one of instructor, ta, student)",
        "role: assistant",
    )


def test_it_refuses_an_email_address_that_is_not_one(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["people"][2]["email"] = "student01@"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "people[2].email", "'student01@' is not an email address", "student01@"
    )


def test_it_refuses_a_section_longer_than_a_membership_holds(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["people"][2]["section"] = "Section " + "1" * 25

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "people[2].section", "at most 32 are allowed", "section:")


def test_it_refuses_a_regrade_window_longer_than_a_year(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["course"]["regrade_window_days"] = 400

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "course.regrade_window_days", "400 is not between 0 and 365", "regrade_window"
    )


def test_it_refuses_a_regrade_window_that_is_not_whole_days(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["course"]["regrade_window_days"] = 2.5

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "course.regrade_window_days",
        "expected a whole number, found 2.5",
        "regrade_window",
    )


def test_it_refuses_an_empty_letter_scale(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"] = []

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "letter_scale", "a letter scale needs at least one step", "letter_scale:"
    )


def test_it_refuses_a_letter_scale_of_more_than_20_steps(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"] = [{"letter": f"L{n}", "min": 100 - 5 * n} for n in range(21)]

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "letter_scale", "the scale has 21 steps; at most 20", "letter_scale:")


def test_it_refuses_a_letter_listed_twice(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][2]["letter"] = "B"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error, path, "letter_scale[2].letter", "the letter 'B' is listed twice", "letter: B"
    )


def test_it_refuses_a_letter_longer_than_8_characters(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][0]["letter"] = "Excellent"

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "letter_scale[0].letter",
        "is 9 characters long; at most 8 are allowed",
        "Excellent",
    )


def test_it_refuses_a_letter_bound_above_100(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][0]["min"] = 101

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "letter_scale[0].min", "101 is out of range (0 to 100)", "min: 101")


def test_it_refuses_a_letter_bound_below_0(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][3]["min"] = -1

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(error, path, "letter_scale[3].min", "-1 is out of range (0 to 100)", "min: -1")


def test_it_refuses_a_letter_bound_above_the_one_before_it(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][1]["min"] = 92

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "letter_scale[1].min",
        "92.00 is above the bound of 'A' (90.00), the step before it; list the steps from the "
        "highest bound down, each bound once",
        "min: 92",
    )


def test_it_refuses_two_letters_with_the_same_bound(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][2]["min"] = 75

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "letter_scale[2].min",
        "75.00 is also the bound of 'B' (75.00), the step before it",
        "min: 75",
    )


def test_it_refuses_a_letter_scale_without_a_step_at_0(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][3]["min"] = 45

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "letter_scale",
        "the lowest step, 'F', starts at 45.00: a total below it would have no letter, so the "
        "last step starts at 0",
        "letter_scale:",
    )


def test_it_refuses_a_letter_step_that_names_its_bound_otherwise(
    rows_before: dict[str, list[Any]], tmp_path: Path
) -> None:
    def mistake(document: Document) -> None:
        document["letter_scale"][0] = {"letter": "A", "minimum": 90}

    path = write_course(tmp_path, mistake)
    error = refusal(path, rows_before)
    assert_names(
        error,
        path,
        "letter_scale[0].minimum",
        "unknown key (known keys here: letter, min)",
        "minimum: 90",
    )
