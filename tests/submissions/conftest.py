"""Hand-in fixtures: an assignment and a group deliverable in the personas' course."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from coursesite.models import (
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupMembership,
    ProjectGroup,
    Role,
)
from grading.models import AutograderBundle
from submissions.models import Assignment, Deliverable
from tests.conftest import Personas, make_member


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@dataclass
class HandIns:
    personas: Personas
    assignment: Assignment
    deliverable: Deliverable
    erin: User
    group: ProjectGroup

    def url(self, kind: str = "assignments") -> str:
        handin = self.assignment if kind == "assignments" else self.deliverable
        return f"/api/v1/courses/{self.personas.course.slug}/{kind}/{handin.pk}/submissions/"

    def upload(
        self,
        user: User,
        content: bytes,
        name: str = "handin.zip",
        kind: str = "assignments",
        **fields: str,
    ):
        return self.personas.client(user).post(
            self.url(kind),
            {"file": SimpleUploadedFile(name, content), **fields},
            format="multipart",
        )


@pytest.fixture
def handins(personas: Personas) -> HandIns:
    course = personas.course
    GracePolicy.objects.create(course=course, pool_days=7)
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(0))
    now = timezone.now()
    item = GradeItem.objects.create(
        course=course, category=category, slug="a1", title="A1", max_points=Decimal(100),
        due_at=now + timedelta(days=2), uses_grace_days=True,
    )  # fmt: skip
    project = GradeItem.objects.create(
        course=course, category=category, slug="proposal", title="Proposal",
        max_points=Decimal(100),
        due_at=now + timedelta(days=5),
    )  # fmt: skip
    erin = make_member(course, "erin", Role.STUDENT)
    group = ProjectGroup.objects.create(course=course, name="Group 1")
    for student in (personas.carol, erin):
        GroupMembership.objects.create(course=course, group=group, student=student)
    return HandIns(
        personas=personas,
        assignment=Assignment.objects.create(item=item, handin_files=["mlp.py"]),
        deliverable=Deliverable.objects.create(item=project, handin_files=["proposal.pdf"]),
        erin=erin,
        group=group,
    )


@pytest.fixture
def autograded(handins: HandIns) -> HandIns:
    """A1 with an autograder, so that every hand-in queues a grading job; no worker runs."""
    AutograderBundle.objects.create(
        item=handins.assignment.item, version=1, name="mlp", kind="native",
        archive="bundles/mlp.zip", sha256="0" * 64,
        manifest={"tests": [{"name": "relu", "points": 5, "visibility": "visible"}]},
        uploaded_by=handins.personas.alice, uploaded_at=timezone.now(),
    )  # fmt: skip
    return handins


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
