"""Time what the sandbox adds to a run: a tiny Python driver, bare and through ``run_sandboxed``.

Run from the repository root, as root, where bwrap is installed:
``.venv/bin/python bench/sandbox_overhead.py``. Goal: the sandbox adds under 100 ms a run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, Python puts only bench/ on the path; the sandbox lives at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grading.sandbox import Limits, run_sandboxed, sandbox_available

RUNS = 20
GOAL_MS = 100.0
DRIVER = "import json, sys; json.dump({'accuracy': 0.5}, sys.stdout)"


def bare_ms(job_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", DRIVER], cwd=job_dir, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def sandboxed_ms(job_dir: Path) -> float:
    started = time.perf_counter()
    result = run_sandboxed(["python", "-c", DRIVER], job_dir=job_dir, limits=Limits(), slot=900)
    elapsed = (time.perf_counter() - started) * 1000
    if result.verdict != "ok":
        raise SystemExit(f"the sandboxed driver failed: {result}")
    return elapsed


def main() -> int:
    if not sandbox_available():
        print("the sandbox cannot run here (bwrap, setpriv, prlimit, libseccomp, root)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        job_dir = Path(folder)
        sandboxed_ms(job_dir)  # the first run builds and caches the seccomp filter
        bare = statistics.median(bare_ms(job_dir) for _ in range(RUNS))
        sandboxed = statistics.median(sandboxed_ms(job_dir) for _ in range(RUNS))
    overhead = sandboxed - bare
    print(f"bare:      median {bare:7.1f} ms over {RUNS} runs")
    print(f"sandboxed: median {sandboxed:7.1f} ms over {RUNS} runs")
    print(f"overhead:  {overhead:7.1f} ms (goal: under {GOAL_MS:.0f} ms)")
    return 0 if overhead < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
