"""The programming quiz (vectorised NumPy): the autograder bundle against correct hand-ins in two
styles, the mistakes of make_flawed.py, a forged hand-in and the unimplemented starter, through
the real sandbox; and the bundle's data, README tables and copies.

Each hand-in is graded once per test session (the ``graded`` fixture caches the results), in a
sandbox slot of its own; a flawed hand-in is written from the solution and its mistake into a
temporary folder first. Without a sandbox the grading tests are skipped, unless
REQUIRE_SERVICES=1 says it must be there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from tests.assignments.handins import check_requirement_table, flawed_handin, mistakes_of
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot

Q0 = REPO / "examples" / "assignments" / "q0-numpy"
BUNDLE = Q0 / "bundle"
MANIFEST = tomllib.loads((BUNDLE / "autograder.toml").read_text())
BUNDLE_TESTS = [test["name"] for test in MANIFEST["tests"]]
MISTAKES = mistakes_of(Q0)
# The reference and a hand-in written from the starter README in another style.
SOLUTIONS = ["solution", "solution-loops"]
RUNS = 3
# Every grading of this file, each with a sandbox slot of its own.
GRADINGS = [
    *(f"{solution}#{run}" for solution in SOLUTIONS for run in range(RUNS)),
    "starter",
    "fake",
    *(f"flawed/{name}" for name in MISTAKES),
]


def sandbox_slot(grading: str) -> int:
    return xdist_slot(4800, GRADINGS.index(grading), per_worker=40)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ResultDocument]]:
    """Grades a hand-in of the quiz at most once: a folder under examples/assignments/q0-numpy,
    ``flawed/<mistake>``, or ``<solution>#<run>`` for another run of a correct one."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("q0-work")
    handins = tmp_path_factory.mktemp("q0-handins")
    results: dict[str, ResultDocument] = {}
    with load_bundle(BUNDLE) as bundle:

        def result(handin: str) -> ResultDocument:
            grading = handin if "#" in handin or handin not in SOLUTIONS else f"{handin}#0"
            if grading not in results:
                kind, _, name = grading.partition("/")
                if kind == "flawed":
                    folder = flawed_handin(Q0, name, handins)
                else:
                    folder = Q0 / grading.partition("#")[0]
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


def test_it_grades_the_solution_in_well_under_ten_seconds(graded):
    assert graded("solution").execution_time < 10


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


def test_it_tells_a_std_guard_which_constant_column_it_missed(graded):
    output = lost_tests(graded("flawed/standardize-std-equals-zero"))["standardize_constant"]
    assert output == (
        "standardize(X) with X of shape (7, 4): a column whose values are all equal must become "
        "zeros; column 1, all 0.1, became [1]."
    )


def test_it_tells_an_unclipped_distance_that_it_returned_nan(graded):
    output = lost_tests(graded("flawed/distances-not-clipped"))["pairwise_distances_rounding"]
    assert output.splitlines() == [
        "pairwise_distances(A, B) with A of shape (12, 16), B of shape (11, 16): contains nan or "
        "inf.",
        "pairwise_distances(A, B) with A of shape (12, 16), B of shape (12, 16): contains nan or "
        "inf.",
    ]


def test_it_tells_an_inverse_the_residual_it_leaves(graded):
    output = lost_tests(graded("flawed/ridge-inverts"))["linear_regression_conditioning"]
    residuals = [float(r) for r in re.findall(r"relative residual of (\S+) in", output)]
    assert len(residuals) == 3 and min(residuals) > 1e-13, output


def test_it_gives_a_forged_handin_nothing_at_all(graded):
    result = graded("fake")
    forged = json.loads((Q0 / "fake" / "expected.json").read_text())
    assert (result.verdict, result.score, set(forged["fails"])) == ("ok", 0, set(BUNDLE_TESTS))


def test_it_gives_the_unimplemented_starter_zero_without_an_error(graded):
    result = graded("starter")
    statuses = {status for _, status in score_table(result).values()}
    unimplemented = {test.name for test in result.tests if "NotImplementedError" in test.output}
    assert (result.verdict, result.score, statuses, unimplemented) == (
        "ok",
        0,
        {"failed"},
        set(BUNDLE_TESTS),
    )


def test_it_lists_every_requirement_of_the_starter_readme_with_its_tests_and_mistakes():
    check_requirement_table(Q0, BUNDLE_TESTS)


def test_it_gives_the_starter_readme_the_points_of_the_bundle():
    readme = (Q0 / "starter" / "README.md").read_text()
    listed = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|", readme, flags=re.MULTILINE))
    points = {test["name"]: test["points"] for test in MANIFEST["tests"]}
    assert ({name: int(value) for name, value in listed.items()}, sum(points.values())) == (
        points,
        100,
    )


def make_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("q0_make_data", Q0 / "make_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_writes_the_committed_cases_again(tmp_path: Path):
    """The same arrays, names, shapes and types; floats to the last bits a matrix product may
    round differently on another CPU or with other threads (the ill-conditioned X is U S V^T)."""
    module = make_data()
    module.write_npz(tmp_path / "cases.npz", module.cases())
    with (
        np.load(tmp_path / "cases.npz") as written,
        np.load(BUNDLE / "public" / "cases.npz") as committed,
    ):
        assert written.files == committed.files
        for name in committed.files:
            again, kept = written[name], committed[name]
            assert (again.dtype, again.shape) == (kept.dtype, kept.shape), name
            if np.issubdtype(kept.dtype, np.floating):
                assert np.allclose(again, kept, rtol=1e-12, atol=1e-14), name
            else:
                assert np.array_equal(again, kept), name


def test_it_has_cases_for_every_test_of_the_bundle_and_no_other():
    tested = {key.split(".")[0] for key in make_data().cases()}
    assert tested == set(BUNDLE_TESTS)
