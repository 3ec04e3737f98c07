"""Writes of the gradebook: releasing an item's scores to its students."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from coursesite.models import GradeItem


@transaction.atomic
def item_release(*, item: GradeItem, released: bool) -> GradeItem:
    """Show an item's scores to its students, or hide them again.

    A release starts the item's regrade window anew; a call that changes nothing writes nothing.
    """
    if item.released == released:
        return item
    item.released = released
    fields = ["released"]
    if released:
        item.released_at = timezone.now()
        fields.append("released_at")
    item.save(update_fields=fields)
    return item
