"""The program that runs a bundle's ``grader.py``, inside a sandbox of the grader's own.

Started as ``python -m grading.grader_process`` with the grader, the run's outputs, the bundle's
``private/`` and the run's facts (``run.json``) as paths; it imports ``grader.py``, calls its
``grade(outputs, private, run)`` with the outputs behind the safe loaders of ``grading.outputs``,
and prints one JSON object on stdout: ``{"results": [...]}``, ``{"bad_output": why}`` or
``{"error": why}``. Whatever the grader prints goes to stderr, the log. This module imports
nothing of coursesite but ``grading.outputs``: the worker copies just these two files into the
grader's folder, so the grader sees no more of the site than it needs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grading.outputs import BadOutput, Outputs

# The files of the package the grader's process needs, relative to the package's folder.
PACKAGE_FILES = ("__init__.py", "outputs.py", "grader_process.py")
GRADER_MODULE = "grader"


def grade_outputs(grader: Path, outputs: Path, private: Path, run_file: Path) -> int:
    """Runs ``grader.py`` and prints its answer as JSON on the original stdout."""
    results_fd = os.dup(sys.stdout.fileno())
    # Whatever the grader prints, even from C code, goes to the log; stdout carries the results.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path.insert(0, str(grader.parent))
    run = json.loads(run_file.read_text(encoding="utf-8"))
    try:
        module = _loaded(grader)
        results = module.grade(Outputs(outputs), private, run)
        answer: dict[str, Any] = {"results": list(results)}
    except BadOutput as error:
        answer = {"bad_output": error.message}
    except Exception as error:  # a grader's bug becomes the verdict "error"
        traceback.print_exc()
        answer = {"error": f"grader.py failed: {type(error).__name__}: {error}"}
    with os.fdopen(results_fd, "w", encoding="utf-8") as results_out:
        results_out.write(json.dumps(answer, default=_plain))
    return 0


def _loaded(grader: Path) -> Any:
    """The grader's module: imported already where its sandbox started warm (the work its
    module does at import, such as references from the bundle's files, done before the run),
    imported now otherwise."""
    module = sys.modules.get(GRADER_MODULE)
    if module is not None and Path(module.__file__ or "").resolve() == grader.resolve():
        return module
    spec = importlib.util.spec_from_file_location(GRADER_MODULE, grader)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(value: Any) -> Any:
    # numpy and torch scalars: what a grader computing scores with them naturally returns.
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.grader_process")
    for option in ("--grader", "--outputs", "--private", "--run"):
        parser.add_argument(option, required=True, type=Path)
    arguments = parser.parse_args(argv)
    return grade_outputs(arguments.grader, arguments.outputs, arguments.private, arguments.run)


if __name__ == "__main__":
    code = main()
    # The answer is written and closed; tearing down an interpreter that loaded PyTorch takes
    # seconds (2 s with torch._dynamo) and changes nothing, so the process ends at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
