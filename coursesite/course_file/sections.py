"""Sections of the course file that apps above ``coursesite`` own (assignments, papers, ...).

Those apps register a ``Section`` when they are ready; the loader parses, applies and dumps them
beside the core without importing them, so imports keep going downward.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coursesite.course_file.reader import Node
    from coursesite.course_file.spec import CoursePlan
    from coursesite.course_file.sync import Changes
    from coursesite.models import Course


class Section(ABC):
    key: str

    @abstractmethod
    def parse(self, node: Node | None, plan: CoursePlan) -> Any:
        """Check the section (``None`` when the file leaves it out) before anything is written."""

    @abstractmethod
    def apply(self, course: Course, parsed: Any, changes: Changes) -> None:
        """Make the database match the parsed section, inside the load's transaction."""

    @abstractmethod
    def dump(self, course: Course) -> Any:
        """The section as the file writes it, or ``None`` to leave it out."""


_sections: dict[str, Section] = {}


def register_section(section: Section) -> None:
    if section.key in _sections and type(_sections[section.key]) is not type(section):
        raise ValueError(f"two apps claim the course file section {section.key!r}")
    _sections[section.key] = section


def registered_sections() -> list[Section]:
    return list(_sections.values())
