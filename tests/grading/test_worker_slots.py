"""Which GPU a worker slot's job gets: GRADING_JOBS_PER_GPU slots in a row share one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from grading.worker import gpu_for


def job(uses_gpu: bool) -> SimpleNamespace:
    return SimpleNamespace(bundle=SimpleNamespace(uses_gpu=uses_gpu))


@pytest.mark.parametrize(
    ("per_gpu", "expected"),
    [(1, [0, 1, 0, 1, 0, 1]), (2, [0, 0, 1, 1, 0, 0]), (3, [0, 0, 0, 1, 1, 1])],
)
@pytest.mark.parametrize("offset", [0, 100])
def test_slots_share_each_gpu_as_many_at_a_time_as_the_setting_says(
    settings, per_gpu, expected, offset
):
    settings.GRADING_GPUS = [0, 1]
    settings.GRADING_JOBS_PER_GPU = per_gpu
    settings.GRADING_SLOT_OFFSET = offset  # the worker's first slot
    slots = range(offset, offset + 6)
    assert [gpu_for(job(True), slot) for slot in slots] == expected  # type: ignore[arg-type]


def test_a_cpu_job_or_a_host_without_gpus_gets_none(settings):
    settings.GRADING_GPUS = [3]
    assert gpu_for(job(False), 0) is None  # type: ignore[arg-type]
    assert gpu_for(job(True), 5) == 3  # type: ignore[arg-type]
    settings.GRADING_GPUS = []
    assert gpu_for(job(True), 0) is None  # type: ignore[arg-type]
