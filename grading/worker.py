"""What a worker does with a claimed job: fetch the bundle and the hand-in, and run the runner."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from grading.archives import ArchiveError
from grading.bundles import load_bundle
from grading.models import GradingJob, Verdict
from grading.runner import grade


def worker_slot() -> int:
    """This pool process's slot: it picks the sandbox's uid (and the GPU on a GPU worker)."""
    from billiard import current_process

    index = getattr(current_process(), "index", None)
    return int(index or 0) + settings.GRADING_SLOT_OFFSET


def gpu_for(job: GradingJob, slot: int) -> int | None:
    gpus = settings.GRADING_GPUS
    if not job.bundle.uses_gpu or not gpus:
        return None
    return int(gpus[slot % len(gpus)])


def unreadable_handin(job: GradingJob, error: ArchiveError) -> dict[str, Any]:
    """The result of a hand-in that cannot be graded at all: every test scores zero."""
    tests = job.bundle.manifest["tests"]
    return {
        "verdict": Verdict.ERROR,
        "score": 0,
        "max_score": sum(test["points"] for test in tests),
        "execution_time": 0,
        "self_reported": False,
        "tests": [
            {
                "name": test["name"],
                "score": 0,
                "max_score": test["points"],
                "status": "error",
                "visibility": test["visibility"],
                "output": f"The hand-in could not be read: {error.message}",
            }
            for test in tests
        ],
        "logs": error.message,
    }


def run_job(job: GradingJob, *, slot: int) -> dict[str, Any]:
    work_root = Path(settings.GRADING_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    bundle_zip = Path(default_storage.path(str(job.bundle.archive.name)))
    # Hand-ins are stored under their sha256; the runner reads a single-file hand-in's name
    # from the path, so it gets a copy under the name the student uploaded.
    with (
        load_bundle(bundle_zip) as bundle,
        tempfile.TemporaryDirectory(dir=work_root, prefix="handin-") as folder,
    ):
        handin = Path(folder) / Path(job.filename).name
        shutil.copyfile(default_storage.path(job.archive), handin)
        try:
            result = grade(
                bundle,
                handin,
                work_root=work_root,
                slot=slot,
                gpu_index=gpu_for(job, slot),
                allow_unsandboxed=settings.GRADING_ALLOW_UNSANDBOXED,
            )
        except ArchiveError as error:
            return unreadable_handin(job, error)
    return result.to_json()
