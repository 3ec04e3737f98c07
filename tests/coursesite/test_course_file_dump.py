"""Dumping a course: the file written back loads into the very course it came from."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.models import Course
from tests.conftest import EXAMPLE_COURSE
from tests.coursesite.test_course_file_load import course_rows

pytestmark = pytest.mark.django_db

# Every optional key the example leaves out (a regrade window of 0 days, which the dump must not
# take for "not set"), letters that YAML would read as a number or a boolean, bounds with
# decimals, and a due time in the hour that New York's clocks
# pass twice (2024-11-03 01:30), which is read as the first of the two.
EVERY_OPTION = """\
course:
  slug: every-option
  code: X100
  title: Every Option
  term: Year 2024
  time_zone: America/New_York
  starts_on: 2024-01-08
  ends_on: 2024-12-20
  group_size: {min: 1, max: 4}
  regrade_window_days: 0
people:
  - {username: prof, name: Madonna, role: instructor}
  - {username: s1, name: Ann Marie Lee, email: s1@example.edu, role: student, section: "02",
     sis_user_id: "12", sis_login_id: s1x}
  - {username: s2, name: Bo Ng, role: student}
groups:
  - {name: Solo, members: [s1]}
grace_days:
  pool: 3
  per_item_cap: 2
  slack_minutes: 15
  partial_day: ignored
  after_pool: percent_per_day
  penalty_percent_per_day: 12.5
grading:
  - category: Homework
    weight: 60.5
    drop_lowest: 1
    items:
      - {slug: h1, title: H1, points: 10.5, opens: "2024-03-09 09:00", due: "2024-03-11 02:30",
         released: true, uses_grace_days: true}
      - {slug: h2, title: H2, points: 20, due: "2024-11-03 01:30"}
  - category: Exam
    weight: 39.5
    items:
      - {slug: final, title: Final, points: 50, weight: 39.5, required_to_pass: true, pass_mark: 0}
letter_scale:
  - {letter: Pass+, min: 92.5}
  - {letter: 1, min: 50.25}
  - {letter: "No", min: 0}
assignments:
  - {item: h1, handin: [a.py, sub/b.py], max_archive_mb: 5}
deliverables:
  - {item: h2, handin: []}
papers:
  - {key: p1, title: "yes", authors: No One, year: 2000}
schedule:
  - week: 2
    events:
      - {title: Holiday, date: 2024-01-15}
  - week: 1
    topic: Intro
    meetings:
      - {kind: lecture, date: 2024-01-09, start: "9:00", end: "10:15", topic: Special}
      - {kind: exam, date: 2024-01-10, start: "09:00", end: "10:15", room: "On"}
      - {kind: lecture, date: 2024-01-11, start: "09:00", end: "10:15"}
"""


def dump_to(path: Path, course: Course) -> Path:
    path.write_text(course_file_dump(course), encoding="utf-8")
    return path


@pytest.fixture
def course() -> Course:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return course


@pytest.fixture
def every_option(tmp_path: Path) -> Course:
    path = tmp_path / "every-option.yaml"
    path.write_text(EVERY_OPTION, encoding="utf-8")
    course, _ = course_file_load(path=path)
    return course


def test_it_dumps_a_file_that_changes_nothing_when_loaded(course: Course, tmp_path: Path) -> None:
    _, changes = course_file_load(path=dump_to(tmp_path / "dump.yaml", course))
    assert changes.changed is False


def test_it_dumps_the_same_text_after_loading_its_own_dump(course: Course, tmp_path: Path) -> None:
    first = course_file_dump(course)
    course_file_load(path=dump_to(tmp_path / "dump.yaml", course))
    assert course_file_dump(course) == first


def without_starters(rows: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The rows without the assignments' starter zips, which a dump does not write back (it
    would name a folder the database does not know, as for an autograder)."""
    for row in rows["submissions.Assignment"]:
        row.pop("starter"), row.pop("starter_sha256")
    return rows


def test_it_recreates_a_deleted_course_from_its_dump(course: Course, tmp_path: Path) -> None:
    before = without_starters(course_rows(with_ids=False))
    path = dump_to(tmp_path / "dump.yaml", course)
    # A category protects its items from deletion, so the items go before the course.
    course.items.all().delete()
    course.delete()
    course_file_load(path=path)
    assert without_starters(course_rows(with_ids=False)) == before


def test_it_writes_due_times_in_the_course_time_zone(course: Course) -> None:
    document = yaml.safe_load(course_file_dump(course))
    quiz = document["grading"][0]["items"][0]
    assert (quiz["slug"], quiz["due"]) == ("quiz-theory", "2024-10-09 23:59")


def test_it_writes_every_option_back_so_that_a_reload_changes_nothing(
    every_option: Course, tmp_path: Path
) -> None:
    _, changes = course_file_load(path=dump_to(tmp_path / "dump.yaml", every_option))
    assert changes.changed is False


def test_it_writes_every_option_back_as_the_same_text_twice(
    every_option: Course, tmp_path: Path
) -> None:
    first = course_file_dump(every_option)
    course_file_load(path=dump_to(tmp_path / "dump.yaml", every_option))
    assert course_file_dump(every_option) == first


def test_it_reloads_a_due_time_in_the_repeated_hour_without_a_change(
    every_option: Course, tmp_path: Path
) -> None:
    path = tmp_path / "every-option.yaml"
    path.write_text(EVERY_OPTION, encoding="utf-8")
    _, changes = course_file_load(path=path)
    assert changes.changed is False


def test_it_writes_the_letter_scale_from_the_highest_bound_down(course: Course) -> None:
    scale = yaml.safe_load(course_file_dump(course))["letter_scale"]
    assert scale[:2] == [{"letter": "A", "min": 90}, {"letter": "A-", "min": 85}]
    assert scale[-1] == {"letter": "F", "min": 0}
    assert len(scale) == 11


def test_it_leaves_out_the_letter_scale_of_a_course_without_one(course: Course) -> None:
    course.letter_grades.all().delete()
    assert "letter_scale" not in yaml.safe_load(course_file_dump(course))


def test_it_writes_the_regrade_window_with_the_course(every_option: Course) -> None:
    assert yaml.safe_load(course_file_dump(every_option))["course"]["regrade_window_days"] == 0


def test_it_prints_the_dump_from_the_command(course: Course) -> None:
    out = StringIO()
    call_command("dump_course", course.slug, stdout=out)
    assert out.getvalue() == course_file_dump(course)


def test_it_refuses_to_dump_a_course_that_does_not_exist(db: None) -> None:
    with pytest.raises(CommandError, match="there is no course with the slug 'comp999'"):
        call_command("dump_course", "comp999")
