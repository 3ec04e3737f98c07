"""Grading one hand-in with a bundle: the job folder, the sandboxed run, then the trusted grader.

The job folder (bound at /job in the sandbox, the run's only writable place) holds the student's
files, the bundle's ``public/`` files, ``driver.py`` and an empty ``out/``. After the sandboxed
run, the bundle's ``grader.py`` runs outside the sandbox in a process of its own (started as
``python -m grading.runner grade-outputs``): it reads ``out/`` only through ``Outputs`` and the
bundle's ``private/`` files, and hands its per-test results back as JSON on stdout. Nothing the
sandbox wrote is ever opened by path. A Gradescope-style bundle runs in the same sandbox
(``grading.gradescope``), and its self-reported results are marked as such.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import logging
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grading import gradescope
from grading.archives import ArchiveError, ArchiveLimits, handin_check, handin_extract
from grading.bundles import RESERVED_NAMES, Bundle, TestSpec
from grading.outputs import BadOutput, Outputs
from grading.sandbox import SandboxResult, run_sandboxed
from grading.sandbox.bwrap import JOB
from grading.sandbox.stream import CappedOutput, stream_until

log = logging.getLogger(__name__)

MEBIBYTE = 1024 * 1024
KEEP_JOBS_ENV = "COURSESITE_KEEP_JOBS"
# Hand-ins were checked on upload; these only bound what a hand-in could cost the worker.
HANDIN_LIMITS = ArchiveLimits(
    max_upload_bytes=1024 * MEBIBYTE, max_entries=200, max_total_bytes=1024 * MEBIBYTE
)
GRADER_TIMEOUT_SECONDS = 300
GRADER_OUTPUT_BYTES = 8 * MEBIBYTE
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
) -> ResultDocument:
    """Grades ``submission`` (a folder, an archive or a single file) with ``bundle``.

    Raises ArchiveError when the hand-in cannot be read or lacks a required file, and
    SandboxUnavailable when there is no sandbox and ``allow_unsandboxed`` is not set. Anything the
    student's code does is a result, not an error. The job folder is deleted afterwards unless
    ``keep`` (by default: the environment variable COURSESITE_KEEP_JOBS=1).
    """
    if keep is None:
        keep = os.environ.get(KEEP_JOBS_ENV) == "1"
    work_root.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="job-", dir=work_root))
    try:
        run = _Run(bundle, run_dir, slot=slot, gpu_index=gpu_index, unsandboxed=allow_unsandboxed)
        if bundle.kind == "gradescope":
            result = run.gradescope(submission)
        else:
            result = run.native(submission)
    finally:
        if not keep:
            _remove(run_dir)
    if keep:
        result.kept_at = run_dir
        log.info("job folder kept at %s", run_dir)
    return result


class _Run:
    def __init__(
        self, bundle: Bundle, run_dir: Path, *, slot: int, gpu_index: int | None, unsandboxed: bool
    ) -> None:
        self.bundle = bundle
        self.run_dir = run_dir
        self.job = run_dir / "job"
        self.slot = slot
        self.gpu_index = gpu_index
        self.unsandboxed = unsandboxed
        self.notes: list[str] = []

    def native(self, submission: Path) -> ResultDocument:
        bundle = self.bundle
        place_handin(submission, self.job, bundle.files)
        self._drop_reserved()
        public = bundle.root / "public"
        if public.is_dir():
            copy_tree(public, self.job / "public", fail=_bundle_changed)
        (self.job / "out").mkdir()
        shutil.copyfile(bundle.root / "driver.py", self.job / "driver.py")
        sandbox = self._sandbox([sys.executable, "driver.py"], DRIVER_ENV)
        graded = run_grader(
            grader=bundle.root / "grader.py",
            outputs=self.job / "out",
            private=bundle.root / "private",
            run=_run_info(sandbox, bundle),
            cwd=self.run_dir,
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
        self.job.mkdir()
        place_handin(submission, self.job / gradescope.SUBMISSION, self.bundle.files)
        copy_tree(self.bundle.root, self.job / gradescope.SOURCE, fail=_bundle_changed)
        source = self.job / gradescope.SOURCE
        shutil.copyfile(source / "run_autograder", self.job / "run_autograder")
        (self.job / gradescope.RESULTS).mkdir()
        sandbox = self._sandbox(gradescope.COMMAND, DRIVER_ENV, mount_at=gradescope.MOUNT_AT)
        try:
            reported = gradescope.read_results(self.job / gradescope.RESULTS)
        except BadOutput as error:
            self.notes.append(error.message)
            verdict = sandbox.verdict if sandbox.verdict != "ok" else "bad_output"
            return self._document(verdict, [], sandbox, grader_log="", self_reported=True)
        if reported.output:
            self.notes.append(f"results.json output:\n{reported.output}")
        tests = [TestOutcome(**test) for test in reported.tests]
        return self._document(
            sandbox.verdict, tests, sandbox, grader_log="", self_reported=True, score=reported.score
        )

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

    def _drop_reserved(self) -> None:
        for name in RESERVED_NAMES:
            path = self.job / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            else:
                continue
            self.notes.append(f"the hand-in's {name} was left out: the autograder uses that name")

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
) -> None:
    """Copies the regular files and folders under ``source`` into the new folder ``dest``.

    Links and special files raise ``fail(message)``; so does going past ``limits``' file count or
    total size. Python's byte-code caches are left out.
    """
    budget = {"files": 0, "bytes": 0}

    def copy(folder: Path, into: Path) -> None:
        into.mkdir(mode=0o755)
        for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
            info = entry.stat(follow_symlinks=False)
            shown = Path(entry.path).relative_to(source)
            if stat.S_ISDIR(info.st_mode):
                if entry.name != "__pycache__":
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
    *, grader: Path, outputs: Path, private: Path, run: dict[str, Any], cwd: Path
) -> _Graded:
    """Runs ``grader.py``'s ``grade()`` in a process of its own, with a deadline and capped output.

    The process gets a bare environment: a grader needs no secrets of the worker.
    """
    run_file = cwd / "run.json"
    run_file.write_text(json.dumps(run), encoding="utf-8")
    package_root = str(Path(__file__).resolve().parent.parent)
    argv = [sys.executable, "-P", "-B", "-m", "grading.runner", "grade-outputs"]
    argv += ["--grader", str(grader), "--outputs", str(outputs), "--private", str(private)]
    argv += ["--run", str(run_file)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": package_root,
        "LANG": "C.UTF-8",
        "HOME": str(cwd),
    }
    output = CappedOutput(GRADER_OUTPUT_BYTES)
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    try:
        ending = stream_until(
            process,
            deadline=time.monotonic() + GRADER_TIMEOUT_SECONDS,
            output=output,
            kill=kill,
        )
    finally:
        kill()
        process.wait()
    grader_log = _tail(output.text("stderr"), LOG_BYTES)
    if ending != "exited":
        why = "ran out of time" if ending == "timeout" else "wrote too much output"
        return _Graded([], "error", f"grader.py {why}.", grader_log)
    try:
        answer = json.loads(output.text("stdout"))
    except ValueError:
        return _Graded([], "error", "grader.py's process ended without results.", grader_log)
    if not isinstance(answer, dict):
        return _Graded([], "error", "grader.py's process answered nonsense.", grader_log)
    if "results" in answer and isinstance(answer["results"], list):
        return _Graded(answer["results"], log=grader_log)
    if "bad_output" in answer:
        return _Graded([], "bad_output", str(answer["bad_output"]), grader_log)
    return _Graded([], "error", str(answer.get("error", "grader.py failed.")), grader_log)


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


def _remove(run_dir: Path) -> None:
    # rmtree never follows links. As root it removes whatever the slot's uid left; only an
    # unsandboxed run (the developer's own code) could leave something it cannot.
    shutil.rmtree(run_dir, ignore_errors=True)
    if run_dir.exists():
        log.warning("could not delete the job folder %s", run_dir)


def _grade_outputs(arguments: argparse.Namespace) -> int:
    """The grader process: loads the bundle's grader.py and prints its results as JSON."""
    results_fd = os.dup(sys.stdout.fileno())
    # Whatever the grader prints, even from C code, goes to the log; stdout carries the results.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path.insert(0, str(Path(arguments.grader).parent))
    run = json.loads(Path(arguments.run).read_text(encoding="utf-8"))
    try:
        spec = importlib.util.spec_from_file_location("grader", arguments.grader)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        results = module.grade(Outputs(Path(arguments.outputs)), Path(arguments.private), run)
        answer: dict[str, Any] = {"results": list(results)}
    except BadOutput as error:
        answer = {"bad_output": error.message}
    except Exception as error:  # a grader's bug becomes the verdict "error"
        traceback.print_exc()
        answer = {"error": f"grader.py failed: {type(error).__name__}: {error}"}
    with os.fdopen(results_fd, "w", encoding="utf-8") as results_out:
        results_out.write(json.dumps(answer, default=_plain))
    return 0


def _plain(value: Any) -> Any:
    # numpy and torch scalars: what a grader computing scores with them naturally returns.
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.runner")
    commands = parser.add_subparsers(dest="command", required=True)
    outputs = commands.add_parser("grade-outputs", help="run a bundle's grader.py on a run's out/")
    for option in ("--grader", "--outputs", "--private", "--run"):
        outputs.add_argument(option, required=True)
    return _grade_outputs(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
