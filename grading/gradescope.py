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
"""

from __future__ import annotations

import math
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
