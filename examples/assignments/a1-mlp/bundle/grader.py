"""Runs outside the sandbox: scores what driver.py wrote to out/.

Every reference is computed here, never read from the run: the gradients with PyTorch autograd
on the bundle's own copy of public/cases.npz, the training loss and the accuracies with this
file's forward pass of the weights the run wrote, against the held-out labels in private/. What
a hand-in says about itself (its loss curve) is shown to the student, never scored. Outputs are
read only through ``outputs``, whose loaders cannot run code.
"""

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from grading.outputs import BadOutput

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

PUBLIC = Path(__file__).resolve().parent / "public"
CASES = dict(np.load(PUBLIC / "cases.npz", allow_pickle=False))
TRAINING = json.loads((PUBLIC / "training.json").read_text())
# float64 NumPy agrees with float64 PyTorch to ~1e-12; these leave room for float32 hand-ins.
RTOL, ATOL = 1e-4, 1e-6
MAX_TRAINING_LOSS = 0.25
FULL_ACCURACY, ZERO_ACCURACY = 0.90, 0.80
RETRAIN_ACCURACY = 0.85
SHOWN_EPOCHS = 100
# Names the student reads for the arrays whose key alone would say little.
LABELS = {
    **{f"grad{i}": f"grads()[{i}]" for i in range(6)},
    "momentum": "parameters after each of 5 steps with lr=0.1, momentum=0.9",
    "plain": "parameters after each of 3 steps with lr=0.05, momentum=0",
}
MLP_GRADS = [f"grad{i}" for i in range(6)]
SGD_RUNS = ["momentum", "plain"]
# The driver's output each test reads, where it is not the test's own: one training, two tests.
DRIVER_OUTPUT = {"training_loss": "training", "heldout_accuracy": "training"}


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    test_y = np.load(private / "test_y.npy", allow_pickle=False)
    checks = {
        "linear_forward": compare("Linear.forward", linear, ["out"]),
        "linear_backward": compare("Linear.backward", linear, ["grad_x", "dW", "db"]),
        "relu": compare("ReLU", activation("relu", torch.relu), ["out", "grad_x"]),
        "sigmoid": compare("Sigmoid", activation("sigmoid", torch.sigmoid), ["out", "grad_x"]),
        "tanh": compare("Tanh", activation("tanh", torch.tanh), ["out", "grad_x"]),
        "softmax_cross_entropy": compare(
            "softmax_cross_entropy",
            cross_entropy("softmax_cross_entropy"),
            ["loss", "grad"],
            against="torch.nn.functional.cross_entropy",
        ),
        "softmax_stability": compare(
            "softmax_cross_entropy on logits around ±1000",
            cross_entropy("softmax_stability"),
            ["loss", "grad"],
            against="torch.nn.functional.cross_entropy",
        ),
        "mlp_backward": compare("MLP([7, 16, 12, 5])", mlp, ["logits", *MLP_GRADS]),
        "sgd_momentum": compare("SGD.step", sgd, SGD_RUNS, against="torch.optim.SGD"),
        "training_loss": training_loss,
        "heldout_accuracy": heldout_accuracy(test_y),
        "retrain": retrain(test_y),
    }
    results = []
    for name, check in checks.items():
        output = DRIVER_OUTPUT.get(name, name)
        try:
            answer = outputs.json(f"{output}.json")
            if not isinstance(answer, dict) or answer.get("ok") is not True:
                error = answer.get("error") if isinstance(answer, dict) else answer
                raise Failed(f"This test could not run your code to the end:\n{error}")
            with np.errstate(all="ignore"):
                fraction, message = check(outputs, output)
        except (BadOutput, Failed) as failure:
            results.append({"name": name, "score": 0, "status": "failed", "output": str(failure)})
        else:
            score = fraction * run["points"][name]
            results.append({"name": name, "score": score, "output": message})
    log_device(outputs)
    return results


def log_device(outputs):
    try:
        print("device.json:", outputs.json("device.json"))
    except BadOutput as error:
        print(error.message)


# --- the unit tests: the hand-in's arrays against PyTorch autograd -----------------------------


def tensor(key, requires_grad=False):
    return torch.tensor(CASES[key], dtype=torch.float64, requires_grad=requires_grad)


def linear():
    x, W, b = (tensor(f"linear.{key}", True) for key in ("x", "W", "b"))
    out = x @ W + b
    out.backward(tensor("linear.grad_out"))
    return {"out": out, "grad_x": x.grad, "dW": W.grad, "db": b.grad}


def activation(test, function):
    def reference():
        x = tensor(f"{test}.x", True)
        out = function(x)
        out.backward(tensor(f"{test}.grad_out"))
        return {"out": out, "grad_x": x.grad}

    return reference


def cross_entropy(test):
    def reference():
        logits = tensor(f"{test}.logits", True)
        loss = F.cross_entropy(logits, torch.tensor(CASES[f"{test}.labels"]))
        loss.backward()
        return {"loss": loss, "grad": logits.grad}

    return reference


def mlp():
    params = [tensor(f"mlp_backward.{kind}{i}", True) for i in range(3) for kind in ("W", "b")]
    h = tensor("mlp_backward.x")
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = torch.relu(h)
    (h * tensor("mlp_backward.grad_logits")).sum().backward()
    return {"logits": h, **{f"grad{i}": param.grad for i, param in enumerate(params)}}


def sgd():
    trajectories = {}
    for label, lr, momentum, steps in (("momentum", 0.1, 0.9, 5), ("plain", 0.05, 0.0, 3)):
        params = [tensor("sgd_momentum.params0", True), tensor("sgd_momentum.params1", True)]
        optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum)
        visited = []
        for k in range(steps):
            for i, param in enumerate(params):
                param.grad = tensor(f"sgd_momentum.grads{i}")[k]
            optimizer.step()
            visited.append(torch.cat([param.detach().ravel() for param in params]))
        trajectories[label] = torch.stack(visited)
    return trajectories


def compare(what, reference, keys, against="PyTorch autograd"):
    """A check of the arrays ``keys`` of an output against ``reference()``'s, all or nothing."""

    def check(outputs, output):
        expected = {key: value.detach().numpy() for key, value in reference().items()}
        problems = []
        for key in keys:
            problem = mismatch(outputs.npy(f"{output}.{key}.npy"), expected[key], against)
            if problem:
                problems.append(f"{LABELS.get(key, key)}: {problem}")
        if problems:
            raise Failed(f"{what}:\n" + "\n".join(problems))
        checked = ", ".join(LABELS.get(key, key) for key in keys)
        return 1.0, f"{what} agrees with {against} ({checked})."

    return check


def mismatch(got, expected, against):
    """What is wrong with the hand-in's array ``got``, or "" when it matches ``expected``."""
    if got.dtype.kind not in "biuf":
        return f"not an array of real numbers ({got.dtype})."
    if expected.shape == () and got.size == 1:
        got = got.reshape(())
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}."
    if not np.all(np.isfinite(got)):
        shown = f" (expected {float(expected):.6g})" if expected.shape == () else ""
        return f"contains nan or inf{shown}."
    if not np.allclose(got, expected, rtol=RTOL, atol=ATOL):
        return f"differs from {against} by up to {np.max(np.abs(got - expected)):.3g}."
    return ""


# --- the training tests: the weights the run wrote, checked with a forward pass of our own ------


def trained_weights(outputs, run):
    sizes = TRAINING[run]["sizes"]
    weights = []
    for i in range(2 * (len(sizes) - 1)):
        layer = i // 2
        shape = (sizes[layer], sizes[layer + 1]) if i % 2 == 0 else (sizes[layer + 1],)
        weight = outputs.npy(f"{run}.param{i}.npy")
        if weight.dtype.kind not in "biuf" or weight.shape != shape:
            raise Failed(
                f"After training, params()[{i}] of MLP({sizes}) has shape {weight.shape}; "
                f"expected {shape}."
            )
        if not np.all(np.isfinite(weight)):
            raise Failed(
                f"After training, params()[{i}] holds nan or inf: the training diverged."
                f"\n{loss_curve(outputs, run)}"
            )
        weights.append(weight.astype(np.float64))
    return weights


def logits(weights, x, activation_name):
    functions = {
        "relu": lambda h: np.maximum(h, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda h: 0.5 * (1.0 + np.tanh(0.5 * h)),
    }
    h = x
    for i in range(0, len(weights), 2):
        h = h @ weights[i] + weights[i + 1]
        if i + 2 < len(weights):
            h = functions[activation_name](h)
    return h


def mean_cross_entropy(scores, labels):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


def loss_curve(outputs, run):
    """The hand-in's own per-epoch losses, as it reported them: shown, never scored."""
    try:
        losses = outputs.npy(f"{run}.losses.npy")
    except BadOutput:
        return "train() returned no losses."
    if losses.dtype.kind not in "biuf" or losses.ndim != 1:
        return "train() did not return a list of per-epoch losses."
    shown = " ".join(f"{loss:.3f}" for loss in losses[:SHOWN_EPOCHS].astype(np.float64))
    more = " ..." if losses.size > SHOWN_EPOCHS else ""
    return f"Loss per epoch (as your train() reported it): {shown}{more}"


def describe(run):
    config = TRAINING[run]
    return (
        f"MLP({config['sizes']}, activation={config['activation']!r}, seed={config['seed']}) "
        f"trained by train(epochs={config['epochs']}, batch_size={config['batch_size']}, "
        f"lr={config['lr']}, momentum={config['momentum']})"
    )


def training_loss(outputs, run):
    x = np.load(PUBLIC / "train_x.npy", allow_pickle=False).astype(np.float64)
    y = np.load(PUBLIC / "train_y.npy", allow_pickle=False)
    scores = logits(trained_weights(outputs, run), x, TRAINING[run]["activation"])
    loss = mean_cross_entropy(scores, y)
    message = (
        f"{describe(run)}.\n{loss_curve(outputs, run)}\n"
        f"Mean cross-entropy of the trained network on the training set, computed by the "
        f"autograder from its weights: {loss:.4f} (at most {MAX_TRAINING_LOSS} needed)."
    )
    if not loss <= MAX_TRAINING_LOSS:  # a nan loss fails too
        raise Failed(message)
    return 1.0, message


def accuracy(outputs, run, test_y):
    x = np.load(PUBLIC / "test_x.npy", allow_pickle=False).astype(np.float64)
    predictions = logits(trained_weights(outputs, run), x, TRAINING[run]["activation"]).argmax(1)
    return float(np.mean(predictions == test_y))


def heldout_accuracy(test_y):
    def check(outputs, run):
        score = accuracy(outputs, run, test_y)
        fraction = float(np.clip((score - ZERO_ACCURACY) / (FULL_ACCURACY - ZERO_ACCURACY), 0, 1))
        message = (
            f"Accuracy of the trained network on {test_y.size} held-out digits: {score:.3f} "
            f"(full points from {FULL_ACCURACY}, partial points from {ZERO_ACCURACY}).\n"
            f"{loss_curve(outputs, run)}"
        )
        if fraction == 0:
            raise Failed(message)
        return fraction, message

    return check


def retrain(test_y):
    def check(outputs, run):
        score = accuracy(outputs, run, test_y)
        message = (
            f"{describe(run)}: held-out accuracy {score:.3f} ({RETRAIN_ACCURACY} needed).\n"
            f"{loss_curve(outputs, run)}"
        )
        if not score >= RETRAIN_ACCURACY:
            raise Failed(message)
        return 1.0, message

    return check
