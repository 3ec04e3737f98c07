"""The gradebook as a CSV file in the layout Canvas imports (Grades > Import).

- The header row: ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
  item titled ``Title (slug)``.
- A second row whose first cell is ``Points Possible``, with each item's maximum points.
- One row per student: the name as ``Last, First`` (Canvas's sortable name), an empty ``ID``
  (Canvas's own user id, which coursesite does not know; a wrong one would match another
  student, so Canvas matches by the SIS User ID, then the SIS Login ID), the SIS ids, the section,
  then per item the points, ``EX`` for an excused item, and an empty cell where there is no score
  (Canvas reads an empty cell as "no change").
- Canvas skips a column whose title contains the name of one of its own read-only columns
  (Current/Final Score, Points or Grade, Override ..., Unposted ...). Such a phrase in an item's
  column title is therefore hyphenated: "Final Score" becomes "Final-Score", "Override" becomes
  "Over-ride", "Unposted" becomes "Un-posted", whatever their case.
- A cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return) gets a leading ``'``, so opening the file runs nothing.
- UTF-8 text without a byte-order mark; the csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User

from coursesite.gradebook import engine
from coursesite.gradebook.selectors import Gradebook
from coursesite.models import Course, GradeItem

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
READ_ONLY = re.compile(
    r"(current|final)\s+(score|points|grade)|(over)(ride)|(un)(posted)", re.IGNORECASE
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def column_title(item: GradeItem) -> str:
    """``Title (slug)``, with any phrase Canvas reads as a read-only column hyphenated."""
    return READ_ONLY.sub(
        lambda match: "-".join(part for part in match.groups() if part),
        f"{item.title} ({item.slug})",
    )


def sortable_name(user: User) -> str:
    """``Last, First``; whichever part is known; the username when neither is."""
    return ", ".join(part for part in (user.last_name, user.first_name) if part) or user.username


def number(value: Decimal) -> str:
    """A decimal without trailing zeros: 8.50 as 8.5, 10.00 as 10."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def points_cell(grade: engine.ItemGrade) -> str:
    if grade.state == engine.EXCUSED:
        return "EX"
    if grade.state == engine.GRADED and grade.points is not None:
        return number(grade.points)
    return ""


def gradebook_csv(gradebook: Gradebook) -> str:
    """The whole file, one row per row of the gradebook."""
    rows = [
        [*HEADER, *(column_title(item) for item in gradebook.items)],
        [POINTS_POSSIBLE, "", "", "", "", *(number(item.max_points) for item in gradebook.items)],
    ]
    for row in gradebook.rows:
        membership = row.membership
        rows.append(
            [
                sortable_name(row.student),
                "",
                membership.sis_user_id,
                membership.sis_login_id,
                membership.section,
                *(points_cell(row.grade.items[item.pk]) for item in gradebook.items),
            ]
        )
    out = io.StringIO()
    csv.writer(out).writerows([formula_safe(cell) for cell in line] for line in rows)
    return out.getvalue()


def csv_filename(course: Course, today: date) -> str:
    return f"{course.slug}-gradebook-{today:%Y-%m-%d}.csv"
