"""A hand-in with two classic mistakes; it still fits the data well.

- predict returns a column (n, 1) instead of a vector (n,): it loses "shapes".
- mse_gradient drops the factor 2 of d(r²)/dr: it loses "gradient". Gradient descent with half
  the gradient still converges, so "fit_quality" passes.
"""

import numpy as np


def predict(X, w, b):
    return (X @ w + b).reshape(-1, 1)


def mse_gradient(X, y, w, b):
    residual = X @ w + b - y
    return X.T @ residual / len(y), residual.mean()


def fit(X, y, lr=0.1, epochs=500):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        grad_w, grad_b = mse_gradient(X, y, w, b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b
