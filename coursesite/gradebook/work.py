"""What the gradebook needs to know of hand-ins, from the apps that take them.

The gradebook tells ``missing`` from ``pending`` by a student's extensions and active hand-ins,
which live in a higher layer. That layer registers a source here when its app is ready, so the
course layer never imports it (as course-file sections do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from coursesite.models import Course


@dataclass
class Work:
    # (student id, item id) -> the due date of the student's live extension.
    extensions: dict[tuple[int, int], datetime] = field(default_factory=dict)
    # (student id, item id) of every active hand-in, a group's counting for each member.
    handed_in: set[tuple[int, int]] = field(default_factory=set)


WorkSource = Callable[[Course], Work]
_sources: list[WorkSource] = []


def work_source_register(source: WorkSource) -> None:
    """Add a source of extensions and hand-ins; registering one twice keeps one."""
    if source not in _sources:
        _sources.append(source)


def course_work(course: Course) -> Work:
    """The extensions and hand-ins of every registered source, together."""
    work = Work()
    for source in _sources:
        found = source(course)
        work.extensions.update(found.extensions)
        work.handed_in |= found.handed_in
    return work
