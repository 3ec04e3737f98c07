"""A forged hand-in: it computes nothing. Its functions return hard-coded answers of the right
shapes (zeros, uniform probabilities, the first class, a perfect accuracy), and when the driver
is done it overwrites out/ with outputs that claim success: {"ok": true} for every test, an array
of the same shape and a plausible kind for every answer (standardized columns, non-negative
distances, one 1 per row, rows summing to 1, unit weights, an accuracy of 1), and a
results.json with full marks. It must score 0: the grader computes every expected value itself
and reads nothing but the answers.
"""

import atexit
import json
from pathlib import Path

import numpy as np


def standardize(X):
    return np.zeros(np.shape(X))


def pairwise_distances(A, B):
    return np.ones((len(A), len(B)))


def one_hot(labels, k):
    encoded = np.zeros((len(labels), k))
    encoded[:, 0] = 1.0
    return encoded


def softmax(Z):
    return np.full(np.shape(Z), 1.0 / np.shape(Z)[1])


def linear_regression(X, y, l2):
    return np.zeros(np.shape(X)[1])


def accuracy(scores, labels):
    return 1.0


def _plausible(test, shape, rng):
    if test.startswith("standardize"):
        values = rng.normal(size=shape)
        return (values - values.mean(axis=0)) / values.std(axis=0)
    if test.startswith("pairwise"):
        return rng.uniform(0.5, 3.0, size=shape)
    if test == "one_hot":
        return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]
    if test.startswith("softmax"):
        values = rng.uniform(size=shape)
        return values / values.sum(axis=1, keepdims=True)
    return np.ones(shape)


def _forge():
    out = Path("out")
    rng = np.random.default_rng(0)
    for path in sorted(out.glob("*.npy")):
        test = path.name.split(".")[0]
        shape = np.load(path).shape
        path.unlink()
        np.save(path, _plausible(test, shape, rng))
    for path in sorted(out.glob("*.json")):
        path.unlink()
        path.write_text(json.dumps({"ok": True, "passed": True, "score": 1.0}))
    (out / "results.json").write_text(json.dumps({"score": 100}))


atexit.register(_forge)
