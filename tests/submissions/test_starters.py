"""An assignment's starter files: named by the course file, zipped and kept once per content,
downloaded from the hand-in page by students once the assignment opens (staff at any time), and
refused with a clear error when they are not a safe, small zip."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import Course, Membership, Role
from submissions.models import Assignment
from submissions.starters import STARTER_MAX_FILES, starter_names
from tests.conftest import EXAMPLE_COURSE, make_member
from tests.coursesite.test_pages import logged_in, page_text

pytestmark = pytest.mark.django_db

STARTER = {"README.md": "# A1\nStart from mlp.py.\n", "mlp.py": "def forward(x):\n    ...\n"}


@pytest.fixture
def course_file(tmp_path: Path, settings):
    """The example course with A1's starter in a folder of the test's own; ``write`` names it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "starter").mkdir()
    for name, text in STARTER.items():
        (tmp_path / "starter" / name).write_text(text)
    (tmp_path / "comp541-fall2024-roster.csv").write_bytes(
        EXAMPLE_COURSE.with_name("comp541-fall2024-roster.csv").read_bytes()
    )
    document = yaml.safe_load(EXAMPLE_COURSE.read_text())
    document["assignments"] = [{"item": "a1", "handin": ["mlp.py"], "starter": "starter"}]
    path = tmp_path / "course.yaml"

    def write(**changes: object) -> Path:
        document["assignments"][0].update(changes)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write, tmp_path


def a1() -> Assignment:
    return Assignment.objects.select_related("item__course").get(item__slug="a1")


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_it_zips_the_folder_once_and_again_only_when_it_changes(course_file) -> None:
    write, folder = course_file
    path = write()
    _, first = course_file_load(path=path)
    assert first.updated["starter files"] == 1
    with a1().starter.open("rb") as kept:
        archive = zipfile.ZipFile(io.BytesIO(kept.read()))
    assert sorted(archive.namelist()) == ["README.md", "mlp.py"]
    assert archive.read("mlp.py").decode() == STARTER["mlp.py"]

    _, again = course_file_load(path=path)
    assert not again.changed
    (folder / "starter" / "data.csv").write_text("x,y\n1,2\n")
    _, changed = course_file_load(path=path)
    assert changed.updated["starter files"] == 1
    with a1().starter.open("rb") as kept:
        assert "data.csv" in zipfile.ZipFile(io.BytesIO(kept.read())).namelist()


@pytest.mark.parametrize(
    ("starter", "problem"),
    [
        ("../outside", "leads outside; name a path inside the folder of the course file"),
        ("missing", "no folder or zip of that name beside the course file"),
        ("not-a-zip.zip", "The starter files must be one .zip archive."),
        ("big", "the starter files are over 20 MB"),
    ],
)
def test_it_refuses_starter_files_that_are_not_a_small_zip_inside_its_folder(
    course_file, starter: str, problem: str
) -> None:
    write, folder = course_file
    (folder / "not-a-zip.zip").write_text("hello")
    (folder / "big").mkdir()
    with (folder / "big" / "weights.bin").open("wb") as weights:
        weights.truncate(21 * 1024 * 1024)
    with pytest.raises(CourseFileError) as refused:
        course_file_load(path=write(starter=starter))
    assert "assignments[0].starter" in str(refused.value) and problem in str(refused.value)
    assert not Course.objects.exists()


def test_it_refuses_a_starter_folder_with_a_link(course_file) -> None:
    write, folder = course_file
    (folder / "starter" / "passwords").symlink_to("/etc/passwd")
    with pytest.raises(CourseFileError, match="may not hold symbolic links"):
        course_file_load(path=write())


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"../evil.py": b"x"}, "'../evil.py' in the starter archive is not a relative path."),
        ({"/etc/cron.d/x": b"x"}, "'/etc/cron.d/x' in the starter archive is not a relative path."),
        ({"C:/x.py": b"x"}, "'C:/x.py' in the starter archive is not a relative path."),
        ({}, "The starter archive holds no file."),
        (
            {f"f{n}.py": b"" for n in range(STARTER_MAX_FILES + 1)},
            f"The starter archive holds over {STARTER_MAX_FILES} files.",
        ),
    ],
)
def test_it_checks_an_uploaded_starter_zip(files: dict[str, bytes], problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        starter_names(zipped(files))
    assert refused.value.messages == [problem]


def test_the_panel_refuses_a_starter_that_is_not_a_zip(course_file) -> None:
    course_file_load(path=course_file[0]())
    assignment = a1()
    assignment.starter = SimpleUploadedFile("a1.zip", b"not a zip at all")
    with pytest.raises(ValidationError) as refused:
        assignment.full_clean()
    assert refused.value.message_dict["starter"] == ["The starter files must be one .zip archive."]


def test_students_download_it_from_the_hand_in_page_once_the_assignment_opens(
    course_file,
) -> None:
    course, _ = course_file_load(path=course_file[0]())
    assignment = a1()
    student = Membership.objects.filter(course=course, role=Role.STUDENT).first().user
    ta = Membership.objects.filter(course=course, role=Role.TA).first().user
    page = f"/courses/{course.slug}/assignments/{assignment.pk}/"
    download = f"{page}starter/"
    item = assignment.item

    item.opens_at = timezone.now() + timedelta(days=1)
    item.save(update_fields=["opens_at"])
    text = page_text(logged_in(student).get(page))
    assert "The starter files can be downloaded here once the assignment opens." in text
    assert logged_in(student).get(download).status_code == 404
    assert logged_in(ta).get(download).status_code == 200

    item.opens_at = timezone.now() - timedelta(hours=1)
    item.save(update_fields=["opens_at"])
    text = page_text(logged_in(student).get(page))
    assert "a1-starter.zip" in text and "README.md, mlp.py" in text
    response = logged_in(student).get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a1-starter.zip"'
    with assignment.starter.open("rb") as kept:
        assert b"".join(response.streaming_content) == kept.read()


def test_a_student_of_another_course_cannot_download_it(course_file, personas) -> None:
    course, _ = course_file_load(path=course_file[0]())
    outsider = make_member(personas.other_course, "mallory", Role.STUDENT)
    url = f"/courses/{course.slug}/assignments/{a1().pk}/starter/"
    assert logged_in(outsider).get(url).status_code == 404
    assert logged_in(personas.carol).get(url).status_code == 404


def test_the_demo_course_ships_a_starter_for_every_assignment() -> None:
    course_file_load(path=EXAMPLE_COURSE)
    for assignment in Assignment.objects.select_related("item"):
        with assignment.starter.open("rb") as kept:
            names = zipfile.ZipFile(io.BytesIO(kept.read())).namelist()
        assert "README.md" in names, assignment.item.slug
        assert set(assignment.handin_files) <= set(names), assignment.item.slug


def test_an_instructor_replaces_the_starter_in_the_panel(course_file) -> None:
    course, _ = course_file_load(path=course_file[0]())
    assignment = a1()
    instructor = Membership.objects.filter(course=course, role=Role.INSTRUCTOR).first().user
    new_zip = zipped({"README.md": b"# A1, second edition\n", "mlp.py": b"# start here\n"})
    url = f"/admin/submissions/assignment/{assignment.pk}/change/"
    response = logged_in(instructor).post(
        url,
        {
            "item": assignment.item.pk,
            "handin_files": '["mlp.py"]',
            "max_archive_bytes": assignment.max_archive_bytes,
            "starter": SimpleUploadedFile("second.zip", new_zip),
        },
    )
    assert response.status_code == 302, page_text(response)
    assignment = a1()
    with assignment.starter.open("rb") as kept:
        assert kept.read() == new_zip
    assert assignment.starter_sha256 == hashlib.sha256(new_zip).hexdigest()
    # Loading the course file again puts the folder's starter back: its content differs.
    _, changes = course_file_load(path=course_file[0]())
    assert changes.updated["starter files"] == 1
