"""A project's title and abstract: members describe it until the term ends, staff at any time,
through the group API and from the deliverable's hand-in page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from coursesite.errors import ApplicationError
from coursesite.groups import group_project_describe
from coursesite.models import ProjectGroup, Role
from tests.conftest import make_member
from tests.coursesite.test_pages import logged_in, page_text
from tests.submissions.conftest import HandIns

TITLE = "Sparse attention for long videos"
ABSTRACT = "We make attention sparse,\nso that an hour of video fits in memory."


@pytest.fixture
def project(handins: HandIns) -> HandIns:
    """The hand-in fixtures in a course whose term ends in a month."""
    term_ends(handins, days=30)
    return handins


def term_ends(handins: HandIns, *, days: int) -> None:
    course = handins.personas.course
    course.starts_on = timezone.localdate() - timedelta(days=90)
    course.ends_on = timezone.localdate() + timedelta(days=days)
    course.save(update_fields=["starts_on", "ends_on"])


def api(handins: HandIns, group: ProjectGroup | None = None) -> str:
    course = handins.personas.course.slug
    return f"/api/v1/courses/{course}/groups/{(group or handins.group).pk}/"


def patch(handins: HandIns, user, **data):
    return handins.personas.client(user).patch(api(handins), data, format="json")


def saved(handins: HandIns) -> tuple[str, str]:
    group = ProjectGroup.objects.get(pk=handins.group.pk)
    return group.title, group.abstract


# The service.


def test_it_lets_a_member_describe_the_project(project):
    group_project_describe(group=project.group, by=project.erin, title=TITLE, abstract=ABSTRACT)
    assert saved(project) == (TITLE, ABSTRACT)


def test_it_trims_the_title_and_abstract(project):
    group_project_describe(
        group=project.group, by=project.erin, title=f"  {TITLE} ", abstract=f"\n{ABSTRACT}\n"
    )
    assert saved(project) == (TITLE, ABSTRACT)


def test_it_refuses_a_member_once_the_term_has_ended(project):
    term_ends(project, days=-1)
    with pytest.raises(ApplicationError, match="ask the course staff") as refused:
        group_project_describe(group=project.group, by=project.erin, title=TITLE, abstract="")
    assert refused.value.status == 403
    assert saved(project) == ("", "")


def test_it_lets_staff_describe_any_groups_project_after_the_term(project):
    term_ends(project, days=-1)
    group_project_describe(
        group=project.group, by=project.personas.bob, title=TITLE, abstract=ABSTRACT
    )
    assert saved(project) == (TITLE, ABSTRACT)


def test_it_refuses_a_student_of_another_group(project):
    frank = make_member(project.personas.course, "frank", Role.STUDENT)
    with pytest.raises(ApplicationError, match="Only members of the group") as refused:
        group_project_describe(group=project.group, by=frank, title=TITLE, abstract="")
    assert refused.value.status == 403


@pytest.mark.parametrize(
    ("title", "abstract", "problem"),
    [
        ("x" * 301, "", "The title is 301 characters long; keep it to 300."),
        ("", "x" * 5001, "The abstract is 5001 characters long; keep it to 5000."),
    ],
)
def test_it_refuses_a_title_or_abstract_over_its_limit(project, title, abstract, problem):
    with pytest.raises(ApplicationError) as refused:
        group_project_describe(group=project.group, by=project.erin, title=title, abstract=abstract)
    assert (refused.value.message, refused.value.status) == (problem, 400)


def test_it_takes_a_title_and_abstract_at_their_limits(project):
    group_project_describe(
        group=project.group, by=project.erin, title="t" * 300, abstract="a" * 5000
    )
    assert saved(project) == ("t" * 300, "a" * 5000)


# The API.


@pytest.mark.parametrize("who", ["carol", "alice", "bob"])
def test_it_describes_the_project_for_a_member_and_for_staff(project, who):
    answer = patch(project, getattr(project.personas, who), title=TITLE, abstract=ABSTRACT)
    assert answer.status_code == 200
    assert (answer.json()["title"], answer.json()["abstract"]) == (TITLE, ABSTRACT)
    assert saved(project) == (TITLE, ABSTRACT)


def test_it_keeps_what_a_patch_leaves_out(project):
    patch(project, project.erin, title=TITLE, abstract=ABSTRACT)
    answer = patch(project, project.erin, title="A new title")
    assert answer.status_code == 200
    assert saved(project) == ("A new title", ABSTRACT)


def test_it_shows_the_title_and_abstract_in_the_group_list_and_the_group(project):
    patch(project, project.erin, title=TITLE, abstract=ABSTRACT)
    client = project.personas.client(project.personas.carol)
    course = project.personas.course.slug
    listed = client.get(f"/api/v1/courses/{course}/groups/").json()
    assert [(g["name"], g["title"], g["abstract"]) for g in listed] == [
        ("Group 1", TITLE, ABSTRACT)
    ]
    one = client.get(api(project)).json()
    assert (one["title"], [m["username"] for m in one["members"]]) == (TITLE, ["carol", "erin"])


def test_it_answers_404_to_a_student_outside_the_group_and_to_an_outsider(project):
    frank = make_member(project.personas.course, "frank", Role.STUDENT)
    for user in (frank, project.personas.dave):
        assert patch(project, user, title=TITLE).status_code == 404
        assert project.personas.client(user).get(api(project)).status_code == 404
    assert saved(project) == ("", "")


def test_it_answers_401_to_an_anonymous_caller(project):
    assert patch(project, None, title=TITLE).status_code == 401


def test_it_answers_403_to_a_member_after_the_term_but_lets_staff(project):
    term_ends(project, days=-1)
    refused = patch(project, project.erin, title=TITLE)
    assert refused.status_code == 403
    assert "ask the course staff" in refused.json()["detail"]
    assert patch(project, project.personas.alice, title=TITLE).status_code == 200


def test_it_answers_400_for_a_title_over_300_characters(project):
    answer = patch(project, project.erin, title="x" * 301)
    assert answer.status_code == 400
    assert "title" in answer.json()
    assert saved(project) == ("", "")


# The page.


def handin_page(handins: HandIns) -> str:
    course = handins.personas.course.slug
    return f"/courses/{course}/deliverables/{handins.deliverable.pk}/"


def project_page(handins: HandIns) -> str:
    return f"/courses/{handins.personas.course.slug}/groups/{handins.group.pk}/project/"


def test_it_shows_the_project_on_the_deliverables_page(project):
    group_project_describe(group=project.group, by=project.erin, title=TITLE, abstract=ABSTRACT)
    text = page_text(logged_in(project.personas.carol).get(handin_page(project)))
    assert (
        f"Your project Group Group 1 Title {TITLE} Abstract {ABSTRACT.replace(chr(10), ' ')}"
        in (text)
    )
    assert "Edit the title and abstract" in text


def test_it_saves_the_project_from_the_page_and_goes_back(project):
    client = logged_in(project.erin)
    answer = client.post(
        project_page(project),
        {"title": TITLE, "abstract": ABSTRACT, "next": handin_page(project)},
        follow=True,
    )
    assert answer.redirect_chain == [(handin_page(project), 302)]
    assert saved(project) == (TITLE, ABSTRACT)
    assert "Saved the title and abstract of Group 1's project." in page_text(answer)


def test_it_goes_back_to_the_work_page_rather_than_another_site(project):
    answer = logged_in(project.erin).post(
        project_page(project), {"title": TITLE, "abstract": "", "next": "https://evil.example/"}
    )
    assert answer["Location"] == f"/courses/{project.personas.course.slug}/work/"
    assert saved(project) == (TITLE, "")


def test_it_says_on_the_page_why_a_title_is_refused(project):
    answer = logged_in(project.erin).post(
        project_page(project),
        {"title": "x" * 301, "abstract": "", "next": handin_page(project)},
        follow=True,
    )
    assert "Keep the title to 300 characters (it has 301)." in page_text(answer)
    assert saved(project) == ("", "")


def test_it_shows_no_form_after_the_term_and_says_why(project):
    group_project_describe(group=project.group, by=project.erin, title=TITLE, abstract="")
    term_ends(project, days=-1)
    text = page_text(logged_in(project.erin).get(handin_page(project)))
    assert f"Title {TITLE}" in text
    assert "Edit the title and abstract" not in text
    assert "ask the course staff to change the project's title or abstract" in text


def test_it_answers_404_to_a_student_posting_for_another_group(project):
    frank = make_member(project.personas.course, "frank", Role.STUDENT)
    answer = logged_in(frank).post(project_page(project), {"title": TITLE, "abstract": ""})
    assert answer.status_code == 404
    assert saved(project) == ("", "")


def test_it_takes_no_get_and_sends_an_anonymous_visitor_to_log_in(project):
    assert logged_in(project.erin).get(project_page(project)).status_code == 405
    answer = Client().post(project_page(project), {"title": TITLE})
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert saved(project) == ("", "")


def test_it_lets_staff_describe_a_project_from_the_page(project):
    answer = logged_in(project.personas.alice).post(
        project_page(project), {"title": TITLE, "abstract": ABSTRACT}
    )
    assert answer.status_code == 302
    assert saved(project) == (TITLE, ABSTRACT)
