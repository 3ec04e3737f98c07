"""A bundle's grader.py is trusted to give points, not with the machine: graders that attack the
worker, run end to end in the real sandbox after a student's run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.runner import ResultDocument, grade
from grading.sandbox.bwrap import slot_uid
from tests.conftest import need_sandbox, xdist_slot
from tests.grading.conftest import PIPELINE_BUNDLE
from tests.grading.test_hostile_grading import processes_of

HOSTILE_GRADERS = Path(__file__).parent / "hostile_graders"
SECRETS = ("hostile-grader-secret-key-5d21", "hostile-grader-db-password-90ce")
SLOT_BASE = 3800


def hostile_bundle(folder: Path, grader: str, targets: dict[str, str]) -> Path:
    shutil.copytree(PIPELINE_BUNDLE, folder)
    shutil.copyfile(HOSTILE_GRADERS / f"{grader}.py", folder / "grader.py")
    (folder / "private" / "targets.json").write_text(json.dumps(targets))
    return folder


def grade_with(bundle_folder: Path, tmp_path: Path, work_root: Path, slot: int) -> ResultDocument:
    handin = tmp_path / "answer.py"
    handin.write_text("VALUE = 42\n")
    with load_bundle(bundle_folder) as bundle:
        return grade(bundle, handin, work_root=work_root, slot=slot, keep=False)


@pytest.fixture
def probed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, ResultDocument, int]:
    """What the probing grader found, its result, and the slot it ran in."""
    need_sandbox()
    monkeypatch.setenv("SECRET_KEY", SECRETS[0])
    monkeypatch.setenv("DATABASE_URL", f"postgres://coursesite:{SECRETS[1]}@127.0.0.1/coursesite")
    work_root = tmp_path / "work"
    other_job = work_root / "job-of-another-student" / "job" / "answer.py"
    other_job.parent.mkdir(parents=True)
    other_job.write_text(f"VALUE = 7  # {SECRETS[0]}\n")
    database_file = tmp_path / "db.sqlite3"
    database_file.write_text(SECRETS[1])
    targets = {
        "database_file": str(database_file),
        "other_job": str(other_job),
        "work_root": str(work_root),
        "job_folder": str(work_root),
    }
    folder = hostile_bundle(tmp_path / "bundle", "probe", targets)
    slot = xdist_slot(SLOT_BASE, 0)
    result = grade_with(folder, tmp_path, work_root, slot)
    assert [test.name for test in result.tests] == ["answer"], result.logs[-3000:]
    return json.loads(result.tests[0].output), result, slot


def test_the_grader_runs_as_a_uid_of_its_own(probed):
    findings, _, slot = probed
    assert findings["uid"] == slot_uid(slot, grader=True)
    assert findings["uid"] not in (0, slot_uid(slot))


def test_the_grader_still_reads_the_outputs_and_its_private_files(probed):
    findings, result, _ = probed
    assert (findings["answer"], findings["private"]) == ({"value": 42}, "42")
    assert (result.verdict, result.score) == ("ok", 10)


def test_the_grader_reaches_no_database_and_no_network(probed):
    findings, _, _ = probed
    # Its own network namespace: localhost is its own, where nothing listens, and nothing else.
    for target in ("postgresql", "redis"):
        assert findings[target].startswith("refused: ConnectionRefusedError"), findings[target]
    assert findings["internet"] == "refused: OSError: [Errno 101] Network is unreachable"
    assert findings["dns"].startswith("refused: gaierror")
    assert findings["postgresql_socket"].startswith("refused: FileNotFoundError")
    assert findings["database_file"].startswith("refused: FileNotFoundError")


def test_the_grader_sees_no_job_folder_but_its_own(probed):
    findings, _, _ = probed
    assert findings["other_job"].startswith("refused: FileNotFoundError")
    assert findings["work_root"].startswith("refused: FileNotFoundError")


def test_the_grader_gets_none_of_the_workers_environment(probed):
    findings, result, _ = probed
    assert set(findings["environment"]) <= {
        "PATH", "HOME", "PWD", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHASHSEED",
        "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    }  # fmt: skip
    assert findings["init_environ"].startswith("refused: PermissionError")
    assert findings["etc_shadow"].startswith("refused: FileNotFoundError")
    shown = result.logs + "".join(test.output for test in result.tests)
    assert [secret for secret in SECRETS if secret in shown] == []


def test_the_grader_cannot_change_the_outputs_it_judges(probed):
    findings, _, _ = probed
    assert findings["write_output"].startswith("refused: OSError: [Errno 30] Read-only")


def test_nothing_the_grader_started_outlives_it(probed):
    findings, _, slot = probed
    assert findings["left_running"] == "done: 'started'"
    assert processes_of(slot_uid(slot, grader=True)) == []
    assert processes_of(slot_uid(slot)) == []


def test_a_grader_that_never_ends_is_stopped_and_the_hand_in_marked_error(tmp_path, monkeypatch):
    need_sandbox()
    monkeypatch.setattr("grading.runner.GRADER_TIMEOUT_SECONDS", 2)
    folder = hostile_bundle(tmp_path / "bundle", "endless", {})
    slot = xdist_slot(SLOT_BASE, 1)
    result = grade_with(folder, tmp_path, tmp_path / "work", slot)
    assert (result.verdict, result.score) == ("error", 0)
    assert "grader.py ran out of time." in result.logs
    assert processes_of(slot_uid(slot, grader=True)) == []


def test_a_grader_that_hoards_memory_is_stopped_and_the_hand_in_marked_error(tmp_path, monkeypatch):
    need_sandbox()
    monkeypatch.setattr("grading.runner.GRADER_MEMORY_BYTES", 256 * 1024 * 1024)
    folder = hostile_bundle(tmp_path / "bundle", "hoarder", {})
    manifest = folder / "autograder.toml"
    manifest.write_text(manifest.read_text().replace("wall_seconds = 30", "memory_mb = 128"))
    slot = xdist_slot(SLOT_BASE, 2)
    result = grade_with(folder, tmp_path, tmp_path / "work", slot)
    assert (result.verdict, result.score) == ("error", 0)
    assert "grader.py ran out of memory." in result.logs
