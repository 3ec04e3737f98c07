"""Runs after the driver, in a sandbox of its own: scores what driver.py wrote to out/.

Every reference is computed here, never read from the run: the gradients with PyTorch autograd
on the bundle's cases.npz in public/ (this process sees the bundle's files, not the run's), the
training loss and the accuracies with this file's forward pass of the weights the run wrote,
against the held-out labels in private/. What a hand-in says about its own training (its loss
curve) is shown to the student, never scored; train_loop scores train()'s return value only
where the grader knows it exactly. Outputs are read only through ``outputs``, whose loaders
cannot run code.
"""

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from grading.outputs import BadOutput

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# The bundle's public files, as the driver had them (the grader sees them read-only).
INPUTS = Path(__file__).resolve().parent / "public"
CASES = dict(np.load(INPUTS / "cases.npz", allow_pickle=False))
TRAINING = json.loads((INPUTS / "training.json").read_text())
# float64 NumPy agrees with float64 PyTorch to ~1e-12; these leave room for float32 hand-ins.
RTOL, ATOL = 1e-4, 1e-6
# linear_init: W of a 300 x 200 layer against N(0, 2 / 300). With 60,000 draws the sample
# standard deviation is within 0.3% of the true one and the kurtosis within 0.02 of 3 (one
# standard error each): these bounds are ten of them, and a drawing that is not He's misses
# them all the same (variance 2/n used as the standard deviation: 12 times too narrow).
INIT_FEATURES = (300, 200)
INIT_STD_RTOL, INIT_KURTOSIS_ATOL = 0.03, 0.2
MAX_TRAINING_LOSS = 0.25
FULL_ACCURACY, ZERO_ACCURACY = 0.90, 0.80
RETRAIN_ACCURACY = 0.85
SHOWN_EPOCHS = 100
# driver.TRAIN_LOOP_RUNS: label, batch_size, lr, seed.
TRAIN_LOOP_RUNS = (
    ("shuffled", 8, 0.0, 5),
    ("again", 8, 0.0, 5),
    ("reseeded", 8, 0.0, 6),
    ("full_batch", 64, 0.5, 5),
)
TRAIN_SEEDS = {label: seed for label, _, _, seed in TRAIN_LOOP_RUNS}
# Names the student reads for the arrays whose key alone would say little.
LABELS = {
    **{f"grad{i}": f"grads()[{i}]" for i in range(6)},
    **{f"grad{i}_one": f"grads()[{i}] for a batch of one" for i in range(6)},
    **{f"{key}_one": f"{key} for a batch of one" for key in ("out", "grad_x", "dW", "db")},
    "loss_one": "loss for a batch of one",
    "grad_one": "grad for a batch of one",
    "logits_one": "logits for a batch of one",
    "momentum": "parameters after each of 5 steps with lr=0.1, momentum=0.9",
    "plain": "parameters after each of 3 steps with lr=0.05 and the default momentum",
    "sigmoid": 'logits of MLP([7, 16, 12, 5], activation="sigmoid")',
    "tanh": 'logits of MLP([7, 16, 12, 5], activation="tanh")',
    "single": "logits of MLP([7, 5]) (one Linear layer, no activation)",
}
MLP_GRADS = [f"grad{i}{suffix}" for suffix in ("_one", "") for i in range(6)]
SGD_RUNS = ["momentum", "plain"]
# The driver's output each test reads, where it is not the test's own: one training, two tests.
DRIVER_OUTPUT = {"training_loss": "training", "heldout_accuracy": "training"}


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def grade(outputs, private, run):
    test_y = np.load(private / "test_y.npy", allow_pickle=False)
    checks = {
        "linear_init": linear_init,
        "linear_forward": compare("Linear.forward", linear, ["out", "out_one"]),
        "linear_backward": compare(
            "Linear.backward (a batch of one, then a batch of 6)",
            linear,
            ["grad_x_one", "dW_one", "db_one", "grad_x", "dW", "db"],
        ),
        "relu": compare("ReLU", activation("relu", torch.relu), ["out", "grad_x"]),
        "sigmoid": compare("Sigmoid", activation("sigmoid", torch.sigmoid), ["out", "grad_x"]),
        "sigmoid_stability": compare(
            "Sigmoid on inputs up to ±1000",
            activation("sigmoid_stability", torch.sigmoid),
            ["out", "grad_x"],
        ),
        "tanh": compare("Tanh", activation("tanh", torch.tanh), ["out", "grad_x"]),
        "tanh_stability": compare(
            "Tanh on inputs up to ±1000",
            activation("tanh_stability", torch.tanh),
            ["out", "grad_x"],
        ),
        "softmax_cross_entropy": compare(
            "softmax_cross_entropy",
            cross_entropy("softmax_cross_entropy", ("", "_one")),
            ["loss", "grad", "loss_one", "grad_one"],
            against="torch.nn.functional.cross_entropy",
        ),
        "softmax_stability": compare(
            "softmax_cross_entropy on logits around ±1000",
            cross_entropy("softmax_stability", ("",)),
            ["loss", "grad"],
            against="torch.nn.functional.cross_entropy",
        ),
        "mlp_backward": compare(
            "MLP([7, 16, 12, 5]) (a batch of one, then a batch of 9)",
            mlp,
            ["logits_one", "logits", *MLP_GRADS],
        ),
        "mlp_activations": compare(
            "MLP.forward", mlp_activations, ["sigmoid", "tanh", "single"], against="PyTorch"
        ),
        "sgd_momentum": compare("SGD.step", sgd, SGD_RUNS, against="torch.optim.SGD"),
        "train_loop": train_loop,
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
    answers = {}
    for suffix in ("", "_one"):
        x, W, b = (tensor(f"linear.{key}", True) for key in (f"x{suffix}", "W", "b"))
        out = x @ W + b
        out.backward(tensor(f"linear.grad_out{suffix}"))
        answers.update({f"out{suffix}": out, f"grad_x{suffix}": x.grad})
        answers.update({f"dW{suffix}": W.grad, f"db{suffix}": b.grad})
    return answers


def activation(test, function):
    def reference():
        x = tensor(f"{test}.x", True)
        out = function(x)
        out.backward(tensor(f"{test}.grad_out"))
        return {"out": out, "grad_x": x.grad}

    return reference


def cross_entropy(test, suffixes):
    def reference():
        answers = {}
        for suffix in suffixes:
            logits = tensor(f"{test}.logits{suffix}", True)
            loss = F.cross_entropy(logits, torch.tensor(CASES[f"{test}.labels{suffix}"]))
            loss.backward()
            answers.update({f"loss{suffix}": loss, f"grad{suffix}": logits.grad})
        return answers

    return reference


def mlp_forward(params, x, function):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = function(h)
    return h


def mlp_params(requires_grad=False):
    return [
        tensor(f"mlp_backward.{kind}{i}", requires_grad) for i in range(3) for kind in ("W", "b")
    ]


def mlp():
    answers = {}
    for suffix in ("", "_one"):
        params = mlp_params(requires_grad=True)
        h = mlp_forward(params, tensor(f"mlp_backward.x{suffix}"), torch.relu)
        (h * tensor(f"mlp_backward.grad_logits{suffix}")).sum().backward()
        answers[f"logits{suffix}"] = h
        answers.update({f"grad{i}{suffix}": param.grad for i, param in enumerate(params)})
    return answers


def mlp_activations():
    x = tensor("mlp_backward.x")
    single = [tensor("mlp_activations.W0"), tensor("mlp_activations.b0")]
    return {
        "sigmoid": mlp_forward(mlp_params(), x, torch.sigmoid),
        "tanh": mlp_forward(mlp_params(), x, torch.tanh),
        "single": mlp_forward(single, x, torch.relu),
    }


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


def real_array(outputs, name):
    """An output that must hold real numbers (not text, not complex)."""
    array = outputs.npy(name)
    if array.dtype.kind not in "biuf":
        raise Failed(f"out/{name} is not an array of real numbers ({array.dtype}).")
    return array


def linear_init(outputs, output):
    """He's N(0, 2 / in_features) from the given generator, b zeros, and MLP's layers drawn in
    order from one generator: the hand-in's MLP against its own Linear layers, so that any way
    of drawing from N(0, 2 / in_features) passes."""
    W, b = real_array(outputs, f"{output}.W.npy"), real_array(outputs, f"{output}.b.npy")
    if W.shape != INIT_FEATURES or b.shape != INIT_FEATURES[1:]:
        raise Failed(
            f"Linear(300, 200, rng): W has shape {W.shape} and b {b.shape}; expected "
            f"{INIT_FEATURES} and {INIT_FEATURES[1:]}."
        )
    problems = [*he_problems(W, b), *generator_problems(outputs, output, W)]
    for label, seed in (("default", 0), ("seeded", 3)):
        params = real_array(outputs, f"{output}.{label}.params.npy")
        linear = real_array(outputs, f"{output}.{label}.linear.npy")
        if not (params.shape == linear.shape and np.array_equal(params, linear)):
            call = "MLP([7, 16, 12, 5])" if seed == 0 else 'MLP([7, 16, 12, 5], "tanh", seed=3)'
            problems.append(
                f"{call}.params() differ from those of Linear(7, 16, rng), Linear(16, 12, rng) "
                f"and Linear(12, 5, rng) made in this order with one "
                f"rng = np.random.default_rng({seed})."
            )
    if problems:
        raise Failed("Initialisation:\n" + "\n".join(problems))
    return 1.0, (
        "Linear draws W from N(0, 2 / in_features) with the given generator and sets b to "
        "zeros; MLP draws its layers in order from one np.random.default_rng(seed)."
    )


def he_problems(W, b):
    if not np.all(b == 0):
        return ["Linear(300, 200, rng).b is not all zeros."]
    if not np.all(np.isfinite(W)):
        return ["Linear(300, 200, rng).W holds nan or inf."]
    expected_std, mean, std = np.sqrt(2.0 / INIT_FEATURES[0]), W.mean(), W.std()
    if abs(std / expected_std - 1) > INIT_STD_RTOL or abs(mean) > INIT_STD_RTOL * expected_std:
        return [
            f"Linear(300, 200, rng).W has mean {mean:.4f} and standard deviation {std:.4f}; "
            f"N(0, 2 / 300) has mean 0 and standard deviation {expected_std:.4f}."
        ]
    kurtosis = np.mean((W - mean) ** 4) / std**4
    if abs(kurtosis - 3) > INIT_KURTOSIS_ATOL:
        return [f"Linear(300, 200, rng).W is not normal: its kurtosis is {kurtosis:.2f}, not 3."]
    return []


def generator_problems(outputs, output, W):
    used = real_array(outputs, f"{output}.rng_used.npy")
    same = real_array(outputs, f"{output}.W_same_seed.npy")
    other = real_array(outputs, f"{output}.W_other_seed.npy")
    if not np.array_equal(used, 1.0):
        return ["Linear(300, 200, rng) drew nothing from rng."]
    if not np.array_equal(same, W):
        return ["Two generators seeded alike gave two different W: draw W from rng."]
    if np.array_equal(other, W):
        return ["Generators seeded 11 and 12 gave the same W: draw W from rng."]
    return []


def train_loop(outputs, output):
    """train() on 37 examples, each its own class (driver.train_loop). The labels of the batches
    it steps on must make each epoch a new permutation of the examples, in batches of batch_size
    but the last; the same seed must give the same batches, another seed others. At lr=0 every
    epoch's mean loss is the loss of the whole set, whatever the order; with one batch per epoch
    the weights after 3 epochs are those of 3 full-batch steps of SGD with momentum."""
    n = len(CASES["train_loop.y"])
    orders = {}
    problems = []
    for label, batch_size, _, _ in TRAIN_LOOP_RUNS:
        full, rest = divmod(n, batch_size)
        epoch = [batch_size] * full + ([rest] if rest else [])
        problem = order_problem(outputs, f"{output}.{label}", n, epoch)
        call = f"train(37 examples, epochs=3, batch_size={batch_size}, seed={TRAIN_SEEDS[label]})"
        if isinstance(problem, str):
            problems.append(f"{call} {problem}")
        else:
            orders[label] = problem
    if {"shuffled", "again", "reseeded"} <= set(orders):
        if not np.array_equal(orders["shuffled"], orders["again"]):
            problems.append("Two runs with seed=5 visited the examples in different orders.")
        if np.array_equal(orders["shuffled"], orders["reseeded"]):
            problems.append("Runs with seed=5 and seed=6 visited the examples in the same order.")
    expected = full_set_loss()
    for label in ("shuffled", "again", "reseeded"):
        problem = mismatch(outputs.npy(f"{output}.{label}.losses.npy"), expected, "the grader")
        if problem:
            problems.append(
                f"With lr=0 (seed={TRAIN_SEEDS[label]}) each epoch's loss is the mean loss of all "
                f"37 examples, {expected[0]:.6f}; the losses train() returned: {problem}"
            )
    problem = mismatch(
        outputs.npy(f"{output}.full_batch.params.npy"), full_batch_weights(), "torch.optim.SGD"
    )
    if problem:
        problems.append(
            "After train(37 examples, epochs=3, batch_size=64, lr=0.5, momentum=0.9), one "
            f"full batch per epoch, the parameters [W, b] (flattened): {problem}"
        )
    if problems:
        # Runs alike (the two with seed=5) can have the same problem: it is said once.
        raise Failed("train():\n" + "\n".join(dict.fromkeys(problems)))
    return 1.0, (
        "train() visits every example once per epoch, in batches of batch_size and in a new "
        "order set by its seed; its mean losses and a full-batch run agree with the grader's."
    )


def order_problem(outputs, prefix, n, epoch):
    """The order in which a run stepped on the examples, (3, n), or what is wrong with it."""
    sizes = real_array(outputs, f"{prefix}.sizes.npy")
    batches = real_array(outputs, f"{prefix}.batches.npy")
    if sizes.ndim != 1 or sizes.tolist() != epoch * 3 or batches.shape != (3 * n,):
        shown = sizes.astype(np.int64).tolist() if sizes.ndim == 1 and sizes.size < 50 else "?"
        return f"took SGD steps on batches of sizes {shown}; expected {epoch} in each epoch."
    epochs = batches.astype(np.int64).reshape(3, n)
    if not np.array_equal(np.sort(epochs, axis=1), np.tile(np.arange(n), (3, 1))):
        return "did not visit every example exactly once in each epoch."
    if len(epoch) > 1 and len({tuple(order) for order in epochs.tolist()}) < 3:
        return "visited the examples in the same order in two epochs."
    return epochs


def train_loop_logits(W, b):
    return tensor("train_loop.x") @ W + b


def full_set_loss():
    """The mean loss over the 37 examples at the starting weights, once per epoch."""
    logits = train_loop_logits(tensor("train_loop.W"), tensor("train_loop.b"))
    loss = F.cross_entropy(logits, torch.tensor(CASES["train_loop.y"]))
    return np.full(3, loss.item())


def full_batch_weights():
    W, b = tensor("train_loop.W", True), tensor("train_loop.b", True)
    labels = torch.tensor(CASES["train_loop.y"])
    optimizer = torch.optim.SGD([W, b], lr=0.5, momentum=0.9)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(train_loop_logits(W, b), labels).backward()
        optimizer.step()
    return torch.cat([W.detach().ravel(), b.detach().ravel()]).numpy()


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
    x = np.load(INPUTS / "train_x.npy", allow_pickle=False).astype(np.float64)
    y = np.load(INPUTS / "train_y.npy", allow_pickle=False)
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
    x = np.load(INPUTS / "test_x.npy", allow_pickle=False).astype(np.float64)
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
