"""What a worker does with a claimed job: fetch the bundle and the hand-in, and run the runner."""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from grading.archives import ArchiveError
from grading.bundles import Bundle, load_bundle
from grading.models import GradingJob, Verdict
from grading.runner import PreparedRun, grade, run_prepare

log = logging.getLogger(__name__)


def worker_slot() -> int:
    """This pool process's slot: it picks the sandbox's uid (and the GPU on a GPU worker)."""
    from billiard import current_process

    index = getattr(current_process(), "index", None)
    return int(index or 0) + settings.GRADING_SLOT_OFFSET


def gpu_for(job: GradingJob, slot: int) -> int | None:
    """The GPU of a GPU job: GRADING_JOBS_PER_GPU slots in a row share each GPU."""
    gpus = settings.GRADING_GPUS
    if not job.bundle.uses_gpu or not gpus:
        return None
    index = slot - settings.GRADING_SLOT_OFFSET  # the pool process's own number, from 0
    return int(gpus[index // settings.GRADING_JOBS_PER_GPU % len(gpus)])


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


class WarmSlot:
    """What this pool process keeps between jobs: the bundle of its last job, unpacked once per
    version, and the next run of that bundle started ahead (``run_prepare``), its sandboxes
    importing the bundle's ``preload`` modules while the worker stores the last result and
    waits for the next job. A run that waited longer than GRADING_WARM_MAX_IDLE_SECONDS, or is
    of another bundle or slot, is thrown away and the job runs cold."""

    def __init__(self) -> None:
        self.bundle_key: tuple[int, str] | None = None
        self.bundle: Bundle | None = None
        self.next: PreparedRun | None = None
        self._orders: queue.Queue[tuple[Bundle, dict[str, Any]]] = queue.Queue()
        self._starter: threading.Thread | None = None
        self.wanted: tuple[Bundle, dict[str, Any]] | None = None

    def bundle_of(self, job: GradingJob) -> Bundle:
        key = (job.bundle.pk, str(job.bundle.archive.name))
        if key != self.bundle_key or self.bundle is None:
            self.close()
            self.bundle = load_bundle(Path(default_storage.path(key[1])))
            self.bundle_key = key
        return self.bundle

    def take(self) -> PreparedRun | None:
        self._wait()
        prepared, self.next = self.next, None
        idle = settings.GRADING_WARM_MAX_IDLE_SECONDS
        if prepared is not None and time.monotonic() - prepared.started_at > idle:
            prepared.close()
            return None
        return prepared

    def refill(self, bundle: Bundle, **where: Any) -> None:
        """Start the next run of ``bundle`` in the background; ``take`` waits for it."""
        self._wait()
        if self._starter is None:
            # One thread for the life of the process: bwrap dies with the thread that started
            # it (--die-with-parent is the parent-death signal, which follows the thread).
            self._starter = threading.Thread(target=self._start_runs, name="warm", daemon=True)
            self._starter.start()
        self._orders.put((bundle, where))

    def refill_wanted(self) -> None:
        """Start the run ``run_job`` asked for, once the last job's result is stored: preparing
        a run is Python work in this process, and beside the store it held the interpreter's
        lock through every one of the store's queries (a 30 ms store took 150 to 200 ms)."""
        wanted, self.wanted = self.wanted, None
        if wanted is not None:
            self.refill(wanted[0], **wanted[1])

    def close(self) -> None:
        self.wanted = None
        self._wait()
        if self.next is not None:
            self.next.close()
            self.next = None
        if self.bundle is not None:
            self.bundle.close()
        self.bundle, self.bundle_key = None, None

    def _start_runs(self) -> None:
        while True:
            bundle, where = self._orders.get()
            try:
                self.next = run_prepare(bundle, warm=True, **where)
            except Exception:  # a warm start that fails leaves the next job to run cold
                log.exception("starting the next run ahead failed")
            finally:
                self._orders.task_done()

    def _wait(self) -> None:
        self._orders.join()


warm_slot = WarmSlot()


def run_job(job: GradingJob, *, slot: int) -> dict[str, Any]:
    work_root = Path(settings.GRADING_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    bundle = warm_slot.bundle_of(job)
    where: dict[str, Any] = {
        "work_root": work_root,
        "slot": slot,
        "gpu_index": gpu_for(job, slot),
        "allow_unsandboxed": settings.GRADING_ALLOW_UNSANDBOXED,
    }
    # Hand-ins are stored under their sha256; the runner reads a single-file hand-in's name
    # from the path, so it gets a copy under the name the student uploaded.
    with tempfile.TemporaryDirectory(dir=work_root, prefix="handin-") as folder:
        handin = Path(folder) / Path(job.filename).name
        shutil.copyfile(default_storage.path(job.archive), handin)
        try:
            result = grade(bundle, handin, prepared=warm_slot.take(), **where).to_json()
        except ArchiveError as error:
            result = unreadable_handin(job, error)
    if settings.GRADING_WARM_SANDBOXES:
        warm_slot.wanted = (bundle, where)  # started by run_ahead, after the result is stored
    return result


def run_ahead() -> None:
    """Start the next run of the last job's bundle ahead, if ``run_job`` asked for one."""
    warm_slot.refill_wanted()
