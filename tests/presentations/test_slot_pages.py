"""The staff's side of the presentations page: the slots with their presenters, pins and scoring,
a link that scores a slot's roles on one page, and the forms that assign, place (pin), unpin,
remove and swap presenters, each refused with the rule it would break; tried by the instructor,
the TA, a student, a student of another course and an anonymous visitor."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import AbstractUser, User
from django.test import Client

from grading.models import Criterion
from grading.rubrics import MarkInput, evaluation_save
from presentations.models import BlockedWeek, Presenter, SlotRole
from tests.coursesite.test_pages import logged_in, page_text
from tests.grading.test_scoring_pages import (
    Scoring,
    element_html,
    element_text,
    queries,
    scoring_setup,
    slot_of,
    together_url,
)
from tests.presentations.conftest import Papers, paper, slot


def schedule(papers: Papers) -> str:
    return f"/courses/{papers.course.slug}/presentations/"


def action(papers: Papers, tail: str) -> str:
    return f"{schedule(papers)}presenters/{tail}"


def role_of(key: str, role: str) -> SlotRole:
    return SlotRole.objects.select_related("slot__paper").get(slot__paper__key=key, role=role)


def presenter(username: str, key: str) -> Presenter:
    return Presenter.objects.get(student__username=username, slot__paper__key=key)


def holders(papers: Papers) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """Each presenting role's presenters with their pins, by paper key and role."""
    found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    rows = Presenter.objects.filter(slot__paper__course=papers.course).select_related(
        "student", "slot_role__slot__paper"
    )
    for row in rows.order_by("slot_role__slot__paper__key", "slot_role__position", "student"):
        place = (row.slot_role.slot.paper.key, row.slot_role.role)
        found.setdefault(place, []).append((row.student.username, row.pinned))
    return found


def posted(client: Client, url: str, data: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    """POST, follow the redirect back to the schedule, and return the page with its messages
    (level and text)."""
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, "the form did not go back to the schedule"
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    return response, shown


def on_top(response: Any, text: str) -> bool:
    """The text is shown in the messages above the page's heading."""
    page = response.content.decode()
    messages = page[page.index('<ul class="messages"') : page.index("<h1>")]
    return text in re.sub(r"\s+", " ", messages).replace("&quot;", '"').replace("&#x27;", "'")


# Who may do what.

ACTIONS = ["assign/", "place/", "swap/", "{carol}/unpin/", "{carol}/remove/"]


def action_url(papers: Papers, tail: str) -> str:
    return action(papers, tail.format(carol=presenter("carol", "alexnet").pk))


@pytest.mark.parametrize("who", ["alice", "bob"])
@pytest.mark.parametrize("tail", ACTIONS)
def test_it_lets_the_instructor_and_the_ta_act_and_goes_back_to_the_schedule(papers, tail, who):
    response = logged_in(getattr(papers.personas, who)).post(action_url(papers, tail), {})
    assert response.status_code == 302
    assert response["Location"].startswith(schedule(papers))


@pytest.mark.parametrize("tail", ACTIONS)
def test_it_answers_404_to_a_student_and_to_a_student_of_another_course(papers, tail):
    url = action_url(papers, tail)
    for user in (papers.carol, papers.personas.dave):
        assert logged_in(user).post(url, {}).status_code == 404
    assert holders(papers)[("alexnet", "overview")] == [("carol", False), ("frank", False)]


@pytest.mark.parametrize("tail", ACTIONS)
def test_it_sends_an_anonymous_visitor_to_the_login_page(papers, tail):
    response = Client().post(action_url(papers, tail), {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("tail", ACTIONS)
def test_it_takes_changes_only_as_posts(papers, tail):
    assert logged_in(papers.personas.bob).get(action_url(papers, tail)).status_code == 405


def test_it_refuses_a_post_without_the_csrf_token_and_puts_the_token_in_every_form(papers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(papers.personas.bob)
    page = client.get(schedule(papers)).content.decode()
    forms = re.findall(r'<form method="post" action="[^"]*/presenters/.*?</form>', page, re.S)
    # Assign, swap, a place form per slot, and a pin and a remove per presenter (four).
    assert len(forms) == 2 + 2 + 2 * 4
    assert all("csrfmiddlewaretoken" in form for form in forms)
    url = action(papers, f"{presenter('carol', 'alexnet').pk}/remove/")
    assert client.post(url, {}).status_code == 403
    assert presenter("carol", "alexnet")


def test_it_shows_a_student_the_schedule_without_the_staff_s_forms(papers):
    response = logged_in(papers.carol).get(schedule(papers))
    page = response.content.decode()
    assert "Assign presenters" not in page and "/presenters/" not in page
    assert "Score the roles" not in page and "pinned" not in page
    assert 'id="paper-alexnet" class="mine"' in page and 'id="paper-dropout" class="mine"' in page
    assert 'id="paper-resnet">' in page


# The schedule as staff see it.


def test_it_shows_staff_each_role_s_presenters_with_their_pins_and_forms(papers):
    Presenter.objects.filter(student__username="frank").update(pinned=True)
    response = logged_in(papers.personas.bob).get(schedule(papers))
    row = element_text(response, "paper-alexnet")
    assert "Overview (14 min): carol Pin Remove frank pinned Unpin Remove" in row
    assert "Strengths (8 min): Erin Yilmaz Pin Remove" in row
    assert "Weaknesses (8 min): not assigned yet" in row
    assert "Questions and answers (10 min): the whole class" in row
    place = element_html(response, "place-role-alexnet")
    assert [int(pk) for pk in re.findall(r'value="(\d+)"', place)] == [
        role_of("alexnet", role).pk for role in ("overview", "strengths", "weaknesses")
    ]
    students = element_text(response, "place-student-alexnet")
    assert students == "carol (carol) Erin Yilmaz (erin) frank (frank)"
    swap = element_text(response, "swap-first")
    assert (
        "carol (carol): alexnet, Overview" in swap and "carol (carol): dropout, Weaknesses" in swap
    )
    # The course has no presentation item yet: nothing to score.
    assert "no graded item for its paper presentations" in element_text(response, "no-item")
    assert "Score the roles" not in page_text(response) and "unscored" not in page_text(response)
    assert "replace the assignment" in element_text(response, "assign-form").lower()


def test_it_shows_staff_the_schedule_of_a_course_without_a_presentation_policy(papers):
    papers.policy.delete()
    response = logged_in(papers.personas.bob).get(schedule(papers))
    assert "Empty: the course's seed, 0." in element_text(response, "assign-form")
    assert "at least 1 presenter;" in element_text(response, "assign")
    assert 'id="no-item"' in response.content.decode()


def test_it_asks_for_no_replacement_before_the_first_assignment(papers):
    Presenter.objects.all().delete()
    response = logged_in(papers.personas.bob).get(schedule(papers))
    assert 'name="replace"' not in element_html(response, "assign-form")
    assert 'id="swap"' not in response.content.decode()


# Assigning.


def test_it_assigns_the_presenters_when_there_are_none_yet(papers):
    Presenter.objects.all().delete()
    response, shown = posted(logged_in(papers.personas.alice), action(papers, "assign/"), {})
    assert shown == [
        (
            "success",
            "Assigned the presenters with seed 0: 6 places filled, 0 pinned places kept; "
            "each student presents 2 times.",
        )
    ]
    groups = holders(papers)
    assert len(groups) == 6 and all(len(names) == 1 for names in groups.values())
    assert on_top(response, "Assigned the presenters with seed 0")


def test_it_asks_before_it_replaces_an_assignment_and_changes_nothing(papers):
    before = holders(papers)
    response, shown = posted(logged_in(papers.personas.bob), action(papers, "assign/"), {})
    assert shown == [
        (
            "error",
            "No presenters were assigned: the slots have presenters already. Tick "
            '"replace the assignment" to replace every presenter who is not pinned.',
        )
    ]
    assert on_top(response, "the slots have presenters already") and holders(papers) == before


def test_it_replaces_the_assignment_and_keeps_the_pinned_places(papers):
    Presenter.objects.filter(student__username="frank").update(pinned=True)
    data = {"replace": "1", "seed": "7"}
    _, shown = posted(logged_in(papers.personas.bob), action(papers, "assign/"), data)
    assert shown[0][1].startswith("Assigned the presenters with seed 7: 5 places filled, 1 pinned")
    groups = holders(papers)
    assert ("frank", True) in groups[("alexnet", "overview")]
    assert sum(len(names) for names in groups.values()) == 6


def test_it_shows_why_no_assignment_is_possible_and_changes_nothing(papers):
    for student in (papers.carol, papers.erin, papers.frank):
        BlockedWeek.objects.create(course=papers.course, student=student, week=5)
    before = holders(papers)
    response, shown = posted(
        logged_in(papers.personas.bob), action(papers, "assign/"), {"replace": "1"}
    )
    assert shown == [
        (
            "error",
            "No presenters were assigned: only 0 students are free to present in week 5, but "
            "the 3 roles of alexnet need at least 3.",
        )
    ]
    assert on_top(response, "only 0 students are free") and holders(papers) == before


def test_it_refuses_a_seed_that_is_not_a_whole_number(papers):
    data = {"replace": "1", "seed": "-1"}
    _, shown = posted(logged_in(papers.personas.bob), action(papers, "assign/"), data)
    assert shown == [
        ("error", "No presenters were assigned: Ensure this value is greater than or equal to 0.")
    ]


# Placing, unpinning and removing.


def place(papers: Papers, student: User | AbstractUser, key: str, role: str) -> Any:
    data = {"student": student.pk, "role": role_of(key, role).pk}
    return posted(logged_in(papers.personas.bob), action(papers, "place/"), data)


def test_it_places_a_student_in_a_role_pinned(papers):
    response, shown = place(papers, papers.erin, "dropout", "overview")
    assert response.redirect_chain[-1][0] == f"{schedule(papers)}#paper-dropout"
    assert shown == [
        (
            "success",
            "Placed and pinned Erin Yilmaz in the overview of The dropout paper: a new "
            "assignment keeps them there.",
        )
    ]
    assert holders(papers)[("dropout", "overview")] == [("erin", True)]
    assert "Overview (14 min): Erin Yilmaz pinned Unpin Remove" in element_text(
        response, "paper-dropout"
    )


def test_it_pins_a_presenter_in_place_and_unpins_them(papers):
    carol = presenter("carol", "alexnet")
    _, shown = place(papers, papers.carol, "alexnet", "overview")
    assert shown[0] == (
        "success",
        "Pinned carol in the overview of The alexnet paper: a new assignment keeps them there.",
    )
    assert Presenter.objects.get(pk=carol.pk).pinned
    _, shown = posted(logged_in(papers.personas.alice), action(papers, f"{carol.pk}/unpin/"), {})
    assert shown == [
        (
            "success",
            "Unpinned carol in the overview of The alexnet paper: a new assignment may move them.",
        )
    ]
    assert not Presenter.objects.get(pk=carol.pk).pinned


def test_it_removes_a_presenter(papers):
    erin = presenter("erin", "alexnet")
    _, shown = posted(logged_in(papers.personas.bob), action(papers, f"{erin.pk}/remove/"), {})
    assert shown == [
        (
            "success",
            "Removed Erin Yilmaz from the strengths of The alexnet paper; a new assignment "
            "fills the place.",
        )
    ]
    assert not Presenter.objects.filter(pk=erin.pk).exists()


def test_it_refuses_a_second_role_in_a_slot_naming_the_rule(papers):
    response, shown = place(papers, papers.carol, "alexnet", "strengths")
    assert shown == [
        (
            "error",
            "carol was not placed: carol holds both the overview and the strengths of alexnet: "
            "a student holds one role per slot.",
        )
    ]
    assert on_top(response, "a student holds one role per slot")
    assert holders(papers)[("alexnet", "strengths")] == [("erin", False)]


def test_it_refuses_the_same_role_twice_in_a_row_naming_the_rule(papers):
    _, shown = place(papers, papers.erin, "dropout", "strengths")
    assert shown == [
        (
            "error",
            "Erin Yilmaz was not placed: erin holds the strengths of alexnet and then of dropout, "
            "two presentations in a row: a student never holds the same role in two "
            "presentations in a row.",
        )
    ]
    assert ("dropout", "strengths") not in holders(papers)


def test_it_refuses_a_blocked_week_naming_the_rule(papers):
    BlockedWeek.objects.create(course=papers.course, student=papers.frank, week=6)
    _, shown = place(papers, papers.frank, "dropout", "strengths")
    assert shown == [
        (
            "error",
            "frank was not placed: frank presents in dropout in week 6, a week they are "
            "blocked: a student never presents in a week they are blocked.",
        )
    ]


def test_it_refuses_presenters_of_questions_and_answers(papers):
    _, shown = place(papers, papers.frank, "dropout", "qa")
    assert shown == [
        (
            "error",
            "frank was not placed: the questions and answers belong to the whole class; only "
            "overview, strengths, weaknesses have presenters.",
        )
    ]


def test_it_refuses_to_place_someone_who_is_not_a_student_of_the_course(papers):
    _, shown = place(papers, papers.personas.bob, "dropout", "overview")
    assert shown == [
        (
            "error",
            "Nobody was placed: Choose a student of the course: a presenter is a student of "
            "the course.",
        )
    ]
    assert ("dropout", "overview") not in holders(papers)


def test_it_answers_404_for_a_presenter_or_role_of_another_course(papers):
    other = papers.personas.other_course
    dave = papers.personas.dave
    vgg = slot(paper(other, "vgg", 5, None), date(2024, 11, 8), {"overview": [dave]})
    theirs = Presenter.objects.get(slot=vgg)
    bob = logged_in(papers.personas.bob)
    assert bob.post(action(papers, f"{theirs.pk}/unpin/"), {}).status_code == 404
    assert bob.post(action(papers, f"{theirs.pk}/remove/"), {}).status_code == 404
    _, shown = posted(
        bob, action(papers, "place/"), {"student": papers.erin.pk, "role": theirs.slot_role_id}
    )
    assert shown == [("error", "Nobody was placed: Choose a role of one of the course's slots.")]
    assert Presenter.objects.filter(slot=vgg).count() == 1


# Swapping.


def swap(papers: Papers, first: Presenter, second: Presenter) -> Any:
    data = {"first": first.pk, "second": second.pk}
    return posted(logged_in(papers.personas.bob), action(papers, "swap/"), data)


def test_it_swaps_two_presenters_and_pins_both(papers):
    _, shown = swap(papers, presenter("frank", "alexnet"), presenter("erin", "alexnet"))
    assert shown == [
        (
            "success",
            "Swapped frank (the overview of The alexnet paper) and Erin Yilmaz (the strengths "
            "of The alexnet paper); both are pinned now.",
        )
    ]
    groups = holders(papers)
    assert groups[("alexnet", "overview")] == [("carol", False), ("erin", True)]
    assert groups[("alexnet", "strengths")] == [("frank", True)]


def test_it_refuses_a_swap_naming_the_rule_and_changes_nothing(papers):
    before = holders(papers)
    response, shown = swap(papers, presenter("erin", "alexnet"), presenter("carol", "dropout"))
    assert shown == [
        (
            "error",
            "Nothing was swapped: carol holds both the overview and the strengths of alexnet: "
            "a student holds one role per slot.",
        )
    ]
    assert on_top(response, "Nothing was swapped") and holders(papers) == before


def test_it_refuses_to_swap_a_presenter_with_themselves(papers):
    carol = presenter("carol", "alexnet")
    _, shown = swap(papers, carol, carol)
    assert shown == [
        ("error", "Nothing was swapped: A student cannot swap places with themselves.")
    ]


# Scoring the roles (the presentation item of ``tests.grading.test_scoring_pages``).


@pytest.fixture
def scoring(personas) -> Scoring:
    return scoring_setup(personas)


def staff_schedule(scoring: Scoring) -> str:
    return f"{scoring.course_url}/presentations/"


def evaluate_role(scoring: Scoring, role: str, grader: AbstractUser, level: str) -> None:
    evaluation_save(
        item=scoring.presentation,
        subject=scoring.roles[role].subject,
        grader=grader,
        marks=[MarkInput(c.pk, level_id=c.levels.get(title=level).pk)
               for c in Criterion.objects.filter(rubric__slug=f"{role}-talk")],
    )  # fmt: skip


def test_it_lists_each_slot_with_its_roles_presenters_scoring_and_a_link_to_score_them(scoring):
    evaluate_role(scoring, "strengths", scoring.personas.alice, "Solid")
    response = logged_in(scoring.personas.bob).get(staff_schedule(scoring))
    row = element_text(response, "paper-resnet")
    assert row.startswith("Tue 5 Nov 2024 5 Deep Residual Learning")
    assert "Overview (14 min) · unscored: carol Pin Remove erin Pin Remove" in row
    assert "Strengths (8 min) · evaluated by alice: frank Pin Remove" in row
    assert "Weaknesses (8 min) · unscored: gina Pin Remove" in row
    assert "Questions and answers (10 min): the whole class" in row
    link = together_url(scoring, "overview", "strengths", "weaknesses").replace("&", "&amp;")
    assert f'href="{link}"' in element_html(response, "paper-resnet")
    assert 'id="no-item"' not in response.content.decode()


def test_it_scores_only_the_roles_that_have_presenters(scoring):
    Presenter.objects.filter(slot_role=scoring.roles["weaknesses"]).delete()
    response = logged_in(scoring.personas.bob).get(staff_schedule(scoring))
    link = together_url(scoring, "overview", "strengths").replace("&", "&amp;")
    assert f'href="{link}"' in element_html(response, "paper-resnet")
    assert "Weaknesses (8 min): not assigned yet Questions" in element_text(
        response, "paper-resnet"
    )


def test_it_flags_a_role_on_which_the_graders_disagree(scoring):
    evaluate_role(scoring, "overview", scoring.personas.alice, "Excellent")
    evaluate_role(scoring, "overview", scoring.personas.bob, "Weak")
    response = logged_in(scoring.personas.bob).get(staff_schedule(scoring))
    assert "Overview (14 min) · evaluated by alice, bob graders disagree: carol" in element_text(
        response, "paper-resnet"
    )


def test_it_links_the_scoring_page_to_the_presentation_slots(scoring):
    page = logged_in(scoring.personas.bob).get(f"{scoring.course_url}/scoring/")
    assert f'href="{staff_schedule(scoring)}">Presentation slots</a>' in page.content.decode()
    assert (
        logged_in(scoring.personas.bob).get(f"{scoring.course_url}/scoring/slots/").status_code
        == 404
    )


def test_it_reads_the_staff_s_schedule_in_queries_that_do_not_grow_with_slots_or_evaluations(
    scoring,
):
    client, url = logged_in(scoring.personas.bob), staff_schedule(scoring)
    evaluate_role(scoring, "weaknesses", scoring.personas.alice, "Weak")
    one = queries(client, url)
    holders = {"overview": [scoring.gina], "strengths": [scoring.personas.carol, scoring.erin]}
    slot_of(
        scoring.personas.course, "vit", "An Image is Worth 16x16 Words", date(2024, 11, 7), holders
    )
    evaluate_role(scoring, "overview", scoring.personas.alice, "Solid")
    evaluate_role(scoring, "strengths", scoring.personas.bob, "Solid")
    response = client.get(url)
    assert "Overview (14 min) · unscored: gina Pin Remove" in element_text(response, "paper-vit")
    assert queries(client, url) == one


def test_it_shows_the_pages_to_the_instructor_and_the_ta_and_the_student_view_to_students(
    scoring,
):
    for user in (scoring.personas.alice, scoring.personas.bob):
        assert "Score the roles" in page_text(logged_in(user).get(staff_schedule(scoring)))
    carol = logged_in(scoring.personas.carol).get(staff_schedule(scoring))
    assert carol.status_code == 200 and "Score the roles" not in page_text(carol)
    assert logged_in(scoring.personas.dave).get(staff_schedule(scoring)).status_code == 404
