"""``manage.py grade_local``: grading on an instructor's machine, with no database and no broker."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from grading.sandbox import runner as sandbox_runner
from tests.conftest import REPO, django_env, need_sandbox
from tests.grading.test_runner import LINEAR, sandbox_slot

KEYS = ["verdict", "score", "max_score", "execution_time", "self_reported", "tests"]
TEST_KEYS = ["name", "score", "max_score", "status", "visibility", "output"]


def grade_local(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, with the development settings and a database URL
    that nothing answers: any query would fail the run."""
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL="postgres://nobody:nothing@127.0.0.1:9/none",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "grade_local", *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def slot_option() -> str:
    return f"--slot={sandbox_slot(offset=1)}"


def test_it_prints_exactly_one_json_document(tmp_path):
    need_sandbox()
    solution = str(LINEAR / "solution")
    run = grade_local(tmp_path, str(LINEAR / "bundle"), solution, "--json", slot_option())
    document = json.loads(run.stdout)
    assert (run.returncode, list(document), list(document["tests"][0])) == (0, KEYS, TEST_KEYS)
    assert (document["verdict"], document["score"], document["max_score"]) == ("ok", 10.0, 10.0)


def test_it_exits_0_when_the_handin_fails_its_tests(tmp_path):
    need_sandbox()
    handin = tmp_path / "handin"
    handin.mkdir()
    (handin / "linreg.py").write_text("import os\nos._exit(3)\n")
    run = grade_local(tmp_path, str(LINEAR / "bundle"), str(handin), "--json", slot_option())
    assert (run.returncode, json.loads(run.stdout)["verdict"]) == (0, "crashed")


def test_it_prints_a_table_for_people(tmp_path):
    need_sandbox()
    run = grade_local(tmp_path, str(LINEAR / "bundle"), str(LINEAR / "flawed"), slot_option())
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Linear regression with numpy: 5/10 (ok, graded, ")
    assert lines[1:6] == [
        "",
        "  test               score  status  visibility",
        "  shapes               0/2  failed  visible",
        "  gradient             0/3  failed  visible",
        "  fit_quality          5/5  passed  after_due_date",
    ]


def test_it_exits_2_for_a_bad_bundle(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    run = grade_local(tmp_path, str(bundle), str(LINEAR / "solution"), "--json")
    assert (run.returncode, run.stdout) == (2, "")
    assert "The bundle cannot be used" in run.stderr and "autograder.toml is missing" in run.stderr


def test_it_exits_2_for_a_missing_handin(tmp_path):
    run = grade_local(tmp_path, str(LINEAR / "bundle"), str(tmp_path / "absent"), "--json")
    assert (run.returncode, run.stdout) == (2, "")
    assert "cannot read the hand-in (No such file or directory)" in run.stderr


def test_it_exits_2_for_an_archive_without_the_required_file(tmp_path):
    archive = tmp_path / "handin.zip"
    with zipfile.ZipFile(archive, "w") as handin:
        handin.writestr("model.py", "pass\n")
    run = grade_local(tmp_path, str(LINEAR / "bundle"), str(archive), "--json")
    assert (run.returncode, run.stdout) == (2, "")
    assert "linreg.py" in run.stderr


def test_it_refuses_to_run_without_a_sandbox_unless_allowed(monkeypatch):
    monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "bwrap not found")
    monkeypatch.delenv("COURSESITE_ALLOW_UNSANDBOXED", raising=False)
    with pytest.raises(CommandError, match="COURSESITE_ALLOW_UNSANDBOXED=1") as refused:
        call_command("grade_local", str(LINEAR / "bundle"), str(LINEAR / "solution"), "--json")
    assert refused.value.returncode == 1


def test_it_runs_unsandboxed_when_allowed(monkeypatch, capsys):
    monkeypatch.setattr(sandbox_runner, "_sandbox_problem", lambda: "bwrap not found")
    monkeypatch.setenv("COURSESITE_ALLOW_UNSANDBOXED", "1")
    with pytest.warns(RuntimeWarning, match="WITHOUT a sandbox"):
        call_command("grade_local", str(LINEAR / "bundle"), str(LINEAR / "solution"), "--json")
    assert json.loads(capsys.readouterr().out)["score"] == 10.0
