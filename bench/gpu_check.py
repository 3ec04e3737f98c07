"""The GPU check: grade the four reference solutions on the GPU, through the sandbox, and compare.

For a machine with an NVIDIA GPU (``make gpu-check``). For each assignment it grades the
reference solution twice: on the CPU, and on GPU 0 with the bundle's limits switched to a GPU
job (the sandbox then binds only that GPU's device nodes). It checks that CUDA was really used
inside the sandbox, from the ``out/device.json`` each driver writes, and prints both times.
Exit status 1 if any GPU run did not use CUDA or lost points.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grading.bundles import load_bundle  # noqa: E402
from grading.runner import grade  # noqa: E402

ASSIGNMENTS = REPO / "examples" / "assignments"


def graded(
    slug: str, work_root: Path, gpu_index: int | None
) -> tuple[float, float, dict[str, object]]:
    folder = ASSIGNMENTS / slug
    with load_bundle(folder / "bundle") as bundle:
        if gpu_index is not None:
            bundle.limits = dataclasses.replace(bundle.limits, gpu=True)
        started = time.perf_counter()
        result = grade(
            bundle,
            folder / "solution",
            work_root=work_root,
            slot=990,
            gpu_index=gpu_index,
            keep=True,
        )
        elapsed = time.perf_counter() - started
    device: dict[str, object] = {}
    if result.kept_at is not None:
        device_file = result.kept_at / "job" / "out" / "device.json"
        if device_file.is_file() and not device_file.is_symlink():
            device = json.loads(device_file.read_text()[:4096])
    return elapsed, result.score, device


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device is visible to this Python; run this on a GPU machine")
        return 1
    failed = False
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        work_root = Path(folder)
        for slug in sorted(path.name for path in ASSIGNMENTS.iterdir() if path.is_dir()):
            cpu_time, cpu_score, _ = graded(slug, work_root, None)
            gpu_time, gpu_score, device = graded(slug, work_root, 0)
            used_cuda = bool(device.get("cuda")) and str(device.get("device", "")).startswith(
                "cuda"
            )
            ok = used_cuda and gpu_score == cpu_score
            failed |= not ok
            print(
                f"{slug:<22} cpu {cpu_time:6.1f} s ({cpu_score:g})  gpu {gpu_time:6.1f} s "
                f"({gpu_score:g})  inside the sandbox: {device or 'no device.json'}  "
                f"{'ok' if ok else 'FAILED'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
