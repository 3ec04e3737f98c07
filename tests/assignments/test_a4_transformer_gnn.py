"""A4, Transformers and GNNs: its autograder, run for real, grades each example hand-in as the
assignment says: the reference solution full marks (and the same scores on three reruns through
grade_local), each flawed hand-in all but the tests its expected.json names, the fake no training
points, the starter 0.

Every hand-in is graded once per session, two at a time, through grading.runner.grade and the
real sandbox. Without a sandbox these tests are skipped, unless REQUIRE_SERVICES=1 says it must be
there.
"""

from __future__ import annotations

import filecmp
import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from grading.bundles import Bundle, load_bundle
from grading.runner import ResultDocument, grade
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot
from tests.grading.test_grade_local import grade_local

ASSIGNMENT = REPO / "examples" / "assignments" / "a4-transformer-gnn"
FLAWED = sorted(path.name for path in (ASSIGNMENT / "flawed").iterdir() if path.is_dir())
TRAINING_TESTS = {"sorter_training", "karate_training"}
HANDINS = ["solution", *(f"flawed/{name}" for name in FLAWED), "fake", "starter"]
# The reruns of the solution, one after the other, take the slot after the hand-ins'.
RERUNS = len(HANDINS)


def sandbox_slot(place: int) -> int:
    return xdist_slot(4600, place)


def expected(handin: str) -> dict:
    return json.loads((ASSIGNMENT / handin / "expected.json").read_text())


def lost(result: ResultDocument) -> set[str]:
    return {test.name for test in result.tests if test.score < test.max_score}


class Gradings:
    """Every hand-in's grading, started at once on two threads; ``result`` waits for one."""

    def __init__(self, bundle: Bundle, work_root: Path) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.runs: list[tuple[str, Future[ResultDocument]]] = [
            (handin, self.pool.submit(self._grade, bundle, handin, place, work_root))
            for place, handin in enumerate(HANDINS)
        ]

    @staticmethod
    def _grade(bundle: Bundle, handin: str, place: int, work_root: Path) -> ResultDocument:
        return grade(bundle, ASSIGNMENT / handin, work_root=work_root, slot=sandbox_slot(place))

    def result(self, handin: str) -> ResultDocument:
        return next(run.result() for name, run in self.runs if name == handin)


@pytest.fixture(scope="module")
def gradings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gradings]:
    need_sandbox()
    bundle = load_bundle(ASSIGNMENT / "bundle")
    gradings = Gradings(bundle, tmp_path_factory.mktemp("a4-jobs"))
    try:
        yield gradings
    finally:
        gradings.pool.shutdown(cancel_futures=True)
        bundle.close()


def test_it_gives_the_solution_full_marks(gradings: Gradings) -> None:
    result = gradings.result("solution")
    failed = {test.name: test.output for test in result.tests if test.status != "passed"}
    assert failed == {}
    assert (result.verdict, result.score, result.max_score) == ("ok", 100.0, 100.0)


def test_it_grades_the_solution_well_within_the_time_limit(gradings: Gradings) -> None:
    assert gradings.result("solution").execution_time < 60


def test_it_gives_the_solution_the_same_scores_on_every_rerun(
    gradings: Gradings, tmp_path: Path
) -> None:
    reruns = []
    for _ in range(3):
        run = grade_local(
            tmp_path,
            str(ASSIGNMENT / "bundle"),
            str(ASSIGNMENT / "solution"),
            "--json",
            f"--slot={sandbox_slot(RERUNS)}",
        )
        assert run.returncode == 0, run.stderr
        reruns.append(score_table(json.loads(run.stdout)))
    assert reruns == [score_table(gradings.result("solution"))] * 3


@pytest.mark.parametrize("handin", [*(f"flawed/{name}" for name in FLAWED), "fake"])
def test_it_takes_from_a_flawed_handin_exactly_the_tests_it_fails(
    gradings: Gradings, handin: str
) -> None:
    result = gradings.result(handin)
    fails = set(expected(handin)["fails"])
    assert result.verdict == "ok"
    assert lost(result) == fails
    assert all(test.score == 0 for test in result.tests if test.name in fails)
    kept = sum(test.max_score for test in result.tests if test.name not in fails)
    assert result.score == kept


def test_it_gives_the_fake_no_training_points(gradings: Gradings) -> None:
    assert set(expected("fake")["fails"]) >= TRAINING_TESTS
    result = gradings.result("fake")
    assert {test.name: test.score for test in result.tests if test.name in TRAINING_TESTS} == {
        name: 0 for name in TRAINING_TESTS
    }


def test_it_gives_the_starter_zero_without_an_error(gradings: Gradings) -> None:
    result = gradings.result("starter")
    assert (result.verdict, result.score) == ("ok", 0.0)
    assert {test.status for test in result.tests} == {"failed"}
    assert "NotImplementedError" in result.tests[0].output


def test_it_has_three_flawed_handins_or_more() -> None:
    assert len(FLAWED) >= 3


def test_it_hands_out_the_bundles_public_files_with_the_starter() -> None:
    public = ASSIGNMENT / "bundle" / "public"
    names = sorted(path.name for path in public.iterdir() if path.is_file())
    handed_out = ASSIGNMENT / "starter" / "public"
    assert sorted(path.name for path in handed_out.iterdir() if path.is_file()) == names
    _, mismatch, errors = filecmp.cmpfiles(public, handed_out, names, shallow=False)
    assert (mismatch, errors) == ([], [])
