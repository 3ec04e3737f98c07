"""What a link placed in the LMS opens on coursesite.

Staff place links with a deep-linking launch: each is an LTI resource link to the tool's launch URL
whose custom parameter ``coursesite_target`` names the page it opens:

- ``item:<slug>``: a graded item's own page: an assignment's or a project deliverable's hand-in
  page, a quiz's page;
- ``gradebook``: the gradebook for staff, a student's own Grades page for a student;
- ``course`` (or no target): the course page.

A target is read in the course the LMS course is linked to, so it can never reach another course:
an item slug that course does not have, or a target this module does not know, opens the course
page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse
from pylti1p3.deep_link_resource import DeepLinkResource

from coursesite.models import Course
from lms.selectors import ItemPage, item_pages

TARGET_PARAMETER = "coursesite_target"
GRADEBOOK = "gradebook"
COURSE = "course"
ITEM = "item:"

KIND_LABELS = {"assignment": "Assignment", "deliverable": "Project deliverable", "quiz": "Quiz"}


@dataclass(frozen=True)
class Placeable:
    """Something staff may place in the LMS course: its target, and the page it opens."""

    target: str
    title: str
    kind: str
    path: str


def item_path(course: Course, page: ItemPage) -> str:
    """The path of an item's own page; the caller knows that the item has one."""
    if page.kind == "quiz":
        return reverse("quiz", kwargs={"slug": course.slug, "item_slug": page.slug})
    return reverse(page.kind, kwargs={"slug": course.slug, "pk": page.pk})


def placeables(*, course: Course) -> list[Placeable]:
    """Every page of the course a link in the LMS may open: the items that have a page of their
    own, in the gradebook's order, then the gradebook and the course page."""
    found = [
        Placeable(ITEM + page.slug, page.title, KIND_LABELS[page.kind], item_path(course, page))
        for page in item_pages(course=course)
        if page.kind
    ]
    found.append(
        Placeable(GRADEBOOK, "Gradebook", "Grades", reverse("gradebook", args=[course.slug]))
    )
    found.append(
        Placeable(COURSE, course.title, "Course page", reverse("course", args=[course.slug]))
    )
    return found


def target_path(*, course: Course, target: str | None, staff: bool) -> str:
    """The path of the page ``target`` names in ``course``, for staff or for a student."""
    if target == GRADEBOOK:
        return reverse("gradebook" if staff else "grades", args=[course.slug])
    if target and target.startswith(ITEM):
        pages = item_pages(course=course, slug=target.removeprefix(ITEM))
        if pages and pages[0].kind:
            return item_path(course, pages[0])
    return reverse("course", args=[course.slug])


def deep_link_resources(*, chosen: Sequence[Placeable], launch_url: str) -> list[DeepLinkResource]:
    """The content items of a deep-linking response: one resource link to the tool's launch URL
    per chosen page, its target in the custom parameter."""
    return [
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(placeable.title)
        .set_custom_params({TARGET_PARAMETER: placeable.target})
        for placeable in chosen
    ]
