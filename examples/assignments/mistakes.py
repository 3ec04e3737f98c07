"""Flawed hand-ins as data: the reference solution and one realistic mistake each.

Each assignment's ``make_flawed.py`` lists its mistakes (``MISTAKES``): the edits that turn the
reference solution into the mistaken one, the tests it must lose, and what goes wrong. Hand-ins
are written from them where they are needed (a test's temporary folder, the demo course), so the
mistakes stay right when the solution changes: an edit whose text the solution no longer holds
exactly once is refused, and names the mistake.

    .venv/bin/python examples/assignments/a1-mlp/make_flawed.py /tmp/a1-flawed [NAME ...]

writes the hand-ins (all, or those named) under a folder of your choice, to look at or to grade.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


class MistakeError(Exception):
    """A mistake no longer applies to the solution."""


@dataclass(frozen=True)
class Edit:
    """In ``file`` of the solution, the one occurrence of ``before`` becomes ``after``."""

    file: str
    before: str
    after: str


@dataclass(frozen=True)
class Mistake:
    name: str
    edits: tuple[Edit, ...]
    loses: tuple[str, ...]  # the bundle's tests this mistake must lose, and no other
    description: str


def write_handin(solution: Path, mistake: Mistake, dest: Path) -> Path:
    """The hand-in with ``mistake``: ``solution``'s files copied into the new folder ``dest``,
    then edited. Returns ``dest``."""
    shutil.copytree(solution, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for edit in mistake.edits:
        path = dest / edit.file
        if not path.is_file():
            raise MistakeError(f"{mistake.name}: the solution has no {edit.file}")
        text = path.read_text(encoding="utf-8")
        count = text.count(edit.before)
        if count != 1:
            raise MistakeError(
                f"{mistake.name}: {edit.file} holds {count} times, not once: {edit.before!r}"
            )
        path.write_text(text.replace(edit.before, edit.after), encoding="utf-8")
    return dest


def mistakes_of(assignment: Path) -> dict[str, Mistake]:
    """The mistakes ``assignment``'s make_flawed.py lists, by name."""
    path = assignment / "make_flawed.py"
    spec = importlib.util.spec_from_file_location(f"make_flawed_{assignment.name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    listed: list[Mistake] = list(module.MISTAKES)
    named = {mistake.name: mistake for mistake in listed}
    if len(named) != len(listed):
        raise MistakeError(f"{path}: two mistakes share a name")
    return named


def main(assignment: Path, argv: list[str]) -> int:
    """The command line of each make_flawed.py: ``DEST [NAME ...]``."""
    if not argv or argv[0].startswith("-"):
        print(f"usage: {sys.argv[0]} DEST [NAME ...]", file=sys.stderr)
        return 2
    dest, names = Path(argv[0]), argv[1:]
    mistakes = mistakes_of(assignment)
    unknown = [name for name in names if name not in mistakes]
    if unknown:
        known = ", ".join(mistakes)
        print(f"no such mistake: {', '.join(unknown)}; known: {known}", file=sys.stderr)
        return 2
    for name in names or list(mistakes):
        folder = write_handin(assignment / "solution", mistakes[name], dest / name)
        print(f"{folder}: loses {', '.join(mistakes[name].loses)}")
    return 0
