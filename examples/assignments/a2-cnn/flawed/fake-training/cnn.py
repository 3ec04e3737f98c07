"""A2, part 2, faked: build_model() is real, but train() trains nothing. It prints a fine training
curve and, when the autograder's process exits, overwrites the autograder's outputs with claims
of a perfect run. The grader believes none of it: it scores predictions against labels only it
holds, so this hand-in must get no point for training.
"""

import atexit
import json
from pathlib import Path

import numpy as np
from torch import nn

FAKE_LOSSES = [2.30, 0.52, 0.21, 0.09, 0.04, 0.02, 0.01]


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def _forge():
    out = Path("out")
    report = {"ok": True, "losses": FAKE_LOSSES, "seconds": 0.5, "device": "cpu", "accuracy": 1.0}
    (out / "cnn_training.json").write_text(json.dumps(report))
    # It cannot know the held-out labels, so it guesses one class for all of them.
    np.save(out / "cnn_heldout_pred.npy", np.zeros(597, dtype=np.int64), allow_pickle=False)
    for name in ("cnn_heldout_accuracy", "cnn_heldout_accuracy_high"):
        (out / f"{name}.json").write_text(json.dumps({"ok": True, "accuracy": 1.0}))


def train(model, x, y, device):
    atexit.register(_forge)
    print("loss per epoch: " + " ".join(f"{loss:.2f}" for loss in FAKE_LOSSES))
    print("held-out accuracy: 1.000")
    return FAKE_LOSSES
