"""A reference solution: linear regression trained by gradient descent on the mean squared error."""

import numpy as np


def predict(X, w, b):
    return X @ w + b


def mse_gradient(X, y, w, b):
    residual = predict(X, w, b) - y
    return 2 * X.T @ residual / len(y), 2 * residual.mean()


def fit(X, y, lr=0.1, epochs=500):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        grad_w, grad_b = mse_gradient(X, y, w, b)
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b
