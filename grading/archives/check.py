"""Checking an upload before anything of it is stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from grading.archives.base import (
    MEBIBYTE,
    ArchiveError,
    ArchiveLimits,
    CheckedHandIn,
    Entry,
    megabytes,
    shown,
)
from grading.archives.members import (
    FILE,
    FOLDER,
    LINKS,
    Budget,
    Member,
    member_chunks,
    tar_members,
    zip_listing,
)
from grading.archives.names import (
    UniqueNames,
    check_name_length,
    entry_parts,
    is_junk,
    locate_required,
    missing_files_error,
)

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
_PDF_MAGIC = b"%PDF-"
# Folders and macOS junk are not counted as files, but a flood of them still costs work.
_MEMBERS_PER_ENTRY = 4
# Room for tar headers and padding (pax headers included) beside the files' own bytes.
_TAR_BYTES_PER_MEMBER = 8 * 1024
# Below this, a high ratio is harmless (a small file of zeros), so it is not held against anyone.
_RATIO_FLOOR = MEBIBYTE


@dataclass(frozen=True)
class _Found:
    name: str
    size: int
    head: bytes


def handin_check(
    *, path: Path, filename: str, required_files: Sequence[str], limits: ArchiveLimits
) -> CheckedHandIn:
    """Checks the upload in ``path`` (sent as ``filename``) or raises ArchiveError; writes nothing.

    The rules are described in ``grading.archives``.
    """
    size = path.stat().st_size
    _check_upload_size(size, limits)
    kind = _kind(path, filename, required_files)
    if kind == "file":
        return _single_file(path, filename, required_files, size, limits)
    listing = _Listing(size, limits)
    if kind == "zip":
        # The central directory states every entry, so all of them pass ``listing`` before
        # a byte of any is decompressed.
        with zip_listing(path) as members:
            admitted = listing.admit_all(members)
            found = [_read(member, name) for member, name in admitted]
        unpacked = listing.announced
    else:
        # A tar stream states each entry just before its data: each is refused on its header.
        budget = Budget(_tar_stream_limit(limits), _too_big(limits).message)
        with closing(tar_members(path, budget)) as members:
            found = [_read(member, name) for member, name in listing.admit_each(members)]
        unpacked = budget.used
    return _handin(kind, found, required_files, size, unpacked)


def _check_upload_size(size: int, limits: ArchiveLimits) -> None:
    if size == 0:
        raise ArchiveError("The upload is empty (0 bytes); choose your file and upload it again.")
    if size > limits.max_upload_bytes:
        raise ArchiveError(
            f"The upload is {megabytes(size)}; the limit is {megabytes(limits.max_upload_bytes)}. "
            "Leave out data sets, checkpoints and other large files."
        )


def _kind(path: Path, filename: str, required: Sequence[str]) -> Literal["zip", "tar.gz", "file"]:
    # The one required file itself may be a zip (a torch checkpoint, a .npz), so its name wins.
    if len(required) == 1 and _base_name(filename) == PurePosixPath(required[0]).name:
        return "file"
    with path.open("rb") as upload:
        magic = upload.read(4)
    if magic.startswith(_ZIP_MAGICS):
        return "zip"
    if magic.startswith(_GZIP_MAGIC):
        return "tar.gz"
    if len(required) > 1:
        raise ArchiveError(
            f"This hand-in needs several files ({', '.join(required)}), so upload them in one "
            f".zip or .tar.gz archive; {shown(_base_name(filename))} is not such an archive."
        )
    return "file"


def _base_name(filename: str) -> str:
    # Some browsers send the whole client path, Windows separators included.
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


def _single_file(
    path: Path, filename: str, required: Sequence[str], size: int, limits: ArchiveLimits
) -> CheckedHandIn:
    base = _base_name(filename)
    if required and base != PurePosixPath(required[0]).name:
        raise ArchiveError(
            f"The uploaded file is named {shown(base)}, but this hand-in needs "
            f"{shown(required[0])}; rename your file, or upload a .zip or .tar.gz archive "
            "holding it."
        )
    name = required[0] if required else _own_name(base, limits)
    with path.open("rb") as upload:
        _check_pdf(name, upload.read(len(_PDF_MAGIC)))
    return CheckedHandIn("file", (Entry(name, size),), size, size)


def _own_name(base: str, limits: ArchiveLimits) -> str:
    check_name_length(base, limits.max_name_bytes)
    parts = entry_parts(base)
    if not parts:
        raise ArchiveError("The upload has no file name; rename your file and upload it again.")
    return "/".join(parts)


class _Listing:
    """The checks that need only an entry's header: its name and kind, how many entries there are,
    a name met before, and the sizes the headers announce. ``announced`` sums those sizes."""

    def __init__(self, upload_size: int, limits: ArchiveLimits) -> None:
        self.upload_size = upload_size
        self.limits = limits
        self.members = 0
        self.files = 0
        self.announced = 0
        self.names = UniqueNames()

    def admit(self, member: Member) -> str | None:
        """The name to read the entry under, or None for a folder or macOS bookkeeping, which is
        not read; refuses the entry, or the archive, with ArchiveError."""
        limits = self.limits
        self.members += 1
        if self.members > _MEMBERS_PER_ENTRY * limits.max_entries:
            raise _too_many_members(limits)
        parts = _checked_parts(member, limits)
        if member.kind == FOLDER:
            return None
        self.announced += member.size
        _check_unpacked(self.announced, self.upload_size, limits)
        if is_junk(parts):
            return None
        if self.files == limits.max_entries:
            raise ArchiveError(
                f"The archive holds more than {limits.max_entries} files; the limit is "
                f"{limits.max_entries}. Leave out generated files and data."
            )
        self.files += 1
        name = "/".join(parts)
        self.names.add(name)
        return name

    def admit_each(self, members: Iterable[Member]) -> Iterator[tuple[Member, str]]:
        """The file entries to read with their names, each admitted when it is reached."""
        for member in members:
            name = self.admit(member)
            if name is not None:
                yield member, name

    def admit_all(self, members: Iterable[Member]) -> list[tuple[Member, str]]:
        """The file entries to read with their names, once every entry is admitted."""
        return list(self.admit_each(members))


def _checked_parts(member: Member, limits: ArchiveLimits) -> tuple[str, ...]:
    check_name_length(member.name, limits.max_name_bytes)
    parts = entry_parts(member.name)
    if member.kind in LINKS:
        raise ArchiveError(
            f"The entry {shown(member.name)} is a {member.kind}; links are not allowed in a "
            "hand-in, so put the file itself in the archive."
        )
    if member.kind not in (FILE, FOLDER):
        raise ArchiveError(
            f"The entry {shown(member.name)} is a {member.kind}; only regular files and folders "
            "are allowed in a hand-in."
        )
    if member.kind == FILE and not parts:
        raise ArchiveError(f"The entry {shown(member.name)} is a file without a name.")
    return parts


def _check_unpacked(announced: int, upload_size: int, limits: ArchiveLimits) -> None:
    if announced > limits.max_total_bytes:
        raise _too_big(limits)
    if announced > _RATIO_FLOOR and announced > limits.max_ratio * upload_size:
        raise ArchiveError(
            f"The archive is {megabytes(upload_size)} but unpacks to more than {limits.max_ratio} "
            f"times that ({megabytes(announced)} or more); an archive that expands this much is "
            "refused as a possible zip bomb."
        )


def _too_big(limits: ArchiveLimits) -> ArchiveError:
    return ArchiveError(
        f"The archive unpacks to more than {megabytes(limits.max_total_bytes)}, the most a hand-in "
        "may hold; leave out data sets, checkpoints and other large files."
    )


def _too_many_members(limits: ArchiveLimits) -> ArchiveError:
    ceiling = _MEMBERS_PER_ENTRY * limits.max_entries
    return ArchiveError(
        f"The archive has more than {ceiling} entries, counting folders and macOS metadata; a "
        f"hand-in may hold at most {limits.max_entries} files."
    )


def _tar_stream_limit(limits: ArchiveLimits) -> int:
    members = _MEMBERS_PER_ENTRY * limits.max_entries
    return limits.max_total_bytes + members * _TAR_BYTES_PER_MEMBER


def _read(member: Member, name: str) -> _Found:
    # Reading to the end is what makes zipfile compare each entry's CRC.
    size = 0
    head = b""
    for chunk in member_chunks(member, member.size):
        head += chunk[: len(_PDF_MAGIC) - len(head)]
        size += len(chunk)
    return _Found(name, size, head)


def _handin(
    kind: Literal["zip", "tar.gz"],
    found: list[_Found],
    required: Sequence[str],
    size: int,
    unpacked: int,
) -> CheckedHandIn:
    names = [file.name for file in found]
    folder, missing = locate_required(names, required)
    if missing:
        raise missing_files_error(missing, names)
    if not found:
        raise ArchiveError("The archive holds no files; put your files in it and upload it again.")
    for file in found:
        _check_pdf(file.name, file.head)
    prefix = f"{folder}/" if folder else ""
    entries = tuple(Entry(file.name.removeprefix(prefix), file.size) for file in found)
    return CheckedHandIn(kind, entries, size, unpacked, folder)


def _check_pdf(name: str, head: bytes) -> None:
    if name.lower().endswith(".pdf") and not head.startswith(_PDF_MAGIC):
        raise ArchiveError(
            f"{name} is not a PDF: its content does not start the way every PDF does ('%PDF-'). "
            "Export or print it to PDF again."
        )
