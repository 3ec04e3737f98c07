"""A submitted review waits for its score in the gradebook; a review never written is missing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from coursesite.gradebook.selectors import gradebook_read
from tests.presentations.conftest import Papers, submitted


def test_a_submitted_review_is_pending_and_an_unwritten_one_missing_after_the_deadline(
    papers: Papers,
) -> None:
    # Dropout's reviews were due yesterday: Carol submitted hers in time, Erin wrote none.
    submitted(papers.dropout, papers.carol, timezone.now() - timedelta(days=2))
    item = papers.dropout.review_item
    assert item is not None
    book = gradebook_read(course=papers.course)
    states = {row.student.username: row.grade.items[item.pk].state for row in book.rows}
    assert states["carol"] == "pending"
    assert states["erin"] == "missing"
