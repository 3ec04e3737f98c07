"""Running a Gradescope-style bundle (``setup.sh`` + ``run_autograder``) in coursesite's sandbox.

Gradescope lays a job out under ``/autograder``: ``source/`` (the bundle), ``submission/`` (the
student's files), ``results/`` (where ``run_autograder`` writes ``results.json``) and
``run_autograder`` itself. coursesite lays out the job folder the same way and the sandbox shows
it at ``/autograder``, so a bundle written for Gradescope runs unchanged. Only in the unsandboxed
development mode is the root elsewhere; ``$AUTOGRADER_ROOT`` names it in both modes.
``setup.sh`` is not run: nothing is installed while grading, and the packages
``requirements.txt`` names must already be on the worker. Since the results are written from
inside the sandbox, next to the student's code, they are self-reported: read safely and
size-capped, but not to be trusted as a native grader's are.

A bundle that builds the student's code (``make fib`` in ``run_autograder``) goes on to run its
tests when the build fails, and each test then fails: a silent zero. So the run's output is
searched for the lines that make, a shell and a C or C++ compiler print when a build stops
(``BUILD_FAILURES``), and when there are any:

- the result gets a first test, ``Build``, visible, worth no points, status ``failed``, whose
  output is the first of those lines: where the student sees their results, since the run's
  logs are for staff only;
- the verdict becomes ``build_failed`` when nothing was scored (no ``results.json``, or a score
  of 0) and the run ended, failed or left no results; a timeout, running out of memory or too
  much output keep their verdict, and a run that scored points keeps its own (the ``Build`` test
  is then a note: some tests passed despite the errors).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from grading.bundles import VISIBILITIES, Bundle, missing_packages
from grading.outputs import BadOutput, Outputs

SOURCE = "source"
SUBMISSION = "submission"
RESULTS = "results"
RESULTS_FILE = "results.json"
RESULTS_MAX_BYTES = 4 * 1024 * 1024
MOUNT_AT = PurePosixPath("/autograder")
# The job's folder is the current directory wherever it is mounted.
COMMAND = ("/bin/bash", "-c", 'export AUTOGRADER_ROOT="$PWD" && exec /bin/bash ./run_autograder')
MAX_TESTS = 1000
MAX_NAME_LENGTH = 200
MAX_OUTPUT_CHARS = 16 * 1024

BUILD_FAILED = "build_failed"
BUILD_TEST = "Build"
BUILD_NOTE = (
    f"the output shows a failed build; the test {BUILD_TEST!r} shows the student its first errors"
)
MAX_BUILD_LINES = 10
MAX_BUILD_LINE_CHARS = 300
# The lines that say a build stopped, each matched on its own (after trailing blanks are cut).
# Only these: a wider net would catch a test's own output ("No such file or directory" from a
# Python test that opens a file).
_MAKE = r"^make(\[\d+\])?: "
_SOURCE = r"\.(c|cc|cpp|cxx|c\+\+|C|h|hh|hpp|hxx)"
_TOOL = r"(cc|gcc|g\+\+|c\+\+|clang|clang\+\+|cc1|cc1plus|collect2|ld)"
BUILD_FAILURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # make: *** [Makefile:4: fib] Error 1; make: *** No rule to make target 'fib.c'. Stop.
    # An error the Makefile ignores ("- cc ...") ends in "(ignored)" and stopped nothing.
    ("make stopped", re.compile(_MAKE + r"\*\*\* (?!.*\(ignored\)$)")),
    # make: cc: No such file or directory (make 4.3); make: cc: Command not found (older makes)
    (
        "make found no such tool",
        re.compile(_MAKE + r".+: (No such file or directory|Command not found)$"),
    ),
    # bash: ./run_autograder: line 6: make: command not found; dash: /bin/sh: 1: cc: not found
    (
        "the shell found no such command",
        re.compile(r"(: command not found|^\S*sh: \d+: .+: not found)$"),
    ),
    # fib.c:3:5: error: expected ';' before 'return'; fib.c:1:10: fatal error: fib.h: No such file
    (
        "the compiler refused a source file",
        re.compile(r"^\S+" + _SOURCE + r":\d+(:\d+)?: (fatal )?error: "),
    ),
    # cc1: fatal error: fib.c: No such file or directory; collect2: error: ld returned 1 exit status
    ("the compiler or the linker stopped", re.compile(r"^(\S*/)?" + _TOOL + r": (fatal )?error: ")),
    # fib.c:(.text+0x2a): undefined reference to `fibonacci'
    ("the linker missed a function", re.compile(r": undefined reference to ")),
)


@dataclass(frozen=True)
class Reported:
    """What ``results.json`` says: tests as result-document dicts, the total, the overall output."""

    tests: list[dict[str, Any]]
    score: float
    output: str


def missing_requirements(bundle: Bundle) -> str:
    """Why the bundle cannot run on this worker, or "" when every requirement is installed."""
    missing = missing_packages(bundle)
    if not missing:
        return ""
    return (
        f"requirements.txt names packages this worker does not have: {', '.join(missing)}; "
        "install them on the worker (nothing is installed while grading)."
    )


def build_failures(stdout: str, stderr: str) -> list[str]:
    """The run's lines that show a failed build (stderr first: make and compilers write there),
    at most ``MAX_BUILD_LINES``, each at most ``MAX_BUILD_LINE_CHARS`` long, without repeats."""
    found: list[str] = []
    for text in (stderr, stdout):
        for line in text.splitlines():
            line = line.rstrip()
            if not any(pattern.search(line) for _, pattern in BUILD_FAILURES):
                continue
            if len(line) > MAX_BUILD_LINE_CHARS:
                line = line[: MAX_BUILD_LINE_CHARS - 3] + "..."
            if line not in found:
                found.append(line)
            if len(found) == MAX_BUILD_LINES:
                return found
    return found


def build_verdict(verdict: str, failures: list[str], *, score: float | None) -> str:
    """``build_failed`` in place of ``verdict`` when the build failed and nothing was scored
    (``score`` is None when there are no results); the verdicts of the sandbox's limits stand."""
    if failures and (score is None or score <= 0) and verdict in ("ok", "crashed", "bad_output"):
        return BUILD_FAILED
    return verdict


def build_test(failures: list[str], *, verdict: str, taken: Iterable[str]) -> dict[str, Any]:
    """The test that shows the student the build's errors, named apart from the ``taken`` names;
    worth no points, so the score stays the bundle's own."""
    if verdict == BUILD_FAILED:
        lead = "The build failed, so the tests had nothing to run. The first errors:"
    else:
        lead = "The build printed errors; the tests were scored anyway. The first errors:"
    return {
        "name": _unique(BUILD_TEST, set(taken)),
        "score": 0.0,
        "max_score": 0.0,
        "status": "failed",
        "visibility": "visible",
        "output": _text("\n".join([lead, *failures])),
    }


def read_results(folder: Path) -> Reported:
    """Reads ``results.json`` from the run's ``results/`` folder, refusing anything malformed."""
    document = Outputs(folder, max_bytes=RESULTS_MAX_BYTES).json(RESULTS_FILE)
    if not isinstance(document, dict):
        raise BadOutput(f"{RESULTS_FILE} must hold a JSON object.")
    default_visibility = _visibility(document.get("visibility", "visible"), "visibility")
    raw_tests = document.get("tests", [])
    if not isinstance(raw_tests, list) or len(raw_tests) > MAX_TESTS:
        raise BadOutput(f"{RESULTS_FILE}: tests must be a list of at most {MAX_TESTS} objects.")
    tests: list[dict[str, Any]] = []
    names: set[str] = set()
    for number, raw in enumerate(raw_tests, start=1):
        test = _test(raw, number, default_visibility)
        test["name"] = _unique(test["name"], names)
        tests.append(test)
    if "score" in document:
        score = _number(document["score"], "score")
    elif tests:
        score = sum(test["score"] for test in tests)
    else:
        raise BadOutput(f"{RESULTS_FILE} has neither a score nor tests.")
    return Reported(tests=tests, score=score, output=_text(document.get("output", "")))


def _test(raw: Any, number: int, default_visibility: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadOutput(f"{RESULTS_FILE}: test #{number} is not an object.")
    where = f"tests[{number}]"
    name = raw.get("name") or raw.get("number") or f"Test {number}"
    score = _number(raw.get("score", 0), f"{where}.score")
    max_score = _number(raw.get("max_score", score), f"{where}.max_score")
    status = raw.get("status")
    if status not in ("passed", "failed"):
        status = "passed" if score >= max_score else "failed"
    return {
        "name": str(name)[:MAX_NAME_LENGTH],
        "score": score,
        "max_score": max_score,
        "status": status,
        "visibility": _visibility(raw.get("visibility", default_visibility), f"{where}.visibility"),
        "output": _text(raw.get("output", "")),
    }


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadOutput(f"{RESULTS_FILE}: {where} must be a number, not {str(value)[:50]!r}.")
    return round(float(value), 4)


def _visibility(value: Any, where: str) -> str:
    if value not in VISIBILITIES:
        raise BadOutput(f"{RESULTS_FILE}: {where} must be one of {', '.join(VISIBILITIES)}.")
    return str(value)


def _text(value: Any) -> str:
    return (value if isinstance(value, str) else str(value))[:MAX_OUTPUT_CHARS]


def _unique(name: str, taken: set[str]) -> str:
    # Gradescope allows repeated names; stored results are looked up by name, so they must differ.
    candidate, count = name, 1
    while candidate in taken:
        count += 1
        candidate = f"{name} ({count})"
    taken.add(candidate)
    return candidate
