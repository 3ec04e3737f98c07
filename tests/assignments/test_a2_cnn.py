"""A2 (CNNs): the bundle gives its reference solution full marks, the same marks on every run,
each flawed hand-in exactly the tests its mistake deserves to lose, and the starter nothing.

These tests grade in the real sandbox; without one they are skipped, unless REQUIRE_SERVICES=1
says it must be there. Each hand-in is graded once per session (the results are cached in a
module-scoped fixture), each grading in a sandbox slot of its own per pytest-xdist worker.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from tests.conftest import REPO, django_env, need_sandbox, score_table, xdist_slot

A2 = REPO / "examples" / "assignments" / "a2-cnn"
BUNDLE = A2 / "bundle"
FLAWED = sorted(path.name for path in (A2 / "flawed").iterdir() if path.is_dir())
FAKE = "fake-training"
TRAINING_TESTS = ("cnn_heldout_accuracy", "cnn_heldout_accuracy_high")
SLOT_BASE = 4000 + 200
# One slot per grading; at most 10 per xdist worker.
SLOTS = {"solution": 0, "rerun": 1, "starter": 2} | {
    name: 3 + index for index, name in enumerate(FLAWED)
}


def sandbox_slot(offset: int) -> int:
    return xdist_slot(SLOT_BASE, offset)


def expected(variant: str) -> dict:
    return json.loads((A2 / "flawed" / variant / "expected.json").read_text())


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ResultDocument]]:
    """``graded(name)``: the result of grading the hand-in ``name`` ("solution", "starter" or a
    flawed variant), graded on first use only."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("a2-cnn")
    cache: dict[str, ResultDocument] = {}
    with load_bundle(BUNDLE) as bundle:

        def result(name: str) -> ResultDocument:
            if name not in cache:
                folder = A2 / name if name in ("solution", "starter") else A2 / "flawed" / name
                slot = sandbox_slot(SLOTS[name])
                # The solution's job folder is kept, to look at what the driver wrote.
                keep = name == "solution"
                cache[name] = grade(bundle, folder, work_root=work_root, slot=slot, keep=keep)
            return cache[name]

        yield result


def test_the_manifest_has_100_points_and_knows_every_expected_failure():
    manifest = tomllib.loads((BUNDLE / "autograder.toml").read_text())
    names = [test["name"] for test in manifest["tests"]]
    assert sum(test["points"] for test in manifest["tests"]) == 100
    assert manifest["submission"]["files"] == ["layers.py", "cnn.py"]
    assert len(FLAWED) >= 4 and FAKE in FLAWED
    for variant in FLAWED:
        assert expected(variant)["fails"], variant
        assert set(expected(variant)["fails"]) <= set(names), variant
        assert {path.name for path in (A2 / "flawed" / variant).iterdir()} == {
            "layers.py",
            "cnn.py",
            "expected.json",
        }


def test_the_solution_gets_full_marks_and_sees_its_training_curve(graded):
    result = graded("solution")
    assert (result.verdict, result.score, result.max_score) == ("ok", 100.0, 100.0), result.logs
    assert all(test.status == "passed" for test in result.tests)
    outputs = {test.name: test.output for test in result.tests}
    assert "Loss per epoch: " in outputs["cnn_heldout_accuracy"]
    assert "out/filters.png (320x320 PNG" in outputs["cnn_model"]
    # Shown at once, so only passed/failed: the accuracy itself waits for the due date.
    assert "Held-out accuracy is at least 0.90." in outputs["cnn_heldout_accuracy"]
    out = result.kept_at / "job" / "out"
    assert json.loads((out / "device.json").read_text()) == {"device": "cpu", "cuda": False}
    assert (out / "filters.png").read_bytes().startswith(b"\x89PNG")
    # The student sees the filters with the results: the runner keeps the checked PNG.
    assert [image["name"] for image in result.images] == ["filters.png"]
    assert base64.b64decode(result.images[0]["png_base64"]) == (out / "filters.png").read_bytes()


def grade_local(tmp_path: Path, handin: Path, slot: int) -> dict:
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL="postgres://nobody:nothing@127.0.0.1:9/none",
    )
    command = ["manage.py", "grade_local", str(BUNDLE), str(handin), "--json", f"--slot={slot}"]
    run = subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_solution_gets_the_same_scores_on_every_run(graded, tmp_path):
    first = score_table(graded("solution"))
    # Three runs through the instructors' command, each compared with the runner's own run.
    for _ in range(3):
        document = grade_local(tmp_path, A2 / "solution", sandbox_slot(SLOTS["rerun"]))
        assert document["verdict"] == "ok"
        again = {test["name"]: (test["score"], test["status"]) for test in document["tests"]}
        assert again == first


@pytest.mark.parametrize("variant", FLAWED)
def test_a_flawed_handin_loses_exactly_its_expected_tests(graded, variant):
    result = graded(variant)
    fails = set(expected(variant)["fails"])
    assert result.verdict == "ok", result.logs
    lost = {test.name for test in result.tests if test.score < test.max_score}
    assert lost == fails, {test.name: (test.score, test.output[:300]) for test in result.tests}
    assert all(test.status == "failed" for test in result.tests if test.name in fails)


def test_a_handin_that_fakes_its_outputs_scores_nothing_for_training(graded):
    assert set(expected(FAKE)["fails"]) == set(TRAINING_TESTS)
    result = score_table(graded(FAKE))
    assert {name: result[name] for name in TRAINING_TESTS} == {
        name: (0.0, "failed") for name in TRAINING_TESTS
    }


def test_the_starter_scores_zero_without_an_error(graded):
    result = graded("starter")
    assert (result.verdict, result.score) == ("ok", 0.0)
    assert {test.status for test in result.tests} == {"failed"}
    conv_forward = next(test for test in result.tests if test.name == "conv_forward")
    assert "NotImplementedError: conv2d_forward" in conv_forward.output
