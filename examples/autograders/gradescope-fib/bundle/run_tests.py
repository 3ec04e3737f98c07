"""Runs ./fib on every input under tests/ and writes Gradescope's results.json to the path given.

``tests/N.out`` holds what ``./fib N`` must print: fib(N), with fib(0) = 0 and fib(1) = 1. Each
input is one test named "fib(N)", worth one point. When ./fib was not built, every test fails and
says so; the build's own errors are what make printed before this script ran.
"""

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path("tests")
SECONDS_PER_TEST = 5
SHOWN_CHARS = 200


def check(n: int, expected: str) -> tuple[bool, str]:
    """Whether ``./fib n`` prints ``expected``, and what the student should read about it."""
    try:
        run = subprocess.run(
            ["./fib", str(n)], capture_output=True, timeout=SECONDS_PER_TEST, check=False
        )
    except FileNotFoundError:
        return False, "./fib was not built (the build failed), so it could not run."
    except subprocess.TimeoutExpired:
        return False, f"./fib {n} did not finish within {SECONDS_PER_TEST} seconds."
    printed = run.stdout.decode("utf-8", errors="replace").strip()
    if run.returncode != 0:
        return False, f"./fib {n} exited with status {run.returncode}."
    if printed != expected:
        return False, f"./fib {n} printed {printed[:SHOWN_CHARS]!r}; fib({n}) is {expected}."
    return True, ""


def main(results_path: str) -> None:
    tests = []
    for path in sorted(TESTS.glob("*.out"), key=lambda path: int(path.stem)):
        n = int(path.stem)
        passed, output = check(n, path.read_text().strip())
        tests.append(
            {
                "name": f"fib({n})",
                "score": 1 if passed else 0,
                "max_score": 1,
                "status": "passed" if passed else "failed",
                "output": output,
            }
        )
    with open(results_path, "w") as results:
        json.dump({"visibility": "visible", "tests": tests}, results, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
