"""The peer contribution survey: when it takes answers, what an answer must be, who reads the
results, the API, the pages, and the course file's ``peer_survey``."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import Course, GroupMembership, ProjectGroup, Role
from grading.models import MemberAdjustment
from submissions.models import ContributionRating, Deliverable
from submissions.survey import ratings_submit, survey_results, survey_window
from tests.conftest import make_member
from tests.coursesite.test_course_file_errors import SMALL_COURSE
from tests.coursesite.test_pages import logged_in, page_text
from tests.submissions.conftest import HandIns


@dataclass
class Survey:
    """Group 1 (Carol, Erin, Frank) and Group 2 (Gina, alone) of a course whose term ends in a
    month; the proposal, with a peer survey, was due yesterday."""

    handins: HandIns
    deliverable: Deliverable
    frank: User
    gina: User

    @property
    def carol(self) -> User:
        return self.handins.personas.carol

    @property
    def erin(self) -> User:
        return self.handins.erin

    def answer(self, rater: User, ratings: dict[User, tuple[int, str]], **extra):
        return ratings_submit(
            deliverable=self.deliverable,
            rater=rater,
            ratings={user.pk: value for user, value in ratings.items()},
            **extra,
        )

    def given(self, rater: User) -> dict[str, tuple[int, str]]:
        return {
            r.ratee.username: (r.rating, r.comment)
            for r in ContributionRating.objects.filter(rater=rater).select_related("ratee")
        }


@pytest.fixture
def survey(handins: HandIns) -> Survey:
    course = handins.personas.course
    course.starts_on = timezone.localdate() - timedelta(days=90)
    course.ends_on = timezone.localdate() + timedelta(days=30)
    course.save(update_fields=["starts_on", "ends_on"])
    item = handins.deliverable.item
    item.due_at = timezone.now() - timedelta(days=1)
    item.save(update_fields=["due_at"])
    handins.deliverable.peer_survey = True
    handins.deliverable.save(update_fields=["peer_survey"])
    frank = make_member(course, "frank", Role.STUDENT)
    GroupMembership.objects.create(course=course, group=handins.group, student=frank)
    gina = make_member(course, "gina", Role.STUDENT)
    alone = ProjectGroup.objects.create(course=course, name="Group 2")
    GroupMembership.objects.create(course=course, group=alone, student=gina)
    return Survey(handins, handins.deliverable, frank, gina)


def due(survey: Survey, when: datetime | None) -> None:
    item = survey.deliverable.item
    item.due_at = when
    item.save(update_fields=["due_at"])


# When.


def test_it_opens_at_the_due_date_and_closes_at_the_end_of_the_term(survey):
    course = survey.handins.personas.course
    window = survey_window(survey.deliverable)
    assert window.opens_at == survey.deliverable.item.due_at
    assert window.closes_at == datetime.combine(course.ends_on, time.max, tzinfo=course.tz)


def test_it_takes_no_answer_before_the_due_date(survey):
    due(survey, timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError, match="The survey opens at"):
        survey.answer(survey.carol, {survey.erin: (3, ""), survey.frank: (3, "")})
    assert ContributionRating.objects.count() == 0


def test_it_takes_no_answer_after_the_term(survey):
    closes = survey_window(survey.deliverable).closes_at
    with pytest.raises(ValidationError, match="The survey closed at"):
        survey.answer(
            survey.carol,
            {survey.erin: (3, ""), survey.frank: (3, "")},
            now=closes + timedelta(seconds=1),
        )


def test_it_takes_an_answer_at_the_last_moment_of_the_term(survey):
    closes = survey_window(survey.deliverable).closes_at
    survey.answer(survey.carol, {survey.erin: (3, ""), survey.frank: (3, "")}, now=closes)
    assert survey.given(survey.carol) == {"erin": (3, ""), "frank": (3, "")}


def test_it_never_opens_without_a_due_date(survey):
    due(survey, None)
    with pytest.raises(ValidationError, match="which is not set yet"):
        survey.answer(survey.carol, {survey.erin: (3, ""), survey.frank: (3, "")})


def test_it_takes_no_answer_for_a_deliverable_without_a_survey(survey):
    survey.deliverable.peer_survey = False
    survey.deliverable.save(update_fields=["peer_survey"])
    with pytest.raises(ValidationError, match="has no peer survey"):
        survey.answer(survey.carol, {survey.erin: (3, ""), survey.frank: (3, "")})


# What an answer must be.


def test_it_records_a_rating_and_comment_for_every_other_member(survey):
    survey.answer(survey.carol, {survey.erin: (5, " did the training "), survey.frank: (2, "")})
    assert survey.given(survey.carol) == {"erin": (5, "did the training"), "frank": (2, "")}
    groups = set(ContributionRating.objects.values_list("group__name", flat=True))
    assert groups == {"Group 1"}


def test_it_wants_every_other_member_rated(survey):
    with pytest.raises(ValidationError, match="not rated: frank"):
        survey.answer(survey.carol, {survey.erin: (4, "")})
    assert ContributionRating.objects.count() == 0


def test_it_refuses_a_rating_of_oneself(survey):
    with pytest.raises(ValidationError, match="not yourself"):
        survey.answer(
            survey.carol, {survey.carol: (5, ""), survey.erin: (3, ""), survey.frank: (3, "")}
        )


def test_it_refuses_a_rating_of_someone_outside_the_group(survey):
    with pytest.raises(ValidationError, match="not in it: gina"):
        survey.answer(
            survey.carol, {survey.erin: (3, ""), survey.frank: (3, ""), survey.gina: (1, "")}
        )
    assert ContributionRating.objects.count() == 0


@pytest.mark.parametrize("rating", [0, 6, True, 3.0, "3"])
def test_it_takes_ratings_from_1_to_5_only(survey, rating):
    with pytest.raises(ValidationError, match="Rate erin from 1 to 5"):
        survey.answer(survey.carol, {survey.erin: (rating, ""), survey.frank: (3, "")})


def test_it_refuses_a_comment_over_2000_characters(survey):
    with pytest.raises(ValidationError, match="over 2000 characters"):
        survey.answer(survey.carol, {survey.erin: (3, "x" * 2001), survey.frank: (3, "")})


def test_it_replaces_the_raters_earlier_answer(survey):
    survey.answer(survey.carol, {survey.erin: (1, "absent"), survey.frank: (2, "")})
    survey.answer(survey.erin, {survey.carol: (4, ""), survey.frank: (4, "")})
    survey.answer(survey.carol, {survey.erin: (3, "came back"), survey.frank: (5, "")})
    assert survey.given(survey.carol) == {"erin": (3, "came back"), "frank": (5, "")}
    assert survey.given(survey.erin) == {"carol": (4, ""), "frank": (4, "")}
    assert ContributionRating.objects.count() == 4


def test_it_refuses_a_student_in_no_group_and_one_alone_in_theirs(survey):
    nobody = make_member(survey.handins.personas.course, "hal", Role.STUDENT)
    with pytest.raises(ValidationError, match="Only members of a project group"):
        survey.answer(nobody, {})
    with pytest.raises(ValidationError, match="there is nobody to rate"):
        survey.answer(survey.gina, {})


# The results.


def test_it_shows_staff_each_members_ratings_and_who_has_not_answered(survey):
    survey.answer(survey.carol, {survey.erin: (4, "solid"), survey.frank: (1, "absent")})
    survey.answer(survey.erin, {survey.carol: (5, ""), survey.frank: (2, "late")})
    results = survey_results(survey.deliverable)
    assert [result.group.name for result in results] == ["Group 1", "Group 2"]
    members = {m.student.username: m for m in results[0].members}
    assert [(m.mean, m.count, m.answered) for m in members.values()] == [
        (Decimal("5.00"), 1, True),
        (Decimal("4.00"), 1, True),
        (Decimal("1.50"), 2, False),
    ]
    assert [(r.rater.username, r.rating, r.comment) for r in members["frank"].received] == [
        ("carol", 1, "absent"),
        ("erin", 2, "late"),
    ]
    assert [s.username for s in results[0].not_answered] == ["frank"]
    assert [s.username for s in results[1].not_answered] == ["gina"]
    assert results[1].members[0].mean is None


def more_groups(survey: Survey, count: int) -> None:
    """``count`` more groups of two, each with an answer by its first member."""
    course = survey.handins.personas.course
    for n in range(count):
        group = ProjectGroup.objects.create(course=course, name=f"Group {n + 3}")
        pair = [make_member(course, f"s{n}-{i}", Role.STUDENT) for i in (1, 2)]
        for student in pair:
            GroupMembership.objects.create(course=course, group=group, student=student)
        survey.answer(pair[0], {pair[1]: (3, "")})


def queries_for(read) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return len(queries)


@pytest.mark.parametrize("reader", ["service", "api", "page"])
def test_it_reads_the_results_in_as_many_queries_for_many_groups_as_for_few(survey, reader):
    staff = survey.handins.personas.alice
    read = {
        "service": lambda: [m.mean for r in survey_results(survey.deliverable) for m in r.members],
        "api": lambda: survey.handins.personas.client(staff).get(api(survey, results=True)),
        "page": lambda: logged_in(staff).get(page(survey)),
    }[reader]
    few = queries_for(read)
    more_groups(survey, 3)
    assert queries_for(read) == few


# The API.


def api(survey: Survey, results: bool = False) -> str:
    course = survey.handins.personas.course.slug
    return f"/api/v1/courses/{course}/deliverables/{survey.deliverable.pk}/survey/" + (
        "results/" if results else ""
    )


def put(survey: Survey, user, ratings: list[dict]):
    return survey.handins.personas.client(user).put(
        api(survey), {"ratings": ratings}, format="json"
    )


def test_it_shows_a_student_the_members_to_rate_and_their_answer(survey):
    survey.answer(survey.carol, {survey.erin: (4, "solid"), survey.frank: (3, "")})
    answer = survey.handins.personas.client(survey.carol).get(api(survey))
    assert answer.status_code == 200
    data = answer.json()
    assert (data["deliverable"], data["peer_survey"], data["refusal"], data["group"]) == (
        "proposal",
        True,
        None,
        "Group 1",
    )
    assert [m["username"] for m in data["members"]] == ["erin", "frank"]
    assert [(r["ratee"], r["rating"], r["comment"]) for r in data["ratings"]] == [
        ("erin", 4, "solid"),
        ("frank", 3, ""),
    ]


def test_it_takes_a_students_answer(survey):
    answer = put(
        survey,
        survey.erin,
        [{"ratee": "carol", "rating": 5, "comment": "led"}, {"ratee": "frank", "rating": 2}],
    )
    assert answer.status_code == 200
    assert [(r["ratee"], r["rating"]) for r in answer.json()["ratings"]] == [
        ("carol", 5),
        ("frank", 2),
    ]
    assert survey.given(survey.erin) == {"carol": (5, "led"), "frank": (2, "")}


@pytest.mark.parametrize(
    ("ratings", "problem"),
    [
        ([{"ratee": "carol", "rating": 5}], "not rated: frank"),
        ([{"ratee": "carol", "rating": 5}, {"ratee": "carol", "rating": 4}], "once: carol"),
        ([{"ratee": "erin", "rating": 5}, {"ratee": "carol", "rating": 5}], "not yourself"),
        ([{"ratee": "carol", "rating": 5}, {"ratee": "nobody", "rating": 5}], "not in it: nobody"),
        ([{"ratee": "carol", "rating": 5}, {"ratee": "gina", "rating": 5}], "not in it: gina"),
        ([{"ratee": "carol", "rating": 9}, {"ratee": "frank", "rating": 5}], "less than or equal"),
    ],
)
def test_it_answers_400_for_an_answer_it_refuses(survey, ratings, problem):
    answer = put(survey, survey.erin, ratings)
    assert answer.status_code == 400
    assert problem in str(answer.json())
    assert ContributionRating.objects.count() == 0


def test_it_answers_400_before_the_survey_opens(survey):
    due(survey, timezone.now() + timedelta(days=1))
    ratings = [{"ratee": "carol", "rating": 5}, {"ratee": "frank", "rating": 5}]
    answer = put(survey, survey.erin, ratings)
    assert answer.status_code == 400
    assert "The survey opens at" in str(answer.json())
    state = survey.handins.personas.client(survey.erin).get(api(survey)).json()
    assert state["refusal"].startswith("The survey opens at")


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_it_answers_403_to_staff_on_the_students_side(survey, who):
    client = survey.handins.personas.client(getattr(survey.handins.personas, who))
    assert client.get(api(survey)).status_code == 403
    assert client.put(api(survey), {"ratings": []}, format="json").status_code == 403


def test_it_shows_staff_the_results(survey):
    survey.answer(survey.carol, {survey.erin: (4, "solid"), survey.frank: (1, "absent")})
    client = survey.handins.personas.client(survey.handins.personas.bob)
    answer = client.get(api(survey, results=True))
    assert answer.status_code == 200
    groups = answer.json()["groups"]
    assert [(g["name"], g["not_answered"]) for g in groups] == [
        ("Group 1", ["erin", "frank"]),
        ("Group 2", ["gina"]),
    ]
    frank = groups[0]["members"][2]
    assert (frank["username"], frank["mean"], frank["count"]) == ("frank", "1.00", 1)
    assert [(r["rater"], r["comment"]) for r in frank["ratings"]] == [("carol", "absent")]


def test_it_answers_403_to_a_student_asking_for_the_results(survey):
    answer = survey.handins.personas.client(survey.carol).get(api(survey, results=True))
    assert answer.status_code == 403


def test_it_answers_404_to_an_outsider_and_401_to_an_anonymous_caller(survey):
    dave = survey.handins.personas.client(survey.handins.personas.dave)
    anonymous = survey.handins.personas.client(None)
    for url in (api(survey), api(survey, results=True)):
        assert dave.get(url).status_code == 404
        assert anonymous.get(url).status_code == 401
    assert dave.put(api(survey), {"ratings": []}, format="json").status_code == 404


# The pages.


def page(survey: Survey) -> str:
    course = survey.handins.personas.course.slug
    return f"/courses/{course}/deliverables/{survey.deliverable.pk}/survey/"


def form_of(survey: Survey, ratings: dict[User, tuple[int, str]]) -> dict[str, object]:
    data: dict[str, object] = {}
    for user, (rating, comment) in ratings.items():
        data |= {f"rating_{user.pk}": rating, f"comment_{user.pk}": comment}
    return data


def test_it_shows_a_student_a_form_for_each_other_member(survey):
    text = page_text(logged_in(survey.carol).get(page(survey)))
    assert "erin (erin) erin's contribution" in text
    assert "frank (frank) frank's contribution" in text
    assert "carol's contribution" not in text


def test_it_saves_a_students_answer_from_the_page(survey):
    client = logged_in(survey.carol)
    data = form_of(survey, {survey.erin: (4, "solid"), survey.frank: (2, "")})
    answer = client.post(page(survey), data, follow=True)
    assert answer.redirect_chain == [(page(survey), 302)]
    assert "Your answer to the survey is saved" in page_text(answer)
    assert survey.given(survey.carol) == {"erin": (4, "solid"), "frank": (2, "")}
    assert 'value="4" selected' in answer.content.decode()


def test_it_says_what_is_missing_from_the_form(survey):
    answer = logged_in(survey.carol).post(page(survey), form_of(survey, {survey.erin: (4, "")}))
    assert answer.status_code == 400
    assert "Rate frank's contribution." in page_text(answer)
    assert ContributionRating.objects.count() == 0


def test_it_tells_a_student_when_the_survey_opens_and_shows_no_form(survey):
    due(survey, timezone.now() + timedelta(days=2))
    answer = logged_in(survey.carol).get(page(survey))
    assert "The survey opens at" in page_text(answer)
    assert 'id="survey-form"' not in answer.content.decode()


def test_it_tells_a_student_the_survey_closed_and_shows_their_answer(survey):
    survey.answer(survey.carol, {survey.erin: (4, "solid"), survey.frank: (2, "")})
    course = survey.handins.personas.course
    course.ends_on = timezone.localdate() - timedelta(days=1)
    course.save(update_fields=["ends_on"])
    due(survey, timezone.now() - timedelta(days=5))
    answer = logged_in(survey.carol).get(page(survey))
    text = page_text(answer)
    assert "The survey closed at" in text
    assert "Your answer erin: 4, “solid” frank: 2" in text
    assert 'id="survey-form"' not in answer.content.decode()


def test_it_shows_staff_the_results_table(survey):
    survey.answer(survey.carol, {survey.erin: (4, "solid"), survey.frank: (1, "absent")})
    text = page_text(logged_in(survey.handins.personas.alice).get(page(survey)))
    assert "Group 1 Not answered yet: erin, frank" in text
    assert "frank (frank) 1.00 of 1 carol: 1, “absent”" in text
    assert "Group 2 Not answered yet: gina" in text


def test_it_adjusts_a_members_points_from_the_results(survey):
    alice = survey.handins.personas.alice
    data = {
        "group": survey.handins.group.pk,
        "student": survey.frank.pk,
        "item": survey.deliverable.item.pk,
        "points": "-10",
        "reason": "rated far below a fair share by both group mates",
    }
    answer = logged_in(alice).post(page(survey), data, follow=True)
    assert answer.redirect_chain == [(page(survey), 302)]
    adjustment = MemberAdjustment.objects.get()
    assert (adjustment.subject, adjustment.student, adjustment.points, adjustment.reason) == (
        f"group:{survey.handins.group.pk}",
        survey.frank,
        Decimal("-10.00"),
        "rated far below a fair share by both group mates",
    )
    text = page_text(answer)
    assert "Adjusted frank's points." in text
    assert "Proposal: -10.00 (rated far below a fair share by both group mates)" in text


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"reason": " "}, "Say why this member's points differ from the group's."),
        ({"student": "gina"}, "has no share in Group 1"),
        ({"points": "500"}, "Adjust by at most 100.00 points"),
    ],
)
def test_it_shows_why_an_adjustment_is_refused(survey, change, problem):
    data = {
        "group": survey.handins.group.pk,
        "student": survey.frank.pk,
        "item": survey.deliverable.item.pk,
        "points": "-10",
        "reason": "absent",
    } | change
    if data["student"] == "gina":
        data["student"] = survey.gina.pk
    answer = logged_in(survey.handins.personas.bob).post(page(survey), data)
    assert answer.status_code == 400
    assert problem in page_text(answer)
    assert MemberAdjustment.objects.count() == 0


def test_it_links_the_survey_from_the_deliverables_page_only_when_it_has_one(survey):
    course = survey.handins.personas.course.slug
    deliverable = f"/courses/{course}/deliverables/{survey.deliverable.pk}/"
    for user in (survey.carol, survey.handins.personas.bob):
        html = logged_in(user).get(deliverable).content.decode()
        assert f'href="{page(survey)}"' in html
    survey.deliverable.peer_survey = False
    survey.deliverable.save(update_fields=["peer_survey"])
    assert f'href="{page(survey)}"' not in logged_in(survey.carol).get(deliverable).content.decode()
    assert logged_in(survey.carol).get(page(survey)).status_code == 404


def test_it_answers_404_to_an_outsider_and_sends_an_anonymous_visitor_to_log_in(survey):
    assert logged_in(survey.handins.personas.dave).get(page(survey)).status_code == 404
    answer = Client().get(page(survey))
    assert (answer.status_code, answer["Location"]) == (
        302,
        f"/accounts/login/?next={page(survey)}",
    )


# The course file.


def reread(course: Course) -> Course:
    """The course as a later request reads it (the loaded one holds its new rows' defaults as
    enum members, which a dump of it cannot write)."""
    return Course.objects.get(pk=course.pk)


def small_course(tmp_path: Path, deliverable: dict[str, object], **assignment: object) -> Path:
    """The small course of the course file tests, its proposal and A1 changed."""
    document = copy.deepcopy(SMALL_COURSE)
    document["deliverables"] = [{"item": "proposal", "handin": ["proposal.pdf"], **deliverable}]
    document["assignments"] = [{"item": "a1", "handin": ["mlp.py"], **assignment}]
    path = tmp_path / f"course-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_it_loads_dumps_and_reloads_a_deliverables_peer_survey(tmp_path, db):
    course, _ = course_file_load(path=small_course(tmp_path, {"peer_survey": True}))
    assert Deliverable.objects.get(item__course=course).peer_survey is True
    dumped = course_file_dump(reread(course))
    assert yaml.safe_load(dumped)["deliverables"] == [
        {"item": "proposal", "handin": ["proposal.pdf"], "peer_survey": True}
    ]
    again = tmp_path / "dumped.yaml"
    again.write_text(dumped, encoding="utf-8")
    _, changes = course_file_load(path=again)
    assert not changes.changed


def test_it_writes_no_peer_survey_for_a_deliverable_without_one(tmp_path, db):
    course, _ = course_file_load(path=small_course(tmp_path, {}))
    assert Deliverable.objects.get(item__course=course).peer_survey is False
    dumped = yaml.safe_load(course_file_dump(reread(course)))["deliverables"]
    assert dumped == [{"item": "proposal", "handin": ["proposal.pdf"]}]


def test_it_turns_a_survey_off_when_the_file_no_longer_asks_for_it(tmp_path, db):
    course, _ = course_file_load(path=small_course(tmp_path, {"peer_survey": True}))
    _, changes = course_file_load(path=small_course(tmp_path, {"peer_survey": False}))
    assert changes.updated["deliverables"] == 1
    assert Deliverable.objects.get(item__course=course).peer_survey is False


def test_it_refuses_a_peer_survey_that_is_not_true_or_false(tmp_path, db):
    with pytest.raises(CourseFileError, match=r"deliverables\[0\].peer_survey: expected true or"):
        course_file_load(path=small_course(tmp_path, {"peer_survey": 1}))


def test_it_refuses_a_peer_survey_on_an_assignment(tmp_path, db):
    with pytest.raises(CourseFileError, match=r"assignments\[0\].peer_survey: unknown key"):
        course_file_load(path=small_course(tmp_path, {}, peer_survey=True))
