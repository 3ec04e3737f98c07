"""What the assignments' tests share: flawed hand-ins written from their mistakes, and the staff
README's requirement table, read and checked against the bundle and the mistakes.

The table is the first one under the heading ``## Requirements`` of an assignment's staff
README, one row per requirement the starter README states:

    | # | requirement (starter README) | tests | flawed hand-ins |
    |---|---|---|---|
    | 1 | `relu(x)` is max(x, 0) ... | `relu`, `mlp_backward` | `relu-backward-uses-output` |

Tests and hand-ins are the names in backquotes; a requirement no mistake breaks has ``-`` there.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

ASSIGNMENTS = REPO / "examples" / "assignments"
sys.path.insert(0, str(ASSIGNMENTS))

import mistakes  # noqa: E402  (examples/assignments/mistakes.py)

NAME = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Requirement:
    number: str
    text: str
    tests: tuple[str, ...]
    flawed: tuple[str, ...]


def flawed_handin(assignment: Path, name: str, into: Path) -> Path:
    """The flawed hand-in ``name`` of ``assignment``, written under ``into``."""
    mistake = mistakes.mistakes_of(assignment)[name]
    return mistakes.write_handin(assignment / "solution", mistake, into / name)


def mistakes_of(assignment: Path) -> dict[str, mistakes.Mistake]:
    return mistakes.mistakes_of(assignment)


def requirement_table(readme: Path) -> list[Requirement]:
    lines = readme.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index("## Requirements")
    except ValueError:
        raise AssertionError(f"{readme} has no '## Requirements' section") from None
    rows: list[Requirement] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or set(cells[0]) <= {"-", ":", " "} or cells[0] == "#":
            continue
        number, text, tests, flawed = cells
        rows.append(
            Requirement(number, text, tuple(NAME.findall(tests)), tuple(NAME.findall(flawed)))
        )
    assert rows, f"{readme}: the requirement table has no rows"
    return rows


def check_requirement_table(assignment: Path, bundle_tests: list[str]) -> list[Requirement]:
    """Every requirement has a test of the bundle; every test of the bundle checks a listed
    requirement; every listed flawed hand-in is a mistake of make_flawed.py that loses one of its
    requirement's tests (the assignment's own tests check that the hand-ins really lose them)."""
    rows = requirement_table(assignment / "README.md")
    known = mistakes_of(assignment)
    problems = []
    for row in rows:
        if not row.tests:
            problems.append(f"requirement {row.number} has no test")
        unknown = [test for test in row.tests if test not in bundle_tests]
        if unknown:
            problems.append(f"requirement {row.number}: no such test in the bundle: {unknown}")
        for name in row.flawed:
            if name not in known:
                problems.append(f"requirement {row.number}: no such mistake: {name}")
            elif not set(known[name].loses) & set(row.tests):
                problems.append(f"requirement {row.number}: {name} loses none of its tests")
    untested = set(bundle_tests) - {test for row in rows for test in row.tests}
    if untested:
        problems.append(f"tests that check no listed requirement: {sorted(untested)}")
    unlisted = set(known) - {name for row in rows for name in row.flawed}
    if unlisted:
        problems.append(f"mistakes that break no listed requirement: {sorted(unlisted)}")
    assert problems == [], "\n".join(problems)
    return rows
