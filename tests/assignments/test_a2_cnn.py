"""A2 (CNNs): the bundle gives every correct solution full marks, the same marks on every run,
each flawed hand-in exactly the tests its mistake breaks, and the forgery and the starter nothing.

The hand-ins are graded in the real sandbox, each by one test only (so that two pytest-xdist
workers never grade the same one), each in a sandbox slot of its own per worker. The flawed
hand-ins are written from the reference solution and make_flawed.py's MISTAKES.
"""

from __future__ import annotations

import base64
import importlib.util
import json
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
from tests.grading.test_grade_local import grade_local

A2 = REPO / "examples" / "assignments" / "a2-cnn"
BUNDLE = A2 / "bundle"
MANIFEST = tomllib.loads((BUNDLE / "autograder.toml").read_text())
TESTS = [test["name"] for test in MANIFEST["tests"]]
MISTAKES = mistakes_of(A2)
# Each correct solution, and the parameter holding the weights of the first convolution the
# digits go through: solution-residual declares a 16 -> 16 block before its 1 -> 16 stem, and
# solution-functional has no nn.Conv2d at all (F.conv2d on parameters of its own).
FIRST_CONVOLUTION = {
    "solution": "0.weight",
    "solution-residual": "stem.weight",
    "solution-functional": "filters1",
}
RERUNS = 2
HANDINS = [*FIRST_CONVOLUTION, "fake", "starter", *MISTAKES]


def sandbox_slot(handin: str) -> int:
    return xdist_slot(4200, HANDINS.index(handin), per_worker=len(HANDINS))


def lost(result: ResultDocument) -> dict[str, str]:
    """The tests that did not get full marks, with what the student reads."""
    return {test.name: test.output[:400] for test in result.tests if test.score < test.max_score}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ResultDocument]]:
    """``graded(handin, folder, keep=False)``: the result of grading ``folder`` in the slot of
    ``handin``."""
    need_sandbox()
    work_root = tmp_path_factory.mktemp("a2-cnn")
    with load_bundle(BUNDLE) as bundle:

        def result(handin: str, folder: Path, *, keep: bool = False) -> ResultDocument:
            slot = sandbox_slot(handin)
            return grade(bundle, folder, work_root=work_root, slot=slot, keep=keep)

        yield result


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_has_100_points_over_the_two_handed_in_files():
    assert sum(test["points"] for test in MANIFEST["tests"]) == 100
    assert MANIFEST["submission"]["files"] == ["layers.py", "cnn.py"]


def test_it_lists_every_requirement_with_its_tests_and_mistakes():
    check_requirement_table(A2, TESTS)


def test_it_scores_the_layers_against_what_pytorch_computes_for_the_cases():
    make_data = load_module("a2_make_data", A2 / "make_data.py")
    cases = make_data.layer_cases
    fresh = make_data.layer_references()
    # Four arrays per convolution, two per max-pooling: no two cases share a seed.
    conv_cases = len(cases.CONV_CASES) + len(cases.EDGE_CONV_CASES)
    assert len(fresh) == 4 * conv_cases + 2 * (len(cases.POOL_CASES) + len(cases.EDGE_POOL_CASES))
    with np.load(BUNDLE / "private" / "layer_references.npz", allow_pickle=False) as stored:
        assert sorted(stored.files) == sorted(fresh)
        for key, array in fresh.items():
            np.testing.assert_allclose(stored[key], array, rtol=1e-12, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("solution", FIRST_CONVOLUTION)
def test_it_finds_the_first_convolution_the_digits_go_through(solution):
    import torch

    driver = load_module("a2_driver", BUNDLE / "driver.py")
    model = load_module(f"a2_{solution.replace('-', '_')}", A2 / solution / "cnn.py").build_model()
    images = torch.from_numpy(np.load(BUNDLE / "public" / "train_images.npy")[:5])
    model.eval()
    with torch.no_grad():
        scores, (facts, weights) = driver.first_convolution(model, images)
    parameter = model.get_parameter(FIRST_CONVOLUTION[solution])
    assert tuple(scores.shape) == (5, 10)
    assert facts == {
        "in_channels": 1,
        "out_channels": parameter.shape[0],
        "kernel_size": list(parameter.shape[2:]),
        "parameter": FIRST_CONVOLUTION[solution],
    }
    # What filters.png draws: the weights of that convolution.
    np.testing.assert_array_equal(weights, parameter.detach().numpy())


@pytest.mark.parametrize("solution", FIRST_CONVOLUTION)
def test_it_gives_a_correct_solution_full_marks_on_every_run(graded, solution, tmp_path):
    result = graded(solution, A2 / solution, keep=True)
    assert (result.verdict, result.score, lost(result)) == ("ok", 100, {}), result.logs
    outputs = {test.name: test.output for test in result.tests}
    assert f"(weights {FIRST_CONVOLUTION[solution]}) takes 1 input channel" in outputs["cnn_model"]
    assert "Loss per epoch: " in outputs["cnn_heldout_accuracy"]
    # Shown at once, so only passed/failed: the accuracy itself waits for the due date.
    assert "Held-out accuracy is at least 0.90." in outputs["cnn_heldout_accuracy"]
    assert result.execution_time < 60
    out = result.kept_at / "job" / "out"
    assert json.loads((out / "device.json").read_text()) == {"device": "cpu", "cuda": False}
    # The student sees the filters with the results: the runner keeps the checked PNG.
    assert [image["name"] for image in result.images] == ["filters.png"]
    assert base64.b64decode(result.images[0]["png_base64"]) == (out / "filters.png").read_bytes()

    reruns = [score_table(graded(solution, A2 / solution)) for _ in range(RERUNS - 1)]
    # One rerun through the instructors' command, which must print the same table.
    command = grade_local(
        tmp_path, str(BUNDLE), str(A2 / solution), "--json", f"--slot={sandbox_slot(solution)}"
    )
    assert command.returncode == 0, command.stderr
    reruns.append(score_table(json.loads(command.stdout)))
    assert reruns == [score_table(result)] * RERUNS


@pytest.mark.parametrize("name", MISTAKES)
def test_it_takes_from_a_flawed_handin_exactly_the_tests_its_mistake_breaks(graded, name, tmp_path):
    result = graded(name, flawed_handin(A2, name, tmp_path))
    assert result.verdict == "ok", result.logs
    assert set(lost(result)) == set(MISTAKES[name].loses), lost(result)
    assert all(test.status == "failed" for test in result.tests if test.name in lost(result))


def test_it_gives_the_forgery_nothing(graded):
    expected = json.loads((A2 / "fake" / "expected.json").read_text())
    result = graded("fake", A2 / "fake")
    assert (result.verdict, result.score) == ("ok", 0), lost(result)
    assert set(lost(result)) == set(expected["fails"]) == set(TESTS)


def test_it_gives_the_starter_nothing_without_an_error(graded):
    result = graded("starter", A2 / "starter")
    assert (result.verdict, result.score) == ("ok", 0.0)
    assert {test.status for test in result.tests} == {"failed"}
    conv_forward = next(test for test in result.tests if test.name == "conv_forward")
    assert "NotImplementedError: conv2d_forward" in conv_forward.output
