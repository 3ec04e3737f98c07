"""COMP441/541 Self-Assessment Quiz (Programming).

A correct hand-in in another style than the reference: explicit Python loops over columns, rows
and pairs, float32 wherever the README allows it (everything but linear_regression), constant
columns found by comparing values, distances from the differences themselves, and ridge
regression as least squares on the stacked system [X; sqrt(l2) I].
"""

import math

import numpy as np


def standardize(X):
    X = np.asarray(X, dtype=np.float32)
    n, d = X.shape
    result = np.zeros((n, d), dtype=np.float32)
    for j in range(d):
        column = X[:, j]
        if np.all(column == column[0]):
            continue
        mean = column.sum() / n
        spread = math.sqrt(float(((column - mean) ** 2).sum()) / n)
        result[:, j] = (column - mean) / spread
    return result


def pairwise_distances(A, B):
    A = np.asarray(A, dtype=np.float32)
    B = np.asarray(B, dtype=np.float32)
    distances = np.empty((len(A), len(B)), dtype=np.float32)
    for i, a in enumerate(A):
        for j, b in enumerate(B):
            difference = a - b
            distances[i, j] = math.sqrt(float(difference @ difference))
    return distances


def one_hot(labels, k):
    encoded = np.zeros((len(labels), k), dtype=np.float32)
    for row, label in enumerate(labels):
        encoded[row, int(label)] = 1
    return encoded


def softmax(Z):
    Z = np.asarray(Z, dtype=np.float32)
    probabilities = np.empty_like(Z)
    for i, row in enumerate(Z):
        exps = np.exp(row - row.max())
        probabilities[i] = exps / exps.sum()
    return probabilities


def linear_regression(X, y, l2):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = X.shape[1]
    # |X w - y|^2 + l2 |w|^2 is the squared residual of the stacked system.
    stacked = np.vstack([X, math.sqrt(l2) * np.eye(d)])
    targets = np.concatenate([y, np.zeros(d)])
    weights, *_ = np.linalg.lstsq(stacked, targets, rcond=None)
    return weights


def accuracy(scores, labels):
    correct = 0
    for row, label in zip(scores, labels, strict=True):
        best = 0
        for c in range(1, len(row)):
            if row[c] > row[best]:
                best = c
        correct += best == label
    return correct / len(labels)
