"""The rubric scoring pages: the staff's queue, an item's work, the rubric form of one piece of
work and of several on one page, member adjustments, the disagreements; and a student's
evaluations before and after release. (The presentation slots, listed with their scoring on the
presentations page, are tested in ``tests/presentations/test_slot_pages.py``.)"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coursesite.gradebook.services import item_release
from coursesite.models import GradeCategory, GradeItem, Role, Score, ScoreSource
from grading.models import (
    Criterion,
    Level,
    MemberAdjustment,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
)
from grading.rubrics import MarkInput, evaluation_save
from presentations.models import (
    Paper,
    PresentationPolicy,
    PresentationSlot,
    Presenter,
    RolePlan,
    SlotRole,
)
from tests.conftest import Personas, make_member
from tests.coursesite.test_pages import logged_in, page_text

ROLES = {"overview": 14, "strengths": 8, "weaknesses": 8, "qa": 10}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


# Test data: a midterm scored with a rubric, and a presentation slot whose three roles are.


@dataclass
class Scoring:
    personas: Personas
    erin: AbstractUser
    frank: AbstractUser
    gina: AbstractUser
    midterm: GradeItem
    correctness: Criterion
    clarity: Criterion
    presentation: GradeItem
    slot: PresentationSlot
    roles: dict[str, SlotRole]

    @property
    def course_url(self) -> str:
        return f"/courses/{self.personas.course.slug}"

    def level(self, criterion: Criterion, title: str) -> Level:
        return criterion.levels.get(title=title)

    def evaluate_url(self, item: GradeItem, subject: str) -> str:
        return f"{self.course_url}/scoring/{item.slug}/{subject}/"

    def student(self, user: AbstractUser) -> str:
        return f"student:{user.pk}"


def rubric_of(course: Any, slug: str, criteria: list[tuple[str, Any]]) -> Rubric:
    """A rubric whose criteria have levels (a list of (title, points, description)) or free
    points up to a maximum."""
    rubric = Rubric.objects.create(course=course, slug=slug, title=slug.replace("-", " ").title())
    for position, (title, spec) in enumerate(criteria):
        free = not isinstance(spec, list)
        best = Decimal(spec) if free else max(Decimal(p) for _, p, _ in spec)
        criterion = Criterion.objects.create(
            rubric=rubric, position=position, title=title, max_points=best
        )
        for at, (name, points, description) in enumerate([] if free else spec):
            Level.objects.create(
                criterion=criterion,
                position=at,
                title=name,
                points=Decimal(points),
                description=description,
            )
    return rubric


def slot_of(
    course: Any, key: str, title: str, on: date, holders: dict[str, list[AbstractUser]]
) -> tuple[PresentationSlot, dict[str, SlotRole]]:
    """A paper's slot with the course's four roles, held by ``holders`` (by role)."""
    paper = Paper.objects.create(
        course=course, key=key, title=title, authors="K. He et al.", year=2016,
        url=f"https://papers.example.org/{key}", week=5,
    )  # fmt: skip
    slot = PresentationSlot.objects.create(paper=paper, date=on)
    roles = {}
    for position, (role, minutes) in enumerate(ROLES.items()):
        roles[role] = SlotRole.objects.create(
            slot=slot, role=role, minutes=minutes, position=position
        )
        for student in holders.get(role, []):
            Presenter.objects.create(slot=slot, slot_role=roles[role], student_id=student.pk)
    return slot, roles


def scoring_setup(personas: Personas) -> Scoring:
    """The midterm (100 points) with a 20-point rubric: Correctness by level (0, 5, 10) and
    Clarity in free points up to 10. The presentation item (10 points) whose slot on ResNet has
    Overview held by Carol and Erin, Strengths by Frank and Weaknesses by Gina, each role with a
    5-point rubric of its own."""
    course = personas.course
    erin, frank, gina = (
        make_member(course, name, Role.STUDENT) for name in ("erin", "frank", "gina")
    )
    exams = GradeCategory.objects.create(course=course, name="Midterm", weight=0, position=1)
    midterm = GradeItem.objects.create(
        course=course, category=exams, slug="midterm", title="Midterm", max_points=100
    )
    rubric = rubric_of(
        course,
        "midterm",
        [
            (
                "Correctness",
                [
                    ("Poor", "0", "The approach does not work."),
                    ("Fair", "5", "Right idea, wrong details."),
                    ("Good", "10", "Complete and correct."),
                ],
            ),
            ("Clarity", "10"),
        ],
    )
    rubric.items.add(midterm)
    talks = GradeCategory.objects.create(course=course, name="Presentations", weight=0, position=2)
    presentation = GradeItem.objects.create(
        course=course, category=talks, slug="presentation", title="Paper presentation",
        max_points=10,
    )  # fmt: skip
    PresentationPolicy.objects.create(course=course, item=presentation)
    for position, role in enumerate(["overview", "strengths", "weaknesses"]):
        levels = [
            ("Weak", "0", f"The {role} misses the point."),
            ("Solid", "3", f"A sound {role}."),
            ("Excellent", "5", f"An {role} the class will remember."),
        ]
        RolePlan.objects.create(
            course=course,
            role=role,
            minutes=ROLES[role],
            position=position,
            rubric=rubric_of(course, f"{role}-talk", [(role.title(), levels)]),
        )
    holders = {"overview": [personas.carol, erin], "strengths": [frank], "weaknesses": [gina]}
    slot, roles = slot_of(course, "resnet", "Deep Residual Learning", date(2024, 11, 5), holders)
    correctness, clarity = rubric.criteria.order_by("position")
    return Scoring(
        personas, erin, frank, gina, midterm, correctness, clarity, presentation, slot, roles
    )


@pytest.fixture
def scoring(personas: Personas) -> Scoring:
    return scoring_setup(personas)


def evaluate(
    s: Scoring, grader: AbstractUser, user: AbstractUser, level: str, clarity: str
) -> None:
    """``grader``'s evaluation of ``user``'s midterm."""
    evaluation_save(
        item=s.midterm,
        subject=s.student(user),
        grader=grader,
        marks=[
            MarkInput(s.correctness.pk, level_id=s.level(s.correctness, level).pk),
            MarkInput(s.clarity.pk, points=Decimal(clarity)),
        ],
    )


def midterm_form(s: Scoring, level: str, clarity: str, **extra: str) -> dict[str, Any]:
    return {
        f"level-{s.correctness.pk}": s.level(s.correctness, level).pk,
        f"points-{s.clarity.pk}": clarity,
        f"comment-{s.correctness.pk}": extra.pop("correctness_comment", ""),
        f"comment-{s.clarity.pk}": "",
        "comment": extra.pop("comment", ""),
        "action": extra.pop("action", "save"),
    }


def role_form(s: Scoring, role: str, level: str | None, comment: str = "") -> dict[str, Any]:
    subject = s.roles[role].subject
    plan = RolePlan.objects.get(course=s.personas.course, role=role)
    assert plan.rubric is not None
    criterion = plan.rubric.criteria.get()
    prefix = subject.replace(":", "-")
    chosen = criterion.levels.get(title=level).pk if level else ""
    return {
        f"{prefix}-level-{criterion.pk}": chosen,
        f"{prefix}-comment-{criterion.pk}": comment,
        f"{prefix}-comment": "",
    }


def together_url(s: Scoring, *roles: str) -> str:
    query = "&".join(f"subject={s.roles[role].subject}" for role in roles)
    return f"{s.course_url}/scoring/presentation/together/?{query}"


def score_of(item: GradeItem, user: AbstractUser) -> Score | None:
    return Score.objects.filter(item=item, student_id=user.pk).first()


def points_of(item: GradeItem, user: AbstractUser) -> Decimal | None:
    return Score.objects.get(item=item, student_id=user.pk).points


class _Element(HTMLParser):
    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident, self.depth = ident, 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.depth and dict(attrs).get("id") != self.ident:
            return
        self.parts.append(self.get_starttag_text() or "")
        self.depth += tag not in VOID

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.parts.append(f"</{tag}>")
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(html.escape(data))


def element_html(response: Any, ident: str) -> str:
    parser = _Element(ident)
    parser.feed(response.content.decode())
    assert parser.parts, f"no element #{ident} on the page"
    return "".join(parser.parts)


def element_text(response: Any, ident: str) -> str:
    return page_text(SimpleNamespace(content=element_html(response, ident).encode()))


def checked(page: str, level: Level) -> bool:
    return re.search(rf'<input type="radio"[^>]*value="{level.pk}"[^>]*checked', page) is not None


# Who sees what.

STAFF_PAGES = [
    "scoring/",
    "scoring/midterm/",
    "scoring/midterm/student:{carol}/",
    "scoring/presentation/together/?subject=role:{overview}",
    "rubric-disagreements/",
]


def staff_page(s: Scoring, page: str) -> str:
    ids = {"carol": s.personas.carol.pk, "overview": s.roles["overview"].pk}
    return f"{s.course_url}/{page.format(**ids)}"


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_it_shows_the_scoring_pages_to_the_instructor_and_the_ta(scoring, page):
    for user in (scoring.personas.alice, scoring.personas.bob):
        assert logged_in(user).get(staff_page(scoring, page)).status_code == 200


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_it_answers_404_to_a_student_and_to_a_student_of_another_course(scoring, page):
    for user in (scoring.personas.carol, scoring.personas.dave):
        assert logged_in(user).get(staff_page(scoring, page)).status_code == 404


@pytest.mark.parametrize("page", [*STAFF_PAGES, "evaluations/", "evaluations/midterm/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(scoring, page):
    response = Client().get(staff_page(scoring, page))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_answers_404_for_an_item_no_rubric_scores_and_for_work_of_another_kind(scoring):
    bob = logged_in(scoring.personas.bob)
    overview = scoring.roles["overview"].subject
    assert bob.get(f"{scoring.course_url}/scoring/quiz/").status_code == 404
    assert bob.get(scoring.evaluate_url(scoring.midterm, overview)).status_code == 404
    dave = f"student:{scoring.personas.dave.pk}"
    assert bob.get(scoring.evaluate_url(scoring.midterm, dave)).status_code == 404
    qa = scoring.roles["qa"].subject
    assert bob.get(scoring.evaluate_url(scoring.presentation, qa)).status_code == 404


# The queue and an item's work.


def test_it_counts_each_item_s_work_unscored_mine_and_per_grader(scoring):
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Good", "8")
    evaluate(scoring, scoring.personas.alice, scoring.erin, "Fair", "6")
    response = logged_in(scoring.personas.bob).get(f"{scoring.course_url}/scoring/")
    assert response.status_code == 200
    row = element_html(response, "item-midterm")
    assert element_text(response, "item-midterm").startswith("Midterm")
    numbers = re.findall(r'<td class="number (works|unscored|mine)">(\d+)</td>', row)
    # Four students wrote the midterm; Bob and Alice evaluated one each.
    assert dict(numbers) == {"works": "4", "unscored": "2", "mine": "1"}
    assert "alice: 1, bob: 1" in element_text(response, "item-midterm")
    # The next unscored is Frank's: the students come in username order.
    assert f'href="{scoring.evaluate_url(scoring.midterm, scoring.student(scoring.frank))}"' in row
    presentation = element_html(response, "item-presentation")
    assert re.findall(r'class="number works">(\d+)<', presentation) == ["3"]
    assert "item-quiz" not in response.content.decode()


def test_it_counts_the_disagreements_and_links_them(scoring):
    evaluate(scoring, scoring.personas.alice, scoring.personas.carol, "Good", "10")
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Fair", "5")
    response = logged_in(scoring.personas.bob).get(f"{scoring.course_url}/scoring/")
    link = element_html(response, "disagreements")
    assert f'href="{scoring.course_url}/rubric-disagreements/"' in link
    assert element_text(response, "disagreements") == "Disagreements: 1"


def test_it_lists_an_item_s_work_with_its_state_and_filters_the_unscored(scoring):
    evaluate(scoring, scoring.personas.alice, scoring.personas.carol, "Good", "10")
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Good", "9")
    bob = logged_in(scoring.personas.bob)
    response = bob.get(f"{scoring.course_url}/scoring/midterm/")
    rows = element_text(response, "works")
    assert "carol evaluated by alice, bob 19.50 / 20" in rows
    assert "erin unscored" in rows
    assert element_text(response, "counts").startswith("4 works, 3 unscored, 1 evaluated by you")
    unscored = element_text(
        bob.get(f"{scoring.course_url}/scoring/midterm/?show=unscored"), "works"
    )
    assert "carol" not in unscored and all(n in unscored for n in ("erin", "frank", "gina"))


# One piece of work.


def test_it_saves_an_evaluation_from_the_form_and_the_score_follows(scoring):
    carol = scoring.personas.carol
    url = scoring.evaluate_url(scoring.midterm, scoring.student(carol))
    data = midterm_form(scoring, "Good", "7.5", correctness_comment="Every step is right.")
    response = logged_in(scoring.personas.bob).post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    evaluation = RubricEvaluation.objects.get(item=scoring.midterm, subject=scoring.student(carol))
    assert (evaluation.grader, evaluation.points) == (scoring.personas.bob, Decimal("17.50"))
    score = score_of(scoring.midterm, carol)
    assert score is not None
    # 17.5 of the rubric's 20 points are 87.5 of the midterm's 100.
    assert (score.points, score.source) == (Decimal("87.50"), ScoreSource.RUBRIC)


def test_it_fills_the_form_with_the_grader_s_own_evaluation(scoring):
    carol = scoring.personas.carol
    evaluate(scoring, scoring.personas.bob, carol, "Fair", "6.25")
    evaluate(scoring, scoring.personas.alice, carol, "Good", "10")
    url = scoring.evaluate_url(scoring.midterm, scoring.student(carol))
    page = logged_in(scoring.personas.bob).get(url).content.decode()
    form = page[
        page.index('id="evaluation"') : page.index("</form>", page.index('id="evaluation"'))
    ]
    assert checked(form, scoring.level(scoring.correctness, "Fair"))
    assert not checked(form, scoring.level(scoring.correctness, "Good"))
    assert 'value="6.25"' in form


def test_it_saves_and_goes_on_to_the_next_unscored_work(scoring):
    evaluate(scoring, scoring.personas.alice, scoring.erin, "Good", "10")
    url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.personas.carol))
    data = midterm_form(scoring, "Good", "9", action="next")
    response = logged_in(scoring.personas.bob).post(url, data)
    # Erin's is evaluated already: Frank's is next.
    next_url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.frank))
    assert response.status_code == 302 and response["Location"] == next_url


def test_it_goes_back_to_the_item_when_every_work_is_evaluated(scoring):
    for user in (scoring.erin, scoring.frank, scoring.gina):
        evaluate(scoring, scoring.personas.alice, user, "Good", "10")
    url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.personas.carol))
    response = logged_in(scoring.personas.bob).post(
        url, midterm_form(scoring, "Good", "9", action="next")
    )
    assert response["Location"] == f"{scoring.course_url}/scoring/midterm/"


def test_it_shows_the_refusal_and_keeps_what_was_typed(scoring):
    carol = scoring.personas.carol
    url = scoring.evaluate_url(scoring.midterm, scoring.student(carol))
    data = midterm_form(
        scoring, "Good", "12", correctness_comment="Typed with care.", comment="Well argued."
    )
    response = logged_in(scoring.personas.bob).post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "&#x27;Clarity&#x27; takes 0 to 10.00 points" in page
    assert checked(page, scoring.level(scoring.correctness, "Good"))
    assert 'value="12"' in page and "Typed with care." in page and "Well argued." in page
    assert not RubricEvaluation.objects.exists() and score_of(scoring.midterm, carol) is None


def test_it_asks_for_a_level_of_each_criterion(scoring):
    url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.personas.carol))
    data = {**midterm_form(scoring, "Good", "4"), f"level-{scoring.correctness.pk}": ""}
    response = logged_in(scoring.personas.bob).post(url, data)
    assert "Choose one of the levels of &#x27;Correctness&#x27;." in response.content.decode()
    assert not RubricEvaluation.objects.exists()


def test_it_refuses_points_that_are_not_a_number(scoring):
    url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.personas.carol))
    response = logged_in(scoring.personas.bob).post(url, midterm_form(scoring, "Good", "lots"))
    assert response.status_code == 200 and "Enter a number." in response.content.decode()
    assert not RubricEvaluation.objects.exists()


def test_it_shows_the_work_the_rubric_levels_and_the_other_graders_evaluations(scoring):
    overview = scoring.roles["overview"].subject
    evaluation_save(
        item=scoring.presentation,
        subject=overview,
        grader=scoring.personas.alice,
        marks=[MarkInput(c.pk, level_id=c.levels.get(title="Solid").pk, comment="Clear slides.")
               for c in Criterion.objects.filter(rubric__slug="overview-talk")],
        comment="A fine start.",
    )  # fmt: skip
    response = logged_in(scoring.personas.bob).get(
        scoring.evaluate_url(scoring.presentation, overview)
    )
    text = page_text(response)
    assert "resnet on Nov 05: Overview (carol, erin)" in text
    assert (
        "Overview, 14 minutes" in text
        and "https://papers.example.org/resnet" in response.content.decode()
    )
    assert "Excellent · 5 points An overview the class will remember." in text
    others = element_text(response, "others")
    assert (
        "alice: 3" in others and "Solid · 3 Clear slides." in others and "A fine start." in others
    )


def test_it_links_the_previous_and_the_next_work(scoring):
    url = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.erin))
    page = logged_in(scoring.personas.bob).get(url).content.decode()
    previous = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.personas.carol))
    following = scoring.evaluate_url(scoring.midterm, scoring.student(scoring.frank))
    assert f'rel="prev" href="{previous}"' in page and f'rel="next" href="{following}"' in page


# Several pieces of work on one page.


def test_it_saves_a_slot_s_three_roles_together(scoring):
    url = together_url(scoring, "overview", "strengths", "weaknesses")
    data = {
        **role_form(scoring, "overview", "Excellent", "Carried the room."),
        **role_form(scoring, "strengths", "Solid"),
        **role_form(scoring, "weaknesses", "Weak"),
    }
    response = logged_in(scoring.personas.bob).post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    points = {
        user.username: points_of(scoring.presentation, user)
        for user in (scoring.personas.carol, scoring.erin, scoring.frank, scoring.gina)
    }
    assert points == {"carol": 10, "erin": 10, "frank": 6, "gina": 0}
    comment = RubricEvaluation.objects.get(subject=scoring.roles["overview"].subject).marks.get()
    assert comment.comment == "Carried the room."


def test_it_saves_none_of_the_works_when_one_is_refused(scoring):
    url = together_url(scoring, "overview", "strengths", "weaknesses")
    data = {
        **role_form(scoring, "overview", "Excellent", "Carried the room."),
        **role_form(scoring, "strengths", None, "Forgot the level."),
        **role_form(scoring, "weaknesses", "Weak"),
    }
    response = logged_in(scoring.personas.bob).post(url, data)
    assert response.status_code == 200
    assert not RubricEvaluation.objects.exists() and not Score.objects.exists()
    assert "Nothing is saved" in element_text(response, "nothing-saved")
    strengths = f"sheet-{scoring.roles['strengths'].subject.replace(':', '-')}"
    assert "Choose one of the levels of 'Strengths'." in element_text(response, strengths)
    assert "Forgot the level." in element_text(response, strengths)
    overview = element_html(
        response, f"sheet-{scoring.roles['overview'].subject.replace(':', '-')}"
    )
    excellent = Level.objects.get(criterion__rubric__slug="overview-talk", title="Excellent")
    assert checked(overview, excellent) and "Carried the room." in overview
    assert "Choose one of the levels" not in overview


def test_it_answers_404_to_together_without_work_or_with_work_of_another_item(scoring):
    bob = logged_in(scoring.personas.bob)
    base = f"{scoring.course_url}/scoring/presentation/together/"
    assert bob.get(base).status_code == 404
    carol = scoring.student(scoring.personas.carol)
    assert (
        bob.get(f"{base}?subject={scoring.roles['overview'].subject}&subject={carol}").status_code
        == 404
    )


# One member's share.


def test_it_adjusts_one_member_s_share_and_lists_it(scoring):
    overview = scoring.roles["overview"].subject
    evaluation_save(
        item=scoring.presentation,
        subject=overview,
        grader=scoring.personas.alice,
        marks=[MarkInput(c.pk, level_id=c.levels.get(title="Solid").pk)
               for c in Criterion.objects.filter(rubric__slug="overview-talk")],
    )  # fmt: skip
    url = scoring.evaluate_url(scoring.presentation, overview)
    bob = logged_in(scoring.personas.bob)
    data = {"action": "adjust", "student": scoring.erin.pk, "points": "-1.5", "reason": "Absent."}
    response = bob.post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    adjustment = MemberAdjustment.objects.get()
    assert (adjustment.student, adjustment.points) == (scoring.erin, Decimal("-1.5"))
    assert points_of(scoring.presentation, scoring.erin) == Decimal("4.50")
    assert points_of(scoring.presentation, scoring.personas.carol) == 6
    assert "erin -1.50 Absent. bob" in element_text(bob.get(url), "adjustment-list")


def test_it_shows_the_refusal_of_an_adjustment_and_keeps_the_reason(scoring):
    url = scoring.evaluate_url(scoring.presentation, scoring.roles["overview"].subject)
    data = {"action": "adjust", "student": scoring.erin.pk, "points": "25", "reason": "Did it all."}
    response = logged_in(scoring.personas.bob).post(url, data)
    assert response.status_code == 200
    form = element_text(response, "adjust-form")
    assert "Adjust by at most 10.00 points, in hundredths." in form
    assert 'value="Did it all."' in element_html(response, "adjust-form")
    assert not MemberAdjustment.objects.exists()


def test_it_offers_no_adjustment_on_one_student_s_work(scoring):
    url = scoring.evaluate_url(scoring.presentation, scoring.roles["strengths"].subject)
    assert 'id="adjust-form"' not in logged_in(scoring.personas.bob).get(url).content.decode()


# Disagreements.


def test_it_lists_only_the_work_on_which_graders_differ_by_more_than_the_margin(scoring):
    alice, bob, carol = scoring.personas.alice, scoring.personas.bob, scoring.personas.carol
    evaluate(scoring, alice, carol, "Good", "10")
    evaluate(scoring, bob, carol, "Fair", "4")
    # 1 point of 20 is 5%, within the course's 10%.
    evaluate(scoring, alice, scoring.erin, "Good", "10")
    evaluate(scoring, bob, scoring.erin, "Good", "9")
    response = logged_in(bob).get(f"{scoring.course_url}/rubric-disagreements/")
    found = element_text(response, "disagreement-1")
    assert found.startswith("Midterm: carol Totals: alice 20, bob 9 of 20 points.")
    assert "Correctness / 10 Good · 10 Fair · 5 5" in found
    assert f'href="{scoring.evaluate_url(scoring.midterm, scoring.student(carol))}"' in (
        element_html(response, "disagreement-1")
    )
    assert 'id="disagreement-2"' not in response.content.decode()


def test_it_follows_the_course_s_margin(scoring):
    RubricPolicy.objects.create(course=scoring.personas.course, disagreement_percent=Decimal(50))
    evaluate(scoring, scoring.personas.alice, scoring.personas.carol, "Good", "10")
    # 9 points of 20 apart: 45%.
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Fair", "6")
    response = logged_in(scoring.personas.bob).get(f"{scoring.course_url}/rubric-disagreements/")
    assert "No graders disagree." in page_text(response)


# A student's evaluations.


def test_it_shows_a_student_nothing_before_the_release(scoring):
    carol = scoring.personas.carol
    evaluate(scoring, scoring.personas.bob, carol, "Good", "8")
    client = logged_in(carol)
    listing = client.get(f"{scoring.course_url}/evaluations/")
    assert "No evaluation of your work is released yet." in page_text(listing)
    response = client.get(f"{scoring.course_url}/evaluations/midterm/")
    assert element_text(response, "not-released") == (
        "The evaluation of Midterm is not released yet."
    )
    assert "Complete and correct." not in page_text(response)


def test_it_shows_a_student_the_released_evaluation_criterion_by_criterion(scoring):
    carol = scoring.personas.carol
    evaluation_save(
        item=scoring.midterm,
        subject=scoring.student(carol),
        grader=scoring.personas.bob,
        marks=[
            MarkInput(
                scoring.correctness.pk,
                level_id=scoring.level(scoring.correctness, "Good").pk,
                comment="Every step is right.",
            ),
            MarkInput(scoring.clarity.pk, points=Decimal("7.5"), comment="Dense in places."),
        ],
        comment="A strong exam.",
    )
    item_release(item=scoring.midterm, released=True)
    client = logged_in(carol)
    listing = client.get(f"{scoring.course_url}/evaluations/")
    assert element_text(listing, "evaluated-items") == "Midterm 1 evaluation of your work"
    response = client.get(f"{scoring.course_url}/evaluations/midterm/")
    shown = element_text(response, "evaluation-1")
    assert "Total: 17.50 of 20 points" in shown
    assert "Correctness Good Complete and correct. 10 / 10 Every step is right." in shown
    assert "Clarity — 7.50 / 10 Dense in places." in shown
    assert "Overall comment: A strong exam." in shown and "bob" not in shown
    assert element_text(response, "item-points") == "Your points on Midterm 87.50 of 100"


def test_it_names_the_grader_when_the_course_says_so(scoring):
    RubricPolicy.objects.create(course=scoring.personas.course, show_grader_names=True)
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Good", "8")
    item_release(item=scoring.midterm, released=True)
    response = logged_in(scoring.personas.carol).get(f"{scoring.course_url}/evaluations/midterm/")
    assert "evaluated by bob" in element_text(response, "evaluation-1")


def test_it_shows_a_student_only_their_own_work(scoring):
    evaluate(scoring, scoring.personas.bob, scoring.personas.carol, "Good", "8")
    item_release(item=scoring.midterm, released=True)
    response = logged_in(scoring.erin).get(f"{scoring.course_url}/evaluations/midterm/")
    assert "No evaluation of your work on Midterm has been recorded." in page_text(response)
    assert 'id="evaluation-1"' not in response.content.decode()


def test_it_sends_staff_from_the_student_pages_to_the_scoring_pages(scoring):
    alice = logged_in(scoring.personas.alice)
    assert alice.get(f"{scoring.course_url}/evaluations/")["Location"] == (
        f"{scoring.course_url}/scoring/"
    )
    assert alice.get(f"{scoring.course_url}/evaluations/midterm/")["Location"] == (
        f"{scoring.course_url}/scoring/midterm/"
    )


def test_it_answers_404_to_a_student_of_another_course(scoring):
    dave = logged_in(scoring.personas.dave)
    assert dave.get(f"{scoring.course_url}/evaluations/").status_code == 404
    assert dave.get(f"{scoring.course_url}/evaluations/midterm/").status_code == 404


# The course page.


def test_it_links_staff_to_scoring_and_students_to_their_evaluations(scoring):
    course = f"{scoring.course_url}/"
    staff = logged_in(scoring.personas.bob).get(course).content.decode()
    student = logged_in(scoring.personas.carol).get(course).content.decode()
    assert f'href="{scoring.course_url}/scoring/"' in staff
    assert f'href="{scoring.course_url}/evaluations/"' not in staff
    assert f'href="{scoring.course_url}/evaluations/"' in student
    assert f'href="{scoring.course_url}/scoring/"' not in student


# Reads that do not grow with the work.


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["scoring/", "scoring/midterm/"])
def test_it_reads_a_listing_in_queries_that_do_not_grow_with_the_evaluations(scoring, page):
    alice, bob = scoring.personas.alice, scoring.personas.bob
    client, url = logged_in(bob), f"{scoring.course_url}/{page}"
    evaluate(scoring, alice, scoring.personas.carol, "Good", "10")
    evaluate(scoring, bob, scoring.personas.carol, "Poor", "1")
    few = queries(client, url)
    for user in (scoring.erin, scoring.frank, scoring.gina):
        evaluate(scoring, alice, user, "Good", "10")
        evaluate(scoring, bob, user, "Poor", "1")
    assert queries(client, url) == few
