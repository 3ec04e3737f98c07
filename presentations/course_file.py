"""The ``papers``, ``presentations`` and ``reviews`` sections of the course file.

papers
    The papers discussed in class. A paper's ``review`` names the graded item of the students'
    reviews of it (one paper per item).
presentations
    How papers are presented: ``item`` (where the presentation scores go),
    ``presenters_per_role`` (the fewest students in a presenting role's group, default 1),
    ``seed`` (of the assignment of presenters, default 0), ``roles`` (each
    ``{role, minutes, rubric}``, each role once; the rubric, one of the file's, only for a
    presenting role; by default overview 14, strengths 8, weaknesses 8 and qa 10 minutes) and
    ``blocked`` (``{student, weeks, reason}``: weeks in which a student cannot present). Every
    paper with a week gets a slot on that week's problem session (else its last meeting, else
    no date) with one role per planned role. Presenters are not in the file: staff assign them
    (``presentations.slots``), and loading the file again keeps them. A file without the
    section has no planned roles, no blocked weeks and no slots.
reviews
    The rules of paper reviews: ``late`` (``accepted``, the default, or ``refused``),
    ``late_penalty_percent`` (0 to 100, default 0; only with ``late: accepted``) and
    ``shown_after_deadline`` (default false: after a review's deadline the class may read each
    other's).

``presentations`` and ``reviews`` are kept on the course's one ``PresentationPolicy``; each
section writes only its own fields of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from coursesite.course_file.dump import number
from coursesite.course_file.reader import Node
from coursesite.course_file.sections import Section
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import Course, LectureKind, Role
from grading.models import Rubric, RubricEvaluation
from presentations.models import (
    PRESENTING_ROLES,
    BlockedWeek,
    LateReviews,
    Paper,
    PaperReview,
    PresentationPolicy,
    PresentationRole,
    PresentationSlot,
    RolePlan,
    SlotRole,
)

MAX_WEEK = 60
MAX_MINUTES = 240
MAX_PRESENTERS_PER_ROLE = 100
# A PositiveIntegerField holds up to this on every database Django supports.
MAX_SEED = 2**31 - 1
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaperSpec:
    key: str
    title: str
    authors: str
    year: int
    venue: str
    url: str
    week: int | None
    review: str | None


def _evaluated_roles(roles: Iterable[SlotRole]) -> set[int]:
    """The pks of the roles whose presenters' work staff already evaluated."""
    subjects = {f"role:{role.pk}": role.pk for role in roles}
    used = RubricEvaluation.objects.filter(subject__in=list(subjects)).values_list(
        "subject", flat=True
    )
    return {subjects[subject] for subject in used}


def _papers_in_use(papers: Iterable[Paper]) -> list[str]:
    """The papers that students reviewed or whose presenters staff evaluated."""
    papers = list(papers)
    used = set(PaperReview.objects.filter(paper__in=papers).values_list("paper_id", flat=True))
    roles = list(SlotRole.objects.filter(slot__paper__in=papers).select_related("slot"))
    evaluated = _evaluated_roles(roles)
    used |= {role.slot.paper_id for role in roles if role.pk in evaluated}
    return [f"the paper {paper.key!r}" for paper in papers if paper.pk in used]


class PapersSection(Section):
    key = "papers"

    def parse(self, node: Node | None, plan: CoursePlan) -> list[PaperSpec]:
        papers: list[PaperSpec] = []
        for entry in node.items() if node is not None else ():
            keys = entry.mapping(
                required=("key", "title", "authors", "year"),
                optional=("venue", "url", "week", "review"),
            )
            key = keys["key"].slug()
            if any(paper.key == key for paper in papers):
                raise keys["key"].error(f"two papers have the key {key!r}")
            url = keys["url"].text(max_length=200) if "url" in keys else ""
            if url:
                try:
                    URLValidator(schemes=["http", "https"])(url)
                except ValidationError:
                    raise keys["url"].error(f"{url!r} is not an http(s) address") from None
            review = plan.item_ref(keys["review"]).slug if "review" in keys else None
            for other in papers:
                if review is not None and other.review == review:
                    raise keys["review"].error(
                        f"the item {review!r} already holds the reviews of the paper "
                        f"{other.key!r}; each paper's reviews need an item of their own"
                    )
            papers.append(
                PaperSpec(
                    key=key,
                    title=keys["title"].text(),
                    authors=keys["authors"].text(max_length=500),
                    year=keys["year"].integer(minimum=1900, maximum=2100),
                    venue=keys["venue"].text(max_length=200) if "venue" in keys else "",
                    url=url,
                    week=(
                        keys["week"].integer(minimum=1, maximum=MAX_WEEK)
                        if "week" in keys
                        else None
                    ),
                    review=review,
                )
            )
        return papers

    def apply(self, course: Course, parsed: list[PaperSpec], changes: Changes) -> None:
        items = {item.slug: item for item in course.items.all()}
        for spec in parsed:
            values = asdict(spec)
            review = values.pop("review")
            values["review_item"] = items[review] if review else None
            sync_row(changes, Paper, {"course": course, "key": values.pop("key")}, values)
        prune(
            changes,
            course.papers.exclude(key__in=[p.key for p in parsed]),
            key=self.key,
            in_use=_papers_in_use,
        )

    def dump(self, course: Course) -> list[dict[str, Any]] | None:
        papers = []
        for paper in course.papers.select_related("review_item"):
            entry = {
                "key": paper.key,
                "title": paper.title,
                "authors": paper.authors,
                "year": paper.year,
                "venue": paper.venue,
                "url": paper.url,
                "week": paper.week,
                "review": paper.review_item.slug if paper.review_item else None,
            }
            papers.append({k: v for k, v in entry.items() if v not in ("", None)})
        return papers or None


@dataclass(frozen=True)
class RoleSpec:
    role: str
    minutes: int
    rubric: str | None = None


@dataclass(frozen=True)
class BlockSpec:
    student: str
    week: int
    reason: str


@dataclass(frozen=True)
class PresentationsSpec:
    item: str | None
    presenters_per_role: int
    seed: int
    roles: tuple[RoleSpec, ...]
    blocked: tuple[BlockSpec, ...]


DEFAULT_ROLES = (
    RoleSpec(PresentationRole.OVERVIEW, 14),
    RoleSpec(PresentationRole.STRENGTHS, 8),
    RoleSpec(PresentationRole.WEAKNESSES, 8),
    RoleSpec(PresentationRole.QA, 10),
)
POLICY_DEFAULTS = {"item": None, "presenters_per_role": 1, "seed": 0}


def _role(node: Node, rubrics: set[str], roles: list[RoleSpec]) -> RoleSpec:
    keys = node.mapping(required=("role", "minutes"), optional=("rubric",))
    role = keys["role"].text(max_length=16)
    if role not in PresentationRole.values:
        raise keys["role"].error(
            f"{role!r} is not a role (use one of {', '.join(PresentationRole.values)})"
        )
    if any(other.role == role for other in roles):
        raise keys["role"].error(f"the role {role!r} is listed twice")
    rubric = None
    if "rubric" in keys:
        if role not in PRESENTING_ROLES:
            raise keys["rubric"].error(
                f"{role!r} belongs to the whole class; only a presenting role "
                f"({', '.join(PRESENTING_ROLES)}) is scored with a rubric"
            )
        rubric = keys["rubric"].slug()
        if rubric not in rubrics:
            known = ", ".join(sorted(rubrics)) or "none"
            raise keys["rubric"].error(
                f"no rubric of the file has the slug {rubric!r} (the file's rubrics: {known})"
            )
    minutes = keys["minutes"].integer(minimum=1, maximum=MAX_MINUTES)
    return RoleSpec(role=role, minutes=minutes, rubric=rubric)


def _blocked(node: Node, students: set[str], blocked: list[BlockSpec]) -> list[BlockSpec]:
    keys = node.mapping(required=("student", "weeks"), optional=("reason",))
    student = keys["student"].text(max_length=150)
    if student not in students:
        raise keys["student"].error(f"{student!r} is not a student of the course (see people)")
    reason = keys["reason"].text(max_length=200, allow_empty=True) if "reason" in keys else ""
    entries: list[BlockSpec] = []
    for week_node in keys["weeks"].items():
        week = week_node.integer(minimum=1, maximum=MAX_WEEK)
        if any(b.student == student and b.week == week for b in [*blocked, *entries]):
            raise week_node.error(f"{student!r} is blocked in week {week} twice")
        entries.append(BlockSpec(student=student, week=week, reason=reason))
    if not entries:
        raise keys["weeks"].error("list at least one week")
    return entries


def _slot_dates(course: Course, weeks: set[int]) -> dict[int, date]:
    """Each week's problem session, else its last meeting."""
    dates: dict[int, date] = {}
    sessions: set[int] = set()
    for lecture in course.lectures.filter(week__in=weeks).order_by("date", "starts_at"):
        if lecture.week in sessions:
            continue
        dates[lecture.week] = lecture.date
        if lecture.kind == LectureKind.PROBLEM_SESSION:
            sessions.add(lecture.week)
    return dates


def _refuse_evaluated(changes: Changes, key: str, roles: Iterable[SlotRole]) -> None:
    evaluated = _evaluated_roles(roles)
    if evaluated:
        names = ", ".join(sorted(str(role) for role in SlotRole.objects.filter(pk__in=evaluated)))
        raise changes.refuse(
            key,
            f"the file no longer plans {names}, whose presenters staff already evaluated; "
            "keep it in the file or delete those evaluations first",
        )


class PresentationsSection(Section):
    key = "presentations"

    def parse(self, node: Node | None, plan: CoursePlan) -> PresentationsSpec | None:
        if node is None:
            return None
        keys = node.mapping(optional=("item", "presenters_per_role", "seed", "roles", "blocked"))
        roles: list[RoleSpec] = []
        if "roles" in keys:
            rubrics: set[str] = plan.published.get("rubrics", set())
            for role_node in keys["roles"].items():
                roles.append(_role(role_node, rubrics, roles))
            if not roles:
                raise keys["roles"].error("list at least one role (or leave roles out)")
        students = {person.username for person in plan.people if person.role == Role.STUDENT}
        blocked: list[BlockSpec] = []
        for block_node in keys["blocked"].items() if "blocked" in keys else ():
            blocked += _blocked(block_node, students, blocked)
        return PresentationsSpec(
            item=plan.item_ref(keys["item"]).slug if "item" in keys else None,
            presenters_per_role=(
                keys["presenters_per_role"].integer(minimum=1, maximum=MAX_PRESENTERS_PER_ROLE)
                if "presenters_per_role" in keys
                else 1
            ),
            seed=keys["seed"].integer(maximum=MAX_SEED) if "seed" in keys else 0,
            roles=tuple(roles) if roles else DEFAULT_ROLES,
            blocked=tuple(blocked),
        )

    def apply(self, course: Course, parsed: PresentationsSpec | None, changes: Changes) -> None:
        roles = parsed.roles if parsed else ()
        if parsed is not None:
            item = course.items.get(slug=parsed.item) if parsed.item else None
            values = {
                "item": item,
                "presenters_per_role": parsed.presenters_per_role,
                "seed": parsed.seed,
            }
            sync_row(changes, PresentationPolicy, {"course": course}, values)
        elif PresentationPolicy.objects.filter(course=course).exists():
            sync_row(changes, PresentationPolicy, {"course": course}, POLICY_DEFAULTS)
        self._apply_roles(course, roles, changes)
        self._apply_blocked(course, parsed.blocked if parsed else (), changes)
        self._apply_slots(course, roles, changes)

    def _apply_roles(self, course: Course, roles: Iterable[RoleSpec], changes: Changes) -> None:
        kept = []
        for position, spec in enumerate(roles):
            rubric = None
            if spec.rubric:
                rubric = Rubric.objects.filter(course=course, slug=spec.rubric).first()
                if rubric is None:
                    raise changes.refuse(
                        self.key, f"the course has no rubric with the slug {spec.rubric!r}"
                    )
            values = {"minutes": spec.minutes, "rubric": rubric, "position": position}
            lookup = {"course": course, "role": spec.role}
            kept.append(sync_row(changes, RolePlan, lookup, values).pk)
        prune(changes, course.role_plans.exclude(pk__in=kept), key=self.key)

    def _apply_blocked(
        self, course: Course, blocked: Iterable[BlockSpec], changes: Changes
    ) -> None:
        blocked = list(blocked)
        users = {
            user.username: user
            for user in User.objects.filter(username__in={b.student for b in blocked})
        }
        kept = []
        for spec in blocked:
            lookup = {"course": course, "student": users[spec.student], "week": spec.week}
            kept.append(sync_row(changes, BlockedWeek, lookup, {"reason": spec.reason}).pk)
        prune(changes, course.blocked_weeks.exclude(pk__in=kept), key=self.key)

    def _apply_slots(self, course: Course, roles: Iterable[RoleSpec], changes: Changes) -> None:
        """A slot for every paper with a week, with the planned roles, and no other slot."""
        roles = list(roles)
        papers = list(course.papers.filter(week__isnull=False)) if roles else []
        dates = _slot_dates(course, {paper.week for paper in papers if paper.week})
        kept = []
        for paper in papers:
            assert paper.week is not None
            slot = sync_row(
                changes, PresentationSlot, {"paper": paper}, {"date": dates.get(paper.week)}
            )
            for position, spec in enumerate(roles):
                values = {"minutes": spec.minutes, "position": position}
                sync_row(changes, SlotRole, {"slot": slot, "role": spec.role}, values)
            stale = slot.roles.exclude(role__in=[spec.role for spec in roles])
            _refuse_evaluated(changes, self.key, stale)
            prune(changes, stale, key=self.key)
            kept.append(slot.pk)
        stale_slots = PresentationSlot.objects.filter(paper__course=course).exclude(pk__in=kept)
        _refuse_evaluated(changes, self.key, SlotRole.objects.filter(slot__in=stale_slots))
        prune(changes, stale_slots, key=self.key)

    def dump(self, course: Course) -> dict[str, Any] | None:
        plans = list(course.role_plans.select_related("rubric"))
        if not plans:
            return None
        policy = PresentationPolicy.objects.filter(course=course).select_related("item").first()
        section: dict[str, Any] = {}
        if policy is not None and policy.item is not None:
            section["item"] = policy.item.slug
        section["presenters_per_role"] = policy.presenters_per_role if policy else 1
        section["seed"] = policy.seed if policy else 0
        section["roles"] = [
            {"role": plan.role, "minutes": plan.minutes}
            | ({"rubric": plan.rubric.slug} if plan.rubric else {})
            for plan in plans
        ]
        blocked: dict[tuple[str, str], list[int]] = {}
        for row in course.blocked_weeks.select_related("student").order_by(
            "student__username", "week"
        ):
            blocked.setdefault((row.student.username, row.reason), []).append(row.week)
        if blocked:
            section["blocked"] = [
                {"student": student, "weeks": weeks} | ({"reason": reason} if reason else {})
                for (student, reason), weeks in blocked.items()
            ]
        return section


@dataclass(frozen=True)
class ReviewRules:
    late: str
    late_penalty_percent: Decimal
    shown_after_deadline: bool


REVIEW_DEFAULTS = ReviewRules(LateReviews.ACCEPTED, Decimal(0), False)


class ReviewsSection(Section):
    key = "reviews"

    def parse(self, node: Node | None, plan: CoursePlan) -> ReviewRules | None:
        if node is None:
            return None
        keys = node.mapping(optional=("late", "late_penalty_percent", "shown_after_deadline"))
        late = keys["late"].text(max_length=16) if "late" in keys else LateReviews.ACCEPTED
        if late not in LateReviews.values:
            raise keys["late"].error(
                f"{late!r} is not a rule for late reviews (use one of "
                f"{', '.join(LateReviews.values)})"
            )
        penalty = Decimal(0)
        if "late_penalty_percent" in keys:
            penalty = keys["late_penalty_percent"].decimal(maximum=HUNDRED)
            if penalty and late == LateReviews.REFUSED:
                raise keys["late_penalty_percent"].error(
                    "a penalty on late reviews needs late: accepted (refused reviews earn nothing)"
                )
        shown = keys["shown_after_deadline"].boolean() if "shown_after_deadline" in keys else False
        return ReviewRules(late=late, late_penalty_percent=penalty, shown_after_deadline=shown)

    def apply(self, course: Course, parsed: ReviewRules | None, changes: Changes) -> None:
        if parsed is None and not PresentationPolicy.objects.filter(course=course).exists():
            return
        rules = parsed or REVIEW_DEFAULTS
        values = {
            "late_reviews": rules.late,
            "late_review_penalty_percent": rules.late_penalty_percent,
            "reviews_shown_after_deadline": rules.shown_after_deadline,
        }
        sync_row(changes, PresentationPolicy, {"course": course}, values)

    def dump(self, course: Course) -> dict[str, Any] | None:
        policy = PresentationPolicy.objects.filter(course=course).first()
        if policy is None:
            return None
        return {
            "late": policy.late_reviews,
            "late_penalty_percent": number(policy.late_review_penalty_percent),
            "shown_after_deadline": policy.reviews_shown_after_deadline,
        }
