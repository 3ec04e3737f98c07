"""A project group's deliverable scored with a rubric: ``group:N`` work shared by its members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coursesite.models import (
    GroupMembership,
    ProjectGroup,
    Role,
    Score,
    ScoreChange,
    ScoreSource,
)
from grading.models import Criterion, Level, Rubric
from grading.rubrics import (
    MarkInput,
    evaluation_save,
    member_adjust,
    source_of_item,
    source_of_subject,
)
from submissions.models import Deliverable, Submission
from submissions.services import submission_create
from tests.conftest import make_member
from tests.submissions.conftest import HandIns, zip_of
from tests.submissions.test_pages import temporary_upload

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@dataclass
class Scoring:
    handins: HandIns
    deliverable: Deliverable
    group: ProjectGroup
    clarity: Criterion
    method: Criterion
    levels: dict[str, Level]

    @property
    def subject(self) -> str:
        return f"group:{self.group.pk}"

    def marks(self, clarity: str, method: str) -> list[MarkInput]:
        return [
            MarkInput(self.clarity.pk, points=Decimal(clarity)),
            MarkInput(self.method.pk, level_id=self.levels[method].pk),
        ]

    def evaluate(self, clarity: str = "8", method: str = "Good", subject: str | None = None):
        return evaluation_save(
            item=self.deliverable.item,
            subject=subject or self.subject,
            grader=self.handins.personas.alice,
            marks=self.marks(clarity, method),
        )

    def hand_in(self, name: str, content: bytes, **extra) -> Submission:
        return submission_create(
            handin=self.deliverable,
            group=self.group,
            submitted_by=self.handins.personas.carol,
            upload=temporary_upload(name, content),
            **extra,
        )


@pytest.fixture
def scoring(handins: HandIns) -> Scoring:
    """The proposal scored out of 20 rubric points: clarity (free, 0-10) and method (levels)."""
    course, item = handins.personas.course, handins.deliverable.item
    rubric = Rubric.objects.create(course=course, slug="proposal", title="Proposal rubric")
    rubric.items.add(item)
    clarity = Criterion.objects.create(rubric=rubric, position=0, title="Clarity", max_points=10)
    method = Criterion.objects.create(rubric=rubric, position=1, title="Method", max_points=10)
    levels = {
        title: Level.objects.create(criterion=method, position=n, title=title, points=points)
        for n, (title, points) in enumerate([("Weak", 2), ("Fair", 6), ("Good", 10)])
    }
    handins.group.title = "Sparse attention for long videos"
    handins.group.abstract = "We make attention sparse."
    handins.group.save(update_fields=["title", "abstract"])
    return Scoring(handins, handins.deliverable, handins.group, clarity, method, levels)


def shown(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Parts as read on the page: sizes are written with a no-break space."""
    return [(title, text.replace("\xa0", " ")) for title, text in parts]


def points_of(scoring: Scoring) -> dict[str, Decimal | None]:
    return dict(
        Score.objects.filter(item=scoring.deliverable.item).values_list(
            "student__username", "points"
        )
    )


def test_it_claims_a_deliverables_item_and_nothing_else(scoring):
    assert source_of_item(scoring.deliverable.item).kind == "group"
    assert source_of_item(scoring.handins.assignment.item).kind == "student"
    assert source_of_subject(scoring.subject).kind == "group"


def test_it_gives_every_member_the_groups_points(scoring):
    scoring.evaluate(clarity="8", method="Good")
    # 18 of the rubric's 20 points, on an item of 100.
    assert points_of(scoring) == {"carol": Decimal("90.00"), "erin": Decimal("90.00")}
    sources = set(Score.objects.filter(item=scoring.deliverable.item).values_list("source"))
    assert sources == {(ScoreSource.RUBRIC,)}


def test_it_keeps_an_adjusted_members_reason_in_the_history_and_the_others_points(scoring):
    scoring.evaluate(clarity="8", method="Good")
    personas = scoring.handins.personas
    member_adjust(
        item=scoring.deliverable.item,
        subject=scoring.subject,
        student=scoring.handins.erin,
        points=Decimal("-15"),
        reason="the survey says erin wrote none of the code",
        by=personas.alice,
    )
    assert points_of(scoring) == {"carol": Decimal("90.00"), "erin": Decimal("75.00")}
    latest = ScoreChange.objects.filter(score__student=scoring.handins.erin).last()
    assert latest is not None
    assert (latest.old_points, latest.new_points) == (Decimal("90.00"), Decimal("75.00"))
    assert "the survey says erin wrote none of the code" in latest.reason
    carols = ScoreChange.objects.filter(score__student=personas.carol)
    assert [change.new_points for change in carols] == [Decimal("90.00")]


def test_it_lists_every_group_with_members_labelled_with_its_title(scoring):
    course = scoring.handins.personas.course
    frank = make_member(course, "frank", Role.STUDENT)
    untitled = ProjectGroup.objects.create(course=course, name="Group 2")
    GroupMembership.objects.create(course=course, group=untitled, student=frank)
    ProjectGroup.objects.create(course=course, name="Group 3")  # nobody in it
    elsewhere = ProjectGroup.objects.create(course=scoring.handins.personas.other_course, name="X")
    GroupMembership.objects.create(
        course=elsewhere.course, group=elsewhere, student=scoring.handins.personas.dave
    )
    works = source_of_item(scoring.deliverable.item).works(scoring.deliverable.item)
    carol, erin = scoring.handins.personas.carol, scoring.handins.erin
    assert [(w.subject, w.label, w.students) for w in works] == [
        (scoring.subject, "Group 1: Sparse attention for long videos", (carol.pk, erin.pk)),
        (f"group:{untitled.pk}", "Group 2", (frank.pk,)),
    ]


def test_it_does_not_take_a_group_of_another_course_as_work_of_the_item(scoring):
    personas = scoring.handins.personas
    elsewhere = ProjectGroup.objects.create(course=personas.other_course, name="Group 1")
    GroupMembership.objects.create(course=elsewhere.course, group=elsewhere, student=personas.dave)
    subject = f"group:{elsewhere.pk}"
    assert source_of_subject(subject).work(scoring.deliverable.item, subject) is None
    with pytest.raises(ValidationError, match="has no work"):
        scoring.evaluate(subject=subject)
    assert Score.objects.count() == 0


def test_it_shows_the_project_and_a_single_pdf_inline_beside_the_rubric(scoring):
    submission = scoring.hand_in("proposal.pdf", PDF)
    item = scoring.deliverable.item
    context = source_of_item(item).context(item, scoring.subject)
    url = reverse("submission-file", args=[item.course.slug, submission.pk])
    assert context["file_url"] == url
    assert context["links"] == []
    assert shown(context["parts"]) == [
        ("Project title", "Sparse attention for long videos"),
        ("Abstract", "We make attention sparse."),
        ("Hand-in", f"proposal.pdf ({len(PDF)} bytes)"),
    ]


def test_it_links_an_archive_for_download_instead_of_showing_it(scoring):
    archive = zip_of({"proposal.pdf": PDF, "notes.txt": b"notes\n"})
    submission = scoring.hand_in("proposal.zip", archive)
    item = scoring.deliverable.item
    context = source_of_item(item).context(item, scoring.subject)
    url = reverse("submission-file", args=[item.course.slug, submission.pk])
    assert "file_url" not in context
    assert context["links"] == [("Download proposal.zip", url)]
    assert shown(context["parts"])[-1] == (
        "Hand-in",
        f"proposal.zip ({len(archive)} bytes)\n  proposal.pdf ({len(PDF)} bytes)\n"
        "  notes.txt (6 bytes)",
    )


def test_it_links_a_single_file_that_is_not_a_pdf_for_download(scoring):
    scoring.deliverable.handin_files = ["notes.html"]
    scoring.deliverable.save(update_fields=["handin_files"])
    scoring.hand_in("notes.html", b"<html><script>alert(1)</script></html>")
    item = scoring.deliverable.item
    context = source_of_item(item).context(item, scoring.subject)
    assert "file_url" not in context
    assert [title for title, _ in context["links"]] == ["Download notes.html"]


def test_it_says_when_the_group_has_handed_nothing_in(scoring):
    scoring.group.title = ""
    scoring.group.save(update_fields=["title"])
    item = scoring.deliverable.item
    context = source_of_item(item).context(item, scoring.subject)
    assert context["parts"] == [
        ("Abstract", "We make attention sparse."),
        ("Hand-in", "Nothing handed in."),
    ]
    assert "file_url" not in context


def test_it_takes_the_late_penalty_the_hand_in_pages_show(scoring):
    policy = scoring.handins.personas.course.grace_policy
    policy.after_pool, policy.penalty_percent_per_day = "percent_per_day", Decimal(10)
    policy.save(update_fields=["after_pool", "penalty_percent_per_day"])
    item = scoring.deliverable.item
    item.due_at = timezone.now() - timedelta(hours=30)
    item.save(update_fields=["due_at"])
    scoring.hand_in("proposal.pdf", PDF)  # handed in now: 2 days late, no grace days here
    scoring.evaluate(clarity="8", method="Good")
    assert points_of(scoring) == {"carol": Decimal("72.00"), "erin": Decimal("72.00")}
    score = Score.objects.get(item=item, student=scoring.handins.erin)
    assert score.late_penalty_percent == Decimal(20)


def test_it_takes_no_penalty_from_a_hand_in_made_by_the_due_date(scoring):
    scoring.hand_in("proposal.pdf", PDF)
    scoring.evaluate(clarity="8", method="Good")
    assert points_of(scoring) == {"carol": Decimal("90.00"), "erin": Decimal("90.00")}


def test_it_lists_the_work_in_as_many_queries_for_many_groups_as_for_few(scoring):
    item = scoring.deliverable.item
    source = source_of_item(item)
    with CaptureQueriesContext(connection) as few:
        source.works(item)
    course = scoring.handins.personas.course
    for n in range(3):
        group = ProjectGroup.objects.create(course=course, name=f"Group {n + 2}")
        student = make_member(course, f"s{n}", Role.STUDENT)
        GroupMembership.objects.create(course=course, group=group, student=student)
    with CaptureQueriesContext(connection) as many:
        assert len(source.works(item)) == 4
    assert len(many) == len(few)


def test_it_marks_work_never_handed_in_as_missing_on_the_scoring_list(scoring):
    item = scoring.deliverable.item
    course = scoring.handins.personas.course
    page = reverse("scoring-item", args=[course.slug, item.slug])
    staff = scoring.handins.personas.bob
    client = scoring.handins.personas.client(None)
    client.force_login(staff)
    assert [w.missing for w in source_of_item(item).works(item)] == [True]
    assert "nothing handed in" in client.get(page).content.decode()
    scoring.hand_in("proposal.pdf", PDF)
    assert [w.missing for w in source_of_item(item).works(item)] == [False]
    assert "nothing handed in" not in client.get(page).content.decode()
