"""Bad hand-in uploads, crafted as real bytes: each function returns ``(filename, content)``.

The zip and tar helpers write real archives; the tricky cases are then made by editing their
header bytes the way a hostile or broken tool would. Limits that a case is meant to break are
given beside it, since the defaults are far larger.
"""

from __future__ import annotations

import gzip
import io
import random
import stat
import struct
import tarfile
import warnings
import zipfile
import zlib

Upload = tuple[str, bytes]

MEBIBYTE = 1024 * 1024
# Breaks ``max_upload_bytes`` and ``max_total_bytes`` of 1 MB.
OVER_ONE_MEBIBYTE = 3 * MEBIBYTE // 2
_LOCAL, _CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
_ENCRYPTED, _UTF8 = 0x1, 0x800


def make_zip(files: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


def make_tar_gz(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT) as archive:
        for info, content in members:
            info.size = len(content) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(content) if info.isreg() else None)
    return buffer.getvalue()


def tar_entry(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for field, value in fields.items():
        setattr(info, field, value)
    return info


def random_bytes(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def _replace(data: bytes, old: bytes, new: bytes, count: int) -> bytes:
    assert data.count(old) == count, f"{old!r} found {data.count(old)} times, not {count}"
    return data.replace(old, new)


def _edit_headers(data: bytes, field: str, value: int, *, combine: bool = False) -> bytes:
    """Sets a field in every local and central header of a small zip whose data holds no 'PK'."""
    # (offset in a local header, offset in a central header, struct format)
    offsets = {
        "flags": (6, 8, "<H"),
        "method": (8, 10, "<H"),
        "crc": (14, 16, "<I"),
        "size": (22, 24, "<I"),
    }
    local, central, fmt = offsets[field]
    edited = bytearray(data)
    for signature, offset in ((_LOCAL, local), (_CENTRAL, central)):
        start = edited.find(signature)
        while start != -1:
            old = struct.unpack_from(fmt, edited, start + offset)[0]
            struct.pack_into(fmt, edited, start + offset, old | value if combine else value)
            start = edited.find(signature, start + 1)
    return bytes(edited)


def empty_upload() -> Upload:
    return "hw1.zip", b""


def oversized_upload() -> Upload:
    """Breaks a 1 MB ``max_upload_bytes``."""
    return "hw1.zip", make_zip([("weights.bin", random_bytes(OVER_ONE_MEBIBYTE))])


def plain_file_for_several() -> Upload:
    """Not an archive, for a hand-in that requires several files."""
    return "mlp.py", b"import torch\n"


def wrongly_named_file() -> Upload:
    """A single file for the required ``mlp.py``, but under another name."""
    return "my_mlp.py", b"import torch\n"


def zip_with_bad_crc() -> Upload:
    """One byte of the stored data changed after the checksum was written."""
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mlp.py", b"print('hello')\n")
    return "hw1.zip", _replace(stored.getvalue(), b"hello", b"jello", 1)


def truncated_zip() -> Upload:
    data = make_zip([("mlp.py", random_bytes(4000)), ("train.py", b"import mlp\n")])
    return "hw1.zip", data[: len(data) // 2]


def truncated_tar_gz() -> Upload:
    data = make_tar_gz([(tar_entry("mlp.py"), random_bytes(40_000))])
    return "hw1.tar.gz", data[: len(data) // 2]


def gzip_without_tar() -> Upload:
    return "hw1.tar.gz", gzip.compress(b"def forward(x):\n    return x\n" * 50)


def zip_with_too_many_files() -> Upload:
    """201 files, one over the default ``max_entries``."""
    return "hw1.zip", make_zip([(f"f{index}.py", b"") for index in range(201)])


def zip_with_too_many_folders() -> Upload:
    """801 folders: no files at all, but more entries than four times ``max_entries``."""
    return "hw1.zip", make_zip([(f"d{index}/", b"") for index in range(801)])


def zip_too_big_unpacked() -> Upload:
    """Breaks a 1 MB ``max_total_bytes``, as the headers say: nothing needs reading to see it."""
    return "hw1.zip", make_zip([("weights.bin", random_bytes(OVER_ONE_MEBIBYTE))])


def tar_gz_too_big_unpacked() -> Upload:
    """Breaks a 1 MB ``max_total_bytes`` in its second member, found while streaming."""
    half = random_bytes(OVER_ONE_MEBIBYTE // 2)
    return "hw1.tar.gz", make_tar_gz([(tar_entry("a.bin"), half), (tar_entry("b.bin"), half)])


def zip_bomb() -> Upload:
    """50 MB of zeros in about 50 KB."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        for _ in range(50):
            entry.write(bytes(MEBIBYTE))
    return "hw1.zip", buffer.getvalue()


def tar_gz_bomb() -> Upload:
    """50 MB of zeros in about 50 KB."""
    return "hw1.tar.gz", make_tar_gz([(tar_entry("zeros.bin"), bytes(50 * MEBIBYTE))])


def zip_with_lying_size() -> Upload:
    """The headers say 100 bytes; the data holds 2,000 and the checksum is of all of them."""
    data = make_zip([("mlp.py", b"x = 1\n" * 400)])
    return "hw1.zip", _edit_headers(data, "size", 100)


def zip_with_lying_size_and_crc() -> Upload:
    """Headers and checksum both say 100 bytes: accepted, but only those 100 are ever read."""
    content = b"x = 1\n" * 400
    data = _edit_headers(make_zip([("mlp.py", content)]), "size", 100)
    return "hw1.zip", _edit_headers(data, "crc", zlib.crc32(content[:100]))


def tar_gz_with_huge_pax_header() -> Upload:
    """20 MB of pax header before a tiny file: only the decompressed stream shows it."""
    info = tar_entry("mlp.py", pax_headers={"comment": "x" * (20 * MEBIBYTE)})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        info.size = 6
        archive.addfile(info, io.BytesIO(b"x = 1\n"))
    return "hw1.tar.gz", buffer.getvalue()


def zip_with_absolute_path() -> Upload:
    return "hw1.zip", make_zip([(zipfile.ZipInfo("/etc/cron.d/evil"), b"* * * * * root id\n")])


def zip_with_dotdot() -> Upload:
    return "hw1.zip", make_zip([(zipfile.ZipInfo("hw1/../../evil.py"), b"import os\n")])


def zip_with_windows_drive() -> Upload:
    return "hw1.zip", make_zip([(zipfile.ZipInfo("C:\\Users\\evil.py"), b"import os\n")])


def zip_with_backslash() -> Upload:
    return "hw1.zip", make_zip([(zipfile.ZipInfo("hw1\\mlp.py"), b"import torch\n")])


def zip_with_windows_dotdot() -> Upload:
    return "hw1.zip", make_zip([(zipfile.ZipInfo("..\\evil.py"), b"import os\n")])


def tar_with_absolute_path() -> Upload:
    return "hw1.tar.gz", make_tar_gz([(tar_entry("/tmp/evil.py"), b"import os\n")])


def tar_with_dotdot() -> Upload:
    return "hw1.tar.gz", make_tar_gz([(tar_entry("../evil.py"), b"import os\n")])


def _zip_with_mode(name: str, mode: int, content: bytes) -> bytes:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return make_zip([(info, content)])


def zip_with_symlink() -> Upload:
    return "hw1.zip", _zip_with_mode("data.py", stat.S_IFLNK | 0o777, b"/etc/passwd")


def zip_with_fifo() -> Upload:
    return "hw1.zip", _zip_with_mode("pipe", stat.S_IFIFO | 0o644, b"")


def tar_with_symlink() -> Upload:
    link = tar_entry("data.py", tarfile.SYMTYPE, linkname="/etc/passwd")
    return "hw1.tar.gz", make_tar_gz([(link, b"")])


def tar_with_hardlink() -> Upload:
    link = tar_entry("data.py", tarfile.LNKTYPE, linkname="etc/passwd")
    return "hw1.tar.gz", make_tar_gz([(link, b"")])


def tar_with_fifo() -> Upload:
    return "hw1.tar.gz", make_tar_gz([(tar_entry("pipe", tarfile.FIFOTYPE), b"")])


def tar_with_char_device() -> Upload:
    device = tar_entry("null", tarfile.CHRTYPE, devmajor=1, devminor=3)
    return "hw1.tar.gz", make_tar_gz([(device, b"")])


def zip_with_non_utf8_name() -> Upload:
    """``café.py`` in Latin-1, without the UTF-8 flag."""
    data = make_zip([("cafX.py", b"import torch\n")])
    return "hw1.zip", _replace(data, b"cafX.py", b"caf\xe9.py", 2)


def zip_with_false_utf8_flag() -> Upload:
    """The UTF-8 flag set on a name whose bytes are Latin-1."""
    data = make_zip([("cafX.py", b"import torch\n")])
    data = _replace(data, b"cafX.py", b"caf\xe9.py", 2)
    return "hw1.zip", _edit_headers(data, "flags", _UTF8, combine=True)


def tar_with_non_utf8_name() -> Upload:
    return "hw1.tar.gz", make_tar_gz([(tar_entry("caf\udce9.py"), b"import torch\n")])


def zip_with_case_clash() -> Upload:
    return "hw1.zip", make_zip([("Model.py", b"a = 1\n"), ("model.py", b"b = 2\n")])


def zip_with_same_name_twice() -> Upload:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return "hw1.zip", make_zip([("mlp.py", b"a = 1\n"), ("mlp.py", b"b = 2\n")])


def zip_with_file_and_folder_clash() -> Upload:
    return "hw1.zip", make_zip([("utils", b"a = 1\n"), ("utils/io.py", b"b = 2\n")])


def zip_with_long_name() -> Upload:
    """A 300-byte name, over the default ``max_name_bytes``."""
    return "hw1.zip", make_zip([("a" * 297 + ".py", b"a = 1\n")])


def zip_with_nul_in_name() -> Upload:
    data = make_zip([("mlpX.py", b"import torch\n")])
    return "hw1.zip", _replace(data, b"mlpX.py", b"mlp\x00.py", 2)


def zip_with_newline_in_name() -> Upload:
    return "hw1.zip", make_zip([("mlp\n.py", b"import torch\n")])


def zip_missing_required() -> Upload:
    """Holds ``hw1/model.py`` only, where ``mlp.py`` and ``train.py`` are required."""
    return "hw1.zip", make_zip([("hw1/model.py", b"import torch\n")])


def empty_zip() -> Upload:
    return "hw1.zip", make_zip([])


def zip_with_fake_pdf() -> Upload:
    return "hw1.zip", make_zip([("mlp.py", b"import torch\n"), ("report.pdf", b"PK\x03\x04docx")])


def fake_pdf_file() -> Upload:
    """A Word document renamed, handed in as the single required ``report.pdf``."""
    return "report.pdf", b"PK\x03\x04word/document.xml"


def zip_with_encrypted_entry() -> Upload:
    data = make_zip([("mlp.py", b"import torch\n")])
    return "hw1.zip", _edit_headers(data, "flags", _ENCRYPTED, combine=True)


def zip_with_unknown_method() -> Upload:
    """Method 9 (deflate64), which Python cannot read."""
    return "hw1.zip", _edit_headers(make_zip([("mlp.py", b"import torch\n")]), "method", 9)
