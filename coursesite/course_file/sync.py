"""Writing a course file's content so that loading the same file twice changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models

from coursesite.course_file.reader import CourseFileError

M = TypeVar("M", bound=models.Model)


@dataclass
class Changes:
    file: str
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        if not self.changed:
            return "nothing changed"
        parts = []
        for verb, counter in (
            ("created", self.created),
            ("updated", self.updated),
            ("deleted", self.deleted),
        ):
            if counter:
                parts.append(
                    f"{verb} " + ", ".join(f"{n} {what}" for what, n in sorted(counter.items()))
                )
        return "; ".join(parts)

    def refuse(self, key: str, problem: str) -> CourseFileError:
        return CourseFileError(self.file, key, problem)


def _label(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural)


def sync_row(
    changes: Changes,
    model: type[M],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    create_only: dict[str, Any] | None = None,
) -> M:
    """Create the row that ``lookup`` names, or update the fields of ``values`` that differ.

    ``create_only`` holds values set on a new row and never compared afterwards.
    """
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values, **(create_only or {}))
        row.full_clean()
        row.save()
        changes.created[_label(model)] += 1
        return row
    differing = [name for name, value in values.items() if getattr(row, name) != value]
    if differing:
        for name in differing:
            setattr(row, name, values[name])
        row.full_clean()
        row.save(update_fields=differing)
        changes.updated[_label(model)] += 1
    return row


def prune(
    changes: Changes,
    stale: models.QuerySet[M],
    *,
    key: str,
    in_use: Callable[[Iterable[M]], list[str]] = lambda rows: [],
) -> None:
    """Delete the rows the file no longer lists, unless some hold data that would be lost."""
    rows = list(stale)
    if not rows:
        return
    blocked = in_use(rows)
    if blocked:
        raise changes.refuse(
            key,
            f"the file no longer lists {', '.join(blocked)}, which already "
            "hold(s) scores or work; keep them in the file or remove that data first",
        )
    for row in rows:
        try:
            row.delete()
        except (models.ProtectedError, models.RestrictedError):
            raise changes.refuse(
                key,
                f"the file no longer lists {row}, which other records (hand-ins, scores) "
                "still refer to; keep it in the file",
            ) from None
    changes.deleted[_label(type(rows[0]))] += len(rows)
