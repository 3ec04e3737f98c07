"""A3 (recurrent neural networks): the autograder bundle against correct hand-ins in three styles,
the mistakes of make_flawed.py, a forged hand-in and the unimplemented starter, through the real
sandbox.

Each grading runs once per test session (the ``graded`` fixture caches the results), in a
sandbox slot of its own; a flawed hand-in is written from the solution and its mistake into a
temporary folder first. Without a sandbox the tests are skipped, unless REQUIRE_SERVICES=1 says
it must be there.
"""

from __future__ import annotations

import ast
import difflib
import json
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from tests.assignments.handins import check_requirement_table, flawed_handin, mistakes_of
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot

A3 = REPO / "examples" / "assignments" / "a3-rnn"
BUNDLE = A3 / "bundle"
BUNDLE_TESTS = [
    test["name"] for test in tomllib.loads((BUNDLE / "autograder.toml").read_text())["tests"]
]
MISTAKES = mistakes_of(A3)
# The reference and two hand-ins written from the starter README in other styles.
SOLUTIONS = ["solution", "solution-loops", "solution-einsum"]
RUNS = 3
# Every grading of this file, each with a sandbox slot of its own.
GRADINGS = [
    *(f"{solution}#{run}" for solution in SOLUTIONS for run in range(RUNS)),
    "starter",
    "fake",
    *(f"flawed/{name}" for name in MISTAKES),
]
TRAINING_TESTS = {"lm_trains", "heldout_perplexity"}


def sandbox_slot(grading: str) -> int:
    return xdist_slot(4400, GRADINGS.index(grading), per_worker=40)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ResultDocument]]:
    """Grades a hand-in of A3 at most once: a folder under examples/assignments/a3-rnn,
    ``flawed/<mistake>``, or ``<solution>#<run>`` for another run of a correct one."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("a3-work")
    handins = tmp_path_factory.mktemp("a3-handins")
    results: dict[str, ResultDocument] = {}
    with load_bundle(BUNDLE) as bundle:

        def result(handin: str) -> ResultDocument:
            grading = handin if "#" in handin or handin not in SOLUTIONS else f"{handin}#0"
            if grading not in results:
                kind, _, name = grading.partition("/")
                if kind == "flawed":
                    folder = flawed_handin(A3, name, handins)
                else:
                    folder = A3 / grading.partition("#")[0]
                slot = sandbox_slot(grading)
                results[grading] = grade(bundle, folder, work_root=work_root, slot=slot)
            return results[grading]

        yield result


def lost_tests(result: ResultDocument) -> dict[str, str]:
    return {test.name: test.output for test in result.tests if test.score < test.max_score}


@pytest.mark.parametrize("solution", SOLUTIONS)
def test_it_gives_a_correct_solution_full_marks_on_every_run(graded, solution):
    runs = [graded(f"{solution}#{run}") for run in range(RUNS)]
    first = runs[0]
    assert (first.verdict, first.score, first.max_score, lost_tests(first)) == ("ok", 100, 100, {})
    assert [score_table(run) for run in runs] == [score_table(first)] * RUNS


@pytest.mark.parametrize("solution", SOLUTIONS)
def test_it_grades_a_correct_solution_well_within_the_time_limit(graded, solution):
    assert graded(solution).execution_time < 60


@pytest.mark.parametrize("name", list(MISTAKES))
def test_it_takes_from_a_flawed_handin_exactly_the_tests_of_its_mistake(graded, name):
    result = graded(f"flawed/{name}")
    loses = set(MISTAKES[name].loses)
    assert loses <= set(BUNDLE_TESTS), "the mistake names tests the bundle does not have"
    lost = {test.name for test in result.tests if test.score == 0}
    kept = {test.name for test in result.tests if test.score == test.max_score}
    assert (result.verdict, lost, kept) == ("ok", loses, set(BUNDLE_TESTS) - loses)


def test_it_tells_a_model_that_ignores_its_state_so(graded):
    output = lost_tests(graded("flawed/forward-ignores-state"))["char_lstm_state"]
    assert output.endswith(
        "Your logits from the given state are those of a run from zeros: forward ignores the "
        "state it is given."
    )


def test_it_tells_a_training_loop_that_drops_the_state_that_no_chunk_carried_it(graded):
    output = lost_tests(graded("flawed/state-not-carried"))["lm_trains"]
    assert output.startswith(
        "No chunk of your training started from the state the chunk before ended with, cut from "
        "its graph: 180 started from zeros. "
    )


def test_it_names_the_forbidden_shortcut_a_handin_used(graded):
    output = lost_tests(graded("flawed/clip-with-torch"))["clip_grad_norm"]
    assert output == (
        "Your clip_grad_norm_ used torch.nn.utils.clip_grad_norm_, which the rules of this "
        "assignment forbid: write it yourself."
    )


def test_it_gives_a_forged_handin_nothing_for_training(graded):
    training = {name: score_table(graded("fake"))[name][0] for name in TRAINING_TESTS}
    assert training == dict.fromkeys(TRAINING_TESTS, 0.0)


def test_it_gives_a_forged_handin_nothing_at_all(graded):
    result = graded("fake")
    fails = json.loads((A3 / "fake" / "expected.json").read_text())["fails"]
    assert (result.score, set(fails), set(score_table(result))) == (
        0,
        set(BUNDLE_TESTS),
        set(BUNDLE_TESTS),
    )


def test_it_gives_the_unimplemented_starter_zero_without_an_error(graded):
    result = graded("starter")
    statuses = {status for _, status in score_table(result).values()}
    assert (result.verdict, result.score, statuses) == ("ok", 0, {"failed"})


def test_it_lists_every_requirement_of_the_starter_readme_with_its_tests_and_mistakes():
    check_requirement_table(A3, BUNDLE_TESTS)


def test_it_keeps_the_held_out_text_out_of_the_sandbox():
    heldout = (BUNDLE / "private" / "heldout.txt").read_text()
    train = (BUNDLE / "public" / "train.txt").read_text()
    public = sorted(path.name for path in (BUNDLE / "public").iterdir())
    passages = {heldout[start : start + 80] in train for start in range(0, len(heldout), 400)}
    assert (public, passages) == (["cases.py", "train.txt"], {False})


@pytest.mark.parametrize("name", list(MISTAKES))
def test_it_keeps_a_flawed_handin_one_small_change_from_the_solution(name, tmp_path):
    solution = (A3 / "solution" / "rnn.py").read_text().splitlines()
    flawed = (flawed_handin(A3, name, tmp_path) / "rnn.py").read_text().splitlines()
    changed = [
        line
        for line in difflib.unified_diff(solution, flawed, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert 0 < len(changed) <= 16


def interface(path: Path, *, defaults: bool = True) -> list[str]:
    """The signatures of a module's functions, and of its classes' methods (with their default
    values, or only the names of their parameters)."""

    def signature(name: str, function: ast.FunctionDef) -> str:
        arguments = function.args
        if not defaults:
            arguments = ast.arguments(
                posonlyargs=arguments.posonlyargs,
                args=arguments.args,
                vararg=arguments.vararg,
                kwonlyargs=arguments.kwonlyargs,
                kw_defaults=[None] * len(arguments.kwonlyargs),
                kwarg=arguments.kwarg,
                defaults=[],
            )
        return f"{name}({ast.unparse(arguments)})"

    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            names.append(signature(node.name, node))
        elif isinstance(node, ast.ClassDef):
            names += [
                signature(f"{node.name}.{method.name}", method)
                for method in node.body
                if isinstance(method, ast.FunctionDef)
            ]
    return names


def test_it_hands_students_the_interface_of_the_solution():
    assert interface(A3 / "starter" / "rnn.py") == interface(A3 / "solution" / "rnn.py")


@pytest.mark.parametrize("solution", SOLUTIONS[1:])
def test_it_keeps_every_signature_of_the_starter_in_the_other_correct_solutions(solution):
    """Defaults may change (the README lets students choose their training's), names may not."""
    starter = interface(A3 / "starter" / "rnn.py", defaults=False)
    theirs = interface(A3 / solution / "rnn.py", defaults=False)
    assert [name for name in starter if name not in theirs] == []
