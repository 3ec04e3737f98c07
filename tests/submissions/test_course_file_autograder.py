"""A course file names each assignment's autograder folder; loading uploads changed versions."""

import shutil

import pytest
import yaml

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from grading.models import AutograderBundle
from tests.conftest import EXAMPLE_COURSE
from tests.grading.conftest import PIPELINE_BUNDLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_file(tmp_path):
    shutil.copy(EXAMPLE_COURSE.with_name("comp541-fall2024-roster.csv"), tmp_path)
    shutil.copytree(PIPELINE_BUNDLE, tmp_path / "answer-bundle")
    document = yaml.safe_load(EXAMPLE_COURSE.read_text())
    document["assignments"] = [
        {"item": "a1", "handin": ["answer.py"], "autograder": "answer-bundle"},
    ]
    path = tmp_path / "course.yaml"

    def write(**changes):
        document["assignments"][0].update(changes)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write, tmp_path


def test_it_uploads_the_autograder_once_and_again_only_when_it_changes(
    course_file, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    write, folder = course_file
    path = write()
    _, first = course_file_load(path=path)
    assert first.created["autograder versions"] == 1
    _, again = course_file_load(path=path)
    assert not again.changed
    (folder / "answer-bundle" / "public").mkdir()
    (folder / "answer-bundle" / "public" / "hint.txt").write_text("think of 42\n")
    _, changed = course_file_load(path=path)
    assert changed.created["autograder versions"] == 1
    assert list(AutograderBundle.objects.values_list("version", flat=True).order_by("version")) == [
        1,
        2,
    ]


def test_it_refuses_an_autograder_that_grades_other_files(course_file):
    write, _ = course_file
    with pytest.raises(
        CourseFileError, match=r"grades the files answer\.py, but handin lists mlp\.py"
    ):
        course_file_load(path=write(handin=["mlp.py"]))
    assert not AutograderBundle.objects.exists()


def test_it_refuses_a_broken_autograder_before_writing_anything(course_file):
    write, folder = course_file
    (folder / "answer-bundle" / "grader.py").unlink()
    with pytest.raises(CourseFileError, match=r"assignments\[0\]\.autograder"):
        course_file_load(path=write())
    from coursesite.models import Course

    assert not Course.objects.exists()
