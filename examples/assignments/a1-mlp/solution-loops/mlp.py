"""COMP441/541 A1: multi-layer perceptrons and backpropagation in NumPy.

A correct hand-in in another style than the reference: explicit loops over the examples of a
batch and over the rows of the loss, the sigmoid computed branch by branch on masks, the MLP's
linear layers and activations kept in two lists, velocities kept by position, and the batches
walked with a while loop.
"""

import math

import numpy as np


class Linear:
    def __init__(self, in_features, out_features, rng):
        self.W = rng.normal(size=(in_features, out_features)) * math.sqrt(2 / in_features)
        self.b = np.zeros(out_features)
        self.dW = np.zeros((in_features, out_features))
        self.db = np.zeros(out_features)
        self.last_x = None

    def forward(self, x):
        self.last_x = np.array(x, dtype=float)
        rows = [example @ self.W + self.b for example in self.last_x]
        return np.array(rows).reshape(len(self.last_x), self.W.shape[1])

    def backward(self, grad_out):
        dW = np.zeros(self.W.shape)
        db = np.zeros(self.b.shape)
        grad_x = np.zeros(self.last_x.shape)
        for k in range(len(self.last_x)):
            dW += np.outer(self.last_x[k], grad_out[k])
            db += grad_out[k]
            grad_x[k] = self.W @ grad_out[k]
        self.dW, self.db = dW, db
        return grad_x

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [self.dW, self.db]


class ReLU:
    def forward(self, x):
        self.last_x = np.array(x, dtype=float)
        return np.maximum(self.last_x, 0.0)

    def backward(self, grad_out):
        return grad_out * np.heaviside(self.last_x, 0.0)

    def params(self):
        return []

    def grads(self):
        return []


class Sigmoid:
    """1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: exp never sees a large input."""

    def forward(self, x):
        x = np.array(x, dtype=float)
        s = np.empty_like(x)
        positive = x >= 0
        s[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
        z = np.exp(x[~positive])
        s[~positive] = z / (1.0 + z)
        self.s = s
        return s

    def backward(self, grad_out):
        return grad_out * self.s * (1.0 - self.s)

    def params(self):
        return []

    def grads(self):
        return []


class Tanh:
    def forward(self, x):
        self.t = np.tanh(np.array(x, dtype=float))
        return self.t

    def backward(self, grad_out):
        return grad_out * (1.0 - self.t * self.t)

    def params(self):
        return []

    def grads(self):
        return []


def softmax_cross_entropy(logits, labels):
    n, classes = logits.shape
    total = 0.0
    grad = np.zeros((n, classes))
    for i in range(n):
        row = logits[i] - np.max(logits[i])
        log_sum = math.log(np.sum(np.exp(row)))
        total += log_sum - row[labels[i]]
        grad[i] = np.exp(row - log_sum)
        grad[i, labels[i]] -= 1.0
    return total / n, grad / n


class MLP:
    def __init__(self, sizes, activation="relu", seed=0):
        rng = np.random.default_rng(seed)
        self.linears = []
        self.activations = []
        for i in range(len(sizes) - 1):
            self.linears.append(Linear(sizes[i], sizes[i + 1], rng))
        for _ in range(len(sizes) - 2):
            if activation == "relu":
                self.activations.append(ReLU())
            elif activation == "sigmoid":
                self.activations.append(Sigmoid())
            elif activation == "tanh":
                self.activations.append(Tanh())
            else:
                raise ValueError(f"unknown activation {activation!r}")

    def forward(self, x):
        h = x
        for i, linear in enumerate(self.linears):
            h = linear.forward(h)
            if i < len(self.activations):
                h = self.activations[i].forward(h)
        return h

    def backward(self, grad_out):
        g = grad_out
        for i in reversed(range(len(self.linears))):
            if i < len(self.activations):
                g = self.activations[i].backward(g)
            g = self.linears[i].backward(g)
        return g

    def params(self):
        result = []
        for linear in self.linears:
            result += linear.params()
        return result

    def grads(self):
        result = []
        for linear in self.linears:
            result += linear.grads()
        return result


class SGD:
    def __init__(self, params, lr, momentum=0.0):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.velocity = {i: np.zeros_like(p) for i, p in enumerate(params)}

    def step(self, grads):
        for i in range(len(self.params)):
            v = self.momentum * self.velocity[i] + grads[i]
            self.velocity[i] = v
            self.params[i] -= self.lr * v


def train(model, x, y, epochs, batch_size, lr, momentum, seed=0):
    rng = np.random.default_rng(seed)
    optimizer = SGD(model.params(), lr=lr, momentum=momentum)
    n = len(x)
    curve = []
    for _ in range(epochs):
        order = rng.permutation(n)
        loss_sum = 0.0
        start = 0
        while start < n:
            end = min(start + batch_size, n)
            idx = order[start:end]
            logits = model.forward(x[idx])
            loss, grad = softmax_cross_entropy(logits, y[idx])
            loss_sum += loss * (end - start)
            model.backward(grad)
            optimizer.step(model.grads())
            start = end
        curve.append(loss_sum / n)
    return curve
