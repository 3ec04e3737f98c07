"""Runs inside the sandbox, beside the student's quiz.py: writes what each test needs to out/.

Each test calls one function of quiz.py on every case of public/cases.npz that belongs to it
(written by make_data.py, keys ``<test>.<case>.<argument>``), on its own and with its own time
budget, so that a function that raises or hangs (or a quiz.py that does not even import) costs
only its own tests. Per test ``name`` it writes out/<name>.json ({"ok": true} or {"ok": false,
"error": ...}) and what the function returned for each case as out/<name>.<case>.npy. Nothing
here judges an answer: grader.py does, outside, computing every expected value itself from its
own copy of the cases.
"""

import importlib
import json
import signal
import traceback
from pathlib import Path

import numpy as np

OUT = Path("out")
CASES = dict(np.load(Path("public") / "cases.npz", allow_pickle=False))
SECONDS = 5

# Each test: the function of quiz.py it calls and the names of its arguments, in order.
TESTS = {
    "standardize": ("standardize", ("X",)),
    "standardize_constant": ("standardize", ("X",)),
    "pairwise_distances": ("pairwise_distances", ("A", "B")),
    "pairwise_distances_rounding": ("pairwise_distances", ("A", "B")),
    "one_hot": ("one_hot", ("labels", "k")),
    "softmax": ("softmax", ("Z",)),
    "softmax_stability": ("softmax", ("Z",)),
    "linear_regression": ("linear_regression", ("X", "y", "l2")),
    "linear_regression_conditioning": ("linear_regression", ("X", "y", "l2")),
    "accuracy": ("accuracy", ("scores", "labels")),
}


class OutOfTime(BaseException):
    """A test ran past its budget. A BaseException, so ``except Exception`` in a hand-in cannot
    swallow it."""


def _out_of_time(signum, frame):
    raise OutOfTime


class CallFailed(Exception):
    """The hand-in's function raised on a case; the message names the call and the inputs."""


def cases_of(test):
    """The names of a test's cases, in the order make_data.py wrote them."""
    return list(dict.fromkeys(key.split(".")[1] for key in CASES if key.split(".")[0] == test))


def argument(test, case, name):
    """A fresh copy of an input, so that a hand-in changing its arguments changes nothing else;
    a scalar (k, l2) as a Python int or float."""
    value = CASES[f"{test}.{case}.{name}"]
    return value.item() if value.ndim == 0 else value.copy()


def run_test(quiz, test):
    function_name, names = TESTS[test]
    function = getattr(quiz, function_name)
    for case in cases_of(test):
        arguments = [argument(test, case, name) for name in names]
        try:
            answer = function(*arguments)
        except (Exception, SystemExit):
            shapes = ", ".join(
                f"{name} of shape {np.shape(value)}" if np.ndim(value) else f"{name}={value!r}"
                for name, value in zip(names, arguments, strict=True)
            )
            raise CallFailed(
                f"{function_name}({', '.join(names)}) with {shapes} raised:\n"
                f"{traceback.format_exc(limit=-3)}"
            ) from None
        # A float64 copy of what the hand-in returned, as it is now.
        np.save(OUT / f"{test}.{case}.npy", np.array(answer, dtype=np.float64, copy=True))


def record(test):
    answer: dict[str, bool | str]
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(SECONDS)
    try:
        try:
            run_test(importlib.import_module("quiz"), test)
        finally:
            signal.alarm(0)
        answer = {"ok": True}
    except OutOfTime:
        answer = {"ok": False, "error": f"This test ran for more than {SECONDS} seconds."}
    except CallFailed as error:
        answer = {"ok": False, "error": str(error)}
    except (Exception, SystemExit):
        answer = {"ok": False, "error": traceback.format_exc(limit=-3)}
    (OUT / f"{test}.json").write_text(json.dumps(answer))


if __name__ == "__main__":
    for test in TESTS:
        record(test)
