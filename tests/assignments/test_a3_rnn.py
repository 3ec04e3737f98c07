"""A3 (recurrent neural networks): the autograder bundle against its reference solution, its
flawed variants, a forged hand-in and the unimplemented starter, through the real sandbox.

Each hand-in is graded once per test session (the ``graded`` fixture caches the results), in a
sandbox slot of its own. Without a sandbox the tests are skipped, unless REQUIRE_SERVICES=1 says
it must be there.
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot
from tests.grading.test_grade_local import grade_local

A3 = REPO / "examples" / "assignments" / "a3-rnn"
BUNDLE = A3 / "bundle"
FLAWED = sorted(f"flawed/{path.name}" for path in (A3 / "flawed").iterdir() if path.is_dir())
# One sandbox slot each; the reruns of the solution take the next one.
HANDINS = ["solution", "starter", "fake", *FLAWED]
RERUNS = len(HANDINS)
TRAINING_TESTS = {"lm_trains", "heldout_perplexity"}


def sandbox_slot(n: int) -> int:
    return xdist_slot(4400, n)


def expected(handin: str) -> dict:
    return json.loads((A3 / handin / "expected.json").read_text())


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ResultDocument]]:
    """Grades a hand-in of A3 (a folder under examples/assignments/a3-rnn) at most once."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("a3-work")
    results: dict[str, ResultDocument] = {}
    with load_bundle(BUNDLE) as bundle:

        def result(handin: str) -> ResultDocument:
            if handin not in results:
                slot = sandbox_slot(HANDINS.index(handin))
                results[handin] = grade(bundle, A3 / handin, work_root=work_root, slot=slot)
            return results[handin]

        yield result


def test_it_gives_the_solution_full_marks(graded):
    result = graded("solution")
    failed = {test.name: test.output for test in result.tests if test.score < test.max_score}
    assert (result.verdict, result.score, result.max_score, failed) == ("ok", 100, 100, {})


def test_it_grades_the_solution_well_within_the_time_limit(graded):
    assert graded("solution").execution_time < 60


def test_it_gives_the_solution_the_same_scores_on_every_rerun(graded, tmp_path):
    reruns = []
    for _ in range(3):
        run = grade_local(
            tmp_path,
            str(BUNDLE),
            str(A3 / "solution"),
            "--json",
            f"--slot={sandbox_slot(RERUNS)}",
        )
        assert run.returncode == 0, run.stderr
        reruns.append(score_table(json.loads(run.stdout)))
    assert reruns == [score_table(graded("solution"))] * 3


@pytest.mark.parametrize("handin", FLAWED)
def test_it_takes_from_a_flawed_variant_exactly_the_tests_of_its_mistake(graded, handin):
    result = graded(handin)
    fails = set(expected(handin)["fails"])
    assert fails <= {test.name for test in result.tests}, "expected.json names unknown tests"
    lost = {test.name for test in result.tests if test.score == 0}
    kept = {test.name for test in result.tests if test.score == test.max_score}
    full = {test.name for test in result.tests} - fails
    assert (result.verdict, lost, kept) == ("ok", fails, full)


def test_it_gives_a_forged_handin_nothing_for_training(graded):
    training = {name: score_table(graded("fake"))[name][0] for name in TRAINING_TESTS}
    assert training == dict.fromkeys(TRAINING_TESTS, 0.0)


def test_it_gives_a_forged_handin_nothing_at_all(graded):
    result = graded("fake")
    assert (result.score, set(expected("fake")["fails"])) == (0, set(score_table(result)))


def test_it_gives_the_unimplemented_starter_zero_without_an_error(graded):
    result = graded("starter")
    statuses = {status for _, status in score_table(result).values()}
    assert (result.verdict, result.score, statuses) == ("ok", 0, {"failed"})


def test_it_keeps_the_held_out_text_out_of_the_sandbox():
    heldout = (BUNDLE / "private" / "heldout.txt").read_text()
    train = (BUNDLE / "public" / "train.txt").read_text()
    public = sorted(path.name for path in (BUNDLE / "public").iterdir())
    passages = {heldout[start : start + 80] in train for start in range(0, len(heldout), 400)}
    assert (public, passages) == (["cases.py", "train.txt"], {False})


@pytest.mark.parametrize("handin", FLAWED)
def test_it_keeps_a_flawed_variant_one_small_change_from_the_solution(handin):
    solution = (A3 / "solution" / "rnn.py").read_text().splitlines()
    flawed = (A3 / handin / "rnn.py").read_text().splitlines()
    changed = [
        line
        for line in difflib.unified_diff(solution, flawed, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert 0 < len(changed) <= 16


def interface(path: Path) -> list[str]:
    """The signatures of a module's functions, and of its classes' methods."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            names.append(f"{node.name}({ast.unparse(node.args)})")
        elif isinstance(node, ast.ClassDef):
            names += [
                f"{node.name}.{method.name}({ast.unparse(method.args)})"
                for method in node.body
                if isinstance(method, ast.FunctionDef)
            ]
    return names


def test_it_hands_students_the_interface_of_the_solution():
    assert interface(A3 / "starter" / "rnn.py") == interface(A3 / "solution" / "rnn.py")
