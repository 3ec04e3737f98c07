"""Grade passback to the LMS (Assignment and Grade Services), against the test platform over real
HTTP: released items only, line items created once and found again by resource id, each
student's score with the right values, only what changed, and the Celery task's retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import LtiContext, LtiDeployment, LtiMembership, LtiUser

from coursesite.celery import app
from coursesite.gradebook.selectors import gradebook_read
from coursesite.models import GradeCategory, GradeItem, Membership, Role, ScoreSource
from coursesite.services import score_record
from lms.lms_client import AGS_SCOPES
from lms.models import CourseLink, LineItemLink, ScoreSent
from lms.passback import FINAL_RESOURCE_ID, scores_post
from lms.roster import roster_sync
from lms.services import course_link_create
from lms.tasks import MAX_RETRIES, lms_scores_post
from tests.conftest import Personas, celery_broker, make_member
from tests.lms.conftest import link_course
from tests.lms.platform import Platform


@dataclass
class Course:
    personas: Personas
    link: CourseLink
    erin: User
    a1: GradeItem  # released
    a2: GradeItem  # not released
    quiz: GradeItem  # released; Erin is excused


def score(item: GradeItem, student: User, points: str | None, **options: Any) -> None:
    score_record(
        item=item,
        student=student,
        points=Decimal(points) if points is not None else None,
        source=ScoreSource.MANUAL,
        changed_by=None,
        reason="graded",
        **options,
    )


@pytest.fixture
def course(platform: Platform, personas: Personas) -> Course:
    course = personas.course
    assignments = GradeCategory.objects.create(course=course, name="Assignments", weight=60)
    GradeCategory.objects.filter(course=course, name="Quizzes").update(weight=40)
    a1 = GradeItem.objects.create(
        course=course, category=assignments, slug="a1", title="A1: MLP", max_points=100,
        released=True, due_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    a2 = GradeItem.objects.create(
        course=course, category=assignments, slug="a2", title="A2: CNN", max_points=100,
        due_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    quiz = personas.quiz
    GradeItem.objects.filter(pk=quiz.pk).update(released=True)
    quiz.refresh_from_db()
    erin = make_member(course, "erin", Role.STUDENT)
    carol = personas.carol
    # Carol's A1 carries a late penalty, already inside her recorded points.
    score(a1, carol, "76.50", comment="Late by a day: 10% off.", late_penalty_percent=Decimal(10))
    score(a2, carol, "90")
    score(quiz, carol, "8")
    score(a1, erin, "95")
    score(quiz, erin, None, excused=True)
    registration = platform.registration
    LtiUser.objects.create(registration=registration, sub="lms-carol", auth_user=carol)
    LtiUser.objects.create(registration=registration, sub="lms-erin", auth_user=erin)
    return Course(
        personas,
        link_course(platform, personas.course, linked_by=personas.alice),
        erin,
        a1,
        a2,
        quiz,
    )


def line_item_of(platform: Platform, resource_id: str) -> dict[str, Any]:
    (found,) = [i for i in platform.line_items.values() if i.get("resourceId") == resource_id]
    return found


def posted(platform: Platform, resource_id: str) -> dict[str, dict[str, Any]]:
    """The scores posted to a line item, the latest per LMS user."""
    return {
        s["userId"]: s for s in platform.scores.get(line_item_of(platform, resource_id)["id"], [])
    }


def score_posts(platform: Platform) -> list[Any]:
    return [
        request
        for request in platform.received_matching("POST", platform.lineitems_url + "/")
        if request.path.endswith("/scores")
    ]


def test_it_posts_only_released_items(course: Course, platform: Platform) -> None:
    result = scores_post(link=course.link)

    assert (result.errors, result.stopped_by) == ([], None)
    assert {item["resourceId"] for item in platform.line_items.values()} == {
        "coursesite:item:a1",
        "coursesite:item:quiz",
        FINAL_RESOURCE_ID,
    }
    # Nothing of A2 reached the LMS, not even a question about it.
    for request in platform.received:
        assert "coursesite:item:a2" not in f"{request.query} {request.body}"
        assert "A2: CNN" not in str(request.body)
    assert not LineItemLink.objects.filter(item=course.a2).exists()


def test_it_creates_line_items_with_the_items_title_and_maximum(
    course: Course, platform: Platform
) -> None:
    scores_post(link=course.link)

    a1 = line_item_of(platform, "coursesite:item:a1")
    assert (a1["label"], a1["scoreMaximum"], a1["tag"]) == ("A1: MLP", 100, "coursesite")
    row = LineItemLink.objects.get(item=course.a1)
    assert (row.url, row.resource_id, row.last_error) == (a1["id"], "coursesite:item:a1", "")
    assert row.last_sent_at is not None and row.last_attempt_at is not None
    assert line_item_of(platform, FINAL_RESOURCE_ID)["scoreMaximum"] == 100


def test_it_posts_each_students_score_with_the_right_values(
    course: Course, platform: Platform
) -> None:
    scores_post(link=course.link)

    carol = posted(platform, "coursesite:item:a1")["lms-carol"]
    assert carol["scoreGiven"] == 76.5  # the late penalty once, as the gradebook counts it
    assert carol["scoreMaximum"] == 100
    assert carol["comment"] == "Late by a day: 10% off."
    assert (carol["activityProgress"], carol["gradingProgress"]) == ("Completed", "FullyGraded")
    assert carol["timestamp"]
    assert posted(platform, "coursesite:item:a1")["lms-erin"]["scoreGiven"] == 95
    # Erin is excused from the quiz: her LMS cell stays empty.
    assert set(posted(platform, "coursesite:item:quiz")) == {"lms-carol"}
    assert posted(platform, "coursesite:item:quiz")["lms-carol"]["scoreGiven"] == 8
    sent = ScoreSent.objects.get(line_item__item=course.a1, student=course.personas.carol)
    assert (sent.score_given, sent.score_maximum, sent.answer_status) == (
        Decimal("76.50"),
        Decimal(100),
        200,
    )


def test_it_posts_the_course_total_the_students_see(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)

    book = gradebook_read(course=course.personas.course, released_only=True)
    totals = {row.student.username: row.grade.current for row in book.rows}
    final = posted(platform, FINAL_RESOURCE_ID)
    assert final["lms-carol"]["scoreGiven"] == float(totals["carol"])
    assert final["lms-erin"]["scoreGiven"] == float(totals["erin"])
    assert final["lms-carol"]["scoreMaximum"] == 100


def test_it_leaves_out_the_total_when_the_course_says_so(
    course: Course, platform: Platform
) -> None:
    CourseLink.objects.filter(pk=course.link.pk).update(post_final_grade=False)
    course.link.refresh_from_db()

    scores_post(link=course.link)

    assert FINAL_RESOURCE_ID not in {i["resourceId"] for i in platform.line_items.values()}


def test_it_posts_to_students_the_lms_knows_only(course: Course, platform: Platform) -> None:
    # Dave is no student of the course; a dropped student's grades stay where they were.
    Membership.objects.filter(user=course.erin).update(active=False)

    scores_post(link=course.link)

    assert set(posted(platform, "coursesite:item:a1")) == {"lms-carol"}


def test_it_sends_nothing_the_second_time(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)
    items = dict(platform.line_items)
    platform.received.clear()

    result = scores_post(link=course.link)

    assert (result.sent, result.created, result.errors) == (0, 0, [])
    assert score_posts(platform) == []
    assert platform.received_matching("POST", platform.lineitems_url) == []
    assert platform.line_items == items
    # The access token was kept from the first run.
    assert platform.received_matching("POST", platform.token_url) == []


def test_it_finds_its_line_items_by_resource_id(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)
    items = dict(platform.line_items)
    # Another copy of coursesite (a restored backup) knows no line item.
    LineItemLink.objects.all().delete()
    platform.received.clear()

    scores_post(link=course.link)

    assert platform.line_items == items
    lookups = platform.received_matching("GET", platform.lineitems_url)
    assert "coursesite:item:a1" in {request.query.get("resource_id") for request in lookups}
    assert [
        r for r in platform.received if r.method == "POST" and r.path.endswith("lineitems")
    ] == []
    assert (
        LineItemLink.objects.get(item=course.a1).url
        == line_item_of(platform, "coursesite:item:a1")["id"]
    )


def test_it_makes_a_new_line_item_where_the_lms_lost_one(
    course: Course, platform: Platform
) -> None:
    scores_post(link=course.link)
    old = line_item_of(platform, "coursesite:item:a1")["id"]
    platform.line_items.pop(old)

    scores_post(link=course.link)

    new = line_item_of(platform, "coursesite:item:a1")["id"]
    assert new != old
    # Every score is sent again to the new column.
    assert {s["userId"] for s in platform.scores[new]} == {"lms-carol", "lms-erin"}


def test_it_updates_a_line_item_whose_item_changed(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)
    GradeItem.objects.filter(pk=course.a1.pk).update(title="A1: Multilayer perceptron")

    scores_post(link=course.link)

    assert line_item_of(platform, "coursesite:item:a1")["label"] == "A1: Multilayer perceptron"
    assert len(platform.line_items) == 3


def test_it_sends_exactly_the_score_that_changed(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)
    platform.received.clear()
    score(course.quiz, course.personas.carol, "9.5", comment="Regraded: question 3.")

    result = scores_post(link=course.link)

    quiz_url = line_item_of(platform, "coursesite:item:quiz")["id"]
    final_url = line_item_of(platform, FINAL_RESOURCE_ID)["id"]
    sent = [(r.path, r.body["userId"], r.body["scoreGiven"]) for r in score_posts(platform)]
    # The quiz score, and Carol's course total that moved with it.
    assert sorted(sent) == sorted(
        [
            (quiz_url.removeprefix(platform.issuer) + "/scores", "lms-carol", 9.5),
            (
                final_url.removeprefix(platform.issuer) + "/scores",
                "lms-carol",
                posted(platform, FINAL_RESOURCE_ID)["lms-carol"]["scoreGiven"],
            ),
        ]
    )
    assert result.sent == 2
    assert posted(platform, "coursesite:item:quiz")["lms-carol"]["comment"] == (
        "Regraded: question 3."
    )


def test_it_withdraws_a_score_that_became_excused(course: Course, platform: Platform) -> None:
    scores_post(link=course.link)
    score(course.a1, course.erin, None, excused=True)

    scores_post(link=course.link)

    erin = posted(platform, "coursesite:item:a1")["lms-erin"]
    assert "scoreGiven" not in erin
    assert erin["gradingProgress"] == "NotReady"
    assert ScoreSent.objects.get(line_item__item=course.a1, student=course.erin).score_given is None


def test_it_keeps_an_lms_refusal_on_the_item_and_sends_the_rest(
    course: Course, platform: Platform
) -> None:
    platform.fail_next("POST", platform.lineitems_url + "/", status=422)

    result = scores_post(link=course.link)

    assert result.stopped_by is None
    (failed,) = LineItemLink.objects.exclude(last_error="")
    assert "422" in failed.last_error
    # Every other score reached the LMS; the refused one goes on the next run.
    assert ScoreSent.objects.count() == 4
    scores_post(link=course.link)
    assert ScoreSent.objects.count() == 5
    assert LineItemLink.objects.exclude(last_error="").count() == 0


def test_it_stops_when_the_lms_is_unreachable(course: Course, platform: Platform) -> None:
    platform.close()

    result = scores_post(link=course.link)

    assert result.stopped_by is not None and result.stopped_by.transient
    assert ScoreSent.objects.count() == 0


def test_it_asks_for_a_new_token_when_the_lms_forgot_one(
    course: Course, platform: Platform
) -> None:
    scores_post(link=course.link)
    platform.revoke_tokens()
    score(course.quiz, course.personas.carol, "10")

    result = scores_post(link=course.link)

    assert (result.sent, result.errors) == (2, [])
    tokens = platform.received_matching("POST", platform.token_url)
    assert len(tokens) == 2
    assert set(tokens[0].body["scope"].split()) == set(AGS_SCOPES)


# The task


def test_it_retries_after_the_lms_fails_and_then_sends(course: Course, platform: Platform) -> None:
    platform.fail_next("POST", platform.lineitems_url + "/", status=503)

    outcome = lms_scores_post.apply(args=[course.link.pk])

    assert outcome.successful()
    assert len([r for r in score_posts(platform)]) == 6  # five scores and the one refused
    assert ScoreSent.objects.count() == 5
    assert LineItemLink.objects.exclude(last_error="").count() == 0
    platform.received.clear()
    # A second run after success sends nothing.
    assert lms_scores_post.apply(args=[course.link.pk]).successful()
    assert score_posts(platform) == []


def test_it_retries_after_too_many_requests(course: Course, platform: Platform) -> None:
    platform.fail_next("POST", platform.lineitems_url, status=429, times=2)

    outcome = lms_scores_post.apply(args=[course.link.pk])

    assert outcome.successful()
    assert ScoreSent.objects.count() == 5


def test_it_gives_up_after_a_few_tries(course: Course, platform: Platform) -> None:
    platform.fail_next("GET", platform.lineitems_url, status=502, times=100)

    outcome = lms_scores_post.apply(args=[course.link.pk])

    assert outcome.failed()
    lookups = platform.received_matching("GET", platform.lineitems_url)
    assert len(lookups) == MAX_RETRIES + 1
    assert "502" in LineItemLink.objects.get(item=course.a1).last_error


def test_it_never_retries_a_refusal(course: Course, platform: Platform) -> None:
    platform.fail_next("POST", platform.lineitems_url, status=403, times=100)

    outcome = lms_scores_post.apply(args=[course.link.pk])

    assert outcome.successful()
    creates = [r for r in platform.received if r.method == "POST" and r.path.endswith("lineitems")]
    assert len(creates) == 3  # each column tried once, in one run
    assert LineItemLink.objects.filter(last_error__contains="403").count() == 3


# The staff's page


def test_it_shows_each_items_column_and_sends_grades_on_commit(
    course: Course, platform: Platform, django_capture_on_commit_callbacks: Any
) -> None:
    scores_post(link=course.link)
    client = Client()
    client.force_login(course.personas.bob)
    slug = course.personas.course.slug

    page = client.get(reverse("lms-staff", args=[slug])).content.decode()

    a1_url = line_item_of(platform, "coursesite:item:a1")["id"]
    assert a1_url in page
    assert f'id="column-{course.link.pk}-a2"' in page and "no: not sent" in page
    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(reverse("lms-grades-send", args=[slug, course.link.pk]))
    assert answer.status_code == 302
    assert len(callbacks) == 1
    # Sent on commit, to the housekeeping queue, with the link's id only.
    with celery_broker("memory://", {}):
        callbacks[0]()
        with app.connection_for_read() as connection:
            message = connection.SimpleQueue("housekeeping").get(timeout=5)
            message.ack()
    assert message.headers["task"] == "lms.tasks.lms_scores_post"
    assert message.payload[0] == [course.link.pk]
    student = Client()
    student.force_login(course.personas.carol)
    with django_capture_on_commit_callbacks() as callbacks:
        refused = student.post(reverse("lms-grades-send", args=[slug, course.link.pk]))
    assert (refused.status_code, callbacks) == (404, [])


def test_it_shows_the_page_in_the_same_queries_however_much_it_lists(
    course: Course, platform: Platform
) -> None:
    client = Client()
    client.force_login(course.personas.alice)
    url = reverse("lms-staff", args=[course.personas.course.slug])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    scores_post(link=course.link)
    roster_sync(link=course.link, run_by=None, dry_run=True)
    roster_sync(link=course.link, run_by=None, dry_run=True)
    for number in range(3):
        item = GradeItem.objects.create(
            course=course.personas.course, category=course.a1.category, slug=f"r{number}",
            title=f"Review {number}", max_points=5, released=True,
        )  # fmt: skip
        score(item, course.personas.carol, "4")

    assert queries() == few


def test_it_says_how_many_students_grades_cannot_reach(course: Course, platform: Platform) -> None:
    make_member(course.personas.course, "heidi", Role.STUDENT)
    client = Client()
    client.force_login(course.personas.alice)

    page = client.get(reverse("lms-staff", args=[course.personas.course.slug])).content.decode()

    assert f'id="unreached-{course.link.pk}">1 active student cannot' in page


def test_it_posts_to_the_students_each_linked_lms_course_lists(
    course: Course, platform: Platform
) -> None:
    # A second LMS course (COMP441) is linked too: only the students this one lists get grades.
    with Platform(context_id="lms-441") as undergraduate:
        undergraduate.register()
        other = LtiContext.objects.create(
            deployment=LtiDeployment.objects.get(registration=undergraduate.registration),
            id_on_platform=undergraduate.context_id,
            lineitems_url=undergraduate.lineitems_url,
        )
        course_link_create(
            context=other, course=course.personas.course, linked_by=course.personas.alice
        )
        carol = LtiUser.objects.get(sub="lms-carol")
        LtiMembership.objects.create(context=course.link.context, user=carol, is_learner=True)

        scores_post(link=course.link)

    assert set(posted(platform, "coursesite:item:a1")) == {"lms-carol"}
    assert undergraduate.received == []
