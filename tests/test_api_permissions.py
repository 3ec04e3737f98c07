"""Every operation of the API schema, called by every kind of caller.

The world: a course run by instructor Alice and TA Bob, with students Carol (who owns every
object the URLs name: her hand-in, her extension, her regrade request, an invitation to her),
Erin (another student of the course), Gina (Carol's group mate) and Ivan (who invited Carol);
student Dave and instructor Olga of another course; an anonymous caller; and an export token
that Alice made for her course's gradebook.

``ACCESS`` says which callers get through each operation: anything but 401, 403 and 404 (a 400
for an empty body still means the caller was let in). Every operation of the schema must be in
it, so an endpoint added later is walked too. Each call runs in a transaction rolled back
afterwards, so a write by one caller never changes what the next one sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from coursesite.gradebook.services import item_release
from coursesite.models import (
    GradeCategory,
    GradeItem,
    GroupInvitation,
    GroupMembership,
    ProjectGroup,
    RegradeRequest,
    Role,
    ScoreSource,
    TokenScope,
)
from coursesite.services import score_record
from coursesite.tokens import api_token_create
from grading.models import AutograderBundle, Criterion, GradingJob, JobStatus, Rubric, TestResult
from grading.rubrics import MarkInput, evaluation_save
from presentations.models import Paper, PresentationSlot, Presenter, SlotRole
from quizzes.models import Attempt, Question, Quiz
from submissions.models import Assignment, Deliverable, Extension, Submission
from tests.conftest import Personas, make_member

ROLES = (
    "instructor", "ta", "student", "other_student", "outsider_student", "outsider_staff",
    "anonymous", "export_token",
)  # fmt: skip
STAFF = {"instructor", "ta"}
MEMBERS = STAFF | {"student", "other_student"}
SIGNED_IN = MEMBERS | {"outsider_student", "outsider_staff"}
EVERYONE = set(ROLES)
DENIED = {401, 403, 404}

C = "/api/v1/courses/{course_slug}"
I = C + "/items/{item_slug}"  # noqa: E741 - the item's prefix, as C is the course's
Q = C + "/quizzes/{item_slug}"

# Who gets through each operation of the schema.
ACCESS: dict[tuple[str, str], set[str]] = {
    # Trading a password for a token reads no credentials: everyone is let in, and told the
    # empty body holds no user name.
    ("POST", "/api/v1/auth/token/"): EVERYONE,
    ("GET", "/api/v1/auth/tokens/"): SIGNED_IN,
    ("POST", "/api/v1/auth/tokens/"): SIGNED_IN,
    # Alice's own token: nobody else may revoke it.
    ("DELETE", "/api/v1/auth/tokens/{id}/"): {"instructor"},
    ("GET", "/api/v1/courses/"): SIGNED_IN,
    ("GET", C + "/"): MEMBERS,
    ("GET", C + "/assignments/"): MEMBERS,
    ("POST", C + "/assignments/{id}/regrade/"): STAFF,
    ("GET", C + "/assignments/{id}/submissions/"): MEMBERS,
    ("POST", C + "/assignments/{id}/submissions/"): MEMBERS,
    ("GET", C + "/deliverables/"): MEMBERS,
    ("GET", C + "/deliverables/{id}/submissions/"): MEMBERS,
    ("POST", C + "/deliverables/{id}/submissions/"): MEMBERS,
    ("POST", C + "/export-tokens/"): STAFF,
    ("GET", C + "/extensions/"): STAFF,
    ("POST", C + "/extensions/"): STAFF,
    ("DELETE", C + "/extensions/{id}/"): STAFF,
    ("GET", C + "/grace-days/"): MEMBERS,
    ("GET", C + "/gradebook/"): MEMBERS | {"export_token"},
    ("GET", C + "/gradebook.csv"): STAFF | {"export_token"},
    ("GET", C + "/grading-jobs/"): STAFF,
    ("GET", C + "/groups/"): MEMBERS,
    ("POST", C + "/groups/"): MEMBERS,
    ("POST", C + "/groups/{id}/invitations/"): STAFF | {"student"},
    ("POST", C + "/groups/{id}/leave/"): STAFF | {"student"},
    ("GET", C + "/invitations/"): MEMBERS,
    ("POST", C + "/invitations/{id}/accept/"): {"student"},
    # Only the inviting group cancels (Ivan's, who is none of the callers).
    ("POST", C + "/invitations/{id}/cancel/"): set(),
    ("POST", C + "/invitations/{id}/decline/"): {"student"},
    ("GET", I + "/autograder/"): STAFF,
    # Only an instructor uploads an autograder: its grader runs on the workers.
    ("POST", I + "/autograder/"): {"instructor"},
    ("POST", I + "/release/"): STAFF,
    ("POST", I + "/unrelease/"): STAFF,
    ("PUT", I + "/scores/{username}/"): STAFF,
    ("GET", I + "/scores/{username}/history/"): STAFF | {"student"},
    ("POST", I + "/scores/import/"): STAFF,
    ("GET", C + "/regrade-requests/"): MEMBERS,
    ("POST", C + "/regrade-requests/"): MEMBERS,
    ("POST", C + "/regrade-requests/{id}/answer/"): STAFF,
    ("GET", C + "/groups/{id}/"): STAFF | {"student"},
    # The personas' term has ended, so Carol may no longer describe her group's project.
    ("PATCH", C + "/groups/{id}/"): STAFF,
    # Erin is in no group: she is shown nobody to rate, and her empty answer is a 400.
    ("GET", C + "/deliverables/{id}/survey/"): {"student", "other_student"},
    ("PUT", C + "/deliverables/{id}/survey/"): {"student", "other_student"},
    ("GET", C + "/deliverables/{id}/survey/results/"): STAFF,
    ("GET", C + "/my-presentations/"): MEMBERS,
    ("GET", C + "/papers/"): MEMBERS,
    ("GET", C + "/papers/{paper_key}/review/"): {"student", "other_student"},
    ("PUT", C + "/papers/{paper_key}/review/"): {"student", "other_student"},
    ("POST", C + "/papers/{paper_key}/review/submit/"): {"student", "other_student"},
    ("GET", C + "/papers/{paper_key}/reviews/"): MEMBERS,
    ("GET", C + "/rubrics/"): MEMBERS,
    ("POST", C + "/rubrics/"): STAFF,
    ("GET", C + "/rubrics/{rubric_slug}/"): MEMBERS,
    ("PUT", C + "/rubrics/{rubric_slug}/"): STAFF,
    ("DELETE", C + "/rubrics/{rubric_slug}/"): STAFF,
    ("GET", I + "/evaluations/"): MEMBERS,
    ("PUT", I + "/evaluations/{subject}/"): STAFF,
    # Only Bob has an evaluation of Carol's work to take back.
    ("DELETE", I + "/evaluations/{subject}/"): {"ta"},
    ("PUT", I + "/adjustments/{subject}/{username}/"): STAFF,
    ("GET", C + "/rubric-disagreements/"): STAFF,
    ("GET", C + "/presenters/"): STAFF,
    ("POST", C + "/presenters/"): STAFF,
    ("POST", C + "/presenters/assign/"): STAFF,
    ("POST", C + "/presenters/swap/"): STAFF,
    ("DELETE", C + "/presenters/{id}/"): STAFF,
    ("GET", C + "/quizzes/"): MEMBERS,
    ("GET", Q + "/"): MEMBERS,
    # Staff do not take quizzes (403); Carol continues her attempt, Erin starts one.
    ("POST", Q + "/attempts/"): {"student", "other_student"},
    ("GET", Q + "/attempts/{number}/"): {"student"},
    ("PUT", Q + "/attempts/{number}/answers/{key}/"): {"student"},
    ("POST", Q + "/attempts/{number}/answers/{key}/upload/"): {"student"},
    ("POST", Q + "/attempts/{number}/submit/"): {"student"},
    ("GET", "/api/v1/submissions/{id}/"): STAFF | {"student"},
    ("POST", "/api/v1/submissions/{id}/activate/"): STAFF | {"student"},
    ("POST", "/api/v1/submissions/{id}/regrade/"): STAFF,
}


def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


@dataclass
class World:
    personas: Personas
    clients: dict[str, APIClient]
    ids: dict[str, Any]

    def url(self, path: str) -> str:
        kind = next((k for k in ID_OF if f"/{k}/" in path), None)
        return path.format(
            course_slug=self.personas.course.slug,
            item_slug="quiz",
            username="carol",
            paper_key="alexnet",
            rubric_slug="quiz-rubric",
            subject=f"student:{self.personas.carol.pk}",
            number=1,
            key="q1",
            id=self.ids[ID_OF[kind]] if kind else "",
        )


# Which object an ``{id}`` stands for, by the collection it follows in the path.
ID_OF = {
    "tokens": "token",
    "assignments": "assignment",
    "deliverables": "deliverable",
    "extensions": "extension",
    "groups": "group",
    "invitations": "invitation",
    "regrade-requests": "regrade_request",
    "submissions": "submission",
    "presenters": "presenter",
}


def graded_handin(personas: Personas, assignment: Assignment) -> Submission:
    """Carol's hand-in of the assignment, graded, with one visible and one hidden test."""
    now = timezone.now()
    submission = Submission.objects.create(
        item=assignment.item, student=personas.carol, submitted_by=personas.carol,
        submitted_at=now, file="handins/00/x", filename="mlp.zip", sha256="0" * 64, size=10,
        kind="zip", entries=[], active=True,
    )  # fmt: skip
    bundle = AutograderBundle.objects.create(
        item=assignment.item, version=1, name="mlp", kind="native", archive="bundles/x.zip",
        sha256="0" * 64, manifest={"tests": []}, uploaded_by=personas.alice, uploaded_at=now,
    )  # fmt: skip
    job = GradingJob.objects.create(
        subject=submission.grading_subject, owner=submission.grading_owner, item=assignment.item,
        bundle=bundle, archive="handins/00/x", filename="mlp.zip", sha256="0" * 64,
        queue="cpu", created_at=now, enqueued_at=now, status=JobStatus.DONE, verdict="ok",
        score=2, max_score=3, finished_at=now,
    )  # fmt: skip
    for position, (name, visibility) in enumerate([("shown", "visible"), ("secret", "hidden")]):
        TestResult.objects.create(
            job=job, position=position, name=name, score=1, max_score=1 + position,
            status="passed", visibility=visibility, output=f"{name} output",
        )  # fmt: skip
    return submission


@pytest.fixture
def world(personas: Personas) -> World:
    course, alice = personas.course, personas.alice
    erin = make_member(course, "erin", Role.STUDENT)
    gina = make_member(course, "gina", Role.STUDENT)
    ivan = make_member(course, "ivan", Role.STUDENT)
    olga = make_member(personas.other_course, "olga", Role.INSTRUCTOR)
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(0))
    soon = timezone.now() + timedelta(days=3)
    a1 = GradeItem.objects.create(
        course=course, category=category, slug="a1", title="A1", max_points=Decimal(100),
        due_at=soon,
    )  # fmt: skip
    proposal = GradeItem.objects.create(
        course=course, category=category, slug="proposal", title="Proposal",
        max_points=Decimal(100), due_at=soon,
    )  # fmt: skip
    assignment = Assignment.objects.create(item=a1, handin_files=["mlp.py"])
    deliverable = Deliverable.objects.create(item=proposal, handin_files=["proposal.pdf"])
    group = ProjectGroup.objects.create(course=course, name="Group 1")
    for student in (personas.carol, gina):
        GroupMembership.objects.create(course=course, group=group, student=student)
    ivans = ProjectGroup.objects.create(course=course, name="Group 2")
    GroupMembership.objects.create(course=course, group=ivans, student=ivan)
    invitation = GroupInvitation.objects.create(
        group=ivans, invited=personas.carol, invited_by=ivan
    )
    for student, points in ((personas.carol, "8"), (erin, "6")):
        score_record(
            item=personas.quiz, student=student, points=Decimal(points),
            source=ScoreSource.MANUAL, changed_by=alice, reason="marked",
        )  # fmt: skip
    item_release(item=personas.quiz, released=True)
    extension = Extension.objects.create(
        item=a1, student=personas.carol, due_at=soon + timedelta(days=1), reason="ill",
        granted_by=personas.bob, granted_at=timezone.now(),
    )  # fmt: skip
    regrade = RegradeRequest.objects.create(
        item=personas.quiz, student=personas.carol, message="Question 2?",
        created_at=timezone.now(),
    )  # fmt: skip
    review_item = GradeItem.objects.create(
        course=course, category=category, slug="review-w05", title="Review", max_points=10,
        due_at=soon,
    )  # fmt: skip
    alexnet = Paper.objects.create(
        course=course, key="alexnet", title="AlexNet", authors="Krizhevsky et al.", year=2012,
        week=5, review_item=review_item,
    )  # fmt: skip
    rubric = Rubric.objects.create(course=course, slug="quiz-rubric", title="Quiz rubric")
    rubric.items.add(personas.quiz)
    criterion = Criterion.objects.create(rubric=rubric, title="Answer", max_points=10)
    evaluation_save(
        item=personas.quiz, subject=f"student:{personas.carol.pk}", grader=personas.bob,
        marks=[MarkInput(criterion.pk, points=Decimal(8))],
    )  # fmt: skip
    alexnet_slot = PresentationSlot.objects.create(paper=alexnet, date=soon.date())
    overview = SlotRole.objects.create(slot=alexnet_slot, role="overview", minutes=14)
    presenter = Presenter.objects.create(
        slot=alexnet_slot, slot_role=overview, student=personas.carol
    )
    # The quiz item as an online quiz, open for three more days; Carol is in her first attempt.
    personas.quiz.due_at = soon
    personas.quiz.save(update_fields=["due_at"])
    quiz = Quiz.objects.create(item=personas.quiz, attempts_allowed=2)
    Question.objects.create(
        quiz=quiz, key="q1", kind="number", text="2 + 2?", points=10, spec={"answer": 4}
    )
    Attempt.objects.create(
        quiz=quiz, student=personas.carol, number=1, started_at=timezone.now(), deadline_at=soon
    )
    token, _ = api_token_create(user=alice, name="own")
    _, export_key = api_token_create(
        user=alice, name="registrar", scope=TokenScope.GRADEBOOK_EXPORT, course=course
    )
    export = APIClient()
    export.credentials(HTTP_AUTHORIZATION=f"Token {export_key}")
    users = {
        "instructor": alice, "ta": personas.bob, "student": personas.carol, "other_student": erin,
        "outsider_student": personas.dave, "outsider_staff": olga, "anonymous": None,
    }  # fmt: skip
    clients = {role: personas.client(user) for role, user in users.items()}
    clients["export_token"] = export
    return World(
        personas=personas,
        clients=clients,
        ids={
            "token": token.pk, "assignment": assignment.pk, "deliverable": deliverable.pk,
            "extension": extension.pk, "group": group.pk, "invitation": invitation.pk,
            "regrade_request": regrade.pk,
            "submission": graded_handin(personas, assignment).pk,
            "presenter": presenter.pk,
        },
    )  # fmt: skip


def call(world: World, role: str, method: str, path: str) -> int:
    client = world.clients[role]
    url = world.url(path)
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        else:
            response = getattr(client, method.lower())(url, {}, format="json")
        transaction.set_rollback(True)
    return response.status_code


def test_it_knows_who_may_call_every_operation_of_the_schema():
    operations = set(schema_operations())
    assert operations - ACCESS.keys() == set(), "operations nobody said who may call"
    assert ACCESS.keys() - operations == set(), "operations that no longer exist"


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_it_lets_in_exactly_the_callers_the_table_allows(world, method, path):
    outcomes = {role: call(world, role, method, path) for role in ROLES}
    let_in = {role for role, status in outcomes.items() if status not in DENIED}
    assert let_in == ACCESS[method, path], outcomes
    assert all(status < 500 for status in outcomes.values()), outcomes


def test_it_shows_a_student_only_their_own_row_and_released_items(world):
    body = world.clients["student"].get(world.url(C + "/gradebook/")).json()
    assert [row["student"]["username"] for row in body["rows"]] == ["carol"]
    items = {item["slug"]: item for item in body["rows"][0]["items"]}
    assert items["quiz"]["points"] == "8.00"
    assert items["a1"]["points"] is None
    assert "6.00" not in str(body)


def test_it_shows_a_student_no_hidden_test_of_their_hand_in(world):
    url = world.url("/api/v1/submissions/{id}/")
    shown = world.clients["student"].get(url).json()["result"]
    assert [test["name"] for test in shown["tests"]] == ["shown"]
    assert "secret" not in str(shown)
    assert shown["score"] is None
    staff = world.clients["ta"].get(url).json()["result"]
    assert [test["name"] for test in staff["tests"]] == ["shown", "secret"]


def test_it_shows_a_student_neither_another_students_history_nor_an_unreleased_items(world):
    student = world.clients["student"]
    assert student.get(world.url(I + "/scores/erin/history/")).status_code == 404
    unreleased = world.url(C + "/items/a1/scores/carol/history/")
    assert student.get(unreleased).status_code in DENIED
    assert world.clients["ta"].get(unreleased).status_code == 200


def test_it_keeps_the_export_token_to_its_own_course(world):
    other = world.personas.other_course.slug
    export = world.clients["export_token"]
    assert export.get(f"/api/v1/courses/{other}/gradebook/").status_code in DENIED
    assert export.get(world.url(C + "/gradebook.csv")).status_code == 200
