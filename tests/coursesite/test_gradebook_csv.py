"""GET /api/v1/courses/{slug}/gradebook.csv (and gradebook/?format=csv): the gradebook in the
layout Canvas imports under Grades > Import.

Canvas's documented import rules, which this file checks the export against:

1. The first row is the header: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
   ``Section`` (the last student column must be ``Section``), then one column per assignment.
   An assignment column is titled ``Name (id)``; a title Canvas does not know makes a new
   assignment of that name.
2. A row whose first cell is ``Points Possible`` gives each assignment's maximum points; Canvas
   uses it for the new assignments it creates.
3. Then one row per student. Canvas finds the student by ``ID`` (its own user id), else by
   ``SIS User ID``, else by ``SIS Login ID``, else by name as ``Last, First`` (its sortable name).
   coursesite does not know Canvas's user ids, so ``ID`` stays empty rather than holding a
   number that could match another student.
4. A grade cell holds the points, ``EX`` to excuse the student, or nothing: an empty cell
   leaves the grade as it is.
5. Canvas drops every column whose title contains the name of one of its read-only columns
   (Current Score, Current Points, Current Grade, Final Score, Final Points, Final Grade,
   Override Score/Grade/Status, and their Unposted forms), so no item column may carry one.
6. The file is UTF-8 text with comma-separated cells.
Beyond Canvas: a cell a spreadsheet would run as a formula (``= + - @``, tab, carriage return at
its start) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from coursesite.models import GradeCategory, GradeItem, Role
from tests.conftest import make_member
from tests.coursesite.gradebook_setup import COURSE, enrol, record, semester

URL = f"{COURSE}/gradebook.csv"
HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
READ_ONLY = re.compile(
    r"current\s+(score|points|grade)|final\s+(score|points|grade)|override|unposted", re.I
)
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def term(personas):
    return semester(personas)


def exported(client, url=URL, **params):
    answer = client.get(url, params)
    assert answer.status_code == 200, answer.content
    text = answer.content.decode("utf-8")  # rule 6: UTF-8, or this raises
    return answer, list(csv.reader(io.StringIO(text, newline="")))


def test_it_writes_the_canvas_header_and_points_possible_rows(term):
    _, rows = exported(term.client(term.personas.alice))
    assert rows[0] == [*HEADER, "Quiz (quiz)", "A1: MLP (a1)", "A2: CNN (a2)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10", "100", "100"]


def test_it_writes_one_row_per_student_in_canvas_form(term):
    _, rows = exported(term.client(term.personas.alice))
    assert rows[2:] == [
        ["Chen, Carol", "", "S1001", "carol@uni.example", "01", "8", "90", ""],
        ["Erdem, Erin", "", "S1002", "", "02", "EX", "", ""],
    ]
    assert all(len(row) == len(rows[0]) for row in rows)


def test_it_leaves_the_cell_of_a_missing_or_pending_score_empty(term):
    _, rows = exported(term.client(term.personas.alice))
    erin = rows[3]
    assert (erin[6], erin[7]) == ("", "")  # A1 missing, A2 not due yet


def test_it_writes_points_without_trailing_zeros(term):
    record(term.a2, term.personas.carol, Decimal("87.50"))
    _, rows = exported(term.client(term.personas.alice))
    assert rows[2][7] == "87.5"


def test_it_gives_the_same_file_for_format_csv_on_the_gradebook(term):
    client = term.client(term.personas.alice)
    answer, rows = exported(client, f"{COURSE}/gradebook/", format="csv")
    _, direct = exported(client)
    assert rows == direct
    assert answer["Content-Type"].startswith("text/csv")


def test_it_sends_the_file_as_an_attachment_with_a_name(term):
    answer, _ = exported(term.client(term.personas.alice))
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="dl-fall2024-gradebook-\d{4}-\d{2}-\d{2}\.csv"',
        answer["Content-Disposition"],
    )


def test_it_renames_titles_canvas_would_read_as_read_only_columns(term):
    category = GradeCategory.objects.get(course=term.personas.course, name="Quizzes")
    for position, title in enumerate(
        ["Final Score Sheet", "current   grade check", "OVERRIDE", "Unposted notes", "Final points"]
    ):
        GradeItem.objects.create(
            course=term.personas.course, category=category, slug=f"ro-{position}", title=title,
            max_points=Decimal(5), position=10 + position,
        )  # fmt: skip
    _, rows = exported(term.client(term.personas.alice))
    titles = rows[0][len(HEADER) :]
    assert [title for title in titles if READ_ONLY.search(title)] == []
    assert [title for title in titles if "(ro-" in title] == [
        "Final-Score Sheet (ro-0)", "current-grade check (ro-1)", "OVER-RIDE (ro-2)",
        "Un-posted notes (ro-3)", "Final-points (ro-4)",
    ]  # fmt: skip


def test_it_quotes_every_cell_a_spreadsheet_would_run_as_a_formula(term):
    enrol(
        term.personas, "mallory", first_name="=HYPERLINK(\"http://x\")", last_name="@SUM(A1)",
        section="+1", sis_user_id="-2", sis_login_id="\tcmd",
    )  # fmt: skip
    GradeItem.objects.filter(pk=term.a2.pk).update(title="=1+1")
    _, rows = exported(term.client(term.personas.alice))
    every_cell = [cell for row in rows for cell in row]
    assert [cell for cell in every_cell if cell.startswith(FORMULA)] == []
    mallory = next(row for row in rows if "SUM" in row[0])
    assert mallory[:5] == ['\'@SUM(A1), =HYPERLINK("http://x")', "", "'-2", "'\tcmd", "'+1"]
    assert "'=1+1 (a2)" in rows[0]


def test_it_writes_names_beyond_ascii_as_utf8_without_a_byte_order_mark(term):
    enrol(term.personas, "cagla", first_name="Çağla", last_name="Öztürk")
    answer, rows = exported(term.client(term.personas.alice))
    assert not answer.content.startswith(b"\xef\xbb\xbf")
    assert next(r for r in rows if "Ç" in r[0])[:5] == ["Öztürk, Çağla", "", "", "", ""]


def test_it_exports_one_section_on_request(term):
    _, rows = exported(term.client(term.personas.alice), section="01")
    assert [row[0] for row in rows[2:]] == ["Chen, Carol"]


def test_it_lets_a_ta_export(term):
    exported(term.client(term.personas.bob))


@pytest.mark.parametrize("url", [URL, f"{COURSE}/gradebook/?format=csv"])
def test_it_refuses_the_export_to_a_student_in_json(term, url):
    answer = term.client(term.personas.carol).get(url)
    assert answer.status_code == 403
    assert "staff" in answer.json()["detail"]


def test_it_gives_outsiders_404_and_anonymous_callers_401(term):
    assert term.client(term.personas.dave).get(URL).status_code == 404
    outsider = make_member(term.personas.other_course, "olga", Role.INSTRUCTOR)
    assert term.client(outsider).get(URL).status_code == 404
    assert term.client(None).get(URL).status_code == 401
