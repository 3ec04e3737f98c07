"""Runs after the driver, in a sandbox of its own: checks what driver.py wrote against
references computed here.

The unit tests' inputs are drawn again from the bundle's public/a4_cases.py (the bundle's own,
read-only, not the copy the hand-in ran beside) and the expected answers come from PyTorch's
attention, nn.MultiheadAttention and autograd (private/reference.py). The trained models are
judged by their weights alone: the grader loads them into its own copy of each architecture and
evaluates them on held-out data that exists only here (sequences from a private seed, the karate
club's test labels). Outputs are read only through ``outputs``, whose loaders cannot run code.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from grading.outputs import BadOutput

SORT_ACCURACY_NEEDED = 0.95
# The coarse bands a student sees for the sorter before the due date (its test is visible).
SORT_BANDS = (0.5, 0.8, SORT_ACCURACY_NEEDED)
KARATE_ACCURACY_NEEDED = 0.82
# A model that was really trained on the labelled nodes fits them; an untrained one is near ln 2.
KARATE_TRAIN_LOSS_LIMIT = 0.25
MAX_EPOCHS_SHOWN = 250
RTOL, ATOL = 1e-3, 1e-4
# The share of GCN's hidden values dropout may drop in training mode, around its probability.
DROPOUT_RATE_SLACK = 0.2
# Two trainings from the same seed: the same weights, give or take a GPU's summation order.
SEEDED_WEIGHTS_ATOL = 1e-3
MULTIHEAD_CASES = {
    "cross": "cross-attention with a key padding mask",
    "self_causal": "causal self-attention with a key padding mask",
    "self_attn_mask": "self-attention with a causal attn_mask alone",
    "single": "one query in a batch of one, without masks",
}
TRANSFORMER_CASES = {
    "full": "TinyTransformer's logits",
    "padded": "TinyTransformer's logits with padding",
    "single": "TinyTransformer's logits for a single token",
    "short_padded": "TinyTransformer's logits with padding, for a sequence of one token",
}


class Failed(Exception):
    """A test the submission did not pass; the message is what the student reads."""


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade(outputs, private, run):
    torch.set_num_threads(1)
    public = Path(__file__).resolve().parent / "public"
    context = {
        "cases": _module("a4_cases", public / "a4_cases.py"),
        "reference": _module("a4_reference", private / "reference.py"),
        "private": private,
        "public": public,
        "outputs": outputs,
    }
    checks: dict[str, Callable[..., str]] = {
        "attention_unmasked": attention_unmasked,
        "attention_masks": attention_masks,
        "multihead_attention": multihead_attention,
        "transformer_forward": transformer_forward,
        "sorter_training": sorter_training,
        "gcn_normalization": gcn_normalization,
        "gcn_layer": gcn_layer,
        "gcn_dropout": gcn_dropout,
        "karate_training": karate_training,
        "seeded_training": seeded_training,
        "own_attention": own_attention,
    }
    results = []
    for name, check in checks.items():
        try:
            answer = _answer(outputs, name)
            message = check(answer, **context)
        except (BadOutput, Failed) as failure:
            results.append({"name": name, "score": 0, "status": "failed", "output": str(failure)})
        else:
            points = run["points"][name]
            results.append({"name": name, "score": points, "status": "passed", "output": message})
    return results


def _answer(outputs, name: str) -> dict:
    answer = outputs.json(f"{name}.json")
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise Failed(f"Your code raised an error:\n{error}")
    return answer


def _compare(outputs, test: str, name: str, expected: torch.Tensor, what: str) -> np.ndarray:
    """out/<test>.<name>.npy must equal ``expected`` within the tolerance, or Failed says how.
    Returns it, in float64."""
    got = outputs.npy(f"{test}.{name}.npy")
    want = expected.detach().double().numpy()
    if got.shape != want.shape:
        raise Failed(f"{what}: expected shape {list(want.shape)}, got {list(got.shape)}.")
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        raise Failed(f"{what}: holds NaN or infinite values.")
    if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        worst = float(np.max(np.abs(got - want)))
        raise Failed(f"{what}: differs from the reference (largest difference {worst:.3g}).")
    return got


def _compare_mask(outputs, test: str, name: str, expected: torch.Tensor, what: str) -> None:
    got = outputs.npy(f"{test}.{name}.npy")
    want = expected.numpy()
    if got.shape != want.shape:
        raise Failed(f"{what}: expected shape {list(want.shape)}, got {list(got.shape)}.")
    if got.dtype != np.bool_:
        raise Failed(f"{what}: must be a bool tensor, not {got.dtype}.")
    if not np.array_equal(got, want):
        wrong = np.argwhere(got != want)[:3].tolist()
        raise Failed(f"{what}: wrong at positions {wrong} (True = may attend / real token).")


def _attention_case(case: dict) -> str:
    """How a message names an attention case: its shape, and its scores when they are large."""
    shape = "x".join(str(size) for size in case["q"].shape)
    scores = case["q"].double() @ case["k"].double().transpose(-2, -1) / case["q"].shape[-1] ** 0.5
    largest = scores.abs().max().item()
    return f"q of shape {shape}" + (f", scores up to {largest:.0f}" if largest > 50 else "")


def attention_unmasked(answer, cases, reference, outputs, **_):
    for number, case in enumerate(cases.attention_unmasked()):
        output, weights = reference.attention(case["q"], case["k"], case["v"], None)
        what = f"scaled_dot_product_attention on {_attention_case(case)}"
        _compare(outputs, "attention_unmasked", f"{number}.output", output, f"{what}, output")
        _compare(outputs, "attention_unmasked", f"{number}.weights", weights, f"{what}, weights")
    return (
        "scaled_dot_product_attention matches torch's, outputs and weights, from no batch "
        "dimension to three, and with scores in the hundreds."
    )


def attention_masks(answer, cases, reference, outputs, **_):
    functions = cases.mask_functions()
    for length in functions["causal_mask"]:
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        what = f"causal_mask({length})"
        _compare_mask(outputs, "attention_masks", f"causal_mask.{length}", causal, what)
    on_meta = answer.get("causal_mask_on_meta")
    asked = {"device": "meta", "shape": [5, 5], "dtype": "torch.bool"}
    if on_meta != asked:
        raise Failed(
            f"causal_mask(5, device='meta') returned a tensor with {on_meta}, not {asked}: make "
            "the mask on the device you are given."
        )
    for number, (lengths, max_len) in enumerate(functions["padding_mask"]):
        padding = torch.arange(max_len) < torch.tensor(lengths)[:, None]
        what = f"padding_mask({lengths}, {max_len})"
        _compare_mask(outputs, "attention_masks", f"padding_mask.{number}", padding, what)
    for name, case in cases.attention_masks().items():
        output, weights = reference.attention(case["q"], case["k"], case["v"], case["mask"])
        what = f"scaled_dot_product_attention with a {name} mask on {_attention_case(case)}"
        _compare(outputs, "attention_masks", f"{name}.output", output, f"{what}, output")
        got = _compare(outputs, "attention_masks", f"{name}.weights", weights, f"{what}, weights")
        masked = ~np.broadcast_to(case["mask"].numpy(), got.shape)
        if np.any(got[masked] != 0):
            raise Failed(f"{what}: a masked position's weight is not exactly 0.")
    return (
        "causal_mask, padding_mask and masked attention (padding, causal, both, 3-D, large "
        "scores) are right."
    )


def multihead_attention(answer, cases, reference, outputs, **_):
    all_cases = cases.multihead_attention()
    module = reference.torch_multihead(all_cases.pop("weights"), num_heads=4)
    test = "multihead_attention"
    for case_name, case in all_cases.items():
        case = {
            name: value if value.dtype == torch.bool else value.double()
            for name, value in case.items()
        }
        names = ("x",) if "x" in case else ("query", "key", "value")
        inputs = {name: case[name].requires_grad_() for name in names}
        arguments = [inputs["x"]] * 3 if "x" in inputs else list(inputs.values())
        masks = {name: case[name] for name in ("key_padding_mask", "attn_mask") if name in case}
        output, weights = reference.multihead(module, *arguments, **masks)
        (output * case["grad_weights"]).sum().backward()
        what = MULTIHEAD_CASES[case_name]
        _compare(outputs, test, f"{case_name}.output", output, f"{what}, output")
        averaged = f"{what}, weights averaged over heads"
        _compare(outputs, test, f"{case_name}.weights", weights, averaged)
        for name, tensor in inputs.items():
            gradient = f"{what}, gradient of {name}"
            _compare(outputs, test, f"{case_name}.grad_{name}", tensor.grad, gradient)
    return (
        "MultiHeadAttention matches torch.nn.MultiheadAttention (outputs, weights, gradients), "
        "with either mask, both, or none."
    )


def transformer_forward(answer, cases, reference, outputs, **_):
    all_cases = cases.transformer_forward()
    weights = all_cases.pop("weights")
    for name, case in all_cases.items():
        with torch.no_grad():
            logits = reference.transformer_logits(
                weights, case["tokens"], case.get("key_padding_mask")
            )
        _compare(outputs, "transformer_forward", name, logits, TRANSFORMER_CASES[name])
    return "TinyTransformer computes what the specification says."


def _weights(outputs, name: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """The trained weights in out/<name>.pt, checked to be exactly the architecture's."""
    weights = outputs.torch(f"{name}.pt")
    if not isinstance(weights, dict):
        raise Failed(f"out/{name}.pt does not hold a state_dict.")
    missing = sorted(set(shapes) - set(weights))
    extra = sorted(set(weights) - set(shapes))
    if missing or extra:
        raise Failed(
            f"The trained model's parameters are not the specified ones: missing {missing[:5]}, "
            f"unexpected {extra[:5]}."
        )
    for key, shape in shapes.items():
        value = weights[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape:
            raise Failed(f"The trained model's {key} should have shape {list(shape)}.")
        if not value.is_floating_point() or not torch.isfinite(value).all():
            raise Failed(f"The trained model's {key} holds NaN, infinite or non-float values.")
    return weights


def _curve(answer: dict) -> tuple[list[float], str]:
    losses = answer.get("losses")
    if not isinstance(losses, list) or not losses or len(losses) > 100_000:
        raise Failed("The training function must return the loss of each epoch as a list.")
    if not all(isinstance(loss, int | float) and math.isfinite(loss) for loss in losses):
        raise Failed("The losses returned are not all finite numbers.")
    step = max(1, math.ceil(len(losses) / MAX_EPOCHS_SHOWN))
    shown = " ".join(f"{loss:.3g}" for loss in losses[::step])
    every = "per epoch" if step == 1 else f"every {step} epochs"
    return losses, f"training loss {every} ({len(losses)} epochs): {shown}"


def sorter_training(answer, cases, reference, private, outputs, **_):
    curve = _curve(answer)[1]
    weights = _weights(outputs, "sorter_training", cases.transformer_shapes())
    heldout = json.loads((private / "heldout.json").read_text())
    inputs, targets = reference.sort_sequences(heldout["sort_sequences"], heldout["sort_seed"])
    # Only the predicted tokens count: float32, the precision the model was trained in, gives the
    # same argmax as float64 in half the time (0.15 s against 0.35 s for 2,000 sequences).
    with torch.no_grad():
        logits = reference.transformer_logits(weights, inputs, dtype=torch.float32)
    predictions = logits.argmax(dim=-1)
    scored = targets != -100
    accuracy = (predictions[scored] == targets[scored]).double().mean().item()
    print(f"sorter_training: held-out token accuracy {accuracy:.4f}")
    band = _band(accuracy)
    if accuracy < SORT_ACCURACY_NEEDED:
        raise Failed(
            f"{curve}\nYour trained TinyTransformer, run by the autograder's own copy of the "
            f"architecture, predicts {band} of the sorted digits of held-out sequences correctly; "
            f"at least {SORT_ACCURACY_NEEDED:.0%} is needed. (If transformer_forward fails, fix it "
            "first: your weights are evaluated in the specified architecture.)"
        )
    return f"{curve}\nHeld-out token accuracy: {band}."


def _band(accuracy: float) -> str:
    low = 0.0
    for high in SORT_BANDS:
        if accuracy < high:
            return f"{low:.0%} to {high:.0%}"
        low = high
    return f"at least {low:.0%}"


def gcn_normalization(answer, cases, reference, outputs, **_):
    all_cases = cases.gcn()
    adjacency = all_cases["graph"]["adjacency"]
    expected = reference.normalized_adjacency(adjacency)
    what = "normalized_adjacency on a 12-node graph with an isolated node"
    _compare(outputs, "gcn_normalization", "adj_norm", expected, what)
    single = reference.normalized_adjacency(all_cases["single_node"]["adjacency"])
    what = "normalized_adjacency on a graph of one node"
    _compare(outputs, "gcn_normalization", "single_node", single, what)
    dtype = answer.get("float64_dtype")
    if dtype != "torch.float64":
        raise Failed(f"normalized_adjacency of a float64 adjacency returned {dtype}, not float64.")
    what = "normalized_adjacency on the 12-node graph in float64"
    _compare(outputs, "gcn_normalization", "float64", expected, what)
    return "normalized_adjacency computes D^-1/2 (A + I) D^-1/2 in the adjacency's dtype."


def gcn_layer(answer, cases, reference, outputs, **_):
    all_cases = cases.gcn()
    case = {name: value.double() for name, value in all_cases["layer"].items()}
    weights = {"weight": case["weight"].requires_grad_(), "bias": case["bias"].requires_grad_()}
    x = case["x"].requires_grad_()
    output = reference.gcn_layer(weights, x, case["adj_norm"])
    (output * case["grad_weights"]).sum().backward()
    _compare(outputs, "gcn_layer", "layer.output", output, "GCNLayer(5, 3)'s output")
    _compare(outputs, "gcn_layer", "layer.grad_x", x.grad, "GCNLayer(5, 3)'s gradient of x")
    _compare(
        outputs, "gcn_layer", "layer.grad_weight", weights["weight"].grad, "GCNLayer's weight.grad"
    )
    _compare(outputs, "gcn_layer", "layer.grad_bias", weights["bias"].grad, "GCNLayer's bias.grad")
    model = all_cases["model"]
    expected = reference.gcn_logits(all_cases["model_weights"], model["x"], model["adj_norm"])
    _compare(outputs, "gcn_layer", "model.output", expected, "GCN(5, 4, 3)'s logits in eval mode")
    return "GCNLayer and GCN compute what the specification says, gradients included."


def gcn_dropout(answer, cases, reference, outputs, **_):
    if answer.get("seen") != ["conv1_output", "conv2_input"]:
        raise Failed(
            "GCN.forward must run its layers as modules, self.conv1(...) and self.conv2(...): "
            "the autograder watches what goes into and out of them."
        )
    all_cases = cases.gcn()
    weights, case = all_cases["dropout_weights"], all_cases["dropout"]
    rate = cases.GCN_DROPOUT
    model = f"GCN(5, 16, 3, dropout={rate}) in training mode"
    conv1 = reference.gcn_layer(weights, case["x"], case["adj_norm"], "conv1.")
    _compare(outputs, "gcn_dropout", "conv1_output", conv1, f"{model}, conv1's output")
    hidden = functional.relu(conv1).numpy()
    given = outputs.npy("gcn_dropout.conv2_input.npy").astype(np.float64)
    if given.shape != hidden.shape or not np.all(np.isfinite(given)):
        raise Failed(f"{model}: conv2's input is not finite of shape {list(hidden.shape)}.")
    if np.allclose(given, hidden, rtol=RTOL, atol=ATOL):
        raise Failed(f"{model}: conv2 was given ReLU(conv1's output) as it is, without dropout.")
    dropped = np.abs(given) <= ATOL
    kept = np.isclose(given, hidden / (1 - rate), rtol=RTOL, atol=ATOL)
    if not np.all(dropped | kept):
        raise Failed(
            f"{model}: conv2's input must be dropout applied to ReLU(conv1's output), each value "
            f"0 (dropped) or divided by 1 - {rate} (kept), as F.dropout does."
        )
    share = dropped[hidden > ATOL].mean()
    if abs(share - rate) > DROPOUT_RATE_SLACK:
        raise Failed(
            f"{model}: dropout dropped {share:.0%} of the hidden values, not about {rate:.0%}."
        )
    expected = reference.gcn_layer(weights, torch.from_numpy(given), case["adj_norm"], "conv2.")
    _compare(outputs, "gcn_dropout", "output", expected, f"{model}, conv2's output")
    return f"GCN applies dropout in training mode: {share:.0%} of the hidden values dropped."


def karate_training(answer, cases, reference, private, public, outputs, **_):
    curve = _curve(answer)[1]
    adjacency = torch.from_numpy(np.load(public / "karate_adjacency.npy"))
    nodes = adjacency.shape[0]
    weights = _weights(outputs, "karate_training", cases.gcn_shapes(nodes, 16, 2))
    train_nodes = torch.from_numpy(np.load(public / "karate_train_nodes.npy"))
    train_labels = torch.from_numpy(np.load(public / "karate_train_labels.npy"))
    test_nodes = torch.from_numpy(np.load(public / "karate_test_nodes.npy"))
    test_labels = torch.from_numpy(np.load(private / "karate_test_labels.npy"))
    with torch.no_grad():
        logits = reference.gcn_logits(
            weights, torch.eye(nodes), reference.normalized_adjacency(adjacency)
        )
    train_loss = functional.cross_entropy(logits[train_nodes], train_labels).item()
    correct = int((logits[test_nodes].argmax(dim=1) == test_labels).sum())
    accuracy = correct / len(test_nodes)
    print(f"karate_training: test accuracy {accuracy:.4f}, train loss {train_loss:.4f}")
    result = (
        f"{curve}\nYour trained GCN, run by the autograder's own copy of the architecture: "
        f"{correct}/{len(test_nodes)} test nodes right ({accuracy:.1%}; "
        f"{KARATE_ACCURACY_NEEDED:.0%} needed), loss {train_loss:.3f} on the labelled nodes "
        f"(at most {KARATE_TRAIN_LOSS_LIMIT} needed)."
    )
    if accuracy < KARATE_ACCURACY_NEEDED or train_loss > KARATE_TRAIN_LOSS_LIMIT:
        raise Failed(result)
    return result


def seeded_training(answer, cases, public, outputs, **_):
    nodes = np.load(public / "karate_adjacency.npy").shape[0]
    shapes = cases.gcn_shapes(nodes, 16, 2)
    first, second = (_weights(outputs, f"seeded_training.{run}", shapes) for run in (1, 2))
    worst = max((first[name] - second[name]).abs().max().item() for name in shapes)
    if worst > SEEDED_WEIGHTS_ATOL:
        raise Failed(
            "Two calls of train_gcn with the same seed returned different weights (largest "
            f"difference {worst:.3g}): call torch.manual_seed(seed) before you build the model."
        )
    return "train_gcn with the same seed returns the same weights."


def own_attention(answer, outputs, **_):
    calls = answer.get("builtin_calls")
    if not isinstance(calls, dict):
        raise Failed("out/own_attention.json was not written by the autograder's driver.")
    used = [name for name, count in calls.items() if count]
    if used:
        raise Failed(
            f"Your code called PyTorch's attention routines ({', '.join(used)}); A4 asks you to "
            "write attention yourself."
        )
    for test in ("attention_unmasked", "multihead_attention"):
        try:
            _answer(outputs, test)
        except (BadOutput, Failed):
            raise Failed(
                "Your scaled_dot_product_attention and MultiHeadAttention must run first."
            ) from None
    return "Attention is your own code."
