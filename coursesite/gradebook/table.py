"""The staff gradebook as a table: what its query string asks for, and its rows searched and
sorted on the server, so that sorting and filtering work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from django.http import QueryDict

from coursesite.gradebook import engine
from coursesite.gradebook.selectors import Gradebook, GradebookRow, ScoreCell
from coursesite.models import GradeCategory, GradeItem

DEFAULT_SORT = "name"
FLAG_LABELS = {
    engine.REQUIRED_NOT_PASSED: "required item not passed",
    engine.MISSING_WORK: "missing work",
    engine.PENDING_GRADING: "waiting for grading",
}
SortValue = Callable[[GradebookRow], Any]


@dataclass(frozen=True)
class TableQuery:
    """The gradebook page's query string: ``sort``, ``dir``, ``section``, ``q`` and ``view``."""

    sort: str = DEFAULT_SORT
    descending: bool = False
    section: str = ""
    search: str = ""
    student_view: bool = False

    @classmethod
    def parse(cls, params: QueryDict) -> TableQuery:
        return cls(
            sort=params.get("sort") or DEFAULT_SORT,
            descending=params.get("dir") == "desc",
            section=(params.get("section") or "").strip(),
            search=(params.get("q") or "").strip(),
            student_view=params.get("view") == "student",
        )

    def query_string(self, **changes: Any) -> str:
        """This query with ``changes``, as ``?...`` (empty for the defaults), naming only what
        differs from them."""
        query = replace(self, **changes)
        params = {
            "sort": query.sort if query.sort != DEFAULT_SORT else "",
            "dir": "desc" if query.descending else "",
            "section": query.section,
            "q": query.search,
            "view": "student" if query.student_view else "",
        }
        kept = {key: value for key, value in params.items() if value}
        return f"?{urlencode(kept)}" if kept else ""


@dataclass
class Header:
    """A sortable column: its key in ``?sort=``, the link that sorts by it, and how it is sorted
    now (``ascending``, ``descending`` or empty, as ``aria-sort`` spells it)."""

    key: str
    label: str
    link: str
    sorted: str = ""
    item: GradeItem | None = None
    category: GradeCategory | None = None


@dataclass
class Cell:
    item: GradeItem
    grade: engine.ItemGrade
    score: ScoreCell | None
    link: str


@dataclass
class Line:
    """One student's row as the table shows it: the cells in column order."""

    row: GradebookRow
    cells: list[Cell]
    categories: list[Decimal | None]
    flags: list[str]


def name_order(row: GradebookRow) -> tuple[str, str, str]:
    student = row.student
    return (student.last_name.casefold(), student.first_name.casefold(), student.username)


def item_percent(item_id: int) -> SortValue:
    return lambda row: row.grade.items[item_id].percent


def category_percent(category_id: int) -> SortValue:
    return lambda row: row.grade.categories_current[category_id]


def sort_values(book: Gradebook) -> dict[str, SortValue]:
    """Every column's key and the value its rows sort by; ``None`` sorts last either way."""
    values: dict[str, SortValue] = {
        "name": name_order,
        "username": lambda row: row.student.username,
        "section": lambda row: row.membership.section or None,
    }
    for item in book.items:
        values[f"item-{item.slug}"] = item_percent(item.pk)
    for category in book.categories:
        values[f"category-{category.pk}"] = category_percent(category.pk)
    values["current"] = lambda row: row.grade.current
    values["final"] = lambda row: row.grade.final
    # Letters rank as the totals they come from: A above B, whatever their spelling.
    values["letter"] = lambda row: row.grade.final if row.grade.letter else None
    values["flags"] = lambda row: len(row.grade.flags)
    return values


def matches(row: GradebookRow, search: str) -> bool:
    """Whether a student's username, name or SIS ids contain the search, ignoring case."""
    student, membership = row.student, row.membership
    fields = [
        student.username,
        student.first_name,
        student.last_name,
        student.get_full_name(),
        membership.sis_user_id,
        membership.sis_login_id,
    ]
    wanted = search.casefold()
    return any(wanted in field.casefold() for field in fields if field)


def shown_rows(book: Gradebook, query: TableQuery) -> list[GradebookRow]:
    """The rows of the chosen section that match the search, in the asked order."""
    rows = [
        row
        for row in book.rows
        if (not query.section or row.membership.section == query.section)
        and (not query.search or matches(row, query.search))
    ]
    values = sort_values(book)
    value = values.get(query.sort, values[DEFAULT_SORT])
    rows.sort(key=name_order)
    known = [row for row in rows if value(row) is not None]
    unknown = [row for row in rows if value(row) is None]
    # sort() is stable, so equal values stay in name order, in both directions.
    known.sort(key=value, reverse=query.descending)
    return known + unknown


def headers(book: Gradebook, query: TableQuery, base: str) -> list[Header]:
    """The columns in table order, each with the link that sorts by it (again: the other way)."""
    columns = [Header("name", "Student", ""), Header("section", "Section", "")]
    columns += [Header(f"item-{item.slug}", item.title, "", item=item) for item in book.items]
    columns += [
        Header(f"category-{category.pk}", category.name, "", category=category)
        for category in book.categories
    ]
    columns += [
        Header("current", "Current", ""),
        Header("final", "Final", ""),
        Header("letter", "Letter", ""),
        Header("flags", "Flags", ""),
    ]
    active = query.sort if query.sort in sort_values(book) else DEFAULT_SORT
    for column in columns:
        now_sorted = column.key == active
        column.sorted = ("descending" if query.descending else "ascending") if now_sorted else ""
        descending = now_sorted and not query.descending
        column.link = base + query.query_string(sort=column.key, descending=descending)
    return columns


def lines(book: Gradebook, rows: list[GradebookRow], cell_base: str) -> list[Line]:
    """The table's rows; ``cell_base`` is the gradebook's URL, under which each cell's page is."""
    return [
        Line(
            row=row,
            cells=[
                Cell(
                    item=item,
                    grade=row.grade.items[item.pk],
                    score=row.scores.get(item.pk),
                    link=f"{cell_base}{quote(item.slug)}/{quote(row.student.username)}/",
                )
                for item in book.items
            ],
            categories=[row.grade.categories_current[c.pk] for c in book.categories],
            flags=[FLAG_LABELS[flag] for flag in row.grade.flags],
        )
        for row in rows
    ]
