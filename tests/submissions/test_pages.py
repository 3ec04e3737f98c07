"""The hand-in pages: a student's work, handing in, activating, the grace-day table."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client
from django.utils import timezone

from coursesite.models import GradeCategory, GradeItem, GroupMembership, ProjectGroup, Role
from submissions.models import Assignment, Deliverable, Submission
from submissions.services import extension_grant, submission_create
from tests.conftest import make_member
from tests.coursesite.test_pages import logged_in, page_text
from tests.submissions.conftest import HandIns, stored_files, zip_of

ISTANBUL = ZoneInfo("Europe/Istanbul")
MLP = zip_of({"mlp.py": b"import numpy as np\n"})

# Session, user, membership with its course and grace policy, the student's group, their active
# hand-ins, their extensions, the assignments and deliverables, and the grace ledger of the student
# (students, groups, items, extensions, hand-ins).
WORK_PAGE_QUERIES = 12
# Session, user, membership with its course and grace policy, the assignments and deliverables,
# the students, and the grace ledger's other five.
GRACE_TABLE_QUERIES = 10


def page(handins: HandIns, kind: str = "assignments") -> str:
    handin = handins.assignment if kind == "assignments" else handins.deliverable
    return f"/courses/{handins.personas.course.slug}/{kind}/{handin.pk}/"


def work(handins: HandIns) -> str:
    return f"/courses/{handins.personas.course.slug}/work/"


def grace_days(handins: HandIns) -> str:
    return f"/courses/{handins.personas.course.slug}/grace-days/"


def upload(client: Client, url: str, content: bytes, name: str = "handin.zip", **extra):
    return client.post(url, {"file": SimpleUploadedFile(name, content)}, **extra)


def temporary_upload(name: str, content: bytes) -> TemporaryUploadedFile:
    """An upload as the site receives it: in a temporary file, which the service checks in place."""
    upload = TemporaryUploadedFile(name, "application/octet-stream", len(content), None)
    upload.write(content)
    upload.seek(0)
    return upload


def hand_in(handins: HandIns, user, content: bytes = MLP, **owner) -> Submission:
    """A hand-in made by the service itself, for tests about what the pages show."""
    handin = handins.deliverable if "group" in owner else handins.assignment
    return submission_create(
        handin=handin,
        submitted_by=user,
        upload=temporary_upload("handin.zip", content),
        **(owner or {"student": user}),
    )


def due(handins: HandIns, when: datetime) -> None:
    item = handins.assignment.item
    item.due_at = when
    item.save(update_fields=["due_at"])


@pytest.mark.parametrize("path", ["work/", "grace-days/", "assignments/1/", "students/carol/work/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(handins, path):
    url = f"/courses/{handins.personas.course.slug}/{path}"
    answer = Client().get(url)
    assert (answer.status_code, answer["Location"]) == (302, f"/accounts/login/?next={url}")


def test_it_shows_the_due_date_in_the_course_time_zone_and_names_the_zone(handins):
    due(handins, datetime(2024, 11, 5, 23, 59, tzinfo=ISTANBUL))
    text = page_text(logged_in(handins.personas.carol).get(work(handins)))
    assert "A1 assignment grace days Due Tue 5 Nov 2024, 23:59 (Europe/Istanbul)" in text


def test_it_shows_the_students_extension_beside_the_due_date(handins):
    due(handins, datetime(2024, 11, 5, 23, 59, tzinfo=ISTANBUL))
    extension_grant(
        item=handins.assignment.item, student=handins.personas.carol, reason="ill",
        due_at=datetime(2024, 11, 8, 12, 0, tzinfo=ISTANBUL), granted_by=handins.personas.bob,
    )  # fmt: skip
    text = page_text(logged_in(handins.personas.carol).get(work(handins)))
    assert "Extended to Fri 8 Nov 2024, 12:00 (Europe/Istanbul)" in text


def test_it_shows_the_active_hand_in_with_its_lateness_and_the_pool_left(handins):
    carol = handins.personas.carol
    due(handins, timezone.now() - timedelta(days=1, hours=2))
    hand_in(handins, carol)
    text = page_text(logged_in(carol).get(work(handins)))
    assert "Grace days left: 5 of 7" in text
    assert f"handin.zip ({len(MLP)} bytes)" in text
    assert "Days late 2 Grace days used 2 Penalty 0% Grace days left after it 5" in text


def test_it_shows_the_penalty_of_late_work_that_uses_no_grace_days(handins):
    carol, group = handins.personas.carol, handins.group
    item = handins.deliverable.item
    item.due_at = timezone.now() - timedelta(hours=3)
    item.save(update_fields=["due_at"])
    hand_in(handins, carol, zip_of({"proposal.pdf": b"%PDF-1.4\n"}), group=group)
    text = page_text(logged_in(carol).get(work(handins)))
    assert "Days late 1 Grace days used 0 Penalty 100% Grace days left after it 7" in text


def test_it_hands_in_through_the_page_and_says_so(handins):
    client = logged_in(handins.personas.carol)
    answer = upload(client, page(handins), MLP, follow=True)
    assert answer.redirect_chain == [(page(handins), 302)]
    submission = Submission.objects.get()
    assert (submission.student, submission.filename, submission.active) == (
        handins.personas.carol,
        "handin.zip",
        True,
    )
    assert "Handed in handin.zip at" in page_text(answer)


def test_it_shows_the_archive_error_with_400_and_stores_nothing(handins):
    client = logged_in(handins.personas.carol)
    answer = upload(client, page(handins), zip_of({"model.py": b"x = 1\n"}))
    assert answer.status_code == 400
    assert "Required files are missing: mlp.py." in page_text(answer)
    assert (Submission.objects.count(), stored_files()) == (0, [])


def test_it_asks_for_a_file_when_the_form_has_none(handins):
    answer = logged_in(handins.personas.carol).post(page(handins), {})
    assert answer.status_code == 400
    assert "Choose the file to hand in." in page_text(answer)


def test_it_refuses_an_upload_before_the_item_opens(handins):
    item = handins.assignment.item
    item.opens_at = timezone.now() + timedelta(days=1)
    item.save(update_fields=["opens_at"])
    answer = upload(logged_in(handins.personas.carol), page(handins), MLP)
    assert answer.status_code == 400
    assert "A1 opens for hand-ins at" in page_text(answer)
    assert Submission.objects.count() == 0


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_it_answers_a_browsers_upload_over_the_body_cap_with_a_page(handins, settings):
    settings.MAX_REQUEST_BYTES = 10_000
    client = logged_in(handins.personas.carol)
    answer = upload(client, page(handins), bytes(20_000), HTTP_ACCEPT=BROWSER_ACCEPT)
    assert (answer.status_code, answer["Content-Type"]) == (413, "text/html; charset=utf-8")
    assert "The request is larger than the 0.01 MB this site accepts." in page_text(answer)
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "accept"),
    [("api", BROWSER_ACCEPT), ("page", "application/json"), ("page", None)],
)
def test_it_answers_an_upload_over_the_body_cap_with_json_unless_a_page_is_wanted(
    handins, settings, path, accept
):
    settings.MAX_REQUEST_BYTES = 10_000
    url = handins.url() if path == "api" else page(handins)
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    answer = upload(logged_in(handins.personas.carol), url, bytes(20_000), **headers)
    assert answer.status_code == 413
    assert answer.json() == {"detail": "The request is larger than the 0.01 MB this site accepts."}


def test_it_lists_the_students_hand_ins_with_the_lateness_of_the_active_one(handins):
    carol = handins.personas.carol
    due(handins, timezone.now() - timedelta(hours=5))
    hand_in(handins, carol)
    text = page_text(logged_in(carol).get(page(handins)))
    assert "Your active hand-in" in text
    assert "1 day late, 1 grace day used; 6 grace days left." in text
    assert "Hand in mlp.py, alone or in a .zip or .tar.gz archive Size limit 20.0 MB" in text


def test_it_makes_an_earlier_hand_in_active_from_the_page(handins):
    carol = handins.personas.carol
    first = hand_in(handins, carol)
    hand_in(handins, carol, zip_of({"mlp.py": b"# v2\n"}))
    client = logged_in(carol)
    html = client.get(page(handins)).content.decode()
    action = f"{page(handins)}submissions/{first.pk}/activate/"
    assert html.count("Make active") == 1 and f'action="{action}"' in html
    answer = client.post(action)
    assert (answer.status_code, answer["Location"]) == (302, page(handins))
    assert list(Submission.objects.filter(active=True)) == [first]


def test_it_answers_404_to_activating_another_students_hand_in(handins):
    first = hand_in(handins, handins.erin)
    hand_in(handins, handins.erin, zip_of({"mlp.py": b"# v2\n"}))
    answer = logged_in(handins.personas.carol).post(
        f"{page(handins)}submissions/{first.pk}/activate/"
    )
    assert answer.status_code == 404
    assert Submission.objects.get(active=True).pk != first.pk


def test_it_hands_in_a_deliverable_for_the_students_group(handins):
    client = logged_in(handins.erin)
    answer = upload(client, page(handins, "deliverables"), zip_of({"proposal.pdf": b"%PDF-1.4\n"}))
    assert answer.status_code == 302
    assert Submission.objects.get().group == handins.group
    text = page_text(logged_in(handins.personas.carol).get(page(handins, "deliverables")))
    assert "Group 1's hand-ins" in text and "by erin for Group 1" in text


def test_it_asks_a_student_without_a_group_to_join_one_before_a_deliverable(handins):
    loner = make_member(handins.personas.course, "frank", Role.STUDENT)
    answer = upload(logged_in(loner), page(handins, "deliverables"), b"%PDF-1.4\n", "proposal.pdf")
    assert answer.status_code == 400
    assert "Join a project group before handing in a group deliverable." in page_text(answer)


def test_it_shows_staff_every_students_hand_ins_on_the_hand_in_page(handins):
    hand_in(handins, handins.personas.carol)
    hand_in(handins, handins.erin)
    text = page_text(logged_in(handins.personas.bob).get(page(handins)))
    assert "A1: every hand-in" in text
    assert "carol" in text and "erin" in text
    assert "Upload" not in text


def test_it_shows_staff_the_grace_day_table_with_a_row_per_student(handins):
    due(handins, timezone.now() - timedelta(days=1, hours=2))
    hand_in(handins, handins.personas.carol)
    text = page_text(logged_in(handins.personas.alice).get(grace_days(handins)))
    assert "carol 2 / 2 — not handed in 5" in text
    assert "erin — not handed in — not handed in 7" in text


def test_it_shows_staff_a_students_work_page_as_the_student_sees_it(handins):
    due(handins, timezone.now() - timedelta(days=1, hours=2))
    hand_in(handins, handins.personas.carol)
    url = f"/courses/{handins.personas.course.slug}/students/carol/work/"
    text = page_text(logged_in(handins.personas.bob).get(url))
    assert "Grace days left: 5 of 7" in text
    assert "Days late 2 Grace days used 2" in text


def test_it_sends_staff_from_the_work_page_to_the_grace_day_table(handins):
    answer = logged_in(handins.personas.bob).get(work(handins))
    assert (answer.status_code, answer["Location"]) == (302, grace_days(handins))


def test_it_answers_404_to_a_student_asking_for_another_students_work(handins):
    url = f"/courses/{handins.personas.course.slug}/students/erin/work/"
    assert logged_in(handins.personas.carol).get(url).status_code == 404


def test_it_sends_a_student_asking_for_the_grace_day_table_to_their_own_grace_days(handins):
    response = logged_in(handins.personas.carol).get(grace_days(handins), follow=True)
    course = handins.personas.course
    assert response.redirect_chain == [(f"/courses/{course.slug}/work/", 302)]
    page = response.content.decode()
    assert "grace day" in page and "erin" not in page


@pytest.mark.parametrize("path", ["work/", "assignments/{pk}/", "grace-days/"])
def test_it_answers_404_to_a_student_of_another_course(handins, path):
    url = f"/courses/{handins.personas.course.slug}/" + path.format(pk=handins.assignment.pk)
    assert logged_in(handins.personas.dave).get(url).status_code == 404


def test_it_answers_404_for_an_assignment_of_another_course(handins):
    other = handins.personas.other_course
    category = GradeCategory.objects.create(course=other, name="Labs", weight=Decimal(100))
    lab = GradeItem.objects.create(
        course=other, category=category, slug="lab", title="Lab", max_points=Decimal(10)
    )
    assignment = Assignment.objects.create(item=lab, handin_files=["lab.py"])
    url = f"/courses/{handins.personas.course.slug}/assignments/{assignment.pk}/"
    assert logged_in(handins.personas.carol).get(url).status_code == 404


def grow(handins: HandIns, size: int) -> None:
    """More students, groups, assignments, deliverables, hand-ins and extensions in the course."""
    course, bob = handins.personas.course, cast(User, handins.personas.bob)
    carol = cast(User, handins.personas.carol)
    category = GradeCategory.objects.get(course=course, name="Assignments")
    now = timezone.now()
    for number in range(size):
        student = cast(User, make_member(course, f"student{number:02}", Role.STUDENT))
        group = ProjectGroup.objects.create(course=course, name=f"Team {number}")
        GroupMembership.objects.create(course=course, group=group, student=student)
        item = GradeItem.objects.create(
            course=course, category=category, slug=f"extra{number}", title=f"Extra {number}",
            max_points=Decimal(10), due_at=now - timedelta(days=number), uses_grace_days=True,
        )  # fmt: skip
        project = GradeItem.objects.create(
            course=course, category=category, slug=f"report{number}", title=f"Report {number}",
            max_points=Decimal(10), due_at=now + timedelta(days=number),
        )  # fmt: skip
        assignment = Assignment.objects.create(item=item, handin_files=["mlp.py"])
        Deliverable.objects.create(item=project, handin_files=["mlp.py"])
        for who in (student, carol):
            submission_create(
                handin=assignment, submitted_by=who, student=who,
                upload=temporary_upload("h.zip", MLP),
            )  # fmt: skip
        extension_grant(item=item, student=carol, due_at=now, reason="ill", granted_by=bob)


@pytest.mark.parametrize("size", [0, 6])
def test_it_reads_the_work_page_in_a_fixed_number_of_queries(
    handins, settings, django_assert_num_queries, size
):
    settings.SUBMISSIONS_PER_HOUR = 100
    grow(handins, size)
    hand_in(handins, handins.personas.carol)
    client = logged_in(handins.personas.carol)
    with django_assert_num_queries(WORK_PAGE_QUERIES):
        assert client.get(work(handins)).status_code == 200


@pytest.mark.parametrize("size", [0, 6])
def test_it_reads_the_grace_day_table_in_a_fixed_number_of_queries(
    handins, settings, django_assert_num_queries, size
):
    settings.SUBMISSIONS_PER_HOUR = 100
    grow(handins, size)
    hand_in(handins, handins.personas.carol)
    client = logged_in(handins.personas.bob)
    with django_assert_num_queries(GRACE_TABLE_QUERIES):
        assert client.get(grace_days(handins)).status_code == 200


def test_it_answers_404_to_staff_asking_for_the_work_of_a_student_of_another_course(handins):
    url = f"/courses/{handins.personas.course.slug}/students/dave/work/"
    assert logged_in(handins.personas.bob).get(url).status_code == 404


def test_an_item_with_nothing_to_hand_in_says_so_without_upload_facts(handins):
    deliverable = handins.deliverable
    deliverable.handin_files = []
    deliverable.save(update_fields=["handin_files"])
    url = f"/courses/{handins.personas.course.slug}/deliverables/{deliverable.pk}/"
    for who in (handins.personas.carol, handins.personas.bob):
        text = page_text(logged_in(who).get(url))
        assert "Nothing: the course staff assess this item for each project group" in text
        assert "Size limit" not in text and "Who hands in" not in text
