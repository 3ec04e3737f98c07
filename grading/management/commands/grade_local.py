"""``grade_local BUNDLE SUBMISSION``: grade one hand-in on this machine, as a worker would.

For instructors writing an autograder: it needs no database and no broker (nothing here queries),
and prints the result document the pipeline would store. Exit status 0 means grading completed,
whatever the verdict; 2 means the bundle or the hand-in could not be used.
"""

from __future__ import annotations

import json
import os
import tempfile
from argparse import ArgumentParser
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from grading.archives import ArchiveError
from grading.bundles import BundleError, load_bundle
from grading.runner import ResultDocument, grade
from grading.sandbox import SandboxUnavailable
from grading.sandbox.slots import free_slot

ALLOW_UNSANDBOXED_ENV = "COURSESITE_ALLOW_UNSANDBOXED"
UNUSABLE = 2


class Command(BaseCommand):
    help = "Grade one hand-in with an autograder bundle on this machine, without a database."
    # System checks may look at the database; this command must run where there is none.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("bundle", help="the bundle: a folder or a .zip")
        parser.add_argument("submission", help="the hand-in: a folder, a .zip/.tar.gz or a file")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--keep", action="store_true", help="keep the job folder to inspect")
        parser.add_argument(
            "--slot", type=int, default=None, help="the sandbox slot (its uid); default: a free one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bundle = load_bundle(Path(options["bundle"]))
        except BundleError as error:
            raise CommandError(
                f"The bundle cannot be used: {error.message}", returncode=UNUSABLE
            ) from None
        chosen = options["slot"]
        with bundle, nullcontext(chosen) if chosen is not None else free_slot() as slot:
            try:
                result = grade(
                    bundle,
                    Path(options["submission"]),
                    work_root=Path(tempfile.gettempdir()) / "coursesite-grade-local",
                    slot=slot,
                    allow_unsandboxed=os.environ.get(ALLOW_UNSANDBOXED_ENV) == "1",
                    keep=options["keep"] or None,
                )
            except ArchiveError as error:
                raise CommandError(
                    f"The hand-in cannot be used: {error.message}", returncode=UNUSABLE
                ) from None
            except SandboxUnavailable as error:
                raise CommandError(
                    f"No sandbox on this machine ({error}). To grade your own code without one, "
                    f"set {ALLOW_UNSANDBOXED_ENV}=1."
                ) from None
        if result.kept_at is not None:
            self.stderr.write(f"The job folder is kept at {result.kept_at}")
        if options["json"]:
            document = result.to_json()
            del document["logs"], document["images"]
            self.stdout.write(json.dumps(document))
        else:
            self.stdout.write(table(bundle.name, result))


def table(name: str, result: ResultDocument) -> str:
    """The result for a person: a line per test, then the outputs and logs worth reading."""
    origin = "self-reported" if result.self_reported else "graded"
    lines = [
        f"{name}: {result.score:g}/{result.max_score:g} ({result.verdict}, {origin}, "
        f"{result.execution_time:.1f} s)",
        "",
    ]
    width = max([len(test.name) for test in result.tests] + [4])
    lines.append(f"  {'test':<{width}}  {'score':>11}  {'status':<7} visibility")
    for test in result.tests:
        score = f"{test.score:g}/{test.max_score:g}"
        lines.append(f"  {test.name:<{width}}  {score:>11}  {test.status:<7} {test.visibility}")
    for test in result.tests:
        if test.output:
            lines += ["", f"--- {test.name} ---", test.output.rstrip()]
    if result.logs.strip():
        lines += ["", "=== logs ===", result.logs.rstrip()]
    return "\n".join(lines)
