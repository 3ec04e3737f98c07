"""The gradebook's pages: the staff's table (roles, sorting, filters, search, release buttons,
histograms, regrade requests), a cell's score with its history, and a student's Grades page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coursesite.gradebook.services import regrade_request_create
from coursesite.models import GradeCategory, GradeItem, RegradeRequest, Role, Score, ScoreSource
from coursesite.services import score_record
from tests.conftest import Personas, make_member
from tests.coursesite.test_pages import logged_in, page_text

IST = ZoneInfo("Europe/Istanbul")
SVG = "{http://www.w3.org/2000/svg}"
# Session, user and membership; then the gradebook's own reads (students, categories, items,
# letter scale, scores, the hand-ins' extensions and submissions with their groups, and the
# submitted paper reviews); the notes under the item headings (the course's LMS links: none
# here, so no line items are read); then the open regrade requests. None of them is per student.
GRADEBOOK_QUERIES = 14


@dataclass
class Book:
    personas: Personas
    erin: AbstractUser
    frank: AbstractUser
    a1: GradeItem
    a2: GradeItem

    @property
    def url(self) -> str:
        return f"/courses/{self.personas.course.slug}/gradebook/"

    @property
    def grades_url(self) -> str:
        return f"/courses/{self.personas.course.slug}/grades/"


def student(personas: Personas, username: str, **facts: str) -> AbstractUser:
    user = make_member(personas.course, username, Role.STUDENT)
    names = {key: facts.pop(key) for key in ("first_name", "last_name") if key in facts}
    if names:
        type(user).objects.filter(pk=user.pk).update(**names)
    user.memberships.filter(course=personas.course).update(**facts)
    user.refresh_from_db()
    return user


def record(item: GradeItem, user: AbstractUser, points: str | None, **extra: object) -> Score:
    return score_record(
        item=item,
        student=user,
        points=None if points is None else Decimal(points),
        source=extra.pop("source", ScoreSource.MANUAL),
        changed_by=None,
        reason="Graded.",
        **extra,
    )


@pytest.fixture
def book(personas: Personas) -> Book:
    """Quizzes 30% (the quiz, released, required to pass with 5 of 10) and Assignments 70% (A1
    released, A2 not, both past due, the lowest dropped). Carol is in section 1, Erin and Frank
    in 2."""
    course = personas.course
    GradeCategory.objects.filter(course=course).update(weight=Decimal(30))
    GradeItem.objects.filter(pk=personas.quiz.pk).update(
        required_to_pass=True, pass_mark=Decimal(5), released=True
    )
    assignments = GradeCategory.objects.create(
        course=course, name="Assignments", weight=Decimal(70), drop_lowest=1, position=1
    )
    due = datetime(2024, 11, 5, 23, 59, tzinfo=IST)
    a1, a2 = (
        GradeItem.objects.create(
            course=course,
            category=assignments,
            slug=slug,
            title=title,
            max_points=100,
            due_at=due,
            released=slug == "a1",
            position=position,
        )
        for position, (slug, title) in enumerate([("a1", "A1: MLPs"), ("a2", "A2: CNNs")])
    )
    carol = personas.carol
    type(carol).objects.filter(pk=carol.pk).update(first_name="Carol", last_name="Kaya")
    carol.memberships.update(section="1", sis_user_id="0080001")
    carol.refresh_from_db()
    erin = student(
        personas, "erin", first_name="Erin", last_name="Aksoy", section="2", sis_user_id="0080002"
    )
    frank = student(
        personas, "frank", first_name="Frank", last_name="Zorlu", section="2", sis_user_id="0080003"
    )
    record(personas.quiz, carol, "8")
    record(personas.quiz, frank, "3")
    record(
        a1, carol, "85", comment="Good work on the backward pass.",
        late_penalty_percent=Decimal(10), source=ScoreSource.AUTOGRADER,
    )  # fmt: skip
    record(a1, erin, "60")
    record(a1, frank, None, excused=True)
    record(a2, carol, "70", comment="Not for your eyes yet.")
    record(a2, erin, "95")
    return Book(personas, erin, frank, a1, a2)


def student_order(response) -> list[str]:
    """The usernames of the gradebook's rows, top to bottom."""
    body = response.content.decode().split('id="gradebook"', 1)[1].split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row">.*?<span class="muted">([\w.@+-]+)', body, re.S)


# Who may see the gradebook


def test_it_shows_the_gradebook_to_the_instructor_and_the_ta(book):
    for user in (book.personas.alice, book.personas.bob):
        response = logged_in(user).get(book.url)
        assert response.status_code == 200, user
        assert student_order(response) == ["erin", "carol", "frank"]


def test_it_sends_a_student_to_their_grades_page(book):
    response = logged_in(book.personas.carol).get(book.url)
    assert (response.status_code, response["Location"]) == (302, book.grades_url)


def test_it_answers_404_to_a_student_of_another_course(book):
    assert logged_in(book.personas.dave).get(book.url).status_code == 404


def test_it_sends_an_anonymous_visitor_to_the_login_page(book):
    response = Client().get(book.url)
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/login/?next={book.url}",
    )


# What the table shows


def test_it_shows_each_cell_s_state_excused_missing_pending_and_dropped(book):
    html = logged_in(book.personas.alice).get(book.url).content.decode()
    rows = {
        username: html.split(f'<span class="muted">{username}', 1)[1].split("</tr>", 1)[0]
        for username in ("carol", "erin", "frank")
    }
    # Frank: A1 excused, A2 past due without a score.
    assert '<abbr title="excused">EX</abbr>' in rows["frank"]
    assert '<span class="state-missing">missing</span>' in rows["frank"]
    # Erin: no quiz score, past due; her lower assignment (A1, 60) is dropped and struck through.
    assert '<span class="state-missing">missing</span>' in rows["erin"]
    assert "<s>60</s>" in rows["erin"] and "95" in rows["erin"]
    # Carol: A2 (70) is her lower assignment.
    assert "<s>70</s>" in rows["carol"] and ">85</a>" in rows["carol"]


def test_it_shows_category_percents_totals_and_flags(book):
    text = page_text(logged_in(book.personas.alice).get(f"{book.url}?q=frank"))
    # Frank: quiz 30% (required, below its pass mark), A1 excused, A2 missing: Assignments 0%.
    assert "30.00% 0.00% 9.00% 9.00%" in text
    assert "required item not passed" in text and "missing work" in text


def test_it_shows_in_the_student_view_only_released_items(book):
    alice = logged_in(book.personas.alice)

    def carol_a2(query: str) -> tuple[str, Decimal | None]:
        response = alice.get(f"{book.url}?q=carol{query}")
        (carol,) = response.context["lines"]
        cell = next(cell for cell in carol.cells if cell.item.slug == "a2")
        return cell.grade.state, cell.grade.points

    assert carol_a2("") == ("graded", Decimal(70))
    assert carol_a2("&view=student") == ("pending", None)
    assert "As students see it" in page_text(alice.get(f"{book.url}?view=student"))


def test_it_sorts_by_an_item_both_ways_with_unknown_values_last(book):
    alice = logged_in(book.personas.alice)
    # A1: Carol 85, Erin 60, Frank excused (no percent: last in both directions).
    assert student_order(alice.get(f"{book.url}?sort=item-a1")) == ["erin", "carol", "frank"]
    descending = alice.get(f"{book.url}?sort=item-a1&dir=desc")
    assert student_order(descending) == ["carol", "erin", "frank"]


def test_it_sorts_by_the_final_total_and_by_username(book):
    alice = logged_in(book.personas.alice)
    finals = {
        line.row.student.username: line.row.grade.final
        for line in alice.get(book.url).context["lines"]
    }
    by_final = sorted(finals, key=lambda name: finals[name], reverse=True)
    assert student_order(alice.get(f"{book.url}?sort=final&dir=desc")) == by_final
    assert student_order(alice.get(f"{book.url}?sort=username")) == ["carol", "erin", "frank"]


def test_it_links_each_heading_to_its_sort_and_the_sorted_one_to_the_other_direction(book):
    html = logged_in(book.personas.alice).get(f"{book.url}?sort=final&section=2").content.decode()
    assert f'href="{book.url}?sort=item-a2&amp;section=2"' in html
    assert 'aria-sort="ascending"' in html
    assert f'href="{book.url}?sort=final&amp;dir=desc&amp;section=2"' in html


def test_it_filters_by_section(book):
    response = logged_in(book.personas.alice).get(f"{book.url}?section=2")
    assert student_order(response) == ["erin", "frank"]
    assert "2 of 3 students shown." in page_text(response)


@pytest.mark.parametrize(
    ("search", "found"),
    [("ERIN", ["erin"]), ("aksoy", ["erin"]), ("0080003", ["frank"]), ("kaya", ["carol"])],
)
def test_it_finds_a_student_by_username_name_or_sis_id(book, search, found):
    response = logged_in(book.personas.alice).get(book.url, {"q": search})
    assert student_order(response) == found


def test_it_says_when_no_student_matches(book):
    response = logged_in(book.personas.alice).get(book.url, {"q": "nobody"})
    assert "No student matches." in page_text(response)


def test_it_links_the_csv_export_and_each_cell_s_history(book):
    html = logged_in(book.personas.alice).get(book.url).content.decode()
    course = book.personas.course.slug
    assert f'href="/api/v1/courses/{course}/gradebook.csv"' in html
    assert f'href="{book.url}a1/erin/"' in html


def test_it_reads_the_gradebook_in_queries_that_do_not_grow_with_the_students(book):
    alice = logged_in(book.personas.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(book.url).status_code == 200
        return len(captured)

    few = queries()
    for number in range(10):
        extra = student(book.personas, f"student{number:02}", section="3")
        record(book.a1, extra, str(50 + number))
        record(book.a2, extra, None, excused=True)
    assert (few, queries()) == (GRADEBOOK_QUERIES, GRADEBOOK_QUERIES)


# Releasing


def test_it_releases_an_item_from_its_button_and_keeps_the_table_s_order(book):
    alice = logged_in(book.personas.alice)
    page = alice.get(f"{book.url}?sort=final&dir=desc&section=2").content.decode()
    form = page.split('id="release-a2"', 1)[1].split("</form>", 1)[0]
    assert 'name="released" value="1"' in form and ">Release<" in form
    back = re.search(r'name="back" value="([^"]*)"', form).group(1).replace("&amp;", "&")

    response = alice.post(
        f"{book.url}release/", {"item": "a2", "released": "1", "back": back}, follow=True
    )

    book.a2.refresh_from_db()
    assert book.a2.released and book.a2.released_at is not None
    assert response.redirect_chain == [(f"{book.url}?sort=final&dir=desc&section=2", 302)]
    assert "A2: CNNs is released: its students see their scores." in page_text(response)
    assert ">Unrelease<" in response.content.decode().split('id="release-a2"', 1)[1][:900]


def test_it_unreleases_an_item(book):
    response = logged_in(book.personas.bob).post(
        f"{book.url}release/", {"item": "a1", "released": "0"}
    )
    book.a1.refresh_from_db()
    assert (response.status_code, response["Location"], book.a1.released) == (
        302,
        book.url,
        False,
    )


def test_it_keeps_only_the_gradebook_s_own_parameters_when_it_sends_staff_back(book):
    response = logged_in(book.personas.alice).post(
        f"{book.url}release/",
        {"item": "a2", "released": "1", "back": "?next=https://evil.example&q=erin"},
    )
    assert response["Location"] == f"{book.url}?q=erin"


def test_it_refuses_a_release_to_a_student_and_to_another_course(book):
    for user in (book.personas.carol, book.personas.dave):
        response = logged_in(user).post(f"{book.url}release/", {"item": "a2", "released": "1"})
        assert response.status_code == 404, user
    book.a2.refresh_from_db()
    assert not book.a2.released


def test_it_answers_404_for_an_item_of_another_course(book):
    other = GradeCategory.objects.create(
        course=book.personas.other_course, name="Labs", weight=Decimal(100)
    )
    GradeItem.objects.create(
        course=book.personas.other_course, category=other, slug="lab1", title="Lab", max_points=1
    )
    response = logged_in(book.personas.alice).post(
        f"{book.url}release/", {"item": "lab1", "released": "1"}
    )
    assert response.status_code == 404


def test_it_takes_a_release_only_as_a_post(book):
    assert logged_in(book.personas.alice).get(f"{book.url}release/").status_code == 405


# Histograms


def svg_documents(html: str) -> list[ET.Element]:
    # The page is this site's own answer, not untrusted input.
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, re.S)]  # noqa: S314


def test_it_draws_a_histogram_of_the_totals_and_of_each_item_as_well_formed_svg(book):
    html = logged_in(book.personas.alice).get(book.url).content.decode()
    charts = svg_documents(html)
    titles = [chart.find(f"{SVG}title").text for chart in charts]
    assert titles == ["Final totals", "Quiz", "A1: MLPs", "A2: CNNs"]
    a1 = charts[2]
    # Carol's 85 and Erin's 60; Frank is excused and counts in no bin.
    assert a1.find(f"{SVG}desc").text.startswith("Students counted: 2. ")
    assert "60\N{EN DASH}70%: 1" in a1.find(f"{SVG}desc").text
    assert "80\N{EN DASH}90%: 1" in a1.find(f"{SVG}desc").text


def test_it_escapes_an_item_title_inside_its_histogram(book):
    GradeItem.objects.filter(pk=book.a2.pk).update(title='Bonus <b>&</b> "extra"')
    html = logged_in(book.personas.alice).get(book.url).content.decode()
    titles = [chart.find(f"{SVG}title").text for chart in svg_documents(html)]
    assert 'Bonus <b>&</b> "extra"' in titles
    assert "<b>&</b>" not in html


# Regrade requests on the gradebook


def test_it_lists_the_open_regrade_requests_with_the_student_s_message(book):
    regrade_request_create(
        item=book.a1, student=book.erin, message="Test 3 <ran> out of time.", part="test 3"
    )
    text = page_text(logged_in(book.personas.alice).get(book.url))
    section = text.split("Open regrade requests", 1)[1].split("Distributions", 1)[0]
    assert "Erin Aksoy (erin) A1: MLPs test 3 Test 3 <ran> out of time." in section


# A cell's score and its history


def test_it_shows_a_score_with_its_comment_penalty_and_history(book):
    url = f"{book.url}a1/carol/"
    record(book.a1, book.personas.carol, "80", late_penalty_percent=Decimal(10))
    text = page_text(logged_in(book.personas.bob).get(url))
    assert "Score 80 of 100 points" in text
    assert "Late penalty 10%, already taken off the points" in text
    history = text.split("History", 1)[1]
    assert "the system — 85 Autograder Graded." in history
    assert "the system 85 80 Entered by staff Graded." in history


def test_it_records_a_score_from_the_form_with_who_and_why(book):
    url = f"{book.url}a2/frank/"
    alice = logged_in(book.personas.alice)
    response = alice.post(
        url, {"points": "77.5", "comment": "Late but solid.", "reason": "Graded by hand."}
    )
    assert (response.status_code, response["Location"]) == (302, url)
    score = Score.objects.get(item=book.a2, student=book.frank)
    change = score.changes.get()
    assert (score.points, score.comment, score.source) == (
        Decimal("77.5"),
        "Late but solid.",
        ScoreSource.MANUAL,
    )
    assert (change.changed_by, change.reason) == (book.personas.alice, "Graded by hand.")
    assert "Graded by hand." in page_text(alice.get(url)).split("History", 1)[1]


def test_it_keeps_the_late_penalty_when_only_the_comment_changes(book):
    alice = logged_in(book.personas.alice)
    alice.post(
        f"{book.url}a1/carol/", {"points": "85", "comment": "Nice.", "reason": "Comment added."}
    )
    score = Score.objects.get(item=book.a1, student=book.personas.carol)
    assert (score.comment, score.late_penalty_percent) == ("Nice.", Decimal(10))


def test_it_excuses_from_the_form(book):
    logged_in(book.personas.alice).post(
        f"{book.url}a2/frank/", {"excused": "on", "reason": "Medical report."}
    )
    score = Score.objects.get(item=book.a2, student=book.frank)
    assert (score.excused, score.points) == (True, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"points": "101", "reason": "Why not."}, "points", "Points must be between 0 and 100"),
        ({"points": "5", "excused": "on", "reason": "Both."}, "points", "excused score has no"),
        ({"points": "5"}, "reason", "This field is required."),
    ],
)
def test_it_refuses_a_score_the_service_refuses_and_says_why(book, data, field, message):
    response = logged_in(book.personas.alice).post(f"{book.url}a2/frank/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in page_text(response)
    assert not Score.objects.filter(item=book.a2, student=book.frank).exists()


def test_it_keeps_students_and_outsiders_away_from_the_score_pages(book):
    url = f"{book.url}a1/erin/"
    response = logged_in(book.personas.carol).get(url)
    assert (response.status_code, response["Location"]) == (302, book.grades_url)
    assert logged_in(book.personas.dave).get(url).status_code == 404
    assert logged_in(book.personas.alice).get(f"{book.url}a1/dave/").status_code == 404
    assert logged_in(book.personas.alice).get(f"{book.url}a1/bob/").status_code == 404
    assert logged_in(book.personas.alice).get(f"{book.url}nope/erin/").status_code == 404


# The student's Grades page


def test_it_shows_a_student_their_released_scores_with_comment_and_penalty(book):
    text = page_text(logged_in(book.personas.carol).get(book.grades_url))
    a1 = text.split("A1: MLPs", 1)[1].split("A2: CNNs", 1)[0]
    assert "85 / 100 85.00% graded late penalty 10% applied" in a1
    assert "Good work on the backward pass." in a1
    a2 = text.split("A2: CNNs", 1)[1].split("Categories", 1)[0]
    assert a2.split("Assignments", 1)[1].strip().startswith("not released yet")
    assert "Not for your eyes yet." not in text and "70" not in a2


def test_it_shows_no_penalty_line_without_a_penalty(book):
    text = page_text(logged_in(book.erin).get(book.grades_url))
    assert "60 / 100 60.00% graded" in text
    assert "late penalty" not in text


def test_it_shows_a_student_categories_and_both_totals(book):
    text = page_text(logged_in(book.personas.carol).get(book.grades_url))
    # Quiz 8/10 and A1 85/100. A2 is not released: left out of the current total, 0 in the
    # final one (and not dropped, since only known percents are dropped).
    assert "Current total 83.50% over the work graded so far" in text
    assert "Final total 53.75% counting work not graded yet as 0" in text
    assert "Quizzes 30% 80.00% 80.00%" in text
    assert "Assignments (the lowest 1 do not count) 70% 85.00% 42.50%" in text


def test_it_spells_out_the_required_quiz_in_plain_words(book):
    frank = page_text(logged_in(book.frank).get(book.grades_url))
    assert (
        "The course requires you to pass Quiz (at least 5 of 10 points). You have not passed it "
        "yet: without a pass you cannot pass the course, whatever your total."
    ) in frank
    carol = page_text(logged_in(book.personas.carol).get(book.grades_url))
    assert "requires you to pass Quiz (at least 5 of 10 points)." in carol
    assert "You have not passed" not in carol


def test_it_sends_staff_from_the_grades_page_to_the_gradebook(book):
    response = logged_in(book.personas.bob).get(book.grades_url)
    assert (response.status_code, response["Location"]) == (302, book.url)


def test_it_answers_404_for_the_grades_page_of_another_course(book):
    assert logged_in(book.personas.dave).get(book.grades_url).status_code == 404


def test_it_offers_a_regrade_only_on_released_items(book):
    html = logged_in(book.personas.carol).get(book.grades_url).content.decode()
    assert f'href="{book.grades_url}a1/regrade/"' in html
    assert f'href="{book.grades_url}a2/regrade/"' not in html


# Asking for a regrade


def test_it_sends_a_regrade_request_from_the_form(book):
    carol = logged_in(book.personas.carol)
    url = f"{book.grades_url}a1/regrade/"
    assert "Your score: 85 of 100 points" in page_text(carol.get(url))

    response = carol.post(url, {"part": "test 2", "message": "My MLP passes test 2 locally."})

    assert (response.status_code, response["Location"]) == (302, book.grades_url)
    request = RegradeRequest.objects.get()
    assert (request.item, request.student, request.part, request.message) == (
        book.a1,
        book.personas.carol,
        "test 2",
        "My MLP passes test 2 locally.",
    )
    grades = page_text(carol.get(book.grades_url))
    assert "A1: MLPs: test 2 open" in grades.split("Your regrade requests", 1)[1]


def test_it_shows_the_service_s_refusal_of_a_second_open_request(book):
    carol = logged_in(book.personas.carol)
    url = f"{book.grades_url}a1/regrade/"
    carol.post(url, {"message": "First."})
    response = carol.post(url, {"message": "Second."})
    assert response.status_code == 200
    assert "already an open regrade request" in page_text(response)
    assert RegradeRequest.objects.count() == 1


def test_it_asks_for_a_message(book):
    response = logged_in(book.personas.carol).post(f"{book.grades_url}a1/regrade/", {})
    assert "Say what should be looked at again." in page_text(response)
    assert not RegradeRequest.objects.exists()


def test_it_answers_404_for_a_regrade_of_an_unreleased_item(book):
    carol = logged_in(book.personas.carol)
    assert carol.get(f"{book.grades_url}a2/regrade/").status_code == 404
    assert carol.post(f"{book.grades_url}a2/regrade/", {"message": "x"}).status_code == 404
    assert logged_in(book.personas.dave).get(f"{book.grades_url}a1/regrade/").status_code == 404


# The course page's links


def test_it_links_staff_to_the_gradebook_and_students_to_their_grades(book):
    course = f"/courses/{book.personas.course.slug}/"
    staff = logged_in(book.personas.alice).get(course).content.decode()
    student_page = logged_in(book.personas.carol).get(course).content.decode()
    assert f'href="{book.url}"' in staff and f'href="{book.grades_url}"' not in staff
    assert f'href="{book.grades_url}"' in student_page and f'href="{book.url}"' not in student_page
    assert f'href="{course}work/"' in student_page and f'href="{course}grace-days/"' in staff
