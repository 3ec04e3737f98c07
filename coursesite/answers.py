"""Polled answers of the API, kept until what they show changes.

The night before a deadline every student's hand-in page and scripts poll the status of their
hand-ins and their gradebook row every few seconds, and staff poll the whole gradebook; computing
each answer again costs a dozen queries for an answer that changes once in minutes. So such an
answer is kept in the cache under a key that names the view, the viewer, what was asked, and the
*generations* of what the answer shows:

- the course's generation, moved on by any change to the course itself: its settings, grade
  items, categories, grace policy, letter scale, members, groups, hand-in items;
- the owner's generation (one per user), moved on by any change to that student's work: their
  hand-ins and their group's, grading jobs and test results, extensions, scores;
- the course's activity generation, moved on with every owner's generation of the course, for
  answers that show everyone's work (the staff gradebook).

A generation moves on when the change is made and again once it is committed, and an answer
reads the generations before it reads the database, so an answer kept under the current
generations is never older than the last committed change. A kept answer also expires at the
next moment it changes by the clock alone (a due date passing turns pending work into missing
work and shows tests hidden until then), and after ``API_ANSWER_SECONDS`` at most, which bounds
the staleness of any change that went around the hooks here (a database edited by hand, the
cache restored from a backup).

Writes reach here by the models' save and delete signals (``answers_follow``) and, where a
service changes rows with ``update()`` or ``bulk_create()``, which send none, by an explicit
call. The cache must be shared by every process that writes (web and workers: Redis); on a
cache kept in one process's memory (the embedded mode), answers are not kept
(``API_ANSWER_SECONDS`` defaults to 0 there). A cache that fails only costs the keeping: the
answer is computed as if nothing were kept.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from coursesite.models import GradeItem, GroupMembership

log = logging.getLogger(__name__)

# Generations outlive any answer kept under them; one that expires starts again at random.
GENERATION_SECONDS = 7 * 24 * 3600


def keeping() -> bool:
    return settings.API_ANSWER_SECONDS > 0


def _course_key(course_id: int) -> str:
    return f"answers:course:{course_id}"


def _owner_key(user_id: int) -> str:
    return f"answers:owner:{user_id}"


def _activity_key(course_id: int) -> str:
    return f"answers:activity:{course_id}"


def answers_moved_on(keys: list[str]) -> None:
    """Move the generations on (no query, and no error); inside a transaction, now and again
    once it commits: an answer computed in between, from the data before the change, is then
    kept under a generation no one reads once the change is in. A generation moves on to a new
    random value (one write for all of them, and never back to a value answers were kept at)."""
    if not keys:
        return

    def move_on() -> None:
        try:
            cache.set_many({key: secrets.randbits(62) for key in keys}, GENERATION_SECONDS)
        except Exception:  # a cache that is down keeps no answers either
            log.warning("kept answers: a generation could not move on", exc_info=True)

    if connection.in_atomic_block:
        move_on()
    transaction.on_commit(move_on)


def _course_of(item_id: int) -> int | None:
    return GradeItem.objects.filter(pk=item_id).values_list("course_id", flat=True).first()


class CourseNamed(TypedDict, total=False):
    course_id: int
    item_id: int


def item_course(row: Any) -> CourseNamed:
    """How the answers functions name the course of a row with an ``item``: by the item's course
    where the row holds its item already, by the item otherwise (a query when needed)."""
    if "item" in row._state.fields_cache:
        return {"course_id": row.item.course_id}
    return {"item_id": row.item_id}


def answers_course_changed(*, course_id: int | None = None, item_id: int | None = None) -> None:
    """Something every answer of the course (named by itself or by one of its items) shows
    changed, or may have."""
    if not keeping():
        return
    course = course_id if course_id is not None else _course_of(item_id or 0)
    # None for an item deleted with its course: the course's own rows move it on.
    if course is not None:
        answers_moved_on([_course_key(course)])


def _owner_keys(students: Collection[int], groups: Collection[int]) -> list[str]:
    if not keeping():
        return []
    owners = set(students)
    if groups:
        owners.update(
            GroupMembership.objects.filter(group_id__in=groups).values_list("student_id", flat=True)
        )
    return [_owner_key(user_id) for user_id in owners]


def answers_work_changed(
    *,
    course_id: int | None = None,
    item_id: int | None = None,
    students: Collection[int] = (),
    groups: Collection[int] = (),
) -> None:
    """The work of these students, or of every member of these project groups, changed in a
    course (named by itself or by one of its items): their answers and the course's answers
    that show everyone's work go."""
    keys = _owner_keys(students, groups)
    if keys:
        course = course_id if course_id is not None else _course_of(item_id or 0)
        if course is not None:
            keys.append(_activity_key(course))
    answers_moved_on(keys)


def answers_owner_keys(*, owner: str) -> list[str]:
    """The generations that move on when a grading job of an owner (``student:7`` or
    ``group:3``) changes: the owner's alone, for a job shows in no answer of everyone's work
    (the gradebook reads the Score a result becomes, which moves the course's on). Reads the
    database for a group's members, so that ``answers_moved_on`` need not: a grading claim
    names them before it claims."""
    kind, _, pk = owner.partition(":")
    if not pk.isdigit() or kind not in ("student", "group"):
        return []
    return _owner_keys([int(pk)] if kind == "student" else [], [int(pk)] if kind == "group" else [])


def answers_owner_changed(*, owner: str) -> None:
    """A grading job of an owner (``student:7`` or ``group:3``) changed."""
    answers_moved_on(answers_owner_keys(owner=owner))


def answers_follow(model: type[Model], changed: Callable[[Any], None]) -> None:
    """Call ``changed(instance)`` whenever a row of ``model`` is saved or deleted."""

    def receiver(sender: type[Model], instance: Any, **kwargs: Any) -> None:
        changed(instance)

    uid = f"answers:{model._meta.label}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid)


def _generations(keys: list[str]) -> list[int]:
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        cache.add(key, secrets.randbits(62), GENERATION_SECONDS)
    if missing:
        found.update(cache.get_many(missing))
    return [found[key] for key in keys]


def answer_kept(
    *,
    name: str,
    asked: Iterable[object],
    course_id: int,
    owner_id: int | None,
    compute: Callable[[], tuple[Any, datetime | None]],
) -> Any:
    """The answer ``compute`` gives, kept for the viewer until what it shows changes.

    ``asked`` names everything the answer depends on besides the data: the viewer, the object,
    the query's parameters. ``owner_id`` is the user whose work the answer shows; ``None`` for
    an answer that shows everyone's. ``compute`` returns the answer (plain data, as JSON would
    hold it) and the next moment at which it changes by the clock alone, if any. Call it only
    once the viewer's access has been checked: the kept answer is given without checking again.
    """
    if not keeping():
        return compute()[0]
    scope = _owner_key(owner_id) if owner_id is not None else _activity_key(course_id)
    try:
        generations = _generations([_course_key(course_id), scope])
        # What was asked may hold anything a query string does: hashed, it makes a short key
        # of safe characters that no other question shares.
        question = hashlib.sha256(repr([name, *asked]).encode()).hexdigest()
        key = ":".join(["answers", name, question, *map(str, generations)])
        kept = cache.get(key)
    except Exception:  # the cache is down: answer without it
        log.warning("kept answers: the cache did not answer", exc_info=True)
        return compute()[0]
    if kept is not None:
        return kept
    answer, changes_at = compute()
    seconds = settings.API_ANSWER_SECONDS
    if changes_at is not None:
        seconds = min(seconds, int((changes_at - timezone.now()).total_seconds()))
    if seconds > 0:
        try:
            cache.set(key, answer, seconds)
        except Exception:  # the cache is down: answer without it
            log.warning("kept answers: an answer could not be kept", exc_info=True)
    return answer


def next_moment(moments: Iterable[datetime | None]) -> datetime | None:
    """The earliest of ``moments`` still to come."""
    now = timezone.now()
    return min((moment for moment in moments if moment is not None and moment > now), default=None)


def answers_follow_course() -> None:
    """Follow the course layer's models: the course's own rows move its generation on, a Score
    its student's."""
    from django.contrib.auth.models import User

    from coursesite.models import (
        Course,
        GracePolicy,
        GradeCategory,
        LetterGrade,
        Membership,
        ProjectGroup,
        Score,
    )

    answers_follow(Course, lambda course: answers_course_changed(course_id=course.pk))
    for model in (
        GradeCategory,
        GradeItem,
        GracePolicy,
        LetterGrade,
        Membership,
        ProjectGroup,
        GroupMembership,
    ):
        answers_follow(model, lambda row: answers_course_changed(course_id=row.course_id))
    answers_follow(
        Score,
        lambda score: answers_work_changed(**item_course(score), students=[score.student_id]),
    )

    def user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
        # A login writes the time of it, which no answer shows; a name shows in many.
        if set(kwargs.get("update_fields") or ()) == {"last_login"} or not keeping():
            return
        for course_id in instance.memberships.values_list("course_id", flat=True):
            answers_course_changed(course_id=course_id)

    post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="answers:user")
