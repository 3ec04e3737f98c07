"""Warm sandboxes against cold ones, side by side in one run.

Prints, on this machine:
- how long ``python -c "import torch"`` takes, the yardstick;
- the time to the first line of student code: a cold sandbox (bwrap started for the run), and a
  warm one (started ahead, ``torch`` imported, waiting) from the moment it is given its job;
- for each of A1-A4, grading the reference solution with ``grade()``: the whole time, the
  student code's own ``execution_time``, and the rest (the overhead: the hand-in placed, the
  sandboxes started or handed their job, the trusted grader, the clean-up), cold and warm.

Goals: the warm first line under a tenth of ``import torch``; the warm overhead under 0.5 s.
The worker's own part (the database, the broker) comes on top; ``bench/deadline_rush.py``
measures the whole path from upload to stored result.

Run as root where bwrap is installed: ``.venv/bin/python bench/warm_start.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grading.bundles import load_bundle  # noqa: E402
from grading.runner import ResultDocument, grade, run_prepare  # noqa: E402
from grading.sandbox import Limits, run_sandboxed, sandbox_available  # noqa: E402
from grading.sandbox.warm import Target, sandbox_start  # noqa: E402

ASSIGNMENTS = ROOT / "examples" / "assignments"
NAMES = ("a1-mlp", "a2-cnn", "a3-rnn", "a4-transformer-gnn")
# What a driver of A2-A4 does first: import torch (a warm sandbox has it already).
FIRST_LINE = "import torch\nimport time\nprint(time.monotonic(), flush=True)\n"


def median(values: list[float]) -> float:
    return statistics.median(values)


def import_torch() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.monotonic() - started


def first_line_cold(folder: Path, slot: int) -> float:
    (folder / "first.py").write_text(FIRST_LINE)
    started = time.monotonic()
    result = run_sandboxed(
        [sys.executable, "first.py"], job_dir=folder, limits=Limits(wall_seconds=60), slot=slot
    )
    return float(result.stdout.split()[0]) - started


def first_line_warm(folder: Path, slot: int) -> float:
    waiting = sandbox_start(
        job_dir=folder, limits=Limits(wall_seconds=60), slot=slot, preload=["torch"]
    )
    if not waiting.wait_ready(120):
        raise SystemExit("the warm sandbox did not get ready within 120 s")
    (folder / "first.py").write_text(FIRST_LINE)
    started = time.monotonic()
    result = waiting.run(Target(script="first.py"))
    return float(result.stdout.split()[0]) - started


def in_folder(measure: Callable[[Path, int], float], slot: int) -> float:
    with tempfile.TemporaryDirectory(prefix="warm-bench-") as folder:
        Path(folder).chmod(0o755)
        return measure(Path(folder), slot)


def graded(name: str, *, warm: bool, slot: int) -> tuple[float, ResultDocument]:
    """The wall time of grading A-``name``'s solution, and its result; a warm run's sandboxes
    are started and ready before the clock starts, as a warm worker's are."""
    with (
        load_bundle(ASSIGNMENTS / name / "bundle") as bundle,
        tempfile.TemporaryDirectory(prefix="warm-bench-") as work,
    ):
        prepared = None
        if warm:
            prepared = run_prepare(bundle, work_root=Path(work), slot=slot)
            for box in (prepared.student, prepared.grader):
                if box is None or not box.wait_ready(180):
                    raise SystemExit(f"{name}: the warm sandboxes did not get ready")
        started = time.monotonic()
        result = grade(
            bundle, ASSIGNMENTS / name / "solution", work_root=Path(work), slot=slot,
            prepared=prepared,
        )  # fmt: skip
        return time.monotonic() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--slot", type=int, default=950, help="the sandbox slot to use")
    parser.add_argument("--assignments", default=",".join(NAMES), help="comma-separated")
    arguments = parser.parse_args()
    if not sandbox_available():
        raise SystemExit("the sandbox cannot run here: run as root with bwrap installed")
    runs, slot = arguments.runs, arguments.slot

    torch_seconds = median([import_torch() for _ in range(runs)])
    cold = median([in_folder(first_line_cold, slot) for _ in range(runs)])
    warm = median([in_folder(first_line_warm, slot) for _ in range(runs)])
    print(f"python -c 'import torch' (host)        {torch_seconds * 1000:8.0f} ms")
    print(f"first line of student code, cold       {cold * 1000:8.0f} ms")
    print(
        f"first line of student code, warm       {warm * 1000:8.1f} ms"
        f"   ({warm / torch_seconds:.3f} of import torch; goal under 0.1)"
    )
    print()
    print(f"grading the reference solution, median of {runs} (seconds)")
    print(f"{'':20} {'cold: total':>12} {'exec':>7} {'overhead':>9}"
          f" {'warm: total':>12} {'exec':>7} {'overhead':>9}  score")  # fmt: skip
    for name in arguments.assignments.split(","):
        row = []
        scores = set()
        for warm_run in (False, True):
            totals, executions = [], []
            for _ in range(runs):
                seconds, result = graded(name, warm=warm_run, slot=slot)
                totals.append(seconds)
                executions.append(result.execution_time)
                scores.add(f"{result.score:g}/{result.max_score:g} {result.verdict}")
            overheads = [total - run for total, run in zip(totals, executions, strict=True)]
            row += [median(totals), median(executions), median(overheads)]
        cells = " ".join(
            f"{value:{width}.2f}" for value, width in zip(row, (12, 7, 9) * 2, strict=True)
        )
        print(f"{name:20} {cells}  {', '.join(sorted(scores))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
