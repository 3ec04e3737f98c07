"""The paper pages: the presentation schedule, a student's reviews, writing one review, and what
staff see of them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from presentations.models import PaperReview
from tests.coursesite.test_pages import logged_in, page_text
from tests.presentations.conftest import (
    FULL_REVIEW,
    Papers,
    paper,
    review_item,
    slot,
    submitted,
    written,
)

ISTANBUL = ZoneInfo("Europe/Istanbul")

# Session, user, membership with its course, the student's roles, their fellow presenters, the
# papers with items and slots, the slots' roles, their presenters.
PRESENTATIONS_QUERIES = 8
# Session, user, membership with its course, the papers with items, the student's reviews, the
# course's presentation policy.
REVIEWS_QUERIES = 6


def url(papers: Papers, path: str) -> str:
    return f"/courses/{papers.course.slug}/{path}"


def review_page(papers: Papers, key: str = "alexnet") -> str:
    return url(papers, f"reviews/{key}/")


def post_review(client: Client, papers: Papers, action: str, key: str = "alexnet", **parts: str):
    return client.post(review_page(papers, key), {**parts, "action": action})


def due(papers: Papers, key: str, when: datetime) -> None:
    item = getattr(papers, key).review_item
    item.due_at = when
    item.save(update_fields=["due_at"])


@pytest.mark.parametrize("path", ["presentations/", "reviews/", "reviews/alexnet/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(papers, path):
    answer = Client().get(url(papers, path))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["presentations/", "reviews/", "reviews/alexnet/"])
def test_it_answers_404_to_an_outsider(papers, path):
    assert logged_in(papers.personas.dave).get(url(papers, path)).status_code == 404


def test_it_answers_404_for_a_paper_without_reviews_or_of_another_course(papers):
    paper(
        papers.personas.other_course, "vgg", 5, review_item(papers.personas.other_course, "r", None)
    )
    client = logged_in(papers.carol)
    assert client.get(review_page(papers, "resnet")).status_code == 404
    assert client.get(review_page(papers, "vgg")).status_code == 404


def test_it_links_the_course_page_to_the_presentations_and_the_reviews(papers):
    student = logged_in(papers.carol).get(url(papers, "")).content.decode()
    assert f'href="/courses/{papers.course.slug}/presentations/">Paper presentations' in student
    assert f'href="/courses/{papers.course.slug}/reviews/">My paper reviews' in student
    staff = logged_in(papers.personas.bob).get(url(papers, "")).content.decode()
    assert f'href="/courses/{papers.course.slug}/reviews/">Paper reviews' in staff


def test_it_shows_the_schedule_with_the_students_own_slots_at_the_top(papers):
    answer = logged_in(papers.carol).get(url(papers, "presentations/"))
    text = page_text(answer)
    assert (
        "You present The alexnet paper: Overview, 14 min, on Fri 8 Nov 2024, with frank "
        "The dropout paper: Weaknesses, 8 min, on Fri 15 Nov 2024" in text
    )
    html = answer.content.decode()
    row = html[html.index('id="paper-alexnet"') : html.index('id="paper-dropout"')]
    assert 'href="https://papers.example.org/alexnet">The alexnet paper</a>' in row
    row_text = re.sub(r"<[^>]+>|\s+", " ", row)
    assert "Overview (14 min): carol, frank you" in re.sub(r" +", " ", row_text)
    assert "Strengths (8 min): Erin Yilmaz" in re.sub(r" +", " ", row_text)
    assert "Questions and answers (10 min): the whole class" in re.sub(r" +", " ", row_text)
    assert "not scheduled yet" in page_text(answer)  # ResNet has no slot


def test_it_shows_staff_the_schedule_without_a_section_of_their_own(papers):
    text = page_text(logged_in(papers.personas.bob).get(url(papers, "presentations/")))
    assert "You present" not in text and "The alexnet paper" in text


def test_it_lists_a_students_reviews_with_deadlines_in_the_course_time_and_states(papers):
    due(papers, "alexnet", datetime(2034, 11, 7, 23, 59, tzinfo=ISTANBUL))
    submitted(papers.dropout, papers.carol, timezone.now())
    answer = logged_in(papers.carol).get(url(papers, "reviews/"))
    html = answer.content.decode()
    assert "Tue 7 Nov 2034, 23:59" in html and "(Europe/Istanbul)" in html
    text = page_text(answer)
    assert re.search(r"5 The alexnet paper .*? not started", text)
    assert re.search(r"6 The dropout paper .*? submitted late", text)
    assert "resnet" not in text
    assert f'href="/courses/{papers.course.slug}/reviews/alexnet/"' in html


def test_it_shows_staff_how_many_reviews_are_submitted_and_late(papers):
    now = timezone.now()
    submitted(papers.dropout, papers.carol, now)
    submitted(papers.dropout, papers.erin, now - timedelta(days=2))
    written(papers.dropout, papers.frank, now)
    answer = logged_in(papers.personas.bob).get(url(papers, "reviews/"))
    html = answer.content.decode()
    row = html[html.index('id="review-dropout"') :]
    assert re.search(r'class="number">2</td>\s*<td class="number">1</td>', row)


def test_it_shows_the_five_parts_as_labelled_text_areas_with_the_guidelines_hints(papers):
    answer = logged_in(papers.carol).get(review_page(papers))
    html = answer.content.decode()
    assert answer.status_code == 200
    for name, label in [
        ("summary", "Summary"), ("strengths", "Strengths"), ("weaknesses", "Weaknesses"),
        ("suggestions", "Suggestions"), ("questions", "Questions for the class"),
    ]:  # fmt: skip
        assert f'<label for="id_{name}">{label}</label>' in html
        assert re.search(f'<textarea name="{name}"[^>]*id="id_{name}"', html)
    assert "1-2 sentences on what the paper is about. At most 600 characters." in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="save"' in html and 'value="submit"' in html
    assert "<script" not in html


def test_it_saves_a_draft_and_shows_it_again(papers):
    client = logged_in(papers.carol)
    answer = post_review(client, papers, "save", summary="A CNN.", strengths="GPUs.")
    assert answer.status_code == 302
    page = client.get(review_page(papers))
    assert "Your draft review of The alexnet paper is saved" in page_text(page)
    assert "A CNN.</textarea>" in page.content.decode()
    assert "draft" in page_text(page)
    review = PaperReview.objects.get()
    assert (review.summary, review.strengths, review.submitted_at) == ("A CNN.", "GPUs.", None)


def test_it_shows_the_empty_parts_next_to_them_and_submits_nothing(papers):
    client = logged_in(papers.carol)
    answer = post_review(client, papers, "submit", **{**FULL_REVIEW, "weaknesses": ""})
    assert answer.status_code == 200
    html = answer.content.decode()
    field = html[html.index('<label for="id_weaknesses">') : html.index('<label for="id_sugg')]
    assert "Write the weaknesses part." in field
    assert f"{FULL_REVIEW['summary']}</textarea>" in html  # what was typed stays on the page
    assert not PaperReview.objects.exists()


def test_it_shows_a_part_over_its_limit_next_to_it(papers):
    answer = post_review(logged_in(papers.carol), papers, "save", summary="x" * 601)
    html = answer.content.decode()
    field = html[html.index('<label for="id_summary">') : html.index('<label for="id_strengths">')]
    assert "The summary part is 601 characters long; keep it to 600." in field


def test_it_submits_a_written_review(papers):
    client = logged_in(papers.carol)
    assert post_review(client, papers, "submit", **FULL_REVIEW).status_code == 302
    page = page_text(client.get(review_page(papers)))
    assert "Your review of The alexnet paper is submitted." in page
    assert "State submitted on" in page
    assert "Until the deadline you may change it and submit it again" in page
    review = PaperReview.objects.get()
    assert review.submitted_at is not None and not review.late


def test_it_accepts_a_late_review_saying_so_and_its_penalty(papers):
    client = logged_in(papers.carol)
    page = page_text(client.get(review_page(papers, "dropout")))
    assert "a review submitted now is marked late and loses 20% of its score" in page
    post_review(client, papers, "submit", "dropout", **FULL_REVIEW)
    page = page_text(client.get(review_page(papers, "dropout")))
    assert "submitted late; its score loses 20%" in page
    assert "submitted late" in page
    assert 'id="review-form"' not in client.get(review_page(papers, "dropout")).content.decode()


def test_it_shows_a_review_read_only_after_the_deadline_where_late_ones_are_refused(papers):
    papers.policy_set(late_reviews="refused")
    written(papers.alexnet, papers.carol, timezone.now())
    due(papers, "alexnet", timezone.now() - timedelta(hours=1))
    client = logged_in(papers.carol)
    answer = client.get(review_page(papers))
    html = answer.content.decode()
    assert 'id="review-form"' not in html and "<textarea" not in html
    assert "never submitted" in page_text(answer)
    assert FULL_REVIEW["summary"] in page_text(answer)
    refused = post_review(client, papers, "save", summary="Changed.")
    assert "accepts no late reviews" in page_text(refused)
    assert PaperReview.objects.get().summary == FULL_REVIEW["summary"]


def test_it_shows_the_classmates_reviews_after_the_deadline_only_where_the_course_does(papers):
    submitted(papers.dropout, papers.erin, timezone.now() - timedelta(days=2))
    written(papers.dropout, papers.frank, timezone.now())
    client = logged_in(papers.carol)
    assert "classmates' reviews" not in page_text(client.get(review_page(papers, "dropout")))
    papers.policy_set(reviews_shown_after_deadline=True)
    text = page_text(client.get(review_page(papers, "dropout")))
    assert "Your classmates' reviews" in text
    assert FULL_REVIEW["strengths"] in text
    assert "Erin" not in text and "erin" not in text and "frank" not in text


def test_it_shows_staff_every_submitted_review_with_its_author(papers):
    now = timezone.now()
    submitted(papers.alexnet, papers.erin, now)
    written(papers.alexnet, papers.frank, now)
    client = logged_in(papers.personas.bob)
    answer = client.get(review_page(papers))
    text = page_text(answer)
    assert "Reviews of The alexnet paper" in text
    assert "Erin Yilmaz (erin)" in text and FULL_REVIEW["questions"] in text
    assert "frank" not in text
    assert "1, of them 0 late" in text
    assert client.post(review_page(papers), {"action": "save"}).status_code == 404


@pytest.mark.parametrize("more", [0, 3])
def test_it_reads_the_pages_in_a_fixed_number_of_queries(papers, django_assert_num_queries, more):
    for n in range(more):
        extra = paper(papers.course, f"extra{n}", 8 + n, review_item(papers.course, f"r{n}", None))
        slot(extra, None, {"overview": [papers.carol, papers.erin]})
        written(extra, papers.carol, timezone.now())
    client = logged_in(papers.carol)
    with django_assert_num_queries(PRESENTATIONS_QUERIES):
        assert client.get(url(papers, "presentations/")).status_code == 200
    with django_assert_num_queries(REVIEWS_QUERIES):
        assert client.get(url(papers, "reviews/")).status_code == 200
