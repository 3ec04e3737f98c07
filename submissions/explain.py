"""A grading's verdict and the autograder's limits in plain words, for the student who handed in.

The limits are what the bundle's manifest says (``AutograderBundle.manifest["limits"]``): the
bundle that graded a hand-in for its verdict, the item's current bundle for the task's facts.
A limit the manifest leaves out is not named rather than guessed.
"""

from __future__ import annotations

from typing import Any

from grading.models import Verdict


def memory_shown(megabytes: int) -> str:
    """2048 -> "2 GB", 1536 -> "1.5 GB", 512 -> "512 MB"."""
    if megabytes >= 1024:
        return f"{megabytes / 1024:g} GB"
    return f"{megabytes} MB"


def output_shown(kilobytes: int) -> str:
    if kilobytes >= 1024:
        return f"{kilobytes / 1024:g} MB"
    return f"{kilobytes} KB"


def limit_facts(limits: dict[str, Any]) -> list[tuple[str, str]]:
    """The limits a student should know, as (what, value) rows."""
    rows = []
    if "wall_seconds" in limits:
        rows.append(("Time limit", f"{limits['wall_seconds']} s for the whole run"))
    if "memory_mb" in limits:
        rows.append(("Memory limit", memory_shown(limits["memory_mb"])))
    if "gpu" in limits:
        rows.append(("GPU", "one GPU" if limits["gpu"] else "none: your code runs on the CPU"))
    if "output_kb" in limits:
        rows.append(("Printed output", f"up to {output_shown(limits['output_kb'])}"))
    return rows


def verdict_explained(verdict: str, limits: dict[str, Any]) -> str:
    """What a verdict means for the student, with the limit it is about."""
    if verdict == Verdict.OK:
        return "Your code ran to the end; each test's points are below."
    if verdict == Verdict.TIMEOUT:
        limit = limits.get("wall_seconds")
        return (
            "Your code ran longer than the time limit"
            + (f" of {limit} s." if limit else ".")
            + " It was stopped; tests it had not finished get no points."
        )
    if verdict == Verdict.MEMORY:
        limit = limits.get("memory_mb")
        shown = f" (limit {memory_shown(limit)})" if limit else ""
        return (
            f"Your code ran out of memory{shown}. It was stopped; look for arrays or batches "
            "larger than needed."
        )
    if verdict == Verdict.OUTPUT_LIMIT:
        limit = limits.get("output_kb")
        shown = f" ({output_shown(limit)})" if limit else ""
        return (
            f"Your code printed more output than allowed{shown}. It was stopped; remove debug "
            "prints from loops."
        )
    if verdict == Verdict.CRASHED:
        return (
            "Your code stopped with an error before it finished. The tests' output below shows "
            "what went wrong."
        )
    if verdict == Verdict.BAD_OUTPUT:
        return (
            "Your code finished, but left results the autograder could not read (missing, too "
            "large, or not in the expected form)."
        )
    if verdict == Verdict.BUILD_FAILED:
        return (
            "The build failed: your hand-in could not be prepared to run, so no test ran. Check "
            "that it builds and imports with the starter's checks."
        )
    if verdict == Verdict.ERROR:
        return (
            "The autograder itself failed, not your code. The course staff see this and will "
            "grade your hand-in again; you need not hand it in again."
        )
    return "The autograder finished with an unexpected verdict; ask the course staff."
