"""The runner: a hand-in goes through the sandbox and the trusted grader into a result document.

These tests run real sandboxes. Without one they are skipped, unless REQUIRE_SERVICES=1 says the
sandbox must be there. Each pytest-xdist worker uses sandbox slots of its own.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grading.archives import ArchiveError
from grading.bundles import Bundle, load_bundle
from grading.runner import ResultDocument, grade
from tests.conftest import REPO, need_sandbox, score_table, xdist_slot

EXAMPLES = REPO / "examples" / "autograders"
LINEAR = EXAMPLES / "linear-regression"
# Clear of the slots the sandbox's own tests take (10 + 100 per worker + a count).
SLOT_BASE = 3000


def sandbox_slot(offset: int = 0) -> int:
    return xdist_slot(SLOT_BASE, offset)


def write_bundle(root: Path, *, driver: str, grader: str, tests: str, limits: str = "") -> Bundle:
    """A small bundle whose hand-in is ``answer.py``."""
    root.mkdir()
    manifest = f'name = "small"\n[submission]\nfiles = ["answer.py"]\n{limits}\n{tests}'
    (root / "autograder.toml").write_text(manifest)
    (root / "driver.py").write_text(driver)
    (root / "grader.py").write_text(grader)
    return load_bundle(root)


def write_handin(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def solution_with(tmp_path: Path, replacement: str) -> Path:
    """The worked example's solution with ``replacement`` appended, redefining what it names."""
    text = (LINEAR / "solution" / "linreg.py").read_text() + "\n\n" + replacement
    return write_handin(tmp_path / "handin", {"linreg.py": text})


@pytest.fixture
def linear() -> Bundle:
    need_sandbox()
    return load_bundle(LINEAR / "bundle")


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    return tmp_path / "work"


TWO_TESTS = """
[[tests]]
name = "first"
points = 1
[[tests]]
name = "second"
points = 2
visibility = "hidden"
"""
QUIET_DRIVER = "open('out/done.json', 'w').write('{}')\n"


def run_small(tmp_path: Path, grader: str, driver: str = QUIET_DRIVER) -> ResultDocument:
    need_sandbox()
    bundle = write_bundle(tmp_path / "bundle", driver=driver, grader=grader, tests=TWO_TESTS)
    handin = write_handin(tmp_path / "handin", {"answer.py": "ANSWER = 42\n"})
    return grade(bundle, handin, work_root=tmp_path / "work", slot=sandbox_slot())


def test_it_gives_the_solution_full_marks_three_times_alike(linear, work_root):
    runs = [
        grade(linear, LINEAR / "solution", work_root=work_root, slot=sandbox_slot())
        for _ in range(3)
    ]
    documents = [{**run.to_json(), "execution_time": None} for run in runs]
    assert (runs[0].verdict, runs[0].score, runs[0].max_score) == ("ok", 10.0, 10.0)
    assert documents[1] == documents[0] and documents[2] == documents[0]


def test_it_takes_from_the_flawed_handin_exactly_the_tests_it_breaks(linear, work_root):
    result = grade(linear, LINEAR / "flawed", work_root=work_root, slot=sandbox_slot())
    assert score_table(result) == {
        "shapes": (0.0, "failed"),
        "gradient": (0.0, "failed"),
        "fit_quality": (5.0, "passed"),
    }


def test_it_still_scores_the_other_tests_when_one_function_raises(linear, tmp_path, work_root):
    handin = solution_with(
        tmp_path,
        "def mse_gradient(X, y, w, b):\n"
        "    raise NotImplementedError('not done yet')\n\n\n"
        "def fit(X, y):\n"
        "    A = np.column_stack([X, np.ones(len(X))])\n"
        "    solution = np.linalg.lstsq(A, y, rcond=None)[0]\n"
        "    return solution[:-1], solution[-1]\n",
    )
    result = grade(linear, handin, work_root=work_root, slot=sandbox_slot())
    assert score_table(result) == {
        "shapes": (2.0, "passed"),
        "gradient": (0.0, "failed"),
        "fit_quality": (5.0, "passed"),
    }
    assert "NotImplementedError: not done yet" in result.tests[1].output


def test_it_ignores_fake_results_a_handin_prints_or_writes(linear, tmp_path, work_root):
    fake = {"results": [{"name": name, "score": 100} for name in ("shapes", "gradient")]}
    forger = (
        "import json, pathlib\n"
        f"FAKE = {json.dumps(fake)!r}\n"
        "print(FAKE)\n"
        "for name in ('results.json', '../results.json', 'score.json'):\n"
        "    pathlib.Path('out', name).write_text(FAKE)\n"
        "pathlib.Path('results').mkdir(exist_ok=True)\n"
        "pathlib.Path('results/results.json').write_text(json.dumps({'score': 100}))\n\n"
        "def predict(X, w, b):\n"
        "    raise ValueError\n\n"
        "def mse_gradient(X, y, w, b):\n"
        "    raise ValueError\n\n"
        "def fit(X, y):\n"
        "    raise ValueError\n"
    )
    handin = write_handin(tmp_path / "handin", {"linreg.py": forger})
    result = grade(linear, handin, work_root=work_root, slot=sandbox_slot())
    assert (result.score, result.max_score) == (0.0, 10.0)


def test_it_scores_what_was_written_before_a_timeout(tmp_path, work_root):
    need_sandbox()
    bundle_root = tmp_path / "bundle"
    shutil.copytree(LINEAR / "bundle", bundle_root)
    manifest = (bundle_root / "autograder.toml").read_text()
    (bundle_root / "autograder.toml").write_text(
        manifest.replace("wall_seconds = 60", "wall_seconds = 2")
    )
    handin = solution_with(tmp_path, "def fit(X, y):\n    while True:\n        pass\n")
    result = grade(load_bundle(bundle_root), handin, work_root=work_root, slot=sandbox_slot())
    assert result.verdict == "timeout"
    assert score_table(result) == {
        "shapes": (2.0, "passed"),
        "gradient": (3.0, "passed"),
        "fit_quality": (0.0, "failed"),
    }


def test_it_grades_a_zipped_handin(linear, tmp_path, work_root):
    archive = tmp_path / "handin.zip"
    with zipfile.ZipFile(archive, "w") as handin:
        handin.write(LINEAR / "solution" / "linreg.py", "hw/linreg.py")
    result = grade(linear, archive, work_root=work_root, slot=sandbox_slot())
    assert result.score == 10.0


def test_it_refuses_a_handin_without_a_required_file(linear, tmp_path, work_root):
    handin = write_handin(tmp_path / "handin", {"other.py": "pass\n"})
    with pytest.raises(ArchiveError, match=r"linreg\.py"):
        grade(linear, handin, work_root=work_root, slot=sandbox_slot())


def test_it_runs_the_bundles_driver_not_a_handins_own(linear, tmp_path, work_root):
    handin = solution_with(tmp_path, "")
    (handin / "driver.py").write_text("raise SystemExit('the hand-in took over')\n")
    result = grade(linear, handin, work_root=work_root, slot=sandbox_slot())
    assert (result.verdict, result.score) == ("ok", 10.0)
    assert "the hand-in's driver.py was left out" in result.logs


def test_it_deletes_the_job_folder(linear, work_root):
    grade(linear, LINEAR / "solution", work_root=work_root, slot=sandbox_slot())
    assert list(work_root.iterdir()) == []


def test_it_keeps_the_job_folder_when_asked(linear, work_root, monkeypatch):
    monkeypatch.setenv("COURSESITE_KEEP_JOBS", "1")
    result = grade(linear, LINEAR / "solution", work_root=work_root, slot=sandbox_slot())
    assert result.kept_at is not None and (result.kept_at / "job" / "out" / "shapes.json").is_file()
    # The next run in the same place keeps it too: only folders of runs that died are swept.
    monkeypatch.delenv("COURSESITE_KEEP_JOBS")
    grade(linear, LINEAR / "solution", work_root=work_root, slot=sandbox_slot())
    assert list(work_root.iterdir()) == [result.kept_at]


def test_it_removes_what_a_run_that_died_left_behind(linear, work_root):
    # A worker killed in the middle of a run: its folder, still claimed by a lock nobody holds,
    # and the tmpfs mounted on its job folder.
    import subprocess

    from grading.sandbox.folders import LOCK_NAME

    left = work_root / "job-left-by-a-dead-worker"
    (left / "job").mkdir(parents=True)
    (left / LOCK_NAME).touch()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "test", str(left / "job")], check=True)
    (left / "job" / "checkpoint.bin").write_bytes(b"0" * 1000)
    grade(linear, LINEAR / "solution", work_root=work_root, slot=sandbox_slot())
    assert list(work_root.iterdir()) == []
    assert str(left) not in Path("/proc/self/mounts").read_text()


def test_it_gives_an_unreported_test_nothing(tmp_path):
    grader = "def grade(outputs, private, run):\n    return [{'name': 'first', 'score': 1}]\n"
    second = run_small(tmp_path, grader).tests[1]
    assert (second.score, second.status, second.output) == (
        0.0,
        "failed",
        "not reported by the grader",
    )


def test_it_clips_a_score_above_the_tests_points(tmp_path):
    grader = "def grade(outputs, private, run):\n    return [{'name': 'second', 'score': 99}]\n"
    assert run_small(tmp_path, grader).tests[1].score == 2.0


def test_it_ignores_a_test_the_manifest_does_not_have(tmp_path):
    grader = (
        "def grade(outputs, private, run):\n"
        "    return [{'name': 'bonus', 'score': 5}, {'name': 'first', 'score': 1}]\n"
    )
    result = run_small(tmp_path, grader)
    assert (result.score, [test.name for test in result.tests]) == (1.0, ["first", "second"])


def test_it_keeps_the_manifests_visibility(tmp_path):
    grader = (
        "def grade(outputs, private, run):\n"
        "    return [{'name': 'second', 'score': 2, 'visibility': 'visible'}]\n"
    )
    assert run_small(tmp_path, grader).tests[1].visibility == "hidden"


def test_it_keeps_the_results_when_the_grader_prints(tmp_path):
    grader = (
        "import os\n"
        "def grade(outputs, private, run):\n"
        "    print('{\"results\": []}')\n"
        "    os.write(1, b'raw bytes on stdout')\n"
        "    return [{'name': 'first', 'score': 1}, {'name': 'second', 'score': 2}]\n"
    )
    result = run_small(tmp_path, grader)
    assert (result.verdict, result.score) == ("ok", 3.0)


def test_it_passes_the_run_to_the_grader(tmp_path):
    grader = (
        "def grade(outputs, private, run):\n"
        "    return [{'name': 'first', 'score': 1, 'output': run['stdout'].strip()}]\n"
    )
    result = run_small(tmp_path, grader, driver="print('trained for 3 epochs')\n")
    assert result.tests[0].output == "trained for 3 epochs"


def test_it_calls_the_run_bad_output_when_the_grader_raises_bad_output(tmp_path):
    grader = "def grade(outputs, private, run):\n    return [outputs.json('missing.json')]\n"
    result = run_small(tmp_path, grader)
    assert result.verdict == "bad_output"
    assert [test.output for test in result.tests] == ["out/missing.json is missing."] * 2


def test_it_calls_the_run_an_error_when_the_grader_crashes(tmp_path):
    grader = "def grade(outputs, private, run):\n    return 1 / 0\n"
    result = run_small(tmp_path, grader)
    assert (result.verdict, result.score) == ("error", 0.0)
    assert "ZeroDivisionError" in result.logs and "ZeroDivisionError" not in result.tests[0].output


def test_it_reports_the_sandbox_verdict_of_a_crashed_driver(tmp_path):
    grader = "def grade(outputs, private, run):\n    return [{'name': 'first', 'score': 1}]\n"
    result = run_small(tmp_path, grader, driver="import os\nos._exit(3)\n")
    assert (result.verdict, result.score) == ("crashed", 1.0)


def test_the_handin_can_neither_remove_nor_replace_its_out_folder(linear, tmp_path, work_root):
    # out/ is a mount point of its own inside the sandbox: the grader reads the folder the run
    # was given, never a link the hand-in put in its place.
    attempt = (
        "import os, shutil\n"
        "for replace in (lambda: shutil.rmtree('out'), lambda: os.rename('out', 'elsewhere')):\n"
        "    try:\n"
        "        replace()\n"
        "    except OSError as error:\n"
        "        print('refused:', error.strerror)\n"
        "os.symlink('/etc', 'elsewhere')\n"
    )
    result = grade(
        linear, solution_with(tmp_path, attempt), work_root=work_root, slot=sandbox_slot()
    )
    assert result.logs.count("refused: Device or resource busy") == 2
    assert result.verdict == "ok" and result.score == result.max_score
