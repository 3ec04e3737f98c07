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
only in the bundle's private/ and never enter the sandbox. Arrays the hand-in may change later (a
layer's gradients) are copied as they are read, so that each is recorded as it was then.
"""

import importlib
import json
import signal
import traceback
from contextlib import contextmanager
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


def recorded(array):
    """A float64 copy of what the hand-in returned, as it is now."""
    return np.array(array, dtype=np.float64, copy=True)


def linear_init(mlp):
    """The hand-in's own draws: a big layer's W for its spread, and which generator they come
    from (the same state twice, another seed, and an MLP against its own Linear layers)."""
    rng = np.random.default_rng(11)
    before = rng.bit_generator.state
    layer = mlp.Linear(300, 200, rng)
    arrays = {
        "W": recorded(layer.W),
        "b": recorded(layer.b),
        "rng_used": float(rng.bit_generator.state != before),
        "W_same_seed": recorded(mlp.Linear(300, 200, np.random.default_rng(11)).W),
        "W_other_seed": recorded(mlp.Linear(300, 200, np.random.default_rng(12)).W),
    }
    sizes = [7, 16, 12, 5]
    for label, model, seed in (
        ("default", mlp.MLP(sizes), 0),
        ("seeded", mlp.MLP(sizes, activation="tanh", seed=3), 3),
    ):
        rng = np.random.default_rng(seed)
        layers = [mlp.Linear(sizes[i], sizes[i + 1], rng) for i in range(len(sizes) - 1)]
        arrays[f"{label}.params"] = flat(model.params())
        arrays[f"{label}.linear"] = flat([p for layer in layers for p in (layer.W, layer.b)])
    return arrays


def flat(arrays):
    return np.concatenate([np.ravel(recorded(array)) for array in arrays])


def linear(mlp):
    layer = mlp.Linear(5, 4, np.random.default_rng(0))
    layer.W, layer.b = case("linear", "W"), case("linear", "b")
    return layer


def linear_forward(mlp):
    layer = linear(mlp)
    out = recorded(layer.forward(case("linear", "x")))
    return {"out": out, "out_one": recorded(layer.forward(case("linear", "x_one")))}


def linear_backward(mlp):
    """A batch of one first, then the main batch: the second backward must overwrite dW, db."""
    layer = linear(mlp)
    arrays = {}
    for suffix in ("_one", ""):
        layer.forward(case("linear", f"x{suffix}"))
        grad_x = recorded(layer.backward(case("linear", f"grad_out{suffix}")))
        arrays.update({f"grad_x{suffix}": grad_x, f"dW{suffix}": recorded(layer.dW)})
        arrays[f"db{suffix}"] = recorded(layer.db)
    return arrays


def activation(class_name, test):
    def run(mlp):
        layer = getattr(mlp, class_name)()
        out = recorded(layer.forward(case(test, "x")))
        return {"out": out, "grad_x": recorded(layer.backward(case(test, "grad_out")))}

    return run


def softmax(test, suffixes):
    def run(mlp):
        arrays = {}
        for suffix in suffixes:
            logits, labels = case(test, f"logits{suffix}"), case(test, f"labels{suffix}")
            loss, grad = mlp.softmax_cross_entropy(logits, labels)
            arrays.update({f"loss{suffix}": recorded(loss), f"grad{suffix}": recorded(grad)})
        return arrays

    return run


def set_params(model, expected, sizes):
    """Writes ``expected`` into the model through params(), which must be the arrays themselves."""
    params = model.params()
    if len(params) != len(expected):
        raise ValueError(f"MLP({sizes}).params() gave {len(params)} arrays, not {len(expected)}.")
    for param, value in zip(params, expected, strict=True):
        if np.shape(param) != value.shape:
            raise ValueError(f"a parameter has shape {np.shape(param)}; expected {value.shape}.")
        param[...] = value


def mlp_params():
    return [case("mlp_backward", f"{kind}{i}") for i in range(3) for kind in ("W", "b")]


def mlp_backward(mlp):
    """A batch of one first, then the main batch: grads() must hold the latest backward's."""
    sizes = [7, 16, 12, 5]
    model = mlp.MLP(sizes, activation="relu", seed=0)
    set_params(model, mlp_params(), sizes)
    arrays = {}
    for suffix in ("_one", ""):
        arrays[f"logits{suffix}"] = recorded(model.forward(case("mlp_backward", f"x{suffix}")))
        model.backward(case("mlp_backward", f"grad_logits{suffix}"))
        for i, grad in enumerate(model.grads()):
            arrays[f"grad{i}{suffix}"] = recorded(grad)
    return arrays


def mlp_activations(mlp):
    """Logits only, so that a layer's backward pass cannot cost this test."""
    arrays = {}
    for activation_name in ("sigmoid", "tanh"):
        sizes = [7, 16, 12, 5]
        model = mlp.MLP(sizes, activation=activation_name, seed=0)
        set_params(model, mlp_params(), sizes)
        arrays[activation_name] = recorded(model.forward(case("mlp_backward", "x")))
    model = mlp.MLP([7, 5], activation="relu", seed=0)
    set_params(model, [case("mlp_activations", "W0"), case("mlp_activations", "b0")], [7, 5])
    arrays["single"] = recorded(model.forward(case("mlp_backward", "x")))
    return arrays


def sgd_momentum(mlp):
    trajectories = {}
    for label, options, steps in (("momentum", {"momentum": 0.9}, 5), ("plain", {}, 3)):
        lr = 0.1 if options else 0.05
        params = [case("sgd_momentum", "params0"), case("sgd_momentum", "params1")]
        # The plain run leaves momentum at its default, which must be 0.
        optimizer = mlp.SGD(params, lr=lr, **options)
        visited = []
        for k in range(steps):
            optimizer.step([case("sgd_momentum", f"grads{i}")[k] for i in range(2)])
            visited.append(np.concatenate([np.ravel(p) for p in params]))
        trajectories[label] = np.array(visited)
    return trajectories


# label, batch_size, lr, seed. lr=0 keeps the model as it is, so that every epoch's mean loss is
# the loss of the whole set, whatever the order. "again" repeats "shuffled"; "reseeded" does not.
TRAIN_LOOP_RUNS = (
    ("shuffled", 8, 0.0, 5),
    ("again", 8, 0.0, 5),
    ("reseeded", 8, 0.0, 6),
    ("full_batch", 64, 0.5, 5),
)


@contextmanager
def steps_taken(mlp):
    """The labels of each batch train() takes an SGD step on, in order.

    train() looks up softmax_cross_entropy and SGD in its module when it runs, so both are
    wrapped there for the duration: the labels of the latest loss before each step(). A loss
    that no step follows (an evaluation) is not a batch. Both are put back whatever happens."""
    batches = []
    latest = {}
    loss_function, optimizer = mlp.softmax_cross_entropy, mlp.SGD

    def noted_loss(logits, labels):
        latest["labels"] = np.array(labels, copy=True).ravel()
        return loss_function(logits, labels)

    class NotedSGD(optimizer):
        def step(self, grads):
            batches.append(latest.pop("labels", np.array([-1])))
            return super().step(grads)

    mlp.softmax_cross_entropy, mlp.SGD = noted_loss, NotedSGD
    try:
        yield batches
    finally:
        mlp.softmax_cross_entropy, mlp.SGD = loss_function, optimizer


def train_loop(mlp):
    """train() on 37 examples, each its own class: which batches it steps on, what it returns,
    and (a batch larger than the data) the weights after three full-batch steps."""
    x, y = case("train_loop", "x"), case("train_loop", "y")
    arrays = {}
    for label, batch_size, lr, seed in TRAIN_LOOP_RUNS:
        sizes = [x.shape[1], len(y)]
        model = mlp.MLP(sizes, seed=0)
        set_params(model, [case("train_loop", "W"), case("train_loop", "b")], sizes)
        with steps_taken(mlp) as batches:
            losses = mlp.train(
                model,
                x.copy(),
                y.copy(),
                epochs=3,
                batch_size=batch_size,
                lr=lr,
                momentum=0.9,
                seed=seed,
            )
        arrays[f"{label}.losses"] = recorded(losses)
        arrays[f"{label}.batches"] = np.concatenate(batches) if batches else np.zeros(0)
        arrays[f"{label}.sizes"] = np.array([len(batch) for batch in batches])
        arrays[f"{label}.params"] = flat(model.params())
    return arrays


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
        params = {f"param{i}": recorded(param) for i, param in enumerate(model.params())}
        return {"losses": losses, **params}

    return go


TESTS = {
    "linear_init": (linear_init, UNIT_SECONDS),
    "linear_forward": (linear_forward, UNIT_SECONDS),
    "linear_backward": (linear_backward, UNIT_SECONDS),
    "relu": (activation("ReLU", "relu"), UNIT_SECONDS),
    "sigmoid": (activation("Sigmoid", "sigmoid"), UNIT_SECONDS),
    "sigmoid_stability": (activation("Sigmoid", "sigmoid_stability"), UNIT_SECONDS),
    "tanh": (activation("Tanh", "tanh"), UNIT_SECONDS),
    "tanh_stability": (activation("Tanh", "tanh_stability"), UNIT_SECONDS),
    "softmax_cross_entropy": (softmax("softmax_cross_entropy", ("", "_one")), UNIT_SECONDS),
    "softmax_stability": (softmax("softmax_stability", ("",)), UNIT_SECONDS),
    "mlp_backward": (mlp_backward, UNIT_SECONDS),
    "mlp_activations": (mlp_activations, UNIT_SECONDS),
    "sgd_momentum": (sgd_momentum, UNIT_SECONDS),
    "train_loop": (train_loop, UNIT_SECONDS),
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
    """The hand-in is NumPy and trains on the CPU; bench/gpu_check.py reads this file of a GPU
    job. Only a GPU job's sandbox has NVIDIA's device nodes: without them CUDA cannot be there,
    and importing torch to hear so would cost every grading two seconds."""
    cuda = False
    if Path("/dev/nvidiactl").exists():
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
