"""The GPU check: grade the four reference solutions on the GPU, through the sandbox, and compare.

For a machine with an NVIDIA GPU (``make gpu-check``). For each assignment it grades the
reference solution twice: on the CPU, and on GPU 0 with the bundle's limits switched to a GPU
job (the sandbox then binds only that GPU's device nodes). It checks that CUDA was really used
inside the sandbox, from the ``out/device.json`` each driver writes, and prints both times.

Then it measures how many A2 trainings (the CNN) one GPU gets through when 1, 2 or 4 share it:
at each level that many sandbox slots grade A2's reference solution side by side, each slot one
job after another as a worker's pool process takes them from a full queue, and it prints jobs
per minute (and, where ``nvidia-smi`` answers, the GPU's peak memory and mean use), so that
GRADING_JOBS_PER_GPU is chosen from figures. Points lost when the GPU is shared are shown, not
failed: they are part of what the figures say.

Exit status 1 if no GPU is visible, or if any GPU run did not use CUDA, lost points against the
CPU, or ended with a verdict other than ``ok``. ``--device cpu --concurrency-only`` runs the
concurrency part on the CPU alone, to try it on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grading.bundles import load_bundle  # noqa: E402
from grading.runner import grade  # noqa: E402
from grading.sandbox.slots import free_slot  # noqa: E402

ASSIGNMENTS = REPO / "examples" / "assignments"
CONCURRENCY_SLUG = "a2-cnn"
GPU_SAMPLE_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Graded:
    seconds: float
    score: float
    verdict: str
    device: dict[str, object]

    @property
    def used_cuda(self) -> bool:
        return bool(self.device.get("cuda")) and str(self.device.get("device", "")).startswith(
            "cuda"
        )


def graded(slug: str, work_root: Path, gpu_index: int | None, slot: int) -> Graded:
    folder = ASSIGNMENTS / slug
    with load_bundle(folder / "bundle") as bundle:
        if gpu_index is not None:
            bundle.limits = dataclasses.replace(bundle.limits, gpu=True)
        started = time.perf_counter()
        result = grade(
            bundle,
            folder / "solution",
            work_root=work_root,
            slot=slot,
            gpu_index=gpu_index,
            keep=True,
        )
        elapsed = time.perf_counter() - started
    device: dict[str, object] = {}
    if result.kept_at is not None:
        device_file = result.kept_at / "job" / "out" / "device.json"
        if device_file.is_file() and not device_file.is_symlink():
            device = json.loads(device_file.read_text()[:4096])
        # Many runs side by side would otherwise fill the disk with their folders.
        shutil.rmtree(result.kept_at, ignore_errors=True)
    return Graded(elapsed, result.score, result.verdict, device)


def compare_cpu_and_gpu(work_root: Path, gpu_index: int) -> bool:
    """Each assignment on the CPU and on the GPU; whether every GPU run used CUDA and lost
    nothing."""
    failed = False
    for slug in sorted(path.name for path in ASSIGNMENTS.iterdir() if path.is_dir()):
        with free_slot() as slot:
            cpu = graded(slug, work_root, None, slot)
            gpu = graded(slug, work_root, gpu_index, slot)
        ok = gpu.used_cuda and gpu.score == cpu.score
        failed |= not ok
        print(
            f"{slug:<22} cpu {cpu.seconds:6.1f} s ({cpu.score:g})  gpu {gpu.seconds:6.1f} s "
            f"({gpu.score:g})  inside the sandbox: {gpu.device or 'no device.json'}  "
            f"{'ok' if ok else 'FAILED'}"
        )
    return not failed


class GpuSampler:
    """Polls ``nvidia-smi`` for one GPU while a level runs: the peak memory used and the mean
    utilisation. Where it cannot answer, there are no figures and nothing else changes."""

    def __init__(self, gpu_index: int) -> None:
        self.gpu_index = gpu_index
        self.memory_mib: list[float] = []
        self.utilisation: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name="gpu-sampler")

    def __enter__(self) -> GpuSampler:
        if shutil.which("nvidia-smi"):
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _poll(self) -> None:
        query = [
            "nvidia-smi", f"--id={self.gpu_index}", "--query-gpu=memory.used,utilization.gpu",
            "--format=csv,noheader,nounits",
        ]  # fmt: skip
        while not self._stop.wait(GPU_SAMPLE_SECONDS):
            try:
                answer = subprocess.run(query, capture_output=True, text=True, timeout=5)
                memory, use = (float(part) for part in answer.stdout.strip().split(","))
            except (OSError, subprocess.SubprocessError, ValueError):
                return
            self.memory_mib.append(memory)
            self.utilisation.append(use)

    def summary(self) -> str:
        if not self.memory_mib:
            return ""
        peak = max(self.memory_mib) / 1024
        return f"  GPU memory peak {peak:.1f} GiB, use {statistics.mean(self.utilisation):.0f}%"


@dataclasses.dataclass(frozen=True)
class Level:
    concurrency: int
    seconds: float
    runs: list[Graded]
    gpu: str

    @property
    def jobs_per_minute(self) -> float:
        return len(self.runs) / self.seconds * 60


def run_level(
    slug: str, work_root: Path, gpu_index: int | None, concurrency: int, rounds: int
) -> Level:
    """``concurrency`` slots side by side, each grading ``rounds`` jobs one after another."""
    with contextlib.ExitStack() as held:
        # Slots of their own: two runs at once in one slot would kill each other's processes.
        slots = [held.enter_context(free_slot()) for _ in range(concurrency)]

        def one_slot(slot: int) -> list[Graded]:
            return [graded(slug, work_root, gpu_index, slot) for _ in range(rounds)]

        sampler = GpuSampler(gpu_index) if gpu_index is not None else None
        started = time.perf_counter()
        with sampler or contextlib.nullcontext(), ThreadPoolExecutor(concurrency) as pool:
            runs = [run for slot_runs in pool.map(one_slot, slots) for run in slot_runs]
        seconds = time.perf_counter() - started
    return Level(concurrency, seconds, runs, sampler.summary() if sampler else "")


def measure_concurrency(
    work_root: Path, gpu_index: int | None, levels: list[int], rounds: int
) -> bool:
    """Prints jobs per minute at each level; whether every run ended ``ok`` (and, on a GPU,
    trained on CUDA)."""
    where = f"GPU {gpu_index}" if gpu_index is not None else "the CPU"
    print(
        f"\n{CONCURRENCY_SLUG}: concurrent gradings on {where}, {rounds} job(s) per slot "
        "(GRADING_JOBS_PER_GPU = jobs at once; x: throughput against the first level)"
    )
    ok, baseline = True, None
    for concurrency in levels:
        level = run_level(CONCURRENCY_SLUG, work_root, gpu_index, concurrency, rounds)
        baseline = baseline or level.jobs_per_minute
        scores = sorted({run.score for run in level.runs})
        verdicts = sorted({run.verdict for run in level.runs})
        cuda_ok = gpu_index is None or all(run.used_cuda for run in level.runs)
        level_ok = verdicts == ["ok"] and cuda_ok
        ok &= level_ok
        print(
            f"  {concurrency} at once: {len(level.runs):3d} jobs in {level.seconds:7.1f} s"
            f"  {level.jobs_per_minute:6.2f} jobs/min  x{level.jobs_per_minute / baseline:.2f}"
            f"  each {statistics.mean(run.seconds for run in level.runs):6.1f} s"
            f"  score {'/'.join(f'{score:g}' for score in scores)}{level.gpu}"
            f"  {'ok' if level_ok else f'FAILED (verdicts {verdicts}, cuda {cuda_ok})'}"
        )
    return ok


def levels_of(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("every level must be 1 or more")
    return levels


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--gpu", type=int, default=0, help="the GPU to use (default 0)")
    parser.add_argument(
        "--concurrency-only", action="store_true", help="skip the CPU/GPU comparison"
    )
    parser.add_argument(
        "--levels", type=levels_of, default=[1, 2, 4], help="jobs at once (default 1,2,4)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="jobs per slot (default 2)")
    options = parser.parse_args(argv)
    if options.device == "cpu" and not options.concurrency_only:
        parser.error("--device cpu compares nothing: add --concurrency-only")
    if options.rounds < 1:
        parser.error("--rounds must be 1 or more")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    gpu_index = None
    if options.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print("no CUDA device is visible to this Python; run this on a GPU machine")
            return 1
        gpu_index = options.gpu
    ok = True
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        work_root = Path(folder)
        if not options.concurrency_only:
            ok &= compare_cpu_and_gpu(work_root, options.gpu)
        ok &= measure_concurrency(work_root, gpu_index, options.levels, options.rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
