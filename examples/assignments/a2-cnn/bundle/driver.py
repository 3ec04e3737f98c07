"""Runs inside the sandbox, beside the student's layers.py and cnn.py: writes what grader.py needs.

Every test runs on its own (and every case of a layer test too), so a function that raises, or a
module that does not even import, costs only what needs it. Nothing here judges an answer:
grader.py does, outside, against references it computes itself and labels only it can read.

out/ gets, per layer test, <test>.json (one {"ok": ...} per case) and one .npy per case and
array; for the CNN, cnn_model.json (what the model is, as the digits go through it),
cnn_training.json (the losses train() returned), cnn_heldout_pred.npy (the driver's own
predictions of the held-out digits), filters.png (the first convolution's filters, drawn here),
and device.json.
"""

import importlib
import importlib.abc
import json
import math
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

# Before torch is imported: cuBLAS needs it to run deterministically on a GPU.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "public"))
import layer_cases

OUT = Path("out")
HANDIN_FILES = ("layers.py", "cnn.py")
TRAIN_SECONDS = 60
MAX_FILTERS = 64
MAX_LOSSES = 1000
# The model is described on real digits, a batch of 5 and a batch of one.
DESCRIBE_BATCHES = (5, 1)
FILTERS_INCHES, FILTERS_DPI = 4, 80  # filters.png is 320 x 320 pixels
# layers.py is NumPy work: while it runs, these cannot be imported. cnn.py gets PyTorch but not
# scikit-learn, whose copy of the digits holds the held-out labels.
LAYERS_BLOCKED = (
    ("torch", "scipy", "sklearn", "tensorflow", "jax"),
    "layers.py must use NumPy only.",
)
CNN_BLOCKED = (
    ("sklearn",),
    "cnn.py gets its training data from train()'s arguments, not from scikit-learn.",
)


def write_json(name, value):
    (OUT / name).write_text(json.dumps(value))


class ChangedInput(Exception):
    """A layer function wrote into an array it was given (the README forbids it)."""


def failure():
    """The exception being handled, as the student needs it: the frames of their own files, or
    the message alone when the driver raised it (a check of its own, not the student's crash)."""
    error_type, error, trace = sys.exc_info()
    frames = traceback.extract_tb(trace)
    own = [frame for frame in frames if Path(frame.filename).name in HANDIN_FILES]
    shown = traceback.format_list(own)
    return {
        "ok": False,
        "error": "".join(shown + traceback.format_exception_only(error_type, error)),
    }


class Blocked(importlib.abc.MetaPathFinder):
    """Within ``with Blocked(names, why)``, importing one of the packages ``names`` raises
    ImportError saying ``why``. (None of them is imported before: the driver does not need them.)
    """

    def __init__(self, names, why):
        self.names, self.why = names, why

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ImportError(f"{fullname} cannot be imported here: {self.why}")
        return None

    def __enter__(self):
        sys.meta_path.insert(0, self)

    def __exit__(self, *exc):
        sys.meta_path.remove(self)


def save(name, array):
    array = np.asarray(array)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"expected a numeric array, got dtype {array.dtype}")
    np.save(OUT / f"{name}.npy", array, allow_pickle=False)


def run_cases(test, cases, work):
    """Runs ``work(layers, index, case)`` per case; writes out/<test>.json with one entry each."""
    results = []
    for index, case in enumerate(cases):
        try:
            with Blocked(*LAYERS_BLOCKED):
                layers = importlib.import_module("layers")
                work(layers, f"{test}_{index}", case)
            results.append({"ok": True})
        except (Exception, SystemExit):
            results.append(failure())
    write_json(f"{test}.json", {"cases": results})


def check_unchanged(function, given, fresh):
    """Raises ChangedInput if an array of ``given`` no longer equals its copy in ``fresh``."""
    for name, array in given.items():
        if not np.array_equal(array, fresh[name]):
            raise ChangedInput(
                f"{function} changed its input {name} (given to it, or kept in the cache) in "
                "place: the layer functions must leave their inputs as they are."
            )


def conv_case(case):
    return dict(zip(("x", "w", "b", "dout"), layer_cases.conv_inputs(case), strict=True))


def pool_case(case):
    return dict(zip(("x", "dout"), layer_cases.pool_inputs(case), strict=True))


def conv_forward(layers, name, case):
    given = conv_case(case)
    x, w, b = given["x"], given["w"], given["b"]
    out, _ = layers.conv2d_forward(x, w, b, **layer_cases.conv_arguments(case))
    check_unchanged("conv2d_forward", given, conv_case(case))
    save(name, out)


def conv_backward(layers, name, case):
    given = conv_case(case)
    x, w, b = given["x"], given["w"], given["b"]
    _, cache = layers.conv2d_forward(x, w, b, **layer_cases.conv_arguments(case))
    dx, dw, db = layers.conv2d_backward(given["dout"], cache)
    check_unchanged("conv2d_backward", given, conv_case(case))
    save(f"{name}_dx", dx)
    save(f"{name}_dw", dw)
    save(f"{name}_db", db)


def pool_forward(layers, name, case):
    given = pool_case(case)
    out, _ = layers.maxpool2d_forward(
        given["x"], case["kernel_size"], **layer_cases.pool_arguments(case)
    )
    check_unchanged("maxpool2d_forward", given, pool_case(case))
    save(name, out)


def pool_backward(layers, name, case):
    given = pool_case(case)
    _, cache = layers.maxpool2d_forward(
        given["x"], case["kernel_size"], **layer_cases.pool_arguments(case)
    )
    dx = layers.maxpool2d_backward(given["dout"], cache)
    check_unchanged("maxpool2d_backward", given, pool_case(case))
    save(f"{name}_dx", dx)


def edge_case(layers, name, case):
    # Forward and backward of one corner case; the grader scores each array on its own.
    if "w" in case:
        conv_forward(layers, f"{name}_out", case)
        conv_backward(layers, name, case)
    else:
        pool_forward(layers, f"{name}_out", case)
        pool_backward(layers, name, case)


def layer_tests():
    run_cases("conv_forward", layer_cases.CONV_CASES, conv_forward)
    # Both backward tests read the same run: dx for one, dw and db for the other.
    run_cases("conv_backward", layer_cases.CONV_CASES, conv_backward)
    run_cases("maxpool_forward", layer_cases.POOL_CASES, pool_forward)
    run_cases("maxpool_backward", layer_cases.POOL_CASES, pool_backward)
    edges = layer_cases.EDGE_CONV_CASES + layer_cases.EDGE_POOL_CASES
    run_cases("layers_edge_cases", edges, edge_case)


def seed_everything(seed):
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def first_convolution(model, images):
    """The first 2-D convolution ``images`` go through in ``model``, and the model's scores.

    Returns ``(scores, found)``; ``found`` is None when the images meet no convolution, else
    ``(facts, weights)``: its input channels, filters, kernel size and the name of the parameter
    holding its weights (None if they are computed), and those weights as a NumPy array.
    It watches every conv2d PyTorch computes while ``images`` run through the model, so an
    nn.Conv2d layer and F.conv2d in a module of the student's own are seen alike, in the order
    the data meets them, wherever __init__ declared them. Call it under torch.no_grad().
    """
    import torch
    from torch.overrides import TorchFunctionMode

    class FirstConv2d(TorchFunctionMode):
        seen = None

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.conv2d and self.seen is None:
                call = dict(zip(("input", "weight"), args, strict=False)) | kwargs
                self.seen = (call["input"].shape[1], call["weight"])
            return func(*args, **kwargs)

    with FirstConv2d() as trace:
        scores = model(images)
    if trace.seen is None:
        return scores, None
    in_channels, weight = trace.seen
    names = {id(parameter): name for name, parameter in model.named_parameters()}
    facts = {
        "in_channels": int(in_channels),
        "out_channels": int(weight.shape[0]),
        "kernel_size": [int(size) for size in weight.shape[2:]],
        "parameter": names.get(id(weight)),
    }
    return scores, (facts, weight.detach().cpu().numpy())


def digits(count, device):
    """The first ``count`` training digits: a real batch to run the model on."""
    import torch

    return torch.from_numpy(np.load("public/train_images.npy")[:count]).to(device)


def describe_model(model, device):
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"build_model() must return a torch.nn.Module, not {type(model).__name__}.")
    model.to(device)
    facts = {"parameters": sum(p.numel() for p in model.parameters()), "output_shapes": {}}
    model.eval()
    with torch.no_grad():
        for count in DESCRIBE_BATCHES:
            scores, found = first_convolution(model, digits(count, device))
            if not isinstance(scores, torch.Tensor):
                raise TypeError(f"the model returned a {type(scores).__name__}, not a tensor.")
            facts["output_shapes"][str(count)] = list(scores.shape)
            if count == DESCRIBE_BATCHES[0] and found is not None:
                facts["first_conv"] = found[0]
    model.train()
    return facts


def draw_filters(weights):
    """Draws the filters ``weights`` (F, C, KH, KW), input channel 0, in a grid: out/filters.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = weights[:MAX_FILTERS, 0]
    columns = math.ceil(math.sqrt(len(weights)))
    rows = math.ceil(len(weights) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(FILTERS_INCHES, FILTERS_INCHES), dpi=FILTERS_DPI, squeeze=False
    )
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.98, wspace=0.1, hspace=0.1)
    for axis in axes.flat:
        axis.axis("off")
    for axis, kernel in zip(axes.flat, weights, strict=False):
        axis.imshow(kernel, cmap="gray", interpolation="nearest")
    figure.savefig(OUT / "filters.png", dpi=FILTERS_DPI)
    plt.close(figure)


def draw_trained_filters(model, device):
    """Draws the filters of the first convolution the digits go through, after training."""
    import torch

    model.eval()
    with torch.no_grad(), Blocked(*CNN_BLOCKED):
        _, found = first_convolution(model, digits(DESCRIBE_BATCHES[0], device))
    if found is None:
        raise ValueError("after training, the digits go through no convolution.")
    draw_filters(found[1])


def out_of_time(signum, frame):
    raise TimeoutError(f"train() did not finish within {TRAIN_SECONDS} s.")


def cnn_tests():
    import torch

    torch.set_num_threads(1)
    # This also imports PyTorch's compiler (torch._dynamo), as building any optimizer would;
    # here, before cnn.py runs, since the compiler looks for scikit-learn, which CNN_BLOCKED hides.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    write_json("device.json", {"device": device, "cuda": torch.cuda.is_available()})

    try:
        with Blocked(*CNN_BLOCKED):
            cnn = importlib.import_module("cnn")
            seed_everything(0)
            model = cnn.build_model()
            model_facts = {"ok": True, **describe_model(model, device)}
    except (Exception, SystemExit):
        model_facts = failure()
        model = None

    training = {"ok": False, "error": "There is no model to train: see the test cnn_model."}
    if model is not None:
        try:
            with Blocked(*CNN_BLOCKED):
                training = train_and_predict(cnn, model, device)
        except (Exception, SystemExit):
            training = failure()
    write_json("cnn_training.json", training)

    if model_facts.get("ok") and model_facts.get("first_conv"):
        try:
            draw_trained_filters(model, device)
            model_facts["filters_png"] = "filters.png"
        except (Exception, SystemExit):
            model_facts["filters_error"] = failure()["error"]
    write_json("cnn_model.json", model_facts)


def epoch_losses(returned):
    """What train() returned as a list of floats, or None if it is not a sequence of numbers."""
    try:
        return [float(loss) for loss in list(returned)[:MAX_LOSSES]]
    except Exception:
        return None


def train_and_predict(cnn, model, device):
    import torch

    x = torch.from_numpy(np.load("public/train_images.npy"))
    y = torch.from_numpy(np.load("public/train_labels.npy"))
    heldout = torch.from_numpy(np.load("public/heldout_images.npy"))
    seed_everything(1)
    started = time.monotonic()
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TRAIN_SECONDS)
    try:
        returned = cnn.train(model, x, y, device)
    finally:
        signal.alarm(0)
    seconds = time.monotonic() - started
    # The grader checks the losses (cnn_model); the model is scored all the same.
    losses = epoch_losses(returned)
    # The predictions are the driver's own: only the trained model comes from the student.
    model.eval()
    with torch.no_grad():
        scores = model(heldout.to(device))
    expected = (len(heldout), 10)
    if tuple(scores.shape) != expected:
        shape = tuple(scores.shape)
        raise ValueError(f"the model gave scores of shape {shape} for {expected[0]} digits.")
    save("cnn_heldout_pred", scores.argmax(dim=1).cpu().numpy().astype(np.int64))
    return {
        "ok": True,
        "losses": losses,
        "returned": type(returned).__name__,
        "seconds": round(seconds, 2),
        "device": device,
    }


def main():
    layer_tests()
    cnn_tests()


if __name__ == "__main__":
    main()
