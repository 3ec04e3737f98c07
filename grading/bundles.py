"""Autograder bundles: reading and checking one before anything of it runs.

A native bundle is a folder (or a zip of one) holding ``autograder.toml``, ``driver.py``,
``grader.py`` and, optionally, ``public/`` and ``private/``; ``docs/autograders.md`` describes
the format. A folder with ``setup.sh`` and ``run_autograder`` and no ``autograder.toml`` is a
Gradescope-style bundle. Every problem is a ``BundleError`` whose message names the file and the
key at fault, so an instructor can fix it without reading this code.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from grading.archives import ArchiveError, ArchiveLimits, handin_check, handin_extract
from grading.sandbox import Limits

MEBIBYTE = 1024 * 1024
MANIFEST = "autograder.toml"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
# The runner puts these beside the student's files in the job folder, so a hand-in cannot use them.
RESERVED_NAMES = ("driver.py", "public", "out")
MAX_NAME_LENGTH = 200
BUNDLE_ARCHIVE_LIMITS = ArchiveLimits(
    max_upload_bytes=512 * MEBIBYTE, max_entries=2000, max_total_bytes=2048 * MEBIBYTE
)

# Each limit: the smallest and largest value accepted, and the default.
_LIMIT_RANGES = {
    "wall_seconds": (1, 3600, 60),
    "memory_mb": (64, 256 * 1024, 2048),
    "processes": (1, 4096, 64),
    "output_kb": (1, 1024 * 1024, 1024),
    "job_mb": (16, 256 * 1024, 1024),
}
# A share of the CPU per second, where the worker's cgroups have the cpu controller.
CPUS_RANGE = (0.1, 256.0)
MAX_IMAGES = 8
IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.png")
MAX_PRELOAD = 16
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}(\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,9}")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


class BundleError(Exception):
    """A bundle that cannot be used; ``message`` names the file and the key at fault."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TestSpec:
    """One test of the manifest: what the grader must report under ``name``."""

    __test__ = False  # pytest: not a test class despite its name

    name: str
    points: float
    visibility: str


@dataclass
class Bundle:
    """A checked bundle. One loaded from a zip lives in a temporary folder until ``close()``."""

    root: Path
    name: str
    files: tuple[str, ...]
    limits: Limits
    tests: list[TestSpec]
    kind: Literal["native", "gradescope"]
    max_score: float
    images: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    _unpacked: tempfile.TemporaryDirectory[str] | None = field(
        default=None, repr=False, compare=False
    )

    def close(self) -> None:
        if self._unpacked is not None:
            self._unpacked.cleanup()
            self._unpacked = None

    def __enter__(self) -> Bundle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def manifest(self) -> dict[str, Any]:
        """What the manifest says, as JSON-ready values, for storing beside the bundle."""
        return {
            "name": self.name,
            "kind": self.kind,
            "files": list(self.files),
            "limits": {
                "wall_seconds": self.limits.wall_seconds,
                "memory_mb": self.limits.memory_bytes // MEBIBYTE,
                "processes": self.limits.processes,
                "output_kb": self.limits.output_bytes // 1024,
                "job_mb": self.limits.job_bytes // MEBIBYTE,
                "cpus": self.limits.cpus,
                "gpu": self.limits.gpu,
            },
            "tests": [
                {"name": test.name, "points": test.points, "visibility": test.visibility}
                for test in self.tests
            ],
            "max_score": self.max_score,
            "images": list(self.images),
            "preload": list(self.preload),
        }


def load_bundle(path: Path) -> Bundle:
    """Reads and checks the bundle at ``path``, a folder or a zip, or raises BundleError."""
    path = Path(path)
    try:
        mode = path.lstat().st_mode
    except OSError as error:
        raise BundleError(f"{path}: cannot read the bundle ({error.strerror}).") from None
    if stat.S_ISLNK(mode):
        raise BundleError(f"{path}: the bundle is a symbolic link; give its real path.")
    if stat.S_ISDIR(mode):
        return _load_folder(path.resolve(), path.name)
    unpacked = tempfile.TemporaryDirectory(prefix="bundle-")
    try:
        bundle = _load_folder(_unzip(path, Path(unpacked.name)), path.stem)
    except BaseException:
        unpacked.cleanup()
        raise
    bundle._unpacked = unpacked
    return bundle


def missing_packages(bundle: Bundle) -> list[str]:
    """The packages the bundle's ``requirements.txt`` names that this Python does not have.

    Only names are compared, not versions: a worker installs what its courses need ahead of time,
    since nothing is installed while grading (the sandbox has no network).
    """
    requirements = bundle.root / "requirements.txt"
    if not requirements.is_file():
        return []
    installed = {_canonical(dist.metadata["Name"] or "") for dist in metadata.distributions()}
    missing = []
    for line in requirements.read_text(encoding="utf-8", errors="replace").splitlines():
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        match = _REQUIREMENT_NAME.match(text)
        if match and _canonical(match.group()) not in installed:
            missing.append(match.group())
    return missing


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _unzip(path: Path, into: Path) -> Path:
    with path.open("rb") as archive:
        magic = archive.read(4)
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise BundleError(f"{path.name}: a bundle is a folder or a .zip of one.")
    try:
        checked = handin_check(
            path=path, filename=path.name, required_files=(), limits=BUNDLE_ARCHIVE_LIMITS
        )
        handin_extract(path=path, checked=checked, dest=into / "bundle")
    except ArchiveError as error:
        raise BundleError(f"{path.name}: {error.message}") from None
    root = into / "bundle"
    entries = list(root.iterdir())
    # Zipping a folder from its parent puts everything under one top folder.
    if len(entries) == 1 and entries[0].is_dir() and not _has_entry_point(root):
        return entries[0]
    return root


def _has_entry_point(root: Path) -> bool:
    return (root / MANIFEST).exists() or (root / "run_autograder").exists()


def _load_folder(root: Path, name: str) -> Bundle:
    _check_tree(root)
    if (root / MANIFEST).is_file():
        return _load_native(root)
    if (root / "setup.sh").is_file() and (root / "run_autograder").is_file():
        return Bundle(root, name, (), Limits(), [], "gradescope", 0.0)
    raise BundleError(
        f"{root}: {MANIFEST} is missing (nor is this a Gradescope-style bundle with setup.sh and "
        "run_autograder)."
    )


def _check_tree(root: Path) -> None:
    """Refuses links and special files anywhere: a bundle is copied and read, never followed."""
    for folder, subfolders, files in os.walk(root):
        for entry in sorted([*subfolders, *files]):
            path = Path(folder, entry)
            mode = path.lstat().st_mode
            relative = path.relative_to(root)
            if stat.S_ISLNK(mode):
                raise BundleError(
                    f"{relative}: a symbolic link; a bundle holds only regular files and folders."
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise BundleError(f"{relative}: not a regular file or folder.")


def _load_native(root: Path) -> Bundle:
    try:
        data = tomllib.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise BundleError(f"{MANIFEST}: not valid TOML: {error}.") from None
    except UnicodeDecodeError:
        raise BundleError(f"{MANIFEST}: not UTF-8 text.") from None
    _refuse_unknown(data, {"name", "submission", "limits", "tests", "images", "preload"}, "")
    for script in ("driver.py", "grader.py"):
        if not (root / script).is_file():
            raise BundleError(f"{script} is missing: a bundle with {MANIFEST} needs one.")
    tests = _tests(data)
    return Bundle(
        root=root,
        name=_name(data),
        files=_files(data),
        limits=_limits(data),
        tests=tests,
        kind="native",
        max_score=sum(test.points for test in tests),
        images=_images(data),
        preload=_preload(data),
    )


def _preload(data: dict[str, Any]) -> tuple[str, ...]:
    """Modules a sandbox imports while it waits for a hand-in, so the run does not pay for them:
    the heavy ones the driver and the grader both import (torch, numpy)."""
    modules = data.get("preload", [])
    if not isinstance(modules, list) or len(modules) > MAX_PRELOAD:
        raise _fail("", f"preload must be a list of at most {MAX_PRELOAD} module names.")
    for name in modules:
        if not isinstance(name, str) or not MODULE_NAME.fullmatch(name):
            raise _fail("", f"preload: {name!r} is not a module name, such as 'torch' or 'numpy'.")
    return tuple(modules)


def _images(data: dict[str, Any]) -> tuple[str, ...]:
    """PNG files the driver writes to out/ for the student to see with the results."""
    images = data.get("images", [])
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise _fail("", f"images must be a list of at most {MAX_IMAGES} file names in out/.")
    for name in images:
        if not isinstance(name, str) or not IMAGE_NAME.fullmatch(name):
            raise _fail(
                "", f"images: {name!r} is not a plain name of a .png file, such as 'filters.png'."
            )
    return tuple(images)


def _fail(where: str, message: str) -> BundleError:
    return BundleError(f"{MANIFEST}: {where}{message}")


def _refuse_unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(
            where, f"unknown key '{unknown[0]}'; the keys here are {', '.join(sorted(allowed))}."
        )


def _table(data: dict[str, Any], key: str, *, required: bool) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise _fail("", f"[{key}] is missing.")
        return {}
    if not isinstance(value, dict):
        raise _fail("", f"[{key}] must be a table.")
    return value


def _name(data: dict[str, Any]) -> str:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise _fail("", f"name must be a non-empty string of at most {MAX_NAME_LENGTH} characters.")
    return name


def _files(data: dict[str, Any]) -> tuple[str, ...]:
    submission = _table(data, "submission", required=True)
    _refuse_unknown(submission, {"files"}, "[submission] ")
    files = submission.get("files")
    if not isinstance(files, list) or not files:
        raise _fail("[submission] ", "files must be a non-empty list of file names.")
    for name in files:
        _check_file_name(name)
    if len(set(files)) != len(files):
        raise _fail("[submission] ", "files names a file twice.")
    return tuple(files)


def _check_file_name(name: object) -> None:
    if not isinstance(name, str):
        raise _fail("[submission] ", f"files must hold strings, not {name!r}.")
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        raise _fail(
            "[submission] ",
            f"files: '{name}' is not a plain relative name such as 'hw1/model.py'; it could point "
            "outside the job folder.",
        )
    if parts[0] in RESERVED_NAMES:
        raise _fail(
            "[submission] ",
            f"files: '{name}' is taken by the autograder ({', '.join(RESERVED_NAMES)}).",
        )


def _limits(data: dict[str, Any]) -> Limits:
    table = _table(data, "limits", required=False)
    _refuse_unknown(table, {*_LIMIT_RANGES, "gpu", "cpus"}, "[limits] ")
    values = {}
    for key, (low, high, default) in _LIMIT_RANGES.items():
        value = table.get(key, default)
        if type(value) is not int or not low <= value <= high:
            raise _fail(
                "[limits] ", f"{key} must be an integer from {low} to {high}, not {value!r}."
            )
        values[key] = value
    gpu = table.get("gpu", False)
    if not isinstance(gpu, bool):
        raise _fail("[limits] ", f"gpu must be true or false, not {gpu!r}.")
    cpus = table.get("cpus")
    least, most = CPUS_RANGE
    if cpus is not None and (
        isinstance(cpus, bool) or not isinstance(cpus, int | float) or not least <= cpus <= most
    ):
        raise _fail("[limits] ", f"cpus must be a number from {least} to {most:g}, not {cpus!r}.")
    return Limits(
        wall_seconds=values["wall_seconds"],
        memory_bytes=values["memory_mb"] * MEBIBYTE,
        processes=values["processes"],
        output_bytes=values["output_kb"] * 1024,
        job_bytes=values["job_mb"] * MEBIBYTE,
        cpus=None if cpus is None else float(cpus),
        gpu=gpu,
    )


def _tests(data: dict[str, Any]) -> list[TestSpec]:
    tests = data.get("tests")
    if tests is None or tests == []:
        raise _fail("", "no [[tests]]; a bundle needs at least one test.")
    if not isinstance(tests, list) or not all(isinstance(test, dict) for test in tests):
        raise _fail("", "tests must be written as [[tests]] tables.")
    specs: list[TestSpec] = []
    for number, test in enumerate(tests, start=1):
        specs.append(_test(test, f"[[tests]] #{number} "))
    names = [spec.name for spec in specs]
    for name in names:
        if names.count(name) > 1:
            raise _fail(
                "[[tests]] ", f"the name '{name}' is used twice; test names must be unique."
            )
    return specs


def _test(test: dict[str, Any], where: str) -> TestSpec:
    name = test.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise _fail(
            where, f"name must be a non-empty string of at most {MAX_NAME_LENGTH} characters."
        )
    where = f"{where}('{name}') "
    _refuse_unknown(test, {"name", "points", "visibility"}, where)
    points = test.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float):
        raise _fail(where, f"points must be a number, not {points!r}.")
    if not math.isfinite(points) or points <= 0:
        raise _fail(where, f"points must be more than 0, not {points!r}.")
    visibility = test.get("visibility", "visible")
    if visibility not in VISIBILITIES:
        raise _fail(
            where, f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}."
        )
    return TestSpec(name=name, points=float(points), visibility=visibility)


def pack_bundle(folder: Path) -> bytes:
    """The bundle folder as a zip whose bytes depend only on the files' names and contents, so
    that packing an unchanged folder again gives the same sha256 (and no new version)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                raise BundleError(f"{path}: the bundle may not hold symbolic links.")
            if path.is_file() and "__pycache__" not in path.parts:
                entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()
