"""COMP441/541 A1: multi-layer perceptrons and backpropagation in NumPy.

A correct hand-in in another style than the reference: everything in float32 (inputs are cast
as they come in, parameters and gradients are float32), the sigmoid written through tanh, the
loss through log-sum-exp, the training order from an index array shuffled in place, and a debug
line per epoch on stdout.
"""

from itertools import chain, pairwise

import numpy as np

FLOAT = np.float32


def as_float(array):
    return np.asarray(array, dtype=FLOAT)


class Linear:
    """y = x @ W + b, with W drawn from N(0, 2 / in_features) (He) and b zeros."""

    def __init__(self, in_features, out_features, rng):
        scale = np.sqrt(2.0 / in_features)
        self.W = (scale * rng.standard_normal((in_features, out_features))).astype(FLOAT)
        self.b = np.zeros(out_features, dtype=FLOAT)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.inputs = None

    def forward(self, x):
        self.inputs = as_float(x)
        return self.inputs @ as_float(self.W) + as_float(self.b)

    def backward(self, grad_out):
        grad_out = as_float(grad_out)
        self.dW = np.einsum("ni,no->io", self.inputs, grad_out)
        self.db = np.einsum("no->o", grad_out)
        return np.einsum("no,io->ni", grad_out, as_float(self.W))

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [self.dW, self.db]


class ReLU:
    def forward(self, x):
        x = as_float(x)
        self.active = (x > 0).astype(FLOAT)
        return x * self.active

    def backward(self, grad_out):
        return as_float(grad_out) * self.active

    def params(self):
        return []

    def grads(self):
        return []


class Sigmoid:
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: tanh saturates at ±1 instead of overflowing."""

    def forward(self, x):
        self.y = FLOAT(0.5) * (FLOAT(1.0) + np.tanh(FLOAT(0.5) * as_float(x)))
        return self.y

    def backward(self, grad_out):
        return as_float(grad_out) * self.y * (FLOAT(1.0) - self.y)

    def params(self):
        return []

    def grads(self):
        return []


class Tanh:
    def forward(self, x):
        self.y = np.tanh(as_float(x))
        return self.y

    def backward(self, grad_out):
        return as_float(grad_out) * (FLOAT(1.0) - np.square(self.y))

    def params(self):
        return []

    def grads(self):
        return []


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy and its gradient, through log-sum-exp of the row-shifted logits."""
    logits = as_float(logits)
    labels = np.asarray(labels, dtype=np.int64)
    batch = logits.shape[0]
    top = np.max(logits, axis=1, keepdims=True)
    log_norm = top + np.log(np.sum(np.exp(logits - top), axis=1, keepdims=True))
    log_softmax = logits - log_norm
    picked = np.take_along_axis(log_softmax, labels[:, None], axis=1)
    one_hot = np.eye(logits.shape[1], dtype=FLOAT)[labels]
    grad = (np.exp(log_softmax) - one_hot) / FLOAT(batch)
    return float(-picked.mean()), grad


class MLP:
    KINDS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}

    def __init__(self, sizes, activation="relu", seed=0):
        rng = np.random.default_rng(seed)
        pairs = list(pairwise(sizes))
        self.layers = []
        for number, (fan_in, fan_out) in enumerate(pairs):
            self.layers.append(Linear(fan_in, fan_out, rng))
            if number != len(pairs) - 1:
                self.layers.append(self.KINDS[activation]())

    def forward(self, x):
        out = as_float(x)
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, grad_out):
        grad = as_float(grad_out)
        for layer in self.layers[::-1]:
            grad = layer.backward(grad)
        return grad

    def params(self):
        return list(chain.from_iterable(layer.params() for layer in self.layers))

    def grads(self):
        return list(chain.from_iterable(layer.grads() for layer in self.layers))


class SGD:
    """torch.optim.SGD's momentum: v <- momentum * v + g; p <- p - lr * v."""

    def __init__(self, params, lr, momentum=0.0):
        self.params = params
        self.lr = FLOAT(lr)
        self.momentum = FLOAT(momentum)
        self.velocity = [np.zeros(np.shape(p), dtype=FLOAT) for p in params]

    def step(self, grads):
        for param, velocity, grad in zip(self.params, self.velocity, grads, strict=True):
            np.multiply(velocity, self.momentum, out=velocity)
            np.add(velocity, as_float(grad), out=velocity)
            param -= self.lr * velocity


def train(model, x, y, epochs, batch_size, lr, momentum, seed=0):
    rng = np.random.default_rng(seed)
    x, y = as_float(x), np.asarray(y)
    optimizer = SGD(model.params(), lr, momentum)
    order = np.arange(len(x))
    history = []
    for epoch in range(epochs):
        rng.shuffle(order)
        seen, summed = 0, 0.0
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            loss, grad = softmax_cross_entropy(model.forward(x[rows]), y[rows])
            model.backward(grad)
            optimizer.step(model.grads())
            summed += loss * len(rows)
            seen += len(rows)
        history.append(summed / seen)
        print(f"epoch {epoch + 1}/{epochs}: mean loss {history[-1]:.4f}")
    return history
