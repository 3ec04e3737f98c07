"""COMP441/541 A1: multi-layer perceptrons and backpropagation in NumPy.

Hand in this file, named mlp.py. Use NumPy and the Python standard library only (no PyTorch, no
autograd library): the point is to write the backward passes yourself.

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

import numpy as np  # noqa: F401  (you will need it)


class Linear:
    """An affine layer, y = x @ W + b.

    Attributes (the autograder reads and sets them by these names):
        W:  (in_features, out_features) weights, drawn from N(0, 2 / in_features) (He init).
        b:  (out_features,) biases, zeros.
        dW, db: the gradients of the latest backward(), same shapes as W and b.
    """

    def __init__(self, in_features, out_features, rng):
        """``rng`` is a numpy.random.Generator; draw W from it so that runs are reproducible."""
        # TODO: create self.W, self.b, self.dW, self.db.
        raise NotImplementedError("Linear.__init__")

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features)."""
        # TODO
        raise NotImplementedError("Linear.forward")

    def backward(self, grad_out):
        """grad_out: (N, out_features), dL/dy. Sets self.dW and self.db; returns dL/dx (N, in)."""
        # TODO
        raise NotImplementedError("Linear.backward")

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [self.dW, self.db]


class ReLU:
    """max(x, 0), elementwise. (The derivative at exactly 0 is not tested.)"""

    def forward(self, x):
        # TODO
        raise NotImplementedError("ReLU.forward")

    def backward(self, grad_out):
        # TODO
        raise NotImplementedError("ReLU.backward")

    def params(self):
        return []

    def grads(self):
        return []


class Sigmoid:
    """1 / (1 + exp(-x)), elementwise. Must not overflow for large |x|: forward and backward
    stay finite and exact for inputs such as 1000 or -1000."""

    def forward(self, x):
        # TODO
        raise NotImplementedError("Sigmoid.forward")

    def backward(self, grad_out):
        # TODO
        raise NotImplementedError("Sigmoid.backward")

    def params(self):
        return []

    def grads(self):
        return []


class Tanh:
    """tanh(x), elementwise. Must not overflow for large |x| either (same inputs as Sigmoid)."""

    def forward(self, x):
        # TODO
        raise NotImplementedError("Tanh.forward")

    def backward(self, grad_out):
        # TODO
        raise NotImplementedError("Tanh.backward")

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
    # TODO
    raise NotImplementedError("softmax_cross_entropy")


class MLP:
    """Linear layers of the given sizes with an activation between each two (none after the last).

    MLP([64, 64, 10], activation="relu", seed=0) is Linear(64, 64), ReLU, Linear(64, 10): it maps
    (N, 64) inputs to (N, 10) logits. ``activation`` is "relu", "sigmoid" or "tanh". All the
    Linear layers draw their weights, in order, from one np.random.default_rng(seed).
    """

    def __init__(self, sizes, activation="relu", seed=0):
        # TODO: build self.layers
        raise NotImplementedError("MLP.__init__")

    def forward(self, x):
        """x: (N, sizes[0]) -> logits (N, sizes[-1])."""
        # TODO
        raise NotImplementedError("MLP.forward")

    def backward(self, grad_out):
        """grad_out: dL/dlogits (N, sizes[-1]). Fills every layer's gradients; returns dL/dx."""
        # TODO
        raise NotImplementedError("MLP.backward")

    def params(self):
        """[W1, b1, W2, b2, ...]: every layer's params(), in layer order (the arrays themselves)."""
        # TODO
        raise NotImplementedError("MLP.params")

    def grads(self):
        """The gradients matching params(), in the same order."""
        # TODO
        raise NotImplementedError("MLP.grads")


class SGD:
    """Stochastic gradient descent with momentum, with PyTorch's convention (torch.optim.SGD):

        v <- momentum * v + g
        p <- p - lr * v

    with one velocity v per parameter, starting at zero. momentum=0 is plain SGD.
    """

    def __init__(self, params, lr, momentum=0.0):
        """``params``: the list of arrays to optimise; step() updates them in place."""
        # TODO
        raise NotImplementedError("SGD.__init__")

    def step(self, grads):
        """One update of every parameter, given ``grads`` in the order of ``params``."""
        # TODO
        raise NotImplementedError("SGD.step")


def train(model, x, y, epochs, batch_size, lr, momentum, seed=0):
    """Trains ``model`` (an MLP) on (x, y) with softmax_cross_entropy and SGD with momentum.

    Use one SGD for the whole run (its velocities carry over from epoch to epoch), one step per
    batch. Each epoch visits every example exactly once, in a new random order (draw it from
    np.random.default_rng(seed), created once), in mini-batches of ``batch_size`` (the last one
    may be smaller). Returns a list with one float per epoch: the mean training loss over that
    epoch's batches (weighted by batch size). The autograder shows it as your training curve.
    """
    # TODO
    raise NotImplementedError("train")
