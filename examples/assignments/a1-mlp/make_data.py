"""Writes the bundle's data; run it again after changing a seed, a split or a training run.

    .venv/bin/python examples/assignments/a1-mlp/make_data.py

public/ (copied into the sandbox): the digits training split with labels, the held-out split's
inputs only, the seeded inputs of the unit tests (cases.npz) and the two training runs
(training.json). private/ (never in the sandbox): the held-out labels. The reference gradients
are not stored: grader.py computes them with PyTorch autograd from cases.npz each time.
"""

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

BUNDLE = Path(__file__).resolve().parent / "bundle"
HELD_OUT = 500
TRAINING = {
    "training": {
        "sizes": [64, 64, 10],
        "activation": "relu",
        "seed": 0,
        "epochs": 20,
        "batch_size": 32,
        "lr": 0.1,
        "momentum": 0.9,
    },
    "retrain": {
        "sizes": [64, 32, 10],
        "activation": "tanh",
        "seed": 7,
        "epochs": 20,
        "batch_size": 32,
        "lr": 0.1,
        "momentum": 0.9,
    },
}
# Beyond exp's range in float64 (e**710 overflows) and far beyond it in float32 (e**89).
EXTREMES = [-1000.0, -750.0, -710.0, -100.0, -89.0, -30.0, 30.0, 89.0, 100.0, 710.0, 750.0, 1000.0]
TRAIN_LOOP_EXAMPLES = 37


def digits() -> None:
    data = load_digits()
    # Pixels are 0..16; k/16 is exact in float32, so the files hold the scaled values exactly.
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(541).permutation(len(x))
    train, test = order[HELD_OUT:], order[:HELD_OUT]
    np.save(BUNDLE / "public/train_x.npy", x[train], allow_pickle=False)
    np.save(BUNDLE / "public/train_y.npy", y[train], allow_pickle=False)
    np.save(BUNDLE / "public/test_x.npy", x[test], allow_pickle=False)
    np.save(BUNDLE / "private/test_y.npy", y[test], allow_pickle=False)


def cases() -> None:
    rng = np.random.default_rng(20241001)
    normal = rng.normal
    arrays = {
        "linear.x": normal(size=(6, 5)),
        "linear.W": normal(size=(5, 4)),
        "linear.b": normal(size=4),
        "linear.grad_out": normal(size=(6, 4)),
        "relu.x": normal(size=(6, 7)),
        "relu.grad_out": normal(size=(6, 7)),
        "sigmoid.x": 3 * normal(size=(6, 7)),
        "sigmoid.grad_out": normal(size=(6, 7)),
        "tanh.x": 2 * normal(size=(6, 7)),
        "tanh.grad_out": normal(size=(6, 7)),
        "softmax_cross_entropy.logits": 3 * normal(size=(8, 6)),
        "softmax_cross_entropy.labels": rng.integers(0, 6, size=8),
        "mlp_backward.x": normal(size=(9, 7)),
        "mlp_backward.grad_logits": normal(size=(9, 5)),
        "sgd_momentum.params0": normal(size=(4, 3)),
        "sgd_momentum.params1": normal(size=3),
        "sgd_momentum.grads0": normal(size=(5, 4, 3)),
        "sgd_momentum.grads1": normal(size=(5, 3)),
    }
    # Logits far beyond exp's range (e**710 overflows): one row huge, one hugely negative, one
    # with a gap of 2000 between classes, and the label often not the largest logit.
    stable = 400 * normal(size=(5, 6))
    stable[0] += 1000
    stable[1] -= 1000
    stable[2, :] = [1000.0, -1000.0, 0.0, 5.0, -5.0, 999.0]
    arrays["softmax_stability.logits"] = stable
    arrays["softmax_stability.labels"] = np.array([3, 0, 1, 5, 2])
    sizes = [7, 16, 12, 5]
    for i in range(len(sizes) - 1):
        arrays[f"mlp_backward.W{i}"] = normal(size=(sizes[i], sizes[i + 1])) / np.sqrt(sizes[i])
        arrays[f"mlp_backward.b{i}"] = 0.1 * normal(size=sizes[i + 1])
    arrays.update(more_cases())
    assert not any(np.any(value == 0) for key, value in arrays.items() if key.endswith(".x"))
    np.savez(BUNDLE / "public/cases.npz", **arrays)


def more_cases() -> dict[str, np.ndarray]:
    """The inputs added for the ranges the hand-out promises, from a generator of their own so
    that the older cases keep their values: batches of one, activations of huge inputs, the
    MLP's other activations and train()'s loop."""
    rng = np.random.default_rng(20250301)
    normal = rng.normal
    arrays = {
        "linear.x_one": normal(size=(1, 5)),
        "linear.grad_out_one": normal(size=(1, 4)),
        "softmax_cross_entropy.logits_one": 3 * normal(size=(1, 5)),
        "softmax_cross_entropy.labels_one": np.array([2]),
        "mlp_backward.x_one": normal(size=(1, 7)),
        "mlp_backward.grad_logits_one": normal(size=(1, 5)),
        "mlp_activations.W0": normal(size=(7, 5)) / np.sqrt(7),
        "mlp_activations.b0": 0.1 * normal(size=5),
    }
    for test in ("sigmoid_stability", "tanh_stability"):
        # Both signs, every magnitude from ordinary to far past overflow, in a shuffled order.
        x = np.concatenate([EXTREMES, 400 * normal(size=12), 3 * normal(size=12)])
        arrays[f"{test}.x"] = rng.permutation(x).reshape(3, 12)
        arrays[f"{test}.grad_out"] = normal(size=(3, 12))
    # Each example is its own class, so the labels of a batch say which examples it holds.
    n, features = TRAIN_LOOP_EXAMPLES, 7
    arrays["train_loop.x"] = normal(size=(n, features))
    arrays["train_loop.y"] = np.arange(n)
    arrays["train_loop.W"] = normal(size=(features, n)) / np.sqrt(features)
    arrays["train_loop.b"] = 0.1 * normal(size=n)
    return arrays


def training_runs() -> None:
    (BUNDLE / "public/training.json").write_text(json.dumps(TRAINING, indent=2) + "\n")


if __name__ == "__main__":
    digits()
    cases()
    training_runs()
