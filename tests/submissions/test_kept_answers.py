"""Polled answers kept in the cache (``coursesite.answers``): a kept answer is served without
computing it again, and every way its data changes reaches it: a hand-in, each step of its
grading job, an activation, an extension, a score, a release, a group's hand-in, the clock
passing a due date, a change made by another process through Redis. A cache that is down costs
only the keeping."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coursesite.gradebook.services import item_release
from coursesite.models import Membership, ScoreSource
from coursesite.services import score_record
from grading.models import GradingJob
from grading.services import (
    grading_job_claim,
    grading_job_fail,
    grading_job_finish,
    grading_job_requeue,
    grading_reconcile,
)
from submissions.services import extension_grant, extension_revoke
from tests.conftest import REPO, django_env, xdist_worker
from tests.grading.conftest import database_url
from tests.submissions.conftest import HandIns, zip_of

RESULT = {
    "verdict": "ok", "score": 4, "max_score": 5, "logs": "",
    "tests": [{"name": "relu", "score": 4, "max_score": 5, "status": "failed",
               "visibility": "visible", "output": "4 of 5 right"}],
}  # fmt: skip


def hand_in(handins: HandIns, version: int, *, user=None, kind: str = "assignments") -> int:
    user = user or handins.personas.carol
    name, files = (
        ("handin.zip", zip_of({"mlp.py": f"# v{version}\n".encode()}))
        if kind == "assignments"
        else ("handin.zip", zip_of({"proposal.pdf": f"%PDF-1.4 v{version}\n".encode()}))
    )
    answer = handins.upload(user, files, name=name, kind=kind)
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def status_of(handins: HandIns, pk: int, user=None) -> dict:
    client = handins.personas.client(user or handins.personas.carol)
    answer = client.get(f"/api/v1/submissions/{pk}/")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def listed(handins: HandIns, user=None, kind: str = "assignments") -> list[dict]:
    answer = handins.personas.client(user or handins.personas.carol).get(handins.url(kind))
    assert answer.status_code == 200, answer.json()
    return answer.json()


def job_of(pk: int) -> GradingJob:
    return GradingJob.objects.select_related("bundle", "item").get(subject=f"submission:{pk}")


def test_it_serves_a_kept_status_without_computing_it_again(autograded):
    pk = hand_in(autograded, 1)
    client = autograded.personas.client(autograded.personas.carol)
    url = f"/api/v1/submissions/{pk}/"
    client.get(url)  # computed and kept; the token's first use is recorded

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    # The token, the hand-in's course and owner, the caller's membership: access is checked
    # every time, from small reads, and nothing else is.
    assert queries() == 3


def test_it_follows_a_hand_in_through_every_step_of_its_grading(autograded):
    pk = hand_in(autograded, 1)
    assert status_of(autograded, pk)["result"]["status"] == "queued"
    job = grading_job_claim(job_id=job_of(pk).pk, worker="cpu@w1")
    assert job is not None
    assert status_of(autograded, pk)["result"]["status"] == "running"
    grading_job_fail(job=job, error="the disk is full")
    assert status_of(autograded, pk)["result"]["status"] == "queued"
    job = grading_job_claim(job_id=job.pk, worker="cpu@w1")
    assert job is not None
    assert grading_job_finish(job=job, result=RESULT)
    result = status_of(autograded, pk)["result"]
    assert (result["status"], result["score"], [t["name"] for t in result["tests"]]) == (
        "done",
        "4.0000",
        ["relu"],
    )


def test_it_shows_a_lost_worker_taken_back_and_a_failed_job_queued_again(autograded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    pk = hand_in(autograded, 1)
    job = grading_job_claim(job_id=job_of(pk).pk, worker="cpu@w1")
    assert status_of(autograded, pk)["result"]["status"] == "running"
    grading_reconcile(now=timezone.now() + timedelta(days=1))
    assert status_of(autograded, pk)["result"]["status"] == "error"
    assert grading_job_requeue(job=job)
    assert status_of(autograded, pk)["result"]["status"] == "queued"


def test_it_shows_a_waiting_hand_in_superseded_by_a_newer_one(autograded):
    first = hand_in(autograded, 1)
    assert status_of(autograded, first)["result"]["status"] == "queued"
    second = hand_in(autograded, 2)
    assert (status_of(autograded, first)["result"]["superseded_by"]) == second
    assert [row["id"] for row in listed(autograded)] == [second, first]


def test_it_shows_which_hand_in_is_active_after_an_activation(autograded):
    first, second = hand_in(autograded, 1), hand_in(autograded, 2)
    assert [row["active"] for row in listed(autograded)] == [True, False]
    client = autograded.personas.client(autograded.personas.carol)
    assert client.post(f"/api/v1/submissions/{first}/activate/").status_code == 200
    assert {row["id"]: row["active"] for row in listed(autograded)} == {
        first: True,
        second: False,
    }


def test_it_recomputes_lateness_when_an_extension_is_granted_and_revoked(handins):
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(hours=5)
    item.save()
    pk = hand_in(handins, 1)
    assert status_of(handins, pk)["lateness"][0]["days_late"] == 1
    extension = extension_grant(
        item=item, student=handins.personas.carol, due_at=timezone.now() + timedelta(days=1),
        reason="ill", granted_by=handins.personas.alice,
    )  # fmt: skip
    assert status_of(handins, pk)["lateness"][0]["days_late"] == 0
    extension_revoke(extension=extension, revoked_by=handins.personas.alice)
    assert status_of(handins, pk)["lateness"][0]["days_late"] == 1


def test_it_shows_a_group_hand_in_to_every_member_at_once(handins):
    assert listed(handins, handins.erin, "deliverables") == []
    pk = hand_in(handins, 1, kind="deliverables")
    assert [row["id"] for row in listed(handins, handins.erin, "deliverables")] == [pk]


def test_it_shows_a_score_and_a_release_in_the_gradebook_rows(handins):
    personas = handins.personas
    url = f"/api/v1/courses/{personas.course.slug}/gradebook/"
    student, staff = personas.client(personas.carol), personas.client(personas.alice)

    def own_quiz() -> dict:
        return next(i for i in student.get(url).json()["rows"][0]["items"] if i["slug"] == "quiz")

    def staff_points() -> str | None:
        rows = {row["student"]["username"]: row for row in staff.get(url).json()["rows"]}
        return next(i for i in rows["carol"]["items"] if i["slug"] == "quiz")["points"]

    assert own_quiz()["points"] is None
    assert staff_points() == "0.00"  # missing: the quiz was due in 2024
    score_record(
        item=personas.quiz, student=personas.carol, points=Decimal(7), source=ScoreSource.MANUAL,
        changed_by=None, reason="marked",
    )  # fmt: skip
    assert staff_points() == "7.00"
    assert own_quiz()["points"] is None  # not released yet
    item_release(item=personas.quiz, released=True)
    assert own_quiz()["points"] == "7.00"


def test_it_answers_nothing_to_a_member_who_dropped_the_course(autograded):
    pk = hand_in(autograded, 1)
    status_of(autograded, pk)
    membership = Membership.objects.get(course=autograded.personas.course, user__username="carol")
    membership.active = False
    membership.save(update_fields=["active"])
    client = autograded.personas.client(autograded.personas.carol)
    assert client.get(f"/api/v1/submissions/{pk}/").status_code == 404
    assert client.get(autograded.url()).status_code == 404


def test_it_lets_a_kept_answer_go_when_a_due_date_passes(handins):
    """Work due in a moment is pending; once the due date passes it is missing, with nothing
    written in between: the kept answer ends at the due date."""
    personas = handins.personas
    item = handins.assignment.item
    item.due_at = timezone.now() + timedelta(seconds=2)
    item.save()
    url = f"/api/v1/courses/{personas.course.slug}/gradebook/"
    client = personas.client(personas.alice)

    def a1_state() -> str:
        rows = {row["student"]["username"]: row for row in client.get(url).json()["rows"]}
        return next(i for i in rows["carol"]["items"] if i["slug"] == "a1")["state"]

    assert a1_state() == "pending"
    time.sleep(max(0.0, (item.due_at - timezone.now()).total_seconds()) + 1.2)
    assert a1_state() == "missing"


def test_it_answers_while_the_cache_is_down(autograded, settings):
    # Nothing listens on port 9 of this machine: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "coursesite.cache.SharedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    pk = GradingJob.objects.count()  # nothing handed in yet
    assert pk == 0
    item = autograded.assignment.item
    item.title = "A1: MLP"  # a write moves a generation on, which fails quietly
    item.save()
    answer = autograded.personas.client(autograded.personas.carol).get(autograded.url())
    assert (answer.status_code, answer.json()) == (200, [])


@pytest.fixture
def shared_cache(settings, redis_url):
    """The site's cache on Redis, as in production: a database of its own per test worker,
    emptied first, so that another process shares what this one keeps."""
    base = redis_url.rsplit("/", 1)[0]
    url = f"{base}/{8 + xdist_worker() % 4}"
    redis.Redis.from_url(url).flushdb()
    settings.CACHES = {
        "default": {"BACKEND": "coursesite.cache.SharedClientRedisCache", "LOCATION": url}
    }
    yield url
    redis.Redis.from_url(url).flushdb()


FINISH_IN_ANOTHER_PROCESS = """
import django, json, sys
django.setup()
from grading.models import GradingJob
from grading.services import grading_job_claim, grading_job_finish
job = grading_job_claim(job_id=int(sys.argv[1]), worker="cpu@elsewhere")
assert grading_job_finish(job=job, result=json.loads(sys.argv[2]))
"""


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_result_stored_by_a_worker_process_through_redis(autograded, shared_cache):
    """A worker is a process of its own: what it stores reaches the web process's kept answer
    through the generations in Redis, once its transaction commits."""
    pk = hand_in(autograded, 1)
    assert status_of(autograded, pk)["result"]["status"] == "queued"
    assert status_of(autograded, pk)["result"]["status"] == "queued"  # kept now
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.test",
        REDIS_URL=shared_cache,
        API_ANSWER_SECONDS="30",
        DATABASE_URL=database_url(),
    )
    subprocess.run(
        [sys.executable, "-c", FINISH_IN_ANOTHER_PROCESS, str(job_of(pk).pk), json.dumps(RESULT)],
        cwd=REPO, env=env, check=True, timeout=120,
    )  # fmt: skip
    assert status_of(autograded, pk)["result"]["status"] == "done"


def test_it_keeps_the_answers_to_different_questions_apart(handins):
    personas = handins.personas
    for user, section in ((personas.carol, "01 A:B"), (handins.erin, "02")):
        membership = Membership.objects.get(course=personas.course, user=user)
        membership.section = section
        membership.save(update_fields=["section"])
    url = f"/api/v1/courses/{personas.course.slug}/gradebook/"
    staff = personas.client(personas.alice)

    def students(section: str) -> list[str]:
        answer = staff.get(url, {"section": section})
        return [row["student"]["username"] for row in answer.json()["rows"]]

    assert (students("01 A:B"), students("02"), students("01 A:B")) == (
        ["carol"],
        ["erin"],
        ["carol"],
    )
    own = personas.client(handins.erin).get(url).json()["rows"]
    assert [row["student"]["username"] for row in own] == ["erin"]
