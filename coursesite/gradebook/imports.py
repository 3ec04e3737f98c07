"""Scores from a CSV file: parsed, then checked line by line before anything is written.

The file's first line names its columns, in any order and any case (``SIS User ID`` reads as
``sis_user_id``):

- ``username`` or ``sis_user_id`` (or both: a line's username counts when it has one): the student;
- ``points``: from 0 to the item's maximum with at most two decimals, or ``EX`` to excuse;
- ``comment`` (optional): the score's comment. A file without this column keeps every comment.

``score_file_parse`` needs no database: it refuses a whole file (too large, not UTF-8, a bad
header) with ``ScoreFileError``. ``score_file_check`` looks the students and their scores up in
a fixed number of queries and says, for each line, what applying it would do, or what is wrong
with it. ``coursesite.gradebook.services.score_import`` applies a file only when no line has a
problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.db.models import Q

from coursesite.gradebook.engine import CENT
from coursesite.models import GradeItem, Membership, Role, Score, ScoreSource

MAX_BYTES = 512 * 1024
STUDENT_COLUMNS = ("username", "sis_user_id")
COLUMNS = (*STUDENT_COLUMNS, "points", "comment")
COLUMNS_WANTED = "the columns are username or sis_user_id, points, and optionally comment"
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class ScoreLine:
    """One line of the file as written; ``comment`` is None when the file has no such column."""

    line: int
    username: str
    sis_user_id: str
    points: str
    comment: str | None
    problem: str = ""

    @property
    def student_key(self) -> str:
        return self.username or self.sis_user_id


@dataclass(frozen=True)
class LineCheck:
    """What one line would do (``action``), or why it cannot (``problem``)."""

    line: int
    student_key: str = ""
    student: User | None = None
    points: Decimal | None = None
    excused: bool = False
    comment: str | None = None
    previous: Score | None = None
    action: str = ""
    problem: str = ""

    @property
    def new_comment(self) -> str:
        """The comment the score gets: the file's, or the score's own when the file has none."""
        if self.comment is not None:
            return self.comment
        return self.previous.comment if self.previous else ""


class ScoreImportRejected(Exception):
    """A file that cannot be applied, with the report of its lines."""

    def __init__(self, lines: list[LineCheck]) -> None:
        problems = sum(1 for line in lines if line.problem)
        super().__init__(f"{problems} line(s) have a problem; nothing was written.")
        self.lines = lines


class ScoreFileError(ScoreImportRejected):
    """A problem of the whole file, reported on the line where it was found."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__([LineCheck(line=line, problem=problem)])


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ScoreFileError(0, f"too large: a score file holds at most {MAX_BYTES // 1024} KiB")
    # UTF-8 never puts a line break inside a character, so each line can be checked alone.
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            raise ScoreFileError(number, "not UTF-8: save the file as CSV UTF-8") from None
    return data.decode("utf-8-sig")


def _header(cells: list[str]) -> dict[str, int]:
    """Each column's index; an unnamed column (a trailing comma) is left out."""
    names = [cell.strip().lower().replace(" ", "_") for cell in cells]
    named = [name for name in names if name]
    unknown = [name for name in named if name not in COLUMNS]
    if unknown:
        raise ScoreFileError(1, f"bad header: unknown column {unknown[0]!r}; {COLUMNS_WANTED}")
    if len(set(named)) != len(named):
        raise ScoreFileError(1, f"bad header: a column is named twice; {COLUMNS_WANTED}")
    if "points" not in named or not set(STUDENT_COLUMNS) & set(named):
        raise ScoreFileError(1, f"bad header: {COLUMNS_WANTED}")
    return {name: index for index, name in enumerate(names) if name}


def score_file_parse(data: bytes) -> list[ScoreLine]:
    """The lines of a score file, blank lines left out. Raises ``ScoreFileError``."""
    reader = csv.reader(io.StringIO(_text(data), newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise ScoreFileError(1, f"bad header: the first line is empty; {COLUMNS_WANTED}")
        columns, width = _header(header), len(header)
        lines, last = [], reader.line_num
        for cells in reader:
            # A quoted cell may span lines: a record is numbered by the line it starts on.
            number, last = last + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                lines.append(_line(number, cells, columns, width))
    except csv.Error as error:
        raise ScoreFileError(reader.line_num, f"not a CSV line: {error}") from None
    return lines


def _line(number: int, cells: list[str], columns: dict[str, int], width: int) -> ScoreLine:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problem = f"{len(cells)} cells, the header has {width}" if len(cells) > width else ""
    return ScoreLine(
        line=number,
        username=cell("username"),
        sis_user_id=cell("sis_user_id"),
        points=cell("points"),
        comment=cell("comment") if "comment" in columns else None,
        problem=problem,
    )


def _points(text: str, item: GradeItem) -> tuple[Decimal | None, bool, str]:
    """Points, excused, and the problem of a points cell."""
    if text.upper() == "EX":
        return None, True, ""
    if not text:
        return None, False, "no points: write a number, or EX to excuse"
    try:
        points = Decimal(text)
    except InvalidOperation:
        return None, False, f"not a number: {text!r}"
    if not points.is_finite():
        return None, False, f"not a number: {text!r}"
    if not Decimal(0) <= points <= item.max_points:
        return None, False, f"out of range: {text} is not between 0 and {item.max_points}"
    if points.quantize(CENT) != points:
        return None, False, f"{text} has more than two decimals"
    return points, False, ""


@dataclass
class _Roster:
    by_username: dict[str, User]
    by_sis_id: dict[str, User]
    # Accounts and SIS ids that exist, but not as students of this course.
    elsewhere: set[str]

    def find(self, line: ScoreLine) -> tuple[User | None, str]:
        found = (
            self.by_username.get(line.username)
            if line.username
            else self.by_sis_id.get(line.sis_user_id)
        )
        if found is not None:
            return found, ""
        if not line.student_key:
            return None, "no username or sis_user_id"
        if line.student_key in self.elsewhere:
            return None, f"not in the course: {line.student_key} is not a student of it"
        return None, f"unknown student: {line.student_key}"


def _roster(item: GradeItem, lines: Iterable[ScoreLine]) -> _Roster:
    usernames = {line.username for line in lines if line.username}
    sis_ids = {line.sis_user_id for line in lines if line.sis_user_id and not line.username}
    students = Membership.objects.filter(course_id=item.course_id, role=Role.STUDENT).filter(
        Q(user__username__in=usernames) | Q(sis_user_id__in=sis_ids)
    )
    by_username, by_sis_id = {}, {}
    for membership in students.select_related("user"):
        by_username[membership.user.username] = membership.user
        if membership.sis_user_id:
            by_sis_id[membership.sis_user_id] = membership.user
    missing_names = usernames - set(by_username)
    missing_ids = sis_ids - set(by_sis_id)
    elsewhere = set(
        User.objects.filter(username__in=missing_names).values_list("username", flat=True)
    ) | set(
        Membership.objects.filter(sis_user_id__in=missing_ids).values_list("sis_user_id", flat=True)
    )
    return _Roster(by_username, by_sis_id, elsewhere)


def _action(line: LineCheck) -> str:
    """What ``score_record`` would do with a line, judged as it judges a change."""
    score = line.previous
    if score is None:
        return CREATE
    new = (line.points, line.excused, ScoreSource.MANUAL, line.new_comment, Decimal(0))
    old = (score.points, score.excused, score.source, score.comment, score.late_penalty_percent)
    return UNCHANGED if new == old else UPDATE


def score_file_check(*, item: GradeItem, lines: list[ScoreLine]) -> list[LineCheck]:
    """Each line's action or problem: unknown student, not in the course, not a number, out of
    range, a duplicate of an earlier line. Four queries, however long the file."""
    roster = _roster(item, lines)
    scores = {
        score.student_id: score
        for score in Score.objects.filter(
            item=item,
            student__in=[*roster.by_username.values(), *roster.by_sis_id.values()],
        )
    }
    seen: dict[int, int] = {}
    checks = []
    for line in lines:
        student, problem = roster.find(line)
        points, excused, points_problem = _points(line.points, item)
        if student is not None and student.pk in seen:
            problem = f"duplicate row: {line.student_key} is already on line {seen[student.pk]}"
        problem = line.problem or problem or points_problem
        if student is not None:
            seen.setdefault(student.pk, line.line)
        check = LineCheck(
            line=line.line,
            student_key=line.student_key,
            student=student,
            points=points,
            excused=excused,
            comment=line.comment,
            previous=scores.get(student.pk) if student else None,
            problem=problem,
        )
        checks.append(check if problem else replace(check, action=_action(check)))
    return checks
