"""Inside a sandbox: start Python, import the heavy modules, then wait for the job to run.

Started as ``python -P -B launcher.py READY_FD [MODULE ...]`` inside a fresh sandbox
before any job's files are there. It imports each MODULE (torch, numpy: what a bundle names; or
``NAME@PATH``, a file of the sandbox's folder: the bundle's grader), with
its own output silenced, tells the worker it is ready by writing to READY_FD, and waits for one
line of JSON on stdin: ``{"script": PATH | "module": NAME, "args": [...], "cpu_seconds": N,
"cpu_grace": G}``. Then it makes itself look like ``python PATH ARGS`` (or ``python -m NAME ARGS``)
started fresh: stdin becomes /dev/null, the CPU limit becomes the job's own on top of the CPU time
spent so far, and the script or module runs as ``__main__``. A traceback shows the job's frames
only. Until that line comes, no code of the job runs here; end of input means the worker gave the
sandbox up, and the launcher exits without running anything.

This file imports nothing of coursesite: the sandbox sees it alone, read-only.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import resource
import runpy
import sys
import traceback
import types
from typing import Any


def preload(modules: list[str]) -> None:
    """Import ``modules`` with stdout and stderr silenced; one that fails is the job's to meet.
    ``NAME@PATH`` imports the file PATH as the module NAME, its folder first on the path."""
    saved = [os.dup(1), os.dup(2)]
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        for name in modules:
            try:
                if "@" in name:
                    load_file(*name.split("@", 1))
                else:
                    __import__(name)
            except BaseException:  # noqa: S112 - the job's own import reports it
                continue
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, quiet):
            os.close(fd)


def load_file(name: str, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    finally:
        sys.path.remove(folder)


def limit_cpu(seconds: int, grace: int) -> None:
    """The job's CPU limit counts from now: the warm-up's seconds are not the job's."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = math.ceil(used.ru_utime + used.ru_stime)
    _, hard_now = resource.getrlimit(resource.RLIMIT_CPU)
    hard = spent + seconds + grace
    if hard_now != resource.RLIM_INFINITY:
        hard = min(hard, hard_now)
    resource.setrlimit(resource.RLIMIT_CPU, (min(spent + seconds, hard), hard))


def run(order: dict[str, Any]) -> None:
    args = [str(arg) for arg in order.get("args", [])]
    if "module" in order:
        sys.argv = [str(order["module"]), *args]
        runpy.run_module(str(order["module"]), run_name="__main__", alter_sys=True)
        return
    # As `python SCRIPT` runs it: argv[0] as given, __file__ (and tracebacks) the full path.
    script = str(order["script"])
    path = os.path.abspath(script)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(path))
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__cached__ = None  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", dont_inherit=True)
    exec(code, main.__dict__)  # noqa: S102 - this is what running the script means


def report(error: BaseException) -> None:
    """Print the traceback as ``python script.py`` would: without this file's and runpy's frames."""
    frames = traceback.extract_tb(error.__traceback__)
    own = (os.path.abspath(__file__), os.path.abspath(runpy.__file__), "<frozen runpy>")
    while frames and (frames[0].filename in own or os.path.abspath(frames[0].filename) in own):
        frames.pop(0)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(error), error)
    sys.stderr.write("".join(lines))
    sys.stderr.flush()


def main() -> int:
    ready_fd, modules = int(sys.argv[1]), sys.argv[2:]
    preload(modules)
    try:
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)
    except OSError:
        pass
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return 0
    order = json.loads(line)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    limit_cpu(int(order["cpu_seconds"]), int(order["cpu_grace"]))
    try:
        run(order)
    except SystemExit:
        raise
    except BaseException as error:
        report(error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
