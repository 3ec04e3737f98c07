"""The staff's presenters API: list the slots with their presenters, assign them, place (pin) a
student in a role, remove a presenter and swap two; refused with 400 and the rule a change would
break, 403 to a student, 404 to an outsider, 401 to an anonymous caller."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from presentations.models import BlockedWeek, Presenter
from tests.presentations.conftest import Papers, paper, slot


def api(papers: Papers, tail: str = "") -> str:
    return f"/api/v1/courses/{papers.course.slug}/presenters/{tail}"


def presenter(username: str, key: str) -> Presenter:
    return Presenter.objects.get(student__username=username, slot__paper__key=key)


def holders(papers: Papers) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    rows = Presenter.objects.filter(slot__paper__course=papers.course).select_related(
        "student", "slot_role__slot__paper"
    )
    for row in rows.order_by("slot_role__slot__paper__key", "slot_role__position", "student"):
        place = (row.slot_role.slot.paper.key, row.slot_role.role)
        found.setdefault(place, []).append((row.student.username, row.pinned))
    return found


def as_ta(papers: Papers, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    client = papers.personas.client(papers.personas.bob)
    return getattr(client, method)(url, body or {}, format="json")


CALLERS = ["alice", "bob", "carol", "dave", None]


def statuses(papers: Papers, method: str, url: str, body: dict[str, Any]) -> dict[str, int]:
    """Each caller's answer, with the presenters put back after every call."""
    answers = {}
    for name in CALLERS:
        user = getattr(papers.personas, name) if name else None
        before = list(Presenter.objects.all())
        client = papers.personas.client(user)
        if method == "get":
            answer = client.get(url)
        else:
            answer = getattr(client, method)(url, body, format="json")
        answers[name or "anonymous"] = answer.status_code
        Presenter.objects.all().delete()
        Presenter.objects.bulk_create(before)
    return answers


ALLOWED = {"alice", "bob"}
DENIED = {"carol": 403, "dave": 404, "anonymous": 401}


def test_it_documents_the_presenters_endpoints_in_the_schema(db):
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    base = "/api/v1/courses/{course_slug}/presenters/"
    assert set(paths[base]) == {"get", "post"}
    assert set(paths[f"{base}assign/"]) == {"post"}
    assert set(paths[f"{base}swap/"]) == {"post"}
    assert set(paths[base + "{id}/"]) == {"delete"}
    pin = paths[base]["post"]
    assert pin["operationId"] == "course_presenters_pin"
    assert set(pin["responses"]) == {"200", "201"}


@pytest.mark.parametrize("endpoint", ["list", "assign", "pin", "swap", "remove"])
def test_it_lets_only_the_course_s_staff_in(papers, endpoint):
    frank, erin = presenter("frank", "alexnet").pk, presenter("erin", "alexnet").pk
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "list": ("get", "", {}),
        "assign": ("post", "assign/", {"seed": 3}),
        "pin": ("post", "", {"slot": "dropout", "role": "overview", "student": "erin"}),
        "swap": ("post", "swap/", {"first": frank, "second": erin}),
        "remove": ("delete", f"{erin}/", {}),
    }
    method, tail, body = calls[endpoint]
    answers = statuses(papers, method, api(papers, tail), body)
    assert {name for name, status in answers.items() if status < 400} == ALLOWED, answers
    assert {name: answers[name] for name in DENIED} == DENIED


def test_it_lists_the_slots_with_each_role_s_presenters_their_ids_and_pins(papers):
    Presenter.objects.filter(student__username="frank").update(pinned=True)
    body = as_ta(papers, "get", api(papers)).json()
    assert [(row["paper"], row["date"], row["week"]) for row in body] == [
        ("alexnet", "2024-11-08", 5),
        ("dropout", "2024-11-15", 6),
    ]
    overview = body[0]["roles"][0]
    assert (overview["role"], overview["role_label"], overview["minutes"]) == (
        "overview", "Overview", 14,
    )  # fmt: skip
    assert overview["presenters"] == [
        {"id": presenter("carol", "alexnet").pk, "username": "carol", "name": "", "pinned": False},
        {"id": presenter("frank", "alexnet").pk, "username": "frank", "name": "", "pinned": True},
    ]
    assert [role["role"] for role in body[0]["roles"]] == [
        "overview", "strengths", "weaknesses", "qa",
    ]  # fmt: skip


# Assigning.


def test_it_assigns_the_presenters_keeping_the_pinned_ones_and_answers_the_slots(papers):
    Presenter.objects.filter(student__username="frank").update(pinned=True)
    answer = as_ta(papers, "post", api(papers, "assign/"), {"seed": 5})
    assert answer.status_code == 200
    groups = holders(papers)
    assert ("frank", True) in groups[("alexnet", "overview")]
    assert sum(len(names) for names in groups.values()) == 6
    shown = {
        (row["paper"], role["role"]): [(p["username"], p["pinned"]) for p in role["presenters"]]
        for row in answer.json()
        for role in row["roles"]
        if role["presenters"]
    }
    assert shown == groups


def test_it_gives_the_same_assignment_for_the_same_seed(papers):
    first = as_ta(papers, "post", api(papers, "assign/"), {"seed": 11})
    assert first.status_code == 200
    assigned = holders(papers)
    as_ta(papers, "post", api(papers, "assign/"), {"seed": 11})
    assert holders(papers) == assigned


def test_it_refuses_an_impossible_assignment_and_changes_nothing(papers):
    for student in (papers.carol, papers.erin, papers.frank):
        BlockedWeek.objects.create(course=papers.course, student=student, week=5)
    before = holders(papers)
    answer = as_ta(papers, "post", api(papers, "assign/"), {})
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": [
            "only 0 students are free to present in week 5, but the 3 roles of alexnet need at "
            "least 3"
        ]
    }
    assert holders(papers) == before


def test_it_refuses_a_negative_seed(papers):
    answer = as_ta(papers, "post", api(papers, "assign/"), {"seed": -1})
    assert answer.status_code == 400 and "seed" in answer.json()


# Placing.


def pin(papers: Papers, key: str, role: str, student: str) -> Any:
    return as_ta(papers, "post", api(papers), {"slot": key, "role": role, "student": student})


def test_it_places_a_student_in_a_role_pinned(papers):
    answer = pin(papers, "dropout", "overview", "erin")
    assert answer.status_code == 201
    placed = presenter("erin", "dropout")
    assert answer.json() == {
        "id": placed.pk, "username": "erin", "name": "Erin Yilmaz", "pinned": True,
        "slot": "dropout", "role": "overview",
    }  # fmt: skip
    assert holders(papers)[("dropout", "overview")] == [("erin", True)]


def test_it_pins_a_presenter_already_in_place(papers):
    answer = pin(papers, "alexnet", "overview", "carol")
    assert answer.status_code == 200 and answer.json()["pinned"] is True
    assert holders(papers)[("alexnet", "overview")] == [("carol", True), ("frank", False)]


@pytest.mark.parametrize(
    ("key", "role", "student", "refusal"),
    [
        (
            "alexnet", "strengths", "carol",
            "carol holds both the overview and the strengths of alexnet: a student holds one "
            "role per slot",
        ),
        (
            "dropout", "strengths", "erin",
            "erin holds the strengths of alexnet and then of dropout, two presentations in a "
            "row: a student never holds the same role in two presentations in a row",
        ),
        (
            "dropout", "qa", "erin",
            "the questions and answers belong to the whole class; only overview, strengths, "
            "weaknesses have presenters",
        ),
    ],
)  # fmt: skip
def test_it_refuses_a_place_with_the_rule_it_would_break(papers, key, role, student, refusal):
    before = holders(papers)
    answer = pin(papers, key, role, student)
    assert answer.status_code == 400
    assert answer.json() == {"detail": [refusal]}
    assert holders(papers) == before


def test_it_refuses_a_place_in_a_blocked_week(papers):
    BlockedWeek.objects.create(course=papers.course, student=papers.frank, week=6)
    answer = pin(papers, "dropout", "strengths", "frank")
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": [
            "frank presents in dropout in week 6, a week they are blocked: a student never "
            "presents in a week they are blocked"
        ]
    }


def test_it_refuses_someone_who_is_not_a_student_of_the_course(papers):
    for username in ("bob", "dave", "nobody"):
        answer = pin(papers, "dropout", "overview", username)
        assert answer.status_code == 400
        assert answer.json() == {
            "student": [
                f"{username} is not a student of the course: a presenter is a student of the "
                "course."
            ]
        }
    assert ("dropout", "overview") not in holders(papers)


def test_it_refuses_a_slot_the_course_does_not_have(papers):
    other = papers.personas.other_course
    slot(paper(other, "vgg", 5, None), date(2024, 11, 8))
    for key in ("resnet", "vgg"):
        answer = pin(papers, key, "overview", "erin")
        assert answer.status_code == 400
        assert answer.json() == {
            "slot": [f"The course has no slot of {key} with the role overview."]
        }
    answer = pin(papers, "dropout", "chair", "erin")
    assert answer.status_code == 400 and "role" in answer.json()


# Removing.


def test_it_removes_a_presenter(papers):
    erin = presenter("erin", "alexnet")
    answer = as_ta(papers, "delete", api(papers, f"{erin.pk}/"))
    assert answer.status_code == 204
    assert not Presenter.objects.filter(pk=erin.pk).exists()


def test_it_answers_404_for_a_presenter_of_another_course(papers):
    other = papers.personas.other_course
    vgg = slot(
        paper(other, "vgg", 5, None), date(2024, 11, 8), {"overview": [papers.personas.dave]}
    )
    theirs = Presenter.objects.get(slot=vgg)
    assert as_ta(papers, "delete", api(papers, f"{theirs.pk}/")).status_code == 404
    assert Presenter.objects.filter(pk=theirs.pk).exists()


# Swapping.


def swap(papers: Papers, first: int, second: int) -> Any:
    return as_ta(papers, "post", api(papers, "swap/"), {"first": first, "second": second})


def test_it_swaps_two_presenters_and_pins_both(papers):
    frank, erin = presenter("frank", "alexnet"), presenter("erin", "alexnet")
    answer = swap(papers, frank.pk, erin.pk)
    assert answer.status_code == 200
    assert [(p["id"], p["username"], p["role"], p["pinned"]) for p in answer.json()] == [
        (frank.pk, "frank", "strengths", True),
        (erin.pk, "erin", "overview", True),
    ]
    groups = holders(papers)
    assert groups[("alexnet", "overview")] == [("carol", False), ("erin", True)]
    assert groups[("alexnet", "strengths")] == [("frank", True)]


def test_it_refuses_a_swap_with_the_rule_it_would_break(papers):
    before = holders(papers)
    answer = swap(papers, presenter("erin", "alexnet").pk, presenter("carol", "dropout").pk)
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": [
            "carol holds both the overview and the strengths of alexnet: a student holds one "
            "role per slot"
        ]
    }
    assert holders(papers) == before


def test_it_refuses_a_swap_with_a_presenter_the_course_does_not_have(papers):
    other = papers.personas.other_course
    vgg = slot(
        paper(other, "vgg", 5, None), date(2024, 11, 8), {"overview": [papers.personas.dave]}
    )
    theirs = Presenter.objects.get(slot=vgg)
    answer = swap(papers, presenter("erin", "alexnet").pk, theirs.pk)
    assert answer.status_code == 400
    assert answer.json() == {"second": [f"The course's slots have no presenter {theirs.pk}."]}
