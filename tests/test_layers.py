"""Imports only go downward: coursesite <- grading <- submissions, presentations, quizzes; the
LMS link (lms) stands on coursesite alone."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "coursesite": {"grading", "submissions", "presentations", "quizzes", "lms"},
    "grading": {"submissions", "presentations", "quizzes", "lms"},
    "submissions": {"presentations", "quizzes", "lms"},
    "presentations": {"submissions", "quizzes", "lms"},
    "quizzes": {"submissions", "presentations", "lms"},
    "lms": {"grading", "submissions", "presentations", "quizzes"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_it_keeps_imports_going_downward(package):
    upward = []
    for path in (REPO / package).rglob("*.py"):
        # URL routing is the one place that may gather views from every layer.
        if path.name == "urls.py" or "migrations" in path.parts:
            continue
        for name in imported_packages(path) & FORBIDDEN[package]:
            upward.append(f"{path.relative_to(REPO)} imports {name}")
    assert upward == []
