"""Reading zip and tar.gz archives one member at a time, with every byte counted."""

from __future__ import annotations

import gzip
import io
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

from grading.archives.base import ArchiveError, shown, shown_bytes

CHUNK = 64 * 1024
FILE, FOLDER = "file", "folder"
LINKS = ("symbolic link", "hard link")

_ZIP_ENCRYPTED = 0x1
_ZIP_UTF8 = 0x800
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_MODE_KINDS = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO (named pipe)",
    stat.S_IFSOCK: "socket",
}
# What the decompressors and the two archive modules raise on damaged data.
_READ_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


@dataclass(frozen=True)
class Member:
    """One entry as the archive states it: ``kind`` is ``file``, ``folder`` or what else it is."""

    name: str
    kind: str
    size: int
    open: Callable[[], IO[bytes]]


@dataclass
class Budget:
    """Decompressed bytes a tar stream may produce, headers included; past ``limit``, refuse."""

    limit: int
    message: str
    used: int = 0

    def spend(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise ArchiveError(self.message)


def member_chunks(member: Member, cap: int) -> Iterator[bytes]:
    """The member's data, refused once it passes ``cap`` bytes, whatever its header says."""
    read = 0
    try:
        with member.open() as stream:
            while chunk := stream.read(min(CHUNK, cap - read + 1)):
                read += len(chunk)
                if read > cap:
                    raise ArchiveError(
                        f"The entry {shown(member.name)} holds more than the {cap} bytes expected "
                        "of it; the archive is damaged."
                    )
                yield chunk
    except _READ_ERRORS as error:
        raise ArchiveError(
            f"The entry {shown(member.name)} is damaged (its data ends early or does not match its "
            "checksum); create the archive again and upload it."
        ) from error


def not_utf8_error(raw: bytes) -> ArchiveError:
    return ArchiveError(
        f"The entry name {shown_bytes(raw)} is not valid UTF-8; rename the file using plain "
        "letters, digits, '-' and '_', and create the archive again."
    )


@contextmanager
def zip_listing(path: Path) -> Iterator[Iterator[Member]]:
    """The members as the zip's central directory states them, one at a time and without reading
    any data; each member can be read until the block ends."""
    with _open_zip(path) as archive:
        yield (_zip_member(archive, info) for info in archive.infolist())


def zip_members(path: Path) -> Generator[Member, None, None]:
    with zip_listing(path) as members:
        yield from members


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except UnicodeDecodeError as error:
        # Raised for an entry flagged as UTF-8 whose name is not; ``object`` holds its bytes.
        raise not_utf8_error(bytes(error.object)) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ArchiveError(
            "The zip archive is damaged or incomplete (its table of contents cannot be read), "
            "perhaps because the upload was cut short; create it again and upload it."
        ) from error


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Member:
    name = _zip_name(info)
    if info.flag_bits & _ZIP_ENCRYPTED:
        raise ArchiveError(
            f"The entry {shown(name)} is encrypted; upload an archive without a password."
        )
    if info.compress_type not in _ZIP_METHODS:
        raise ArchiveError(
            f"The entry {shown(name)} is compressed with a method this site cannot read; create "
            "the archive with ordinary zip compression (deflate)."
        )
    return Member(name, _zip_kind(info), info.file_size, partial(archive.open, info))


def _zip_name(info: zipfile.ZipInfo) -> str:
    # ``orig_filename`` keeps what ``filename`` cuts at a NUL, so a NUL is still seen and refused.
    if info.flag_bits & _ZIP_UTF8:
        return info.orig_filename
    # Without the flag, zipfile decoded the bytes as cp437, which maps all 256 of them back.
    raw = info.orig_filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8_error(raw) from None


def _zip_kind(info: zipfile.ZipInfo) -> str:
    # Unix tools keep the file's mode in the high 16 bits; unzip makes a symlink when it says so.
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type in _MODE_KINDS:
        return _MODE_KINDS[file_type]
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "special entry"
    return FOLDER if info.is_dir() or file_type == stat.S_IFDIR else FILE


class _MeteredGzip(io.RawIOBase):
    """The decompressed stream, charged to a budget, with damaged gzip data refused by name."""

    def __init__(self, source: gzip.GzipFile, budget: Budget) -> None:
        super().__init__()
        self._source = source
        self._budget = budget

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        try:
            data = self._source.read(size if size >= 0 else CHUNK)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ArchiveError(
                "The .tar.gz archive is damaged or incomplete (its compressed data ends early or "
                "is corrupt); create it again and upload it."
            ) from error
        self._budget.spend(len(data))
        return data


def tar_members(path: Path, budget: Budget) -> Generator[Member, None, None]:
    # A stream of our own, rather than mode "r:gz", so a huge pax or long-name header, which
    # tarfile reads whole into memory, is stopped by the budget while it is being read.
    with (
        path.open("rb") as raw,
        gzip.GzipFile(fileobj=raw, mode="rb") as unzipped,
        _open_tar(_MeteredGzip(unzipped, budget)) as archive,
    ):
        for info in _tar_infos(archive):
            yield _tar_member(archive, info)


def _open_tar(stream: _MeteredGzip) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape")
    except tarfile.TarError as error:
        raise ArchiveError(
            "The upload is gzip-compressed but holds no tar archive; upload a .tar.gz or a .zip "
            "archive of your files."
        ) from error


def _tar_infos(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    try:
        while (info := archive.next()) is not None:
            yield info
    except tarfile.TarError as error:
        raise ArchiveError(
            "The .tar.gz archive is damaged or incomplete; create it again and upload it."
        ) from error


def _tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Member:
    try:
        info.name.encode("utf-8")
    except UnicodeEncodeError:
        raise not_utf8_error(info.name.encode("utf-8", errors="surrogateescape")) from None
    return Member(info.name, _tar_kind(info), info.size, partial(_tar_data, archive, info))


def _tar_kind(info: tarfile.TarInfo) -> str:
    kinds = [
        (info.isreg, FILE),
        (info.isdir, FOLDER),
        (info.issym, "symbolic link"),
        (info.islnk, "hard link"),
        (info.ischr, "character device"),
        (info.isblk, "block device"),
        (info.isfifo, "FIFO (named pipe)"),
    ]
    return next((kind for test, kind in kinds if test()), "special entry")


def _tar_data(archive: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    stream = archive.extractfile(info)
    if stream is None:
        raise ArchiveError(f"The entry {shown(info.name)} has no data; the archive is damaged.")
    return stream
