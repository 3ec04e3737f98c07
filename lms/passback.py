"""Grades posted to the LMS's gradebook (Assignment and Grade Services).

The rules, in order:

1. **Columns.** Each released GradeItem of the course is a line item (an LMS gradebook column)
   with the resource id ``coursesite:item:<slug>``, labelled with the item's title, out of its
   maximum points, tagged ``coursesite``. An unreleased item is never sent: not its column, not
   its scores. When the link's ``post_final_grade`` is on (the default), the course's total is
   one more column, ``coursesite:final``, out of 100.
2. **Finding a column.** A column is the line item its ``LineItemLink`` remembers, while the LMS
   still has it; else the line item the LMS finds by resource id; else a new one. A column whose
   title or maximum changed here is updated on the LMS. A new line item starts with no score sent.
3. **Who.** The course's active students whom the LMS knows: tied to an LMS user of the link's
   registration (by a launch or a roster sync), whose LMS id (``sub``) is the score's userId.
   Where several LMS courses are linked to the course, only the students that this LMS course
   lists (django-lti's ``LtiMembership``).
4. **What.** An item's score is its points as the gradebook counts them (late penalties are
   already inside a recorded score; ``gradebook_read`` is the one reader) with the Score's
   comment. The total is the gradebook's ``current`` percent in the students' own view: what
   they see on their Grades page, which counts no unreleased item and no work still pending
   (``final`` would post a 0 for each, which the LMS would show as the student's grade).
5. **Excused, pending and missing work.** No score is sent. Neither Canvas nor Moodle has an
   "excused" score in AGS: a 0 would count against the student, while an empty cell counts in
   neither LMS's total, which is what excused means here. A missing item stays empty as it does
   in the Canvas CSV export. A score sent earlier and now gone (excused since) is withdrawn: a
   score without ``scoreGiven``, ``NotReady``, which both LMSes show as not graded.
6. **Only changes.** A score is posted when it differs from the last one the LMS accepted
   (``ScoreSent``: points, maximum, comment), and recorded as soon as the LMS accepts it, so a
   run that stops halfway is taken up where it stopped, and a second run sends nothing.
7. **Failures.** An LMS refusal (4xx) of a column or a score is written to the column's
   ``last_error`` and the run goes on with the rest. No answer, 429 or 5xx stops the run at once
   (the LMS is in trouble): the result says so, and the task tries again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiMembership, LtiUser

from coursesite.gradebook import engine
from coursesite.gradebook.selectors import gradebook_read
from coursesite.models import GradeItem, Membership, Role
from lms.lms_client import LmsClient, LmsServiceError
from lms.models import CourseLink, LineItemLink, ScoreSent

FINAL_RESOURCE_ID = "coursesite:final"
ITEM_RESOURCE_PREFIX = "coursesite:item:"
TAG = "coursesite"
FINAL_LABEL = "Course total (coursesite)"
HUNDRED = Decimal(100)
ERROR_LIMIT = 2000


def item_resource_id(item: GradeItem) -> str:
    return f"{ITEM_RESOURCE_PREFIX}{item.slug}"


@dataclass(frozen=True)
class Wanted:
    """What a student's cell of a column should hold on the LMS."""

    student_id: int
    username: str
    sub: str
    score_given: Decimal | None
    comment: str


@dataclass
class Column:
    """A column to post: the item (None for the course total) and every student's cell."""

    resource_id: str
    item: GradeItem | None
    label: str
    score_maximum: Decimal
    cells: list[Wanted] = field(default_factory=list)


@dataclass
class PassbackResult:
    """What one run did. ``stopped_by`` is the error that stopped it (no answer, 429, 5xx): a
    later run may succeed."""

    sent: int = 0
    unchanged: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)
    stopped_by: LmsServiceError | None = None


def passback_students(*, link: CourseLink) -> dict[int, str]:
    """The course's students grades are posted to: user id -> LMS user id (rule 3)."""
    context = link.context
    students = Membership.objects.filter(
        course_id=link.course_id, role=Role.STUDENT, active=True
    ).values("user_id")
    lms_users = LtiUser.objects.filter(
        registration_id=context.deployment.registration_id, auth_user_id__in=students
    )
    if CourseLink.objects.filter(course_id=link.course_id).count() > 1:
        lms_users = lms_users.filter(
            pk__in=LtiMembership.objects.filter(context=context, is_active=True).values("user_id")
        )
    subs: dict[int, str] = {}
    # The latest LMS user of a student wins, should one have two.
    for user_id, sub in lms_users.order_by("datetime_modified", "pk").values_list(
        "auth_user_id", "sub"
    ):
        subs[user_id] = sub
    return subs


def passback_columns(*, link: CourseLink, now: datetime | None = None) -> list[Column]:
    """The columns to post with every student's cell (rules 1, 3 and 4)."""
    subs = passback_students(link=link)
    book = gradebook_read(course=link.course, released_only=True, now=now)
    items = [
        (item, Column(item_resource_id(item), item, item.title, item.max_points))
        for item in book.items
        if item.released
    ]
    final = Column(FINAL_RESOURCE_ID, None, FINAL_LABEL, HUNDRED) if link.post_final_grade else None
    for row in book.rows:
        sub = subs.get(row.membership.user_id)
        if sub is None:
            continue
        who = (row.membership.user_id, row.student.username, sub)
        for item, column in items:
            grade = row.grade.items[item.pk]
            cell = row.scores.get(item.pk)
            graded = grade.state == engine.GRADED and grade.points is not None
            column.cells.append(
                Wanted(*who, grade.points if graded else None, cell.comment if cell else "")
            )
        if final is not None:
            final.cells.append(Wanted(*who, row.grade.current, ""))
    columns = [column for _, column in items]
    return [*columns, *([final] if final is not None else [])]


def scores_post(*, link: CourseLink) -> PassbackResult:
    """Post the course's released grades to the LMS course of ``link`` (see the module doc).

    Not one transaction: each score the LMS accepts is recorded at once, so that what the LMS
    holds and what coursesite believes it holds never drift apart, whatever stops the run.
    """
    result = PassbackResult()
    columns = passback_columns(link=link)
    known = {row.resource_id: row for row in LineItemLink.objects.filter(link=link)}
    rows = [
        known.get(column.resource_id)
        or LineItemLink.objects.get_or_create(
            link=link, resource_id=column.resource_id, defaults={"item": column.item}
        )[0]
        for column in columns
    ]
    context = link.context
    try:
        if not context.deployment.registration.is_active:
            raise LmsServiceError("The LMS registration is switched off.")
        if not context.lineitems_url:
            raise LmsServiceError(
                "The LMS has not given a line items URL for this course (Assignment and Grade "
                "Services): launch the tool from the LMS course once, or ask the LMS's "
                "administrator to allow the service."
            )
        client = LmsClient(context.deployment.registration)
    except LmsServiceError as error:
        for row, column in zip(rows, columns, strict=True):
            line_item_failed(row=row, error=str(error))
            result.errors.append(f"{column.label}: {error}")
        return result
    with client:
        for row, column in zip(rows, columns, strict=True):
            column_post(
                client=client,
                lineitems_url=context.lineitems_url,
                row=row,
                column=column,
                result=result,
            )
            if result.stopped_by is not None:
                break
    return result


def column_post(
    *,
    client: LmsClient,
    lineitems_url: str,
    row: LineItemLink,
    column: Column,
    result: PassbackResult,
) -> None:
    """Post one column's changed scores and record how it went on its ``LineItemLink``."""
    attempt_at = timezone.now()
    errors: list[str] = []
    sent = 0
    try:
        line_item_ensure(
            client=client, lineitems_url=lineitems_url, row=row, column=column, result=result
        )
        already = {score.student_id: score for score in ScoreSent.objects.filter(line_item=row)}
        for cell in column.cells:
            last = already.get(cell.student_id)
            if not score_differs(last, cell, column.score_maximum):
                result.unchanged += 1
                continue
            try:
                status = client.score_post(
                    row.url,
                    user_id=cell.sub,
                    score_given=float(cell.score_given) if cell.score_given is not None else None,
                    score_maximum=float(column.score_maximum),
                    comment=cell.comment,
                    timestamp=timezone.now().isoformat(),
                )
            except LmsServiceError as error:
                if error.transient:
                    raise
                errors.append(f"{cell.username}: {error}")
                continue
            score_sent_record(row=row, cell=cell, maximum=column.score_maximum, status=status)
            sent += 1
    except LmsServiceError as error:
        errors.insert(0, str(error))
        if error.transient:
            result.stopped_by = error
    result.sent += sent
    result.errors.extend(f"{column.label}: {error}" for error in errors)
    row.last_attempt_at = attempt_at
    row.last_error = "\n".join(errors)[:ERROR_LIMIT]
    fields = ["last_attempt_at", "last_error"]
    if sent:
        row.last_sent_at = timezone.now()
        fields.append("last_sent_at")
    row.save(update_fields=fields)


def score_differs(last: ScoreSent | None, cell: Wanted, maximum: Decimal) -> bool:
    """Whether the cell must be posted (rules 5 and 6): nothing sent yet and nothing to send is
    no difference."""
    if last is None:
        return cell.score_given is not None
    return (last.score_given, last.score_maximum, last.comment) != (
        cell.score_given,
        maximum,
        cell.comment,
    )


def line_item_ensure(
    *,
    client: LmsClient,
    lineitems_url: str,
    row: LineItemLink,
    column: Column,
    result: PassbackResult,
) -> None:
    """Make ``row.url`` the column's line item on the LMS, found or created (rule 2)."""
    line_item: dict[str, Any] | None = client.line_item_get(row.url) if row.url else None
    if line_item is None:
        line_item = client.line_item_find(lineitems_url, row.resource_id)
    if line_item is None:
        line_item = client.line_item_create(
            lineitems_url,
            label=column.label,
            score_maximum=float(column.score_maximum),
            resource_id=row.resource_id,
            tag=TAG,
        )
        result.created += 1
    elif (line_item.get("label"), line_item.get("scoreMaximum")) != (
        column.label,
        float(column.score_maximum),
    ):
        line_item = client.line_item_update(
            line_item["id"],
            line_item,
            label=column.label,
            score_maximum=float(column.score_maximum),
        )
    if row.url != line_item["id"]:
        line_item_moved(row=row, url=line_item["id"])


@transaction.atomic
def line_item_moved(*, row: LineItemLink, url: str) -> None:
    """The column is another line item now: none of its scores has been sent there."""
    ScoreSent.objects.filter(line_item=row).delete()
    row.url = url
    row.full_clean()
    row.save(update_fields=["url"])


def score_sent_record(*, row: LineItemLink, cell: Wanted, maximum: Decimal, status: int) -> None:
    ScoreSent.objects.update_or_create(
        line_item=row,
        student_id=cell.student_id,
        defaults={
            "score_given": cell.score_given,
            "score_maximum": maximum,
            "comment": cell.comment,
            "sent_at": timezone.now(),
            "answer_status": status,
        },
    )


def line_item_failed(*, row: LineItemLink, error: str) -> None:
    row.last_attempt_at = timezone.now()
    row.last_error = error[:ERROR_LIMIT]
    row.save(update_fields=["last_attempt_at", "last_error"])
