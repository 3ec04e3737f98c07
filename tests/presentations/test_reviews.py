"""Writing, submitting and reading paper reviews: the rules of ``presentations.reviews``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from presentations.models import LateReviews, Paper, PaperReview, PresentationPolicy
from presentations.reviews import (
    PART_NAMES,
    ReviewState,
    review_deadline,
    review_penalty_percent,
    review_save,
    review_save_and_submit,
    review_state,
    review_submit,
    reviews_readable,
)
from tests.presentations.conftest import FULL_REVIEW, Papers, submitted, written

ISTANBUL = ZoneInfo("Europe/Istanbul")
DEADLINE = datetime(2024, 11, 7, 23, 59, tzinfo=ISTANBUL)
BEFORE = DEADLINE - timedelta(hours=5)
AFTER = DEADLINE + timedelta(hours=1)


@pytest.fixture
def alexnet(papers: Papers) -> Paper:
    """AlexNet with its reviews due at DEADLINE."""
    item = papers.alexnet.review_item
    assert item is not None
    item.due_at = DEADLINE
    item.save(update_fields=["due_at"])
    return Paper.objects.select_related("course", "review_item").get(pk=papers.alexnet.pk)


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


def stored(paper: Paper, student) -> PaperReview:
    return PaperReview.objects.get(paper=paper, student=student)


def test_it_keeps_a_draft_with_some_parts_only(papers, alexnet):
    review_save(paper=alexnet, student=papers.carol, parts={"summary": "  A CNN.  "}, now=BEFORE)
    review = stored(alexnet, papers.carol)
    assert (review.summary, review.strengths, review.submitted_at) == ("A CNN.", "", None)
    assert review.created_at == review.updated_at == BEFORE


def test_it_keeps_the_parts_a_later_save_leaves_out(papers, alexnet):
    review_save(paper=alexnet, student=papers.carol, parts={"summary": "A CNN."}, now=BEFORE)
    later = BEFORE + timedelta(minutes=30)
    review_save(paper=alexnet, student=papers.carol, parts={"questions": "Why?"}, now=later)
    review = stored(alexnet, papers.carol)
    assert (review.summary, review.questions) == ("A CNN.", "Why?")
    assert (review.created_at, review.updated_at) == (BEFORE, later)
    assert PaperReview.objects.count() == 1


def test_it_refuses_a_part_the_guideline_does_not_have_naming_it(papers, alexnet):
    with pytest.raises(ValidationError) as error:
        review_save(paper=alexnet, student=papers.carol, parts={"weakness": "x"}, now=BEFORE)
    assert list(refusal(error)) == ["weakness"]
    assert not PaperReview.objects.exists()


@pytest.mark.parametrize(("part", "limit"), [("summary", 600), ("strengths", 5000)])
def test_it_refuses_a_part_over_its_limit_naming_it(papers, alexnet, part, limit):
    review_save(paper=alexnet, student=papers.carol, parts={part: "x" * limit}, now=BEFORE)
    with pytest.raises(ValidationError) as error:
        review_save(
            paper=alexnet, student=papers.carol, parts={part: "x" * (limit + 1)}, now=BEFORE
        )
    assert refusal(error) == {
        part: [f"The {part} part is {limit + 1} characters long; keep it to {limit}."]
    }
    assert getattr(stored(alexnet, papers.carol), part) == "x" * limit


def test_it_counts_a_line_break_sent_by_a_browser_as_one_character(papers, alexnet):
    summary = "a\r\n" * 200  # 600 characters once its line breaks are one each
    review_save(paper=alexnet, student=papers.carol, parts={"summary": summary}, now=BEFORE)
    assert stored(alexnet, papers.carol).summary == ("a\n" * 200).strip()


def test_it_lets_only_a_student_of_the_course_write_a_review(papers, alexnet):
    for who in (papers.personas.bob, papers.personas.dave):
        with pytest.raises(ValidationError) as error:
            review_save(paper=alexnet, student=who, parts={"summary": "x"}, now=BEFORE)
        assert list(refusal(error)) == ["student"]
    assert not PaperReview.objects.exists()


def test_it_refuses_a_review_of_a_paper_that_has_none(papers):
    with pytest.raises(ValidationError) as error:
        review_save(paper=papers.resnet, student=papers.carol, parts={"summary": "x"})
    assert list(refusal(error)) == ["paper"]


def test_it_submits_only_a_review_with_every_part_written_naming_the_empty_ones(papers, alexnet):
    review = written(alexnet, papers.carol, BEFORE, strengths="  \n ", weaknesses="")
    with pytest.raises(ValidationError) as error:
        review_submit(review=review, now=BEFORE)
    assert refusal(error) == {
        "strengths": ["Write the strengths part."],
        "weaknesses": ["Write the weaknesses part."],
    }
    assert "Write the weaknesses part." in str(error.value)
    assert stored(alexnet, papers.carol).submitted_at is None


def test_it_submits_a_written_review_on_time_before_the_deadline(papers, alexnet):
    review = submitted(alexnet, papers.carol, BEFORE)
    assert (review.submitted_at, review.late) == (BEFORE, False)
    assert review_penalty_percent(review) == Decimal(0)
    assert stored(alexnet, papers.carol).submitted_at == BEFORE


def test_it_moves_the_submission_time_on_a_resubmission_before_the_deadline(papers, alexnet):
    review = submitted(alexnet, papers.carol, BEFORE)
    again = review_submit(review=review, now=BEFORE + timedelta(hours=1))
    assert (again.submitted_at, again.late) == (BEFORE + timedelta(hours=1), False)


def test_it_takes_a_submitted_review_saved_again_back_to_a_draft(papers, alexnet):
    submitted(alexnet, papers.carol, BEFORE)
    review_save(paper=alexnet, student=papers.carol, parts={"summary": "Better."}, now=BEFORE)
    review = stored(alexnet, papers.carol)
    assert (review.summary, review.submitted_at) == ("Better.", None)


def test_it_leaves_a_submitted_review_as_it_was_when_a_new_version_is_refused(papers, alexnet):
    submitted(alexnet, papers.carol, BEFORE)
    with pytest.raises(ValidationError) as error:
        review_save_and_submit(
            paper=alexnet, student=papers.carol, parts={"questions": " "}, now=BEFORE
        )
    assert refusal(error) == {"questions": ["Write the questions part."]}
    review = stored(alexnet, papers.carol)
    assert (review.questions, review.submitted_at) == (FULL_REVIEW["questions"], BEFORE)


def test_it_locks_a_submitted_review_after_the_deadline(papers, alexnet):
    review = submitted(alexnet, papers.carol, BEFORE)
    with pytest.raises(ValidationError) as error:
        review_save(paper=alexnet, student=papers.carol, parts={"summary": "x"}, now=AFTER)
    assert "submitted and locked" in refusal(error)["review"][0]
    with pytest.raises(ValidationError):
        review_submit(review=review, now=AFTER)
    review = stored(alexnet, papers.carol)
    assert (review.summary, review.submitted_at, review.late) == (
        FULL_REVIEW["summary"],
        BEFORE,
        False,
    )


def test_it_accepts_a_late_review_marked_late_with_the_policys_penalty(papers, alexnet):
    draft = written(alexnet, papers.carol, BEFORE)
    review_save(paper=alexnet, student=papers.carol, parts={"summary": "Later."}, now=AFTER)
    review = review_submit(review=draft, now=AFTER)
    assert (review.summary, review.submitted_at, review.late) == ("Later.", AFTER, True)
    assert review_penalty_percent(review) == Decimal(20)
    # A review not started before the deadline is accepted late too.
    erins = review_save_and_submit(paper=alexnet, student=papers.erin, parts=FULL_REVIEW, now=AFTER)
    assert erins.late and review_penalty_percent(erins) == Decimal(20)


def test_it_refuses_a_late_review_where_the_course_refuses_them(papers, alexnet):
    papers.policy_set(late_reviews=LateReviews.REFUSED)
    draft = written(alexnet, papers.carol, BEFORE)
    message = (
        "The deadline of the reviews of The alexnet paper passed on 2024-11-07 23:59 "
        "(Europe/Istanbul); the course accepts no late reviews."
    )
    with pytest.raises(ValidationError) as error:
        review_submit(review=draft, now=AFTER)
    assert refusal(error) == {"review": [message]}
    with pytest.raises(ValidationError):
        review_save(paper=alexnet, student=papers.carol, parts={"summary": "x"}, now=AFTER)
    with pytest.raises(ValidationError):
        review_save(paper=alexnet, student=papers.erin, parts={"summary": "x"}, now=AFTER)
    assert stored(alexnet, papers.carol).submitted_at is None
    assert not PaperReview.objects.filter(student=papers.erin).exists()


def test_it_follows_the_models_defaults_for_a_course_without_a_policy(papers, alexnet):
    PresentationPolicy.objects.all().delete()
    alexnet = Paper.objects.select_related("course", "review_item").get(pk=alexnet.pk)
    review = review_save_and_submit(
        paper=alexnet, student=papers.carol, parts=FULL_REVIEW, now=AFTER
    )
    assert review.late and review_penalty_percent(review) == Decimal(0)
    written(alexnet, papers.erin, BEFORE)
    assert list(reviews_readable(paper=alexnet, user=papers.erin, now=AFTER)) == [
        stored(alexnet, papers.erin)
    ]


def test_it_never_closes_a_review_whose_item_has_no_due_date(papers, alexnet):
    item = alexnet.review_item
    assert item is not None
    item.due_at = None
    item.save(update_fields=["due_at"])
    papers.policy_set(late_reviews=LateReviews.REFUSED)
    assert review_deadline(alexnet) is None
    review = submitted(alexnet, papers.carol, AFTER + timedelta(days=365))
    assert not review.late


def test_it_names_the_state_of_a_review_for_the_pages(papers, alexnet):
    assert review_state(None, alexnet, BEFORE) == ReviewState.NOT_STARTED
    draft = written(alexnet, papers.carol, BEFORE)
    assert review_state(draft, alexnet, BEFORE) == ReviewState.DRAFT
    assert review_state(draft, alexnet, AFTER) == ReviewState.DRAFT  # late still accepted
    assert review_state(None, alexnet, AFTER) == ReviewState.NOT_STARTED
    on_time = review_submit(review=draft, now=BEFORE)
    assert review_state(on_time, alexnet, AFTER) == ReviewState.SUBMITTED
    late = review_save_and_submit(paper=alexnet, student=papers.erin, parts=FULL_REVIEW, now=AFTER)
    assert review_state(late, alexnet, AFTER) == ReviewState.LATE
    papers.policy_set(late_reviews=LateReviews.REFUSED)
    alexnet = Paper.objects.select_related("course", "review_item").get(pk=alexnet.pk)
    assert review_state(None, alexnet, AFTER) == ReviewState.CLOSED
    assert review_state(draft, alexnet, AFTER) == ReviewState.CLOSED
    assert review_state(on_time, alexnet, AFTER) == ReviewState.SUBMITTED


def readers_view(paper: Paper, user, now: datetime) -> list[str]:
    # Read afresh, as a request does: a paper keeps the policy it has read on its course.
    fresh = Paper.objects.get(pk=paper.pk)
    return [r.student.username for r in reviews_readable(paper=fresh, user=user, now=now)]


@pytest.fixture
def reviewed(papers: Papers, alexnet: Paper) -> Paper:
    """Carol's and Erin's reviews submitted, Frank's a draft."""
    submitted(alexnet, papers.carol, BEFORE)
    submitted(alexnet, papers.erin, BEFORE)
    written(alexnet, papers.frank, BEFORE)
    return alexnet


def test_it_shows_staff_every_submitted_review_and_no_draft(papers, reviewed):
    for who in (papers.personas.alice, papers.personas.bob):
        assert readers_view(reviewed, who, BEFORE) == ["carol", "erin"]


def test_it_shows_a_student_their_own_review_draft_or_not(papers, reviewed):
    assert readers_view(reviewed, papers.frank, BEFORE) == ["frank"]
    assert readers_view(reviewed, papers.carol, BEFORE) == ["carol"]


def test_it_hides_the_others_reviews_before_the_deadline_even_where_shown_after(papers, reviewed):
    papers.policy_set(reviews_shown_after_deadline=True)
    assert readers_view(reviewed, papers.frank, BEFORE) == ["frank"]


def test_it_shows_the_others_submitted_reviews_after_the_deadline_where_the_policy_says(
    papers, reviewed
):
    assert readers_view(reviewed, papers.frank, AFTER) == ["frank"]
    papers.policy_set(reviews_shown_after_deadline=True)
    assert readers_view(reviewed, papers.frank, AFTER) == ["carol", "erin", "frank"]
    assert readers_view(reviewed, papers.carol, AFTER) == ["carol", "erin"]


def test_it_shows_no_review_to_an_outsider_or_an_anonymous_caller(papers, reviewed):
    papers.policy_set(reviews_shown_after_deadline=True)
    assert readers_view(reviewed, papers.personas.dave, AFTER) == []
    assert list(reviews_readable(paper=reviewed, user=AnonymousUser(), now=AFTER)) == []


def test_it_knows_the_five_parts_of_the_guideline():
    assert PART_NAMES == ("summary", "strengths", "weaknesses", "suggestions", "questions")
