"""A forged hand-in, part 2: no CNN and no training. build_model() returns one linear layer,
train() trains nothing and returns a textbook loss curve, and when the autograder's process exits,
an exit handler overwrites the training report and the held-out predictions with claims of a
perfect run. It must score nothing: the grader scores the predictions against labels only it
holds, and the driver's description of the model finds no convolution.
"""

import atexit
import json
from pathlib import Path

import numpy as np
from torch import nn

FAKE_LOSSES = [2.30, 0.52, 0.21, 0.09, 0.04, 0.02, 0.01]


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))


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
