"""A checked hand-in, the limits it is checked against, and the refusal a student sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Megabytes in messages match ``max_archive_mb`` in the course file: 1 MB is 1024 * 1024 bytes.
MEBIBYTE = 1024 * 1024


class ArchiveError(Exception):
    """A refused hand-in; ``message`` tells the student what is wrong, naming the entry."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ArchiveLimits:
    max_upload_bytes: int
    max_entries: int = 200
    max_total_bytes: int = 200 * MEBIBYTE
    max_ratio: int = 100
    max_name_bytes: int = 255


@dataclass(frozen=True)
class Entry:
    """A regular file of the hand-in, by its relative POSIX name once any top folder is stripped."""

    name: str
    size: int


@dataclass(frozen=True)
class CheckedHandIn:
    """A hand-in that passed the check.

    ``size`` is the upload's size in bytes. ``unpacked_size`` is what the check decompressed (every
    zip entry's size, or the whole tar stream), the budget extraction may not exceed. ``folder`` is
    the single top-level folder stripped from every name, or "" when none was.
    """

    kind: Literal["zip", "tar.gz", "file"]
    entries: tuple[Entry, ...]
    size: int
    unpacked_size: int
    folder: str = ""


def megabytes(size: int) -> str:
    value = size / MEBIBYTE
    if value < 0.01:
        return f"{size} bytes"
    return f"{value:.2f}".rstrip("0").rstrip(".") + " MB"


def shown(name: str) -> str:
    """The name quoted for a message: invisible characters escaped, a very long name shortened."""
    text = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in name)
    if len(text) > 80:
        text = f"{text[:60]}...{text[-15:]}"
    return f"'{text}'"


def shown_bytes(raw: bytes) -> str:
    """A name that is not UTF-8, with its undecodable bytes written as ``\\xNN``."""
    return shown(raw.decode("utf-8", errors="backslashreplace"))
