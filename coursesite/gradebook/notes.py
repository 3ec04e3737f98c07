"""Short notes under the item columns of the staff gradebook, written by the apps above
``coursesite`` (the LMS link says when each item's grades were last sent to the LMS).

Those apps register a provider when they are ready; the gradebook page asks every provider once
per page, for all its items at once, so the page's queries never grow with the number of items,
and ``coursesite`` never imports the apps that fill it in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from coursesite.models import Course, GradeItem

logger = logging.getLogger(__name__)

Tone = Literal["ok", "error"]


@dataclass(frozen=True)
class ItemNote:
    """A line under an item's heading: its text, whether it reports a fault, a longer
    explanation for the tooltip, and the page where staff can act on it."""

    text: str
    tone: Tone = "ok"
    title: str = ""
    link: str = ""


# Given the course and the items its gradebook shows, the notes of those items by item id; an
# item left out gets no note. A provider reads in a fixed number of queries and writes nothing.
ItemNoteProvider = Callable[[Course, Sequence[GradeItem]], Mapping[int, ItemNote]]

_providers: list[ItemNoteProvider] = []


def item_notes_register(provider: ItemNoteProvider) -> None:
    """Add a provider; registering one again (an app made ready twice) changes nothing."""
    if provider not in _providers:
        _providers.append(provider)


def item_notes(course: Course, items: Sequence[GradeItem]) -> dict[int, list[ItemNote]]:
    """Every provider's notes on the items, by item id, in the order the providers registered.

    A provider that fails is logged and left out: a note is never worth a gradebook that does
    not open.
    """
    merged: dict[int, list[ItemNote]] = {}
    for provider in _providers:
        try:
            notes = dict(provider(course, items))
        except Exception:
            logger.exception("The item note provider %r failed on %s.", provider, course.slug)
            continue
        for item_id, note in notes.items():
            merged.setdefault(item_id, []).append(note)
    return merged
