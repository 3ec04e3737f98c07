"""An assignment's starter files: the zip students download from its hand-in page.

The course file names a folder (or a zip) beside it (``starter:`` of an assignment), packed
into a zip whose bytes depend only on the files' names and contents; staff may also upload a
zip in the instructor panel. Either way the zip is checked before it is kept:

- it is a zip archive of at most ``STARTER_MAX_BYTES`` holding at most ``STARTER_MAX_FILES``
  files, each named by a relative path without ``..``, a drive or a backslash, and no links;
- it is stored once per content: loading the course file again with the same folder changes
  nothing (``starter_sha256``).

Students download it once the assignment opens (its item's ``opens_at``; at once when it has
none); staff at any time.
"""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from datetime import datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from submissions.models import Assignment

STARTER_MAX_BYTES = 20 * 1024 * 1024
STARTER_MAX_FILES = 200


def starter_names(data: bytes | IO[bytes]) -> list[str]:
    """The files of a starter zip, in its order; ValidationError saying what is wrong."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    if size > STARTER_MAX_BYTES:
        raise ValidationError(
            f"The starter files are {size // 1024} KB; at most "
            f"{STARTER_MAX_BYTES // (1024 * 1024)} MB are kept."
        )
    try:
        with zipfile.ZipFile(source) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("The starter files must be one .zip archive.") from None
    finally:
        source.seek(0)
    files = [entry for entry in entries if not entry.is_dir()]
    if not files:
        raise ValidationError("The starter archive holds no file.")
    if len(files) > STARTER_MAX_FILES:
        raise ValidationError(f"The starter archive holds over {STARTER_MAX_FILES} files.")
    for entry in files:
        name = entry.filename
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "\\" in name or ":" in parts[0]:
            raise ValidationError(f"{name!r} in the starter archive is not a relative path.")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise ValidationError(f"{name!r} in the starter archive is a link.")
    return [entry.filename for entry in files]


def starter_set(*, assignment: Assignment, data: bytes) -> bool:
    """Keep ``data`` as the assignment's starter zip; False when it is the one kept already."""
    starter_names(data)
    sha256 = hashlib.sha256(data).hexdigest()
    if assignment.starter and assignment.starter_sha256 == sha256:
        return False
    if assignment.starter:
        assignment.starter.delete(save=False)
    assignment.starter.save(f"{assignment.item.slug}-starter.zip", ContentFile(data), save=False)
    assignment.starter_sha256 = sha256
    assignment.save(update_fields=["starter", "starter_sha256"])
    return True


def starter_sha256(assignment: Assignment) -> str:
    """The sha256 of the assignment's starter zip as it is now (empty without one)."""
    if not assignment.starter:
        return ""
    digest = hashlib.sha256()
    assignment.starter.open("rb")
    for chunk in assignment.starter.chunks():
        digest.update(chunk)
    assignment.starter.seek(0)
    return digest.hexdigest()


def starter_open(assignment: Assignment, now: datetime) -> bool:
    """Whether students may download the starter files: once the assignment opens."""
    opens = assignment.item.opens_at
    return bool(assignment.starter) and (opens is None or opens <= now)


def starter_listing(assignment: Assignment) -> list[str]:
    """The names of the files in the assignment's starter zip (none without one)."""
    if not assignment.starter:
        return []
    with assignment.starter.open("rb") as kept:
        return starter_names(kept.read())
