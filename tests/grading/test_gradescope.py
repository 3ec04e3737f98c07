"""Gradescope-style bundles: they run in the same sandbox, and their scores are self-reported."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grading.bundles import load_bundle
from grading.gradescope import (
    BUILD_FAILED,
    BUILD_FAILURES,
    MAX_BUILD_LINE_CHARS,
    MAX_BUILD_LINES,
    build_failures,
    build_test,
    build_verdict,
    read_results,
)
from grading.models import Verdict
from grading.outputs import BadOutput
from grading.runner import grade
from tests.conftest import need_sandbox
from tests.grading.test_runner import EXAMPLES, sandbox_slot

HELLO = EXAMPLES / "gradescope-hello"
FIB = EXAMPLES / "gradescope-fib"
FIB_TESTS = ["fib(0)", "fib(1)", "fib(2)", "fib(5)", "fib(10)", "fib(30)", "fib(90)"]


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


def edited(path: Path, old: str, new: str) -> None:
    """Replaces ``old`` in the file once, failing where it is not: a variation cannot go stale."""
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new))


def copy_of_fib(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(FIB / "bundle", folder)
    return folder


def fib_handin(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """The solution's fib.c, with ``old`` replaced by ``new`` when given."""
    folder = tmp_path / "handin"
    shutil.copytree(FIB / "solution", folder)
    if old:
        edited(folder / "fib.c", old, new)
    return folder


def build_output(result) -> str:
    build = result.tests[0]
    assert (build.name, build.score, build.max_score, build.status, build.visibility) == (
        "Build",
        0.0,
        0.0,
        "failed",
        "visible",
    )
    return build.output


@pytest.mark.parametrize(
    ("handin", "score", "failed"), [("solution", 7.0, []), ("flawed", 6.0, ["fib(90)"])]
)
def test_it_grades_the_fib_example(tmp_path, handin, score, failed):
    need_sandbox()
    result = grade(load_bundle(FIB / "bundle"), FIB / handin, work_root=tmp_path, slot=slot())
    assert (result.verdict, result.score, result.max_score) == ("ok", score, 7.0)
    assert [test.name for test in result.tests] == FIB_TESTS
    assert [test.name for test in result.tests if test.status == "failed"] == failed


def test_it_shows_the_student_the_compilers_error_when_a_handin_does_not_compile(tmp_path):
    need_sandbox()
    handin = fib_handin(tmp_path, "    return previous;\n", "    return previous\n")
    result = grade(load_bundle(FIB / "bundle"), handin, work_root=tmp_path / "w", slot=slot())
    assert (result.verdict, result.score, result.max_score) == (BUILD_FAILED, 0.0, 7.0)
    assert [test.name for test in result.tests] == ["Build", *FIB_TESTS]
    lines = build_output(result).splitlines()
    assert lines[0] == "The build failed, so the tests had nothing to run. The first errors:"
    assert any(re.match(r"fib\.c:17:\d+: error: expected", line) for line in lines[1:]), lines
    assert "make: *** [Makefile:5: fib] Error 1" in lines


@pytest.mark.parametrize(
    ("file", "old", "new", "shown"),
    [
        (
            "Makefile",
            "CFLAGS =",
            "CC = surely-not-a-compiler\nCFLAGS =",
            "make: surely-not-a-compiler: No such file or directory",
        ),
        (
            "run_autograder",
            "make fib\n",
            "surely-not-make fib\n",
            ": surely-not-make: command not found",
        ),
    ],
)
def test_it_shows_a_missing_build_tool_as_a_failed_build(tmp_path, file, old, new, shown):
    need_sandbox()
    bundle = copy_of_fib(tmp_path)
    edited(bundle / file, old, new)
    result = grade(load_bundle(bundle), FIB / "solution", work_root=tmp_path / "w", slot=slot())
    assert (result.verdict, result.score) == (BUILD_FAILED, 0.0)
    assert any(line.endswith(shown) for line in build_output(result).splitlines())
    assert "the test 'Build' shows the student its first errors" in result.logs


def test_it_calls_a_build_that_stops_the_run_before_any_results_a_failed_build(tmp_path):
    need_sandbox()
    bundle = copy_of_fib(tmp_path)
    edited(bundle / "run_autograder", "set -uo pipefail", "set -euo pipefail")
    handin = fib_handin(tmp_path, "#include <stdio.h>", "#include <stdio.h")
    result = grade(load_bundle(bundle), handin, work_root=tmp_path / "w", slot=slot())
    assert (result.verdict, result.score, [test.name for test in result.tests]) == (
        BUILD_FAILED,
        0.0,
        ["Build"],
    )
    assert "results/results.json is missing" in result.logs
    assert re.search(
        r"^fib\.c:5:\d+: error: missing terminating > character$", build_output(result), re.M
    )


def test_it_keeps_the_verdict_but_still_shows_build_errors_when_tests_scored(tmp_path):
    need_sandbox()
    bundle = copy_of_fib(tmp_path)
    edited(bundle / "run_autograder", "make fib\n", "make fib\nmake fib-debug\n")
    result = grade(load_bundle(bundle), FIB / "solution", work_root=tmp_path / "w", slot=slot())
    assert (result.verdict, result.score, result.max_score) == ("ok", 7.0, 7.0)
    assert build_output(result).splitlines() == [
        "The build printed errors; the tests were scored anyway. The first errors:",
        "make: *** No rule to make target 'fib-debug'.  Stop.",
    ]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("make: *** [Makefile:5: fib] Error 1", "make stopped"),
        ("make[1]: *** No rule to make target 'fib.c', needed by 'fib'.  Stop.", "make stopped"),
        ("make: cc: No such file or directory", "make found no such tool"),
        ("make: gcc: Command not found", "make found no such tool"),
        ("./run_autograder: line 6: make: command not found", "the shell found no such command"),
        ("/bin/sh: 1: cc: not found", "the shell found no such command"),
        ("fib.c:3:5: error: expected ';' before 'return'", "the compiler refused a source file"),
        (
            "src/fib.cpp:1:10: fatal error: fib.h: No such file",
            "the compiler refused a source file",
        ),
        (
            "cc1: fatal error: fib.c: No such file or directory",
            "the compiler or the linker stopped",
        ),
        ("collect2: error: ld returned 1 exit status", "the compiler or the linker stopped"),
        ("/usr/bin/ld: error: cannot find -lm", "the compiler or the linker stopped"),
        ("fib.c:(.text+0x2a): undefined reference to `fibonacci'", "the linker missed a function"),
    ],
)
def test_it_recognises_each_kind_of_build_failure(line, kind):
    assert [name for name, pattern in BUILD_FAILURES if pattern.search(line)] == [kind]
    assert build_failures("", line + "  \n") == [line]


@pytest.mark.parametrize(
    "line",
    [
        "make: Entering directory '/autograder/source'",
        "make: *** [Makefile:9: lint] Error 1 (ignored)",
        "make: 'fib' is up to date.",
        "fib.c: In function 'main':",
        "fib.c:5:9: warning: unused variable 'i' [-Wunused-variable]",
        "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'",
        "test_fib.py:3: error: Incompatible return value type",
        "tests/7.out: file not found",
    ],
)
def test_it_takes_no_other_line_for_a_build_failure(line):
    assert build_failures(line, line) == []


def test_it_reads_stderr_first_and_caps_the_build_failure_lines():
    long_line = "fib.c:1:1: error: " + "x" * 400
    stderr = "\n".join([long_line, *(f"fib.c:{n}:1: error: no" for n in range(2, 20))])
    found = build_failures("make: *** [Makefile:5: fib] Error 1", stderr)
    assert len(found) == MAX_BUILD_LINES
    assert (len(found[0]), found[0].endswith("..."), found[1]) == (
        MAX_BUILD_LINE_CHARS,
        True,
        "fib.c:2:1: error: no",
    )
    assert build_failures("collect2: error: x\ncollect2: error: x", "") == ["collect2: error: x"]


@pytest.mark.parametrize(
    ("verdict", "score", "expected"),
    [
        ("ok", 0.0, BUILD_FAILED),
        ("ok", None, BUILD_FAILED),
        ("crashed", None, BUILD_FAILED),
        ("bad_output", None, BUILD_FAILED),
        ("ok", 3.0, "ok"),
        ("crashed", 1.0, "crashed"),
        ("timeout", 0.0, "timeout"),
        ("memory", None, "memory"),
        ("output_limit", 0.0, "output_limit"),
    ],
)
def test_it_gives_the_build_failed_verdict_only_when_nothing_was_scored(verdict, score, expected):
    assert build_verdict(verdict, ["make: *** [fib] Error 1"], score=score) == expected
    assert build_verdict(verdict, [], score=score) == verdict


def test_it_names_the_build_test_apart_from_the_bundles_own():
    shown = build_test(["make: *** [fib] Error 1"], verdict="ok", taken=["Build", "fib(0)"])
    assert shown["name"] == "Build (2)"


def test_it_stores_the_build_failed_verdict():
    assert BUILD_FAILED in Verdict.values
