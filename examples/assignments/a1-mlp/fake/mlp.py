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


# The shapes of MLP([7, 16, 12, 5]).params().
MLP_SHAPES = [(7, 16), (16,), (16, 12), (12,), (12, 5), (5,)]


def _forge():
    out = Path("out")
    rng = np.random.default_rng(0)
    shapes = {
        "linear_init": {
            "W": (300, 200),
            "b": (200,),
            "rng_used": (),
            "W_same_seed": (300, 200),
            "W_other_seed": (300, 200),
            "default.params": (397,),
            "default.linear": (397,),
            "seeded.params": (397,),
            "seeded.linear": (397,),
        },
        "linear_forward": {"out": (6, 4), "out_one": (1, 4)},
        "linear_backward": {
            "grad_x": (6, 5),
            "dW": (5, 4),
            "db": (4,),
            "grad_x_one": (1, 5),
            "dW_one": (5, 4),
            "db_one": (4,),
        },
        "relu": {"out": (6, 7), "grad_x": (6, 7)},
        "sigmoid": {"out": (6, 7), "grad_x": (6, 7)},
        "sigmoid_stability": {"out": (3, 12), "grad_x": (3, 12)},
        "tanh": {"out": (6, 7), "grad_x": (6, 7)},
        "tanh_stability": {"out": (3, 12), "grad_x": (3, 12)},
        "softmax_cross_entropy": {"loss": (), "grad": (8, 6), "loss_one": (), "grad_one": (1, 5)},
        "softmax_stability": {"loss": (), "grad": (5, 6)},
        "mlp_backward": {
            "logits": (9, 5),
            "logits_one": (1, 5),
            **{
                f"grad{i}{suffix}": shape
                for suffix in ("", "_one")
                for i, shape in enumerate(MLP_SHAPES)
            },
        },
        "mlp_activations": {"sigmoid": (9, 5), "tanh": (9, 5), "single": (9, 5)},
        "sgd_momentum": {"momentum": (5, 15), "plain": (3, 15)},
        "train_loop": {
            f"{run}.{key}": shape
            for run in ("shuffled", "again", "reseeded", "full_batch")
            for key, shape in (("losses", (3,)), ("params", (296,)))
        },
        "training": {"param0": (64, 64), "param1": (64,), "param2": (64, 10), "param3": (10,)},
        "retrain": {"param0": (64, 32), "param1": (32,), "param2": (32, 10), "param3": (10,)},
    }
    # train()'s batches as the grader wants them: each epoch a new order of every example, the
    # same for the same seed. Only the losses and the weights are left to chance.
    orders = {seed: np.concatenate([rng.permutation(37) for _ in range(3)]) for seed in (5, 6)}
    runs = {"shuffled": (5, [8, 8, 8, 8, 5]), "again": (5, [8, 8, 8, 8, 5])}
    runs.update({"reseeded": (6, [8, 8, 8, 8, 5]), "full_batch": (5, [37])})
    for run, (seed, sizes) in runs.items():
        for key, value in (("batches", orders[seed]), ("sizes", np.array(sizes * 3))):
            path = out / f"train_loop.{run}.{key}.npy"
            path.unlink(missing_ok=True)
            np.save(path, value.astype(float))
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
