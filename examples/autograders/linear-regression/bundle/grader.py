"""Runs after the driver, in a sandbox of its own: scores what driver.py wrote against the
reference and the held-out labels in private/. Outputs are read only through ``outputs``, whose
loaders cannot run code.
"""

import json

import numpy as np

from grading.outputs import BadOutput

NEEDED_R2 = 0.95


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    checks = {"shapes": shapes, "gradient": gradient, "fit_quality": fit_quality}
    results = []
    for name, check in checks.items():
        try:
            answer = outputs.json(f"{name}.json")
            if not isinstance(answer, dict) or answer.get("ok") is not True:
                error = answer.get("error") if isinstance(answer, dict) else answer
                raise Failed(f"Your code raised an error:\n{error}")
            message = check(answer, outputs, private)
        except (BadOutput, Failed) as failure:
            results.append({"name": name, "score": 0, "status": "failed", "output": str(failure)})
        else:
            points = run["points"][name]
            results.append({"name": name, "score": points, "status": "passed", "output": message})
    return results


def shapes(answer, outputs, private):
    if answer.get("shapes") != [[1], [7], [200]]:
        raise Failed(
            "predict(X, w, b) must return one value per row of X, shape (n,); for 1, 7 and 200 "
            f"rows it returned shapes {answer.get('shapes')}."
        )
    return "predict returns shape (n,)."


def gradient(answer, outputs, private):
    reference = json.loads((private / "gradient_reference.json").read_text())
    grad_w = np.asarray(answer.get("grad_w"), dtype=float)
    grad_b = np.asarray(answer.get("grad_b"), dtype=float)
    expected_w = np.asarray(reference["grad_w"])
    if grad_w.shape != expected_w.shape or grad_b.shape != ():
        raise Failed(f"mse_gradient must return (shape {expected_w.shape}, a number).")
    if not (np.allclose(grad_w, expected_w, rtol=1e-6) and np.isclose(grad_b, reference["grad_b"])):
        raise Failed("mse_gradient's values differ from the gradient of the mean squared error.")
    return "mse_gradient matches the analytic gradient."


def fit_quality(answer, outputs, private):
    labels = np.loadtxt(private / "test_labels.csv", skiprows=1)
    predictions = outputs.npy("fit_quality.npy")
    if predictions.shape != labels.shape or not np.all(np.isfinite(predictions)):
        raise Failed("fit's model did not give one finite prediction per held-out example.")
    r2 = 1 - np.sum((labels - predictions) ** 2) / np.sum((labels - labels.mean()) ** 2)
    if r2 < NEEDED_R2:
        raise Failed(f"R² on held-out data is {r2:.3f}; {NEEDED_R2} is needed.")
    return f"R² on held-out data is {r2:.3f}."
