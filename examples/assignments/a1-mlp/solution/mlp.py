"""COMP441/541 A1: multi-layer perceptrons and backpropagation in NumPy.

The reference solution.

Conventions used throughout (the autograder relies on them):
- A batch is an array of shape (N, features); labels are integers of shape (N,). Any N must
  work, N = 1 included.
- Every layer has forward(x) and backward(grad_out). forward remembers what backward needs;
  backward receives dL/d(output) and returns dL/d(input), where L is whatever scalar the
  caller is differentiating.
- params() returns the layer's parameter arrays THEMSELVES (not copies), and grads() the
  gradients of the latest backward() in the same order. backward() overwrites the gradients;
  it does not add to the previous ones.
- The optimizer updates the parameter arrays IN PLACE (p -= ..., not p = p - ...), so that
  the layers see the new values.
"""

import numpy as np


class Linear:
    """An affine layer, y = x @ W + b.

    Attributes (the autograder reads and sets them by these names):
        W:  (in_features, out_features) weights, drawn from N(0, 2 / in_features) (He init).
        b:  (out_features,) biases, zeros.
        dW, db: the gradients of the latest backward(), same shapes as W and b.
    """

    def __init__(self, in_features, out_features, rng):
        """``rng`` is a numpy.random.Generator; draw W from it so that runs are reproducible."""
        # He initialisation keeps the variance of ReLU activations roughly constant per layer.
        self.W = rng.normal(0.0, np.sqrt(2.0 / in_features), size=(in_features, out_features))
        self.b = np.zeros(out_features)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.x = None

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features)."""
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_out):
        """grad_out: (N, out_features), dL/dy. Sets self.dW and self.db; returns dL/dx (N, in)."""
        self.dW = self.x.T @ grad_out
        self.db = grad_out.sum(axis=0)
        return grad_out @ self.W.T

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [self.dW, self.db]


class ReLU:
    """max(x, 0), elementwise. (The derivative at exactly 0 is not tested.)"""

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, grad_out):
        return grad_out * self.mask

    def params(self):
        return []

    def grads(self):
        return []


class Sigmoid:
    """1 / (1 + exp(-x)), elementwise. Must not overflow for large |x|: forward and backward
    stay finite and exact for inputs such as 1000 or -1000."""

    def forward(self, x):
        # exp(-|x|) never overflows; the two branches are the same function rewritten.
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.out

    def backward(self, grad_out):
        return grad_out * self.out * (1.0 - self.out)

    def params(self):
        return []

    def grads(self):
        return []


class Tanh:
    """tanh(x), elementwise. Must not overflow for large |x| either (same inputs as Sigmoid)."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out):
        return grad_out * (1.0 - self.out**2)

    def params(self):
        return []

    def grads(self):
        return []


def softmax_cross_entropy(logits, labels):
    """The mean cross-entropy of softmax(logits) against ``labels``, and its gradient.

    logits: (N, C) floats; labels: (N,) integers in [0, C).
    Returns (loss, grad): loss a Python float, the MEAN over the batch of -log softmax(logits)
    at the true class; grad the (N, C) array d loss / d logits (so it includes the 1/N).
    Must stay finite for logits of any size (e.g. 1000 or -1000): do not compute exp(logits)
    directly.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)
    grad[rows, labels] -= 1.0
    return float(loss), grad / n


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


class MLP:
    """Linear layers of the given sizes with an activation between each two (none after the last).

    MLP([64, 64, 10], activation="relu", seed=0) is Linear(64, 64), ReLU, Linear(64, 10): it maps
    (N, 64) inputs to (N, 10) logits. ``activation`` is "relu", "sigmoid" or "tanh". All the
    Linear layers draw their weights, in order, from one np.random.default_rng(seed).
    """

    def __init__(self, sizes, activation="relu", seed=0):
        rng = np.random.default_rng(seed)
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(Linear(sizes[i], sizes[i + 1], rng))
            if i < len(sizes) - 2:
                self.layers.append(ACTIVATIONS[activation]())

    def forward(self, x):
        """x: (N, sizes[0]) -> logits (N, sizes[-1])."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        """grad_out: dL/dlogits (N, sizes[-1]). Fills every layer's gradients; returns dL/dx."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def params(self):
        """[W1, b1, W2, b2, ...]: every layer's params(), in layer order (the arrays themselves)."""
        return [p for layer in self.layers for p in layer.params()]

    def grads(self):
        """The gradients matching params(), in the same order."""
        return [g for layer in self.layers for g in layer.grads()]


class SGD:
    """Stochastic gradient descent with momentum, with PyTorch's convention (torch.optim.SGD):

        v <- momentum * v + g
        p <- p - lr * v

    with one velocity v per parameter, starting at zero. momentum=0 is plain SGD.
    """

    def __init__(self, params, lr, momentum=0.0):
        """``params``: the list of arrays to optimise; step() updates them in place."""
        self.params = list(params)
        self.lr = lr
        self.momentum = momentum
        self.velocities = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        """One update of every parameter, given ``grads`` in the order of ``params``."""
        for p, g, v in zip(self.params, grads, self.velocities, strict=True):
            v *= self.momentum
            v += g
            p -= self.lr * v


def train(model, x, y, epochs, batch_size, lr, momentum, seed=0):
    """Trains ``model`` (an MLP) on (x, y) with softmax_cross_entropy and SGD with momentum.

    Use one SGD for the whole run (its velocities carry over from epoch to epoch), one step per
    batch. Each epoch visits every example exactly once, in a new random order (draw it from
    np.random.default_rng(seed), created once), in mini-batches of ``batch_size`` (the last one
    may be smaller). Returns a list with one float per epoch: the mean training loss over that
    epoch's batches (weighted by batch size). The autograder shows it as your training curve.
    """
    rng = np.random.default_rng(seed)
    optimizer = SGD(model.params(), lr=lr, momentum=momentum)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            loss, grad = softmax_cross_entropy(model.forward(x[batch]), y[batch])
            model.backward(grad)
            optimizer.step(model.grads())
            total += loss * len(batch)
        losses.append(total / len(x))
    return losses
