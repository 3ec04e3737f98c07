"""How long the fair assignment of presenters takes, for the demo's class and larger ones.

Run from the repository root: ``.venv/bin/python bench/presenters.py [--runs N]``. Ten papers,
three presenting roles each, a tenth of the students blocked in one week, and one pin. Goal: a
class of 300 assigned in under 2 s on a 2-core machine (staff press a button and wait for it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from presentations.assignment import (  # noqa: E402
    Pin,
    Slot,
    assignment_compute,
    assignment_problems,
)

ROLES = ("overview", "strengths", "weaknesses")
GOAL_SECONDS = 2.0
# (students, presenters per role): the demo's 12, then classes where a role is held by a group.
CLASSES = ((12, 1), (60, 2), (150, 5), (300, 10))


def one_run(students: int, per_role: int, seed: int) -> tuple[float, int]:
    names = [f"student{n:03d}" for n in range(1, students + 1)]
    slots = [Slot(key=f"paper{week}", week=week, roles=ROLES) for week in range(5, 15)]
    blocked = [(name, 5 + n % 10) for n, name in enumerate(names) if n % 10 == 3]
    pins = [Pin(student=names[0], slot="paper7", role="overview")]
    started = time.perf_counter()
    found = assignment_compute(
        students=names, slots=slots, blocked=blocked, pins=pins,
        presenters_per_role=per_role, seed=seed,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    problems = assignment_problems(
        students=names, slots=slots, assignment=found, blocked=blocked, pins=pins,
        presenters_per_role=per_role,
    )  # fmt: skip
    return seconds, len(problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{'students':>8} {'per role':>8} {'median s':>9} {'max s':>7} {'rule breaches':>14}")
    worst = 0.0
    for students, per_role in CLASSES:
        results = [one_run(students, per_role, seed) for seed in range(runs)]
        times = [seconds for seconds, _ in results]
        breaches = sum(problems for _, problems in results)
        worst = max(worst, max(times))
        print(
            f"{students:>8} {per_role:>8} {statistics.median(times):>9.3f} "
            f"{max(times):>7.3f} {breaches:>14}"
        )
    verdict = "meets" if worst < GOAL_SECONDS else "misses"
    print(f"slowest run {worst:.3f} s: {verdict} the goal of {GOAL_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
