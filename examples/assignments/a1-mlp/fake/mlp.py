"""A forged hand-in: it implements nothing, and when the driver is done it overwrites out/ with
outputs that claim success: {"ok": true} everywhere, plausible arrays, a textbook loss curve and
weights of the right shapes. It must score 0: the grader trusts none of it, recomputing the
gradients with PyTorch and the losses and accuracies from the weights.
"""

import atexit
import json
from pathlib import Path

import numpy as np


class _Nothing:
    def __init__(self, *args, **kwargs):
        pass

    def forward(self, x):
        return x

    def backward(self, grad_out):
        return grad_out

    def params(self):
        return []

    def grads(self):
        return []

    def step(self, grads):
        pass


Linear = ReLU = Sigmoid = Tanh = MLP = SGD = _Nothing


def softmax_cross_entropy(logits, labels):
    return 0.0, np.zeros_like(logits)


def train(model, x, y, epochs, batch_size, lr, momentum, seed=0):
    return [2.3 * 0.5**epoch for epoch in range(epochs)]


def _forge():
    out = Path("out")
    rng = np.random.default_rng(0)
    shapes = {
        "linear_forward": {"out": (6, 4)},
        "linear_backward": {"grad_x": (6, 5), "dW": (5, 4), "db": (4,)},
        "relu": {"out": (6, 7), "grad_x": (6, 7)},
        "sigmoid": {"out": (6, 7), "grad_x": (6, 7)},
        "tanh": {"out": (6, 7), "grad_x": (6, 7)},
        "softmax_cross_entropy": {"loss": (), "grad": (8, 6)},
        "softmax_stability": {"loss": (), "grad": (5, 6)},
        "mlp_backward": {
            "logits": (9, 5),
            "grad0": (7, 16),
            "grad1": (16,),
            "grad2": (16, 12),
            "grad3": (12,),
            "grad4": (12, 5),
            "grad5": (5,),
        },
        "sgd_momentum": {"momentum": (5, 15), "plain": (3, 15)},
        "training": {"param0": (64, 64), "param1": (64,), "param2": (64, 10), "param3": (10,)},
        "retrain": {"param0": (64, 32), "param1": (32,), "param2": (32, 10), "param3": (10,)},
    }
    for test, arrays in shapes.items():
        for key, shape in arrays.items():
            path = out / f"{test}.{key}.npy"
            path.unlink(missing_ok=True)
            np.save(path, rng.normal(size=shape))
        if test in ("training", "retrain"):
            path = out / f"{test}.losses.npy"
            path.unlink(missing_ok=True)
            np.save(path, np.array([2.3 * 0.5**epoch for epoch in range(20)]))
        path = out / f"{test}.json"
        path.unlink(missing_ok=True)
        path.write_text(json.dumps({"ok": True, "accuracy": 1.0, "loss": 0.0, "passed": True}))
    (out / "results.json").write_text(json.dumps({"score": 100}))


atexit.register(_forge)
