"""Gradescope-style bundles: they run in the same sandbox, and their scores are self-reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.gradescope import read_results
from grading.outputs import BadOutput
from grading.runner import grade
from tests.conftest import need_sandbox
from tests.grading.test_runner import EXAMPLES, sandbox_slot

HELLO = EXAMPLES / "gradescope-hello"


def slot() -> int:
    return sandbox_slot(offset=2)


def results_in(tmp_path: Path, document: object) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(document))
    return folder


def copy_of_hello(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(HELLO / "bundle", folder)
    return folder


def test_it_runs_the_example_and_marks_it_self_reported(tmp_path):
    need_sandbox()
    result = grade(
        load_bundle(HELLO / "bundle"), HELLO / "solution", work_root=tmp_path, slot=slot()
    )
    assert (result.verdict, result.self_reported, result.score, result.max_score) == (
        "ok",
        True,
        3.0,
        3.0,
    )
    assert [(test.name, test.status, test.visibility) for test in result.tests] == [
        ('greet("Ada") says hello to Ada', "passed", "visible"),
        ('greet("") greets the world', "passed", "after_due_date"),
    ]


def test_it_reports_failed_tests_of_a_wrong_handin(tmp_path):
    need_sandbox()
    handin = tmp_path / "handin"
    handin.mkdir()
    (handin / "hello.py").write_text("def greet(name):\n    return 'Hi ' + name\n")
    result = grade(load_bundle(HELLO / "bundle"), handin, work_root=tmp_path / "w", slot=slot())
    assert (result.score, [test.status for test in result.tests]) == (0.0, ["failed", "failed"])


def test_it_has_no_results_when_run_autograder_writes_none(tmp_path):
    need_sandbox()
    bundle = copy_of_hello(tmp_path)
    (bundle / "run_autograder").write_text("echo 'nothing graded'\n")
    result = grade(load_bundle(bundle), HELLO / "solution", work_root=tmp_path / "w", slot=slot())
    assert (result.verdict, result.tests) == ("bad_output", [])
    assert "results/results.json is missing" in result.logs


def test_it_refuses_to_run_without_the_required_packages(tmp_path):
    bundle = copy_of_hello(tmp_path)
    (bundle / "requirements.txt").write_text("gradescope-utils\nsurely-not-installed-here\n")
    result = grade(load_bundle(bundle), HELLO / "solution", work_root=tmp_path / "w", slot=slot())
    assert result.verdict == "error"
    assert "packages this worker does not have: surely-not-installed-here" in result.logs


def test_it_reads_gradescopes_results_format(tmp_path):
    folder = results_in(
        tmp_path,
        {
            "visibility": "after_published",
            "output": "Well done",
            "tests": [
                {"name": "a", "score": 1, "max_score": 2, "output": "half"},
                {"number": "1.2", "score": 3, "max_score": 3, "visibility": "visible"},
            ],
        },
    )
    reported = read_results(folder)
    assert (reported.score, reported.output, reported.tests) == (
        4.0,
        "Well done",
        [
            {
                "name": "a",
                "score": 1.0,
                "max_score": 2.0,
                "status": "failed",
                "visibility": "after_published",
                "output": "half",
            },
            {
                "name": "1.2",
                "score": 3.0,
                "max_score": 3.0,
                "status": "passed",
                "visibility": "visible",
                "output": "",
            },
        ],
    )


def test_it_takes_the_top_level_score_over_the_tests(tmp_path):
    folder = results_in(tmp_path, {"score": 7, "tests": [{"name": "a", "score": 1}]})
    assert read_results(folder).score == 7.0


def test_it_tells_apart_tests_of_the_same_name(tmp_path):
    folder = results_in(tmp_path, {"tests": [{"name": "t", "score": 1}] * 3})
    assert [test["name"] for test in read_results(folder).tests] == ["t", "t (2)", "t (3)"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must hold a JSON object"),
        ({}, "neither a score nor tests"),
        ({"score": "10"}, "score must be a number"),
        ({"tests": [{"name": "a", "score": float("inf")}]}, "tests[1].score must be a number"),
        ({"tests": "all passed"}, "tests must be a list"),
        ({"tests": [{"score": 1, "visibility": "public"}]}, "tests[1].visibility must be one of"),
    ],
)
def test_it_refuses_malformed_results(tmp_path, document, message):
    with pytest.raises(BadOutput, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_results(results_in(tmp_path, document))


def test_it_refuses_results_that_link_elsewhere(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "results.json").symlink_to("/etc/passwd")
    with pytest.raises(BadOutput, match="symbolic link"):
        read_results(folder)


def test_it_shows_a_gradescope_job_its_files_at_slash_autograder(tmp_path):
    from grading.gradescope import MOUNT_AT
    from grading.sandbox import Limits, run_sandboxed, sandbox_available

    if not sandbox_available():
        import pytest

        from tests.conftest import REQUIRE_SERVICES

        if REQUIRE_SERVICES:
            pytest.fail("bubblewrap is missing; REQUIRE_SERVICES=1 says it must be here")
        pytest.skip("bubblewrap is missing")
    (tmp_path / "run_autograder").write_text("echo hi\n")
    result = run_sandboxed(
        ["/bin/bash", "-c", "pwd; ls /autograder; echo $HOME"],
        job_dir=tmp_path,
        limits=Limits(wall_seconds=10),
        slot=3900,
        mount_at=MOUNT_AT,
    )
    assert result.stdout.split() == ["/autograder", "run_autograder", "/autograder"]
