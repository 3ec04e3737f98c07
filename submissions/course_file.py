"""The ``assignments`` and ``deliverables`` sections of the course file."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from coursesite.course_file.reader import Node
from coursesite.course_file.sections import Section
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import Course, GradeItem, Role
from grading.bundles import BundleError, load_bundle, pack_bundle
from grading.services import bundle_upload, current_bundle
from submissions.models import MEGABYTE, Assignment, Deliverable
from submissions.starters import STARTER_MAX_BYTES, starter_names, starter_set


@dataclass(frozen=True)
class Handin:
    item: str
    handin_files: tuple[str, ...]
    max_archive_bytes: int
    autograder: Path | None = None
    peer_survey: bool = False
    starter: bytes | None = None


def _autograder(node: Node, files: tuple[str, ...]) -> Path:
    """The autograder bundle a course file names (a folder or a zip inside its folder), checked."""
    path = node.path_inside(Path(node.file).parent)
    try:
        with load_bundle(path) as bundle:
            expected = bundle.files
    except BundleError as error:
        raise node.error(error.message) from None
    if sorted(expected) != sorted(files):
        raise node.error(
            f"the autograder grades the files {', '.join(expected)}, "
            f"but handin lists {', '.join(files)}"
        )
    return path


def _starter(node: Node) -> bytes:
    """The starter files a course file names (a folder or a zip inside its folder), as a zip."""
    path = node.path_inside(Path(node.file).parent)
    # Measured before anything is read: a folder of datasets is no starter.
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    if sum(file.stat().st_size for file in files) > STARTER_MAX_BYTES:
        raise node.error(f"the starter files are over {STARTER_MAX_BYTES // MEGABYTE} MB")
    try:
        data = _bundle_bytes(path)
    except BundleError as error:
        raise node.error(error.message.replace("bundle", "starter folder")) from None
    except OSError:
        raise node.error("no folder or zip of that name beside the course file") from None
    try:
        starter_names(data)
    except ValidationError as error:
        raise node.error(" ".join(error.messages)) from None
    return data


def _bundle_bytes(path: Path) -> bytes:
    return pack_bundle(path) if path.is_dir() else path.read_bytes()


def _apply_autograder(course: Course, item: GradeItem, path: Path, changes: Changes) -> None:
    """Upload the bundle as the item's next version, unless its current version has these bytes."""
    data = _bundle_bytes(path)
    current = current_bundle(item)
    if current is not None and current.sha256 == hashlib.sha256(data).hexdigest():
        return
    instructor = course.memberships.filter(role=Role.INSTRUCTOR).order_by("user__username").first()
    if instructor is None:
        raise changes.refuse("assignments", "an autograder needs an instructor to upload it")
    with tempfile.TemporaryDirectory() as folder:
        packed = Path(folder) / "bundle.zip"
        packed.write_bytes(data)
        bundle_upload(item=item, path=packed, uploaded_by=instructor.user)
    changes.created["autograder versions"] += 1


class HandinSection(Section):
    """Graded items that students hand in, and what they hand in."""

    model: type[Assignment | Deliverable]
    default_mb: int
    require_files: bool
    extra_keys: tuple[str, ...] = ()

    def parse(self, node: Node | None, plan: CoursePlan) -> list[Handin]:
        handins: list[Handin] = []
        for entry in node.items() if node is not None else ():
            keys = entry.mapping(
                required=("item", "handin"), optional=("max_archive_mb", *self.extra_keys)
            )
            item = plan.claim_item(keys["item"], self.key).slug
            files = tuple(name.text(max_length=200) for name in keys["handin"].items())
            if self.require_files and not files:
                raise keys["handin"].error("name at least one file the student hands in")
            for index, name in enumerate(files):
                if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                    raise keys["handin"].error(f"entry {index}: {name!r} must be a relative path")
            if len(set(files)) != len(files):
                raise keys["handin"].error("a file is listed twice")
            size_mb = (
                keys["max_archive_mb"].integer(minimum=1, maximum=2048)
                if "max_archive_mb" in keys
                else self.default_mb
            )
            autograder = _autograder(keys["autograder"], files) if "autograder" in keys else None
            survey = keys["peer_survey"].boolean() if "peer_survey" in keys else False
            starter = _starter(keys["starter"]) if "starter" in keys else None
            handins.append(Handin(item, files, size_mb * MEGABYTE, autograder, survey, starter))
        return handins

    def apply(self, course: Course, parsed: list[Handin], changes: Changes) -> None:
        items = {item.slug: item for item in course.items.all()}
        kept = []
        for handin in parsed:
            row = sync_row(
                changes,
                self.model,
                {"item": items[handin.item]},
                {
                    "handin_files": list(handin.handin_files),
                    "max_archive_bytes": handin.max_archive_bytes,
                    **self.extra_values(handin),
                },
            )
            if handin.autograder is not None:
                _apply_autograder(course, items[handin.item], handin.autograder, changes)
            if handin.starter is not None and isinstance(row, Assignment):
                row.item = items[handin.item]
                if starter_set(assignment=row, data=handin.starter):
                    changes.updated["starter files"] += 1
            kept.append(row.pk)
        stale: models.QuerySet[Any] = self.model.objects.filter(item__course=course).exclude(
            pk__in=kept
        )
        prune(changes, stale, key=self.key)

    def dump(self, course: Course) -> list[dict[str, Any]] | None:
        rows: list[Assignment | Deliverable] = list(
            self.model.objects.filter(item__course=course).select_related("item")
        )
        entries = []
        for row in sorted(rows, key=lambda r: (r.item.due_at is None, r.item.due_at, r.item.slug)):
            entry: dict[str, Any] = {"item": row.item.slug, "handin": list(row.handin_files)}
            if row.max_archive_bytes != self.default_mb * MEGABYTE:
                entry["max_archive_mb"] = row.max_archive_bytes // MEGABYTE
            entries.append({**entry, **self.extra_entry(row)})
        return entries or None

    def extra_values(self, handin: Handin) -> dict[str, Any]:
        """The values of this section's own keys (``extra_keys``) for its row."""
        return {}

    def extra_entry(self, row: Any) -> dict[str, Any]:
        """This section's own keys of a row, as a dump writes them."""
        return {}


class AssignmentsSection(HandinSection):
    key = "assignments"
    model = Assignment
    default_mb = 20
    require_files = True
    # An assignment's autograder: the course file names its folder; each change of the folder's
    # content is uploaded as a new version when the file is loaded. Its starter files: a folder
    # zipped for students to download, kept again only when its content changed.
    extra_keys = ("autograder", "starter")


class DeliverablesSection(HandinSection):
    key = "deliverables"
    model = Deliverable
    default_mb = 50
    require_files = False
    # Once the deliverable is due, each member rates each other member's contribution.
    extra_keys = ("peer_survey",)

    def extra_values(self, handin: Handin) -> dict[str, Any]:
        return {"peer_survey": handin.peer_survey}

    def extra_entry(self, row: Any) -> dict[str, Any]:
        return {"peer_survey": True} if row.peer_survey else {}
