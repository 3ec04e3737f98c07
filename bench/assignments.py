"""How long grading each course assignment's reference solution takes, through the sandbox.

Run from the repository root, as root where bwrap is installed:
``.venv/bin/python bench/assignments.py [--runs N] [slug ...]``. Goal: at most 60 s each on a
2-core machine, so that CI can grade all four with their flawed variants.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grading.bundles import load_bundle  # noqa: E402
from grading.runner import grade  # noqa: E402

ASSIGNMENTS = REPO / "examples" / "assignments"
GOAL_SECONDS = 60.0


def time_solution(slug: str, runs: int, work_root: Path) -> tuple[list[float], float, float]:
    folder = ASSIGNMENTS / slug
    times, scores = [], []
    with load_bundle(folder / "bundle") as bundle:
        for run in range(runs):
            started = time.perf_counter()
            result = grade(bundle, folder / "solution", work_root=work_root, slot=950 + run)
            times.append(time.perf_counter() - started)
            scores.append(result.score)
            if result.verdict != "ok":
                raise SystemExit(f"{slug}: the reference solution got the verdict {result.verdict}")
        return times, scores[-1], bundle.max_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("slugs", nargs="*")
    options = parser.parse_args()
    slugs = options.slugs or sorted(path.name for path in ASSIGNMENTS.iterdir() if path.is_dir())
    with tempfile.TemporaryDirectory(prefix="assignments-bench-") as work_root:
        for slug in slugs:
            times, score, max_score = time_solution(slug, options.runs, Path(work_root))
            verdict = "met" if statistics.median(times) <= GOAL_SECONDS else "MISSED"
            print(
                f"{slug:<22} median {statistics.median(times):6.1f} s over {len(times)} run(s), "
                f"score {score:g}/{max_score:g} (goal: at most {GOAL_SECONDS:.0f} s: {verdict})"
            )


if __name__ == "__main__":
    main()
