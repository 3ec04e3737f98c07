"""The staff's list of an item's hand-ins: a row per student (per group for a deliverable), with
the active hand-in's lateness, verdict, scores and links, and the filters above it.

Hand-ins are made through ``submission_create``, which queues their grading jobs; the jobs are
claimed, finished and failed through grading's services, as a worker does.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coursesite.models import GracePolicy, GroupMembership, ProjectGroup, ScoreSource
from coursesite.models.grades import AfterPool
from coursesite.services import score_record
from submissions.services import extension_grant
from tests.coursesite.test_pages import logged_in, page_text
from tests.grading.test_queue_page import Graded, autograded_course, table_rows

# Session, user, membership with its course and grace policy, the assignment, the students, the
# hand-ins, the grace ledger's other five and its usernames, the jobs, the Scores.
ASSIGNMENT_PAGE_QUERIES = 14
# The same, with the groups and their members instead of the students, and the members of the
# groups that handed in.
DELIVERABLE_PAGE_QUERIES = 16


@pytest.fixture
def graded(personas, tmp_path, settings) -> Graded:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SUBMISSIONS_PER_HOUR = 100
    return autograded_course(personas, tmp_path)


def assignment_url(graded: Graded, show: str = "") -> str:
    query = f"?show={show}" if show else ""
    return f"{graded.course_url}/assignments/{graded.assignment.pk}/{query}"


def rows(graded: Graded, show: str = "", url: str = "") -> dict[str, list[str]]:
    answer = logged_in(graded.personas.bob).get(url or assignment_url(graded, show))
    assert answer.status_code == 200
    return table_rows(answer.content.decode(), "handins")


def move_due(graded: Graded, **ago: float) -> None:
    item = graded.assignment.item
    item.due_at = timezone.now() - timedelta(**ago)
    item.save(update_fields=["due_at"])


def test_it_lists_every_student_sorted_by_username_whether_or_not_they_handed_in(graded):
    graded.hand_in(graded.student("aaron"))
    graded.hand_in(graded.personas.carol)
    graded.student("erin")
    listed = rows(graded)
    assert list(listed) == ["student-aaron", "student-carol", "student-erin"]
    assert listed["student-erin"][1] == "not handed in"
    assert listed["student-erin"][6] == "0"


def test_it_shows_the_verdict_the_autograder_s_score_and_the_item_s_score(
    graded, django_capture_on_commit_callbacks
):
    submission = graded.hand_in(graded.personas.carol)
    with django_capture_on_commit_callbacks(execute=True):
        job = graded.finish(submission, score=7)
    cells = rows(graded)["student-carol"]
    assert cells[0] == "Carol Demir (carol)"
    assert cells[3] == "Ran to the end: 7 of 10 Result"
    assert cells[4] == "70"  # the Score the hand-ins recorded: 7 of 10 of the item's 100 points
    html = logged_in(graded.personas.bob).get(assignment_url(graded)).content.decode()
    assert f'href="{graded.course_url}/grading/jobs/{job.pk}/"' in html
    assert f'href="{graded.course_url}/submissions/{submission.pk}/file/"' in html


def test_it_shows_a_score_staff_recorded_without_a_hand_in(graded):
    erin = graded.student("erin")
    score_record(
        item=graded.assignment.item, student=erin, points=Decimal("55.5"),
        source=ScoreSource.MANUAL, changed_by=graded.personas.alice, reason="oral exam",
    )  # fmt: skip
    cells = rows(graded)["student-erin"]
    assert (cells[1], cells[4]) == ("not handed in", "55.50")


def test_it_counts_the_hand_ins_and_links_each_earlier_one(graded):
    first = graded.hand_in(graded.personas.carol, value=1)
    second = graded.hand_in(graded.personas.carol, value=2)
    html = logged_in(graded.personas.bob).get(assignment_url(graded)).content.decode()
    assert table_rows(html, "handins")["student-carol"][6].startswith("2 All")
    for submission in (first, second):
        assert f'href="{graded.course_url}/submissions/{submission.pk}/file/"' in html


def test_it_marks_the_earlier_hand_ins_a_newer_one_superseded(graded):
    carol, erin = graded.personas.carol, graded.student("erin")
    graded.finish(graded.hand_in(erin, value=1))
    graded.hand_in(erin, value=2)  # graded before it arrived: not superseded
    for value in (1, 2, 3):
        graded.hand_in(carol, value=value)
    listed = rows(graded)
    assert listed["student-carol"][3] == "Queued Result"
    assert listed["student-carol"][6].count("superseded") == 2
    assert "superseded" not in listed["student-erin"][6]


def test_it_shows_days_late_grace_days_used_and_the_penalty(graded):
    GracePolicy.objects.filter(course=graded.personas.course).update(
        pool_days=1, after_pool=AfterPool.PERCENT_PER_DAY, penalty_percent_per_day=Decimal(10)
    )
    move_due(graded, days=1, hours=2)
    graded.hand_in(graded.personas.carol)
    assert rows(graded)["student-carol"][2] == "2 days late, 1 grace day used, penalty 10%"


def filtered(graded: Graded) -> None:
    """The item was due three hours ago. Erin hands in nothing; Frank and Gail have extensions:
    Frank's code runs out of time, Gail's hand-in waits to be graded; Carol hands in late and is
    graded."""
    move_due(graded, hours=3)
    frank, gail = graded.student("frank"), graded.student("gail")
    graded.student("erin")
    for student in (frank, gail):
        extension_grant(
            item=graded.assignment.item, student=student, reason="ill",
            due_at=timezone.now() + timedelta(days=1), granted_by=graded.personas.bob,
        )  # fmt: skip
    graded.finish(graded.hand_in(frank), verdict="timeout", score=0)
    graded.hand_in(gail)
    graded.finish(graded.hand_in(graded.personas.carol))


@pytest.mark.parametrize(
    ("show", "listed"),
    [
        ("all", ["student-carol", "student-erin", "student-frank", "student-gail"]),
        ("missing", ["student-erin"]),
        ("late", ["student-carol"]),
        ("failed", ["student-frank"]),
        ("ungraded", ["student-gail"]),
        ("nonsense", ["student-carol", "student-erin", "student-frank", "student-gail"]),
    ],
)
def test_it_filters_the_rows(graded, show, listed):
    filtered(graded)
    assert list(rows(graded, show)) == listed


def test_it_counts_each_filter_s_rows_on_its_link_and_marks_the_current_one(graded):
    filtered(graded)
    answer = logged_in(graded.personas.bob).get(assignment_url(graded, "late"))
    text = page_text(answer)
    assert "All (4) Missing (1) Late (1) Failed (1) Ungraded (1)" in text
    assert '<a id="show-late" href="?show=late" aria-current="page">' in answer.content.decode()


def test_it_counts_a_job_in_error_as_failed(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    graded.fail(graded.hand_in(graded.personas.carol))
    cells = rows(graded, "failed")["student-carol"]
    assert cells[3] == "Error (needs staff) Result"


def test_it_lists_every_group_of_a_deliverable_with_its_members(graded):
    course = graded.personas.course
    erin = graded.student("erin")
    quiet = ProjectGroup.objects.create(course=course, name="Group 3")
    GroupMembership.objects.create(course=course, group=quiet, student=erin)
    graded.group_hand_in(graded.personas.carol)
    url = f"{graded.course_url}/deliverables/{graded.deliverable.pk}/"
    listed = rows(graded, url=url)
    assert list(listed) == [f"group-{graded.group.pk}", f"group-{quiet.pk}"]
    assert listed[f"group-{graded.group.pk}"][0] == "Group 2 carol"
    assert listed[f"group-{quiet.pk}"][:2] == ["Group 3 erin", "not handed in"]
    assert list(rows(graded, url=f"{url}?show=missing")) == [f"group-{quiet.pk}"]


def test_it_shows_the_list_to_staff_only(graded):
    graded.hand_in(graded.personas.carol)
    text = page_text(logged_in(graded.personas.carol).get(assignment_url(graded)))
    assert "every hand-in" not in text and "Late (" not in text


@pytest.mark.parametrize("students", [5, 30])
def test_it_reads_an_assignment_s_list_in_a_fixed_number_of_queries(
    graded, django_assert_num_queries, students
):
    for number in range(students):
        submission = graded.hand_in(graded.student(f"student{number:02}"))
        if number % 2:
            graded.finish(submission, score=number % 10)
    client = logged_in(graded.personas.bob)
    with django_assert_num_queries(ASSIGNMENT_PAGE_QUERIES):
        assert client.get(assignment_url(graded)).status_code == 200


@pytest.mark.parametrize("groups", [5, 30])
def test_it_reads_a_deliverable_s_list_in_a_fixed_number_of_queries(
    graded, django_assert_num_queries, groups
):
    course = graded.personas.course
    for number in range(groups):
        group = ProjectGroup.objects.create(course=course, name=f"Team {number:02}")
        for member in range(2):
            student = graded.student(f"student{number:02}{member}")
            GroupMembership.objects.create(course=course, group=group, student=student)
        graded.group_hand_in(student, group)
    client = logged_in(graded.personas.bob)
    url = f"{graded.course_url}/deliverables/{graded.deliverable.pk}/"
    with django_assert_num_queries(DELIVERABLE_PAGE_QUERIES):
        assert client.get(url).status_code == 200
