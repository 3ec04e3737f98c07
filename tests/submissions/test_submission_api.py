"""Handing in through the API: storage, activation, lateness, access, limits, and what became
of each hand-in's grading: queued, graded, or superseded by a newer hand-in."""

import os
from datetime import timedelta
from decimal import Decimal

import yaml
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate

from grading.models import GradingJob, JobStatus
from grading.services import grading_job_claim, grading_job_finish
from submissions.models import Submission
from tests.submissions.conftest import HandIns, stored_files, zip_of

MLP = zip_of({"mlp.py": b"import numpy as np\n"})
# What ``result`` held before hand-ins said they were superseded: clients read these still.
RESULT_FIELDS = {
    "status", "verdict", "bundle_version", "score", "max_score", "self_reported", "finished_at",
    "tests", "logs", "images",
}  # fmt: skip


def test_it_stores_an_upload_once_under_its_sha256_and_makes_it_active(handins):
    answer = handins.upload(handins.personas.carol, MLP)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["active"] is True
    assert body["entries"] == [{"name": "mlp.py", "size": 19}]
    assert [path.name for path in stored_files()] == [body["sha256"]]
    assert handins.upload(handins.personas.carol, MLP).status_code == 201
    assert len(stored_files()) == 1


def test_an_uploads_answer_is_what_its_status_reads_back(autograded):
    """The upload's answer is built from what it has just written, not read back: it must say
    all that the hand-in's own status says at once, for a student and for staff handing in for
    one, for an autograded assignment (the queued job) and for a deliverable (no autograder)."""
    personas = autograded.personas
    for uploader, kind, fields in [
        (personas.carol, "assignments", {}),
        (personas.bob, "assignments", {"student": "erin"}),
        (personas.carol, "deliverables", {}),
    ]:
        content = MLP if kind == "assignments" else zip_of({"proposal.pdf": b"%PDF-1.4\n"})
        answer = autograded.upload(uploader, content, kind=kind, **fields)
        assert answer.status_code == 201, answer.json()
        body = answer.json()
        read = personas.client(uploader).get(f"/api/v1/submissions/{body['id']}/")
        assert read.status_code == 200, read.json()
        assert body == read.json()
        if kind == "assignments":
            assert body["result"]["status"] == "queued"
            assert body["result"]["bundle_version"] == 1
            assert body["lateness"][0]["pool_left"] == 7
        else:
            assert body["result"] is None


def test_it_makes_the_latest_upload_active_until_an_earlier_one_is_activated(handins):
    carol = handins.personas.carol
    first = handins.upload(carol, MLP).json()
    second = handins.upload(carol, zip_of({"mlp.py": b"# v2\n"})).json()
    assert list(Submission.objects.filter(active=True).values_list("pk", flat=True)) == [
        second["id"]
    ]
    answer = handins.personas.client(carol).post(f"/api/v1/submissions/{first['id']}/activate/")
    assert answer.status_code == 200
    assert list(Submission.objects.filter(active=True).values_list("pk", flat=True)) == [
        first["id"]
    ]


def test_it_accepts_a_single_file_for_a_one_file_assignment(handins):
    answer = handins.upload(handins.personas.carol, b"import numpy\n", name="mlp.py")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["kind"] == "file"


def test_it_reports_an_on_time_hand_in_with_the_full_pool(handins):
    lateness = handins.upload(handins.personas.carol, MLP).json()["lateness"]
    assert [
        (r["student"], r["days_late"], r["grace_days_used"], r["pool_left"]) for r in lateness
    ] == [("carol", 0, 0, 7)]


def test_it_counts_grace_days_for_a_late_hand_in(handins):
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(days=1, hours=2)
    item.save()
    row = handins.upload(handins.personas.carol, MLP).json()["lateness"][0]
    assert (row["days_late"], row["grace_days_used"], row["pool_left"]) == (2, 2, 5)


def test_it_recomputes_lateness_when_an_extension_is_granted_and_revoked(handins):
    personas = handins.personas
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(hours=5)
    item.save()
    submission = handins.upload(personas.carol, MLP).json()
    assert submission["lateness"][0]["grace_days_used"] == 1
    granted = personas.client(personas.bob).post(
        f"/api/v1/courses/{personas.course.slug}/extensions/",
        {"item": "a1", "student": "carol", "reason": "ill",
         "due_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )  # fmt: skip
    assert granted.status_code == 201, granted.json()
    read = personas.client(personas.carol).get(f"/api/v1/submissions/{submission['id']}/").json()
    assert (read["lateness"][0]["days_late"], read["lateness"][0]["pool_left"]) == (0, 7)
    revoked = personas.client(personas.bob).delete(
        f"/api/v1/courses/{personas.course.slug}/extensions/{granted.json()['id']}/"
    )
    assert revoked.status_code == 200
    read = personas.client(personas.carol).get(f"/api/v1/submissions/{submission['id']}/").json()
    assert (read["lateness"][0]["days_late"], read["lateness"][0]["pool_left"]) == (1, 6)


def test_it_recomputes_lateness_when_the_due_date_moves_after_the_hand_in(handins):
    submission = handins.upload(handins.personas.carol, MLP).json()
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(days=3, minutes=1)
    item.save()
    read = handins.personas.client(handins.personas.carol).get(
        f"/api/v1/submissions/{submission['id']}/"
    )
    assert read.json()["lateness"][0]["days_late"] == 4


def test_it_refuses_a_student_handing_in_for_another_student(handins):
    answer = handins.upload(handins.personas.carol, MLP, student="erin")
    assert answer.status_code == 404
    assert not Submission.objects.exists()
    assert stored_files() == []


def test_it_hides_a_students_submissions_from_other_students(handins):
    submission = handins.upload(handins.personas.carol, MLP).json()
    erin = handins.personas.client(handins.erin)
    assert erin.get(f"/api/v1/submissions/{submission['id']}/").status_code == 404
    assert erin.post(f"/api/v1/submissions/{submission['id']}/activate/").status_code == 404
    url = handins.url()
    assert erin.get(url).json() == []
    dave = handins.personas.client(handins.personas.dave)
    assert dave.get(url).status_code == 404
    assert dave.get(f"/api/v1/submissions/{submission['id']}/").status_code == 404


def test_it_shows_staff_every_students_submissions_and_lets_them_hand_in_for_one(handins):
    personas = handins.personas
    handins.upload(personas.carol, MLP)
    assert handins.upload(personas.bob, MLP, student="erin").status_code == 201
    url = f"/api/v1/courses/{personas.course.slug}/assignments/{handins.assignment.pk}/submissions/"
    listed = personas.client(personas.bob).get(url).json()
    assert sorted(s["student"] for s in listed) == ["carol", "erin"]
    assert {s["submitted_by"] for s in listed} == {"carol", "bob"}


def test_it_takes_a_deliverable_from_a_group_and_shows_it_to_every_member(handins):
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    answer = handins.upload(handins.personas.carol, pdf, name="proposal.pdf", kind="deliverables")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["group"] == "Group 1"
    url = handins.url("deliverables")
    seen = handins.personas.client(handins.erin).get(url).json()
    assert [s["id"] for s in seen] == [answer.json()["id"]]
    assert [r["student"] for r in seen[0]["lateness"]] == ["erin"]


def test_it_asks_a_student_without_a_group_to_join_one(handins):
    from tests.conftest import make_member

    frank = make_member(handins.personas.course, "frank", "student")
    answer = handins.upload(frank, b"%PDF-1.4\n", name="proposal.pdf", kind="deliverables")
    assert answer.status_code == 400
    assert "Join a project group" in answer.json()["detail"]


def test_it_limits_hand_ins_per_hour_with_retry_after(handins, settings):
    settings.SUBMISSIONS_PER_HOUR = 2
    assert handins.upload(handins.personas.carol, MLP).status_code == 201
    assert handins.upload(handins.personas.carol, MLP).status_code == 201
    answer = handins.upload(handins.personas.carol, zip_of({"mlp.py": b"# three\n"}))
    assert answer.status_code == 429
    assert 3500 <= int(answer["Retry-After"]) <= 3600
    assert Submission.objects.count() == 2


def test_it_counts_refused_uploads_in_the_hourly_limit(handins, settings):
    settings.SUBMISSIONS_PER_HOUR = 3
    carol = handins.personas.carol
    no_mlp = zip_of({"notes.txt": b"no model here\n"})
    for _ in range(3):
        refused = handins.upload(carol, no_mlp)
        assert refused.status_code == 400
        assert "Required files are missing" in refused.json()["detail"]
    answer = handins.upload(carol, MLP)
    assert answer.status_code == 429
    assert "refused uploads count too" in answer.json()["detail"]
    assert 1 <= int(answer["Retry-After"]) <= 3600
    assert not Submission.objects.exists()
    assert stored_files() == []
    # The limit is per user: another student is not held back by carol's attempts.
    assert handins.upload(handins.erin, MLP).status_code == 201


def test_it_counts_stored_and_refused_uploads_together_but_not_those_refused_for_the_rate(
    handins, settings
):
    settings.SUBMISSIONS_PER_HOUR = 2
    carol = handins.personas.carol
    assert handins.upload(carol, MLP).status_code == 201
    assert handins.upload(carol, zip_of({"notes.txt": b"x\n"})).status_code == 400
    for _ in range(3):
        answer = handins.upload(carol, MLP)
        assert answer.status_code == 429
        # The stored hand-in is the older one: the wait ends when it leaves the hour.
        assert 3500 <= int(answer["Retry-After"]) <= 3600


def test_it_refuses_an_upload_over_the_storage_quota(handins, settings):
    settings.STUDENT_STORAGE_QUOTA_BYTES = 400
    assert handins.upload(handins.personas.carol, MLP).status_code == 201
    answer = handins.upload(handins.personas.carol, zip_of({"mlp.py": bytes(range(256))}))
    assert answer.status_code == 400
    assert "storage quota" in answer.json()["detail"]
    assert Submission.objects.count() == 1
    assert len(stored_files()) == 1


def test_it_refuses_a_request_body_over_the_cap_before_reading_it(handins, settings):
    settings.MAX_REQUEST_BYTES = 10_000
    answer = handins.upload(handins.personas.carol, zip_of({"mlp.py": os.urandom(20_000)}))
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]
    assert not Submission.objects.exists()
    assert stored_files() == []


def test_it_refuses_an_upload_without_a_file(handins):
    url = handins.url()
    answer = handins.personas.client(handins.personas.carol).post(url, {}, format="multipart")
    assert answer.status_code == 400
    assert "form field 'file'" in answer.json()["detail"]


def test_it_shows_staff_the_grace_days_of_every_student_and_a_student_only_theirs(handins):
    item = handins.assignment.item
    item.due_at = timezone.now() - timedelta(hours=30)
    item.save()
    handins.upload(handins.personas.carol, MLP)
    url = f"/api/v1/courses/{handins.personas.course.slug}/grace-days/"
    table = handins.personas.client(handins.personas.alice).get(url).json()
    assert [(row["student"], row["pool_left"]) for row in table] == [("carol", 5), ("erin", 7)]
    own = handins.personas.client(handins.erin).get(url).json()
    assert [row["student"] for row in own] == ["erin"]


def test_it_lists_the_assignments_a_student_hands_in_to(handins):
    course = handins.personas.course.slug
    listed = handins.personas.client(handins.personas.carol).get(
        f"/api/v1/courses/{course}/assignments/"
    )
    assert [(a["id"], a["item"], a["handin_files"]) for a in listed.json()] == [
        (handins.assignment.pk, "a1", ["mlp.py"])
    ]
    outsider = handins.personas.client(handins.personas.dave).get(
        f"/api/v1/courses/{course}/deliverables/"
    )
    assert outsider.status_code == 404


def list_queries(handins: HandIns, user: User, kind: str = "assignments") -> int:
    """How many queries one read of the user's own hand-ins of the item takes."""
    client = handins.personas.client(user)
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(handins.url(kind))
    assert answer.status_code == 200
    return len(queries.captured_queries)


def test_it_lists_a_students_hand_ins_in_the_same_queries_however_many_there_are(autograded):
    # A student's status page polls this list, and it grows with every hand-in.
    carol = autograded.personas.carol
    hand_in(autograded, 1)
    one = list_queries(autograded, carol)
    for version in (2, 3, 4):
        hand_in(autograded, version)
    assert list_queries(autograded, carol) == one


def test_it_lists_a_groups_hand_ins_in_the_same_queries_however_many_there_are(handins):
    def upload(version: int) -> None:
        pdf = b"%PDF-1.4\n%% v" + bytes([48 + version]) + b"\ntrailer<<>>\n%%EOF\n"
        answer = handins.upload(carol, pdf, name="proposal.pdf", kind="deliverables")
        assert answer.status_code == 201, answer.json()

    carol = handins.personas.carol
    upload(1)
    one = list_queries(handins, handins.erin, "deliverables")
    for version in (2, 3, 4):
        upload(version)
    assert list_queries(handins, handins.erin, "deliverables") == one


def hand_in(handins: HandIns, version: int) -> int:
    answer = handins.upload(handins.personas.carol, zip_of({"mlp.py": f"# v{version}\n".encode()}))
    assert answer.status_code == 201, answer.json()
    return answer.json()["id"]


def result_of(handins: HandIns, pk: int) -> dict:
    client = handins.personas.client(handins.personas.carol)
    return client.get(f"/api/v1/submissions/{pk}/").json()["result"]


def grade(pk: int) -> None:
    """Grade a hand-in's job as a worker does: claim it, then store its result document."""
    queued = GradingJob.objects.get(subject=f"submission:{pk}", status=JobStatus.QUEUED)
    job = grading_job_claim(job_id=queued.pk, worker="cpu-host@worker1")
    assert job is not None
    result = {
        "verdict": "ok", "score": 4, "max_score": 5, "logs": "epoch 1\n",
        "tests": [{"name": "relu", "score": 4, "max_score": 5, "status": "failed",
                   "visibility": "visible", "output": "4 of 5 right"}],
    }  # fmt: skip
    assert grading_job_finish(job=job, result=result)


def test_it_says_which_newer_hand_in_superseded_a_waiting_one(autograded):
    first, second, third = (hand_in(autograded, version) for version in (1, 2, 3))
    older = result_of(autograded, first)
    assert (older["status"], older["superseded_by"]) == ("superseded", second)
    assert (older["verdict"], older["score"], older["tests"]) == ("", None, [])
    assert older["finished_at"] is not None  # when it was set aside
    assert result_of(autograded, second)["superseded_by"] == third
    newest = result_of(autograded, third)
    assert (newest["status"], newest["superseded_by"]) == ("queued", None)


def test_it_lists_superseded_hand_ins_to_the_student_and_to_staff(autograded):
    first, second = hand_in(autograded, 1), hand_in(autograded, 2)
    for user in (autograded.personas.carol, autograded.personas.bob):
        listed = autograded.personas.client(user).get(autograded.url()).json()
        states = [
            (row["id"], row["result"]["status"], row["result"]["superseded_by"]) for row in listed
        ]
        assert states == [(second, "queued", None), (first, "superseded", second)]


def test_it_keeps_the_result_of_a_graded_hand_in_as_it_was(autograded):
    graded = hand_in(autograded, 1)
    grade(graded)
    hand_in(autograded, 2)  # graded already: a newer hand-in leaves it as it is
    result = result_of(autograded, graded)
    assert set(result) == RESULT_FIELDS | {"superseded_by"}
    assert (result["status"], result["verdict"], result["superseded_by"]) == ("done", "ok", None)
    assert (Decimal(result["score"]), Decimal(result["max_score"])) == (4, 5)
    assert [(test["name"], test["output"]) for test in result["tests"]] == [
        ("relu", "4 of 5 right")
    ]


def test_it_grades_a_superseded_hand_in_made_active_and_supersedes_the_waiting_one(autograded):
    first, second = hand_in(autograded, 1), hand_in(autograded, 2)
    client = autograded.personas.client(autograded.personas.carol)
    activated = client.post(f"/api/v1/submissions/{first}/activate/").json()
    assert (activated["result"]["status"], activated["result"]["superseded_by"]) == ("queued", None)
    later = result_of(autograded, second)
    assert (later["status"], later["superseded_by"]) == ("superseded", first)


def test_it_describes_a_superseded_result_in_the_schema(autograded):
    client = autograded.personas.client(autograded.personas.carol)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    validate(schema)
    components = schema["components"]["schemas"]
    result = components["Result"]
    assert "superseded" in result["properties"]["status"]["description"]
    superseded_by = result["properties"]["superseded_by"]
    assert (superseded_by["type"], superseded_by["nullable"]) == ("integer", True)
    assert RESULT_FIELDS | {"superseded_by"} == set(result["properties"])
    # The grading API's own job status keeps the name clients were generated with.
    assert "superseded" in components["JobStatusEnum"]["enum"]
