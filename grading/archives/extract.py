"""Writing a checked hand-in's files into an empty folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from grading.archives.base import ArchiveError, CheckedHandIn, shown
from grading.archives.members import (
    FILE,
    Budget,
    Member,
    member_chunks,
    tar_members,
    zip_members,
)
from grading.archives.names import entry_parts

# tarfile reads in blocks, so the stream may be read a little past where the check stopped.
_TAR_SLACK = 64 * 1024
_CHANGED = "The stored hand-in no longer matches the one that was checked"


def handin_extract(*, path: Path, checked: CheckedHandIn, dest: Path) -> None:
    """Writes the checked regular files under ``dest`` (created if missing, refused if not empty).

    Assumes ``checked`` came from ``handin_check`` on this same file; every entry is still capped
    at its checked size. Links are never followed or created, and files are written 0644 whatever
    mode the archive gives them. On an error ``dest`` may hold part of the files: discard it.
    """
    wanted = _wanted(checked)
    if path.stat().st_size != checked.size:
        raise ArchiveError(f"{_CHANGED}: its size differs.")
    _prepare(dest)
    if checked.kind == "file":
        ((name, size),) = wanted.items()
        upload = Member(name, FILE, size, lambda: path.open("rb"))
        _write(dest, name, size, member_chunks(upload, size))
        return
    if checked.kind == "zip":
        members = zip_members(path)
    else:
        members = tar_members(path, Budget(checked.unpacked_size + _TAR_SLACK, f"{_CHANGED}."))
    with closing(members):
        for member in members:
            target = _target(member, checked.folder)
            if target in wanted:
                size = wanted.pop(target)
                _write(dest, target, size, member_chunks(member, size))
    if wanted:
        raise ArchiveError(f"{_CHANGED}: {shown(min(wanted))} is missing.")


def _wanted(checked: CheckedHandIn) -> dict[str, int]:
    """The entries by name, refusing any name that is not a clean relative path."""
    names = [entry.name for entry in checked.entries]
    clean = ["/".join(entry_parts(name)) for name in [*names, checked.folder]]
    if clean != [*names, checked.folder] or "/" in checked.folder or len(set(names)) != len(names):
        raise ValueError("The checked hand-in's names are not clean, distinct relative paths.")
    return {entry.name: entry.size for entry in checked.entries}


def _prepare(dest: Path) -> None:
    try:
        dest.mkdir(parents=True)
    except FileExistsError:
        if dest.is_symlink() or not dest.is_dir() or any(dest.iterdir()):
            raise ValueError(f"{dest} must be an empty folder to extract a hand-in into.") from None


def _target(member: Member, folder: str) -> str | None:
    if member.kind != FILE:
        return None
    name = "/".join(entry_parts(member.name))
    if not folder:
        return name
    return name.removeprefix(f"{folder}/") if name.startswith(f"{folder}/") else None


def _write(dest: Path, name: str, size: int, chunks: Iterable[bytes]) -> None:
    *folders, file_name = name.split("/")
    parent = dest
    for folder in folders:
        parent = parent / folder
        _make_folder(parent)
    # O_EXCL refuses an existing path, a planted link included; O_NOFOLLOW says so twice.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    written = 0
    with os.fdopen(os.open(parent / file_name, flags, 0o644), "wb") as out:
        for chunk in chunks:
            written += out.write(chunk)
    if written != size:
        raise ArchiveError(f"{_CHANGED}: {shown(name)} is shorter.")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o755)
    except FileExistsError:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            raise ArchiveError(f"{_CHANGED}: {shown(folder.name)} is not a folder.") from None
