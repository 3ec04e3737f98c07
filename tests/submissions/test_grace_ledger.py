"""The grace-day ledger of a course, read from the database."""

from __future__ import annotations

from datetime import timedelta

from coursesite.models import GracePolicy
from submissions.selectors import course_policy
from tests.conftest import Personas
from tests.coursesite.test_pages import logged_in, page_text


def test_it_gives_a_course_without_a_grace_policy_the_default_one(personas: Personas) -> None:
    assert not GracePolicy.objects.filter(course=personas.course).exists()
    policy = course_policy(personas.course)
    assert (
        policy.pool_days,
        policy.per_item_cap,
        policy.slack,
        policy.partial_day,
        policy.after_pool,
    ) == (7, None, timedelta(0), "counts", "zero")


def test_it_answers_the_grace_days_api_for_a_course_without_a_grace_policy(
    personas: Personas,
) -> None:
    url = f"/api/v1/courses/{personas.course.slug}/grace-days/"
    answer = personas.client(personas.carol).get(url)
    assert answer.status_code == 200
    assert [(row["student"], row["pool_left"]) for row in answer.json()] == [("carol", 7)]


def test_it_shows_the_work_page_of_a_course_without_a_grace_policy(personas: Personas) -> None:
    answer = logged_in(personas.carol).get(f"/courses/{personas.course.slug}/work/")
    assert answer.status_code == 200
    assert "Grace days left: 7 of 7" in page_text(answer)
