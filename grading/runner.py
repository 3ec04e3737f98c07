"""Grading one hand-in with a bundle: the job folder, the sandboxed run, then the trusted grader.

The job folder (bound at /job in the sandbox, the run's only writable place, a tmpfs of the
bundle's ``job_mb``) holds the student's files, the bundle's ``public/`` files, ``driver.py`` and
an empty ``out/``. After the run, the bundle's ``grader.py`` runs in a sandbox of its own
(``grading.grader_process``), as the slot's grader uid, never the student's: it is trusted to
give points, not with the machine. It sees the bundle (a copy, but ``public/`` read-only: its
``private/`` files, helper modules and the data it shares with the driver), ``out/`` read-only,
handed to its uid once the student's processes are gone, and nothing else of the host: no
network, no database, no other job. It reads ``out/`` through ``Outputs`` and hands its
per-test results back as JSON on stdout. Nothing the sandbox wrote is ever opened by path by
the worker. A Gradescope-style bundle runs in the job's sandbox (``grading.gradescope``), and
its self-reported results are marked as such.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import math
import os
import secrets
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grading import grader_process, gradescope
from grading.archives import ArchiveError, ArchiveLimits, handin_check, handin_extract
from grading.bundles import RESERVED_NAMES, Bundle, TestSpec
from grading.outputs import BadOutput, Outputs
from grading.sandbox import Limits, SandboxResult, run_sandboxed, sandbox_available
from grading.sandbox.bwrap import JOB, slot_uid
from grading.sandbox.folders import claimed, sized_folder, sweep_abandoned
from grading.sandbox.limits import GIBIBYTE
from grading.sandbox.warm import Target, WaitingSandbox, sandbox_start

log = logging.getLogger(__name__)

MEBIBYTE = 1024 * 1024
KEEP_JOBS_ENV = "COURSESITE_KEEP_JOBS"
# Hand-ins were checked on upload; these only bound what a hand-in could cost the worker.
HANDIN_LIMITS = ArchiveLimits(
    max_upload_bytes=1024 * MEBIBYTE, max_entries=200, max_total_bytes=1024 * MEBIBYTE
)
GRADER_TIMEOUT_SECONDS = 300
GRADER_OUTPUT_BYTES = 8 * MEBIBYTE
GRADER_MEMORY_BYTES = 4 * GIBIBYTE
# Where the grader's sandbox shows its folder, and the run's outputs inside it.
GRADER_AT = PurePosixPath("/grader")
GRADER_ENV = {"PYTHONPATH": "lib", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
LOG_BYTES = 64 * 1024
TEST_OUTPUT_CHARS = 16 * 1024
STATUSES = ("passed", "failed", "error")
# The driver's environment inside the sandbox: unbuffered, so a killed run still shows its prints,
# and a fixed hash seed, so that one hand-in graded twice runs the same way.
DRIVER_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_MAX_BYTES = 2 * 1024 * 1024
GRADER_FAILED = "The autograder itself failed on this test; the course staff can see why."


@dataclass
class TestOutcome:
    """One test's result as stored and shown: the score is clipped to ``max_score``."""

    __test__ = False  # pytest: not a test class despite its name

    name: str
    score: float
    max_score: float
    status: str
    visibility: str
    output: str


@dataclass
class ResultDocument:
    """What grading one hand-in produced; ``to_json()`` is what the pipeline stores.

    ``kept_at`` names the job folder when it was kept for inspection; it is not part of the result.
    """

    verdict: str
    score: float
    max_score: float
    execution_time: float
    self_reported: bool
    tests: list[TestOutcome]
    logs: str
    images: list[dict[str, str]] = field(default_factory=list)
    kept_at: Path | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": self.execution_time,
            "self_reported": self.self_reported,
            "tests": [asdict(test) for test in self.tests],
            "logs": self.logs,
            "images": self.images,
        }


@dataclass
class _Graded:
    """What the grader process answered: results, or why there are none (``failure``)."""

    results: list[Any]
    failure: str = ""  # "", "bad_output" or "error"
    message: str = ""
    log: str = ""


def grade(
    bundle: Bundle,
    submission: Path,
    *,
    work_root: Path,
    slot: int = 0,
    gpu_index: int | None = None,
    allow_unsandboxed: bool = False,
    keep: bool | None = None,
    prepared: PreparedRun | None = None,
) -> ResultDocument:
    """Grades ``submission`` (a folder, an archive or a single file) with ``bundle``.

    Raises ArchiveError when the hand-in cannot be read or lacks a required file, and
    SandboxUnavailable when there is no sandbox and ``allow_unsandboxed`` is not set. Anything the
    student's code does is a result, not an error. The job folder is deleted afterwards unless
    ``keep`` (by default: the environment variable COURSESITE_KEEP_JOBS=1). ``prepared``, a run
    started ahead for this bundle and slot by ``run_prepare`` (warm), is used if it still can be
    and closed in any case; without it the run's sandboxes start now (cold).
    """
    if keep is None:
        keep = os.environ.get(KEEP_JOBS_ENV) == "1"
    usable = prepared is not None and prepared.usable(
        bundle, work_root=work_root, slot=slot, gpu_index=gpu_index
    )
    if prepared is not None and not usable:
        prepared.close()
        prepared = None
    if prepared is None:
        prepared = run_prepare(
            bundle,
            work_root=work_root,
            slot=slot,
            gpu_index=gpu_index,
            allow_unsandboxed=allow_unsandboxed,
            warm=False,
        )
    run = _Run(bundle, prepared, unsandboxed=allow_unsandboxed)
    kept = prepared.run_dir / "kept"
    try:
        try:
            if bundle.kind == "gradescope":
                result = run.gradescope(submission)
            else:
                result = run.native(submission)
        finally:
            if keep and prepared.sized:
                _keep(run.job, kept)
            prepared.release()
        if keep and prepared.sized:
            run.job.rmdir()  # the tmpfs's mount point, empty now
            kept.rename(run.job)
    finally:
        if not keep:
            _remove(prepared.run_dir)
    if keep:
        result.kept_at = prepared.run_dir
        log.info("job folder kept at %s", run.job)
    return result


@dataclass(eq=False)
class PreparedRun:
    """A run's folder (claimed, its job folder sized) and, for a native bundle where the sandbox
    runs, its two sandboxes started: the student's, with the bundle's ``public/`` and
    ``driver.py`` in place and ``out/`` bound on its own (so the job can neither remove nor
    replace it), and the grader's, with its folder built and that ``out/`` bound read-only.
    Started ahead of the hand-in (warm) they import the bundle's ``preload`` modules and wait."""

    bundle: Bundle
    run_dir: Path
    slot: int
    gpu_index: int | None
    sized: bool
    closing: contextlib.ExitStack
    student: WaitingSandbox | None = None
    grader: WaitingSandbox | None = None
    started_at: float = field(default_factory=time.monotonic)
    # How each sandbox is started (its preload aside), to start it again.
    starts: dict[str, Callable[..., WaitingSandbox]] = field(default_factory=dict)

    @property
    def job(self) -> Path:
        return self.run_dir / "job"

    def usable(self, bundle: Bundle, *, work_root: Path, slot: int, gpu_index: int | None) -> bool:
        """Whether this run can grade a hand-in of ``bundle`` here: its sandboxes alive."""
        if bundle is not self.bundle or self.run_dir.parent != Path(work_root):
            return False
        if (slot, gpu_index) != (self.slot, self.gpu_index):
            return False
        return all(box is None or box.alive() for box in (self.student, self.grader))

    def sandbox(self, which: str) -> WaitingSandbox | None:
        """The ``student`` or ``grader`` sandbox, started again, cold, where the one started
        ahead is gone (its processes were ended from outside while it waited)."""
        box: WaitingSandbox | None = getattr(self, which)
        if box is None or box.alive():
            return box
        log.warning("the %s sandbox started ahead is gone; starting it again", which)
        box.abandon()
        box = self.starts[which]()
        setattr(self, which, box)
        return box

    def release(self) -> None:
        """Stop the sandboxes not used, unmount the job folder and give up the claim; the run's
        folder itself stays for the caller to keep or remove."""
        for box in (self.student, self.grader):
            if box is not None and not box.used:
                box.abandon()
        self.closing.close()

    def close(self) -> None:
        """Give the run up unused: release it and remove its folder."""
        self.release()
        _remove(self.run_dir)


def run_prepare(
    bundle: Bundle,
    *,
    work_root: Path,
    slot: int = 0,
    gpu_index: int | None = None,
    allow_unsandboxed: bool = False,
    warm: bool = True,
) -> PreparedRun:
    """A run of ``bundle`` in ``slot`` ready for its hand-in; ``warm`` imports the bundle's
    ``preload`` modules in its sandboxes. Where the sandbox cannot run (or the bundle is
    Gradescope-style) only the folder is made; ``grade`` runs the commands then."""
    work_root.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(work_root, "job-*")
    run_dir = Path(tempfile.mkdtemp(prefix="job-", dir=work_root))
    closing = contextlib.ExitStack()
    try:
        closing.enter_context(claimed(run_dir))
        sized = closing.enter_context(sized_folder(run_dir / "job", bundle.limits.job_bytes))
        prepared = PreparedRun(bundle, run_dir, slot, gpu_index, sized, closing)
        if bundle.kind == "native":
            _native_folder(bundle, prepared.job)
        if bundle.kind == "native" and sandbox_available():
            preload = bundle.preload if warm else ()
            folder = run_dir / "grader"
            grader_file = GRADER_AT / "bundle" / "grader.py"
            prepared.starts = {
                "student": functools.partial(
                    sandbox_start,
                    job_dir=prepared.job,
                    limits=bundle.limits,
                    slot=slot,
                    writable_at={JOB / "out": prepared.job / "out"},
                    env=DRIVER_ENV,
                    gpu_index=gpu_index,
                ),
                "grader": functools.partial(
                    sandbox_start,
                    job_dir=folder,
                    mount_at=GRADER_AT,
                    limits=_grader_limits(bundle),
                    slot=slot,
                    grader=True,
                    read_only_at=grader_folder(bundle, folder, outputs=prepared.job / "out"),
                    env=GRADER_ENV,
                ),
            }
            prepared.student = prepared.starts["student"](preload=preload)
            grader_preload = [*preload, f"{grader_process.GRADER_MODULE}@{grader_file}"]
            prepared.grader = prepared.starts["grader"](preload=grader_preload if warm else ())
    except BaseException:
        closing.close()
        _remove(run_dir)
        raise
    return prepared


def _native_folder(bundle: Bundle, job: Path) -> None:
    """The job folder of a native bundle before the hand-in: ``public/``, ``driver.py``, an
    empty ``out/``."""
    public = bundle.root / "public"
    if public.is_dir():
        copy_tree(public, job / "public", fail=_bundle_changed)
    (job / "out").mkdir()
    shutil.copyfile(bundle.root / "driver.py", job / "driver.py")


class _Run:
    def __init__(self, bundle: Bundle, prepared: PreparedRun, *, unsandboxed: bool) -> None:
        self.bundle = bundle
        self.prepared = prepared
        self.run_dir = prepared.run_dir
        self.job = prepared.job
        self.slot = prepared.slot
        self.gpu_index = prepared.gpu_index
        self.unsandboxed = unsandboxed
        self.notes: list[str] = []

    def native(self, submission: Path) -> ResultDocument:
        bundle = self.bundle
        self._place(submission)
        student = self.prepared.sandbox("student")
        if student is not None:
            sandbox = student.run(Target(script="driver.py"))
        else:
            sandbox = self._sandbox([sys.executable, "driver.py"], DRIVER_ENV)
        graded = run_grader(
            bundle,
            outputs=self.job / "out",
            run=_run_info(sandbox, bundle),
            folder=self.run_dir / "grader",
            slot=self.slot,
            allow_unsandboxed=self.unsandboxed,
            waiting=self.prepared.sandbox("grader"),
        )
        if graded.failure == "error":
            self.notes.append(graded.message)
        tests = (
            _matched(bundle.tests, graded.results, self.notes)
            if not graded.failure
            else _all_failed(bundle.tests, graded)
        )
        verdict = sandbox.verdict
        if graded.failure == "error":
            verdict = "error"
        elif verdict == "ok" and graded.failure:
            verdict = graded.failure
        document = self._document(
            verdict, tests, sandbox, grader_log=graded.log, self_reported=False
        )
        document.images = self._images()
        return document

    def _images(self) -> list[dict[str, str]]:
        """The bundle's images the run left in out/: read safely, checked to be PNGs, capped."""
        images = []
        outputs = Outputs(self.job / "out", max_bytes=IMAGE_MAX_BYTES)
        for name in self.bundle.images:
            try:
                data = outputs.raw(name)
            except BadOutput as error:
                self.notes.append(f"image {name}: {error.message}")
                continue
            if not data.startswith(PNG_SIGNATURE):
                self.notes.append(f"image {name}: not a PNG file; it is not shown")
                continue
            images.append({"name": name, "png_base64": base64.b64encode(data).decode("ascii")})
        return images

    def gradescope(self, submission: Path) -> ResultDocument:
        missing = gradescope.missing_requirements(self.bundle)
        if missing:
            self.notes.append(missing)
            return self._document("error", [], None, grader_log="", self_reported=True)
        place_handin(submission, self.job / gradescope.SUBMISSION, self.bundle.files)
        copy_tree(self.bundle.root, self.job / gradescope.SOURCE, fail=_bundle_changed)
        source = self.job / gradescope.SOURCE
        shutil.copyfile(source / "run_autograder", self.job / "run_autograder")
        (self.job / gradescope.RESULTS).mkdir()
        sandbox = self._sandbox(gradescope.COMMAND, DRIVER_ENV, mount_at=gradescope.MOUNT_AT)
        build = gradescope.build_failures(sandbox.stdout, sandbox.stderr)
        if build:
            self.notes.append(gradescope.BUILD_NOTE)
        tests: list[TestOutcome] = []
        score: float | None = None
        try:
            reported = gradescope.read_results(self.job / gradescope.RESULTS)
        except BadOutput as error:
            self.notes.append(error.message)
            verdict = sandbox.verdict if sandbox.verdict != "ok" else "bad_output"
        else:
            if reported.output:
                self.notes.append(f"results.json output:\n{reported.output}")
            tests = [TestOutcome(**test) for test in reported.tests]
            verdict, score = sandbox.verdict, reported.score
        verdict = gradescope.build_verdict(verdict, build, score=score)
        document = self._document(
            verdict, tests, sandbox, grader_log="", self_reported=True, score=score
        )
        if build:
            # Added after the totals: it is worth no points and must not set the maximum.
            taken = [test.name for test in tests]
            shown = gradescope.build_test(build, verdict=verdict, taken=taken)
            document.tests.insert(0, TestOutcome(**shown))
        return document

    def _sandbox(
        self, argv: Sequence[str], env: dict[str, str], mount_at: PurePosixPath = JOB
    ) -> SandboxResult:
        return run_sandboxed(
            list(argv),
            mount_at=mount_at,
            job_dir=self.job,
            limits=self.bundle.limits,
            slot=self.slot,
            env=env,
            gpu_index=self.gpu_index,
            allow_unsandboxed=self.unsandboxed,
        )

    def _place(self, submission: Path) -> None:
        """The hand-in's files into the job folder, beside what the bundle put there: read into
        a folder of their own first, where the names the autograder uses are left out."""
        staging = self.job / f".handin-{secrets.token_hex(8)}"
        place_handin(submission, staging, self.bundle.files)
        for name in RESERVED_NAMES:
            path = staging / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            else:
                continue
            self.notes.append(f"the hand-in's {name} was left out: the autograder uses that name")
        for entry in sorted(os.listdir(staging)):
            os.rename(staging / entry, self.job / entry)
        staging.rmdir()

    def _document(
        self,
        verdict: str,
        tests: list[TestOutcome],
        sandbox: SandboxResult | None,
        *,
        grader_log: str,
        self_reported: bool,
        score: float | None = None,
    ) -> ResultDocument:
        parts = []
        if sandbox is not None:
            for stream, text in (("stdout", sandbox.stdout), ("stderr", sandbox.stderr)):
                if text.strip():
                    parts.append(f"--- {stream} ---\n{text.rstrip()}")
        notes = "\n".join([*self.notes, grader_log.strip()]).strip()
        if notes:
            parts.append(f"--- grading ---\n{notes}")
        total = sum(test.score for test in tests) if score is None else score
        max_score = sum(test.max_score for test in tests) if tests else self.bundle.max_score
        return ResultDocument(
            verdict=verdict,
            score=round(total, 4),
            max_score=round(max_score, 4),
            execution_time=round(sandbox.wall_seconds, 3) if sandbox is not None else 0.0,
            self_reported=self_reported,
            tests=tests,
            logs=_tail("\n".join(parts), LOG_BYTES),
        )


def place_handin(submission: Path, dest: Path, required: Sequence[str]) -> None:
    """Writes the hand-in's files into the new folder ``dest``; raises ArchiveError if it cannot.

    A folder is copied file by file and may hold no links; anything else is checked and
    extracted like an upload, so a hand-in is read the same way here as on the site.
    """
    try:
        mode = submission.lstat().st_mode
    except OSError as error:
        raise ArchiveError(f"{submission}: cannot read the hand-in ({error.strerror}).") from None
    if stat.S_ISDIR(mode):
        copy_tree(submission, dest, fail=ArchiveError, limits=HANDIN_LIMITS)
        missing = [name for name in required if not (dest / name).is_file()]
        if missing:
            raise ArchiveError(f"{submission}: required files are missing: {', '.join(missing)}.")
        return
    if not stat.S_ISREG(mode):
        raise ArchiveError(f"{submission}: a hand-in is a folder, an archive or a regular file.")
    checked = handin_check(
        path=submission, filename=submission.name, required_files=required, limits=HANDIN_LIMITS
    )
    handin_extract(path=submission, checked=checked, dest=dest)


def copy_tree(
    source: Path,
    dest: Path,
    *,
    fail: Callable[[str], Exception],
    limits: ArchiveLimits | None = None,
    leave_out: Sequence[str] = (),
) -> None:
    """Copies the regular files and folders under ``source`` into the folder ``dest``, new or
    empty.

    Links and special files raise ``fail(message)``; so does going past ``limits``' file count or
    total size. Python's byte-code caches are left out, and so are top-level folders named in
    ``leave_out``.
    """
    budget = {"files": 0, "bytes": 0}

    def copy(folder: Path, into: Path) -> None:
        # The top folder may be there already, empty (a sized job folder); files are never
        # overwritten.
        into.mkdir(mode=0o755, exist_ok=into == dest)
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            info = entry.stat(follow_symlinks=False)
            shown = Path(entry.path).relative_to(source)
            if stat.S_ISDIR(info.st_mode):
                left_out = folder == source and entry.name in leave_out
                if entry.name != "__pycache__" and not left_out:
                    copy(Path(entry.path), into / entry.name)
                continue
            if stat.S_ISLNK(info.st_mode):
                raise fail(f"{shown} is a link; links are never copied, put the file itself.")
            if not stat.S_ISREG(info.st_mode):
                raise fail(f"{shown} is not a regular file.")
            budget["files"] += 1
            budget["bytes"] += info.st_size
            if limits and budget["files"] > limits.max_entries:
                raise fail(f"{source} holds more than {limits.max_entries} files.")
            if limits and budget["bytes"] > limits.max_total_bytes:
                raise fail(f"{source} holds more than {limits.max_total_bytes} bytes.")
            _copy_file(Path(entry.path), into / entry.name)

    copy(source, dest)


def _copy_file(source: Path, dest: Path) -> None:
    reading = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    writing = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(reading, "rb") as origin, os.fdopen(writing, "wb") as copy:
        shutil.copyfileobj(origin, copy)


def _bundle_changed(message: str) -> Exception:
    return RuntimeError(f"The bundle changed after it was checked: {message}")


def _run_info(sandbox: SandboxResult, bundle: Bundle) -> dict[str, Any]:
    """What a grader learns of the run, and each test's points (to give full marks without
    repeating the manifest)."""
    return {
        "points": {test.name: test.points for test in bundle.tests},
        "verdict": sandbox.verdict,
        "exit_code": sandbox.exit_code,
        "signal": sandbox.signal,
        "stdout": sandbox.stdout,
        "stderr": sandbox.stderr,
        "wall_seconds": sandbox.wall_seconds,
        "output_truncated": sandbox.output_truncated,
    }


def run_grader(
    bundle: Bundle,
    *,
    outputs: Path,
    run: dict[str, Any],
    folder: Path,
    slot: int,
    allow_unsandboxed: bool = False,
    waiting: WaitingSandbox | None = None,
) -> _Graded:
    """Runs the bundle's ``grader.py`` in a sandbox of its own, as the slot's grader uid.

    ``folder`` becomes the grader's (``grader_folder``), with ``run.json`` added. ``outputs``,
    the run's ``out/``, is handed to the grader's uid (the job's processes are gone by now) and
    shown read-only. ``waiting`` is the grader's sandbox started with the run (``run_prepare``),
    its folder built and ``outputs`` bound already; a run has none only where the sandbox cannot
    run, in the unsandboxed development mode, which starts the grader's process now.
    """
    argv = ["--grader", "bundle/grader.py", "--outputs", "out"]
    argv += ["--private", "bundle/private", "--run", "run.json"]
    if waiting is not None:
        _hand_over(outputs, slot_uid(slot, grader=True))
        (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
        sandbox = waiting.run(Target(module="grading.grader_process", args=tuple(argv)))
        return _graded(sandbox)
    read_only_at = grader_folder(bundle, folder, outputs=None)
    if not _is_folder(outputs):
        # The job put something else in out/'s place: the grader finds a link to nowhere there,
        # which its loaders refuse, as they would have refused what the job left.
        (folder / "out").symlink_to("/nonexistent")
    else:
        # The unsandboxed development mode runs the developer's own bundle as themselves.
        argv[3] = str(outputs)
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    sandbox = run_sandboxed(
        [sys.executable, "-P", "-B", "-m", "grading.grader_process", *argv],
        job_dir=folder,
        mount_at=GRADER_AT,
        limits=_grader_limits(bundle),
        slot=slot,
        grader=True,
        read_only_at=read_only_at,
        env=GRADER_ENV,
        allow_unsandboxed=allow_unsandboxed,
    )
    return _graded(sandbox)


def grader_folder(
    bundle: Bundle, folder: Path, *, outputs: Path | None
) -> dict[PurePosixPath, Path]:
    """Makes ``folder`` (new) the grader's: a copy of the bundle but its ``public/`` files
    (datasets, often large: shown read-only where the sandbox runs) and the modules of
    ``grading`` its process needs. Returns the read-only binds its sandbox needs; ``outputs``,
    where given, is bound at ``out``."""
    folder.mkdir()
    copy_tree(bundle.root, folder / "bundle", fail=_bundle_changed, leave_out=["public"])
    (folder / "bundle" / "private").mkdir(exist_ok=True)
    package = folder / "lib" / "grading"
    package.mkdir(parents=True)
    for name in grader_process.PACKAGE_FILES:
        shutil.copyfile(Path(grader_process.__file__).parent / name, package / name)
    read_only_at: dict[PurePosixPath, Path] = {}
    sandboxed = sandbox_available()
    public = bundle.root / "public"
    if public.is_dir():
        if sandboxed:
            (folder / "bundle" / "public").mkdir()
            read_only_at[GRADER_AT / "bundle" / "public"] = public
        else:
            (folder / "bundle" / "public").symlink_to(public)
    if outputs is not None:
        (folder / "out").mkdir()
        read_only_at[GRADER_AT / "out"] = outputs
    return read_only_at


def _grader_limits(bundle: Bundle) -> Limits:
    return Limits(
        wall_seconds=GRADER_TIMEOUT_SECONDS,
        memory_bytes=max(bundle.limits.memory_bytes, GRADER_MEMORY_BYTES),
        output_bytes=GRADER_OUTPUT_BYTES,
    )


def _graded(sandbox: SandboxResult) -> _Graded:
    """What the grader's process answered."""
    grader_log = _tail(sandbox.stderr, LOG_BYTES)
    if sandbox.verdict in ("timeout", "output_limit", "memory"):
        why = {
            "timeout": "ran out of time",
            "output_limit": "wrote too much output",
            "memory": "ran out of memory",
        }[sandbox.verdict]
        return _Graded([], "error", f"grader.py {why}.", grader_log)
    try:
        answer = json.loads(sandbox.stdout)
    except ValueError:
        return _Graded([], "error", "grader.py's process ended without results.", grader_log)
    if not isinstance(answer, dict):
        return _Graded([], "error", "grader.py's process answered nonsense.", grader_log)
    if "results" in answer and isinstance(answer["results"], list):
        return _Graded(answer["results"], log=grader_log)
    if "bad_output" in answer:
        return _Graded([], "bad_output", str(answer["bad_output"]), grader_log)
    return _Graded([], "error", str(answer.get("error", "grader.py failed.")), grader_log)


def _is_folder(path: Path) -> bool:
    # The job could have put a link in out/'s place; a bind would follow it on the host.
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _hand_over(outputs: Path, uid: int) -> None:
    """Give what the job left in ``outputs`` to the grader's uid, readable by it. The job's
    processes are gone, so nothing changes the tree meanwhile; links are never followed."""
    for folder, folders, files in os.walk(outputs):
        for path in [Path(folder), *(Path(folder, name) for name in folders + files)]:
            info = path.lstat()
            os.lchown(path, uid, uid)
            if stat.S_ISDIR(info.st_mode):
                path.chmod(0o700)
            elif not stat.S_ISLNK(info.st_mode):
                path.chmod(0o600)


def _matched(specs: list[TestSpec], reported: list[Any], notes: list[str]) -> list[TestOutcome]:
    """The manifest's tests, in its order, with what the grader said about each."""
    known = {spec.name for spec in specs}
    by_name: dict[str, dict[str, Any]] = {}
    for item in reported:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            notes.append(f"grader: ignored a result without a name: {str(item)[:200]}")
        elif name not in known:
            log.info("grader reported an unknown test %r; ignored", name)
            notes.append(f"grader: ignored the result of '{name}', which is not in the manifest")
        elif name in by_name:
            notes.append(f"grader: ignored a second result for '{name}'")
        else:
            by_name[name] = item
    return [_outcome(spec, by_name.get(spec.name), notes) for spec in specs]


def _outcome(spec: TestSpec, item: dict[str, Any] | None, notes: list[str]) -> TestOutcome:
    def outcome(score: float, status: str, output: str) -> TestOutcome:
        return TestOutcome(spec.name, score, spec.points, status, spec.visibility, output)

    if item is None:
        return outcome(0.0, "failed", "not reported by the grader")
    score = item.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        notes.append(f"grader: the score of '{spec.name}' is not a number: {score!r}")
        return outcome(0.0, "error", GRADER_FAILED)
    score = round(min(max(float(score), 0.0), spec.points), 4)
    status = item.get("status")
    if status not in STATUSES:
        status = "passed" if score >= spec.points else "failed"
    output = item.get("output", "")
    text = output if isinstance(output, str) else str(output)
    return outcome(score, status, text[:TEST_OUTPUT_CHARS])


def _all_failed(specs: list[TestSpec], graded: _Graded) -> list[TestOutcome]:
    if graded.failure == "bad_output":
        status, output = "failed", graded.message[:TEST_OUTPUT_CHARS]
    else:
        status, output = "error", GRADER_FAILED
    return [
        TestOutcome(spec.name, 0.0, spec.points, status, spec.visibility, output) for spec in specs
    ]


def _tail(text: str, limit: int) -> str:
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return "[... earlier output cut]\n" + data[-limit:].decode("utf-8", errors="replace")


def _keep(job: Path, kept: Path) -> None:
    """Copy the job folder for inspection before its tmpfs goes; links are copied as links and
    special files left out."""
    try:
        shutil.copytree(job, kept, symlinks=True, ignore=_special_files)
    except (OSError, shutil.Error) as error:
        log.warning("the kept job folder %s is incomplete: %s", kept, error)


def _special_files(folder: str, names: list[str]) -> list[str]:
    special = []
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            special.append(name)
    return special


def _remove(run_dir: Path) -> None:
    # rmtree never follows links. As root it removes whatever the slot's uid left; only an
    # unsandboxed run (the developer's own code) could leave something it cannot.
    shutil.rmtree(run_dir, ignore_errors=True)
    if run_dir.exists():
        log.warning("could not delete the job folder %s", run_dir)
