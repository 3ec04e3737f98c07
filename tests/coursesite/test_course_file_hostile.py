"""Course files written to break the loader are refused with a short ``FILE:LINE: key: problem``.

Each file is the small course of ``test_course_file_errors`` with one hostile change: aliases
that expand a few kilobytes into billions of values, nesting deeper than any course needs, a file
too large to be a course, values and keys too long to echo, and paths that lead outside the
course file's folder. None of them may take long, run out of memory or recursion, show more than
a short excerpt of what it holds, or write anything.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import MOST_BYTES, CourseFileError
from coursesite.models import Course
from tests.conftest import EXAMPLE_COURSE
from tests.coursesite.test_course_file_errors import ROSTER_HEADER, SMALL_COURSE, Document

pytestmark = pytest.mark.django_db

SHORT_MESSAGE = 300
ROSTER_ROWS = "student09,Ada Lovelace,ada@example.edu,1,9,ada\n"


def course_text(change: Callable[[Document], None] = lambda document: None) -> str:
    document = copy.deepcopy(SMALL_COURSE)
    change(document)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "course.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> CourseFileError:
    """The error of a refused file, after checking that it is short and that nothing was written."""
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    # The file's own name, a temporary path here, is not the file's to lengthen.
    message = str(caught.value).removeprefix(caught.value.file)
    assert len(message) < SHORT_MESSAGE, message[:SHORT_MESSAGE]
    assert not Course.objects.exists(), "a refused file wrote the course"
    return caught.value


def laughs(levels: int) -> str:
    """``grace_days.pool`` as a list whose aliases expand to 10 ** levels values."""
    lines = ["grace_days:", "  pool:", '    - &l0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"    - &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def without_grace(document: Document) -> None:
    del document["grace_days"]


@pytest.mark.parametrize("levels", [6, 9], ids=["a million values", "a billion values"])
def test_it_refuses_aliases_that_expand_beyond_the_budget(tmp_path: Path, levels: int) -> None:
    path = write(tmp_path, course_text(without_grace) + laughs(levels))
    error = refusal(path)
    assert error.key.startswith("grace_days.pool[5]")
    assert "the aliases of the file expand to more than" in error.problem
    assert error.line == 8 + len(course_text(without_grace).splitlines())


def test_it_refuses_nesting_deeper_than_the_limit(tmp_path: Path) -> None:
    depth = 20_000
    text = course_text(without_grace) + "grace_days: {pool: " + "[" * depth + "]" * depth + "}\n"
    error = refusal(write(tmp_path, text))
    assert error.key.startswith("grace_days.pool[0][0]")
    assert "nested more than 50 levels deep" in error.problem


def test_it_refuses_a_file_larger_than_the_limit_before_reading_it_as_yaml(
    tmp_path: Path,
) -> None:
    # A comment is valid YAML of any length: only the size can refuse this file.
    text = course_text() + "# " + "x" * MOST_BYTES + "\n"
    error = refusal(write(tmp_path, text))
    assert error.problem == f"the file is larger than {MOST_BYTES // 1_000_000} MB"


def test_it_shows_only_the_start_of_a_long_value_it_refuses(tmp_path: Path) -> None:
    def long_pool(document: Document) -> None:
        document["grace_days"]["pool"] = "lol" * 100_000

    error = refusal(write(tmp_path, course_text(long_pool)))
    assert error.key == "grace_days.pool"
    assert error.problem.startswith("expected a whole number, found 'lollol")


def test_it_shows_only_the_start_of_a_long_unknown_key(tmp_path: Path) -> None:
    def long_key(document: Document) -> None:
        document["course"]["k" * 100_000] = 1

    error = refusal(write(tmp_path, course_text(long_key)))
    assert error.key.startswith("course.kkkk")
    assert error.problem.startswith("unknown key")


def with_roster(name: str) -> Callable[[Document], None]:
    return lambda document: document.update(roster=name)


def test_it_refuses_a_roster_outside_the_folder_without_reading_it(tmp_path: Path) -> None:
    path = write(tmp_path, course_text(with_roster("/etc/passwd")))
    error = refusal(path)
    assert error.key == "roster"
    assert "inside the folder of the course file" in error.problem
    assert error.file == str(path)
    assert "root:" not in str(error)


def test_it_refuses_a_roster_in_the_folder_above(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text(ROSTER_HEADER + ROSTER_ROWS, encoding="utf-8")
    error = refusal(write(tmp_path / "course", course_text(with_roster("../outside.csv"))))
    assert error.key == "roster"
    assert "inside the folder of the course file" in error.problem
    assert "Ada" not in str(error)


def test_it_refuses_a_roster_that_links_outside_the_folder(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text(ROSTER_HEADER + ROSTER_ROWS, encoding="utf-8")
    path = write(tmp_path / "course", course_text(with_roster("roster.csv")))
    (path.parent / "roster.csv").symlink_to(tmp_path / "outside.csv")
    error = refusal(path)
    assert error.key == "roster"
    assert "inside the folder of the course file" in error.problem


def test_it_refuses_an_autograder_outside_the_folder(tmp_path: Path) -> None:
    bundle = EXAMPLE_COURSE.parent / "assignments" / "a1-mlp" / "bundle"

    def elsewhere(document: Document) -> None:
        document["assignments"] = [{"item": "a1", "handin": ["mlp.py"], "autograder": str(bundle)}]

    error = refusal(write(tmp_path, course_text(elsewhere)))
    assert error.key == "assignments[0].autograder"
    assert "inside the folder of the course file" in error.problem
