"""The hostile corpus graded end to end: each program handed in as the student's code, run by a
bundle's driver in the real sandbox and scored by the trusted grader outside it.

Whatever the code does, the verdict says what happened, the score is the grader's (zero: none of
these programs gives the answer), no secret of the grading process reaches the results, and no
process of the job's uid outlives the grading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.runner import grade, run_prepare
from grading.sandbox.bwrap import slot_uid
from tests.conftest import need_sandbox, xdist_slot
from tests.grading.conftest import PIPELINE_BUNDLE

HOSTILE = Path(__file__).parent / "hostile"
SECRETS = ("hostile-grading-secret-key-7c1e", "hostile-grading-db-password-2b9f")
SLOT_BASE = 3500
SLOTS_PER_WORKER = 40
# Programs that import without error but do not give the answer make the driver fail: crashed.
CASES = {
    "infinite_loop": {"timeout"},
    "fork_bomb": {"timeout", "crashed"},
    "memory_bomb": {"memory"},
    "loader_memory_bomb": {"memory"},
    "fill_job_folder": {"crashed"},
    "output_flood": {"output_limit"},
    "sleeper": {"timeout"},
    "kill_parent": {"crashed"},
    "fill_shm": {"crashed"},
    "internet": {"crashed"},
    "host_services": {"crashed"},
    "read_secrets": {"crashed"},
    "daemon": {"crashed"},
    "escape_syscalls": {"crashed"},
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile") / "bundle"
    shutil.copytree(PIPELINE_BUNDLE, folder)
    manifest = folder / "autograder.toml"
    limits = manifest.read_text().replace(
        "wall_seconds = 30",
        "wall_seconds = 5\nmemory_mb = 512\nprocesses = 32\noutput_kb = 64\njob_mb = 64",
    )
    # What a warm sandbox imports while it waits.
    manifest.write_text('preload = ["numpy"]\n' + limits)
    with load_bundle(folder) as loaded:
        yield loaded


def processes_of(uid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        real = next((line.split()[1] for line in lines if line.startswith("Uid:")), None)
        if real == str(uid):
            found.append(int(status.parent.name))
    return found


@pytest.mark.parametrize("start", ["cold", "warm"])
@pytest.mark.parametrize("program", sorted(CASES))
def test_it_grades_hostile_code_with_the_trusted_grader_only(
    bundle, program: str, start: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cold: the sandboxes start with the hand-in. Warm: they were started before it came, the
    bundle's modules imported, as a worker keeps its next run; the isolation is the same."""
    need_sandbox()
    monkeypatch.setenv("SECRET_KEY", SECRETS[0])
    monkeypatch.setenv("DATABASE_URL", f"postgres://coursesite:{SECRETS[1]}@127.0.0.1/coursesite")
    handin = tmp_path / "answer.py"
    shutil.copyfile(HOSTILE / f"{program}.py", handin)
    offset = sorted(CASES).index(program) + (len(CASES) if start == "warm" else 0)
    slot = xdist_slot(SLOT_BASE, offset, per_worker=SLOTS_PER_WORKER)
    work = tmp_path / "work"
    prepared = run_prepare(bundle, work_root=work, slot=slot) if start == "warm" else None
    if prepared is not None:
        assert prepared.student is not None and prepared.student.wait_ready(60)
    result = grade(bundle, handin, work_root=work, slot=slot, prepared=prepared)
    assert result.verdict in CASES[program], result.logs[-2000:]
    assert (result.score, [test.status for test in result.tests]) == (0, ["failed"])
    shown = result.logs + "".join(test.output for test in result.tests)
    assert [secret for secret in SECRETS if secret in shown] == []
    assert processes_of(slot_uid(slot)) == []
    assert processes_of(slot_uid(slot, grader=True)) == []
    assert list((tmp_path / "work").iterdir()) == []
    assert str(tmp_path) not in Path("/proc/self/mounts").read_text()


def test_a_job_that_fills_its_folder_stops_at_the_folders_size(bundle, tmp_path):
    need_sandbox()
    handin = tmp_path / "answer.py"
    shutil.copyfile(HOSTILE / "fill_job_folder.py", handin)
    slot = xdist_slot(SLOT_BASE, 2 * len(CASES), per_worker=SLOTS_PER_WORKER)
    result = grade(bundle, handin, work_root=tmp_path / "work", slot=slot, keep=True)
    assert result.verdict == "crashed"
    assert "No space left on device" in result.logs
    assert result.kept_at is not None
    kept = result.kept_at / "job"
    written = sum(path.stat().st_size for path in kept.glob("checkpoint-*.bin"))
    # 64 MiB, less what the hand-in, the driver and the bundle's files took first.
    assert 56 * 2**20 <= written <= 64 * 2**20
