"""Weekly paper reviews: writing, submitting and reading them. The reads that the review and
presentation pages and the API share are in ``presentations.selectors``.

The rules, in order:

1. A review belongs to one student and one paper that has a review item; the item's ``due_at`` is
   the review's deadline (no due date: the deadline never passes). Only a student of the paper's
   course writes one.
2. A review has the five parts of the course's guideline (``PARTS``), each a text of its own with a
   length limit: the summary 600 characters, every other part 5000.
3. Saving keeps a draft: any subset of the parts, empty ones too. Saving a review that was
   submitted before the deadline takes it back to a draft, which must be submitted again.
4. Submitting needs every part written (not empty once stripped); the refusal names each empty
   part. Before the deadline a submission sets ``submitted_at``; a resubmission before the
   deadline moves it.
5. After the deadline a submitted review is locked. A draft, or a review not started, is written
   and submitted after the deadline only if the course accepts late reviews
   (``PresentationPolicy.late_reviews``); it is then marked ``late``, and its score loses the
   policy's ``late_review_penalty_percent`` (``review_penalty_percent``).
6. Reading: staff of the course read every submitted review, with its author. A student reads
   their own review, draft or not, and, once the deadline has passed and only if the policy shows
   reviews after the deadline, the other students' submitted reviews, without their authors.
   Nobody reads another student's draft.

A course without a ``PresentationPolicy`` row follows the model's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from coursesite.gradebook.work import Work as GradebookWork
from coursesite.models import Course, Membership, Role
from presentations.models import (
    LateReviews,
    Paper,
    PaperReview,
    PresentationPolicy,
)


@dataclass(frozen=True)
class ReviewPart:
    name: str
    label: str
    hint: str
    max_length: int


PARTS = (
    ReviewPart("summary", "Summary", "1-2 sentences on what the paper is about.", 600),
    ReviewPart(
        "strengths", "Strengths", "Its contribution, the main takeaways, what you learned.", 5000
    ),
    ReviewPart(
        "weaknesses",
        "Weaknesses",
        "Shortcomings and limitations fundamental to the method.",
        5000,
    ),
    ReviewPart("suggestions", "Suggestions", "Ways to address the limitations.", 5000),
    ReviewPart("questions", "Questions for the class", "Questions for discussion in class.", 5000),
)
PART_NAMES = tuple(part.name for part in PARTS)


class ReviewState(StrEnum):
    NOT_STARTED = "not started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    LATE = "late"
    CLOSED = "closed"


def review_policy(course: Course) -> PresentationPolicy:
    """The course's presentation policy, or an unsaved one with the model's defaults.

    Read through ``course.presentation_policy``, which Django keeps on the course object (its
    absence too): papers that share one course object ask once.
    """
    try:
        return course.presentation_policy
    except PresentationPolicy.DoesNotExist:
        return PresentationPolicy(course=course)


def review_deadline(paper: Paper) -> datetime | None:
    """The deadline of the paper's reviews: its review item's due date (None: no deadline)."""
    return paper.review_item.due_at if paper.review_item else None


def deadline_passed(paper: Paper, now: datetime) -> bool:
    deadline = review_deadline(paper)
    return deadline is not None and now > deadline


def late_accepted(paper: Paper) -> bool:
    return review_policy(paper.course).late_reviews == LateReviews.ACCEPTED


def review_state(
    review: PaperReview | None, paper: Paper, now: datetime | None = None
) -> ReviewState:
    """Where a student's review of the paper stands, in the words the pages show."""
    if review is not None and review.submitted_at is not None:
        return ReviewState.LATE if review.late else ReviewState.SUBMITTED
    if deadline_passed(paper, now or timezone.now()) and not late_accepted(paper):
        return ReviewState.CLOSED
    return ReviewState.NOT_STARTED if review is None else ReviewState.DRAFT


def review_writable(review: PaperReview | None, paper: Paper, now: datetime | None = None) -> bool:
    """Whether the student may still save and submit this review (rules 3 and 5)."""
    if not deadline_passed(paper, now or timezone.now()):
        return True
    return (review is None or review.submitted_at is None) and late_accepted(paper)


def review_penalty_percent(review: PaperReview) -> Decimal:
    """The share of the review's score that lateness takes: the policy's late penalty for a late
    review, else 0."""
    if not review.late:
        return Decimal(0)
    return review_policy(review.paper.course).late_review_penalty_percent


def when_text(moment: datetime, course: Course) -> str:
    return f"{timezone.localtime(moment, course.tz):%Y-%m-%d %H:%M} ({course.time_zone})"


def closed_error(paper: Paper, review: PaperReview | None) -> ValidationError | None:
    """Why the review can no longer be written after its deadline, or None if it can."""
    deadline = review_deadline(paper)
    assert deadline is not None  # called only once the deadline has passed
    if review is not None and review.submitted_at is not None:
        return ValidationError(
            {"review": f"Your review is submitted and locked: its deadline passed on "
             f"{when_text(deadline, paper.course)}."}
        )  # fmt: skip
    if not late_accepted(paper):
        return ValidationError(
            {"review": f"The deadline of the reviews of {paper.title} passed on "
             f"{when_text(deadline, paper.course)}; the course accepts no late reviews."}
        )  # fmt: skip
    return None


def parts_check(parts: dict[str, str]) -> dict[str, str]:
    """The parts, stripped; refused with the name of every unknown or too long part."""
    errors: dict[str, str] = {}
    for name in sorted(set(parts) - set(PART_NAMES)):
        errors[name] = f"A review has no part {name!r}; its parts are {', '.join(PART_NAMES)}."
    cleaned = {}
    for part in PARTS:
        if part.name not in parts:
            continue
        text = parts[part.name].replace("\r\n", "\n").strip()
        if len(text) > part.max_length:
            errors[part.name] = (
                f"The {part.name} part is {len(text)} characters long; "
                f"keep it to {part.max_length}."
            )
        cleaned[part.name] = text
    if errors:
        raise ValidationError(errors)
    return cleaned


def empty_parts_error(names: list[str]) -> ValidationError:
    return ValidationError({name: f"Write the {name} part." for name in names})


@transaction.atomic
def review_save(
    *, paper: Paper, student: User, parts: dict[str, str], now: datetime | None = None
) -> PaperReview:
    """Save the given parts of the student's review of the paper as a draft (rules 1, 2, 3, 5).

    Parts left out keep their text. Every check runs before anything is written.
    """
    now = now or timezone.now()
    cleaned = parts_check(parts)
    paper = Paper.objects.select_related("course", "review_item").get(pk=paper.pk)
    if paper.review_item is None:
        raise ValidationError({"paper": f"{paper.title} has no review to write."})
    # Locked, so that one student's saves and submissions follow each other.
    if not (
        Membership.objects.select_for_update()
        .filter(course_id=paper.course_id, user=student, role=Role.STUDENT)
        .exists()
    ):
        raise ValidationError({"student": f"Only a student of {paper.course} writes reviews."})
    review = PaperReview.objects.filter(paper=paper, student=student).first()
    if deadline_passed(paper, now) and (refused := closed_error(paper, review)):
        raise refused
    if review is None:
        review = PaperReview(paper=paper, student=student, created_at=now)
    for name, text in cleaned.items():
        setattr(review, name, text)
    review.updated_at, review.submitted_at, review.late = now, None, False
    review.full_clean()
    review.save()
    return review


@transaction.atomic
def review_submit(*, review: PaperReview, now: datetime | None = None) -> PaperReview:
    """Submit a saved review (rules 4 and 5): on time before the deadline, late after it where
    the course accepts late reviews."""
    now = now or timezone.now()
    review = (
        # Only the review's row: PostgreSQL locks no row on the nullable side of a join.
        PaperReview.objects.select_for_update(of=("self",))
        .select_related("paper__course", "paper__review_item", "student")
        .get(pk=review.pk)
    )
    late = deadline_passed(review.paper, now)
    if late and (refused := closed_error(review.paper, review)):
        raise refused
    empty = [name for name in PART_NAMES if not getattr(review, name).strip()]
    if empty:
        raise empty_parts_error(empty)
    review.submitted_at, review.late = now, late
    review.save(update_fields=["submitted_at", "late"])
    return review


@transaction.atomic
def review_save_and_submit(
    *, paper: Paper, student: User, parts: dict[str, str], now: datetime | None = None
) -> PaperReview:
    """Save the parts and submit the review, or neither: a refused submission leaves the stored
    review as it was (a submitted review stays submitted)."""
    now = now or timezone.now()
    return review_submit(
        review=review_save(paper=paper, student=student, parts=parts, now=now), now=now
    )


def reviews_readable(
    *, paper: Paper, user: User | AnonymousUser, now: datetime | None = None
) -> QuerySet[PaperReview]:
    """The reviews of the paper the user may read (rule 6), by student, with their students."""
    reviews = PaperReview.objects.filter(paper=paper).select_related("student")
    if not user.is_authenticated:
        return reviews.none()
    membership = Membership.objects.filter(
        course_id=paper.course_id, user=user, active=True
    ).first()
    if user.is_superuser or (membership is not None and membership.is_staff_role):
        return reviews.filter(submitted_at__isnull=False)
    if membership is None:
        return reviews.none()
    shown = Q(student=user)
    if review_policy(paper.course).reviews_shown_after_deadline and deadline_passed(
        paper, now or timezone.now()
    ):
        shown |= Q(submitted_at__isnull=False)
    return reviews.filter(shown)


def gradebook_work(course: Course) -> GradebookWork:
    """Submitted reviews as handed-in work: the gradebook shows a review waiting for its score
    as pending, not missing. One query."""
    work = GradebookWork()
    work.handed_in = set(
        PaperReview.objects.filter(
            paper__course=course, submitted_at__isnull=False, paper__review_item__isnull=False
        ).values_list("student_id", "paper__review_item_id")
    )
    return work
