"""A hand-in's stored file: who gets it, and how it is served (a PDF inline, the rest as a
download, always sandboxed, framed by this site only)."""

from __future__ import annotations

import pytest
from django.test import Client

from coursesite.models import Role
from submissions.models import Submission
from submissions.services import submission_create
from tests.conftest import make_member
from tests.coursesite.test_pages import logged_in
from tests.submissions.conftest import HandIns, zip_of
from tests.submissions.test_pages import temporary_upload

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
MLP = zip_of({"mlp.py": b"import numpy as np\n"})


def file_url(submission: Submission, slug: str | None = None) -> str:
    return f"/courses/{slug or submission.item.course.slug}/submissions/{submission.pk}/file/"


def group_pdf(handins: HandIns) -> Submission:
    """Group 1's proposal, a single PDF handed in by Carol."""
    return submission_create(
        handin=handins.deliverable,
        group=handins.group,
        submitted_by=handins.personas.carol,
        upload=temporary_upload("proposal.pdf", PDF),
    )


def carols_zip(handins: HandIns, name: str = "handin.zip") -> Submission:
    carol = handins.personas.carol
    return submission_create(
        handin=handins.assignment,
        student=carol,
        submitted_by=carol,
        upload=temporary_upload(name, MLP),
    )


def body(answer) -> bytes:
    return b"".join(answer.streaming_content)


@pytest.mark.parametrize("who", ["carol", "alice", "bob"])
def test_it_serves_a_students_own_hand_in_to_them_and_to_staff(handins, who):
    submission = carols_zip(handins)
    answer = logged_in(getattr(handins.personas, who)).get(file_url(submission))
    assert answer.status_code == 200
    assert body(answer) == MLP


def test_it_serves_a_group_hand_in_to_the_member_who_did_not_upload_it(handins):
    answer = logged_in(handins.erin).get(file_url(group_pdf(handins)))
    assert (answer.status_code, body(answer)) == (200, PDF)


@pytest.mark.parametrize("kind", ["assignment", "deliverable"])
@pytest.mark.parametrize("who", ["classmate", "outsider"])
def test_it_answers_404_to_another_student_of_the_course_or_an_outsider(handins, kind, who):
    submission = carols_zip(handins) if kind == "assignment" else group_pdf(handins)
    # Frank is in the course but not in Carol's group; Dave is a student of another course.
    frank = make_member(handins.personas.course, "frank", Role.STUDENT)
    user = frank if who == "classmate" else handins.personas.dave
    answer = logged_in(user).get(file_url(submission))
    assert answer.status_code == 404


def test_it_answers_404_to_a_group_mate_for_a_students_own_assignment(handins):
    answer = logged_in(handins.erin).get(file_url(carols_zip(handins)))
    assert answer.status_code == 404


def test_it_sends_an_anonymous_visitor_to_the_login_page(handins):
    url = file_url(carols_zip(handins))
    answer = Client().get(url)
    assert (answer.status_code, answer["Location"]) == (302, f"/accounts/login/?next={url}")


def test_it_answers_404_for_a_hand_in_under_another_courses_address(handins):
    submission = carols_zip(handins)
    other = handins.personas.other_course.slug
    answer = logged_in(handins.personas.alice).get(file_url(submission, other))
    assert answer.status_code == 404


def test_it_answers_404_for_a_hand_in_that_does_not_exist(handins):
    answer = logged_in(handins.personas.alice).get("/courses/dl-fall2024/submissions/999/file/")
    assert answer.status_code == 404


def test_it_shows_a_single_pdf_inline_sandboxed_and_framed_by_this_site_only(handins):
    answer = logged_in(handins.personas.bob).get(file_url(group_pdf(handins)))
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == 'inline; filename="proposal.pdf"'
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["X-Frame-Options"] == "SAMEORIGIN"


def test_it_sends_an_archive_as_a_download_under_its_uploaded_name(handins):
    answer = logged_in(handins.personas.carol).get(file_url(carols_zip(handins)))
    assert answer["Content-Type"] == "application/octet-stream"
    assert answer["Content-Disposition"] == 'attachment; filename="handin.zip"'
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ('my "best" try.zip', 'attachment; filename="my \\"best\\" try.zip"'),
        ("ödev 1.zip", "attachment; filename*=utf-8''%C3%B6dev%201.zip"),
    ],
)
def test_it_quotes_the_uploaded_name_safely(handins, name, disposition):
    answer = logged_in(handins.personas.carol).get(file_url(carols_zip(handins, name)))
    assert answer["Content-Disposition"] == disposition


def test_it_lets_no_other_page_be_framed(handins):
    page = f"/courses/{handins.personas.course.slug}/assignments/{handins.assignment.pk}/"
    assert logged_in(handins.personas.carol).get(page)["X-Frame-Options"] == "DENY"


def test_it_links_each_hand_in_from_the_students_history(handins):
    submission = group_pdf(handins)
    course = handins.personas.course.slug
    page = logged_in(handins.erin).get(f"/courses/{course}/deliverables/{handins.deliverable.pk}/")
    assert f'href="{file_url(submission)}"' in page.content.decode()


def test_it_links_each_hand_in_from_the_staff_page(handins):
    first, second = carols_zip(handins), carols_zip(handins, "second.zip")
    course = handins.personas.course.slug
    page = logged_in(handins.personas.bob).get(
        f"/courses/{course}/assignments/{handins.assignment.pk}/"
    )
    html = page.content.decode()
    assert f'href="{file_url(first)}"' in html
    assert f'href="{file_url(second)}"' in html
