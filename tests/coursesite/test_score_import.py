"""POST /api/v1/courses/{slug}/items/{item}/scores/import/: many scores of one item from a CSV
file, reported line by line on a dry run, and applied all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coursesite.gradebook.imports import MAX_BYTES, ScoreFileError, score_file_parse
from coursesite.models import Role, Score, ScoreChange, ScoreSource
from tests.conftest import make_member
from tests.coursesite.gradebook_setup import COURSE, enrol, semester

URL = f"{COURSE}/items/a1/scores/import/"


@pytest.fixture
def term(personas):
    return semester(personas)


def send(client, content, *, dry_run=False, reason="Midterm sheet"):
    data = content if isinstance(content, bytes) else content.encode()
    url = f"{URL}?dry_run=1" if dry_run else URL
    fields = {"file": SimpleUploadedFile("scores.csv", data, "text/csv")}
    if reason is not None:
        fields["reason"] = reason
    return client.post(url, fields, format="multipart")


def problems(answer):
    return [(line["line"], line["problem"]) for line in answer.json()["lines"] if line["problem"]]


def test_it_reports_what_each_line_would_do_and_writes_nothing(term):
    changes = ScoreChange.objects.count()
    answer = send(
        term.client(term.personas.bob),
        "username,points,comment\ncarol,95,Regraded\nerin,EX,Medical\n",
        dry_run=True,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["dry_run"], body["applied"]) == (True, False)
    assert [
        (line["line"], line["username"], line["points"], line["excused"], line["action"])
        for line in body["lines"]
    ] == [(2, "carol", "95.00", False, "update"), (3, "erin", None, True, "create")]
    assert body["lines"][0]["previous_points"] == "90.00"
    assert ScoreChange.objects.count() == changes


def test_it_reports_a_line_that_changes_nothing_as_unchanged(term):
    client = term.client(term.personas.alice)
    send(client, "username,points\nerin,70\n")
    answer = send(client, "username,points\nerin,70\n", dry_run=True)
    assert [line["action"] for line in answer.json()["lines"]] == ["unchanged"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("nobody,5", "unknown student: nobody"),
        ("dave,5", "not in the course: dave"),
        ("bob,5", "not in the course: bob"),
        ("carol,five", "not a number: 'five'"),
        ("carol,NaN", "not a number: 'NaN'"),
        ("carol,101", "out of range: 101"),
        ("carol,-1", "out of range: -1"),
        ("carol,7.125", "7.125 has more than two decimals"),
        ("carol,", "no points"),
        (",5", "no username or sis_user_id"),
        ("carol,5,extra", "3 cells, the header has 2"),
    ],
)
def test_it_names_the_problem_of_a_bad_line(term, line, problem):
    answer = send(term.client(term.personas.alice), f"username,points\n{line}\n", dry_run=True)
    assert answer.status_code == 200
    [(number, found)] = problems(answer)
    assert number == 2
    assert found.startswith(problem)


def test_it_finds_students_by_sis_id_and_reports_a_duplicate_row(term):
    answer = send(
        term.client(term.personas.alice),
        "username,sis_user_id,points\n,S1001,80\ncarol,,81\n,S9999,1\n",
        dry_run=True,
    )
    assert [line["username"] for line in answer.json()["lines"]] == ["carol", "carol", None]
    assert problems(answer) == [
        (3, "duplicate row: carol is already on line 2"),
        (4, "unknown student: S9999"),
    ]


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (b"student,points\ncarol,5\n", 1, "bad header: unknown column 'student'"),
        (b"username,comment\ncarol,hi\n", 1, "bad header"),
        (b"username,points,points\n", 1, "bad header: a column is named twice"),
        (b"\nusername,points\n", 1, "bad header: the first line is empty"),
        (b"username,points\ncarol,5\nerin,5,\xe9t\xe9\n", 3, "not UTF-8"),
        (b"username,points\n" + b"carol,5\n" * (MAX_BYTES // 8), 0, "too large"),
    ],
)
def test_it_reports_a_problem_of_the_whole_file(term, content, line, problem):
    client = term.client(term.personas.alice)
    dry = send(client, content, dry_run=True)
    assert dry.status_code == 200
    [(number, found)] = problems(dry)
    assert (number, found.startswith(problem)) == (line, True)
    applied = send(client, content)
    assert applied.status_code == 400
    assert problems(applied) == problems(dry)


def test_it_applies_a_clean_file_as_manual_scores_with_the_reason(term):
    answer = send(
        term.client(term.personas.bob),
        "Username,Points,Comment\ncarol,95,Regraded\nerin,EX,Medical\n",
        reason="Scores from the paper sheet",
    )
    assert answer.status_code == 200
    assert answer.json()["applied"] is True
    carol = Score.objects.get(item=term.a1, student=term.personas.carol)
    assert (carol.points, carol.comment, carol.source) == (
        Decimal(95), "Regraded", ScoreSource.MANUAL
    )  # fmt: skip
    change = carol.changes.latest("changed_at")
    assert (change.old_points, change.changed_by, change.reason) == (
        Decimal(90), term.personas.bob, "Scores from the paper sheet"
    )  # fmt: skip
    erin = Score.objects.get(item=term.a1, student=term.erin)
    assert (erin.points, erin.excused) == (None, True)


def test_it_keeps_each_comment_when_the_file_has_no_comment_column(term):
    send(term.client(term.personas.alice), "username,points\ncarol,91\n")
    carol = Score.objects.get(item=term.a1, student=term.personas.carol)
    assert (carol.points, carol.comment) == (Decimal(91), "Late by a day")


def test_it_writes_nothing_when_one_line_has_a_problem(term):
    changes = ScoreChange.objects.count()
    answer = send(term.client(term.personas.alice), "username,points\ncarol,95\nerin,200\n")
    assert answer.status_code == 400
    body = answer.json()
    assert body["applied"] is False
    assert "nothing was written" in body["detail"]
    assert problems(answer) == [(3, "out of range: 200 is not between 0 and 100.00")]
    assert ScoreChange.objects.count() == changes
    assert Score.objects.get(item=term.a1, student=term.personas.carol).points == Decimal(90)


def test_it_needs_a_reason_to_apply(term):
    answer = send(term.client(term.personas.alice), "username,points\ncarol,95\n", reason=None)
    assert answer.status_code == 400
    assert "reason" in answer.json()
    assert Score.objects.get(item=term.a1, student=term.personas.carol).points == Decimal(90)


def test_it_needs_the_file(term):
    answer = term.client(term.personas.alice).post(URL, {"reason": "x"}, format="multipart")
    assert answer.status_code == 400
    assert "file" in answer.json()


def test_it_checks_a_file_in_queries_that_do_not_grow_with_its_lines(term):
    client = term.client(term.personas.alice)
    client.get(f"{COURSE}/")  # the token's first use is recorded once
    for index in range(5):
        enrol(term.personas, f"student{index}", sis_user_id=f"S2{index}")

    def queries(content: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert send(client, content, dry_run=True).status_code == 200
        return len(captured)

    one = queries("username,sis_user_id,points\ncarol,,5\n,S20,5\nnobody,,1\n,S99,1\n")
    many = "".join(f"student{i},,{i}\n,S2{i},{i}\n" for i in range(5))
    assert queries(f"username,sis_user_id,points\n{many}nobody,,1\n,S99,1\n") == one


def test_it_numbers_a_line_by_where_its_record_starts():
    lines = score_file_parse(
        b'\xef\xbb\xbfusername,points,comment\ncarol,5,"two\nlines"\n\nerin,6,\n'
    )
    assert [(line.line, line.username, line.comment) for line in lines] == [
        (2, "carol", "two\nlines"),
        (5, "erin", ""),
    ]


def test_it_refuses_a_file_that_is_not_csv():
    with pytest.raises(ScoreFileError) as refused:
        score_file_parse(b'username,points\ncarol,"5"x\n')
    [line] = refused.value.lines
    assert (line.line, line.problem.startswith("not a CSV line")) == (2, True)


def test_it_refuses_an_empty_file(term):
    answer = send(term.client(term.personas.alice), b"", dry_run=True)
    assert answer.status_code == 400
    assert "empty" in answer.json()["file"][0]


def test_it_lets_only_the_courses_staff_import(term):
    content = "username,points\ncarol,95\n"
    assert send(term.client(term.personas.carol), content).status_code == 403
    assert send(term.client(term.personas.dave), content).status_code == 404
    outsider = make_member(term.personas.other_course, "olga", Role.INSTRUCTOR)
    assert send(term.client(outsider), content).status_code == 404
    assert send(term.client(None), content).status_code == 401
    assert Score.objects.get(item=term.a1, student=term.personas.carol).points == Decimal(90)


def test_it_answers_404_for_an_item_the_course_does_not_have(term):
    data = {"file": SimpleUploadedFile("s.csv", b"username,points\n"), "reason": "x"}
    answer = term.client(term.personas.alice).post(
        URL.replace("/a1/", "/nope/"), data, format="multipart"
    )
    assert answer.status_code == 404
