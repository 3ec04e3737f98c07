"""A1 (MLPs and backpropagation): the autograder bundle against correct hand-ins in three styles,
the mistakes of make_flawed.py, a forged hand-in and the unimplemented starter, through the
real sandbox.

Each hand-in is graded once per test session (the ``graded`` fixture caches the results), in a
sandbox slot of its own; a flawed hand-in is written from the solution and its mistake into a
temporary folder first. Without a sandbox the tests are skipped, unless REQUIRE_SERVICES=1 says
it must be there.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from tests.assignments.handins import check_requirement_table, flawed_handin, mistakes_of
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot

A1 = REPO / "examples" / "assignments" / "a1-mlp"
BUNDLE = A1 / "bundle"
BUNDLE_TESTS = [
    test["name"] for test in tomllib.loads((BUNDLE / "autograder.toml").read_text())["tests"]
]
MISTAKES = mistakes_of(A1)
# The reference and two hand-ins written from the starter README in other styles.
SOLUTIONS = ["solution", "solution-float32", "solution-loops"]
RUNS = 3
# Every grading of this file, each with a sandbox slot of its own.
GRADINGS = [
    *(f"{solution}#{run}" for solution in SOLUTIONS for run in range(RUNS)),
    "starter",
    "fake",
    *(f"flawed/{name}" for name in MISTAKES),
]
TRAINING_TESTS = {"training_loss", "heldout_accuracy", "retrain"}


def sandbox_slot(grading: str) -> int:
    return xdist_slot(4000, GRADINGS.index(grading), per_worker=40)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ResultDocument]]:
    """Grades a hand-in of A1 at most once: a folder under examples/assignments/a1-mlp,
    ``flawed/<mistake>``, or ``<solution>#<run>`` for another run of a correct one."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("a1-work")
    handins = tmp_path_factory.mktemp("a1-handins")
    results: dict[str, ResultDocument] = {}
    with load_bundle(BUNDLE) as bundle:

        def result(handin: str) -> ResultDocument:
            grading = handin if "#" in handin or handin not in SOLUTIONS else f"{handin}#0"
            if grading not in results:
                kind, _, name = grading.partition("/")
                if kind == "flawed":
                    folder = flawed_handin(A1, name, handins)
                else:
                    folder = A1 / grading.partition("#")[0]
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


def test_it_grades_the_solution_well_within_the_time_limit(graded):
    assert graded("solution").execution_time < 60


def test_it_reports_a_cpu_job_as_run_on_the_cpu(graded):
    assert "device.json: {'device': 'cpu', 'cuda': False}" in graded("solution").logs


@pytest.mark.parametrize("name", list(MISTAKES))
def test_it_takes_from_a_flawed_handin_exactly_the_tests_of_its_mistake(graded, name):
    result = graded(f"flawed/{name}")
    loses = set(MISTAKES[name].loses)
    assert loses <= set(BUNDLE_TESTS), "the mistake names tests the bundle does not have"
    kept = {test.name for test in result.tests if test.score == test.max_score}
    assert (result.verdict, set(lost_tests(result)), kept) == (
        "ok",
        loses,
        set(BUNDLE_TESTS) - loses,
    )


def test_it_takes_the_stability_points_from_a_sigmoid_that_overflows(graded):
    output = lost_tests(graded("flawed/sigmoid-overflows"))["sigmoid_stability"]
    assert output.splitlines()[1:] == ["out: contains nan or inf.", "grad_x: contains nan or inf."]


def test_it_tells_a_train_loop_that_drops_the_last_batch_what_it_stepped_on(graded):
    output = lost_tests(graded("flawed/train-drops-last-batch"))["train_loop"]
    assert "took SGD steps on batches of sizes [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]" in output


def test_it_gives_a_forged_handin_nothing_for_training(graded):
    training = {name: score_table(graded("fake"))[name][0] for name in TRAINING_TESTS}
    assert training == dict.fromkeys(TRAINING_TESTS, 0.0)


def test_it_gives_a_forged_handin_nothing_at_all(graded):
    result = graded("fake")
    forged = json.loads((A1 / "fake" / "expected.json").read_text())
    assert (result.score, set(forged["fails"])) == (0, set(BUNDLE_TESTS))


def test_it_gives_the_unimplemented_starter_zero_without_an_error(graded):
    result = graded("starter")
    statuses = {status for _, status in score_table(result).values()}
    assert (result.verdict, result.score, statuses) == ("ok", 0, {"failed"})


def test_it_lists_every_requirement_of_the_starter_readme_with_its_tests_and_mistakes():
    check_requirement_table(A1, BUNDLE_TESTS)


def test_it_keeps_the_held_out_labels_out_of_the_sandbox():
    labels = np.load(BUNDLE / "private" / "test_y.npy")
    inputs = np.load(BUNDLE / "public" / "test_x.npy")
    public = sorted(path.name for path in (BUNDLE / "public").iterdir())
    assert (len(labels), len(inputs), public) == (
        500,
        500,
        ["cases.npz", "test_x.npy", "train_x.npy", "train_y.npy", "training.json"],
    )
