"""Runs inside the sandbox, beside the student's linreg.py: writes one output per test to out/.

Each test runs on its own, so a function that raises (or a linreg.py that does not even import)
costs only the tests that need it. Nothing here judges an answer: grader.py does, outside.
"""

import importlib
import json
import traceback
from pathlib import Path

import numpy as np

OUT = Path("out")
TRAIN = np.loadtxt("public/train.csv", delimiter=",", skiprows=1)
X_TRAIN, Y_TRAIN = TRAIN[:, :-1], TRAIN[:, -1]
X_TEST = np.loadtxt("public/test.csv", delimiter=",", skiprows=1, ndmin=2)
GRADIENT_CASE = json.loads(Path("public/gradient_case.json").read_text())


def shapes(linreg):
    w = np.zeros(X_TRAIN.shape[1])
    return {"shapes": [list(np.shape(linreg.predict(X_TRAIN[:n], w, 0.0))) for n in (1, 7, 200)]}


def gradient(linreg):
    w = np.array(GRADIENT_CASE["w"])
    grad_w, grad_b = linreg.mse_gradient(X_TRAIN, Y_TRAIN, w, GRADIENT_CASE["b"])
    return {
        "grad_w": np.asarray(grad_w, dtype=float).tolist(),
        "grad_b": np.asarray(grad_b).tolist(),
    }


def fit_quality(linreg):
    w, b = linreg.fit(X_TRAIN, Y_TRAIN)
    # The predictions are the driver's own product, so only w and b come from the student.
    predictions = X_TEST @ np.asarray(w, dtype=float) + np.asarray(b, dtype=float)
    np.save(OUT / "fit_quality.npy", predictions)
    return {}


for name, test in (("shapes", shapes), ("gradient", gradient), ("fit_quality", fit_quality)):
    try:
        answer = {"ok": True, **test(importlib.import_module("linreg"))}
    except (Exception, SystemExit):
        answer = {"ok": False, "error": traceback.format_exc(limit=-3)}
    (OUT / f"{name}.json").write_text(json.dumps(answer))
