"""How long grading each course assignment's reference solution takes, through the sandbox:
wall-clock seconds, and the CPU seconds the whole machine spent meanwhile (the student's run, the
grader, the worker; an upper bound on the grading's own, exact on an otherwise idle machine: the
sandbox's processes are reaped inside their own pid namespace, out of this process's account).

Run from the repository root, as root where bwrap is installed:
``.venv/bin/python bench/assignments.py [--runs N] [slug ...]``. Goal: at most 60 s of CPU each,
so that CI can grade every assignment with its other solutions and its mistakes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grading.bundles import load_bundle  # noqa: E402
from grading.runner import grade  # noqa: E402
from grading.sandbox.slots import free_slot  # noqa: E402

ASSIGNMENTS = REPO / "examples" / "assignments"
GOAL_SECONDS = 60.0


def cpu_of_machine() -> float:
    """CPU seconds every core has spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def time_solution(
    slug: str, runs: int, work_root: Path, slot: int
) -> tuple[list[float], list[float], float, float]:
    folder = ASSIGNMENTS / slug
    times, cpus, scores = [], [], []
    with load_bundle(folder / "bundle") as bundle:
        for _ in range(runs):
            started, cpu = time.perf_counter(), cpu_of_machine()
            result = grade(bundle, folder / "solution", work_root=work_root, slot=slot)
            times.append(time.perf_counter() - started)
            cpus.append(cpu_of_machine() - cpu)
            scores.append(result.score)
            if result.verdict != "ok":
                raise SystemExit(f"{slug}: the reference solution got the verdict {result.verdict}")
        return times, cpus, scores[-1], bundle.max_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("slugs", nargs="*")
    options = parser.parse_args()
    slugs = options.slugs or sorted(
        path.parent.parent.name for path in ASSIGNMENTS.glob("*/bundle/autograder.toml")
    )
    with tempfile.TemporaryDirectory(prefix="assignments-bench-") as work_root, free_slot() as slot:
        for slug in slugs:
            times, cpus, score, max_score = time_solution(slug, options.runs, Path(work_root), slot)
            cpu = statistics.median(cpus)
            verdict = "met" if cpu <= GOAL_SECONDS else "MISSED"
            print(
                f"{slug:<22} median {statistics.median(times):6.1f} s wall, {cpu:6.1f} s CPU "
                f"over {len(times)} run(s), score {score:g}/{max_score:g} "
                f"(goal: at most {GOAL_SECONDS:.0f} s of CPU: {verdict})"
            )


if __name__ == "__main__":
    main()
