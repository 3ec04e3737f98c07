"""The reads that the presentations pages and API share: the papers with their slots, roles and
presenters, a student's presentations and reviews, and the course's slots in date order. Each
loads the joins its callers need in a fixed number of queries.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet

from coursesite.models import Course
from presentations.models import Paper, PaperReview, PresentationSlot, Presenter, SlotRole


def review_of(*, paper: Paper, student: User) -> PaperReview | None:
    return PaperReview.objects.filter(paper=paper, student=student).first()


def review_papers(*, course: Course, student: User) -> list[tuple[Paper, PaperReview | None]]:
    """The course's papers that have reviews, each with the student's review (None when not
    started)."""
    own = PaperReview.objects.filter(student=student)
    papers = (
        Paper.objects.filter(course=course, review_item__isnull=False)
        .select_related("review_item")
        .prefetch_related(Prefetch("reviews", queryset=own))
    )
    rows: list[tuple[Paper, PaperReview | None]] = []
    for paper in papers:
        paper.course = course
        reviews = list(paper.reviews.all())
        rows.append((paper, reviews[0] if reviews else None))
    return rows


def review_counts(*, course: Course) -> QuerySet[Paper]:
    """The course's papers that have reviews, each annotated with its number of ``submitted``
    reviews and, of those, ``late`` ones."""
    submitted = Q(reviews__submitted_at__isnull=False)
    return (
        Paper.objects.filter(course=course, review_item__isnull=False)
        .select_related("review_item")
        .annotate(
            submitted=Count("reviews", filter=submitted),
            late=Count("reviews", filter=submitted & Q(reviews__late=True)),
        )
    )


def paper_schedule(*, course: Course) -> list[Paper]:
    """The course's papers in week order, each with its review item and its slot (see
    ``slot_of``) with the slot's roles and their presenters."""
    papers = list(
        Paper.objects.filter(course=course)
        .select_related("review_item", "slot")
        .prefetch_related(
            Prefetch(
                "slot__roles",
                queryset=SlotRole.objects.prefetch_related(
                    Prefetch("presenters", queryset=Presenter.objects.select_related("student"))
                ),
            )
        )
    )
    for paper in papers:
        paper.course = course
    return papers


def slot_of(paper: Paper) -> PresentationSlot | None:
    """The paper's slot as ``paper_schedule`` loaded it, without a query."""
    try:
        return paper.slot
    except PresentationSlot.DoesNotExist:
        return None


def presentations_of(*, course: Course, student: User) -> list[Presenter]:
    """The roles the student holds in the course's slots, by date, each with its slot, paper and
    role, and the role's presenters (the student among them)."""
    return list(
        Presenter.objects.filter(student=student, slot__paper__course=course)
        .select_related("slot__paper", "slot_role")
        .prefetch_related(
            Prefetch("slot_role__presenters", queryset=Presenter.objects.select_related("student"))
        )
        .order_by("slot__date", "slot__paper__week", "slot__paper__key")
    )


def fellow_presenters(presenter: Presenter) -> list[User]:
    """The other students in the presenter's role, as ``presentations_of`` loaded them."""
    return [
        fellow.student
        for fellow in presenter.slot_role.presenters.all()
        if fellow.student_id != presenter.student_id
    ]


def presenter_find(*, course: Course, pk: int) -> Presenter | None:
    """The presenter of one of the course's slots with this id, with its student, role, slot and
    paper; None for any other id, so that staff of one course never reach another's."""
    return (
        Presenter.objects.select_related("student", "slot_role__slot__paper__course")
        .filter(pk=pk, slot__paper__course=course)
        .first()
    )


def slot_role_find(*, course: Course, paper_key: str, role: str) -> SlotRole | None:
    """The role of the slot of the course's paper ``paper_key``, or None."""
    return (
        SlotRole.objects.select_related("slot__paper__course")
        .filter(slot__paper__course=course, slot__paper__key=paper_key, role=role)
        .first()
    )


def _slot_order(slot: PresentationSlot) -> tuple[bool, date, int, str]:
    return (slot.date is None, slot.date or date.max, slot.paper.week or 0, slot.paper.key)


def slots_of_course(course: Course) -> list[PresentationSlot]:
    """The course's slots in date order, each with its paper, its roles in order (``roles``)
    and each role's presenters by username (``presenters``, with ``student``): three queries."""
    presenters = Presenter.objects.select_related("student").order_by("student__username")
    roles = SlotRole.objects.order_by("position").prefetch_related(
        Prefetch("presenters", queryset=presenters)
    )
    slots = (
        PresentationSlot.objects.filter(paper__course=course)
        .select_related("paper")
        .prefetch_related(Prefetch("roles", queryset=roles))
    )
    return sorted(slots, key=_slot_order)
