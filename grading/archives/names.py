"""Rules for the names inside a hand-in: safe paths, no clashes, required files present."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from grading.archives.base import ArchiveError, shown

_DRIVE = re.compile(r"[A-Za-z]:([/\\]|$)")
_SEPARATORS = re.compile(r"[/\\]")
_LISTED_NAMES = 10


def entry_parts(name: str) -> tuple[str, ...]:
    """The folders and file name of an entry; refuses a name that could point outside the hand-in.

    Empty and ``.`` components are dropped, so ``./hw1//mlp.py`` is ``("hw1", "mlp.py")``.
    """
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ArchiveError(
            f"The entry name {shown(name)} contains a control character (such as NUL or a line "
            "break); rename the file and create the archive again."
        )
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise ArchiveError(
            f"The entry {shown(name)} has an absolute path; every entry must be a path relative "
            "to the archive, such as 'hw1/mlp.py'."
        )
    pieces = _SEPARATORS.split(name)
    if ".." in pieces:
        raise ArchiveError(
            f"The entry {shown(name)} contains '..', which would place it outside the archive's "
            "folder; create the archive from inside your project folder."
        )
    if "\\" in name:
        raise ArchiveError(
            f"The entry {shown(name)} contains a backslash; folders inside an archive must be "
            "separated with '/'. Create the archive with a tool that does this, such as "
            "'Compress' in your file manager."
        )
    return tuple(piece for piece in pieces if piece not in ("", "."))


def check_name_length(name: str, max_bytes: int) -> None:
    if len(name.encode("utf-8")) > max_bytes:
        raise ArchiveError(
            f"The entry name {shown(name)} is longer than {max_bytes} bytes; use shorter names."
        )


def is_junk(parts: Sequence[str]) -> bool:
    """macOS bookkeeping that archive tools add on their own: never part of the work handed in."""
    return "__MACOSX" in parts or parts[-1] == ".DS_Store" or parts[-1].startswith("._")


class UniqueNames:
    """Names taken one at a time, each refused as soon as it would overwrite an earlier one on
    extraction, or on a case-blind disk: the same name, names that differ only in case, and a
    name that is both a file and a folder."""

    def __init__(self) -> None:
        # By their case-folded form: the files taken (with their own names), and their folders.
        self._files: dict[str, str] = {}
        self._folders: set[str] = set()

    def add(self, name: str) -> None:
        key = name.casefold()
        earlier = self._files.get(key)
        if earlier == name:
            raise ArchiveError(f"The entry {shown(name)} appears twice in the archive.")
        if earlier is not None:
            raise ArchiveError(
                f"The entries {shown(earlier)} and {shown(name)} differ only in upper and lower "
                "case; rename one of them."
            )
        if key in self._folders:
            raise _file_and_folder(name)
        folders = [folder.casefold() for folder in _folders_of(name)]
        for folder in folders:
            if folder in self._files:
                raise _file_and_folder(self._files[folder])
        self._files[key] = name
        self._folders.update(folders)


def _file_and_folder(name: str) -> ArchiveError:
    return ArchiveError(f"{shown(name)} is both a file and a folder in the archive.")


def _folders_of(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


def locate_required(names: Sequence[str], required: Sequence[str]) -> tuple[str, list[str]]:
    """The top-level folder to strip ("" for none) and the required names still missing.

    Required names match exactly. When they do not all match as they are and every file sits in
    one common top-level folder (``hw1/mlp.py``), that folder is stripped if it makes more of them
    match; this is how students usually zip a folder.
    """
    missing = [name for name in required if name not in names]
    folder = _common_folder(names)
    if missing and folder:
        inside = {name.removeprefix(f"{folder}/") for name in names}
        missing_inside = [name for name in required if name not in inside]
        if len(missing_inside) < len(missing):
            return folder, missing_inside
    return "", missing


def _common_folder(names: Sequence[str]) -> str:
    tops = {name.split("/")[0] for name in names}
    if len(tops) == 1 and all("/" in name for name in names):
        return tops.pop()
    return ""


def missing_files_error(missing: Sequence[str], names: Sequence[str]) -> ArchiveError:
    holds = "The archive holds no files."
    if names:
        listed = ", ".join(sorted(names)[:_LISTED_NAMES])
        more = len(names) - _LISTED_NAMES
        holds = f"The archive holds: {listed}" + (f" and {more} more." if more > 0 else ".")
    return ArchiveError(
        f"Required files are missing: {', '.join(missing)}. Put them at the top of the archive "
        f"or inside one folder. {holds}"
    )
