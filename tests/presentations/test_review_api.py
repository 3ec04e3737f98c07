"""The paper API: papers with their slots, the caller's presentations, a student's own review and
the reviews a caller may read; each endpoint called by a student, another student, a TA, an
outsider and an anonymous caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from presentations.models import PaperReview
from tests.presentations.conftest import (
    FULL_REVIEW,
    Papers,
    paper,
    review_item,
    slot,
    submitted,
    written,
)

DENIED = {401, 403, 404}


def api(papers: Papers, path: str) -> str:
    return f"/api/v1/courses/{papers.course.slug}/{path}"


def review_url(papers: Papers, key: str = "alexnet", tail: str = "review/") -> str:
    return api(papers, f"papers/{key}/{tail}")


def callers(papers: Papers) -> dict[str, object]:
    p = papers.personas
    return {
        "student": p.carol, "other_student": papers.erin, "ta": p.bob, "outsider": p.dave,
        "anonymous": None,
    }  # fmt: skip


def statuses(papers: Papers, method: str, url: str, body: dict | None = None) -> dict[str, int]:
    answers = {}
    for role, user in callers(papers).items():
        client = papers.personas.client(user)  # type: ignore[arg-type]
        if method == "get":
            answers[role] = client.get(url).status_code
        else:
            answers[role] = getattr(client, method)(url, body or {}, format="json").status_code
    return answers


def test_it_documents_every_endpoint_in_the_schema(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    paper = "/api/v1/courses/{course_slug}/papers/{paper_key}"
    assert set(paths["/api/v1/courses/{course_slug}/papers/"]) == {"get"}
    assert set(paths["/api/v1/courses/{course_slug}/my-presentations/"]) == {"get"}
    assert set(paths[f"{paper}/review/"]) == {"get", "put"}
    assert set(paths[f"{paper}/review/submit/"]) == {"post"}
    assert set(paths[f"{paper}/reviews/"]) == {"get"}
    parts = schema["components"]["schemas"]["ReviewPartsRequest"]["properties"]
    assert (parts["summary"]["maxLength"], parts["questions"]["maxLength"]) == (600, 5000)


def test_it_lists_the_papers_to_every_member_and_no_one_else(papers):
    assert statuses(papers, "get", api(papers, "papers/")) == {
        "student": 200, "other_student": 200, "ta": 200, "outsider": 404, "anonymous": 401,
    }  # fmt: skip


def test_it_lists_the_papers_with_deadline_slot_roles_minutes_and_presenters(papers):
    body = papers.personas.client(papers.erin).get(api(papers, "papers/")).json()
    assert [row["key"] for row in body] == ["alexnet", "dropout", "resnet"]
    alexnet, _, resnet = body
    assert (alexnet["week"], alexnet["url"]) == (5, "https://papers.example.org/alexnet")
    assert alexnet["review_item"] == "review-w05"
    due = papers.alexnet.review_item.due_at  # type: ignore[union-attr]
    assert alexnet["review_due_at"] == timezone.localtime(due, papers.course.tz).isoformat()
    assert alexnet["review_due_at"].endswith("+03:00")
    assert alexnet["date"] == "2024-11-08"
    roles = {role["role"]: role for role in alexnet["roles"]}
    assert [(r["role"], r["minutes"]) for r in alexnet["roles"]] == [
        ("overview", 14), ("strengths", 8), ("weaknesses", 8), ("qa", 10),
    ]  # fmt: skip
    assert [p["username"] for p in roles["overview"]["presenters"]] == ["carol", "frank"]
    assert roles["strengths"]["presenters"] == [{"username": "erin", "name": "Erin Yilmaz"}]
    assert roles["strengths"]["role_label"] == "Strengths"
    assert (resnet["review_item"], resnet["review_due_at"], resnet["date"], resnet["roles"]) == (
        None,
        None,
        None,
        [],
    )


@pytest.mark.parametrize("more", [0, 4])
def test_it_lists_the_papers_in_a_fixed_number_of_queries(papers, django_assert_num_queries, more):
    for n in range(more):
        extra = paper(papers.course, f"extra{n}", 8 + n, review_item(papers.course, f"r{n}", None))
        slot(extra, None, {"overview": [papers.erin], "strengths": [papers.frank]})
    client = papers.personas.client(papers.carol)
    # The token and its use, membership with its course, papers with items and slots, roles,
    # presenters with their students.
    with django_assert_num_queries(6):
        assert client.get(api(papers, "papers/")).status_code == 200


def test_it_lists_the_callers_own_presentations_with_their_fellow_presenters(papers):
    assert statuses(papers, "get", api(papers, "my-presentations/")) == {
        "student": 200, "other_student": 200, "ta": 200, "outsider": 404, "anonymous": 401,
    }  # fmt: skip
    carol = papers.personas.client(papers.carol).get(api(papers, "my-presentations/")).json()
    assert carol == [
        {
            "paper": "alexnet", "title": "The alexnet paper", "date": "2024-11-08",
            "role": "overview", "role_label": "Overview", "minutes": 14,
            "fellow_presenters": [{"username": "frank", "name": ""}],
        },
        {
            "paper": "dropout", "title": "The dropout paper", "date": "2024-11-15",
            "role": "weaknesses", "role_label": "Weaknesses", "minutes": 8,
            "fellow_presenters": [],
        },
    ]  # fmt: skip
    erin = papers.personas.client(papers.erin).get(api(papers, "my-presentations/")).json()
    assert [(row["paper"], row["role"]) for row in erin] == [("alexnet", "strengths")]
    ta = papers.personas.client(papers.personas.bob).get(api(papers, "my-presentations/"))
    assert ta.json() == []


def test_it_lets_only_the_courses_students_read_and_save_their_own_review(papers):
    url = review_url(papers)
    assert statuses(papers, "get", url) == {
        "student": 200, "other_student": 200, "ta": 403, "outsider": 404, "anonymous": 401,
    }  # fmt: skip
    assert statuses(papers, "put", url, {"summary": "A CNN."}) == {
        "student": 200, "other_student": 200, "ta": 403, "outsider": 404, "anonymous": 401,
    }  # fmt: skip
    assert sorted(PaperReview.objects.values_list("student__username", flat=True)) == [
        "carol",
        "erin",
    ]


def test_it_shows_a_review_not_started_with_empty_parts(papers):
    body = papers.personas.client(papers.carol).get(review_url(papers)).json()
    assert body["state"] == "not started"
    assert body["summary"] == body["questions"] == ""
    assert (body["created_at"], body["submitted_at"], body["late"]) == (None, None, False)
    assert body["due_at"].endswith("+03:00")


def test_it_saves_a_draft_and_reads_it_back_to_its_student_only(papers):
    carol = papers.personas.client(papers.carol)
    saved = carol.put(review_url(papers), {"summary": "A CNN.", "questions": "Why?"}, format="json")
    assert saved.status_code == 200
    assert (saved.json()["state"], saved.json()["summary"]) == ("draft", "A CNN.")
    carol.put(review_url(papers), {"strengths": "GPUs."}, format="json")
    again = carol.get(review_url(papers)).json()
    assert (again["summary"], again["strengths"], again["questions"]) == ("A CNN.", "GPUs.", "Why?")
    erins = papers.personas.client(papers.erin).get(review_url(papers)).json()
    assert (erins["state"], erins["summary"]) == ("not started", "")


def test_it_answers_400_naming_a_part_too_long_or_unknown(papers):
    carol = papers.personas.client(papers.carol)
    too_long = carol.put(review_url(papers), {"summary": "x" * 601}, format="json")
    assert too_long.status_code == 400 and list(too_long.json()) == ["summary"]
    unknown = carol.put(review_url(papers), {"weakness": "typo"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json() == {
        "weakness": [
            "A review has no part 'weakness'; its parts are summary, strengths, weaknesses, "
            "suggestions, questions."
        ]
    }
    assert not PaperReview.objects.exists()


def test_it_answers_404_for_a_paper_of_another_course_or_none(papers):
    other = paper(papers.personas.other_course, "vgg", 5, None)
    carol = papers.personas.client(papers.carol)
    assert carol.get(review_url(papers, other.key)).status_code == 404
    assert carol.get(review_url(papers, "nothing")).status_code == 404
    dave = papers.personas.client(papers.personas.dave)
    other_url = f"/api/v1/courses/{papers.personas.other_course.slug}/papers/vgg/reviews/"
    assert dave.get(other_url).status_code == 200


def test_it_submits_only_a_review_with_every_part_written(papers):
    url = review_url(papers, tail="review/submit/")
    assert statuses(papers, "post", url) == {
        "student": 400, "other_student": 400, "ta": 403, "outsider": 404, "anonymous": 401,
    }  # fmt: skip
    carol = papers.personas.client(papers.carol)
    nothing = carol.post(url)
    assert set(nothing.json()) == set(FULL_REVIEW)
    assert not PaperReview.objects.exists()  # a refused submission stores nothing
    carol.put(review_url(papers), {**FULL_REVIEW, "weaknesses": " "}, format="json")
    refused = carol.post(url)
    assert (refused.status_code, refused.json()) == (
        400,
        {"weaknesses": ["Write the weaknesses part."]},
    )
    carol.put(review_url(papers), {"weaknesses": "Few ablations."}, format="json")
    done = carol.post(url)
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["late"]) == ("submitted", False)
    assert done.json()["submitted_at"].endswith("+03:00")


def test_it_marks_a_review_submitted_after_the_deadline_late_with_its_penalty(papers):
    carol = papers.personas.client(papers.carol)
    carol.put(review_url(papers, "dropout"), FULL_REVIEW, format="json")
    late = carol.post(review_url(papers, "dropout", "review/submit/")).json()
    assert (late["state"], late["late"], late["penalty_percent"]) == ("late", True, "20.00")
    locked = carol.put(review_url(papers, "dropout"), {"summary": "x"}, format="json")
    assert locked.status_code == 400 and "locked" in locked.json()["review"][0]


def test_it_refuses_a_late_review_where_the_course_refuses_them(papers):
    papers.policy_set(late_reviews="refused")
    carol = papers.personas.client(papers.carol)
    assert carol.get(review_url(papers, "dropout")).json()["state"] == "closed"
    refused = carol.put(review_url(papers, "dropout"), FULL_REVIEW, format="json")
    assert refused.status_code == 400
    assert "accepts no late reviews" in refused.json()["review"][0]


def test_it_lists_the_reviews_each_caller_may_read(papers):
    now = timezone.now()
    for student in (papers.carol, papers.erin):
        submitted(papers.alexnet, student, now)
    url = review_url(papers, tail="reviews/")
    assert statuses(papers, "get", url) == {
        "student": 200, "other_student": 200, "ta": 200, "outsider": 404, "anonymous": 401,
    }  # fmt: skip
    ta = papers.personas.client(papers.personas.bob).get(url).json()
    assert [(r["author"]["username"], r["mine"]) for r in ta] == [
        ("carol", False),
        ("erin", False),
    ]
    assert ta[0]["summary"] == FULL_REVIEW["summary"]
    carol = papers.personas.client(papers.carol).get(url).json()
    assert [(r["author"]["username"], r["mine"]) for r in carol] == [("carol", True)]


def test_it_shows_students_the_others_reviews_after_the_deadline_without_authors(papers):
    past = timezone.now() - timedelta(days=2)
    submitted(papers.dropout, papers.carol, past)
    written(papers.dropout, papers.frank, timezone.now())
    url = review_url(papers, "dropout", "reviews/")
    erin = papers.personas.client(papers.erin)
    assert erin.get(url).json() == []
    papers.policy_set(reviews_shown_after_deadline=True)
    shown = erin.get(url).json()
    assert [(r["author"], r["mine"], r["summary"]) for r in shown] == [
        (None, False, FULL_REVIEW["summary"])
    ]
    assert "carol" not in str(shown)
