"""What a student sees of the grading of their hand-in, and how staff ask for a regrade."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from grading.models import AutograderBundle, GradingJob, JobStatus, Queue, TestResult
from tests.submissions.conftest import zip_of

TESTS = [("shown", "visible"), ("after-due", "after_due_date"), ("published", "after_published"),
         ("secret", "hidden")]  # fmt: skip


@pytest.fixture
def graded(handins):
    item = handins.assignment.item
    AutograderBundle.objects.create(
        item=item, version=1, name="mlp", kind="native", archive="bundles/x.zip", sha256="0" * 64,
        manifest={"tests": [{"name": n, "points": 1, "visibility": v} for n, v in TESTS]},
        uploaded_by=handins.personas.alice, uploaded_at=timezone.now(),
    )  # fmt: skip
    submission = handins.upload(handins.personas.carol, zip_of({"mlp.py": b"x = 1\n"})).json()
    job = GradingJob.objects.get(subject=f"submission:{submission['id']}")
    GradingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, verdict="ok", score=3, max_score=4, finished_at=timezone.now()
    )
    for position, (name, visibility) in enumerate(TESTS):
        TestResult.objects.create(
            job=job, position=position, name=name, score=Decimal(name != "secret"), max_score=1,
            status="passed", visibility=visibility, output=f"{name} output",
        )  # fmt: skip
    return handins, submission["id"]


def seen(handins, user, pk):
    return handins.personas.client(user).get(f"/api/v1/submissions/{pk}/").json()["result"]


def test_it_shows_a_student_only_the_visible_tests_before_the_due_date(graded):
    handins, pk = graded
    result = seen(handins, handins.personas.carol, pk)
    assert [test["name"] for test in result["tests"]] == ["shown"]
    assert result["score"] is None
    assert result["logs"] == ""


def test_it_shows_after_due_date_tests_once_the_due_date_has_passed(graded):
    handins, pk = graded
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(minutes=1)
    item.save()
    assert [t["name"] for t in seen(handins, handins.personas.carol, pk)["tests"]] == [
        "shown",
        "after-due",
    ]


def test_it_waits_for_a_students_extension_before_after_due_date_tests(graded):
    from submissions.services import extension_grant

    handins, pk = graded
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(minutes=1)
    item.save()
    extension_grant(
        item=item, student=handins.personas.carol, due_at=timezone.now() + timedelta(days=1),
        reason="ill", granted_by=handins.personas.bob,
    )  # fmt: skip
    assert [t["name"] for t in seen(handins, handins.personas.carol, pk)["tests"]] == ["shown"]


def test_it_shows_after_published_tests_once_scores_are_released(graded):
    handins, pk = graded
    item = handins.assignment.item
    item.released = True
    item.save()
    assert "published" in [t["name"] for t in seen(handins, handins.personas.carol, pk)["tests"]]


def test_it_never_shows_a_student_a_hidden_test_and_shows_staff_everything(graded):
    handins, pk = graded
    item = handins.assignment.item
    item.due_at, item.released = timezone.now() - timedelta(days=1), True
    item.save()
    student = seen(handins, handins.personas.carol, pk)
    assert "secret" not in [t["name"] for t in student["tests"]]
    staff = seen(handins, handins.personas.bob, pk)
    assert [t["name"] for t in staff["tests"]] == [name for name, _ in TESTS]
    assert Decimal(staff["score"]) == 3


def score_hidden_points(pk):
    """The hidden test earns its point, so a total that includes it differs from the visible sum."""
    job = GradingJob.objects.get(subject=f"submission:{pk}")
    TestResult.objects.filter(job=job, name="secret").update(score=1)
    GradingJob.objects.filter(pk=job.pk).update(score=4)


def test_it_shows_no_total_before_release_while_a_test_is_hidden(graded):
    handins, pk = graded
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(days=1)
    item.save()
    assert seen(handins, handins.personas.carol, pk)["score"] is None


def test_it_shows_a_student_the_whole_total_once_the_item_is_released(graded):
    from coursesite.gradebook.services import item_release

    handins, pk = graded
    score_hidden_points(pk)
    item_release(item=handins.assignment.item, released=True)
    result = seen(handins, handins.personas.carol, pk)
    assert Decimal(result["score"]) == 4
    assert [t["name"] for t in result["tests"]] == ["shown", "published"]
    assert "secret" not in json.dumps(result)


def test_it_hides_the_total_again_when_the_item_is_unreleased(graded):
    from coursesite.gradebook.services import item_release

    handins, pk = graded
    item = handins.assignment.item
    item_release(item=item, released=True)
    item_release(item=item, released=False)
    assert seen(handins, handins.personas.carol, pk)["score"] is None


def test_it_shows_the_released_total_on_the_hand_in_page(graded, client):
    from coursesite.gradebook.services import item_release

    handins, pk = graded
    score_hidden_points(pk)
    item_release(item=handins.assignment.item, released=True)
    client.force_login(handins.personas.carol)
    page = client.get(
        f"/courses/{handins.personas.course.slug}/assignments/{handins.assignment.pk}/"
    )
    assert b"4 of 4 points" in page.content
    assert b"secret" not in page.content


def test_it_lets_staff_regrade_one_hand_in_on_the_regrade_queue(graded):
    handins, pk = graded
    answer = handins.personas.client(handins.personas.bob).post(
        f"/api/v1/submissions/{pk}/regrade/"
    )
    assert answer.status_code == 202
    job = GradingJob.objects.get(pk=answer.json()["queued"][0])
    assert (job.queue, job.status, job.subject) == (
        Queue.REGRADE,
        JobStatus.QUEUED,
        f"submission:{pk}",
    )


def test_it_refuses_a_student_asking_for_a_regrade(graded):
    handins, pk = graded
    answer = handins.personas.client(handins.personas.carol).post(
        f"/api/v1/submissions/{pk}/regrade/"
    )
    assert answer.status_code == 404
    assert GradingJob.objects.count() == 1


def test_it_regrades_every_active_hand_in_of_an_assignment(graded):
    handins, _ = graded
    handins.upload(handins.erin, zip_of({"mlp.py": b"y = 2\n"}))
    url = handins.url().replace("/submissions/", "/regrade/")
    answer = handins.personas.client(handins.personas.alice).post(url)
    assert answer.status_code == 202
    assert len(answer.json()["queued"]) == 2
    assert GradingJob.objects.filter(queue=Queue.REGRADE).count() == 2


def test_it_shows_the_student_their_visible_results_on_the_hand_in_page(graded, client):
    handins, _ = graded
    client.force_login(handins.personas.carol)
    page = client.get(
        f"/courses/{handins.personas.course.slug}/assignments/{handins.assignment.pk}/"
    )
    assert page.status_code == 200
    assert b"shown output" in page.content
    assert b"secret output" not in page.content
    assert b"some tests are shown later" in page.content


def test_it_reads_every_hand_in_of_an_item_in_a_fixed_number_of_queries(graded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    handins, _ = graded
    client = handins.personas.client(handins.personas.bob)
    client.get(handins.url())  # the token's first use is recorded once

    def queries_to_list(uploads: int) -> int:
        for n in range(uploads):
            handins.upload(handins.erin, zip_of({"mlp.py": f"x = {n}\n".encode()}))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(handins.url()).status_code == 200
        return len(queries)

    assert queries_to_list(1) == queries_to_list(4)
