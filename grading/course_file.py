"""The ``rubrics`` and ``rubric_grading`` sections of the course file, and the rules of a rubric.

A rubric's rules are checked here once, for the course file and the API alike
(``rubric_spec_check``, ``rubric_items_check``), and ``rubric_save`` writes a checked rubric:

Criteria
    A rubric has at least one criterion, each titled once. A criterion has either levels or
    ``points``, not both. With levels (at least two, each titled once in the criterion, none
    below 0 points) the grader picks one, and the criterion is worth its best level, which
    must be worth more than 0; with ``points`` (more than 0) the grader gives free points up
    to it.
Items
    A rubric scores the items it lists (each once); an item is scored by at most one rubric.
Saving
    Criteria are found again by title and levels by title within their criterion, so saving
    the same rubric twice changes nothing; the order given is their order. What the rubric no
    longer lists is deleted.
Evaluations fix the points
    Once evaluations use a rubric, what they count stays as it is, so that no Score silently
    stops matching its evaluations: criteria cannot be added, removed or renamed, no
    criterion's points can change, and a level an evaluation chose keeps its title and points.
    Titles of the rubric, descriptions, the items it scores and levels nobody chose may
    change. A rubric that evaluations use is not deleted.
Policy
    ``rubric_grading`` is the course's ``RubricPolicy``; a file without it gives the defaults.
    A policy that changes brings the course's rubric Scores in line with it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from coursesite.course_file.dump import number
from coursesite.course_file.reader import Node
from coursesite.course_file.sections import Section
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import Course, GradeItem
from coursesite.models.course import STAFF_ROLES
from grading.models import (
    Consensus,
    Criterion,
    CriterionMark,
    Level,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
)
from grading.rubrics import item_scores_refresh, items_scored_by_rubric

# A criterion's points fit its DecimalField (8 digits, 2 decimals) many times over.
MAX_POINTS = Decimal(100000)
RUBRIC_TITLE_LENGTH = 200
CRITERION_TITLE_LENGTH = 200
LEVEL_TITLE_LENGTH = 100
DESCRIPTION_LENGTH = 5000

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LevelSpec:
    title: str
    points: Decimal
    description: str = ""


@dataclass(frozen=True)
class CriterionSpec:
    title: str
    description: str = ""
    levels: tuple[LevelSpec, ...] = ()
    # The most free points, for a criterion without levels.
    points: Decimal | None = None

    @property
    def max_points(self) -> Decimal:
        if self.levels:
            return max(level.points for level in self.levels)
        return self.points if self.points is not None else Decimal(0)


@dataclass(frozen=True)
class RubricSpec:
    slug: str
    title: str
    description: str
    items: tuple[str, ...]
    criteria: tuple[CriterionSpec, ...]


class RubricRuleBroken(Exception):
    """A rubric that breaks one of the rules; ``path`` leads to the fault inside the rubric,
    e.g. ``("criteria", 1, "levels")``."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem

    @property
    def key(self) -> str:
        """The path written as the course file's messages write it: ``criteria[1].levels``."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


def rubric_spec_check(spec: RubricSpec) -> None:
    """Raise ``RubricRuleBroken`` for the first rule of the module doc that ``spec`` breaks."""
    if not spec.criteria:
        raise RubricRuleBroken(("criteria",), "a rubric needs at least one criterion")
    titles: set[str] = set()
    for index, criterion in enumerate(spec.criteria):
        at: Path = ("criteria", index)
        if criterion.title in titles:
            raise RubricRuleBroken((*at, "title"), f"two criteria are titled {criterion.title!r}")
        titles.add(criterion.title)
        criterion_spec_check(criterion, at)
    for index, slug in enumerate(spec.items):
        if slug in spec.items[:index]:
            raise RubricRuleBroken(("items", index), f"the item {slug!r} is listed twice")


def criterion_spec_check(criterion: CriterionSpec, at: Path = ()) -> None:
    """Raise ``RubricRuleBroken`` for the first rule of a criterion that ``criterion`` breaks;
    ``at`` is the criterion's own path, put before the fault's."""
    if criterion.levels and criterion.points is not None:
        raise RubricRuleBroken(
            (*at, "points"), "a criterion has levels or points (free points up to it), not both"
        )
    if not criterion.levels:
        if criterion.points is None:
            raise RubricRuleBroken(
                at, "give the criterion levels (at least two) or points (free points up to it)"
            )
        if criterion.points <= 0:
            raise RubricRuleBroken((*at, "points"), "a criterion's points must be more than 0")
        return
    if len(criterion.levels) < 2:
        raise RubricRuleBroken((*at, "levels"), "a criterion with levels needs at least two")
    titles: set[str] = set()
    for index, level in enumerate(criterion.levels):
        if level.title in titles:
            raise RubricRuleBroken(
                (*at, "levels", index, "title"), f"two levels are titled {level.title!r}"
            )
        titles.add(level.title)
        if level.points < 0:
            raise RubricRuleBroken(
                (*at, "levels", index, "points"), "a level's points cannot be negative"
            )
    if criterion.max_points <= 0:
        raise RubricRuleBroken((*at, "levels"), "the best level must be worth more than 0 points")


def rubric_items_check(spec: RubricSpec, *, known: set[str], scored_by: Mapping[str, str]) -> None:
    """Raise ``RubricRuleBroken`` unless every item ``spec`` scores is one of ``known`` and is
    not in ``scored_by`` (item slug -> the slug of the other rubric that scores it)."""
    for index, slug in enumerate(spec.items):
        if slug not in known:
            raise RubricRuleBroken(("items", index), f"no graded item has the slug {slug!r}")
        other = scored_by.get(slug)
        if other is not None and other != spec.slug:
            raise RubricRuleBroken(
                ("items", index),
                f"the item {slug!r} is already scored by the rubric {other!r}, so the rubric "
                f"{spec.slug!r} cannot score it too (an item has one rubric)",
            )


def items_scored_by(course: Course) -> dict[str, str]:
    """Each item of the course that a rubric scores, by slug: that rubric's slug."""
    return dict(
        Rubric.items.through.objects.filter(rubric__course=course).values_list(
            "gradeitem__slug", "rubric__slug"
        )
    )


def _in_use_check(rubric: Rubric, spec: RubricSpec) -> None:
    """Refuse a change that would make the rubric's evaluations count other points (module
    doc), before anything of the rubric is written."""
    if not RubricEvaluation.objects.filter(rubric=rubric).exists():
        return
    current = {c.title: c for c in rubric.criteria.prefetch_related("levels")}
    wanted = {c.title: (index, c) for index, c in enumerate(spec.criteria)}
    added = [title for title in wanted if title not in current]
    removed = [title for title in current if title not in wanted]
    if added or removed:
        change = ", ".join(
            [f"{title!r} added" for title in added] + [f"{title!r} removed" for title in removed]
        )
        raise RubricRuleBroken(
            ("criteria",),
            f"evaluations use the rubric {spec.slug!r}, so its criteria stay as they are "
            f"({change})",
        )
    chosen = set(
        CriterionMark.objects.filter(criterion__rubric=rubric).values_list("criterion_id", "level")
    )
    for title, criterion in current.items():
        index, spec_criterion = wanted[title]
        if spec_criterion.max_points != criterion.max_points:
            raise RubricRuleBroken(
                ("criteria", index),
                f"evaluations use the rubric {spec.slug!r}, so {title!r} stays worth "
                f"{criterion.max_points} points",
            )
        levels = {level.title: level.points for level in spec_criterion.levels}
        for level in criterion.levels.all():
            if (criterion.pk, level.pk) in chosen and levels.get(level.title) != level.points:
                raise RubricRuleBroken(
                    ("criteria", index, "levels"),
                    f"evaluations chose the level {level.title!r} of {title!r}, so it stays, "
                    f"worth {level.points} points",
                )
        if not criterion.levels.all() and spec_criterion.levels:
            raise RubricRuleBroken(
                ("criteria", index, "levels"),
                f"evaluations give {title!r} free points, so it cannot take levels now",
            )


def course_rubric_scores_refresh(
    *, course: Course, changed_by: AbstractBaseUser | None, reason: str
) -> int:
    """Bring every rubric Score of the course in line with its evaluations, after the rules
    that combine them changed. Returns how many Scores changed."""
    return sum(
        item_scores_refresh(item=item, changed_by=changed_by, reason=reason)
        for item in items_scored_by_rubric(course)
    )


@transaction.atomic
def rubric_save(*, course: Course, spec: RubricSpec, changes: Changes | None = None) -> Rubric:
    """Make the course's rubric ``spec.slug`` say what ``spec`` says, creating it if new.

    The caller has checked ``spec`` with ``rubric_spec_check`` and ``rubric_items_check``.
    Raises ``RubricRuleBroken`` (and writes nothing) for a change the rubric's evaluations
    forbid. ``changes`` counts what was written.
    """
    changes = changes if changes is not None else Changes(file="")
    existing = Rubric.objects.filter(course=course, slug=spec.slug).first()
    if existing is not None:
        _in_use_check(existing, spec)
    updated = changes.updated["rubrics"]
    rubric = sync_row(
        changes,
        Rubric,
        {"course": course, "slug": spec.slug},
        {"title": spec.title, "description": spec.description},
    )
    items = list(GradeItem.objects.filter(course=course, slug__in=spec.items))
    if {item.pk for item in items} != set(rubric.items.values_list("pk", flat=True)):
        rubric.items.set(items)
        # Other items are a change of the rubric, counted once with its other fields.
        if existing is not None and changes.updated["rubrics"] == updated:
            changes.updated["rubrics"] += 1
    kept = []
    for position, wanted in enumerate(spec.criteria):
        criterion = sync_row(
            changes,
            Criterion,
            {"rubric": rubric, "title": wanted.title},
            {
                "position": position,
                "description": wanted.description,
                "max_points": wanted.max_points,
            },
        )
        levels = [
            sync_row(
                changes,
                Level,
                {"criterion": criterion, "title": level.title},
                {"position": index, "points": level.points, "description": level.description},
            ).pk
            for index, level in enumerate(wanted.levels)
        ]
        prune(changes, criterion.levels.exclude(pk__in=levels), key="rubrics")
        kept.append(criterion.pk)
    prune(changes, rubric.criteria.exclude(pk__in=kept), key="rubrics")
    return rubric


def rubric_spec_of(rubric: Rubric) -> RubricSpec:
    """The rubric as a spec; ``rubric_save`` of it changes nothing."""
    criteria = []
    for criterion in rubric.criteria.all():
        levels = tuple(
            LevelSpec(level.title, level.points, level.description)
            for level in criterion.levels.all()
        )
        criteria.append(
            CriterionSpec(
                title=criterion.title,
                description=criterion.description,
                levels=levels,
                points=None if levels else criterion.max_points,
            )
        )
    return RubricSpec(
        slug=rubric.slug,
        title=rubric.title,
        description=rubric.description,
        items=tuple(item.slug for item in rubric.items.all()),
        criteria=tuple(criteria),
    )


def course_rubrics(course: Course) -> list[Rubric]:
    """The course's rubrics with their items, criteria and levels, in slug order."""
    return list(course.rubrics.order_by("slug").prefetch_related("items", "criteria__levels"))


# The course file's sections.


class _Where:
    """The nodes of one rubric entry by their path, to point a broken rule at its line."""

    def __init__(self, entry: Node) -> None:
        self.nodes: dict[Path, Node] = {(): entry}

    def add(self, path: Path, node: Node) -> Node:
        self.nodes[path] = node
        return node

    def error(self, broken: RubricRuleBroken) -> Exception:
        path = broken.path
        while path not in self.nodes:
            path = path[:-1]
        return self.nodes[path].error(broken.problem)


def _description(keys: dict[str, Node]) -> str:
    if "description" not in keys:
        return ""
    return keys["description"].text(max_length=DESCRIPTION_LENGTH, allow_empty=True)


def _level(node: Node, at: Path, where: _Where) -> LevelSpec:
    keys = node.mapping(required=("title", "points"), optional=("description",))
    for key, child in keys.items():
        where.add((*at, key), child)
    return LevelSpec(
        title=keys["title"].text(max_length=LEVEL_TITLE_LENGTH),
        points=keys["points"].decimal(maximum=MAX_POINTS),
        description=_description(keys),
    )


def _criterion(node: Node, at: Path, where: _Where) -> CriterionSpec:
    keys = node.mapping(required=("title",), optional=("description", "levels", "points"))
    for key, child in keys.items():
        where.add((*at, key), child)
    levels = tuple(
        _level(where.add((*at, "levels", index), level), (*at, "levels", index), where)
        for index, level in enumerate(keys["levels"].items() if "levels" in keys else ())
    )
    return CriterionSpec(
        title=keys["title"].text(max_length=CRITERION_TITLE_LENGTH),
        description=_description(keys),
        levels=levels,
        points=keys["points"].decimal(maximum=MAX_POINTS) if "points" in keys else None,
    )


class RubricsSection(Section):
    key = "rubrics"

    def parse(self, node: Node | None, plan: CoursePlan) -> list[RubricSpec]:
        rubrics: list[RubricSpec] = []
        scored_by: dict[str, str] = {}
        known = {item.slug for item in plan.items()}
        for entry in node.items() if node is not None else ():
            where = _Where(entry)
            keys = entry.mapping(
                required=("slug", "title", "criteria"), optional=("description", "items")
            )
            for key, child in keys.items():
                where.add((key,), child)
            slug = keys["slug"].slug()
            if any(rubric.slug == slug for rubric in rubrics):
                raise keys["slug"].error(f"two rubrics have the slug {slug!r}")
            items = tuple(
                plan.item_ref(where.add(("items", index), item)).slug
                for index, item in enumerate(keys["items"].items() if "items" in keys else ())
            )
            criteria = tuple(
                _criterion(where.add(("criteria", index), criterion), ("criteria", index), where)
                for index, criterion in enumerate(keys["criteria"].items())
            )
            spec = RubricSpec(
                slug=slug,
                title=keys["title"].text(max_length=RUBRIC_TITLE_LENGTH),
                description=_description(keys),
                items=items,
                criteria=criteria,
            )
            try:
                rubric_spec_check(spec)
                rubric_items_check(spec, known=known, scored_by=scored_by)
            except RubricRuleBroken as broken:
                raise where.error(broken) from None
            scored_by.update(dict.fromkeys(items, slug))
            rubrics.append(spec)
        plan.published["rubrics"] = {rubric.slug for rubric in rubrics}
        return rubrics

    def apply(self, course: Course, parsed: list[RubricSpec], changes: Changes) -> None:
        for spec in parsed:
            try:
                rubric_save(course=course, spec=spec, changes=changes)
            except RubricRuleBroken as broken:
                raise changes.refuse(self.key, broken.problem) from None
        stale = course.rubrics.exclude(slug__in=[spec.slug for spec in parsed])
        in_use = stale.filter(evaluations__isnull=False).distinct().order_by("slug")
        if in_use:
            slugs = ", ".join(repr(rubric.slug) for rubric in in_use)
            raise changes.refuse(
                self.key,
                f"the file no longer lists the rubric(s) {slugs}, which evaluations use; "
                "keep them in the file or delete those evaluations first",
            )
        prune(changes, stale, key=self.key)

    def dump(self, course: Course) -> list[dict[str, Any]] | None:
        rubrics = []
        for rubric in course_rubrics(course):
            spec = rubric_spec_of(rubric)
            entry: dict[str, Any] = {"slug": spec.slug, "title": spec.title}
            if spec.description:
                entry["description"] = spec.description
            if spec.items:
                entry["items"] = list(spec.items)
            entry["criteria"] = [_criterion_entry(criterion) for criterion in spec.criteria]
            rubrics.append(entry)
        return rubrics or None


def _criterion_entry(criterion: CriterionSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"title": criterion.title}
    if criterion.description:
        entry["description"] = criterion.description
    if criterion.levels:
        entry["levels"] = [
            {"title": level.title, "points": number(level.points)}
            | ({"description": level.description} if level.description else {})
            for level in criterion.levels
        ]
    else:
        entry["points"] = number(criterion.max_points)
    return entry


@dataclass(frozen=True)
class PolicySpec:
    consensus: str = Consensus.AVERAGE
    final_grader: str | None = None
    disagreement_percent: Decimal = Decimal(10)
    show_grader_names: bool = False


POLICY_KEYS = ("consensus", "final_grader", "disagreement_percent", "show_grader_names")


class RubricGradingSection(Section):
    key = "rubric_grading"

    def parse(self, node: Node | None, plan: CoursePlan) -> PolicySpec | None:
        if node is None:
            return None
        keys = node.mapping(optional=POLICY_KEYS)
        consensus = keys["consensus"].text() if "consensus" in keys else Consensus.AVERAGE
        if consensus not in Consensus.values:
            raise keys["consensus"].error(f"use one of {', '.join(Consensus.values)}")
        final_grader = None
        if "final_grader" in keys:
            final_grader = keys["final_grader"].text(max_length=150)
            staff = {person.username for person in plan.people if person.role in STAFF_ROLES}
            if final_grader not in staff:
                raise keys["final_grader"].error(
                    f"{final_grader!r} is not an instructor or TA of the course"
                )
            if consensus != Consensus.FINAL:
                raise keys["final_grader"].error("only used with consensus: final")
        return PolicySpec(
            consensus=consensus,
            final_grader=final_grader,
            disagreement_percent=(
                keys["disagreement_percent"].decimal(maximum=Decimal(100))
                if "disagreement_percent" in keys
                else PolicySpec.disagreement_percent
            ),
            show_grader_names=(
                keys["show_grader_names"].boolean() if "show_grader_names" in keys else False
            ),
        )

    def apply(self, course: Course, parsed: PolicySpec | None, changes: Changes) -> None:
        # Without the section, a course that never had a policy keeps having none (the defaults).
        if parsed is None and not RubricPolicy.objects.filter(course=course).exists():
            return
        spec = parsed or PolicySpec()
        grader = (
            get_user_model().objects.get(username=spec.final_grader) if spec.final_grader else None
        )
        label = str(RubricPolicy._meta.verbose_name_plural)
        before = changes.created[label] + changes.updated[label]
        sync_row(
            changes,
            RubricPolicy,
            {"course": course},
            {
                "consensus": spec.consensus,
                "final_grader": grader,
                "disagreement_percent": spec.disagreement_percent,
                "show_grader_names": spec.show_grader_names,
            },
        )
        if changes.created[label] + changes.updated[label] != before:
            course_rubric_scores_refresh(
                course=course, changed_by=None, reason="the course's rubric grading policy changed"
            )

    def dump(self, course: Course) -> dict[str, Any] | None:
        policy = RubricPolicy.objects.filter(course=course).select_related("final_grader").first()
        if policy is None:
            return None
        entry: dict[str, Any] = {"consensus": policy.consensus}
        if policy.final_grader is not None:
            entry["final_grader"] = policy.final_grader.username
        entry["disagreement_percent"] = number(policy.disagreement_percent)
        entry["show_grader_names"] = policy.show_grader_names
        return entry
