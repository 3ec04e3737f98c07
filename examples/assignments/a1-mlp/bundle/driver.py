"""Runs inside the sandbox, beside the student's mlp.py: writes what each test needs to out/.

Each test runs on its own, with its own time budget, so a function that raises or hangs (or an
mlp.py that does not even import) costs only the tests that need it. Per test ``name`` it writes
out/<name>.json ({"ok": true} or {"ok": false, "error": traceback}) and the arrays the student's
code produced as out/<name>.<key>.npy. Nothing here judges an answer: grader.py does, outside,
recomputing every reference itself (PyTorch autograd for the gradients, its own forward pass of
the trained weights for the losses and accuracies).

The inputs are public/cases.npz (seeded, written by make_data.py) and the digits training split
(public/train_x.npy, train_y.npy). The held-out inputs, public/test_x.npy, are not secret but are
not needed here: the grader runs the trained weights on its own copy. The held-out labels live
only in the bundle's private/ and never enter the sandbox.
"""

import importlib
import json
import signal
import traceback
from pathlib import Path

import numpy as np

OUT = Path("out")
PUBLIC = Path("public")
CASES = dict(np.load(PUBLIC / "cases.npz", allow_pickle=False))
TRAINING = json.loads((PUBLIC / "training.json").read_text())
UNIT_SECONDS = 5
TRAINING_SECONDS = 30


class OutOfTime(BaseException):
    """A test ran past its budget. A BaseException, so ``except Exception`` in a hand-in cannot
    swallow it."""


def _out_of_time(signum, frame):
    raise OutOfTime


def case(test, key):
    """A fresh copy of an input, so that a hand-in changing its arguments changes nothing else."""
    return CASES[f"{test}.{key}"].copy()


def linear_forward(mlp):
    x, W, b = case("linear", "x"), case("linear", "W"), case("linear", "b")
    layer = mlp.Linear(*W.shape, np.random.default_rng(0))
    layer.W, layer.b = W, b
    return {"out": layer.forward(x)}


def linear_backward(mlp):
    x, W, b = case("linear", "x"), case("linear", "W"), case("linear", "b")
    layer = mlp.Linear(*W.shape, np.random.default_rng(0))
    layer.W, layer.b = W, b
    layer.forward(x)
    grad_x = layer.backward(case("linear", "grad_out"))
    return {"grad_x": grad_x, "dW": layer.dW, "db": layer.db}


def activation(class_name, test):
    def run(mlp):
        layer = getattr(mlp, class_name)()
        out = np.array(layer.forward(case(test, "x")), dtype=np.float64)
        return {"out": out, "grad_x": layer.backward(case(test, "grad_out"))}

    return run


def softmax(test):
    def run(mlp):
        loss, grad = mlp.softmax_cross_entropy(case(test, "logits"), case(test, "labels"))
        return {"loss": loss, "grad": grad}

    return run


def mlp_backward(mlp):
    model = mlp.MLP([7, 16, 12, 5], activation="relu", seed=0)
    params = model.params()
    expected = [case("mlp_backward", f"{kind}{i}") for i in range(3) for kind in ("W", "b")]
    if len(params) != len(expected):
        raise ValueError(f"MLP([7, 16, 12, 5]).params() gave {len(params)} arrays, not 6.")
    for param, value in zip(params, expected, strict=True):
        if np.shape(param) != value.shape:
            raise ValueError(f"a parameter has shape {np.shape(param)}; expected {value.shape}.")
        param[...] = value
    logits = np.array(model.forward(case("mlp_backward", "x")), dtype=np.float64)
    model.backward(case("mlp_backward", "grad_logits"))
    grads = model.grads()
    return {"logits": logits, **{f"grad{i}": grad for i, grad in enumerate(grads)}}


def sgd_momentum(mlp):
    trajectories = {}
    for label, lr, momentum, steps in (("momentum", 0.1, 0.9, 5), ("plain", 0.05, 0.0, 3)):
        params = [case("sgd_momentum", "params0"), case("sgd_momentum", "params1")]
        optimizer = mlp.SGD(params, lr=lr, momentum=momentum)
        visited = []
        for k in range(steps):
            optimizer.step([case("sgd_momentum", f"grads{i}")[k] for i in range(2)])
            visited.append(np.concatenate([p.ravel() for p in params]))
        trajectories[label] = np.array(visited)
    return trajectories


def training(run):
    def go(mlp):
        config = TRAINING[run]
        x = np.load(PUBLIC / "train_x.npy", allow_pickle=False).astype(np.float64)
        y = np.load(PUBLIC / "train_y.npy", allow_pickle=False)
        model = mlp.MLP(config["sizes"], activation=config["activation"], seed=config["seed"])
        losses = mlp.train(
            model,
            x,
            y,
            epochs=config["epochs"],
            batch_size=config["batch_size"],
            lr=config["lr"],
            momentum=config["momentum"],
            seed=config["seed"],
        )
        # Only the weights count: the grader recomputes loss and accuracy from them itself.
        # The losses are shown to the student as their training curve.
        params = {f"param{i}": param for i, param in enumerate(model.params())}
        return {"losses": losses, **params}

    return go


TESTS = {
    "linear_forward": (linear_forward, UNIT_SECONDS),
    "linear_backward": (linear_backward, UNIT_SECONDS),
    "relu": (activation("ReLU", "relu"), UNIT_SECONDS),
    "sigmoid": (activation("Sigmoid", "sigmoid"), UNIT_SECONDS),
    "tanh": (activation("Tanh", "tanh"), UNIT_SECONDS),
    "softmax_cross_entropy": (softmax("softmax_cross_entropy"), UNIT_SECONDS),
    "softmax_stability": (softmax("softmax_stability"), UNIT_SECONDS),
    "mlp_backward": (mlp_backward, UNIT_SECONDS),
    "sgd_momentum": (sgd_momentum, UNIT_SECONDS),
    # heldout_accuracy and training_loss are both scored from this one run.
    "training": (training("training"), TRAINING_SECONDS),
    "retrain": (training("retrain"), TRAINING_SECONDS),
}


def run_test(name, test, seconds):
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(seconds)
    try:
        try:
            arrays = test(importlib.import_module("mlp"))
            for key, value in arrays.items():
                np.save(OUT / f"{name}.{key}.npy", np.asarray(value, dtype=np.float64))
        finally:
            signal.alarm(0)
        answer = {"ok": True}
    except OutOfTime:
        answer = {"ok": False, "error": f"This test ran for more than {seconds} seconds."}
    except (Exception, SystemExit):
        answer = {"ok": False, "error": traceback.format_exc(limit=-3)}
    (OUT / f"{name}.json").write_text(json.dumps(answer))


def device():
    # The hand-in is NumPy and trains on the CPU; a GPU worker's check reads this file.
    import torch

    cuda = torch.cuda.is_available()
    answer = {"device": "cuda" if cuda else "cpu", "cuda": cuda}
    (OUT / "device.json").write_text(json.dumps(answer))


if __name__ == "__main__":
    for name, (test, seconds) in TESTS.items():
        np.random.seed(0)
        run_test(name, test, seconds)
    try:
        device()
    except Exception:
        traceback.print_exc()
