"""A4, Transformers and GNNs: its autograder, run for real in the sandbox, grades hand-ins as the
assignment says. Each correct solution (the reference and two in other styles) gets full marks on
three gradings in a row with the same score table; each mistake of make_flawed.py, written from
the reference, loses exactly the tests it lists; the fake gets no training points, the starter
0. The staff README's requirement table names real tests and mistakes, and the grader's copy of
the public files is the one students get.

A grading runs in the test that needs it, one at a time per pytest worker: split over workers,
the tests share the gradings out instead of each worker grading every hand-in. Without a sandbox
the grading tests are skipped, unless REQUIRE_SERVICES=1 says it must be there.
"""

from __future__ import annotations

import filecmp
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from grading.bundles import Bundle, load_bundle
from grading.runner import ResultDocument, grade
from tests.assignments.handins import check_requirement_table, flawed_handin, mistakes_of
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot

ASSIGNMENT = REPO / "examples" / "assignments" / "a4-transformer-gnn"
MANIFEST = tomllib.loads((ASSIGNMENT / "bundle" / "autograder.toml").read_text())
BUNDLE_TESTS = [test["name"] for test in MANIFEST["tests"]]
MISTAKES = mistakes_of(ASSIGNMENT)
SOLUTIONS = ["solution", "solution-einsum", "solution-loops"]
TRAINING_TESTS = {"sorter_training", "karate_training"}
# The flawed hand-ins committed before the mistakes became data, by the names courses use.
FORMER_FLAWED = {
    "attention-scale-by-d",
    "causal-mask-off-by-one",
    "mask-after-softmax",
    "gcn-no-self-loops",
    "gcn-no-normalization",
}
# Every hand-in has a sandbox slot of its own on each worker; its reruns take the same one.
HANDINS = [*SOLUTIONS, *sorted(MISTAKES), "fake", "starter"]
SLOTS_PER_WORKER = 40


def sandbox_slot(handin: str) -> int:
    return xdist_slot(4600, HANDINS.index(handin), per_worker=SLOTS_PER_WORKER)


def lost(result: ResultDocument) -> set[str]:
    return {test.name for test in result.tests if test.score < test.max_score}


def assert_loses_exactly(result: ResultDocument, fails: set[str]) -> None:
    """Every test in ``fails`` scores 0, every other one full marks."""
    assert result.verdict == "ok"
    assert lost(result) == fails
    assert all(test.score == 0 for test in result.tests if test.name in fails)
    assert result.score == sum(test.max_score for test in result.tests if test.name not in fails)


@pytest.fixture(scope="module")
def bundle() -> Iterator[Bundle]:
    need_sandbox()
    with load_bundle(ASSIGNMENT / "bundle") as loaded:
        yield loaded


def grade_handin(bundle: Bundle, folder: Path, work_root: Path, handin: str) -> ResultDocument:
    return grade(bundle, folder, work_root=work_root, slot=sandbox_slot(handin))


@pytest.mark.parametrize("style", SOLUTIONS)
def test_it_gives_each_correct_solution_full_marks_three_times_alike(
    bundle: Bundle, tmp_path: Path, style: str
) -> None:
    first = grade_handin(bundle, ASSIGNMENT / style, tmp_path, style)
    failed = {test.name: test.output for test in first.tests if test.status != "passed"}
    assert failed == {}
    assert (first.verdict, first.score, first.max_score) == ("ok", 100.0, 100.0)
    assert first.execution_time < 60, "well within the bundle's 120 s"
    reruns = [score_table(grade_handin(bundle, ASSIGNMENT / style, tmp_path, style))]
    reruns.append(score_table(grade_handin(bundle, ASSIGNMENT / style, tmp_path, style)))
    assert reruns == [score_table(first)] * 2


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_it_takes_from_a_flawed_handin_exactly_the_tests_its_mistake_loses(
    bundle: Bundle, tmp_path: Path, name: str
) -> None:
    handin = flawed_handin(ASSIGNMENT, name, tmp_path)
    result = grade_handin(bundle, handin, tmp_path, name)
    assert_loses_exactly(result, set(MISTAKES[name].loses))


def test_it_gives_the_fake_no_training_points(bundle: Bundle, tmp_path: Path) -> None:
    fails = set(json.loads((ASSIGNMENT / "fake" / "expected.json").read_text())["fails"])
    assert fails >= TRAINING_TESTS
    assert_loses_exactly(grade_handin(bundle, ASSIGNMENT / "fake", tmp_path, "fake"), fails)


def test_it_gives_the_starter_zero_without_an_error(bundle: Bundle, tmp_path: Path) -> None:
    result = grade_handin(bundle, ASSIGNMENT / "starter", tmp_path, "starter")
    assert (result.verdict, result.score) == ("ok", 0.0)
    assert {test.status for test in result.tests} == {"failed"}
    assert "NotImplementedError" in result.tests[0].output


def test_it_lists_every_requirement_with_the_tests_and_mistakes_that_check_it() -> None:
    check_requirement_table(ASSIGNMENT, BUNDLE_TESTS)


def test_it_keeps_the_names_of_the_flawed_handins_and_a_total_of_100_points() -> None:
    assert set(MISTAKES) >= FORMER_FLAWED
    assert not (ASSIGNMENT / "flawed").exists()
    assert sum(test["points"] for test in MANIFEST["tests"]) == 100


@pytest.mark.parametrize("copy", ["starter/public"])
def test_it_keeps_each_copy_of_the_public_files_the_same(copy: str) -> None:
    public = ASSIGNMENT / "bundle" / "public"
    names = sorted(path.name for path in public.iterdir() if path.is_file())
    copied = ASSIGNMENT / copy
    assert sorted(path.name for path in copied.iterdir() if path.is_file()) == names
    _, mismatch, errors = filecmp.cmpfiles(public, copied, names, shallow=False)
    assert (mismatch, errors) == ([], [])
