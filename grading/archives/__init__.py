"""Checking a student's upload before it is stored, and extracting it safely for grading.

``handin_check`` decides what the upload is by its content, not its name: a zip (``PK\\x03\\x04``,
or ``PK\\x05\\x06`` when empty), a gzip-compressed tar, or a single file. A single file is
accepted when exactly one file is required and the upload's name equals that file's name (then
it is that file even if its bytes look like a zip, as a torch checkpoint does), or when no file is
required (then it keeps its own name). Several required files need an archive.

Inside an archive, only regular files and folders are allowed; links, devices, FIFOs and other
entries are refused, as are names that are absolute, contain ``..`` or a backslash, are not UTF-8,
hold control characters, exceed the name limit (the whole path, in UTF-8 bytes), or clash with
another name when upper and lower case are ignored. Encrypted entries are refused. Folders are
allowed and not listed. macOS bookkeeping (anything under ``__MACOSX/``, ``.DS_Store`` and ``._*``
files) is neither counted as a file nor extracted, though its size counts toward the limits.

Sizes are taken from the headers first and then counted while reading, and reading stops at what
the header said: the total may not exceed ``max_total_bytes`` nor, above 1 MB, ``max_ratio`` times
the upload's size. Whatever a header alone shows (a bad name or kind, too many entries, a name met
before, announced sizes over a limit) is refused before any data is decompressed: for a zip, every
entry of its central directory is checked first; a tar stream is refused at the first such header.
Every entry is then read once during the check, so a damaged one is refused there.

Required files match exactly. When they do not all match as they are and every file sits in one
common top-level folder (``hw1/mlp.py``), that folder is stripped if more of them match that way,
and the stripped folder is kept in ``CheckedHandIn.folder``. A file named ``*.pdf`` must start
with ``%PDF-``.
"""

from grading.archives.base import ArchiveError, ArchiveLimits, CheckedHandIn, Entry
from grading.archives.check import handin_check
from grading.archives.extract import handin_extract

__all__ = [
    "ArchiveError",
    "ArchiveLimits",
    "CheckedHandIn",
    "Entry",
    "handin_check",
    "handin_extract",
]
