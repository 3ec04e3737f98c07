"""handin_check refuses each bad upload with its own message; handin_extract writes what passed."""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from grading.archives import (
    ArchiveError,
    ArchiveLimits,
    CheckedHandIn,
    Entry,
    handin_check,
    handin_extract,
)
from tests.submissions import bad_uploads as bad
from tests.submissions.bad_uploads import MEBIBYTE, Upload, make_tar_gz, make_zip, tar_entry

LIMITS = ArchiveLimits(max_upload_bytes=20 * MEBIBYTE)
ONE_MB_UPLOAD = ArchiveLimits(max_upload_bytes=MEBIBYTE)
ONE_MB_UNPACKED = ArchiveLimits(max_upload_bytes=20 * MEBIBYTE, max_total_bytes=MEBIBYTE)
SEVERAL = ("mlp.py", "train.py")
MLP = b"import torch\n\nclass MLP(torch.nn.Module):\n    pass\n"
TRAIN = b"from mlp import MLP\n"


def stored(tmp_path: Path, upload: Upload) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(upload[1])
    return path


def check(
    tmp_path: Path,
    upload: Upload,
    required: Sequence[str] = SEVERAL,
    limits: ArchiveLimits = LIMITS,
) -> CheckedHandIn:
    path = stored(tmp_path, upload)
    return handin_check(path=path, filename=upload[0], required_files=required, limits=limits)


def refusal(tmp_path: Path, upload: Upload, required: Sequence[str], limits: ArchiveLimits) -> str:
    with pytest.raises(ArchiveError) as caught:
        check(tmp_path, upload, required, limits)
    # The check itself writes nothing, so there is no extraction to undo.
    assert [path.name for path in tmp_path.iterdir()] == ["upload"]
    return caught.value.message


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


REFUSALS = [
    (bad.empty_upload, (), LIMITS, "The upload is empty"),
    (bad.oversized_upload, (), ONE_MB_UPLOAD, "The upload is 1.5 MB; the limit is 1 MB."),
    (bad.plain_file_for_several, SEVERAL, LIMITS, "needs several files (mlp.py, train.py)"),
    (
        bad.wrongly_named_file,
        ("mlp.py",),
        LIMITS,
        "named 'my_mlp.py', but this hand-in needs 'mlp.py'",
    ),
    (bad.zip_with_bad_crc, (), LIMITS, "The entry 'mlp.py' is damaged"),
    (bad.zip_with_lying_size, (), LIMITS, "The entry 'mlp.py' is damaged"),
    (bad.truncated_zip, (), LIMITS, "The zip archive is damaged or incomplete"),
    (bad.truncated_tar_gz, (), LIMITS, "The .tar.gz archive is damaged or incomplete"),
    (bad.gzip_without_tar, (), LIMITS, "gzip-compressed but holds no tar archive"),
    (bad.zip_with_too_many_files, (), LIMITS, "holds more than 200 files; the limit is 200"),
    (bad.zip_with_too_many_folders, (), LIMITS, "has more than 800 entries, counting folders"),
    (bad.zip_too_big_unpacked, (), ONE_MB_UNPACKED, "unpacks to more than 1 MB"),
    (bad.tar_gz_too_big_unpacked, (), ONE_MB_UNPACKED, "unpacks to more than 1 MB"),
    (bad.tar_gz_with_huge_pax_header, (), ONE_MB_UNPACKED, "unpacks to more than 1 MB"),
    (bad.zip_bomb, (), LIMITS, "more than 100 times that (50 MB or more)"),
    (bad.tar_gz_bomb, (), LIMITS, "more than 100 times that (50 MB or more)"),
    (bad.zip_with_absolute_path, (), LIMITS, "The entry '/etc/cron.d/evil' has an absolute path"),
    (bad.zip_with_windows_drive, (), LIMITS, "The entry 'C:\\Users\\evil.py' has an absolute path"),
    (bad.tar_with_absolute_path, (), LIMITS, "The entry '/tmp/evil.py' has an absolute path"),
    (bad.zip_with_dotdot, (), LIMITS, "The entry 'hw1/../../evil.py' contains '..'"),
    (bad.zip_with_windows_dotdot, (), LIMITS, "The entry '..\\evil.py' contains '..'"),
    (bad.tar_with_dotdot, (), LIMITS, "The entry '../evil.py' contains '..'"),
    (bad.zip_with_backslash, (), LIMITS, "The entry 'hw1\\mlp.py' contains a backslash"),
    (bad.zip_with_symlink, (), LIMITS, "The entry 'data.py' is a symbolic link"),
    (bad.tar_with_symlink, (), LIMITS, "The entry 'data.py' is a symbolic link"),
    (bad.tar_with_hardlink, (), LIMITS, "The entry 'data.py' is a hard link"),
    (bad.zip_with_fifo, (), LIMITS, "The entry 'pipe' is a FIFO (named pipe); only regular"),
    (bad.tar_with_fifo, (), LIMITS, "The entry 'pipe' is a FIFO (named pipe); only regular"),
    (bad.tar_with_char_device, (), LIMITS, "The entry 'null' is a character device; only regular"),
    (bad.zip_with_non_utf8_name, (), LIMITS, "The entry name 'caf\\xe9.py' is not valid UTF-8"),
    (bad.zip_with_false_utf8_flag, (), LIMITS, "The entry name 'caf\\xe9.py' is not valid UTF-8"),
    (bad.tar_with_non_utf8_name, (), LIMITS, "The entry name 'caf\\xe9.py' is not valid UTF-8"),
    (bad.zip_with_case_clash, (), LIMITS, "'Model.py' and 'model.py' differ only in upper and"),
    (bad.zip_with_same_name_twice, (), LIMITS, "The entry 'mlp.py' appears twice"),
    (bad.zip_with_file_and_folder_clash, (), LIMITS, "'utils' is both a file and a folder"),
    (bad.zip_with_long_name, (), LIMITS, "is longer than 255 bytes"),
    (bad.zip_with_nul_in_name, (), LIMITS, "'mlp\\x00.py' contains a control character"),
    (bad.zip_with_newline_in_name, (), LIMITS, "'mlp\\n.py' contains a control character"),
    (bad.zip_missing_required, SEVERAL, LIMITS, "missing: mlp.py, train.py."),
    (bad.empty_zip, (), LIMITS, "The archive holds no files"),
    (bad.zip_with_fake_pdf, (), LIMITS, "report.pdf is not a PDF"),
    (bad.fake_pdf_file, ("report.pdf",), LIMITS, "report.pdf is not a PDF"),
    (bad.zip_with_encrypted_entry, (), LIMITS, "The entry 'mlp.py' is encrypted"),
    (bad.zip_with_unknown_method, (), LIMITS, "'mlp.py' is compressed with a method this site"),
]


@pytest.mark.parametrize(
    ("make", "required", "limits", "message"),
    [pytest.param(*case, id=case[0].__name__) for case in REFUSALS],
)
def test_it_refuses_each_bad_upload_with_its_own_message(
    tmp_path: Path,
    make: Callable[[], Upload],
    required: Sequence[str],
    limits: ArchiveLimits,
    message: str,
) -> None:
    assert message in refusal(tmp_path, make(), required, limits)


def test_it_lists_what_the_archive_holds_when_required_files_are_missing(tmp_path: Path) -> None:
    message = refusal(tmp_path, bad.zip_missing_required(), SEVERAL, LIMITS)
    assert message.endswith("The archive holds: hw1/model.py.")


def test_it_accepts_a_zip(tmp_path: Path) -> None:
    upload = ("hw1.zip", make_zip([("mlp.py", MLP), ("train.py", TRAIN), ("data/", b"")]))
    checked = check(tmp_path, upload)
    entries = (Entry("mlp.py", len(MLP)), Entry("train.py", len(TRAIN)))
    assert checked == CheckedHandIn("zip", entries, len(upload[1]), len(MLP) + len(TRAIN))


def test_it_accepts_a_tar_gz_made_from_inside_the_folder(tmp_path: Path) -> None:
    members = [(tar_entry(".", tarfile.DIRTYPE), b""), (tar_entry("./mlp.py"), MLP)]
    members += [(tar_entry("./utils", tarfile.DIRTYPE), b""), (tar_entry("./utils/io.py"), TRAIN)]
    members += [(tar_entry("./train.py"), TRAIN)]
    checked = check(tmp_path, ("hw1.tgz", make_tar_gz(members)))
    assert checked.kind == "tar.gz"
    assert [entry.name for entry in checked.entries] == ["mlp.py", "utils/io.py", "train.py"]


def test_it_accepts_exactly_the_file_limit(tmp_path: Path) -> None:
    files = [("mlp.py", MLP), ("train.py", TRAIN)] + [(f"f{i}.py", b"") for i in range(198)]
    assert len(check(tmp_path, ("hw1.zip", make_zip(files))).entries) == 200


def test_it_accepts_a_single_file_under_the_required_name(tmp_path: Path) -> None:
    checked = check(tmp_path, ("mlp.py", MLP), required=("mlp.py",))
    assert checked == CheckedHandIn("file", (Entry("mlp.py", len(MLP)),), len(MLP), len(MLP))


def test_it_files_a_single_file_at_its_required_path(tmp_path: Path) -> None:
    checked = check(tmp_path, ("C:\\fakepath\\mlp.py", MLP), required=("src/mlp.py",))
    assert checked.entries == (Entry("src/mlp.py", len(MLP)),)


def test_it_takes_a_required_checkpoint_as_a_file_though_it_is_a_zip(tmp_path: Path) -> None:
    checkpoint = make_zip([("archive/data.pkl", b"\x80\x02}q\x00.")])
    checked = check(tmp_path, ("model.pt", checkpoint), required=("model.pt",))
    assert (checked.kind, checked.entries) == ("file", (Entry("model.pt", len(checkpoint)),))


def test_it_keeps_the_name_of_a_single_file_when_none_is_required(tmp_path: Path) -> None:
    pdf = b"%PDF-1.7\n..."
    checked = check(tmp_path, ("report.pdf", pdf), required=())
    assert checked.entries == (Entry("report.pdf", len(pdf)),)


def test_it_strips_one_top_level_folder(tmp_path: Path) -> None:
    files = [("hw1/mlp.py", MLP), ("hw1/train.py", TRAIN), ("hw1/utils/io.py", b"")]
    checked = check(tmp_path, ("hw1.zip", make_zip(files)))
    assert checked.folder == "hw1"
    assert [entry.name for entry in checked.entries] == ["mlp.py", "train.py", "utils/io.py"]


def test_it_keeps_a_top_level_folder_that_the_required_names_include(tmp_path: Path) -> None:
    files = [("src/model.py", MLP), ("src/utils.py", TRAIN)]
    checked = check(tmp_path, ("hw1.zip", make_zip(files)), required=("src/model.py",))
    assert (checked.folder, checked.entries[0].name) == ("", "src/model.py")


def test_it_ignores_macos_junk(tmp_path: Path) -> None:
    files = [("hw1/mlp.py", MLP), ("hw1/train.py", TRAIN), ("hw1/.DS_Store", b"\0\0\0\1Bud1")]
    files += [("__MACOSX/hw1/._mlp.py", b"\0\5\26\7"), ("hw1/._train.py", b"\0\5\26\7")]
    checked = check(tmp_path, ("hw1.zip", make_zip(files)))
    assert [entry.name for entry in checked.entries] == ["mlp.py", "train.py"]


def test_it_lets_an_archive_under_one_mb_expand_freely(tmp_path: Path) -> None:
    files = [("mlp.py", MLP), ("train.py", TRAIN), ("zeros.npy", bytes(900 * 1024))]
    assert check(tmp_path, ("hw1.zip", make_zip(files))).entries[2] == Entry("zeros.npy", 921_600)


def test_it_accepts_a_real_pdf(tmp_path: Path) -> None:
    files = [("mlp.py", MLP), ("train.py", TRAIN), ("report.pdf", b"%PDF-1.4\n%\xe2\xe3\n")]
    assert len(check(tmp_path, ("hw1.zip", make_zip(files))).entries) == 3


def damaged_first_entry(files: list[tuple[str, bytes]]) -> Upload:
    """A zip of ``files`` whose first entry's compressed data is overwritten in its middle: any
    check that decompresses that entry refuses the zip as damaged."""
    with warnings.catch_warnings():
        # zipfile warns of a name written twice, which is what some of these zips are for.
        warnings.simplefilter("ignore", UserWarning)
        data = bytearray(make_zip(files))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
    start = first.header_offset + 30 + len(first.filename.encode())
    middle = start + first.compress_size // 2
    data[middle : middle + 64] = bytes(range(64))
    return ("hw1.zip", bytes(data))


# 64 MB of zeros packs into about 64 kB: a ratio only these limits let through.
LENIENT_RATIO = replace(LIMITS, max_ratio=100_000)
ZEROS = bytes(64 * MEBIBYTE)


def test_it_refuses_a_duplicate_name_before_decompressing_the_bomb_before_it(
    tmp_path: Path,
) -> None:
    upload = damaged_first_entry([("mlp.py", ZEROS), ("mlp.py", MLP)])
    damaged = damaged_first_entry([("mlp.py", ZEROS), ("train.py", MLP)])
    # Without the duplicate, the damaged 64 MB entry is read, and refused as damaged.
    assert "The entry 'mlp.py' is damaged" in refusal(tmp_path, damaged, (), LENIENT_RATIO)
    (tmp_path / "upload").unlink()
    assert "The entry 'mlp.py' appears twice" in refusal(tmp_path, upload, (), LENIENT_RATIO)


def test_it_refuses_an_announced_size_over_the_limit_before_decompressing_anything(
    tmp_path: Path,
) -> None:
    upload = damaged_first_entry([("zeros.npy", ZEROS), ("big.npy", bytes(bad.OVER_ONE_MEBIBYTE))])
    limits = replace(ONE_MB_UNPACKED, max_total_bytes=65 * MEBIBYTE, max_ratio=100_000)
    assert "unpacks to more than 65 MB" in refusal(tmp_path, upload, (), limits)


def test_it_refuses_too_many_files_before_decompressing_anything(tmp_path: Path) -> None:
    files = [("zeros.npy", ZEROS)] + [(f"f{index}.py", b"") for index in range(3)]
    limits = replace(LENIENT_RATIO, max_entries=3)
    assert "holds more than 3 files" in refusal(tmp_path, damaged_first_entry(files), (), limits)


def test_it_refuses_a_duplicate_name_in_a_tar_stream_at_its_header(tmp_path: Path) -> None:
    # The second 'mlp.py' announces 10 MB that the stream does not hold: reading it would
    # refuse the archive as damaged, so the refusal shows its header alone was looked at.
    first, second = tar_entry("mlp.py", size=len(MLP)), tar_entry("mlp.py", size=10 * MEBIBYTE)
    stream = first.tobuf(tarfile.GNU_FORMAT) + MLP.ljust(512, b"\0")
    stream += second.tobuf(tarfile.GNU_FORMAT)
    upload = ("hw1.tar.gz", gzip.compress(stream))
    assert "The entry 'mlp.py' appears twice" in refusal(tmp_path, upload, (), LENIENT_RATIO)
    renamed = tar_entry("net.py", size=second.size).tobuf(tarfile.GNU_FORMAT)
    truncated = ("hw1.tar.gz", gzip.compress(stream[:1024] + renamed))
    (tmp_path / "upload").unlink()
    assert "'net.py' is damaged" in refusal(tmp_path, truncated, (), LENIENT_RATIO)


def test_it_reads_a_zip_entry_no_further_than_its_header_says(tmp_path: Path) -> None:
    checked = check(tmp_path, bad.zip_with_lying_size_and_crc(), required=())
    handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    assert checked.entries == (Entry("mlp.py", 100),)
    assert (tmp_path / "job" / "mlp.py").read_bytes() == b"x = 1\n" * 16 + b"x = "


def extracted(
    tmp_path: Path, upload: Upload, required: Sequence[str] = SEVERAL
) -> dict[str, bytes]:
    checked = check(tmp_path, upload, required)
    handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    return tree(tmp_path / "job")


def test_it_extracts_exactly_the_files_of_a_zip(tmp_path: Path) -> None:
    files = [("hw1/mlp.py", MLP), ("hw1/train.py", TRAIN), ("hw1/data/x.npy", bytes(range(256)))]
    files += [("__MACOSX/hw1/._mlp.py", b"\0\5\26\7"), ("hw1/.DS_Store", b"Bud1")]
    expected = {"mlp.py": MLP, "train.py": TRAIN, "data/x.npy": bytes(range(256))}
    assert extracted(tmp_path, ("hw1.zip", make_zip(files))) == expected


def test_it_extracts_exactly_the_files_of_a_tar_gz(tmp_path: Path) -> None:
    members = [(tar_entry("hw1", tarfile.DIRTYPE), b""), (tar_entry("hw1/mlp.py"), MLP)]
    members += [(tar_entry("hw1/._mlp.py"), b"\0\5\26\7"), (tar_entry("hw1/train.py"), TRAIN)]
    upload = ("hw1.tar.gz", make_tar_gz(members))
    assert extracted(tmp_path, upload) == {"mlp.py": MLP, "train.py": TRAIN}


def test_it_extracts_a_single_file(tmp_path: Path) -> None:
    assert extracted(tmp_path, ("mlp.py", MLP), ("src/mlp.py",)) == {"src/mlp.py": MLP}


def test_it_writes_only_regular_files_and_folders_inside_dest(tmp_path: Path) -> None:
    files = [("mlp.py", MLP), ("train.py", TRAIN), ("a/b/c.py", b"")]
    extracted(tmp_path, ("hw1.zip", make_zip(files)))
    job = tmp_path / "job"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["job", "upload"]
    assert all(not path.is_symlink() for path in job.rglob("*"))
    assert all(path.resolve().is_relative_to(job.resolve()) for path in job.rglob("*"))


def checked_zip(tmp_path: Path) -> CheckedHandIn:
    return check(tmp_path, ("hw1.zip", make_zip([("mlp.py", MLP), ("train.py", TRAIN)])))


def test_it_refuses_a_dest_that_is_not_empty(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "mlp.py").write_bytes(b"old")
    with pytest.raises(ValueError, match="must be an empty folder"):
        handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    assert (tmp_path / "job" / "mlp.py").read_bytes() == b"old"


def test_it_refuses_a_dest_that_is_a_link(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "job").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="must be an empty folder"):
        handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_it_stops_extraction_at_the_checked_size(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    lying = replace(checked, entries=(Entry("mlp.py", 10), Entry("train.py", len(TRAIN))))
    with pytest.raises(ArchiveError, match="holds more than the 10 bytes expected"):
        handin_extract(path=tmp_path / "upload", checked=lying, dest=tmp_path / "job")
    assert (tmp_path / "job" / "mlp.py").stat().st_size <= 10


def test_it_stops_a_tar_stream_past_what_the_check_unpacked(tmp_path: Path) -> None:
    members = [(tar_entry("mlp.py"), MLP * 3000), (tar_entry("train.py"), TRAIN)]
    checked = check(tmp_path, ("hw1.tar.gz", make_tar_gz(members)))
    with pytest.raises(ArchiveError, match="no longer matches"):
        handin_extract(
            path=tmp_path / "upload",
            checked=replace(checked, unpacked_size=0),
            dest=tmp_path / "job",
        )


def test_it_refuses_an_upload_that_changed_since_the_check(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    (tmp_path / "upload").write_bytes(make_zip([("mlp.py", MLP * 2), ("train.py", TRAIN)]))
    with pytest.raises(ArchiveError, match="its size differs"):
        handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    assert not (tmp_path / "job").exists()


def test_it_refuses_an_entry_shorter_than_checked(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    longer = replace(checked, entries=(Entry("mlp.py", len(MLP) + 1), checked.entries[1]))
    with pytest.raises(ArchiveError, match=re.escape("'mlp.py' is shorter")):
        handin_extract(path=tmp_path / "upload", checked=longer, dest=tmp_path / "job")


def test_it_refuses_a_checked_entry_the_archive_lacks(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    padded = replace(checked, entries=(*checked.entries, Entry("extra.py", 1)))
    with pytest.raises(ArchiveError, match=re.escape("'extra.py' is missing")):
        handin_extract(path=tmp_path / "upload", checked=padded, dest=tmp_path / "job")


def test_it_writes_nothing_outside_dest_for_a_forged_name(tmp_path: Path) -> None:
    path = stored(tmp_path, ("evil.py", b"import os\n"))
    forged = CheckedHandIn("file", (Entry("../evil.py", 10),), 10, 10)
    with pytest.raises(ArchiveError, match=re.escape("contains '..'")):
        handin_extract(path=path, checked=forged, dest=tmp_path / "job" / "inner")
    assert sorted(os.listdir(tmp_path)) == ["upload"]


def test_it_refuses_a_dest_holding_a_planted_link(tmp_path: Path) -> None:
    checked = checked_zip(tmp_path)
    (tmp_path / "target").write_bytes(b"keep")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "mlp.py").symlink_to(tmp_path / "target")
    with pytest.raises(ValueError, match="must be an empty folder"):
        handin_extract(path=tmp_path / "upload", checked=checked, dest=tmp_path / "job")
    assert (tmp_path / "target").read_bytes() == b"keep"
