"""The rubric API, called by the instructor, the TA, the student whose work it is, another
student, a student of another course and an anonymous caller.

The course has Carol's and Erin's midterm (``student:<pk>``) scored with the 16-point rubric of
``test_rubrics``: a derivation with levels 0/2/6 and a discussion of up to 10 free points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from coursesite.gradebook.services import item_release
from coursesite.models import GradeItem, Role, Score
from grading import rubrics
from grading.course_file import rubric_save
from grading.models import (
    Criterion,
    Level,
    MemberAdjustment,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
)
from grading.rubrics import MarkInput, evaluation_save
from tests.conftest import Personas, make_member
from tests.grading.test_rubrics import PairSource, exam_spec

pytestmark = pytest.mark.django_db

COURSE = "/api/v1/courses/dl-fall2024"
CALLERS = ("instructor", "ta", "student", "other_student", "outsider", "anonymous")
STAFF_ONLY = {"instructor": 200, "ta": 200, "student": 403, "other_student": 403}
OUTSIDE = {"outsider": 404, "anonymous": 401}


@dataclass
class Api:
    personas: Personas
    erin: AbstractUser
    item: GradeItem
    rubric: Rubric
    clients: dict[str, APIClient]

    @property
    def carol_subject(self) -> str:
        return f"student:{self.personas.carol.pk}"

    def criterion(self, title: str) -> Criterion:
        return self.rubric.criteria.get(title=title)

    def marks_body(self, level: str = "Right", points: str = "3") -> dict[str, Any]:
        derivation = self.criterion("Derivation")
        return {
            "comment": "Well argued.",
            "marks": [
                {
                    "criterion": derivation.pk,
                    "level": derivation.levels.get(title=level).pk,
                    "comment": "Clean.",
                },
                {"criterion": self.criterion("Discussion").pk, "points": points},
            ],
        }

    def evaluate(self, grader: AbstractUser, student: AbstractUser, level: str = "Right") -> None:
        derivation = self.criterion("Derivation")
        evaluation_save(
            item=self.item,
            subject=f"student:{student.pk}",
            grader=grader,
            marks=[
                MarkInput(derivation.pk, level_id=derivation.levels.get(title=level).pk),
                MarkInput(self.criterion("Discussion").pk, points=Decimal(3)),
            ],
        )

    def statuses(self, method: str, url: str, body: Any = None) -> dict[str, int]:
        """Each caller's answer, every call rolled back so that no caller sees another's write."""
        found = {}
        for caller in CALLERS:
            with transaction.atomic():
                client = self.clients[caller]
                if method == "get":
                    response = client.get(url)
                else:
                    response = getattr(client, method)(url, body, format="json")
                found[caller] = response.status_code
                transaction.set_rollback(True)
        return found


@pytest.fixture
def api(personas: Personas) -> Api:
    erin = make_member(personas.course, "erin", Role.STUDENT)
    item = GradeItem.objects.create(
        course=personas.course,
        category=personas.quiz.category,
        slug="midterm",
        title="Midterm",
        max_points=Decimal(10),
    )
    rubric = rubric_save(course=personas.course, spec=exam_spec("midterm", "midterm"))
    users = {
        "instructor": personas.alice,
        "ta": personas.bob,
        "student": personas.carol,
        "other_student": erin,
        "outsider": personas.dave,
        "anonymous": None,
    }
    clients = {caller: personas.client(user) for caller, user in users.items()}
    return Api(personas, erin, item, rubric, clients)


def test_it_lists_the_rubrics_to_every_member(api: Api) -> None:
    url = f"{COURSE}/rubrics/"
    assert api.statuses("get", url) == {
        "instructor": 200, "ta": 200, "student": 200, "other_student": 200, **OUTSIDE,
    }  # fmt: skip
    listed = api.clients["student"].get(url).json()
    assert [(r["slug"], r["items"], r["max_points"]) for r in listed] == [
        ("midterm", ["midterm"], "16.00")
    ]
    derivation, discussion = listed[0]["criteria"]
    assert (derivation["title"], derivation["max_points"]) == ("Derivation", "6.00")
    assert [(level["title"], level["points"]) for level in derivation["levels"]] == [
        ("Wrong", "0.00"),
        ("Partial", "2.00"),
        ("Right", "6.00"),
    ]
    assert derivation["levels"][2]["id"] == api.criterion("Derivation").levels.get(title="Right").pk
    assert (discussion["title"], discussion["max_points"], discussion["levels"]) == (
        "Discussion",
        "10.00",
        [],
    )


def test_it_lists_rubrics_in_a_fixed_number_of_queries(
    api: Api, django_assert_max_num_queries: Any
) -> None:
    for index in range(5):
        spec = replace(exam_spec(f"extra-{index}", "midterm"), items=())
        rubric_save(course=api.personas.course, spec=spec)
    with django_assert_max_num_queries(8):
        answer = api.clients["ta"].get(f"{COURSE}/rubrics/")
    assert len(answer.json()) == 6


REVIEW = {
    "slug": "paper-review",
    "title": "Paper review",
    "items": ["quiz"],
    "criteria": [
        {
            "title": "Summary",
            "levels": [
                {"title": "Missing", "points": "0"},
                {"title": "Complete", "points": "2", "description": "Problem and method."},
            ],
        },
        {"title": "Questions", "description": "For the class.", "points": "3"},
    ],
}


def test_it_creates_a_rubric_for_staff_only(api: Api) -> None:
    url = f"{COURSE}/rubrics/"
    assert api.statuses("post", url, REVIEW) == {
        "instructor": 201, "ta": 201, "student": 403, "other_student": 403, **OUTSIDE,
    }  # fmt: skip
    created = api.clients["ta"].post(url, REVIEW, format="json").json()
    assert (created["slug"], created["items"], created["max_points"]) == (
        "paper-review",
        ["quiz"],
        "5.00",
    )
    rubric = Rubric.objects.get(slug="paper-review")
    assert list(rubric.criteria.values_list("title", "max_points")) == [
        ("Summary", Decimal(2)),
        ("Questions", Decimal(3)),
    ]
    again = api.clients["ta"].post(url, REVIEW, format="json")
    assert (again.status_code, again.json()) == (
        400,
        {"slug": ["The course already has a rubric 'paper-review'."]},
    )


def review_with(**changes: Any) -> dict[str, Any]:
    """The review rubric with the values at the given paths (``criteria__0__points``) set."""
    body = yaml.safe_load(yaml.safe_dump(REVIEW))
    for path, value in changes.items():
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("__")]
        target = body
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return body


BAD_BODIES = [
    (
        review_with(criteria__0__levels=[{"title": "Only", "points": "2"}]),
        {"criteria[0].levels": ["a criterion with levels needs at least two"]},
    ),
    (
        review_with(criteria__0__points="2"),
        {
            "criteria[0].points": [
                "a criterion has levels or points (free points up to it), not both"
            ]
        },
    ),
    (
        review_with(criteria__1__points=None),
        {
            "criteria[1]": [
                "give the criterion levels (at least two) or points (free points up to it)"
            ]
        },
    ),
    (
        review_with(criteria__1__title="Summary"),
        {"criteria[1].title": ["two criteria are titled 'Summary'"]},
    ),
    (
        review_with(criteria__0__levels__1__points="-1"),
        {"criteria[0].levels[1].points": ["a level's points cannot be negative"]},
    ),
    (
        review_with(items=["midterm"]),
        {
            "items[0]": [
                "the item 'midterm' is already scored by the rubric 'midterm', so the rubric "
                "'paper-review' cannot score it too (an item has one rubric)"
            ]
        },
    ),
    (
        review_with(items=["final"]),
        {"items[0]": ["no graded item has the slug 'final'"]},
    ),
    (review_with(criteria=[]), {"criteria": ["a rubric needs at least one criterion"]}),
    (
        review_with(criteria__1__points="2.125"),
        {"criteria": {"1": {"points": ["Ensure that there are no more than 2 decimal places."]}}},
    ),
    (
        review_with(slug="paper review"),
        {"slug": ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']},
    ),
]


@pytest.mark.parametrize(("body", "problem"), BAD_BODIES)
def test_it_refuses_a_bad_rubric_naming_the_problem(
    api: Api, body: dict[str, Any], problem: dict[str, Any]
) -> None:
    answer = api.clients["instructor"].post(f"{COURSE}/rubrics/", body, format="json")
    assert (answer.status_code, answer.json()) == (400, problem)
    assert not Rubric.objects.filter(slug=body["slug"]).exists()


def test_it_reads_one_rubric_for_members_and_replaces_it_for_staff(api: Api) -> None:
    url = f"{COURSE}/rubrics/midterm/"
    assert api.statuses("get", url) == {
        "instructor": 200, "ta": 200, "student": 200, "other_student": 200, **OUTSIDE,
    }  # fmt: skip
    body = api.clients["ta"].get(url).json()
    body["criteria"].reverse()
    body["criteria"][0]["description"] = "Relate it to the lectures."
    assert api.statuses("put", url, body) == {**STAFF_ONLY, **OUTSIDE}
    before = api.criterion("Discussion").pk
    levels = sorted(Level.objects.values_list("pk", "title", "points"))
    answer = api.clients["ta"].put(url, body, format="json")
    assert answer.status_code == 200
    assert [c["title"] for c in answer.json()["criteria"]] == ["Discussion", "Derivation"]
    discussion = api.criterion("Discussion")
    assert (discussion.pk, discussion.position, discussion.description) == (
        before,
        0,
        "Relate it to the lectures.",
    )
    assert sorted(Level.objects.values_list("pk", "title", "points")) == levels
    assert api.clients["ta"].get(f"{COURSE}/rubrics/final/").status_code == 404


def test_it_keeps_what_evaluations_count_when_a_rubric_in_use_is_replaced(api: Api) -> None:
    api.evaluate(api.personas.bob, api.personas.carol)
    url = f"{COURSE}/rubrics/midterm/"
    body = api.clients["ta"].get(url).json()
    body["criteria"][1]["points"] = "20"
    answer = api.clients["instructor"].put(url, body, format="json")
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "criteria[1]": [
                "evaluations use the rubric 'midterm', so 'Discussion' stays worth 10.00 points"
            ]
        },
    )
    assert api.criterion("Discussion").max_points == Decimal(10)


def test_it_deletes_a_rubric_only_while_no_evaluation_uses_it(api: Api) -> None:
    url = f"{COURSE}/rubrics/midterm/"
    assert api.statuses("delete", url) == {
        "instructor": 204, "ta": 204, "student": 403, "other_student": 403, **OUTSIDE,
    }  # fmt: skip
    api.evaluate(api.personas.bob, api.personas.carol)
    answer = api.clients["instructor"].delete(url)
    assert (answer.status_code, answer.json()) == (
        400,
        {"detail": "1 evaluation(s) use the rubric 'midterm'; it cannot be deleted."},
    )
    RubricEvaluation.objects.all().delete()
    assert api.clients["instructor"].delete(url).status_code == 204
    assert not Rubric.objects.exists()


def test_it_shows_staff_every_evaluation_of_the_item(api: Api) -> None:
    api.evaluate(api.personas.alice, api.personas.carol)
    api.evaluate(api.personas.bob, api.personas.carol, level="Partial")
    api.evaluate(api.personas.bob, api.erin)
    url = f"{COURSE}/items/midterm/evaluations/"
    assert api.statuses("get", url) == {
        "instructor": 200, "ta": 200, "student": 200, "other_student": 200, **OUTSIDE,
    }  # fmt: skip
    shown = api.clients["ta"].get(url).json()
    assert [(e["label"], e["grader"], e["points"], e["counted"]) for e in shown] == [
        ("carol", "alice", "9.00", True),
        ("carol", "bob", "5.00", True),
        ("erin", "bob", "9.00", True),
    ]
    assert [(m["criterion_title"], m["level_title"], m["points"]) for m in shown[0]["marks"]] == [
        ("Derivation", "Right", "6.00"),
        ("Discussion", None, "3.00"),
    ]
    assert shown[0]["rubric_points"] == "16.00"


def test_it_shows_a_student_their_own_evaluation_only_after_release(api: Api) -> None:
    api.evaluate(api.personas.bob, api.personas.carol)
    api.evaluate(api.personas.bob, api.erin, level="Wrong")
    url = f"{COURSE}/items/midterm/evaluations/"
    carol = api.clients["student"]
    assert carol.get(url).json() == []
    item_release(item=api.item, released=True)
    shown = carol.get(url).json()
    assert [(e["subject"], e["points"], e["grader"], e["grader_name"]) for e in shown] == [
        (api.carol_subject, "9.00", None, None)
    ]
    assert "Wrong" not in str(shown), "Carol sees Erin's evaluation"
    RubricPolicy.objects.create(course=api.personas.course, show_grader_names=True)
    assert [(e["grader"], e["grader_name"]) for e in carol.get(url).json()] == [("bob", "bob")]
    assert [e["points"] for e in api.clients["other_student"].get(url).json()] == ["3.00"]


def test_it_saves_the_caller_s_evaluation_for_staff_only(api: Api) -> None:
    url = f"{COURSE}/items/midterm/evaluations/{api.carol_subject}/"
    body = api.marks_body()
    assert api.statuses("put", url, body) == {**STAFF_ONLY, **OUTSIDE}
    answer = api.clients["ta"].put(url, body, format="json")
    assert answer.status_code == 200
    saved = answer.json()
    assert (saved["grader"], saved["label"], saved["points"], saved["comment"]) == (
        "bob",
        "carol",
        "9.00",
        "Well argued.",
    )
    assert saved["marks"][0]["comment"] == "Clean."
    score = Score.objects.get(item=api.item, student=api.personas.carol)
    assert score.points == Decimal("5.63")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda body: body["marks"].pop(),
            {"marks": ["Mark every criterion: Discussion."]},
        ),
        (
            lambda body: body["marks"][1].update(points="12"),
            {"marks": ["'Discussion' takes 0 to 10.00 points, in hundredths at most."]},
        ),
        (
            lambda body: body["marks"][0].update(level=None),
            {"marks": ["Choose one of the levels of 'Derivation'."]},
        ),
        (lambda body: body.pop("marks"), {"marks": ["This field is required."]}),
    ],
)
def test_it_refuses_bad_marks_naming_the_problem(api: Api, change: Any, problem: Any) -> None:
    body = api.marks_body()
    change(body)
    url = f"{COURSE}/items/midterm/evaluations/{api.carol_subject}/"
    answer = api.clients["instructor"].put(url, body, format="json")
    assert (answer.status_code, answer.json()) == (400, problem)
    assert not RubricEvaluation.objects.exists()


def test_it_refuses_an_evaluation_of_work_that_is_not_there(api: Api) -> None:
    body = api.marks_body()
    for subject, problem in [
        ("essay:1", "'essay:1' is not work that rubrics score."),
        (
            f"student:{api.personas.dave.pk}",
            f"Midterm has no work 'student:{api.personas.dave.pk}' to score.",
        ),
    ]:
        url = f"{COURSE}/items/midterm/evaluations/{subject}/"
        answer = api.clients["instructor"].put(url, body, format="json")
        assert (answer.status_code, answer.json()) == (400, {"subject": [problem]})
    answer = api.clients["instructor"].put(
        f"{COURSE}/items/exam/evaluations/{api.carol_subject}/", body, format="json"
    )
    assert answer.status_code == 404


def test_it_deletes_only_the_caller_s_own_evaluation(api: Api) -> None:
    api.evaluate(api.personas.bob, api.personas.carol)
    url = f"{COURSE}/items/midterm/evaluations/{api.carol_subject}/"
    assert api.statuses("delete", url) == {
        "instructor": 404, "ta": 204, "student": 403, "other_student": 403, **OUTSIDE,
    }  # fmt: skip
    assert api.clients["ta"].delete(url).status_code == 204
    assert not RubricEvaluation.objects.exists()
    score = Score.objects.get(item=api.item, student=api.personas.carol)
    assert score.points is None
    assert api.clients["ta"].delete(url).status_code == 404


@pytest.fixture
def pair(api: Api, monkeypatch: pytest.MonkeyPatch) -> GradeItem:
    """Carol and Erin's project, ``pair:1``, evaluated by Alice at 9 of 16: 56.25 of 100."""
    monkeypatch.setitem(rubrics._sources, "pair", PairSource((api.personas.carol.pk, api.erin.pk)))
    item = GradeItem.objects.create(
        course=api.personas.course,
        category=api.personas.quiz.category,
        slug="project",
        title="Project",
        max_points=Decimal(100),
    )
    rubric = rubric_save(course=api.personas.course, spec=exam_spec("project", "project"))
    derivation = rubric.criteria.get(title="Derivation")
    evaluation_save(
        item=item,
        subject="pair:1",
        grader=api.personas.alice,
        marks=[
            MarkInput(derivation.pk, level_id=derivation.levels.get(title="Right").pk),
            MarkInput(rubric.criteria.get(title="Discussion").pk, points=Decimal(3)),
        ],
    )
    return item


def test_it_adjusts_one_member_of_a_pair_for_staff_only(api: Api, pair: GradeItem) -> None:
    url = f"{COURSE}/items/project/adjustments/pair:1/erin/"
    body = {"points": "-6.25", "reason": "missed two meetings"}
    assert api.statuses("put", url, body) == {**STAFF_ONLY, **OUTSIDE}
    answer = api.clients["instructor"].put(url, body, format="json")
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("subject", "student", "points", "adjusted_by")} == {
        "subject": "pair:1",
        "student": "erin",
        "points": "-6.25",
        "adjusted_by": "alice",
    }
    points = dict(Score.objects.filter(item=pair).values_list("student__username", "points"))
    assert points == {"carol": Decimal("56.25"), "erin": Decimal("50.00")}
    removed = api.clients["ta"].put(url, {"points": "0", "reason": "made up"}, format="json")
    assert removed.status_code == 204
    assert not MemberAdjustment.objects.exists()


def test_it_refuses_a_bad_adjustment_naming_the_problem(api: Api, pair: GradeItem) -> None:
    client = api.clients["instructor"]
    url = f"{COURSE}/items/project/adjustments/pair:1/erin/"
    answers = [
        client.put(url, {"points": "-6.25", "reason": " "}, format="json"),
        client.put(url, {"points": "101", "reason": "x"}, format="json"),
        client.put(url, {"reason": "x"}, format="json"),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [
        (400, {"reason": ["This field may not be blank."]}),
        (400, {"points": ["Adjust by at most 100.00 points, in hundredths."]}),
        (400, {"points": ["This field is required."]}),
    ]
    outsider = make_member(api.personas.course, "frank", Role.STUDENT)
    answer = client.put(
        f"{COURSE}/items/project/adjustments/pair:1/{outsider.username}/",
        {"points": "1", "reason": "helped"},
        format="json",
    )
    assert (answer.status_code, answer.json()) == (
        400,
        {"student": ["frank has no share in Pair 1."]},
    )
    ghost = f"{COURSE}/items/project/adjustments/pair:1/dave/"
    assert client.put(ghost, {"points": "1", "reason": "x"}, format="json").status_code == 404
    assert not MemberAdjustment.objects.exists()


def test_it_lists_disagreements_to_staff_only(api: Api) -> None:
    api.evaluate(api.personas.alice, api.personas.carol)
    api.evaluate(api.personas.bob, api.personas.carol, level="Partial")
    api.evaluate(api.personas.alice, api.erin)
    api.evaluate(api.personas.bob, api.erin)
    url = f"{COURSE}/rubric-disagreements/"
    assert api.statuses("get", url) == {**STAFF_ONLY, **OUTSIDE}
    found = api.clients["ta"].get(url).json()
    assert found == [
        {
            "item": "midterm",
            "subject": api.carol_subject,
            "label": "carol",
            "rubric_points": "16.00",
            "graders": [{"grader": "alice", "points": "9.00"}, {"grader": "bob", "points": "5.00"}],
            "criteria": [
                {
                    "criterion": api.criterion("Derivation").pk,
                    "title": "Derivation",
                    "max_points": "6.00",
                    "spread": "4.00",
                    "marks": [
                        {"grader": "alice", "points": "6.00", "level": "Right"},
                        {"grader": "bob", "points": "2.00", "level": "Partial"},
                    ],
                },
                {
                    "criterion": api.criterion("Discussion").pk,
                    "title": "Discussion",
                    "max_points": "10.00",
                    "spread": "0.00",
                    "marks": [
                        {"grader": "alice", "points": "3.00", "level": None},
                        {"grader": "bob", "points": "3.00", "level": None},
                    ],
                },
            ],
        }
    ]


def test_it_describes_the_rubric_api_in_a_valid_schema(api: Api) -> None:
    schema = yaml.safe_load(api.clients["student"].get("/api/schema/").content)
    validate(schema)
    item = "/api/v1/courses/{course_slug}/items/{item_slug}"
    assert {
        "/api/v1/courses/{course_slug}/rubrics/",
        "/api/v1/courses/{course_slug}/rubrics/{rubric_slug}/",
        f"{item}/evaluations/",
        f"{item}/evaluations/{{subject}}/",
        f"{item}/adjustments/{{subject}}/{{username}}/",
        "/api/v1/courses/{course_slug}/rubric-disagreements/",
    } <= set(schema["paths"])
