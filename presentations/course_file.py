"""The ``papers`` section of the course file: the papers discussed in class."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from coursesite.course_file.reader import Node
from coursesite.course_file.sections import Section
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import Course
from presentations.models import Paper


@dataclass(frozen=True)
class PaperSpec:
    key: str
    title: str
    authors: str
    year: int
    venue: str
    url: str
    week: int | None


class PapersSection(Section):
    key = "papers"

    def parse(self, node: Node | None, plan: CoursePlan) -> list[PaperSpec]:
        papers: list[PaperSpec] = []
        for entry in node.items() if node is not None else ():
            keys = entry.mapping(
                required=("key", "title", "authors", "year"), optional=("venue", "url", "week")
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
            papers.append(
                PaperSpec(
                    key=key,
                    title=keys["title"].text(),
                    authors=keys["authors"].text(max_length=500),
                    year=keys["year"].integer(minimum=1900, maximum=2100),
                    venue=keys["venue"].text(max_length=200) if "venue" in keys else "",
                    url=url,
                    week=keys["week"].integer(minimum=1, maximum=60) if "week" in keys else None,
                )
            )
        return papers

    def apply(self, course: Course, parsed: list[PaperSpec], changes: Changes) -> None:
        for spec in parsed:
            values = asdict(spec)
            sync_row(changes, Paper, {"course": course, "key": values.pop("key")}, values)
        prune(changes, course.papers.exclude(key__in=[p.key for p in parsed]), key=self.key)

    def dump(self, course: Course) -> list[dict[str, Any]] | None:
        papers = []
        for paper in course.papers.all():
            entry = {
                "key": paper.key,
                "title": paper.title,
                "authors": paper.authors,
                "year": paper.year,
                "venue": paper.venue,
                "url": paper.url,
                "week": paper.week,
            }
            papers.append({k: v for k, v in entry.items() if v not in ("", None)})
        return papers or None
